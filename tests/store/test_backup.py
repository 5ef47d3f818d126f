"""Backups and restores between SQLite and PostgreSQL (the PostgreSQL cases run when
``ESGLEDGER_TEST_PG_URL`` is set: see tests/conftest.py and scripts/ci_postgres.sh).

Every table is compared row by row, exactly: the demo ledger's rows, plus two rows in each table
the demo leaves empty, made from the column types (bytes, microsecond times, dates, booleans,
NULLs, floats that are not short decimals, quotes and Chinese text), so that tables added by
later migrations are covered without being named here.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable
from contextlib import closing
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from alembic import command
from sqlalchemy import (
    Boolean,
    Connection,
    Date,
    DateTime,
    Float,
    Integer,
    LargeBinary,
    Table,
    delete,
    func,
    insert,
    inspect,
    select,
)

from esgledger import audit
from esgledger.demo import build_demo
from esgledger.domain.model import Entity, EntityKind
from esgledger.store import backup as backup_module
from esgledger.store.backup import BackupError, backup, read_info, restore, verify
from esgledger.store.engine import alembic_config
from esgledger.store.ledger import Ledger
from esgledger.store.models import Base

KINDS = ["sqlite", "postgresql"] if os.environ.get("ESGLEDGER_TEST_PG_URL") else ["sqlite"]
ENTITIES = (
    Entity("G", "Group Co", kind=EntityKind.GROUP),
    Entity("S1", "Sub One", parent_id="G", region="CN-BJ"),
)


def _value(table: Table, column: Any, i: int, conn: Connection) -> Any:
    """Row ``i`` (0 or 1) of a column: a referenced key, or a value of the column's type."""
    if column.foreign_keys:
        target = next(iter(column.foreign_keys)).column
        keys = conn.scalars(select(target).order_by(target)).all()
        assert keys, f"{table.name}.{column.name}: {target.table.name} has no rows"
        return keys[i % len(keys)]
    if column.nullable and not column.primary_key and i == 1:
        return None
    kind = column.type
    if isinstance(kind, Boolean):
        value: Any = i == 0
    elif isinstance(kind, Integer):
        value = i + 1
    elif isinstance(kind, Float):
        value = [0.1 + 0.2, -1 / 3][i]
    elif isinstance(kind, DateTime):
        value = datetime(2024, 2, 29, 23, 59, 58, 123456) + timedelta(seconds=i, microseconds=i)
    elif isinstance(kind, Date):
        value = date(2024, 2, 29) + timedelta(days=i)
    elif isinstance(kind, LargeBinary):
        value = bytes(range(256)) + bytes([i]) + b"\x00"
    else:
        value = f"{table.name}.{column.name} {i}: 值 'quoted' \"double\" \\ \n end"
    return value


def _fill_empty_tables(target: str | Path) -> None:
    """Two rows in every table of the models that has none (autoincrement keys left to the
    database, so that its sequences move)."""
    with Ledger.open(target) as ledger, ledger.engine.begin() as conn:
        for table in Base.metadata.sorted_tables:
            if conn.scalar(select(func.count()).select_from(table)):
                continue
            rows = [
                {
                    c.name: _value(table, c, i, conn)
                    for c in table.columns
                    if c is not table.autoincrement_column
                }
                for i in range(2)
            ]
            conn.execute(insert(table), rows)


def _dump(target: str | Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows (model column order), sorted by primary key."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    with Ledger.open(target) as ledger, ledger.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            keys = [list(table.columns).index(c) for c in table.primary_key.columns]
            rows = [tuple(r) for r in conn.execute(select(table))]
            out[table.name] = sorted(rows, key=lambda r: tuple(r[k] for k in keys))
    return out


def _activity(n: int, prefix: str, entity: str = "S1") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "record_id": [f"{prefix}{i}" for i in range(n)],
            "entity_id": entity,
            "year": np.full(n, 2024, dtype="int64"),
            "month": pd.array([i % 12 + 1 for i in range(n)], dtype="Int64"),
            "activity_type": "electricity",
            "quantity": [1000.5 + i / 7 for i in range(n)],
            "quantity_text": [f"{1000.5 + i / 7}" for i in range(n)],
            "unit": "kWh",
            "region": "CN-BJ",
            "region_text": "北京市",
            "data_quality": "measured",
            "activity_date": [None] * n,
            "instrument_id": [None] * n,
            "ef_value": np.nan,
            "ef_unit": None,
            "note": None,
            "source_kind": "file",
            "source_file": "a.csv",
            "source_row": pd.array([i + 2 for i in range(n)], dtype="Int64"),
            "source_user": None,
        }
    )


@pytest.fixture
def location(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[str, str], str]:
    """``location(kind, name)``: a new SQLite file path or a new PostgreSQL database URL."""

    def make(kind: str, name: str) -> str:
        if kind == "sqlite":
            return str(tmp_path / f"{name}.db")
        return str(request.getfixturevalue("new_pg_database")())

    return make


def _demo_at(kind: str, location: Callable[[str, str], str], demo_ledger_path: Path) -> str:
    target = location(kind, "source")
    if kind == "sqlite":
        shutil.copy(demo_ledger_path, target)
    else:
        ledger, reports = build_demo(target)  # type: ignore[arg-type]
        ledger.close()
        assert all(r.ok for r in reports)
    return target


@pytest.mark.parametrize("target_kind", KINDS)
@pytest.mark.parametrize("source_kind", KINDS)
def test_round_trip_keeps_every_row_of_every_table(
    source_kind: str,
    target_kind: str,
    location: Callable[[str, str], str],
    demo_ledger_path: Path,
    tmp_path: Path,
) -> None:
    source = _demo_at(source_kind, location, demo_ledger_path)
    _fill_empty_tables(source)
    expected = _dump(source)
    assert all(expected.values()), [name for name, rows in expected.items() if not rows]

    file = tmp_path / "backup" / "ledger-backup.db"
    info = backup(source, file)
    assert info.source_dialect == source_kind
    assert info.rows == {name: len(rows) for name, rows in expected.items()}
    assert read_info(file) == info and verify(file) == info
    assert not list(file.parent.glob(".*partial*"))

    target = location(target_kind, "target")
    restored = restore(file, target)
    assert restored.tables == info.tables and restored.revision == info.revision
    assert not restored.replaced
    assert _dump(target) == expected

    with Ledger.open(target) as ledger:
        assert ledger.is_initialised()
        assert audit.verify(ledger.engine).ok  # the hash chain survives: times are exact
        # sequences were moved past the restored keys: new rows get new ones
        batches = ledger.batches()["batch_id"].tolist()
        batch = ledger.write_batch(
            "activity", "later.csv", "sha-later", activity=_activity(2, "L", "S01")
        )
        assert batch == max(batches) + 1
        ledger.set_parameter("later", None, 1.0, "1", "test")


def test_backup_while_another_thread_writes_is_consistent(tmp_path: Path) -> None:
    path = tmp_path / "busy.db"
    with Ledger.open(path) as ledger:
        ledger.init()
        ledger.upsert_entities(ENTITIES)
    stop = threading.Event()
    written: list[int] = []
    failures: list[BaseException] = []

    def writer() -> None:
        try:
            with Ledger.open(path) as busy:
                while not stop.is_set():
                    n = len(written)
                    busy.write_batch(
                        "activity", f"b{n}.csv", f"sha-{n}", activity=_activity(300, f"b{n}-")
                    )
                    written.append(n)
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)

    thread = threading.Thread(target=writer)
    thread.start()
    counts = []
    try:
        deadline = time.monotonic() + 60
        while len(written) < 3 and time.monotonic() < deadline and not failures:
            time.sleep(0.01)
        for k in range(3):
            before = len(written)
            file = tmp_path / f"backup-{k}.db"
            info = verify(backup(path, file).path)
            assert thread.is_alive()
            batches = info.rows["import_batch"]
            assert batches >= before
            assert info.rows["activity_record"] == 300 * batches
            with closing(sqlite3.connect(file)) as conn:
                assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
                assert conn.execute("PRAGMA journal_mode").fetchone() == ("delete",)
                partial = conn.execute(
                    "SELECT b.batch_id FROM import_batch b LEFT JOIN activity_record a "
                    "USING (batch_id) GROUP BY b.batch_id HAVING count(a.rid) != max(b.rows)"
                ).fetchall()
                assert partial == []
            assert not Path(f"{file}-wal").exists()
            with Ledger.open(file) as copy:
                assert audit.verify(copy.engine).ok
            counts.append(batches)
            while len(written) <= batches and time.monotonic() < deadline and not failures:
                time.sleep(0.01)  # the next backup sees more batches
    finally:
        stop.set()
        thread.join()
    assert not failures, failures
    assert counts == sorted(set(counts))  # each taken while the writer kept writing
    assert len(written) > counts[-1]


def test_restore_refuses_a_ledger_with_rows_unless_forced(
    store_url: str, demo_ledger_path: Path, tmp_path: Path
) -> None:
    file = backup(demo_ledger_path, tmp_path / "demo-backup.db").path
    with Ledger.open(store_url) as ledger:
        ledger.init()
        ledger.upsert_entities([Entity("X", "Another group", kind=EntityKind.GROUP)])
    with pytest.raises(BackupError, match=r"not empty \(entity \(1 rows\)\).*--force"):
        restore(file, store_url)
    with Ledger.open(store_url) as ledger:
        assert [e.entity_id for e in ledger.organisation()] == ["X"]
    info = restore(file, store_url, force=True)
    assert info.replaced
    assert _dump(store_url) == _dump(demo_ledger_path)

    empty = tmp_path / "initialised.db"  # a ledger without rows counts as empty
    with Ledger.open(empty) as ledger:
        ledger.init()
    assert restore(file, empty).rows == info.rows


def _edit(file: Path, sql: str) -> None:
    with closing(sqlite3.connect(file)) as conn:
        conn.execute(sql)
        conn.commit()


def _tables(target: str) -> list[str]:
    with Ledger.open(target) as ledger:
        return inspect(ledger.engine).get_table_names()


def test_an_edited_backup_fails_verification_and_writes_nothing(
    store_url: str, demo_ledger_path: Path, tmp_path: Path
) -> None:
    file = backup(demo_ledger_path, tmp_path / "backup.db").path
    _edit(file, "UPDATE activity_record SET quantity = quantity + 1e-9 WHERE rid = 7")
    with pytest.raises(BackupError, match=r"verification failed: activity_record: rows differ"):
        verify(file)
    with pytest.raises(BackupError, match="activity_record: rows differ"):
        restore(file, store_url)
    assert _tables(store_url) == []

    file = backup(demo_ledger_path, tmp_path / "backup-2.db").path
    _edit(file, "DELETE FROM setting WHERE key = (SELECT min(key) FROM setting)")
    with pytest.raises(BackupError, match=r"setting: 5 rows, the backup says 6"):
        restore(file, store_url)


def test_a_restore_that_differs_from_its_backup_is_rolled_back(
    store_url: str, demo_ledger_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    file = backup(demo_ledger_path, tmp_path / "backup.db").path
    keep = backup_module._reset_sequences

    def lossy(conn: Connection, tables: Any) -> None:
        keep(conn, tables)
        conn.execute(
            delete(Base.metadata.tables["setting"]).where(
                Base.metadata.tables["setting"].c.key == "base_year"
            )
        )

    monkeypatch.setattr(backup_module, "_reset_sequences", lossy)
    with pytest.raises(BackupError, match=r"restore into .*verification failed: setting: 5 rows"):
        restore(file, store_url)
    assert _tables(store_url) == []


def test_unknown_revision_format_and_files_are_refused(
    demo_ledger_path: Path, tmp_path: Path
) -> None:
    file = backup(demo_ledger_path, tmp_path / "backup.db").path
    with pytest.raises(BackupError, match="never overwrites"):
        backup(demo_ledger_path, file)
    with pytest.raises(BackupError, match="no ledger here"):
        backup(tmp_path / "missing.db", tmp_path / "other.db")
    assert not (tmp_path / "missing.db").exists() and not (tmp_path / "other.db").exists()
    with pytest.raises(BackupError, match="no such backup file"):
        restore(tmp_path / "missing.db", tmp_path / "target.db")
    with pytest.raises(BackupError, match="not an esgledger backup"):
        restore(demo_ledger_path, tmp_path / "target.db")

    _edit(file, "UPDATE backup_meta SET value = '9999' WHERE key = 'alembic_revision'")
    with pytest.raises(BackupError, match="revision 9999, which this esgledger does not know"):
        restore(file, tmp_path / "target.db")
    _edit(file, "UPDATE backup_meta SET value = '2' WHERE key = 'format_version'")
    with pytest.raises(BackupError, match="backup format 2"):
        read_info(file)


def test_a_postgresql_ledger_behind_the_code_is_not_backed_up(pg_url: str, tmp_path: Path) -> None:
    with Ledger.open(pg_url) as ledger, ledger.engine.begin() as conn:
        command.upgrade(alembic_config(connection=conn), "0003")
    with pytest.raises(BackupError, match=r"revision 0003, not .*esgledger init"):
        backup(pg_url, tmp_path / "old.db")
    assert not (tmp_path / "old.db").exists()
