"""The Content-Security-Policy in a real headless Chromium (Playwright), against the app served
by uvicorn: the pages run their scripts (charts, htmx, the survey form) with no policy
violation, and a user who must change their password is sent to the password page, changes it
and goes on."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from playwright.sync_api import Browser, ConsoleMessage, Page, expect

#: Records every policy violation the page reports (installed before any page script runs).
WATCH_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__violations.push(e.violatedDirective + " " + (e.blockedURI || "inline"));
});
"""

#: The signed-in pages checked (those with scripts first).
PAGES = (
    "/",
    "/strategy/forecast",
    "/strategy/pathway",
    "/strategy/abatement",
    "/strategy",
    "/campaigns",
    "/periods",
    "/adjustments",
    "/report",
    "/materiality",
    "/registers",
    "/carbon",
    "/audit",
    "/users",
    "/account/password",
    "/explain/not-a-figure",
)


def password(username: str) -> str:
    return f"{username}-password-1"  # as tests/web/conftest.py creates the users


class Watched:
    """A page with its reported policy violations and console errors."""

    def __init__(self, browser: Browser) -> None:
        self.page = browser.new_page()
        self.page.set_default_timeout(15000)
        self.page.add_init_script(WATCH_VIOLATIONS)
        self.console: list[str] = []
        self.errors: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))

    def _console(self, message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            self.console.append(message.text)

    def violations(self) -> list[str]:
        found: list[str] = self.page.evaluate("window.__violations || []")
        return found

    def visit(self, url: str) -> list[str]:
        self.page.goto(url)
        self.page.wait_for_load_state("load")
        return self.violations()


def _sign_in(page: Page, served: str, username: str, secret: str, target: str) -> None:
    page.goto(f"{served}/login?next={target}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", secret)
    page.click("form[action='/login'] button[type=submit]")


def test_the_pages_run_under_the_policy_without_violations(served: str, browser: Browser) -> None:
    watched = Watched(browser)
    page = watched.page
    response = page.goto(f"{served}/login")
    assert response is not None
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert watched.violations() == []
    _sign_in(page, served, "admin", password("admin"), "/")
    page.wait_for_url(f"{served}/")
    found: dict[str, list[str]] = {}
    for path in PAGES:
        seen = watched.visit(f"{served}{path}{'&' if '?' in path else '?'}lang=en")
        if seen:
            found[path] = seen
    assert not found, found
    # the charts drew (their scripts ran under the policy)
    for path, holder in (("/", "#trend-chart"), ("/strategy/forecast", "#forecast-chart")):
        page.goto(f"{served}{path}?lang=en")
        expect(page.locator(f"{holder} canvas").first).to_be_attached()
    assert not watched.console, watched.console
    assert not watched.errors, watched.errors


def test_the_survey_form_script_runs_under_the_policy(
    served: str, browser: Browser, client_for: Callable[[str], TestClient]
) -> None:
    reviewer = client_for("reviewer")
    created = reviewer.post(
        "/api/materiality",
        json={"year": 2024, "title": "Policy survey", "closes_on": "2099-12-31"},
    )
    assert created.status_code == 201, created.text
    cid = created.json()["campaign_id"]
    issued = reviewer.post(
        f"/api/materiality/{cid}/links", json={"group_id": "employees", "count": 1}
    )
    assert issued.status_code == 201, issued.text
    link = issued.json()["links"][0].replace("http://testserver", served)
    watched = Watched(browser)
    assert watched.visit(f"{link}&lang=en") == []
    first = watched.page.locator("#survey-topics tbody tr").nth(0)
    irremediability = first.locator("select.irremediability")
    irremediability.select_option("3")
    first.locator("input.positive").check()
    expect(irremediability).to_be_disabled()
    expect(irremediability).to_have_value("")
    first.locator("input.positive").uncheck()
    expect(irremediability).to_be_enabled()
    assert watched.violations() == []
    assert not watched.console, watched.console
    assert not watched.errors, watched.errors


def test_a_forced_password_change_in_the_browser(
    served: str, browser: Browser, client_for: Callable[[str], TestClient]
) -> None:
    made = client_for("admin").post(
        "/api/users", json={"username": "new.hire", "role": "viewer", "entities": ["S02"]}
    )
    assert made.status_code == 201, made.text
    initial = made.json()["initial_password"]
    watched = Watched(browser)
    page = watched.page
    _sign_in(page, served, "new.hire", initial, "/")
    page.wait_for_url(f"{served}/account/password")
    page.goto(f"{served}/campaigns?lang=en")
    page.wait_for_url(f"{served}/account/password")
    page.goto(f"{served}/account/password?lang=en")
    expect(page.locator("#password-required")).to_be_visible()
    page.fill("input[name=current_password]", initial)
    page.fill("input[name=new_password]", "a-new-hire-password")
    page.fill("input[name=repeat_password]", "a-new-hire-password")
    page.click("#password-form button[type=submit]")
    expect(page.locator(".flash")).to_be_visible()
    expect(page.locator("#password-required")).to_have_count(0)
    page.goto(f"{served}/campaigns?lang=en")
    page.wait_for_url(f"{served}/campaigns?lang=en")
    assert watched.violations() == []
    assert not watched.errors, watched.errors
