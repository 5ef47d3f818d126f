"""The report model built from the demo ledger: figures against the published 2024 report
and the ledger's own calculation, the section tree, located configuration errors."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from esgledger.demo import build_demo
from esgledger.metrics import load_catalogue
from esgledger.report import build_report, render
from esgledger.report.build import load_blocks
from esgledger.report.model import Chart, Figure, FigureList, Report, Table
from esgledger.report.sections import ReportConfigError, load_sections
from esgledger.service import kpi_table, reported_figures
from esgledger.store.ledger import Ledger


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> Ledger:
    made, _ = build_demo(tmp_path_factory.mktemp("report") / "demo.db")
    return made


@pytest.fixture(scope="module")
def reports(ledger: Ledger) -> dict[str, Report]:
    return {lang: build_report(ledger, 2024, lang, built_at="fixed") for lang in ("zh", "en")}


def _by_lineage(report: Report) -> dict[str, Figure]:
    return {f.lineage: f for f in report.figures()}


def test_scope_figures_are_the_inventory_of_each_year(reports: dict[str, Report]) -> None:
    """2024 as computed by the ledger (README demo figures); 2020-2023 from the published
    time series entered as direct totals."""
    figures = _by_lineage(reports["en"])
    expected = {
        "ghg:2024:S1": 4472.70,
        "ghg:2024:S2L": 24186.91,
        "ghg:2024:S3": 3265.40,
        "ghg:2024:TOTAL": 31925.01,
        "ghg:2020:TOTAL": 18282.45,
        "ghg:2023:TOTAL": 24014.98,
        "metric:2024:energy.total_tce": 5580.87,
        "metric:2024:energy.electricity_purchased": 45074.37,
    }
    for lineage, value in expected.items():
        assert figures[lineage].value == pytest.approx(value, abs=0.005), lineage
    # scope 1 + 2 (location) + 3 = total, every year of the series
    for year in range(2020, 2025):
        parts = sum(figures[f"ghg:{year}:{s}"].value or 0.0 for s in ("S1", "S2L", "S3"))
        assert figures[f"ghg:{year}:TOTAL"].value == pytest.approx(parts, abs=0.011)


def test_a_scope_without_lines_is_missing_not_zero(reports: dict[str, Report]) -> None:
    figures = _by_lineage(reports["en"])
    assert figures["ghg:2022:S2M"].missing  # only location-based totals were entered
    assert figures["ghg:2022:S2M"].text() == "—"
    assert figures["ghg:2024:S2M"].value == pytest.approx(26395.55, abs=0.005)


def test_the_kpi_tables_hold_the_ledgers_figures(
    ledger: Ledger, reports: dict[str, Report]
) -> None:
    """Every row of the published key performance table, with the figure the ledger computes
    where it computes one and the reported one otherwise (`esgledger kpi`'s columns)."""
    table, _ = kpi_table(ledger, 2024)
    stored = reported_figures(ledger, [2024])
    group = stored[stored["entity_id"] == "*"]
    values = dict(zip(group["metric_id"], group["value"], strict=True))
    kpi = [
        b
        for s in reports["en"].walk()
        if s.section_id == "kpi"
        for b in s.blocks
        if isinstance(b, Table)
    ]
    assert [t.sheet for t in kpi] == ["E", "S", "G"]
    cells = {c.metric_id: c for t in kpi for row in t.rows for c in row if isinstance(c, Figure)}
    # the 66 rows of the packaged key table, then the packaged metrics the demo has a figure
    # of (ghg.scope2_market, energy.total_mwh, supply.suppliers_new_certified)
    assert len(cells) == len(table) == 66 + 3
    for row in table.itertuples():
        figure = cells[row.metric_id]
        expected = row.computed if pd.notna(row.computed) else values.get(row.metric_id)
        if expected is None or pd.isna(expected):
            assert figure.missing, row.metric_id
        else:
            assert figure.value == pytest.approx(float(expected)), row.metric_id
        assert figure.lineage == f"metric:2024:{row.metric_id}"


def test_units_and_names_follow_the_language(reports: dict[str, Report]) -> None:
    catalogue = load_catalogue()
    metric = catalogue.get("energy.total_tce")
    zh = _by_lineage(reports["zh"])["metric:2024:energy.total_tce"]
    en = _by_lineage(reports["en"])["metric:2024:energy.total_tce"]
    assert (zh.label, zh.unit) == (metric.name_zh, metric.unit_label_zh)
    assert (en.label, en.unit) == (metric.name_en, metric.unit_label)
    assert zh.value == en.value
    titles = {s.section_id: s.title for s in reports["zh"].walk()}
    assert titles["climate"] == "气候行动"
    assert reports["zh"].title.startswith("2024") and "可持续发展报告" in reports["zh"].title


def test_the_section_tree_numbers_chapters_and_keeps_references(
    reports: dict[str, Report],
) -> None:
    sections = {s.section_id: s for s in reports["en"].walk()}
    assert sections["climate"].number.count(".") == 1
    assert sections["climate"].level == 2
    assert "305-1" in sections["climate"].cites("gri")
    assert "23(1)" in sections["climate"].cites("szse17")
    numbers = [s.number for s in reports["en"].sections]
    assert numbers == [str(i) for i in range(1, len(numbers) + 1)]


def test_charts_carry_figures_of_the_ledger(reports: dict[str, Report]) -> None:
    charts = {b.block_id: b for b in reports["en"].blocks() if isinstance(b, Chart)}
    ghg = charts["ghg_chart"]
    assert ghg.categories == ("2020", "2021", "2022", "2023", "2024")
    stacked = [s for s in ghg.series if s.stack]
    assert [len(s.figures) for s in stacked] == [5, 5, 5]
    line = [s for s in ghg.series if s.kind == "line"]
    assert line and line[0].axis == "right"
    mix = charts["energy_mix"].series[0].figures
    assert sum(f.value or 0.0 for f in mix) == pytest.approx(5580.87, abs=0.02)
    gender = charts["workforce_gender"].series[0].figures
    assert {f.metric_id for f in gender} == {
        "workforce.headcount.male",
        "workforce.headcount.female",
    }


def test_every_figure_is_rounded_to_its_printed_precision(reports: dict[str, Report]) -> None:
    for figure in reports["en"].figures():
        if not figure.missing:
            assert figure.value == round(figure.value or 0.0, figure.precision)
            assert figure.source in ("computed", "reported")
        else:
            assert figure.source == "missing"


def test_highlights_name_metrics_in_order(reports: dict[str, Report]) -> None:
    lists = {b.block_id: b for b in reports["en"].blocks() if isinstance(b, FigureList)}
    assert [f.metric_id for f in lists["highlights"].figures][:2] == [
        "ghg.total",
        "energy.total_tce",
    ]


def test_a_block_on_an_unknown_section_is_a_located_error(tmp_path: Path) -> None:
    blocks = tmp_path / "blocks.csv"
    blocks.write_text(
        "section_id,block_id,kind,query,args\n"
        "climate,ok,figures,metrics,ghg.total\n"
        "nowhere,bad,figures,metrics,ghg.total\n",
        encoding="utf-8",
    )
    with pytest.raises(ReportConfigError, match=r"blocks.csv:3:section_id: no section 'nowhere'"):
        load_blocks(load_sections(), blocks)


def test_an_unknown_metric_and_a_wrong_query_are_located(tmp_path: Path) -> None:
    blocks = tmp_path / "blocks.csv"
    blocks.write_text(
        "section_id,block_id,kind,query,args\nclimate,bad,figures,metrics,ghg.nothing\n",
        encoding="utf-8",
    )
    with pytest.raises(ReportConfigError, match=r"blocks.csv:2:args: .*ghg.nothing"):
        load_blocks(load_sections(), blocks)
    blocks.write_text(
        "section_id,block_id,kind,query,args\nclimate,bad,chart,kpi,E\n", encoding="utf-8"
    )
    with pytest.raises(ReportConfigError, match=r"blocks.csv:2:query: 'kpi'"):
        load_blocks(load_sections(), blocks)


def test_a_section_whose_parent_comes_later_is_a_located_error(tmp_path: Path) -> None:
    sections = tmp_path / "sections.csv"
    sections.write_text(
        "section_id,parent,title_en,title_zh,gri,szse17\n"
        "child,parent,Child,子,,\n"
        "parent,,Parent,父,,\n",
        encoding="utf-8",
    )
    with pytest.raises(ReportConfigError, match=r"sections.csv:2:parent: 'parent'"):
        load_sections(sections)


def test_a_year_before_any_data_builds_with_every_figure_missing(ledger: Ledger) -> None:
    report = build_report(ledger, 2019, "en", built_at="fixed")
    figures = list(report.figures())
    assert figures and all(f.missing for f in figures)
    assert any(g.metric_id == "ghg.total" for g in report.gaps)
    for fmt in ("html", "docx", "xlsx", "pdf"):
        assert render(report, fmt)
