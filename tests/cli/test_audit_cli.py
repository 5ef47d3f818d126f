"""`esgledger audit verify` and `audit head` on a ledger tampered with by raw SQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Connection, text
from typer.testing import CliRunner

from esgledger import audit
from esgledger.cli import app
from esgledger.store.ledger import Ledger

runner = CliRunner()
ENTRIES = 5


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), terminal_width=200)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def ledger(store_url: str) -> Iterator[tuple[str, Ledger]]:
    """A ledger with five audit entries, and its ``--ledger`` value."""
    store = Ledger.open(Path(store_url) if "://" not in store_url else store_url)
    store.init()
    with store.engine.begin() as conn:
        for i in range(1, ENTRIES + 1):
            audit.append(conn, "alice", "set_value", "request", i, entity_id="S01", after={"v": i})
    yield store_url, store
    store.close()


def sql(store: Ledger, statement: str, **values: object) -> None:
    with store.engine.begin() as conn:
        conn.execute(text(statement), values)


def _hash(conn: Connection, seq: int) -> str:
    return str(conn.execute(text(f"SELECT hash FROM audit_log WHERE seq = {seq}")).scalar_one())


def rewrite_head(store: Ledger) -> None:
    """Delete the last entry and point the head at the one before: consistent in the DB."""
    with store.engine.begin() as conn:
        conn.execute(text(f"DELETE FROM audit_log WHERE seq = {ENTRIES}"))
        conn.execute(
            text("UPDATE audit_head SET seq = :seq, hash = :hash"),
            {"seq": ENTRIES - 1, "hash": _hash(conn, ENTRIES - 1)},
        )


def swap(store: Ledger) -> None:
    """Exchange the contents of entries 2 and 4 (hashes included): a reordering."""
    columns = ("at", "actor", "action", "object_type", "object_id", "entity_id", "before")
    cols = ", ".join(f'"{c}"' for c in (*columns, "after", "prev_hash", "hash"))
    with store.engine.begin() as conn:
        two = conn.execute(text(f"SELECT {cols} FROM audit_log WHERE seq = 2")).one()._asdict()
        four = conn.execute(text(f"SELECT {cols} FROM audit_log WHERE seq = 4")).one()._asdict()
        conn.execute(text("UPDATE audit_log SET hash = 'parked' WHERE seq = 2"))
        assign = ", ".join(f'"{c}" = :{c}' for c in two)
        conn.execute(text(f"UPDATE audit_log SET {assign} WHERE seq = 4"), two)
        conn.execute(text(f"UPDATE audit_log SET {assign} WHERE seq = 2"), four)


TAMPERINGS: dict[str, tuple[Callable[[Ledger], None], str]] = {
    "edit after": (
        lambda s: sql(s, 'UPDATE audit_log SET "after" = :v WHERE seq = 3', v='{"v":99}'),
        "audit entry 3: content does not match its hash",
    ),
    "delete a middle entry": (
        lambda s: sql(s, "DELETE FROM audit_log WHERE seq = 3"),
        "audit entry 4: sequence jumps from 2 to 4",
    ),
    "delete the last entry": (
        lambda s: sql(s, f"DELETE FROM audit_log WHERE seq = {ENTRIES}"),
        f"the log ends at entry {ENTRIES - 1} but the head records entry {ENTRIES}",
    ),
    "swap two entries": (swap, "audit entry 2: "),
}


def test_intact_ledger_verifies(ledger: tuple[str, Ledger]) -> None:
    url, _ = ledger
    code, out, _err = run("audit", "verify", "--ledger", url)
    assert code == 0
    assert f"audit log intact: {ENTRIES} entries, head {ENTRIES}" in out


@pytest.mark.parametrize("name", sorted(TAMPERINGS))
def test_tampering_fails_verification_naming_the_entry(
    ledger: tuple[str, Ledger], name: str
) -> None:
    url, store = ledger
    tamper, message = TAMPERINGS[name]
    tamper(store)
    code, _out, err = run("audit", "verify", "--ledger", url)
    assert code == 1
    assert message in err
    assert "problem(s)" in err


def test_a_rewritten_head_is_caught_with_the_saved_head(ledger: tuple[str, Ledger]) -> None:
    url, store = ledger
    code, out, _ = run("audit", "head", "--ledger", url)
    assert code == 0
    saved = out.strip()
    seq, _, digest = saved.partition(":")
    assert seq == str(ENTRIES)
    assert len(digest) == 64
    assert run("audit", "verify", "--ledger", url, "--expect", saved)[0] == 0
    rewrite_head(store)
    assert run("audit", "verify", "--ledger", url)[0] == 0  # consistent inside the database
    code, _out, err = run("audit", "verify", "--ledger", url, "--expect", saved)
    assert code == 1
    assert f"entry {ENTRIES} does not have the saved hash {digest[:12]}" in err


def test_a_malformed_expect_is_refused(ledger: tuple[str, Ledger]) -> None:
    url, _ = ledger
    for bad in ("5", "x:" + "0" * 64, "5:abc"):
        code, _out, err = run("audit", "verify", "--ledger", url, "--expect", bad)
        assert code == 2
        assert "SEQ:HASH" in err


def test_show_lists_the_newest_entries(ledger: tuple[str, Ledger]) -> None:
    url, _ = ledger
    code, out, _ = run("audit", "show", "--ledger", url, "--limit", "2")
    assert code == 0
    lines = out.strip().splitlines()
    assert [line.split()[0] for line in lines] == [str(ENTRIES), str(ENTRIES - 1)]
