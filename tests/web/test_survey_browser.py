"""The respondent's survey in a real headless Chromium (Playwright), against the app served by
uvicorn: a one-time link opened without signing in, every select filled, a positive impact
ticked (its irremediability disabled), the answers submitted, the thank-you page shown; the
link reopened says it was already used."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from playwright.sync_api import expect, sync_playwright

from esgledger.assess import survey
from esgledger.auth.accounts import operator
from esgledger.store.ledger import Ledger

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def served(app: FastAPI) -> Iterator[str]:
    """The app on a free localhost port (uvicorn in a background thread)."""
    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 15
    while True:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            server.should_exit = True
            pytest.fail("the app did not answer /healthz within 15 s")
        time.sleep(0.05)
    yield base
    server.should_exit = True
    thread.join(timeout=10)


def test_a_respondent_answers_once(
    served: str, client_for: Callable[[str], TestClient], web_ledger: Ledger
) -> None:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing (CI installs chromium)")
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

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
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
        finally:
            browser.close()

    rate = survey.response_rate(web_ledger.engine, operator("test"), cid)
    assert rate["used"] == 1
    scored = survey.score_campaign(web_ledger.engine, operator("test"), cid)
    assert len(scored) == count
