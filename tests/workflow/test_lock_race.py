"""A period lock and a write that found the year open cannot interleave on PostgreSQL.

Under READ COMMITTED a batch that checked its year was open, and has not written yet, could
otherwise write into the year after the committee locked it. Each year's advisory lock
is held shared by a writer from its check and exclusively by the lock: the lock waits for the
batch to commit, a batch starting during a lock waits and is then refused. (SQLite serialises
writers with ``BEGIN IMMEDIATE``.)"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Connection

from esgledger.auth.accounts import operator
from esgledger.domain.model import Entity, EntityKind
from esgledger.store import periods as store
from esgledger.store.engine import write_transaction
from esgledger.store.ledger import Ledger, PeriodLockedError
from esgledger.workflow import periods

RECORD = pd.DataFrame(
    [
        {
            "record_id": "R1",
            "entity_id": "G",
            "year": 2025,
            "activity_type": "electricity",
            "quantity": 1.0,
            "quantity_text": "1",
            "unit": "MWh",
            "data_quality": "measured",
        }
    ]
)


def opened(url: str) -> Ledger:
    ledger = Ledger.open(url)
    ledger.init()
    ledger.upsert_entities([Entity("G", "Group", kind=EntityKind.GROUP)])
    return ledger


def test_a_lock_waits_for_a_batch_that_found_the_year_open(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = opened(pg_url)
    order: list[str] = []
    checked = threading.Event()
    check = Ledger._locked

    def check_then_pause(conn: Connection, years: Iterable[int]) -> list[int]:
        found = check(conn, years)
        checked.set()  # the year is open and nothing is written yet: the lock starts now
        time.sleep(1.0)
        return found

    monkeypatch.setattr(Ledger, "_locked", staticmethod(check_then_pause))

    def batch() -> None:
        ledger.write_batch("activity", "a.csv", "a" * 64, activity=RECORD)
        order.append("batch committed")

    writer = threading.Thread(target=batch)
    writer.start()
    assert checked.wait(10)
    periods.lock_period(ledger.engine, operator("admin"), 2025, force=True)
    order.append("locked")
    writer.join(10)
    # without the year's advisory lock the lock commits during the pause, then the batch
    # writes its 2025 rows into the locked year
    assert order == ["batch committed", "locked"]
    assert list(ledger.activity_frame([2025])["record_id"]) == ["R1"]
    ledger.close()


def test_a_batch_during_a_lock_waits_and_is_refused(pg_url: str) -> None:
    ledger = opened(pg_url)
    refused: list[BaseException] = []
    held = threading.Event()

    def batch() -> None:
        assert held.wait(10)
        try:
            ledger.write_batch("activity", "b.csv", "b" * 64, activity=RECORD)
        except PeriodLockedError as exc:
            refused.append(exc)

    writer = threading.Thread(target=batch)
    writer.start()
    with write_transaction(ledger.engine) as conn:  # the committee's transaction, held open
        store.guard_years(conn, [2025], exclusive=True)
        held.set()
        time.sleep(0.5)  # the batch checks meanwhile: it must wait, not see the year open
        store.insert_lock(conn, 2025, "admin", None)
    writer.join(10)
    assert [type(e) for e in refused] == [PeriodLockedError]
    assert ledger.activity_frame([2025]).empty
    ledger.close()


@pytest.mark.parametrize("exclusive", [False, True])
def test_the_guard_does_nothing_on_sqlite(tmp_path: Path, exclusive: bool) -> None:
    ledger = opened(str(tmp_path / "l.db"))
    with write_transaction(ledger.engine) as conn:
        store.guard_years(conn, [2025], exclusive=exclusive)
        assert not store.year_locked(conn, 2025)
    ledger.close()
