"""A Book reads only the activity records appended since an earlier Book of its ledger, and
the records it holds are always those a whole read gives (book/book.py ``Book._records``).

Steps in any order: imports (appended), a record committed below the last ``rid`` (what a
PostgreSQL import that committed after a later one leaves), a record deleted and another
imported (as many records, other batches). After each, the current Book's records equal a
whole read of the ledger; only plain appends are read as such.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from itertools import count
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

import esgledger
from esgledger.book import current_book
from esgledger.domain.model import Entity, EntityKind
from esgledger.store import Ledger

_TAGS = count()
"""Unique file names and hashes across the examples of one ledger."""

ENTITIES = (
    Entity("G", "Group", kind=EntityKind.GROUP),
    Entity("S1", "One", parent_id="G", region="CN-BJ"),
)


def _activity(n: int, prefix: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "record_id": [f"{prefix}-{i}" for i in range(n)],
            "entity_id": "S1",
            "year": [2023 + i % 3 for i in range(n)],
            "month": pd.array([None if i % 4 == 0 else i % 12 + 1 for i in range(n)], "Int64"),
            "activity_type": "electricity",
            "quantity": [1000.0 + i for i in range(n)],
            "quantity_text": [f"{1000 + i}" for i in range(n)],
            "unit": "kWh",
            "region": [None if i % 3 == 0 else "CN-BJ" for i in range(n)],
            "data_quality": "measured",
            "note": [None if i % 2 else f"备注 {prefix}" for i in range(n)],
        }
    )


@pytest.fixture
def ledger(store_url: str) -> Iterator[Ledger]:
    with Ledger.open(store_url) as opened:
        opened.init()
        opened.upsert_entities(ENTITIES)
        yield opened


def _records(ledger: Ledger) -> pd.DataFrame:
    return current_book(ledger).inventory_input().records


def _below(ledger: Ledger, step: int) -> None:
    """A record committed with a ``rid`` below every other (with the version it moves)."""
    with ledger.engine.begin() as conn:
        batch = conn.execute(text("SELECT min(batch_id) FROM import_batch")).scalar_one()
        low = conn.execute(text("SELECT min(rid) FROM activity_record")).scalar_one() - 1
        conn.execute(
            text(
                "INSERT INTO activity_record (rid, record_id, entity_id, year, activity_type, "
                "quantity, quantity_text, unit, data_quality, source_kind, source_file, "
                "batch_id) VALUES (:rid, :rec, 'S1', 2024, 'electricity', 5.0, '5', 'kWh', "
                "'measured', 'file', 'late.csv', :batch)"
            ),
            {"rid": low, "rec": f"late-{step}-{next(_TAGS)}", "batch": batch},
        )
        conn.execute(text("UPDATE data_version SET counter = counter + 1 WHERE id = 1"))


def _replace(ledger: Ledger, step: int) -> None:
    """One record deleted, one imported: as many records as before."""
    with ledger.engine.begin() as conn:
        first = conn.execute(text("SELECT min(rid) FROM activity_record")).scalar_one()
        conn.execute(text("DELETE FROM activity_record WHERE rid = :rid"), {"rid": first})
    tag = f"r{step}-{next(_TAGS)}"
    ledger.write_batch("activity", f"{tag}.csv", f"sha-{tag}", activity=_activity(1, tag))


STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("import"), st.integers(0, 40)), st.sampled_from(["below", "replace"])
    ),
    min_size=1,
    max_size=6,
)


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=STEPS)
def test_a_book_holds_the_records_a_whole_read_gives(ledger: Ledger, steps: list[object]) -> None:
    start = len(_records(ledger))
    if start == 0:
        ledger.write_batch("activity", "first.csv", "sha-first", activity=_activity(30, "first"))
    _records(ledger)  # the Book the steps follow
    for i, step in enumerate(steps):
        tag = f"s{next(_TAGS)}"
        if step == "below":
            _below(ledger, i)
        elif step == "replace":
            _replace(ledger, i)
        else:
            assert isinstance(step, tuple)
            n = step[1]
            ledger.write_batch("activity", f"{tag}.csv", f"sha-{tag}", activity=_activity(n, tag))
        book = current_book(ledger)
        got = book.inventory_input().records
        pd.testing.assert_frame_equal(got, ledger.activity_frame())
        if isinstance(step, tuple):  # appended: only the new rows were read
            assert book.records_appended == step[1]
        else:  # changed below the last rid: read whole
            assert book.records_appended == 0


def test_a_skipped_book_hands_on_the_records_it_was_given(ledger: Ledger) -> None:
    """Versions that no one computed (data arriving faster than builds) still chain."""
    ledger.write_batch("activity", "a.csv", "sha-a", activity=_activity(20, "a"))
    assert len(_records(ledger)) == 20
    ledger.write_batch("activity", "b.csv", "sha-b", activity=_activity(7, "b"))
    current_book(ledger)  # made, never computed
    ledger.write_batch("activity", "c.csv", "sha-c", activity=_activity(5, "c"))
    book = current_book(ledger)
    pd.testing.assert_frame_equal(book.inventory_input().records, ledger.activity_frame())
    assert book.records_appended == 12  # 7 + 5 read; the first 20 taken from the first Book


def test_a_year_selection_is_read_whole(ledger: Ledger) -> None:
    ledger.write_batch("activity", "a.csv", "sha-a", activity=_activity(20, "a"))
    _records(ledger)
    ledger.write_batch("activity", "b.csv", "sha-b", activity=_activity(9, "b"))
    book = current_book(ledger)
    got = book.inventory_input((2024,)).records
    pd.testing.assert_frame_equal(got, ledger.activity_frame([2024]))
    assert book.records_appended == 0


def test_no_code_updates_or_deletes_an_activity_record() -> None:
    """The appended read rests on activity records never changing in place: the count check
    sees a deleted record, not an updated one. A restore makes a new epoch."""
    src = Path(esgledger.__file__).parent
    pattern = re.compile(
        r"(update|delete)\(\s*(ACTIVITY|TABLES\[\"activity_record\"\])\b"
        r"|(UPDATE|DELETE FROM)\s+activity_record",
        re.IGNORECASE,
    )
    found = [
        f"{path.relative_to(src)}:{n}"
        for path in src.rglob("*.py")
        if "migrations" not in path.parts
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if pattern.search(line)
    ]
    assert found == []
