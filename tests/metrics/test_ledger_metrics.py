"""A company's own metrics (issue 16: the KPI catalogue is extendable per ledger, without
editing the package): entered from a file checked like the packaged catalogue, all or
nothing; their figures imported, converted, listed by `kpi` and traced like any metric's."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from esgledger import service
from esgledger.auth.accounts import operator
from esgledger.book import Book
from esgledger.domain.errors import Invalid
from esgledger.domain.model import Entity, EntityKind
from esgledger.figures.registry import explain, value
from esgledger.ingest.importer import import_file
from esgledger.metrics.catalogue import COLUMNS
from esgledger.store.ledger import Ledger
from esgledger.usecases.metric_definitions import MetricsRejected, import_metrics, metrics_csv
from esgledger.usecases.reference import LockedPeriodChange
from esgledger.workflow.periods import lock_period

WHO = operator("tester")
HEADER = ",".join([*COLUMNS, "gri"]) + "\n"
PAPER = (
    "materials.packaging_paper,paper packaging material used,纸质包装材料使用量,E,t,t,吨,input,"
    'sum,,,,1,,,,flow,,1,,"Paper and board packaging of finished products (HKEX KPI A2.5)",301-1\n'
)


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    opened = Ledger.open(tmp_path / "m.db")
    opened.init()
    opened.upsert_entities([Entity("G", "Group", kind=EntityKind.GROUP, region="CN-GD")])
    yield opened
    opened.close()


def _values(ledger: Ledger, tmp_path: Path, text: str) -> bool:
    path = tmp_path / "v.csv"
    path.write_text("record_id,entity_id,period,metric_id,value,unit\n" + text, encoding="utf-8")
    return import_file(ledger, path, kind="metrics", user="t").ok


def test_an_own_metric_takes_figures_converted_listed_and_traced(
    ledger: Ledger, tmp_path: Path
) -> None:
    assert not _values(ledger, tmp_path, "g1,G,2024,materials.packaging_paper,0.205,万吨\n")
    done = import_metrics(ledger.engine, WHO, HEADER + PAPER, "metrics.csv")
    assert (done.count, done.added) == (1, ("materials.packaging_paper",))
    assert _values(ledger, tmp_path, "g1,G,2024,materials.packaging_paper,0.205,万吨\n")
    # 0.205 万吨 x 10,000 t per 万吨 = 2,050 t, in the metric's unit
    assert value(ledger, "metric:2024:materials.packaging_paper") == pytest.approx(2050)
    tree = explain(ledger, "metric:2024:materials.packaging_paper")
    written = [c.detail.get("as written") for c in tree.children if c.detail.get("as written")]
    assert written == ["0.205 万吨"]  # the entry as written, beside the converted figure
    table, _ = service.kpi_table(ledger, 2024, "en")
    row = table.set_index("metric_id").loc["materials.packaging_paper"]
    assert (row["reported"], row["unit"], row["source"]) == ("2050", "t", "reported")
    assert row["row"] == table["row"].max()  # after the packaged key table
    assert "materials.packaging_paper" in Book(ledger).catalogue()


@pytest.mark.parametrize(
    ("row", "column", "said"),
    [
        (PAPER.replace("materials.packaging_paper", "energy.gasoline"), "metric_id", "packaged"),
        (PAPER.replace(",input,", ",computed,"), "kind", "entered (kind input)"),
        (PAPER.replace(",E,t,t,", ",E,tonnes of paper,t,"), "unit", ""),
        (PAPER.replace(",301-1", ",399-9"), "gri", "399-9"),
        (PAPER.replace(",E,", ",X,"), "pillar", "unknown pillar"),
        (PAPER.replace(",flow,", ",flows,"), "period_rule", "unknown period_rule"),
    ],
)
def test_what_the_catalogue_refuses_is_refused_and_nothing_is_written(
    ledger: Ledger, row: str, column: str, said: str
) -> None:
    with pytest.raises(MetricsRejected) as caught:
        import_metrics(ledger.engine, WHO, HEADER + row, "metrics.csv")
    problems = caught.value.problems
    assert {(p.row, p.column) for p in problems} == {(2, column)}, problems
    assert said in problems[0].message
    assert ledger.metric_definition_rows() == []


def test_a_header_and_a_repeated_id_are_located(ledger: Ledger) -> None:
    with pytest.raises(MetricsRejected) as caught:
        import_metrics(ledger.engine, WHO, HEADER.replace("name_zh,", "") + PAPER, "m.csv")
    assert [(p.row, p.column) for p in caught.value.problems] == [(1, "name_zh")]
    with pytest.raises(MetricsRejected) as caught:
        import_metrics(ledger.engine, WHO, HEADER + PAPER + PAPER, "m.csv")
    assert [(p.row, p.column) for p in caught.value.problems] == [(3, "metric_id")]


def test_figures_keep_their_metric_and_a_locked_year_its_definition(
    ledger: Ledger, tmp_path: Path
) -> None:
    import_metrics(ledger.engine, WHO, HEADER + PAPER, "metrics.csv")
    assert _values(ledger, tmp_path, "g1,G,2024,materials.packaging_paper,2050,t\n")
    with pytest.raises(Invalid, match="has stored figures"):
        import_metrics(ledger.engine, WHO, HEADER, "empty.csv")
    lock_period(ledger.engine, operator("chair"), 2024, force=True)
    with pytest.raises(LockedPeriodChange):
        import_metrics(ledger.engine, WHO, HEADER + PAPER.replace(",sum,", ",latest,"), "m.csv")
    exported = metrics_csv(ledger.metric_definition_rows())
    assert exported == HEADER + PAPER.replace('"Paper', "Paper").replace('A2.5)"', "A2.5)")
    assert import_metrics(ledger.engine, WHO, exported, "again.csv").seq is None
