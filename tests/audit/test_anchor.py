"""`esgledger audit verify` against an attacker who can write the database but holds neither
the audit key nor the checkpoint file (both outside the database): edits, deletions and
reorderings break the chain; a tail deleted with the head moved back is seen against the
checkpoints; a chain recomputed without the key (plain SHA-256, or HMAC under another key)
fails the HMAC check.

These run on an SQLite file with no key configured (the key and the checkpoints are created
beside the ledger) and, when ``ESGLEDGER_TEST_PG_URL`` is set, on PostgreSQL with
``ESGLEDGER_AUDIT_KEY_FILE`` (a database server needs a key file named)."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, inspect, select, text
from typer.testing import CliRunner

from esgledger import audit
from esgledger.cli import app
from esgledger.store.audit_log import AUDIT
from esgledger.store.engine import write_transaction
from esgledger.store.ledger import Ledger

runner = CliRunner()
ENTRIES = 120  # more than the entries between two automatic checkpoints (CHECKPOINT_EVERY)
FIELDS = ("at", "actor", "action", "object_type", "object_id", "entity_id", "before", "after")


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), terminal_width=200)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def anchored(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[str, Ledger]]:
    """A ledger with ENTRIES audit entries, each committed on its own (as the platform writes
    them), and its ``--ledger`` value."""
    monkeypatch.delenv("ESGLEDGER_AUDIT_CHECKPOINTS", raising=False)
    if "://" in store_url:
        monkeypatch.setenv("ESGLEDGER_AUDIT_KEY_FILE", str(tmp_path / "server.audit-key"))
    else:
        monkeypatch.delenv("ESGLEDGER_AUDIT_KEY_FILE", raising=False)
    store = Ledger.open(Path(store_url) if "://" not in store_url else store_url)
    store.init()
    for i in range(1, ENTRIES + 1):
        with write_transaction(store.engine) as conn:
            audit.append(conn, "alice", "set_value", "request", i, entity_id="S01", after={"v": i})
    yield store_url, store
    store.close()


def sql(store: Ledger, statement: str, **values: object) -> None:
    with store.engine.begin() as conn:
        conn.execute(text(statement), values)


def _hash(conn: Connection, seq: int) -> str:
    return str(conn.execute(text(f"SELECT hash FROM audit_log WHERE seq = {seq}")).scalar_one())


def truncate(store: Ledger, keep: int) -> None:
    """Delete every entry after ``keep`` and point the head at entry ``keep``: consistent
    inside the database."""
    with store.engine.begin() as conn:
        conn.execute(text(f"DELETE FROM audit_log WHERE seq > {keep}"))
        conn.execute(
            text("UPDATE audit_head SET seq = :seq, hash = :hash"),
            {"seq": keep, "hash": _hash(conn, keep)},
        )


def swap(store: Ledger, first: int, second: int) -> None:
    """Exchange the contents of two entries (hashes included): a reordering."""
    columns = [c["name"] for c in inspect(store.engine).get_columns("audit_log")]
    cols = ", ".join(f'"{c}"' for c in columns if c != "seq")
    with store.engine.begin() as conn:
        one = conn.execute(text(f"SELECT {cols} FROM audit_log WHERE seq = {first}")).one()
        two = conn.execute(text(f"SELECT {cols} FROM audit_log WHERE seq = {second}")).one()
        conn.execute(text(f"UPDATE audit_log SET hash = 'parked' WHERE seq = {first}"))
        assign = ", ".join(f'"{c}" = :{c}' for c in one._asdict())
        conn.execute(text(f"UPDATE audit_log SET {assign} WHERE seq = {second}"), one._asdict())
        conn.execute(text(f"UPDATE audit_log SET {assign} WHERE seq = {first}"), two._asdict())


def _layout(row: dict[str, Any], extra: dict[str, Any]) -> bytes:
    fields = {k: row[k] for k in ("seq", *FIELDS, "prev_hash")}
    at = row["at"]
    fields["at"] = at.isoformat(timespec="microseconds") if isinstance(at, datetime) else at
    fields.update(extra)
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def recompute(store: Ledger, key: bytes | None, key_id: str | None = None) -> None:
    """Rewrite every entry's link and hash and the head, as someone with write access to the
    database but without the audit key would: plain SHA-256 of the documented layout when
    ``key`` is None (the entries then look like entries written before the key), else
    HMAC-SHA256 under ``key`` claiming ``key_id``."""
    keyed = "key_id" in {c["name"] for c in inspect(store.engine).get_columns("audit_log")}
    with store.engine.begin() as conn:
        stored = [dict(r) for r in conn.execute(select(AUDIT).order_by(AUDIT.c.seq)).mappings()]
        conn.execute(text("UPDATE audit_log SET hash = 'x' || seq, prev_hash = ''"))
        prev = "0" * 64
        for row in stored:
            row["prev_hash"] = prev
            if key is None:
                extra: dict[str, Any] = {}
                digest = hashlib.sha256(_layout(row, extra)).hexdigest()
            else:
                extra = {"key_id": key_id}
                digest = hmac.new(key, _layout(row, extra), hashlib.sha256).hexdigest()
            values = {"seq": row["seq"], "prev": prev, "hash": digest, "kid": extra.get("key_id")}
            assign = ", key_id = :kid" if keyed else ""
            conn.execute(
                text(
                    f"UPDATE audit_log SET prev_hash = :prev, hash = :hash{assign} WHERE seq = :seq"
                ),
                values,
            )
            prev = digest
        conn.execute(
            text("UPDATE audit_head SET seq = :s, hash = :h"), {"s": len(stored), "h": prev}
        )


def assert_fails(url: str, *expected: str) -> str:
    code, _out, err = run("audit", "verify", "--ledger", url)
    assert code == 1, err
    assert "problem(s)" in err
    for text_ in expected:
        assert text_ in err
    return err


def test_an_intact_anchored_log_verifies(anchored: tuple[str, Ledger]) -> None:
    url, _ = anchored
    code, out, err = run("audit", "verify", "--ledger", url)
    assert code == 0, err
    assert f"audit log intact: {ENTRIES} entries, head {ENTRIES}" in out


def test_an_edited_entry_is_detected(anchored: tuple[str, Ledger]) -> None:
    url, store = anchored
    sql(store, 'UPDATE audit_log SET "after" = :v WHERE seq = 3', v='{"v":99}')
    assert_fails(url, "audit entry 3: content does not match its hash")


def test_a_deleted_entry_is_detected(anchored: tuple[str, Ledger]) -> None:
    url, store = anchored
    sql(store, "DELETE FROM audit_log WHERE seq = 3")
    assert_fails(url, "audit entry 4: sequence jumps from 2 to 4")


def test_reordered_entries_are_detected(anchored: tuple[str, Ledger]) -> None:
    url, store = anchored
    swap(store, 2, 4)
    assert_fails(url, "audit entry 2: ", "audit entry 4: ")


def test_tail_truncation_with_the_head_rewritten_is_detected(
    anchored: tuple[str, Ledger],
) -> None:
    """The newest entries deleted and the head moved back: consistent inside the database,
    but the automatic checkpoints outside it recorded a later head."""
    url, store = anchored
    truncate(store, 90)
    assert_fails(url, "the log ends at entry 90", "checkpoint")


def test_truncation_below_an_explicit_checkpoint_is_detected(
    anchored: tuple[str, Ledger],
) -> None:
    """`esgledger audit checkpoint` anchors the current head: even the last entry alone
    cannot be deleted after it."""
    url, store = anchored
    code, out, err = run("audit", "checkpoint", "--ledger", url)
    assert code == 0, err
    assert f"{ENTRIES}:" in out
    truncate(store, ENTRIES - 1)
    assert_fails(url, f"the log ends at entry {ENTRIES - 1}", f"entry {ENTRIES}")


def test_a_chain_recomputed_with_plain_sha256_is_detected(anchored: tuple[str, Ledger]) -> None:
    """Every hash and link recomputed with SHA-256 (the layout is public) and the head
    rewritten: a consistent chain, but not one written with the key."""
    url, store = anchored
    recompute(store, None)
    assert_fails(url, "audit entry 1: ")


def test_a_chain_recomputed_with_another_key_is_detected(anchored: tuple[str, Ledger]) -> None:
    url, store = anchored
    with store.engine.connect() as conn:
        key_id = conn.execute(text("SELECT key_id FROM audit_log WHERE seq = 1")).scalar_one()
    assert key_id
    recompute(store, os.urandom(32), key_id)  # claiming the real key's id
    assert_fails(url, "audit entry 1: content does not match its hash")
    recompute(store, os.urandom(32), "0badc0de")  # or naming a key nobody holds
    assert_fails(url, "0badc0de")
