"""The bulk record reads of PostgreSQL through Arrow (store/arrow_read.py) give exactly the
pandas reader's frames (run with ESGLEDGER_TEST_PG_URL, as CI does); SQLite keeps the pandas
reader.

The frames put 1,100 rows of NULLs before the first value of every nullable column (a reader
inferring types from its first batch of 1,024 rows would read them wrong), and text of every
kind (Chinese, quotes, separators, line breaks, empty strings).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from esgledger.domain.model import Entity, EntityKind
from esgledger.store import Ledger, arrow_read, frames

ENTITIES = (
    Entity("G", "Group", kind=EntityKind.GROUP),
    Entity("S1", "One", parent_id="G", region="CN-BJ"),
)
LATE = 1_100
"""Rows of NULLs before a nullable column's first value (past the driver's first batch)."""
TEXT = "备注, \"quoted\" 'x'\nline; =1+1\t末"


def _late(n: int, value: object) -> list[object]:
    return [None if i < LATE else value for i in range(n)]


def _activity(n: int, prefix: str = "a") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "record_id": [f"{prefix}{i}" for i in range(n)],
            "entity_id": "S1",
            "year": [2023 + i % 3 for i in range(n)],
            "month": pd.array(_late(n, 7), dtype="Int64"),
            "activity_type": "electricity",
            "quantity": [i / 7 for i in range(n)],
            "quantity_text": "1,234.5",
            "unit": "kWh",
            "region": _late(n, "CN-BJ"),
            "region_text": _late(n, "北京市"),
            "data_quality": "measured",
            "instrument_id": [None if i < LATE else f"GEC-{prefix}{i}" for i in range(n)],
            "ef_value": [np.nan if i < LATE else 0.5 for i in range(n)],
            "ef_unit": _late(n, "kgCO2e/kWh"),
            "note": _late(n, TEXT),
            "source_row": pd.array(_late(n, 9), dtype="Int64"),
        }
    )


def _direct(n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "record_id": [f"d{i}" for i in range(n)],
            "entity_id": "S1",
            "year": 2024,
            "month": pd.array(_late(n, 3), dtype="Int64"),
            "scope": 1,
            "category": "stationary",
            "gas": "CO2e",
            "tco2e": [0.1 + i for i in range(n)],
            "tco2e_text": "0.1",
            "scope2_basis": "both",
            "data_quality": "reported",
            "provenance": TEXT,
            "source_row": pd.array(_late(n, 4), dtype="Int64"),
        }
    )


def _metrics(n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "record_id": [f"m{i}" for i in range(n)],
            "entity_id": "S1",
            "year": 2024,
            "month": pd.array([i % 12 + 1 if i >= LATE else None for i in range(n)], "Int64"),
            "metric_id": [f"metric.{i}" for i in range(n)],
            "value": [float(i) for i in range(n)],
            "value_text": "1,0",
            "unit": "t",
            "numerator": [np.nan if i < LATE else 2.0 for i in range(n)],
            "denominator": [np.nan if i < LATE else 4.0 for i in range(n)],
            "data_quality": "reported",
            "provenance": _late(n, "statement"),
            "note": _late(n, TEXT),
            "source_row": pd.array(_late(n, 5), dtype="Int64"),
        }
    )


@pytest.fixture
def ledger(pg_url: str) -> Iterator[Ledger]:
    with Ledger.open(pg_url) as opened:
        opened.init()
        opened.upsert_entities(ENTITIES)
        yield opened


def _both(ledger: Ledger, read: str, *args: object) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(the Arrow read, the pandas reader's) of ``ledger.<read>(*args)``."""
    fast = getattr(ledger, read)(*args)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(arrow_read, "readable", lambda engine, spec: False)
        slow = getattr(ledger, read)(*args)
    return fast, slow


@pytest.mark.parametrize(
    ("read", "spec"),
    [
        ("activity_frame", frames.ACTIVITY_FRAME),
        ("direct_frame", frames.DIRECT_FRAME),
        ("metric_frame", frames.METRIC_FRAME),
    ],
)
def test_bulk_reads_equal_the_pandas_reader(
    ledger: Ledger, read: str, spec: dict[str, str]
) -> None:
    assert arrow_read.readable(ledger.engine, spec)  # the Arrow path is the one tested
    empty_fast, empty_slow = _both(ledger, read)
    pd.testing.assert_frame_equal(empty_fast, empty_slow)
    assert empty_fast.empty and list(empty_fast.columns) == list(spec)
    n = LATE + 60
    ledger.write_batch("activity", "a.csv", "sha-a", activity=_activity(n))
    ledger.write_batch("direct", "d.csv", "sha-d", direct=_direct(n))
    ledger.write_batch("metrics", "m.csv", "sha-m", metrics=_metrics(n))
    fast, slow = _both(ledger, read)
    pd.testing.assert_frame_equal(fast, slow)
    assert len(fast) == n and fast["rid"].is_monotonic_increasing
    assert dict(fast.dtypes.astype(str)) == dict(slow.dtypes.astype(str))
    late = fast.iloc[-1]
    assert late["source_row"] in (4, 5, 9)  # the values after 1,100 NULLs are read
    if "note" in fast:
        assert fast["note"].iloc[-1] == TEXT and pd.isna(fast["note"].iloc[0])
    assert fast["month"].isna().sum() == LATE


def test_a_year_filter_reads_the_same_rows(ledger: Ledger) -> None:
    ledger.write_batch("activity", "a.csv", "sha-a", activity=_activity(LATE + 30))
    for years in ([2024], [2023, 2025], [1999]):
        fast, slow = _both(ledger, "activity_frame", years)
        pd.testing.assert_frame_equal(fast, slow)
        assert set(fast["year"]) <= set(years)


def test_sqlite_ledgers_keep_the_pandas_reader(tmp_path: Path) -> None:
    """The ADBC SQLite driver has its own copy of SQLite: two copies in one process release
    each other's file locks (see store/arrow_read.py)."""
    for url in (str(tmp_path / "ledger.db"), "sqlite://"):
        with Ledger.open(url) as ledger:
            assert not arrow_read.readable(ledger.engine, frames.ACTIVITY_FRAME)


def test_specs_with_dates_are_left_to_the_pandas_reader(ledger: Ledger) -> None:
    assert not arrow_read.readable(ledger.engine, frames.ACTIVITY_FULL)  # activity_date


_optional_text = st.none() | st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs",), exclude_characters="\x00"),
    max_size=12,
)
_optional_number = st.none() | st.floats(allow_nan=False, allow_infinity=False, width=64)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(
        st.tuples(_optional_text, _optional_number, st.none() | st.integers(1, 12)),
        min_size=1,
        max_size=30,
    )
)
def test_any_values_read_alike(ledger: Ledger, rows: list[tuple[object, ...]]) -> None:
    """Text of any characters, numbers of any size, NULLs anywhere: both readers agree."""
    start = len(ledger.activity_frame())
    n = len(rows)
    activity = _activity(n, prefix=f"h{start}-").assign(
        note=[r[0] for r in rows],
        region_text=[r[0] for r in rows],
        ef_value=[np.nan if r[1] is None else r[1] for r in rows],
        month=pd.array([r[2] for r in rows], dtype="Int64"),
    )
    ledger.write_batch("activity", f"h{start}.csv", f"sha-{start}", activity=activity)
    fast, slow = _both(ledger, "activity_frame")
    pd.testing.assert_frame_equal(fast, slow)
    read = [None if pd.isna(v) else v for v in fast["note"].iloc[start:]]
    assert read == [r[0] for r in rows]  # nothing changed: "" stays "", NULL stays NULL
