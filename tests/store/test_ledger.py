"""Ledger storage: migrations, batch writes (atomic), round-trips of every table.

The tests taking ``store_url`` (tests/conftest.py) run on a new SQLite file and, when
``ESGLEDGER_TEST_PG_URL`` is set (scripts/ci_postgres.sh), on a new PostgreSQL database of
their own, so they run in parallel (pytest -n).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import inspect
from sqlalchemy.exc import IntegrityError

from esgledger.domain.model import Entity, EntityKind, StructuralChange
from esgledger.domain.organisation import Organisation
from esgledger.store import Ledger, batches
from esgledger.store.engine import alembic_config
from esgledger.store.frames import ACTIVITY_FRAME, DIRECT_FRAME
from esgledger.store.models import Base

ENTITIES = (
    Entity("G", "Group Co", kind=EntityKind.GROUP, name_zh="集团"),
    Entity(
        "S1",
        "Sub One",
        parent_id="G",
        equity_share=0.6,
        financial_control=False,
        region="CN-BJ",
        name_zh="子公司一",
        acquired_on=date(2023, 7, 1),
    ),
    Entity(
        "S2",
        "Sub Two",
        parent_id="G",
        operational_control=False,
        divested_on=date(2024, 12, 31),
        kind=EntityKind.SITE,
    ),
)

HEAD = ScriptDirectory.from_config(alembic_config()).get_current_head()
"""The newest migration: a new ledger is at it, an old one is upgraded to it."""


def _activity(n: int = 5, prefix: str = "a") -> pd.DataFrame:
    """A frame with every writable column, including missing values and Chinese text."""
    return pd.DataFrame(
        {
            "record_id": [f"{prefix}{i}" for i in range(n)],
            "entity_id": ["S1" if i % 2 else "S2" for i in range(n)],
            "year": np.full(n, 2024, dtype="int64"),
            "month": pd.array(
                [None if i % 3 == 0 else i % 12 + 1 for i in range(n)], dtype="Int64"
            ),
            "activity_type": ["electricity" if i % 2 else "diesel" for i in range(n)],
            "quantity": [1234.5 + i / 3 for i in range(n)],
            "quantity_text": [f"1,234.5{i}" for i in range(n)],
            "unit": ["kWh" if i % 2 else "L" for i in range(n)],
            "region": [None if i == 1 else "CN-BJ" for i in range(n)],
            "region_text": [None if i == 1 else "北京市" for i in range(n)],
            "data_quality": "measured",
            "activity_date": [date(2024, 3, i + 1) if i % 2 else None for i in range(n)],
            "instrument_id": [f"GEC-{i}" if i == 3 else None for i in range(n)],
            "ef_value": [0.0 if i == 3 else np.nan for i in range(n)],
            "ef_unit": ["kgCO2e/kWh" if i == 3 else None for i in range(n)],
            "note": [f"备注 {i}" if i == 2 else None for i in range(n)],
            "source_kind": "file",
            "source_file": "activity.xlsx",
            "source_row": pd.array([i + 2 if i else None for i in range(n)], dtype="Int64"),
            "source_user": [None] * (n - 1) + ["alice"],
        }
    )


def _direct(n: int = 3) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "record_id": [f"d{i}" for i in range(n)],
            "entity_id": "S1",
            "year": [2023 + i % 2 for i in range(n)],
            "month": pd.array([None] * n, dtype="Int64"),
            "scope": [1, 2, 3][:n],
            "category": ["stationary", "electricity", "cat1"][:n],
            "gas": "CO2e",
            "tco2e": [10.25, 0.1 + 0.2, 1e-9][:n],
            "tco2e_text": ["10.25", "0.30000000000000004", "1e-9"][:n],
            "scope2_basis": "both",
            "data_quality": "reported",
            "provenance": "verified statement",
            "source_kind": "file",
            "source_file": "direct.csv",
            "source_row": pd.array([2, 3, None][:n], dtype="Int64"),
            "source_user": None,
        }
    )


@pytest.fixture
def ledger(store_url: str) -> Iterator[Ledger]:
    with Ledger.open(store_url) as opened:
        opened.init()
        opened.upsert_entities(ENTITIES)
        yield opened


def _values(frame: pd.DataFrame, column: str) -> list[object]:
    return [None if v is None or v is pd.NA or pd.isna(v) else v for v in frame[column].tolist()]


def test_init_is_idempotent_and_at_head(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "ledger.db"
    with Ledger.open(path) as ledger:
        assert not ledger.is_initialised()
        ledger.init()
        ledger.init()
        assert ledger.is_initialised()
        with ledger.engine.connect() as conn:
            assert MigrationContext.configure(conn).get_current_heads() == (HEAD,)
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert set(ledger.counts().values()) == {0}
    with Ledger.open(str(path)) as again:  # a plain string is a file too
        assert again.is_initialised()


def test_a_ledger_at_0001_upgrades_and_keeps_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with Ledger.open(path) as ledger:
        with ledger.engine.begin() as conn:
            command.upgrade(alembic_config(connection=conn), "0001")
        ledger.upsert_entities(ENTITIES)
        with ledger.engine.connect() as conn:
            tables = {r[0] for r in conn.exec_driver_sql("SELECT name FROM sqlite_master")}
        assert "activity_record" in tables and "metric_value" not in tables
        ledger.init()
        with ledger.engine.connect() as conn:
            assert MigrationContext.configure(conn).get_current_heads() == (HEAD,)
        assert ledger.counts()["metric_value"] == 0
        assert ledger.counts()["entity"] == len(ENTITIES)


def _at_0011(path: Path) -> Ledger:
    ledger = Ledger.open(path)
    with ledger.engine.begin() as conn:
        command.upgrade(alembic_config(connection=conn), "0011")
        conn.exec_driver_sql(
            "INSERT INTO entity (entity_id, name, kind, equity_share, operational_control, "
            "financial_control) VALUES ('S1', 'Sub', 'subsidiary', 1, 1, 1), "
            "('S2', 'Sub 2', 'subsidiary', 1, 1, 1)"
        )
        conn.exec_driver_sql(
            "INSERT INTO import_batch (batch_id, kind, file_name, sha256, rows, imported_at) "
            "VALUES (1, 'form', 'request:1', 'a', 1, '2026-01-01'), "
            "(2, 'adjustment', 'adjustment:1', 'b', 1, '2026-02-01')"
        )
    return ledger


def test_an_older_ledgers_repeated_figures_become_versions(tmp_path: Path) -> None:
    """Before 0012 an approved adjustment of a reported figure posted its difference (+100 t
    on 1,000 t): the upgrade makes it the restated figure, 1,100 t, a version superseding the
    first; the difference stays in its note."""
    ledger = _at_0011(tmp_path / "old.db")
    with ledger.engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO metric_value (record_id, batch_id, entity_id, year, metric_id, value, "
            "value_text, unit, data_quality, source_kind, source_file, note) VALUES "
            "('R1', 1, 'S1', 2025, 'water.withdrawal', 1000, '1,000 t', 't', 'reported', "
            "'form', 'request:1', NULL), "
            "('A1', 2, 'S1', 2025, 'water.withdrawal', 100, '+100 t', 't', 'reported', "
            "'adjustment', 'adjustment:1', 'restatement: meter re-read')"
        )
    ledger.init()
    current = ledger.metric_frame([2025])
    assert list(current["value"]) == [1000.0 + 100.0]
    history = ledger.metric_history("water.withdrawal", "S1", 2025)
    assert list(history["value"]) == [1000.0, 1100.0]
    assert int(history["superseded_by"].iloc[0]) == 2  # superseded by the adjustment batch
    assert history["superseded_by"].isna().tolist() == [False, True]
    assert history["note"].iloc[1] == "restatement: meter re-read; posted as the difference +100 t"
    assert history["value_text"].iloc[1] == "1100 t"
    ledger.close()


def test_an_older_ledgers_register_id_twice_stops_the_upgrade(tmp_path: Path) -> None:
    ledger = _at_0011(tmp_path / "old.db")
    with ledger.engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO register_import (import_id, kind, year, file_name, sha256, rows, "
            "imported_by, imported_at) VALUES (1, 'bcm', 2024, 'a.csv', 'a', 1, 'x', "
            "'2026-01-01'), (2, 'bcm', 2024, 'b.csv', 'b', 1, 'y', '2026-01-02')"
        )
        conn.exec_driver_sql(
            "INSERT INTO register_entry (import_id, kind, year, row_key, entity_id, line, data) "
            "VALUES (1, 'bcm', 2024, 'R-1', 'S1', 2, '{}'), (2, 'bcm', 2024, 'R-1', 'S2', 2, '{}')"
        )
    with pytest.raises(RuntimeError, match=r"bcm 2024 'R-1': S1 import 1 line 2; bcm 2024 'R-1'"):
        ledger.init()
    with ledger.engine.connect() as conn:  # nothing changed: still at 0011
        assert MigrationContext.configure(conn).get_current_heads() == ("0011",)
    ledger.close()


def test_init_on_postgresql_is_idempotent_and_at_head(pg_url: str) -> None:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    with Ledger.open(pg_url) as ledger:
        assert ledger.engine.dialect.name == "postgresql"
        assert not ledger.is_initialised()
        ledger.init()
        ledger.init()
        assert ledger.is_initialised()
        with ledger.engine.connect() as conn:
            assert MigrationContext.configure(conn).get_current_heads() == (head,)
        assert set(ledger.counts().values()) == {0}


def test_every_migration_upgrades_with_rows_and_downgrades(store_url: str) -> None:
    """Each revision in turn from an 0001 ledger holding rows, then back down to nothing."""
    config = alembic_config()
    revisions = [s.revision for s in ScriptDirectory.from_config(config).walk_revisions()][::-1]
    assert revisions[:3] == ["0001", "0002", "0003"]
    with Ledger.open(store_url) as ledger:
        with ledger.engine.begin() as conn:
            command.upgrade(alembic_config(connection=conn), "0001")
        ledger.upsert_entities(ENTITIES)
        assert "metric_value" not in inspect(ledger.engine).get_table_names()
        for revision in revisions[1:]:
            with ledger.engine.begin() as conn:
                command.upgrade(alembic_config(connection=conn), revision)
                assert MigrationContext.configure(conn).get_current_heads() == (revision,)
        assert ledger.is_initialised()
        assert ledger.organisation() == Organisation.of(ENTITIES)
        ledger.write_batch("activity", "a.csv", "sha-1", activity=_activity(3))
        assert ledger.counts()["activity_record"] == 3
        with ledger.engine.begin() as conn:
            command.downgrade(alembic_config(connection=conn), "base")
        assert set(inspect(ledger.engine).get_table_names()) <= {"alembic_version"}


def test_migration_creates_exactly_the_models(store_url: str) -> None:
    with Ledger.open(store_url) as ledger:
        ledger.init()
        with ledger.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, Base.metadata)
            # data_version is the database's own bookkeeping, outside the models on purpose
            # (store/version.py): backups neither copy nor hash it
            assert [
                d for d in diff if not (d[0] == "remove_table" and d[1].name == "data_version")
            ] == []


def test_write_batch_round_trips_every_column(ledger: Ledger) -> None:
    frame = _activity(7)
    seen: list[int] = []
    batch_id = ledger.write_batch(
        "activity",
        "activity.xlsx",
        "sha-1",
        activity=frame,
        imported_by="bob",
        progress=seen.append,
    )
    assert seen == [7]
    stored = ledger.activity_frame()
    assert list(stored.columns) == list(ACTIVITY_FRAME)
    assert {c: str(t) for c, t in stored.dtypes.items()} == {
        c: str(pd.Series(dtype=t).dtype) for c, t in ACTIVITY_FRAME.items()
    }
    assert (stored["batch_id"] == batch_id).all()
    full = ledger.records_by_rid(stored["rid"].tolist()[::-1])
    assert full["rid"].tolist() == stored["rid"].tolist()
    for column in frame.columns:
        assert _values(full, column) == _values(frame, column), column
    assert full["quantity"].tolist() == frame["quantity"].tolist()  # bit-exact floats
    batches = ledger.batches()
    assert batches[["batch_id", "kind", "file_name", "sha256", "rows", "imported_by"]].to_dict(
        "records"
    ) == [
        {
            "batch_id": batch_id,
            "kind": "activity",
            "file_name": "activity.xlsx",
            "sha256": "sha-1",
            "rows": 7,
            "imported_by": "bob",
        }
    ]


def test_direct_round_trip_and_year_filter(ledger: Ledger) -> None:
    frame = _direct()
    ledger.write_batch("direct", "direct.csv", "sha-d", direct=frame)
    stored = ledger.direct_frame()
    assert list(stored.columns) == list(DIRECT_FRAME)
    for column in frame.columns:
        if column in DIRECT_FRAME:
            assert _values(stored, column) == _values(frame, column), column
    assert ledger.direct_frame(years=[2024])["record_id"].tolist() == ["d1"]


def test_chunks_and_progress(ledger: Ledger, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(batches, "CHUNK", 4)
    seen: list[int] = []
    ledger.write_batch("activity", "a.csv", "sha-c", activity=_activity(10), progress=seen.append)
    assert seen == [4, 8, 10]
    assert ledger.counts()["activity_record"] == 10


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    notes=st.lists(
        st.none() | st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00")),
        min_size=1,
        max_size=6,
    ),
    quantities=st.lists(st.floats(allow_nan=False, allow_infinity=False), min_size=6, max_size=6),
)
def test_written_text_and_numbers_read_back_unchanged(
    ledger: Ledger, notes: list[str | None], quantities: list[float]
) -> None:
    """Whatever the write path (SQLite's executemany, PostgreSQL's COPY): text with tabs,
    line breaks, backslashes and ``\\N`` stays text (``None`` stays NULL) and every float
    reads back bit for bit."""
    n = len(notes)
    prefix = f"p{ledger.counts()['import_batch']}-"
    frame = _activity(n, prefix).assign(note=notes, quantity=quantities[:n], instrument_id=None)
    frame.loc[0, "quantity_text"] = "\\N\t\\"
    ledger.write_batch("activity", "a.csv", prefix, activity=frame)
    stored = ledger.activity_frame()
    stored = stored[stored["record_id"].str.startswith(prefix)].reset_index(drop=True)
    assert _values(stored, "note") == notes
    assert stored["quantity"].tolist() == quantities[:n]
    assert stored.loc[0, "quantity_text"] == "\\N\t\\"


@pytest.mark.parametrize("problem", ["duplicate", "unknown_entity"])
def test_failing_batch_leaves_nothing(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch, problem: str
) -> None:
    monkeypatch.setattr(batches, "CHUNK", 3)  # the error comes after a written chunk
    frame = _activity(8)
    if problem == "duplicate":
        frame.loc[6, "record_id"] = frame.loc[1, "record_id"]
    else:
        frame.loc[6, "entity_id"] = "NOPE"
    with pytest.raises(IntegrityError):
        ledger.write_batch("activity", "a.csv", "sha-x", activity=frame, direct=_direct())
    counts = ledger.counts()
    assert counts["activity_record"] == counts["direct_emission"] == counts["import_batch"] == 0
    assert ledger.batches().empty
    assert ledger.has_batch("sha-x") is None


def test_unknown_column_and_kind_are_refused(ledger: Ledger) -> None:
    with pytest.raises(ValueError, match="quantityy"):
        ledger.write_batch("activity", "a.csv", "s", activity=_activity(1).assign(quantityy=1))
    with pytest.raises(ValueError, match="kind"):
        ledger.write_batch("bogus", "a.csv", "s")
    assert ledger.counts()["import_batch"] == 0


def test_has_batch_and_existing_ids(ledger: Ledger) -> None:
    assert ledger.has_batch("sha-1") is None
    batch_id = ledger.write_batch("activity", "a.csv", "sha-1", activity=_activity(5))
    assert ledger.has_batch("sha-1") == batch_id
    with pytest.raises(IntegrityError):  # the same file twice is refused by the schema
        ledger.write_batch("activity", "a.csv", "sha-1", activity=_activity(2, prefix="z"))
    asked = [f"a{i}" for i in range(1200)] + ["missing"]
    assert ledger.existing_record_ids(asked) == {f"a{i}" for i in range(5)}
    assert ledger.existing_record_ids(asked, table="direct") == set()
    assert ledger.existing_instrument_ids(["GEC-3", "GEC-9"]) == {"GEC-3"}
    with pytest.raises(ValueError, match="table"):
        ledger.existing_record_ids(["a1"], table="nope")


def test_records_for_and_count(ledger: Ledger) -> None:
    ledger.write_batch("activity", "a.csv", "sha-1", activity=_activity(9))
    found = ledger.records_for("S1", 2024, "electricity", None, limit=2)
    assert found["record_id"].tolist() == ["a1", "a3"]
    assert ledger.count_records("S1", 2024, "electricity", None) == 4
    assert ledger.count_records("S1", 2024, "electricity", "CN-BJ") == 3
    assert ledger.count_records(None, 2024, "diesel", None) == 5
    assert ledger.count_records(None, 2023, "diesel", None) == 0
    assert ledger.activity_frame(years=[2023]).empty


def test_entities_round_trip_into_organisation(ledger: Ledger) -> None:
    assert ledger.organisation() == Organisation.of(ENTITIES)
    renamed = Entity("S2", "Sub Two (renamed)", parent_id="G", equity_share=0.25)
    ledger.write_batch("entities", "org.csv", "sha-org", entities=[renamed])
    org = ledger.organisation()
    assert len(org) == 3
    assert org.get("S2") == renamed
    assert ledger.batches()["rows"].tolist() == [1]


def test_empty_ledger_frames_keep_columns_and_dtypes(store_url: str) -> None:
    with Ledger.open(store_url) as ledger:
        ledger.init()
        for frame, spec in (
            (ledger.activity_frame(), ACTIVITY_FRAME),
            (ledger.direct_frame(), DIRECT_FRAME),
        ):
            assert frame.empty
            assert list(frame.columns) == list(spec)
            assert str(frame["rid"].dtype) == "int64"
            assert str(frame["month"].dtype) == "Int64"
        assert ledger.records_by_rid([]).empty
        assert ledger.parameters().empty and ledger.overrides().empty
        assert ledger.organisation() == Organisation.of([])


def test_parameters_overrides_context_settings_round_trip(ledger: Ledger) -> None:
    ledger.set_parameter("density.gasoline", None, 0.74, "kg/L", "GB/T 2589")
    ledger.set_parameter("density.gasoline", None, 0.737, "kg/L", "GB/T 2589-2020")
    ledger.set_parameter("fx.CNY_per_USD", 2024, 7.1884, "CNY/USD", "PBoC")
    params = ledger.parameters()
    assert params.to_dict("records") == [
        {
            "name": "density.gasoline",
            "year": None,
            "value": 0.737,
            "unit": "kg/L",
            "source": "GB/T 2589-2020",
        },
        {
            "name": "fx.CNY_per_USD",
            "year": 2024,
            "value": 7.1884,
            "unit": "CNY/USD",
            "source": "PBoC",
        },
    ]

    first = ledger.add_override("electricity", "CN-BJ", 2024, "CO2", 0.5568, "kgCO2/kWh", "MEE")
    second = ledger.add_override("diesel", None, None, "CO2e", 2.68, "kgCO2e/L", "supplier", "eve")
    overrides = ledger.overrides()
    assert overrides["id"].tolist() == [first, second]
    assert overrides.iloc[1][["activity_type", "gas", "value", "entered_by"]].tolist() == [
        "diesel",
        "CO2e",
        2.68,
        "eve",
    ]
    assert pd.isna(overrides.iloc[1]["region"]) and pd.isna(overrides.iloc[1]["year"])

    ledger.set_context("G", 2024, "revenue", 1.5e9, "CNY", "annual report")
    ledger.set_context("G", 2024, "revenue", 1.6e9, "CNY", "restated")
    context = pd.DataFrame(
        {
            "entity_id": ["G", "S1"],
            "year": [2024, 2024],
            "metric": ["employees", "employees"],
            "value": [1200.0, 300.0],
            "unit": ["person", "person"],
            "source": ["HR", "HR"],
        }
    )
    ledger.write_batch("context", "context.csv", "sha-ctx", context=context)
    ctx = ledger.context_frame()
    assert ctx[["entity_id", "metric", "value", "source"]].values.tolist() == [
        ["G", "employees", 1200.0, "HR"],
        ["G", "revenue", 1.6e9, "restated"],
        ["S1", "employees", 300.0, "HR"],
    ]
    assert str(ctx["year"].dtype) == "int64"

    assert ledger.get_setting("base_year") is None
    assert ledger.get_setting("base_year", "2019") == "2019"
    ledger.set_setting("base_year", "2020")
    ledger.set_setting("base_year", "2021")
    ledger.set_setting("approach", "operational_control")
    assert ledger.settings() == {"approach": "operational_control", "base_year": "2021"}

    change = StructuralChange("c1", 2024, "acquisition", "bought S1", "S1", 1234.5)
    ledger.add_structural_change(change)
    ledger.add_structural_change(StructuralChange("c0", 2022, "methodology", "new factors"))
    assert [c.change_id for c in ledger.structural_changes()] == ["c0", "c1"]
    assert ledger.structural_changes()[1] == change
