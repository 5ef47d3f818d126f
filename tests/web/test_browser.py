"""The collection workflow in a real headless Chromium (Playwright), against the app served
by uvicorn: an owner fills a request in the form and by template upload (seeing the located
error of a bad file), a reviewer approves it, an approver locks the year, and the dashboard
shows the new figure."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from playwright.sync_api import Browser, Page, expect

from esgledger import service
from esgledger.store.ledger import Ledger

ELECTRICITY = "energy.electricity_purchased"
FATALITIES = "safety.fatalities"


def _workbook(template: bytes, cells: dict[str, object], path: Path) -> Path:
    book = load_workbook(io.BytesIO(template))
    for address, value in cells.items():
        book["request"][address] = value
    book.save(path)
    return path


def _shown_number(text: str) -> tuple[float, int]:
    """The first number of a formatted figure and its decimals (``1,234.5 t`` -> 1234.5, 1)."""
    found = re.search(r"[-+]?\d[\d,]*(?:\.(\d+))?", text)
    assert found, f"no number in {text!r}"
    return float(found.group(0).replace(",", "")), len(found.group(1) or "")


def password(username: str) -> str:
    return f"{username}-password-1"  # as tests/web/conftest.py creates the users


def test_collect_review_lock_and_see_the_dashboard(
    served: str,
    browser: Browser,
    client_for: Callable[[str], TestClient],
    web_ledger: Ledger,
    tmp_path: Path,
) -> None:
    reviewer = client_for("reviewer")
    created = reviewer.post(
        "/api/campaigns",
        json={
            "name": "FY2025 browser",
            "year": 2025,
            "due_date": "2026-03-31",
            "metric_ids": [ELECTRICITY, FATALITIES],
            "entity_ids": ["S01"],
        },
    )
    assert created.status_code == 201, created.text
    campaign_id = created.json()["campaign_id"]
    request_id = reviewer.get(f"/api/campaigns/{campaign_id}").json()["requests"][0]["request_id"]
    request_url = f"{served}/requests/{request_id}?lang=en"

    def sign_in(page: Page, username: str, target: str) -> None:
        page.goto(f"{served}/login?next={target}")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", password(username))
        page.click("form[action='/login'] button[type=submit]")
        page.wait_for_url(f"{served}{target}")

    def sign_out(page: Page) -> None:
        page.click("form[action='/logout'] button")
        page.wait_for_url(re.compile(r".*/login.*"))

    page = browser.new_page(accept_downloads=True)
    page.set_default_timeout(30000)  # an upper bound: a cold first page on a loaded machine

    # the owner fills the electricity value in the form (saved by htmx, row by row)
    sign_in(page, "owner", f"/campaigns/{campaign_id}")
    page.click("tr[data-entity='S01'] a")
    page.wait_for_url(re.compile(rf".*/requests/{request_id}$"))
    page.goto(request_url)
    page.fill(f"input[name='v.{ELECTRICITY}']", "1500")
    page.click(f"button[data-save='{ELECTRICITY}']")
    expect(page.locator(f"tr[data-metric='{ELECTRICITY}'] .saved")).to_be_visible()
    row = page.locator(f"tr[data-metric='{ELECTRICITY}']")
    expect(row).to_have_attribute("data-version", "1")
    expect(page.locator("#rv-upload")).to_have_value("2")  # swapped out of band

    # the template, filled with one error: the page names the cell; then the fixed one
    with page.expect_download() as info:
        page.click("#template-en")
    template = Path(info.value.path()).read_bytes()
    bad = _workbook(template, {"D10": "several"}, tmp_path / "bad.xlsx")
    page.set_input_files("#upload-form input[type=file]", str(bad))
    page.click("#upload-template")
    diagnostics = page.locator("#diagnostics")
    expect(diagnostics).to_contain_text("cell D10")
    expect(diagnostics).to_contain_text("bad.xlsx[request]")
    good = _workbook(template, {"D10": 0}, tmp_path / "good.xlsx")
    page.set_input_files("#upload-form input[type=file]", str(good))
    page.click("#upload-template")
    expect(page.locator(".flash")).to_be_visible()
    expect(page.locator(f"input[name='v.{FATALITIES}']")).to_have_value("0")
    expect(page.locator(f"input[name='v.{ELECTRICITY}']")).to_have_value("1500")
    page.click("#submit-request")
    expect(page.locator("#request-status")).to_have_attribute("data-status", "submitted")
    sign_out(page)

    # the reviewer approves, the approver locks 2025
    sign_in(page, "reviewer", f"/requests/{request_id}")
    page.click("#approve-request")
    expect(page.locator("#request-status")).to_have_attribute("data-status", "approved")
    sign_out(page)
    sign_in(page, "approver", "/periods")
    page.click("button[data-lock='2025']")
    expect(page.locator("tr[data-year='2025']")).to_have_attribute("data-locked", "1")

    # the dashboard shows the figure the calculation gives for the entered electricity
    settings = service.settings_from_ledger(web_ledger, years=(2025,))
    result = service.run_inventory(web_ledger, settings)
    expected = result.scope_totals(2025, entity_id="S01")["scope2_location"]
    assert expected > 0
    page.goto(f"{served}/?year=2025")
    cell = page.locator("[data-figure='scope2_location'][data-entity='S01']").first
    shown, decimals = _shown_number(cell.inner_text())
    assert shown != 0
    assert abs(shown - expected) <= 0.5 * 10**-decimals + 1e-9, (shown, expected)


def test_the_strategy_charts_draw_in_the_browser(served: str, browser: Browser) -> None:
    """The forecast and pathway line charts (ECharts, from the figures in the page) and the
    MACC (server-side SVG) draw in Chromium, with no script error."""
    page = browser.new_page()
    page.set_default_timeout(15000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{served}/login?next=/strategy")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", password("admin"))
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(f"{served}/strategy")
    for path, holder in (
        ("/strategy/forecast", "#forecast-chart"),
        ("/strategy/pathway", "[data-source] "),
    ):
        page.goto(f"{served}{path}?lang=en")
        # ECharts draws into a canvas inside the holder once the scripts ran
        expect(page.locator(f"{holder.strip()} canvas").first).to_be_attached()
        size = page.locator(f"{holder.strip()} canvas").first.bounding_box()
        assert size is not None and size["width"] > 100 and size["height"] > 100, path
    page.goto(f"{served}/strategy/abatement?lang=en")
    expect(page.locator("svg.chart").first).to_be_visible()
    expect(page.get_by_text("recomputed without the solver", exact=False).first).to_be_visible()
    assert not errors, errors


def test_an_editor_enters_measured_fuel_properties_in_the_browser(
    served: str, browser: Browser, tmp_path: Path
) -> None:
    """/company/fuel-properties in Chromium, in Chinese: a file with a value outside the fuel's
    physical range shows the located problem and enters nothing; the corrected file is listed."""
    page = browser.new_page()
    page.set_default_timeout(15000)
    page.goto(f"{served}/login?next=/company/fuel-properties")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", password("admin"))
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(f"{served}/company/fuel-properties")
    page.goto(f"{served}/company/fuel-properties?lang=zh")
    expect(page.locator("#company-data-none")).to_contain_text("适用内置默认值")
    header = "activity_type,property,value,unit,entity_id,year,source\n"
    bad, good = tmp_path / "fuel_bad.csv", tmp_path / "fuel.csv"
    bad.write_text(header + "raw_coal,ncv,2.345,GJ/t,,2026,plant lab\n", encoding="utf-8")
    good.write_text(header + "raw_coal,ncv,23.45,GJ/t,,2026,plant lab\n", encoding="utf-8")
    page.set_input_files("#company-data-upload input[type=file]", str(bad))
    page.click("#company-data-upload button[type=submit]")
    expect(page.locator("#company-data-problems")).to_contain_text("fuel_bad.csv:2:value")
    expect(page.locator("#company-data-none")).to_be_visible()  # nothing entered
    page.set_input_files("#company-data-upload input[type=file]", str(good))
    page.click("#company-data-upload button[type=submit]")
    expect(page.locator("#company-data tbody tr")).to_have_count(1)
    expect(page.locator("#company-data")).to_contain_text("23.45")
    page.close()
