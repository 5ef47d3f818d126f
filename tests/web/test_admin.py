"""Administration pages and API: users, grants, password resets, activation; the audit log,
its scope, paging, CSV export and chain verification."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from esgledger import audit
from esgledger.auth import accounts
from esgledger.store.engine import TABLES, write_transaction
from esgledger.store.ledger import Ledger

Clients = Callable[[str], TestClient]


def _user(client: TestClient, username: str) -> dict[str, object]:
    users = client.get("/api/users").json()
    return next(u for u in users if u["username"] == username)


def test_users_are_listed_with_roles_and_grants(client_for: Clients) -> None:
    admin = client_for("admin")
    owner = _user(admin, "owner")
    assert owner["role"] == "owner"
    assert owner["entities"] == ["S01"]
    assert "password_hash" not in owner
    page = admin.get("/users")
    assert page.status_code == 200
    assert 'data-user="owner2"' in page.text


def test_create_user_with_a_random_password_shown_once(
    client_for: Clients, web_ledger: Ledger
) -> None:
    admin = client_for("admin")
    made = admin.post(
        "/api/users",
        json={"username": "wang.li", "role": "owner", "entities": ["S03"], "locale": "zh"},
    )
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["must_change_password"] is True
    secret = body["initial_password"]
    assert len(secret) >= 12
    assert made.headers["cache-control"] == "no-store"
    assert _user(admin, "wang.li")["entities"] == ["S03"]
    who = accounts.authenticate(web_ledger.engine, "wang.li", secret, "test")
    assert who.must_change_password
    assert who.scope == frozenset({"S03"})
    with web_ledger.engine.connect() as conn:
        logged = " ".join(
            f"{r.before} {r.after}" for r in conn.execute(select(TABLES["audit_log"]))
        )
    assert secret not in logged
    again = admin.post("/api/users", json={"username": "wang.li", "role": "viewer"})
    assert again.status_code == 409


def test_create_user_refuses_unknown_entities_and_bad_roles(client_for: Clients) -> None:
    admin = client_for("admin")
    unknown = admin.post(
        "/api/users", json={"username": "x1", "role": "owner", "entities": ["NOPE"]}
    )
    assert unknown.status_code == 422
    assert "NOPE" in unknown.json()["detail"]
    assert admin.post("/api/users", json={"username": "x2", "role": "god"}).status_code == 422
    spaced = admin.post("/api/users", json={"username": "a b", "role": "viewer"})
    assert spaced.status_code == 422


def test_grants_are_replaced(client_for: Clients) -> None:
    admin = client_for("admin")
    owner_id = _user(admin, "owner")["user_id"]
    done = admin.post(f"/api/users/{owner_id}/grants", json={"entities": ["S03", "S01"]})
    assert done.status_code == 200
    assert done.json() == {"entities": ["S01", "S03"]}
    assert _user(admin, "owner")["entities"] == ["S01", "S03"]
    assert admin.post("/api/users/99999/grants", json={"entities": []}).status_code == 404


def test_reset_password_ends_the_users_sessions(client_for: Clients) -> None:
    admin, owner = client_for("admin"), client_for("owner")
    assert owner.get("/api/me").status_code == 200
    owner_id = _user(admin, "owner")["user_id"]
    reset = admin.post(f"/api/users/{owner_id}/password")
    assert reset.status_code == 200
    assert reset.json()["must_change_password"] is True
    assert owner.get("/api/me").status_code == 401
    fresh = TestClient(owner.app)
    signed = fresh.post(
        "/api/login", json={"username": "owner", "password": reset.json()["password"]}
    )
    assert signed.status_code == 200
    assert signed.json()["user"]["must_change_password"] is True


def test_deactivation_ends_access_and_not_ones_own(client_for: Clients) -> None:
    admin, viewer = client_for("admin"), client_for("viewer")
    viewer_id = _user(admin, "viewer")["user_id"]
    assert admin.post(f"/api/users/{viewer_id}/active", json={"active": False}).status_code == 200
    assert viewer.get("/api/me").status_code == 401
    assert _user(admin, "viewer")["active"] is False
    assert admin.post(f"/api/users/{viewer_id}/active", json={"active": True}).status_code == 200
    admin_id = _user(admin, "admin")["user_id"]
    own = admin.post(f"/api/users/{admin_id}/active", json={"active": False})
    assert own.status_code == 409
    assert admin.get("/api/me").status_code == 200


def test_user_forms(client_for: Clients) -> None:
    admin = client_for("admin")
    csrf = admin.headers.pop("X-CSRF-Token")
    made = admin.post(
        "/users",
        data={
            "csrf_token": csrf,
            "username": "zhao",
            "role": "viewer",
            "locale": "en",
            "entities": ["S04", "S05"],
        },
    )
    assert made.status_code == 200
    assert 'class="secret"' in made.text
    assert made.headers["cache-control"] == "no-store"
    zhao = _user(admin, "zhao")
    assert zhao["entities"] == ["S04", "S05"]
    assert zhao["locale"] == "en"
    grants = admin.post(
        f"/users/{zhao['user_id']}/grants",
        data={"csrf_token": csrf, "entities": ["S06"]},
        follow_redirects=False,
    )
    assert grants.status_code == 303
    assert grants.headers["location"] == "/users?done=users_grants_saved"
    assert "Grants saved" in admin.get(grants.headers["location"] + "&lang=en").text
    off = admin.post(
        f"/users/{zhao['user_id']}/active",
        data={"csrf_token": csrf, "active": "false"},
        follow_redirects=False,
    )
    assert off.status_code == 303
    assert _user(admin, "zhao")["active"] is False
    reset = admin.post(f"/users/{zhao['user_id']}/password", data={"csrf_token": csrf})
    assert reset.status_code == 200
    assert 'class="secret"' in reset.text
    bad = admin.post("/users", data={"csrf_token": csrf, "username": "q", "role": "god"})
    assert bad.status_code == 422
    assert "god" in bad.text
    no_csrf = admin.post("/users", data={"username": "q", "role": "viewer"})
    assert no_csrf.status_code == 403


def test_only_administrators_manage_users(client_for: Clients) -> None:
    for username in ("reviewer", "owner", "approver", "verifier", "viewer"):
        client = client_for(username)
        assert client.get("/api/users").status_code == 403
        assert client.post("/api/users", json={"username": "z", "role": "admin"}).status_code == 403


# -- audit ----------------------------------------------------------------------------------


def _entity_entries(ledger: Ledger) -> None:
    with write_transaction(ledger.engine) as conn:
        for entity_id in ("S01", "S02", "S02"):
            audit.append(conn, "t", "touch", "thing", entity_id, entity_id=entity_id)


def test_audit_pages_newest_first(client_for: Clients, web_ledger: Ledger) -> None:
    _entity_entries(web_ledger)
    verifier = client_for("verifier")
    first = verifier.get("/api/audit", params={"limit": 2})
    assert first.status_code == 200
    page = first.json()
    seqs = [e["seq"] for e in page["entries"]]
    assert seqs == sorted(seqs, reverse=True)
    assert len(seqs) == 2
    # each entry names the audit key whose HMAC is its hash (the ledger's one key here)
    keys = {e["key_id"] for e in page["entries"]}
    assert len(keys) == 1 and None not in keys
    assert {e["key_id"] for e in audit.entries(web_ledger.engine, limit=2)} == keys
    older = verifier.get("/api/audit", params={"limit": 2, "before_seq": page["next_before_seq"]})
    assert all(e["seq"] < seqs[-1] for e in older.json()["entries"])
    only = verifier.get("/api/audit", params={"object_type": "thing", "object_id": "S02"}).json()
    assert [e["entity_id"] for e in only["entries"]] == ["S02", "S02"]
    assert verifier.get("/api/audit", params={"limit": 501}).status_code == 422
    html = verifier.get("/audit", params={"object_type": "thing"})
    assert html.status_code == 200
    assert "thing:S01" in html.text


def test_audit_hides_entries_of_entities_outside_the_scope(
    client_for: Clients, web_ledger: Ledger
) -> None:
    _entity_entries(web_ledger)
    admin = client_for("admin")
    verifier_id = _user(admin, "verifier")["user_id"]
    admin.post(f"/api/users/{verifier_id}/grants", json={"entities": ["S02"]})
    verifier = client_for("verifier")
    seen = verifier.get("/api/audit", params={"limit": 500}).json()["entries"]
    assert seen
    assert {e["entity_id"] for e in seen} == {"S02"}
    everything = admin.get("/api/audit", params={"limit": 500}).json()["entries"]
    assert None in {e["entity_id"] for e in everything}
    assert "S01" in {e["entity_id"] for e in everything}


def newest_key(ledger: Ledger) -> str | None:
    return audit.entries(ledger.engine, limit=1)[0]["key_id"]  # type: ignore[no-any-return]


def test_audit_csv_export_is_audited_and_neutralised(
    client_for: Clients, web_ledger: Ledger
) -> None:
    with write_transaction(web_ledger.engine) as conn:
        audit.append(conn, "=cmd|' /C calc'!A0", "touch", "thing", "1", entity_id="S01")
    verifier = client_for("verifier")
    got = verifier.get("/api/audit", params={"format": "csv", "limit": 10})
    assert got.status_code == 200
    assert got.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(got.content.decode("utf-8-sig"))))
    touched = next(r for r in rows if r["action"] == "touch")
    assert touched["actor"] == "'=cmd|' /C calc'!A0"
    assert touched["key_id"] and touched["key_id"] == newest_key(web_ledger)
    newest = verifier.get("/api/audit", params={"limit": 1}).json()["entries"][0]
    assert (newest["actor"], newest["action"], newest["object_type"]) == (
        "verifier",
        "export",
        "audit_log",
    )
    assert newest["after"]["rows"] == len(rows)


def test_audit_verify_reports_tampering(client_for: Clients, web_ledger: Ledger) -> None:
    verifier = client_for("verifier")
    ok = verifier.get("/api/audit/verify").json()
    assert ok["ok"] is True
    assert ok["entries"] == ok["head_seq"] > 0
    with web_ledger.engine.begin() as conn:
        log = TABLES["audit_log"]
        conn.execute(update(log).where(log.c.seq == 2).values(actor="mallory"))
    broken = verifier.get("/api/audit/verify").json()
    assert broken["ok"] is False
    assert broken["problems"][0]["seq"] == 2
    page = verifier.get("/audit", params={"verify": 1})
    assert '<a href="/audit?before_seq=3">2</a>' in page.text  # the broken entry, linked
    assert "mallory" in verifier.get("/audit", params={"before_seq": 3}).text


def test_audit_needs_audit_read(client_for: Clients) -> None:
    for username in ("reviewer", "owner", "approver", "viewer"):
        client = client_for(username)
        assert client.get("/api/audit").status_code == 403
        assert client.get("/api/audit/verify").status_code == 403
