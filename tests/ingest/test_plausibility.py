"""A year far above the entity's own history is a warning at import (issue 16): 120,000 typed
with unit MWh instead of kWh gives a 1,000x scope 2 that no one was told about.

The ledger: entity S (Guangdong) with 100 MWh of electricity in 2024. The rule of
``checks/data/plausibility.csv``: more than 10 times the largest other year is implausible.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from esgledger.domain.model import Entity, EntityKind
from esgledger.ingest.importer import import_file
from esgledger.store.ledger import Ledger

KEYS = ["entity_id", "year", "activity_type"]
HEADER = "record_id,entity_id,period,activity_type,quantity,unit,note\n"


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    opened = Ledger.open(tmp_path / "l.db")
    opened.init()
    opened.upsert_entities([Entity("S", "Site", kind=EntityKind.GROUP, region="CN-GD")])
    first = tmp_path / "2024.csv"
    first.write_text(
        HEADER + "a1,S,2024-01,electricity,60,MWh,\na2,S,2024-02,electricity,40,MWh,\n"
    )
    assert import_file(opened, first, kind="activity").ok
    yield opened
    opened.close()


def _import(ledger: Ledger, folder: Path, name: str, rows: str) -> list[str]:
    path = folder / name
    path.write_text(HEADER + rows, encoding="utf-8")
    report = import_file(ledger, path, kind="activity")
    assert report.ok and report.batch_id is not None  # a warning never stops the import
    return [str(d) for d in report.diagnostics if d.code == "plausibility"]


def test_a_unit_typed_wrongly_is_a_warning_that_names_the_arithmetic(
    ledger: Ledger, tmp_path: Path
) -> None:
    found = _import(ledger, tmp_path, "b.csv", "b1,S,2025-01,electricity,120000,MWh,\n")
    # 120,000 MWh / 100 MWh (2024: 60 + 40) = 1,200 times > 10
    assert found == [
        "b.csv:2:quantity: warning: S electricity 2025: 120,000 MWh is 1,200 times its "
        "largest other year (100 MWh in 2024; over 10 times is implausible): a unit typed "
        "wrongly? If the growth is real, say why in the records' note [plausibility]"
    ]


def test_the_same_quantity_in_kwh_is_plausible(ledger: Ledger, tmp_path: Path) -> None:
    # 120,000 kWh = 120 MWh: 1.2 times 2024
    assert _import(ledger, tmp_path, "c.csv", "c1,S,2025-01,electricity,120000,kWh,\n") == []


def test_the_year_is_judged_whole_with_what_the_ledger_holds(
    ledger: Ledger, tmp_path: Path
) -> None:
    # 2025 so far: 900 MWh (9x 2024, plausible); another 200 MWh makes 1,100 (11x). Yearly
    # records: no month to compare with 2024's months
    assert _import(ledger, tmp_path, "d.csv", "d1,S,2025,electricity,900,MWh,\n") == []
    found = _import(ledger, tmp_path, "e.csv", "e1,S,2025,electricity,200,MWh,\n")
    assert len(found) == 1 and "1,100 MWh is 11 times its largest other year" in found[0]


def test_a_month_far_above_the_same_month_of_other_years_is_a_warning(
    ledger: Ledger, tmp_path: Path
) -> None:
    """One monthly record with an extra zero, which the year's total hides: 2025 is 100 + 600
    = 700 MWh, 7 times 2024's 100 (plausible), but February is 600 / 40 = 15 times February
    2024. January 2025 (100 / 60 = 1.7 times) is not flagged."""
    rows = "m1,S,2025-01,electricity,100,MWh,\nm2,S,2025-02,electricity,600,MWh,\n"
    assert _import(ledger, tmp_path, "m.csv", rows) == [
        "m.csv:3:quantity: warning: S electricity 2025-02: 600 MWh is 15 times its largest "
        "other year's same month (40 MWh in 2024-02; over 10 times is implausible): a unit "
        "typed wrongly? If the growth is real, say why in the records' note [plausibility]"
    ]
    from esgledger import service  # noqa: PLC0415

    [found] = [f for f in service.check(ledger) if f.rule == "plausibility"]
    assert found.figures == (
        ("activity.electricity:2025-02", 600.0),
        ("activity.electricity:2024-02", 40.0),
    )


def test_a_month_of_a_year_that_jumps_is_not_flagged_again(ledger: Ledger, tmp_path: Path) -> None:
    # 2025-01 and 2025-02 in MWh for kWh: the year (130,000 / 100 = 1,300x) is one warning,
    # not three
    rows = "n1,S,2025-01,electricity,60000,MWh,\nn2,S,2025-02,electricity,70000,MWh,\n"
    [found] = _import(ledger, tmp_path, "n.csv", rows)
    assert "S electricity 2025: 130,000 MWh is 1,300 times its largest other year" in found


def test_a_new_month_is_judged_with_the_stored_records_of_that_month(
    ledger: Ledger, tmp_path: Path
) -> None:
    # February 2025 so far 300 MWh (7.5x 40); a second record of 200 MWh makes 500 (12.5x)
    assert _import(ledger, tmp_path, "p.csv", "p1,S,2025-02,electricity,300,MWh,\n") == []
    [found] = _import(ledger, tmp_path, "q.csv", "q1,S,2025-02,electricity,200,MWh,\n")
    assert "S electricity 2025-02: 500 MWh is 12 times" in found  # 12.5 printed as 12


def test_a_first_year_has_nothing_to_compare_with(ledger: Ledger, tmp_path: Path) -> None:
    assert _import(ledger, tmp_path, "f.csv", "f1,S,2025-01,natural_gas,99999,m3,\n") == []


def test_check_finds_the_same_jump_in_what_the_ledger_holds(ledger: Ledger, tmp_path: Path) -> None:
    from esgledger import service  # noqa: PLC0415

    assert [f for f in service.check(ledger) if f.rule == "plausibility"] == []
    _import(ledger, tmp_path, "b.csv", "b1,S,2025-01,electricity,120000,MWh,\n")
    [found] = [f for f in service.check(ledger) if f.rule == "plausibility"]
    assert (found.entity_id, found.year, found.metric_id) == ("S", 2025, "activity.electricity")
    assert found.figures == (
        ("activity.electricity:2025", 120_000.0),
        ("activity.electricity:2024", 100.0),
    )
    assert str(found).startswith("warning: 2025 S: S electricity 2025: 120,000 MWh is 1,200 times")
    # the earlier year is not implausible against the later one (it is far below, not above)
    assert [f.year for f in service.check(ledger, [2024]) if f.rule == "plausibility"] == []
    # a year without stored activity (the dashboard asks for any year): no finding, no error
    assert [f for f in service.check(ledger, [2031]) if f.rule == "plausibility"] == []


PERIOD = st.tuples(st.sampled_from(["A", "B"]), st.integers(2020, 2025), st.integers(1, 2))


@settings(max_examples=60, deadline=None)
@given(
    history=st.lists(
        st.tuples(PERIOD, st.floats(min_value=0, max_value=1e6, allow_nan=False)), max_size=12
    ),
    totals=st.lists(
        st.tuples(PERIOD, st.floats(min_value=0, max_value=1e9, allow_nan=False)),
        max_size=6,
        unique_by=lambda t: t[0],
    ),
    by_month=st.booleans(),
)
def test_the_rule_is_the_largest_other_year_times_ten(
    history: list[tuple[tuple[str, int, int], float]],
    totals: list[tuple[tuple[str, int, int], float]],
    by_month: bool,
) -> None:
    """The vectorised rule equals its definition: a key is flagged when its total is over 10
    times the largest total of its entity and type (and calendar month, for months) in any
    other year (ties: the earlier)."""
    from esgledger.checks.plausibility import MONTHS_OF, YEARS_OF, jumps  # noqa: PLC0415
    from esgledger.factors import load_library  # noqa: PLC0415

    keys = ["entity_id", "year", "month", "activity_type"] if by_month else KEYS

    def frame(rows: list[tuple[tuple[str, int, int], float]]) -> pd.DataFrame:
        data = pd.DataFrame(
            [(*p, q) for p, q in rows], columns=["entity_id", "year", "month", "quantity"]
        )
        data["activity_type"] = "electricity"
        summed = data[[*keys, "quantity"]].groupby(keys, as_index=False).sum()
        # text as the stored frames hold it (Arrow-backed): no operation may keep it as text
        return summed.astype({"entity_id": "string[pyarrow]", "activity_type": "string[pyarrow]"})

    past, now = frame(history), frame(totals)
    expected = set()
    for row in now.itertuples():
        same = past["entity_id"] == row.entity_id
        if by_month:
            same &= past["month"] == row.month
        others = past[same & (past["year"] != row.year)]
        if others.empty:
            continue
        top = float(others["quantity"].max())
        top_year = int(others.loc[others["quantity"] == top, "year"].min())
        if top > 0 and row.quantity / top > 10:
            expected.add((row.entity_id, int(row.year), top, top_year))
    within = MONTHS_OF if by_month else YEARS_OF
    found = jumps(now, past, load_library(), within)
    assert {(j.entity_id, j.year, j.top, j.top_year) for j in found} == expected
    assert all((j.month is not None) == by_month for j in found)


def test_the_history_summed_in_memory_is_the_ledgers_own(demo_ledger: Ledger) -> None:
    """``check`` sums the records the Book holds (the server holds them already); the import,
    which holds none, asks the database: both give the same table (276 demo records)."""
    from esgledger.book import Book  # noqa: PLC0415
    from esgledger.checks.plausibility import SUM_KEYS, activity_sums  # noqa: PLC0415

    records = Book(demo_ledger).inventory_input().records
    in_memory = activity_sums(records).sort_values(SUM_KEYS).reset_index(drop=True)
    stored = demo_ledger.activity_sums().sort_values(SUM_KEYS).reset_index(drop=True)
    assert len(records) == 276 and len(in_memory) == len(stored) > 0
    pd.testing.assert_frame_equal(
        in_memory[SUM_KEYS].astype(str), stored[SUM_KEYS].astype(str), check_dtype=False
    )
    assert in_memory["quantity"].tolist() == pytest.approx(stored["quantity"].tolist(), rel=1e-12)
    assert activity_sums(records.iloc[:0]).columns.tolist() == [*SUM_KEYS, "quantity"]
