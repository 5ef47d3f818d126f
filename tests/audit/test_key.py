"""The audit log's anchor outside the database: where the key and the checkpoints are, how they
are made (on first use, mode 0600), ledgers whose entries predate the key, key rotation,
automatic checkpoints (committed heads only), backups restored elsewhere, and the server
case (a key file must be named)."""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import stat
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Connection, delete, insert, select, text, update
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from esgledger import audit
from esgledger.cli import app
from esgledger.store import audit_log
from esgledger.store.audit_checkpoints import read_checkpoints
from esgledger.store.audit_key import (
    KEY_FILE_VARIABLE,
    AuditKeyError,
    anchor_of,
    key_id_of,
    signing_key,
)
from esgledger.store.audit_log import AUDIT, CHECKPOINT_EVERY, GENESIS, HEAD, entry_hash
from esgledger.store.backup import backup, restore
from esgledger.store.engine import alembic_config, write_transaction
from esgledger.store.ledger import Ledger

runner = CliRunner()


@pytest.fixture
def beside(monkeypatch: pytest.MonkeyPatch) -> None:
    """No key configured: the key and the checkpoints go beside an SQLite ledger."""
    monkeypatch.delenv(KEY_FILE_VARIABLE, raising=False)
    monkeypatch.delenv("ESGLEDGER_AUDIT_CHECKPOINTS", raising=False)


@pytest.fixture
def ledger(tmp_path: Path, beside: None) -> Iterator[Ledger]:
    store = Ledger.open(tmp_path / "ledger.db")
    store.init()
    yield store
    store.close()


def add(store: Ledger, n: int, *, each: bool = True) -> None:
    """``n`` entries, each committed on its own (or all in one transaction)."""
    if each:
        for i in range(n):
            with write_transaction(store.engine) as conn:
                audit.append(conn, "u", "touch", "thing", i)
        return
    with write_transaction(store.engine) as conn:
        for i in range(n):
            audit.append(conn, "u", "touch", "thing", i)


def lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# -- where, and made on first use -----------------------------------------------------------


def test_the_key_is_made_beside_the_ledger_on_first_use(tmp_path: Path, ledger: Ledger) -> None:
    key_file, checkpoints = (
        tmp_path / "ledger.db.audit-key",
        tmp_path / "ledger.db.audit-checkpoints",
    )
    result = audit.verify(ledger.engine)
    assert result.ok and result.key_id is None
    assert not key_file.exists()  # verification creates nothing
    add(ledger, 2)
    assert mode(key_file) == 0o600 and mode(checkpoints) == 0o600
    secret = bytes.fromhex(key_file.read_text().strip())
    assert len(secret) == 32
    key_id = hashlib.sha256(secret).hexdigest()[:8]
    with ledger.engine.connect() as conn:
        assert set(conn.scalars(select(AUDIT.c.key_id))) == {key_id}
    # the first keyed entry records where keyed entries begin
    first = lines(checkpoints)[0]
    assert (first["seq"], first["hash"], first["keyed_from"]) == (0, GENESIS, 1)
    result = audit.verify(ledger.engine)
    assert result.ok and result.key_id == key_id and result.keyed_from == 1
    assert result.notes == ()


def test_the_variables_name_the_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key_file, checkpoints = tmp_path / "keys" / "audit.key", tmp_path / "cp" / "head.jsonl"
    monkeypatch.setenv(KEY_FILE_VARIABLE, str(key_file))
    monkeypatch.setenv("ESGLEDGER_AUDIT_CHECKPOINTS", str(checkpoints))
    with Ledger.open(tmp_path / "l.db") as store:
        store.init()
        add(store, 1)
        assert audit.verify(store.engine).ok
    assert key_file.exists() and checkpoints.exists()
    assert not list(tmp_path.glob("l.db.audit-*"))


def test_a_server_ledger_needs_a_named_key_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    url = make_url("postgresql+psycopg://esg@db.example:5433/ledger")
    monkeypatch.delenv(KEY_FILE_VARIABLE, raising=False)
    monkeypatch.delenv("ESGLEDGER_AUDIT_CHECKPOINTS", raising=False)
    with pytest.raises(AuditKeyError, match=KEY_FILE_VARIABLE):
        signing_key(anchor_of(url))
    monkeypatch.setenv(KEY_FILE_VARIABLE, str(tmp_path / "server.key"))
    anchor = anchor_of(url)
    assert anchor.checkpoints == tmp_path / "ledger@db.example-5433.audit-checkpoints"
    assert anchor.key_file == tmp_path / "server.key"
    made = signing_key(anchor)  # created on first use
    assert made.key_id == key_id_of(bytes.fromhex(anchor.key_file.read_text()))


def test_appending_on_a_server_without_a_key_file_is_refused(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(KEY_FILE_VARIABLE, raising=False)
    with Ledger.open(pg_url) as store:
        store.init()
        with pytest.raises(AuditKeyError, match=KEY_FILE_VARIABLE):
            add(store, 1)
        assert audit.verify(store.engine).entries == 0  # the change rolled back with it


def test_a_malformed_key_file_is_named(tmp_path: Path, ledger: Ledger) -> None:
    (tmp_path / "ledger.db.audit-key").write_text("not a key\n")
    with pytest.raises(AuditKeyError, match="not an audit key"):
        add(ledger, 1)


# -- entries from before the key ------------------------------------------------------------


def _legacy(conn: Connection, n: int) -> None:
    """``n`` entries as the log wrote them before it had a key: plain SHA-256, no key id."""
    prev = GENESIS
    for seq in range(1, n + 1):
        entry = {
            "seq": seq,
            "at": datetime(2025, 1, 1, 0, 0, seq),
            "actor": "old",
            "action": "touch",
            "object_type": "thing",
            "object_id": str(seq),
            "entity_id": None,
            "before": None,
            "after": None,
            "prev_hash": prev,
        }
        entry["hash"] = prev = entry_hash(entry)
        conn.execute(insert(AUDIT).values(**entry))
    conn.execute(insert(HEAD).values(id=1, seq=n, hash=prev))


def test_a_ledger_written_before_the_key_keeps_verifying(tmp_path: Path, beside: None) -> None:
    path = tmp_path / "old.db"
    with Ledger.open(path) as store:
        with store.engine.begin() as conn:
            command.upgrade(alembic_config(connection=conn), "0010")
            _legacy(conn, 4)
        store.init()  # 0011: the key id column, NULL for the old entries
        result = audit.verify(store.engine)
        assert result.ok and result.keyed_from is None
        assert "4 entries from before the audit key are plain SHA-256" in result.notes
        add(store, 3)
        result = audit.verify(store.engine)
        assert result.ok, [str(p) for p in result.problems]
        assert (result.entries, result.keyed_from) == (7, 5)
        first = lines(Path(f"{path}.audit-checkpoints"))[0]
        assert (first["seq"], first["key_id"], first["keyed_from"]) == (4, None, 5)
        # an old entry edited: still seen (its plain hash)
        with store.engine.begin() as conn:
            conn.execute(update(AUDIT).where(AUDIT.c.seq == 2).values(actor="mallory"))
        assert [p.seq for p in audit.verify(store.engine).problems] == [2]


def test_plain_entries_after_keyed_ones_are_refused_without_checkpoints(
    tmp_path: Path, ledger: Ledger
) -> None:
    """Even with the checkpoint file gone, a plain SHA-256 entry after a keyed one is a
    recomputation: the key never goes back to none."""
    add(ledger, 4)
    Path(f"{tmp_path / 'ledger.db'}.audit-checkpoints").unlink()
    with ledger.engine.begin() as conn:
        rows = [dict(r) for r in conn.execute(select(AUDIT).order_by(AUDIT.c.seq)).mappings()]
        prev = rows[1]["hash"]
        conn.execute(delete(AUDIT).where(AUDIT.c.seq > 2))
        for row in rows[2:]:
            row.update(prev_hash=prev, key_id=None)
            row["hash"] = prev = entry_hash(row)
            conn.execute(insert(AUDIT).values(**row))
        conn.execute(update(HEAD).values(seq=4, hash=prev))
    result = audit.verify(ledger.engine)
    assert [(p.seq, "recomputed without the audit key" in p.message) for p in result.problems] == [
        (3, True)
    ]
    assert any("does not exist" in note for note in result.notes)


# -- key rotation and another key -----------------------------------------------------------


def test_a_rotated_key_keeps_the_older_entries(tmp_path: Path, ledger: Ledger) -> None:
    key_file = tmp_path / "ledger.db.audit-key"
    add(ledger, 2)
    old = key_file.read_text()
    new_secret = bytes(range(32))
    key_file.write_text(old + "# rotated\n" + new_secret.hex() + "\n")
    add(ledger, 2)
    with ledger.engine.connect() as conn:
        ids = list(conn.scalars(select(AUDIT.c.key_id).order_by(AUDIT.c.seq)))
    assert ids[2:] == [key_id_of(new_secret)] * 2 and ids[0] != ids[2]
    assert audit.verify(ledger.engine).ok
    key_file.write_text(new_secret.hex() + "\n")  # the old key lost
    problems = audit.verify(ledger.engine).problems
    assert len(problems) == 1
    assert problems[0].seq == 1
    assert f"2 entries from here were written with audit key {ids[0]}" in problems[0].message
    assert "another key" in problems[0].message


# -- checkpoints ----------------------------------------------------------------------------


def test_checkpoints_are_written_every_few_entries(tmp_path: Path, ledger: Ledger) -> None:
    add(ledger, CHECKPOINT_EVERY + 5)
    seqs = [c["seq"] for c in lines(tmp_path / "ledger.db.audit-checkpoints")]
    assert seqs == [0, CHECKPOINT_EVERY]
    assert audit.verify(ledger.engine).checkpoints == 2


def test_only_committed_heads_are_checkpointed(tmp_path: Path, ledger: Ledger) -> None:
    """Entries of one transaction are checkpointed by the next transaction's first append,
    never while uncommitted: a rolled-back transaction leaves only true checkpoints."""
    checkpoints = tmp_path / "ledger.db.audit-checkpoints"
    add(ledger, CHECKPOINT_EVERY + 3, each=False)
    assert [c["seq"] for c in lines(checkpoints)] == [0]
    with pytest.raises(RuntimeError), write_transaction(ledger.engine) as conn:
        audit.append(conn, "u", "touch", "thing", "x")
        raise RuntimeError("roll back")
    assert [c["seq"] for c in lines(checkpoints)] == [0, CHECKPOINT_EVERY + 3]
    add(ledger, 1)
    result = audit.verify(ledger.engine)
    assert result.ok and result.entries == CHECKPOINT_EVERY + 4


def test_a_quiet_ledger_is_checkpointed_after_a_while(
    tmp_path: Path, ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(audit_log, "CHECKPOINT_AFTER", timedelta(0))
    add(ledger, 4)
    assert [c["seq"] for c in lines(tmp_path / "ledger.db.audit-checkpoints")] == [0, 1, 2, 3]


def test_an_unwritable_checkpoint_file_does_not_stop_writes(
    tmp_path: Path,
    ledger: Ledger,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("ESGLEDGER_AUDIT_CHECKPOINTS", str(tmp_path))  # a folder
    with caplog.at_level(logging.WARNING):
        add(ledger, 2)
    assert "audit checkpoint not written" in caplog.text
    result = audit.verify(ledger.engine)
    assert result.entries == 2
    assert [str(p) for p in result.problems] == [
        f"audit log: cannot read {tmp_path}: Is a directory"
    ]


def test_unreadable_checkpoint_lines_are_noted(tmp_path: Path, ledger: Ledger) -> None:
    add(ledger, 2)
    with (tmp_path / "ledger.db.audit-checkpoints").open("a") as file:
        file.write('{"seq": 9, "hash"')  # a write cut short
    result = audit.verify(ledger.engine)
    assert result.ok
    assert any("unreadable lines ignored (2)" in note for note in result.notes)


def test_the_checkpoint_command_refuses_a_broken_chain(tmp_path: Path, ledger: Ledger) -> None:
    add(ledger, 3)
    with ledger.engine.begin() as conn:
        conn.execute(update(AUDIT).where(AUDIT.c.seq == 2).values(actor="mallory"))
    before = (tmp_path / "ledger.db.audit-checkpoints").read_text()
    result = runner.invoke(app, ["audit", "checkpoint", "--ledger", str(tmp_path / "ledger.db")])
    assert result.exit_code == 1
    assert "not checkpointed" in result.stderr
    assert (tmp_path / "ledger.db.audit-checkpoints").read_text() == before


# -- backups --------------------------------------------------------------------------------


def test_a_restored_ledger_verifies_with_the_same_key_file(
    tmp_path: Path, ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "ledger.db"
    add(ledger, CHECKPOINT_EVERY + 2)
    file = tmp_path / "backup.db"
    backup(ledger, file)
    # restored elsewhere with the key file named: verifies; no checkpoints there, noted
    monkeypatch.setenv(KEY_FILE_VARIABLE, f"{source}.audit-key")
    restore(file, tmp_path / "named.db")
    with Ledger.open(tmp_path / "named.db") as named:
        result = audit.verify(named.engine)
        assert result.ok, [str(p) for p in result.problems]
        assert any("does not exist" in note for note in result.notes)
    # restored with its key and checkpoint files copied beside it: compared with them too
    monkeypatch.delenv(KEY_FILE_VARIABLE)
    target = tmp_path / "copied.db"
    for suffix in (".audit-key", ".audit-checkpoints"):
        shutil.copy(f"{source}{suffix}", f"{target}{suffix}")
    restore(file, target)
    with Ledger.open(target) as copied:
        result = audit.verify(copied.engine)
        assert result.ok and result.checkpoints == 2 and result.notes == ()
        with copied.engine.begin() as conn:  # the tail deleted in the restored copy
            conn.execute(text(f"DELETE FROM audit_log WHERE seq > {CHECKPOINT_EVERY - 1}"))
            conn.execute(update(HEAD).values(seq=CHECKPOINT_EVERY - 1, hash=_hash(conn)))
        assert not audit.verify(copied.engine).ok


def _hash(conn: Connection) -> str:
    return str(conn.scalar(select(AUDIT.c.hash).order_by(AUDIT.c.seq.desc()).limit(1)))


def test_a_restored_ledger_without_its_key_names_the_key(tmp_path: Path, ledger: Ledger) -> None:
    add(ledger, 3)
    key_id = audit.verify(ledger.engine).key_id
    file = tmp_path / "backup.db"
    backup(ledger, file)
    target = tmp_path / "elsewhere" / "restored.db"
    target.parent.mkdir()
    restore(file, target)
    with Ledger.open(target) as restored:
        problems = audit.verify(restored.engine).problems
        assert [p.seq for p in problems] == [1]
        assert f"audit key {key_id}" in problems[0].message
        assert "does not exist" in problems[0].message
        add(restored, 1)  # a new key is made beside it: the old entries still need theirs
        assert not audit.verify(restored.engine).ok
        key_file = Path(f"{target}.audit-key")
        old = (tmp_path / "ledger.db.audit-key").read_text()
        key_file.write_text(old + key_file.read_text())  # the old key added back
        assert audit.verify(restored.engine).ok
    found = read_checkpoints(Path(f"{target}.audit-checkpoints"))
    assert found is not None and found[0][0].keyed_from is not None
