"""Files holding ledger data are created readable and writable by their owner only (0600),
whatever the umask: the SQLite ledger and the ``-wal`` and ``-shm`` files SQLite makes beside
it, backups (and the SQLite file a backup is restored into)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from esgledger.domain.model import Entity, EntityKind
from esgledger.store.backup import backup, restore
from esgledger.store.engine import make_engine
from esgledger.store.ledger import Ledger

ENTITIES = (Entity("G", "Group Co", kind=EntityKind.GROUP),)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)  # os.stat


@pytest.fixture(autouse=True)
def open_umask() -> Iterator[None]:
    """The usual umask, under which a new file is world-readable (0644)."""
    before = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(before)


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    with Ledger.open(tmp_path / "data" / "ledger.db") as store:
        store.init()
        store.upsert_entities(list(ENTITIES))
        yield store


def test_a_new_ledger_and_its_wal_and_shm_files_are_0600(ledger: Ledger, tmp_path: Path) -> None:
    path = tmp_path / "data" / "ledger.db"
    with ledger.engine.connect() as conn:  # an open connection keeps the -wal and -shm files
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        found = {p.name: mode(p) for p in path.parent.iterdir()}
    assert found == {"ledger.db": 0o600, "ledger.db-wal": 0o600, "ledger.db-shm": 0o600}


def test_a_ledger_named_by_a_sqlite_url_is_0600(tmp_path: Path) -> None:
    path = tmp_path / "url.db"
    engine = make_engine(f"sqlite:///{path}")
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE t (x INTEGER)"))
    finally:
        engine.dispose()
    assert mode(path) == 0o600


def test_an_existing_ledger_keeps_its_mode(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    path.touch(mode=0o640)
    path.chmod(0o640)
    with Ledger.open(path) as store:
        store.init()
    assert mode(path) == 0o640


def test_a_backup_and_a_restored_ledger_are_0600(ledger: Ledger, tmp_path: Path) -> None:
    file = tmp_path / "backups" / "ledger-backup.db"
    backup(ledger, file)
    assert mode(file) == 0o600
    target = tmp_path / "restored.db"
    restore(file, target)
    assert mode(target) == 0o600
