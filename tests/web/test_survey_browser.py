"""The respondent's survey in a real headless Chromium (Playwright), against the app served by
uvicorn: a one-time link opened without signing in, every select filled, a positive impact
ticked (its irremediability disabled), the answers submitted, the thank-you page shown; the
link reopened says it was already used."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from playwright.sync_api import Browser, expect

from esgledger.auth.accounts import operator
from esgledger.store.ledger import Ledger
from esgledger.usecases import survey_results


def test_a_respondent_answers_once(
    served: str, browser: Browser, client_for: Callable[[str], TestClient], web_ledger: Ledger
) -> None:
    reviewer = client_for("reviewer")
    created = reviewer.post(
        "/api/materiality",
        json={"year": 2024, "title": "Browser survey", "closes_on": "2099-12-31"},
    )
    assert created.status_code == 201, created.text
    cid = created.json()["campaign_id"]
    issued = reviewer.post(
        f"/api/materiality/{cid}/links", json={"group_id": "employees", "count": 1}
    )
    assert issued.status_code == 201, issued.text
    link = issued.json()["links"][0].replace("http://testserver", served)

    page = browser.new_page()
    page.set_default_timeout(10000)
    page.goto(f"{link}&lang=en")
    expect(page.locator("h1")).to_have_text("Browser survey")
    rows = page.locator("#survey-topics tbody tr")
    count = rows.count()
    assert count > 5
    first = rows.nth(0)
    # a positive impact: irremediability is not asked
    first.locator("input.positive").check()
    expect(first.locator("select.irremediability")).to_be_disabled()
    selects = page.locator("#survey-topics select:enabled")
    for i in range(selects.count()):
        selects.nth(i).select_option(str(1 + i % 5))
    page.click("#survey-form button[type=submit]")
    expect(page.locator("#survey-thanks")).to_be_visible()
    expect(page.locator("#survey-thanks")).to_contain_text("Thank you")
    assert page.locator("select").count() == 0

    page.goto(link)  # reopened (default language: Chinese)
    expect(page.locator("#survey-refused")).to_have_attribute("data-reason", "survey_used")
    expect(page.locator("#survey-refused")).to_contain_text("已被使用")

    rate = survey_results.response_rate(web_ledger.engine, operator("test"), cid)
    assert rate["used"] == 1
    scored = survey_results.score_campaign(web_ledger.engine, operator("test"), cid)
    assert len(scored) == count
