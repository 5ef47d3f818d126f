"""Abuse limits of the accounts and the web platform (issue 15, scope item 4): the sign-in
throttle holds under concurrency and does not let anyone lock a user out from every address,
an unknown user name costs the same password verification as a known one, a password change
or reset revokes the user's API tokens, a forced password change is enforced (with a
self-service password page), and every response carries the security headers."""

from __future__ import annotations

import base64
import hashlib
import re
import threading
from collections.abc import Callable
from importlib import resources
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from esgledger.auth import accounts
from esgledger.auth.accounts import AccountError, RateLimitedError
from esgledger.store.ledger import Ledger
from esgledger.web.app import create_app
from esgledger.web.security import LOGIN_CSRF_COOKIE, SESSION_COOKIE

Clients = Callable[[str], TestClient]
BROWSER = "text/html,application/xhtml+xml,*/*;q=0.8"


def password(username: str) -> str:
    return f"{username}-password-1"  # as tests/web/conftest.py creates the users


class CountingHasher:
    """The Argon2 hasher of ``accounts``, counting the passwords it verifies (and pausing in
    each, so that concurrent sign-ins overlap as they would with a real server's load)."""

    def __init__(self, real: Any, pause: float = 0.0) -> None:
        self.real, self.pause = real, pause
        self.verified = 0
        self._lock = threading.Lock()

    def verify(self, hashed: str, secret: str) -> bool:
        with self._lock:
            self.verified += 1
        if self.pause:
            threading.Event().wait(self.pause)
        result: bool = self.real.verify(hashed, secret)
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


@pytest.fixture
def hasher(monkeypatch: pytest.MonkeyPatch) -> CountingHasher:
    counting = CountingHasher(accounts._hasher, pause=0.05)
    monkeypatch.setattr(accounts, "_hasher", counting)
    return counting


def _concurrently(calls: list[Callable[[], object]]) -> list[BaseException | None]:
    """Run ``calls`` in as many threads released together; each one's exception (or None)."""
    outcomes: list[BaseException | None] = [None] * len(calls)
    start = threading.Barrier(len(calls))

    def run(i: int) -> None:
        start.wait()
        try:
            calls[i]()
        except BaseException as exc:  # the outcome is what the test reads
            outcomes[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


def _evaluated(outcomes: list[BaseException | None]) -> int:
    """How many sign-ins were judged on their password (refused, but not throttled)."""
    return sum(
        isinstance(o, AccountError) and not isinstance(o, RateLimitedError) for o in outcomes
    )


# -- 1. the throttle: atomic, per (user, address), with a per-user ceiling -------------------


def test_concurrent_wrong_passwords_are_throttled_at_the_limit(
    web_ledger: Ledger, hasher: CountingHasher
) -> None:
    engine = web_ledger.engine

    def guess() -> object:
        return accounts.authenticate(engine, "owner2", "wrong-guess-000", "10.0.0.7")

    outcomes = _concurrently([guess] * 40)
    assert all(isinstance(o, AccountError) for o in outcomes), outcomes
    assert _evaluated(outcomes) == accounts.LIMIT_PER_USER
    assert sum(isinstance(o, RateLimitedError) for o in outcomes) == 40 - accounts.LIMIT_PER_USER
    assert hasher.verified == accounts.LIMIT_PER_USER
    with pytest.raises(RateLimitedError):
        accounts.authenticate(engine, "owner2", password("owner2"), "10.0.0.7")
    assert hasher.verified == accounts.LIMIT_PER_USER


def test_concurrent_guesses_from_one_address_are_throttled_at_its_limit(
    web_ledger: Ledger, hasher: CountingHasher
) -> None:
    engine = web_ledger.engine

    def guess(i: int) -> Callable[[], object]:
        return lambda: accounts.authenticate(engine, f"guess-{i}", "wrong-guess-000", "10.0.0.8")

    calls = [guess(i) for i in range(accounts.LIMIT_PER_ADDRESS + 10)]
    outcomes = _concurrently(calls)
    assert all(isinstance(o, AccountError) for o in outcomes), outcomes
    assert _evaluated(outcomes) == accounts.LIMIT_PER_ADDRESS
    with pytest.raises(RateLimitedError):
        accounts.authenticate(engine, "viewer", password("viewer"), "10.0.0.8")
    assert accounts.authenticate(engine, "viewer", password("viewer"), "10.0.0.9").username == (
        "viewer"
    )


def test_failures_from_one_address_do_not_lock_the_user_out_elsewhere(app: FastAPI) -> None:
    attacker = TestClient(app, client=("198.51.100.66", 40000))
    for _ in range(accounts.LIMIT_PER_USER):
        failed = attacker.post("/api/login", json={"username": "admin", "password": "guess-12345"})
        assert failed.status_code == 401
    throttled = attacker.post(
        "/api/login", json={"username": "admin", "password": password("admin")}
    )
    assert throttled.status_code == 429
    real = TestClient(app, client=("192.0.2.10", 40001))
    signed = real.post("/api/login", json={"username": "admin", "password": password("admin")})
    assert signed.status_code == 200
    assert signed.json()["user"]["username"] == "admin"


def test_failures_from_many_addresses_reach_the_per_user_ceiling(
    web_ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(accounts, "LIMIT_USER_TOTAL", 8)
    engine = web_ledger.engine
    for i in range(8):
        with pytest.raises(AccountError) as refused:
            accounts.authenticate(engine, "owner", "wrong-guess-000", f"203.0.113.{i}")
        assert not isinstance(refused.value, RateLimitedError)
    with pytest.raises(RateLimitedError):
        accounts.authenticate(engine, "owner", password("owner"), "203.0.113.200")
    # another user is not affected
    assert accounts.authenticate(engine, "owner2", password("owner2"), "203.0.113.200")


# -- 2. unknown user names cost the same verification -----------------------------------------


def test_every_sign_in_verifies_exactly_one_password(
    web_ledger: Ledger, hasher: CountingHasher
) -> None:
    engine = web_ledger.engine
    cases = [("nobody-at-all", "some-password-1"), ("owner", "wrong-password-1")]
    for i, (username, secret) in enumerate(cases):
        before = hasher.verified
        with pytest.raises(AccountError) as refused:
            accounts.authenticate(engine, username, secret, f"10.1.0.{i}")
        assert str(refused.value) == "wrong user name or password"
        assert hasher.verified - before == 1, username
    viewer_id = accounts.user_id_of(engine, "viewer")
    assert viewer_id is not None
    accounts.set_active(engine, "test", viewer_id, False)
    before = hasher.verified
    with pytest.raises(AccountError) as inactive:
        accounts.authenticate(engine, "viewer", password("viewer"), "10.1.0.9")
    assert str(inactive.value) == "wrong user name or password"
    assert hasher.verified - before == 1
    before = hasher.verified
    assert accounts.authenticate(engine, "owner", password("owner"), "10.1.0.10")
    assert hasher.verified - before == 1


# -- 3. tokens revoked on a password change and an admin reset ------------------------------


def _token(client: TestClient) -> str:
    made = client.post("/api/tokens", json={"name": "script", "days": 30})
    assert made.status_code == 201, made.text
    secret: str = made.json()["token"]
    return secret


def test_a_password_change_revokes_the_users_tokens(client_for: Clients, app: FastAPI) -> None:
    owner, other_session = client_for("owner"), client_for("owner")
    script = TestClient(app, headers={"Authorization": f"Bearer {_token(owner)}"})
    assert script.get("/api/me").status_code == 200
    changed = owner.post(
        "/api/me/password",
        json={"current_password": password("owner"), "new_password": "owner-new-password-2"},
    )
    assert changed.status_code == 200
    assert changed.json()["changed"] is True
    assert script.get("/api/me").status_code == 401
    assert other_session.get("/api/me").status_code == 401
    # the session that changed it goes on, with a new cookie and CSRF token
    assert owner.get("/api/me").status_code == 200
    owner.headers["X-CSRF-Token"] = changed.json()["csrf_token"]
    assert owner.post("/api/tokens", json={"name": "again", "days": 1}).status_code == 201


def test_an_admin_reset_revokes_the_users_tokens(client_for: Clients, app: FastAPI) -> None:
    owner, admin = client_for("owner"), client_for("admin")
    script = TestClient(app, headers={"Authorization": f"Bearer {_token(owner)}"})
    owner_id = owner.get("/api/me").json()["user_id"]
    assert admin.post(f"/api/users/{owner_id}/password").status_code == 200
    assert script.get("/api/me").status_code == 401
    assert owner.get("/api/me").status_code == 401


def test_changing_through_a_token_revokes_that_token_too(client_for: Clients, app: FastAPI) -> None:
    script = TestClient(app, headers={"Authorization": f"Bearer {_token(client_for('viewer'))}"})
    changed = script.post(
        "/api/me/password",
        json={"current_password": password("viewer"), "new_password": "viewer-new-password-2"},
    )
    assert changed.status_code == 200
    assert changed.json() == {"changed": True}
    assert script.get("/api/me").status_code == 401


# -- 4. forced password change and the self-service password page ---------------------------


def _forced_user(client_for: Clients, app: FastAPI) -> tuple[TestClient, str]:
    admin = client_for("admin")
    made = admin.post(
        "/api/users", json={"username": "new.hire", "role": "owner", "entities": ["S01"]}
    )
    assert made.status_code == 201, made.text
    initial: str = made.json()["initial_password"]
    client = TestClient(app)
    signed = client.post("/api/login", json={"username": "new.hire", "password": initial})
    assert signed.status_code == 200
    assert signed.json()["user"]["must_change_password"] is True
    client.headers["X-CSRF-Token"] = signed.json()["csrf_token"]
    return client, initial


def _form_csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found is not None
    return found.group(1)


def test_a_forced_change_allows_only_the_password_page(client_for: Clients, app: FastAPI) -> None:
    client, initial = _forced_user(client_for, app)
    refused = client.get("/api/dashboard")
    assert refused.status_code == 403
    assert refused.json() == {"detail": "change your password first (/account/password)"}
    assert client.get("/api/campaigns").status_code == 403
    assert client.post("/api/tokens", json={"name": "x", "days": 1}).status_code == 403
    assert client.get("/api/me").status_code == 200
    for path in ("/", "/campaigns", "/strategy"):
        page = client.get(path, headers={"accept": BROWSER}, follow_redirects=False)
        assert page.status_code == 303, path
        assert page.headers["location"] == "/account/password"
    form = client.get("/account/password?lang=en", headers={"accept": BROWSER})
    assert form.status_code == 200
    assert 'action="/account/password"' in form.text
    assert "You must choose a new password before going on." in form.text
    done = client.post(
        "/account/password",
        data={
            "csrf_token": _form_csrf(form.text),
            "current_password": initial,
            "new_password": "a-new-hire-password",
            "repeat_password": "a-new-hire-password",
        },
        headers={"accept": BROWSER},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert done.headers["location"] == "/account/password?done=password_changed"
    me = client.get("/api/me").json()
    assert me["must_change_password"] is False
    assert client.get("/api/dashboard").status_code == 200
    assert client.get("/", headers={"accept": BROWSER}, follow_redirects=False).status_code == 200
    shown = client.get("/account/password?done=password_changed&lang=en")
    assert "Your password was changed." in shown.text


def test_the_forced_change_needs_the_api_route_too(client_for: Clients, app: FastAPI) -> None:
    client, initial = _forced_user(client_for, app)
    same = client.post(
        "/api/me/password", json={"current_password": initial, "new_password": initial}
    )
    assert same.status_code == 400
    assert same.json() == {"detail": "the new password must differ from the current one"}
    changed = client.post(
        "/api/me/password",
        json={"current_password": initial, "new_password": "a-new-hire-password"},
    )
    assert changed.status_code == 200
    client.headers["X-CSRF-Token"] = changed.json()["csrf_token"]
    assert client.get("/api/dashboard").status_code == 200
    assert client.post("/api/logout").status_code == 200


@pytest.mark.parametrize(
    ("lang", "fields", "message"),
    [
        (
            "en",
            {"current_password": "owner-password-1", "repeat_password": "another-password-9"},
            "The two new passwords differ.",
        ),
        (
            "zh",
            {"current_password": "owner-password-1", "repeat_password": "another-password-9"},
            "两次输入的新密码不一致。",
        ),
        (
            "en",
            {"current_password": "not-my-password", "repeat_password": "owner-new-password-3"},
            "The current password is wrong.",
        ),
        (
            "zh",
            {"current_password": "not-my-password", "repeat_password": "owner-new-password-3"},
            "当前密码错误。",
        ),
    ],
)
def test_the_password_page_explains_a_refusal(
    client_for: Clients, lang: str, fields: dict[str, str], message: str
) -> None:
    owner = client_for("owner")
    form = owner.get(f"/account/password?lang={lang}")
    assert form.status_code == 200
    refused = owner.post(
        f"/account/password?lang={lang}",
        data={
            "csrf_token": _form_csrf(form.text),
            "new_password": "owner-new-password-3",
            **fields,
        },
        headers={"accept": BROWSER},
    )
    assert refused.status_code == 400
    assert message in refused.text
    assert owner.get("/api/me").status_code == 200  # nothing changed: still signed in


def test_the_password_page_refuses_a_short_password_and_a_missing_csrf_token(
    client_for: Clients,
) -> None:
    owner = client_for("owner")
    del owner.headers["X-CSRF-Token"]
    form = owner.get("/account/password?lang=en")
    short = owner.post(
        "/account/password?lang=en",
        data={
            "csrf_token": _form_csrf(form.text),
            "current_password": password("owner"),
            "new_password": "short",
            "repeat_password": "short",
        },
    )
    assert short.status_code == 400
    assert f"at least {accounts.MIN_PASSWORD} characters" in short.text
    forged = owner.post(
        "/account/password",
        data={
            "csrf_token": "forged",
            "current_password": password("owner"),
            "new_password": "owner-new-password-3",
            "repeat_password": "owner-new-password-3",
        },
    )
    assert forged.status_code == 403


def test_the_page_header_links_to_the_password_page(client_for: Clients, app: FastAPI) -> None:
    page = client_for("viewer").get("/?lang=en", headers={"accept": BROWSER})
    assert page.status_code == 200
    assert '<a href="/account/password">' in page.text
    anonymous = TestClient(app).get(
        "/account/password", headers={"accept": BROWSER}, follow_redirects=False
    )
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == "/login?next=/account/password"


# -- 5. security headers ----------------------------------------------------------------------


def _csp(response: Any) -> dict[str, str]:
    policy = response.headers["content-security-policy"]
    directives = (d.strip().split(None, 1) for d in policy.split(";") if d.strip())
    return {d[0]: d[1] if len(d) > 1 else "" for d in directives}


def _assert_headers(response: Any, *, hsts: bool) -> None:
    csp = _csp(response)
    assert csp["script-src"] == "'self'"
    assert csp["frame-ancestors"] == "'none'"
    assert csp["object-src"] == "'none'"
    assert "unsafe-inline" not in csp.get("default-src", "")
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "same-origin"
    assert response.headers["x-content-type-options"] == "nosniff"
    if hsts:
        assert response.headers["strict-transport-security"] == "max-age=31536000"
    else:
        assert "strict-transport-security" not in response.headers


def test_every_response_carries_the_security_headers(client_for: Clients, app: FastAPI) -> None:
    anonymous = TestClient(app)
    viewer = client_for("viewer")
    responses = [
        anonymous.get("/login"),
        anonymous.get("/healthz"),
        anonymous.get("/static/app.css"),
        anonymous.get("/api/me"),
        anonymous.get("/", headers={"accept": BROWSER}, follow_redirects=False),
        anonymous.get("/no/such/page", headers={"accept": BROWSER}),
        viewer.get("/", headers={"accept": BROWSER}),
        viewer.get("/api/dashboard"),
        viewer.post("/api/tokens", json={"name": ""}),
    ]
    assert [r.status_code for r in responses] == [200, 200, 200, 401, 303, 404, 200, 200, 422]
    for response in responses:
        _assert_headers(response, hsts=False)


def test_secure_cookies_add_hsts_and_a_secure_login_csrf_cookie(web_ledger: Ledger) -> None:
    client = TestClient(create_app(web_ledger, secure_cookies=True), base_url="https://testserver")
    page = client.get("/login")
    assert page.status_code == 200
    _assert_headers(page, hsts=True)
    cookies = page.headers.get_list("set-cookie")
    login_csrf = next(c for c in cookies if c.startswith(f"{LOGIN_CSRF_COOKIE}="))
    assert "secure" in login_csrf.lower()
    assert "httponly" in login_csrf.lower()
    token = _form_csrf(page.text)
    signed = client.post(
        "/login",
        data={"username": "owner", "password": password("owner"), "csrf_token": token},
        follow_redirects=False,
    )
    assert signed.status_code == 303
    _assert_headers(signed, hsts=True)
    session = next(
        c for c in signed.headers.get_list("set-cookie") if c.startswith(f"{SESSION_COOKIE}=")
    )
    assert "secure" in session.lower()


TEMPLATES = resources.files("esgledger.web") / "templates"
INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>")
HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)


def test_no_template_runs_inline_script() -> None:
    """``script-src 'self'`` blocks inline scripts, event handler attributes and javascript:
    links: no page may rely on them."""
    found: list[str] = []
    for template in sorted(TEMPLATES.iterdir(), key=lambda t: t.name):
        if not template.name.endswith(".html"):
            continue
        text = template.read_text("utf-8")
        for pattern in (INLINE_SCRIPT, HANDLER, re.compile("javascript:", re.IGNORECASE)):
            found += [f"{template.name}: {m.group(0)}" for m in pattern.finditer(text)]
    assert not found


def test_the_api_documentation_page_allows_only_its_own_inline_script(app: FastAPI) -> None:
    """FastAPI's Swagger UI page starts with one inline script: the policy of that page (and
    of no other) allows it by its hash, and the bundle's CDN."""
    docs = TestClient(app).get("/api/docs")
    assert docs.status_code == 200
    inline = re.findall(r"<script>(.*?)</script>", docs.text, re.S)
    assert len(inline) == 1
    digest = base64.b64encode(hashlib.sha256(inline[0].encode()).digest()).decode()
    csp = _csp(docs)
    assert csp["script-src"] == f"'self' https://cdn.jsdelivr.net 'sha256-{digest}'"
    assert csp["frame-ancestors"] == "'none'"
    assert docs.headers["x-frame-options"] == "DENY"
    assert _csp(TestClient(app).get("/login"))["script-src"] == "'self'"
