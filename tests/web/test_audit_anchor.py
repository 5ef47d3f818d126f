"""The web verification of the audit log (``/api/audit/verify`` and ``/audit?verify=1``)
compares the chain with the checkpoints kept outside the database and with a head saved
elsewhere (``expect``): a deleted tail with the head moved back, or a chain recomputed without
the key, fails there as in ``esgledger audit verify``."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import Connection, delete, select, update

from esgledger import audit
from esgledger.store.audit_log import AUDIT, GENESIS, HEAD, entry_hash
from esgledger.store.engine import write_transaction
from esgledger.store.ledger import Ledger

Clients = Callable[[str], TestClient]


def _touch(ledger: Ledger, n: int) -> None:
    for i in range(n):
        with write_transaction(ledger.engine) as conn:
            audit.append(conn, "t", "touch", "thing", i)


def _truncate(conn: Connection, keep: int) -> None:
    conn.execute(delete(AUDIT).where(AUDIT.c.seq > keep))
    digest = conn.scalar(select(AUDIT.c.hash).where(AUDIT.c.seq == keep))
    conn.execute(update(HEAD).values(seq=keep, hash=digest))


def test_verify_compares_with_the_checkpoints(client_for: Clients, web_ledger: Ledger) -> None:
    verifier = client_for("verifier")
    first = verifier.get("/api/audit/verify").json()
    assert first["ok"] is True
    assert first["key_id"] and len(first["key_id"]) == 8
    result, point = audit.checkpoint(web_ledger.engine)
    assert result.ok and point is not None
    _touch(web_ledger, 2)
    anchored = verifier.get("/api/audit/verify").json()
    assert anchored["ok"] is True and anchored["checkpoints"] >= 1
    assert anchored["notes"] == []
    with web_ledger.engine.begin() as conn:
        _truncate(conn, point.seq - 1)
    broken = verifier.get("/api/audit/verify").json()
    assert broken["ok"] is False
    assert any(
        p["seq"] is None
        and "checkpoint of" in p["message"]
        and f"entry {point.seq}" in p["message"]
        for p in broken["problems"]
    )
    page = verifier.get("/audit", params={"verify": 1})
    assert page.status_code == 200
    assert "entries deleted at the end" in page.text


def test_verify_takes_a_saved_head(client_for: Clients, web_ledger: Ledger) -> None:
    verifier = client_for("verifier")
    saved = audit.verify(web_ledger.engine)
    expect = f"{saved.head_seq}:{saved.head_hash}"
    assert verifier.get("/api/audit/verify", params={"expect": expect}).json()["ok"] is True
    with web_ledger.engine.begin() as conn:
        _truncate(conn, saved.head_seq - 1)
    problems = verifier.get("/api/audit/verify", params={"expect": expect}).json()["problems"]
    assert [p["message"] for p in problems] == [
        f"entry {saved.head_seq} does not have the saved hash {saved.head_hash[:12]}..."
    ]
    for bad in ("5", f"x:{saved.head_hash}", "5:abc", f"5:{saved.head_hash.upper()}"):
        assert verifier.get("/api/audit/verify", params={"expect": bad}).status_code == 422


def test_a_chain_recomputed_without_the_key_fails(client_for: Clients, web_ledger: Ledger) -> None:
    verifier = client_for("verifier")
    with web_ledger.engine.begin() as conn:
        rows = [dict(r) for r in conn.execute(select(AUDIT).order_by(AUDIT.c.seq)).mappings()]
        conn.execute(delete(AUDIT))
        prev = GENESIS
        for row in rows:
            row.update(prev_hash=prev, key_id=None)
            row["hash"] = prev = entry_hash(row)
            conn.execute(AUDIT.insert().values(**row))
        conn.execute(update(HEAD).values(seq=rows[-1]["seq"], hash=prev))
    broken = verifier.get("/api/audit/verify").json()
    assert broken["ok"] is False
    assert broken["problems"][0]["seq"] == 1
    assert "recomputed without the audit key" in broken["problems"][0]["message"]
