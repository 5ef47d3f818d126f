"""Import of reported metric figures (template `metrics`) against the catalogue."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from esgledger.demo import DEMO_DATA
from esgledger.ingest.entities import read_entities
from esgledger.ingest.importer import import_file
from esgledger.store.ledger import Ledger
from esgledger.usecases.years import data_years, default_year

HEADER = (
    "record_id,entity_id,period,metric_id,value,unit,numerator,denominator,"
    "data_quality,provenance,note\n"
)


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    store = Ledger.open(tmp_path / "l.db")
    store.init()
    store.upsert_entities(read_entities(DEMO_DATA / "entities.csv")[0])
    return store


def _file(tmp_path: Path, body: str, name: str = "m.csv") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def test_figures_round_trip_with_parts_and_lower_bounds(ledger: Ledger, tmp_path: Path) -> None:
    path = _file(
        tmp_path,
        "M1,G00,2024,customer.satisfaction_rate,99.11,%,1983,2001,reported,CSS 2024,\n"
        "M2,G00,2024,community.donations,140+,10k CNY,,,reported,KPI table,gifts\n"
        "M3,S01,2024-06,workforce.headcount,1200,persons,,,measured,HR,\n",
    )
    report = import_file(ledger, path)
    assert report.ok and report.kind == "metrics" and report.rows == 3, report.diagnostics
    stored = ledger.metric_frame([2024]).set_index("record_id")
    assert stored.loc["M1", "numerator"] == 1983 and stored.loc["M1", "denominator"] == 2001
    assert stored.loc["M2", "value"] == 140 and stored.loc["M2", "value_text"] == "140+"
    assert stored.loc["M2", "note"] == "gifts; published as a lower bound"
    assert stored.loc["M3", "month"] == 6
    again = import_file(ledger, path)
    assert again.duplicate_of == report.batch_id


@pytest.mark.parametrize(
    ("row", "code", "column"),
    [
        ("X,G00,2024,no.such_metric,1,count,,,,,", "metric", "metric_id"),
        ("X,G00,2024,workforce.headcount,12,kg,,,,,", "unit", "unit"),
        ("X,G00,2024,customer.satisfaction_rate,99,%,1983,,,,", "ratio-parts", "denominator"),
        ("X,G00,2024,workforce.headcount,12,persons,1,2,,,", "ratio-parts", "numerator"),
        ("X,G00,2024,workforce.headcount,-3,persons,,,,,", "negative", "value"),
        ("X,NOPE,2024,workforce.headcount,3,persons,,,,,", "entity", "entity_id"),
        ("X,G00,2024,workforce.headcount,3,persons,,,guessed,,", "data-quality", "data_quality"),
    ],
)
def test_bad_rows_are_located_and_nothing_is_written(
    ledger: Ledger, tmp_path: Path, row: str, code: str, column: str
) -> None:
    report = import_file(ledger, _file(tmp_path, row + "\n"))
    assert not report.ok
    assert [(d.code, d.row, d.column) for d in report.diagnostics] == [(code, 2, column)]
    assert ledger.counts()["metric_value"] == 0


def test_a_record_id_already_stored_is_refused(ledger: Ledger, tmp_path: Path) -> None:
    assert import_file(
        ledger, _file(tmp_path, "M1,G00,2024,workforce.headcount,3,persons,,,,,\n", "a.csv")
    ).ok
    again = import_file(
        ledger, _file(tmp_path, "M1,G00,2024,workforce.headcount,4,persons,,,,,\n", "b.csv")
    )
    assert [(d.code, d.row) for d in again.diagnostics] == [("duplicate", 2)]


def test_the_default_year_is_the_latest_with_figures(ledger: Ledger, tmp_path: Path) -> None:
    """One rule for the dashboard, the report page and the commands: the latest year of the
    inventory or of the reported figures; with none, the campaigns' year, else last year."""
    today = date(2026, 12, 7)
    assert data_years(ledger) == frozenset()
    assert default_year(ledger, today=today) == 2025  # nothing yet: the previous year
    assert default_year(ledger, otherwise=[2026], today=today) == 2026  # a campaign under way
    report = import_file(
        ledger, _file(tmp_path, "M1,G00,2023,community.donations,140,10k CNY,,,reported,,\n")
    )
    assert report.ok, report.diagnostics
    assert data_years(ledger) == {2023}  # a reported figure is a year with figures
    assert default_year(ledger, otherwise=[2026], today=today) == 2023


def test_a_file_gives_one_figure_of_a_metric_entity_and_period(
    ledger: Ledger, tmp_path: Path
) -> None:
    path = _file(
        tmp_path,
        "M1,S01,2024,water.withdrawal,1000,t,,,reported,,\n"
        "M2,S01,2024-06,water.withdrawal,80,t,,,reported,,\n"  # a month is another figure
        "M3,S01,2024,water.withdrawal,1100,t,,,reported,,\n",
    )
    report = import_file(ledger, path)
    assert not report.ok
    texts = [str(d) for d in report.diagnostics]
    assert any(
        t.startswith(
            "m.csv:4:metric_id: expected one figure of water.withdrawal for S01 2024 in a file: "
            "row 2 gives it too"
        )
        for t in texts
    ), texts
    assert ledger.metric_frame().empty  # nothing imported
