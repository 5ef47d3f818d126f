"""Sign-in, sessions, CSRF and API tokens over HTTP: what a browser or a script sees."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from esgledger.auth import accounts
from esgledger.store.engine import TABLES, now
from esgledger.store.ledger import Ledger
from esgledger.web.security import LOGIN_CSRF_COOKIE, SESSION_COOKIE

Clients = Callable[[str], TestClient]


def password(username: str) -> str:
    return f"{username}-password-1"


def login_form_token(client: TestClient) -> str:
    page = client.get("/login")
    assert page.status_code == 200
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found is not None
    assert client.cookies.get(LOGIN_CSRF_COOKIE) == found.group(1)
    return found.group(1)


def set_cookie_header(response: object, name: str) -> str:
    headers = response.headers.get_list("set-cookie")  # type: ignore[attr-defined]
    return next(h for h in headers if h.startswith(f"{name}="))


# -- form and API sign-in -----------------------------------------------------------------


def test_form_login_sets_a_strict_httponly_session_and_logout_ends_it(app: FastAPI) -> None:
    client = TestClient(app)
    token = login_form_token(client)
    signed = client.post(
        "/login",
        data={
            "username": "owner",
            "password": password("owner"),
            "csrf_token": token,
            "next": "/campaigns",
        },
        follow_redirects=False,
    )
    assert signed.status_code == 303
    assert signed.headers["location"] == "/campaigns"
    cookie = set_cookie_header(signed, SESSION_COOKIE).lower()
    assert "httponly" in cookie
    assert "samesite=strict" in cookie
    assert "path=/" in cookie
    me = client.get("/api/me")
    assert me.status_code == 200
    assert me.json()["username"] == "owner"
    csrf = me.json()["csrf_token"]
    secret = client.cookies.get(SESSION_COOKIE)
    out = client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert out.status_code == 303
    assert out.headers["location"] == "/login"
    replay = TestClient(app, cookies={SESSION_COOKIE: secret})
    assert replay.get("/api/me").status_code == 401
    assert (
        replay.get("/campaigns", headers={"accept": "text/html"}, follow_redirects=False)
        .headers["location"]
        .startswith("/login")
    )


def test_form_login_never_redirects_off_site(app: FastAPI) -> None:
    client = TestClient(app)
    for target in ("//evil.example/x", "https://evil.example/", "javascript:alert(1)"):
        token = login_form_token(client)
        signed = client.post(
            "/login",
            data={
                "username": "viewer",
                "password": password("viewer"),
                "csrf_token": token,
                "next": target,
            },
            follow_redirects=False,
        )
        assert signed.status_code == 303
        assert signed.headers["location"] == "/"


def test_api_login_and_logout(app: FastAPI) -> None:
    client = TestClient(app)
    signed = client.post(
        "/api/login", json={"username": "reviewer", "password": password("reviewer")}
    )
    assert signed.status_code == 200
    body = signed.json()
    assert body["user"]["role"] == "reviewer"
    assert body["csrf_token"]
    cookie = set_cookie_header(signed, SESSION_COOKIE).lower()
    assert "httponly" in cookie
    assert "samesite=strict" in cookie
    assert client.get("/api/me").status_code == 200
    out = client.post("/api/logout", headers={"X-CSRF-Token": body["csrf_token"]})
    assert out.status_code == 200
    assert client.get("/api/me").status_code == 401


def test_one_message_for_unknown_user_and_wrong_password(app: FastAPI) -> None:
    client = TestClient(app)
    wrong = client.post("/api/login", json={"username": "owner", "password": "not-the-password"})
    unknown = client.post("/api/login", json={"username": "nobody", "password": "not-the-password"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    token = login_form_token(client)
    page = client.post(
        "/login", data={"username": "nobody", "password": "x" * 12, "csrf_token": token}
    )
    assert page.status_code == 401
    assert wrong.json()["detail"] in page.text
    assert client.cookies.get(SESSION_COOKIE) is None


def test_sixth_failure_is_throttled_even_with_the_right_password(app: FastAPI) -> None:
    client = TestClient(app)
    for _ in range(accounts.LIMIT_PER_USER):
        failed = client.post("/api/login", json={"username": "owner2", "password": "guess-guess-1"})
        assert failed.status_code == 401
    right = client.post("/api/login", json={"username": "owner2", "password": password("owner2")})
    assert right.status_code == 429
    token = login_form_token(client)
    form = client.post(
        "/login",
        data={"username": "owner2", "password": password("owner2"), "csrf_token": token},
    )
    assert form.status_code == 429
    other = client.post("/api/login", json={"username": "viewer", "password": password("viewer")})
    assert other.status_code == 200


def test_failures_older_than_the_window_do_not_count(app: FastAPI, web_ledger: Ledger) -> None:
    client = TestClient(app)
    for _ in range(accounts.LIMIT_PER_USER):
        client.post("/api/login", json={"username": "owner2", "password": "guess-guess-1"})
    attempts = TABLES["login_attempt"]
    with web_ledger.engine.begin() as conn:
        conn.execute(update(attempts).values(at=now() - accounts.LIMIT_WINDOW - timedelta(1)))
    right = client.post("/api/login", json={"username": "owner2", "password": password("owner2")})
    assert right.status_code == 200


# -- CSRF -----------------------------------------------------------------------------------


def test_cookie_writes_need_the_csrf_token(client_for: Clients) -> None:
    owner = client_for("owner")
    good = owner.headers["X-CSRF-Token"]
    del owner.headers["X-CSRF-Token"]
    body = {"name": "script", "days": 1}
    assert owner.post("/api/tokens", json=body).status_code == 403
    assert (
        owner.post("/api/tokens", json=body, headers={"X-CSRF-Token": "forged"}).status_code == 403
    )
    assert owner.post("/logout", data={"csrf_token": "forged"}).status_code == 403
    assert owner.post("/logout", data={}).status_code == 403
    assert owner.get("/api/me").status_code == 200  # reads need none
    made = owner.post("/api/tokens", json=body, headers={"X-CSRF-Token": good})
    assert made.status_code == 201


def test_the_login_form_needs_its_csrf_cookie(app: FastAPI) -> None:
    client = TestClient(app)
    token = login_form_token(client)
    client.cookies.clear()
    refused = client.post(
        "/login", data={"username": "owner", "password": password("owner"), "csrf_token": token}
    )
    assert refused.status_code == 403
    other = TestClient(app)
    login_form_token(other)
    wrong = other.post(
        "/login", data={"username": "owner", "password": password("owner"), "csrf_token": "forged"}
    )
    assert wrong.status_code == 403
    assert other.cookies.get(SESSION_COOKIE) is None


# -- API tokens -----------------------------------------------------------------------------


def test_bearer_tokens_need_no_csrf_and_stop_when_revoked_or_expired(
    client_for: Clients, app: FastAPI, web_ledger: Ledger
) -> None:
    owner = client_for("owner")
    made = owner.post("/api/tokens", json={"name": "script", "days": 30}).json()
    script = TestClient(app, headers={"Authorization": f"Bearer {made['token']}"})
    assert script.get("/api/me").json()["username"] == "owner"
    second = script.post("/api/tokens", json={"name": "second", "days": 1})
    assert second.status_code == 201  # a change without any CSRF header
    listed = owner.get("/api/tokens").json()
    assert all("token_hash" not in t and "token" not in t for t in listed)
    assert owner.delete(f"/api/tokens/{made['token_id']}").status_code == 200
    assert script.get("/api/me").status_code == 401
    other = TestClient(app, headers={"Authorization": f"Bearer {second.json()['token']}"})
    assert other.get("/api/me").status_code == 200
    tokens = TABLES["api_token"]
    with web_ledger.engine.begin() as conn:
        conn.execute(
            update(tokens)
            .where(tokens.c.token_id == second.json()["token_id"])
            .values(expires_at=now() - timedelta(seconds=1))
        )
    assert other.get("/api/me").status_code == 401
    assert (
        TestClient(app, headers={"Authorization": "Bearer esgl_made_up"}).get("/api/me").status_code
        == 401
    )


def test_a_token_of_a_deactivated_user_stops(client_for: Clients, app: FastAPI) -> None:
    viewer = client_for("viewer")
    made = viewer.post("/api/tokens", json={"name": "script", "days": 30}).json()
    admin = client_for("admin")
    viewer_id = viewer.get("/api/me").json()["user_id"]
    assert admin.post(f"/api/users/{viewer_id}/active", json={"active": False}).status_code == 200
    script = TestClient(app, headers={"Authorization": f"Bearer {made['token']}"})
    assert script.get("/api/me").status_code == 401


# -- password resets and storage ------------------------------------------------------------


def test_admin_password_reset_ends_the_users_sessions(client_for: Clients, app: FastAPI) -> None:
    owner, again = client_for("owner"), client_for("owner")
    admin = client_for("admin")
    owner_id = owner.get("/api/me").json()["user_id"]
    reset = admin.post(f"/api/users/{owner_id}/password").json()
    assert owner.get("/api/me").status_code == 401
    assert again.get("/api/me").status_code == 401
    old = TestClient(app).post(
        "/api/login", json={"username": "owner", "password": password("owner")}
    )
    assert old.status_code == 401
    new = TestClient(app).post(
        "/api/login", json={"username": "owner", "password": reset["password"]}
    )
    assert new.status_code == 200
    assert new.json()["user"]["must_change_password"] is True


def test_passwords_are_argon2id_hashes_and_never_audited(
    client_for: Clients, web_ledger: Ledger
) -> None:
    owner = client_for("owner")
    changed = owner.post(
        "/api/me/password",
        json={"current_password": password("owner"), "new_password": "owner-new-password-2"},
    )
    assert changed.status_code == 200
    admin = client_for("admin")
    made = admin.post("/api/users", json={"username": "li.na", "role": "viewer"}).json()
    chosen = admin.post(
        "/api/users",
        json={"username": "chen", "role": "viewer", "password": "chen-chosen-password"},
    )
    assert chosen.status_code == 201
    viewer_id = next(
        u["user_id"] for u in admin.get("/api/users").json() if u["username"] == "viewer"
    )
    reset = admin.post(f"/api/users/{viewer_id}/password").json()
    secrets = {password(u) for u in ("admin", "owner", "owner2", "viewer", "reviewer")}
    secrets |= {
        "owner-new-password-2",
        made["initial_password"],
        "chen-chosen-password",
        reset["password"],
    }
    with web_ledger.engine.connect() as conn:
        hashes = list(conn.scalars(select(TABLES["app_user"].c.password_hash)))
        log = [" ".join(map(str, row)) for row in conn.execute(select(TABLES["audit_log"]))]
        sessions = [" ".join(map(str, row)) for row in conn.execute(select(TABLES["web_session"]))]
    assert hashes
    assert all(h.startswith("$argon2id$") for h in hashes)
    everything = "\n".join(log + sessions + hashes)
    assert not [s for s in secrets if s in everything]


def test_nul_characters_are_refused_not_a_server_error(client_for: Clients, app: FastAPI) -> None:
    """PostgreSQL text cannot hold NUL: such input is refused before it reaches the database."""
    client = TestClient(app)
    api = client.post("/api/login", json={"username": "own\u0000er", "password": "x"})
    assert api.status_code == 422
    token = login_form_token(client)
    form = client.post(
        "/login", data={"username": "own\u0000er", "password": "x", "csrf_token": token}
    )
    assert form.status_code == 401
    owner = client_for("owner")
    assert owner.post("/api/tokens", json={"name": "a\u0000b"}).status_code == 422
    assert owner.delete("/api/tokens/2147483648").status_code == 422
