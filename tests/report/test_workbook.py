"""The XLSX workbook of a report: every figure as a number with its lineage, missing figures
as empty cells, sheets named in the report's language, no formula anywhere, same bytes on
every render."""

from __future__ import annotations

import io
import zipfile
from collections import Counter

import pytest
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from esgledger.report.indexes import new_index
from esgledger.report.model import (
    Chart,
    Figure,
    FigureList,
    Gap,
    IndexRow,
    MethodologyItem,
    Narrative,
    Report,
    Section,
    Series,
    Table,
)
from esgledger.report.workbook import number_format, render_xlsx

WORDS = {
    "en": {"about": "About this report", "climate": "Climate action", "people": "Our people"},
    "zh": {"about": "关于本报告", "climate": "应对气候变化", "people": "员工发展"},
}


def sample_report(lang: str = "en") -> Report:
    """A small report with every kind of block, missing figures, a figure of no pillar and
    text that starts like a formula."""
    w = WORDS[lang]

    def fig(value: float | None, unit: str, precision: int, lineage: str, label: str) -> Figure:
        metric = lineage.split(":")[2] if lineage.startswith("metric:") else None
        source = "missing" if value is None else "computed"
        return Figure(value, unit, precision, lineage, label, metric, source)

    total_2024 = fig(31925.01, "tCO2e", 2, "metric:2024:ghg.total", "Total GHG emissions")
    headcount = fig(1234, "persons", 0, "metric:2024:workforce.headcount", "Employees")
    kpi = Table(
        "kpi_e",
        "Key performance: environment",
        ("Indicator", "Unit", "2023", "2024"),
        (
            (
                "Total GHG emissions",
                "tCO2e",
                fig(24014.98, "tCO2e", 2, "metric:2023:ghg.total", "Total GHG emissions"),
                total_2024,
            ),
            (
                '=HYPERLINK("http://evil","click")',
                "tce",
                fig(None, "tce", 2, "metric:2023:energy.total_tce", "Energy"),
                fig(5580.87, "tce", 2, "metric:2024:energy.total_tce", "Energy"),
            ),
            (
                "Intensity",
                "tCO2e/10k CNY",
                fig(0.0123, "tCO2e/10k CNY", 4, "metric:2023:ghg.intensity_revenue", "Int."),
                fig(0.0102, "tCO2e/10k CNY", 4, "metric:2024:ghg.intensity_revenue", "Int."),
            ),
        ),
        notes=("Scope 2 location-based in the total.",),
        sheet="E",
    )
    chart = Chart(
        "ghg_chart",
        "stacked_bar_line",
        "GHG emissions by scope",
        ("2023", "2024"),
        (
            Series(
                "Scope 1",
                (
                    fig(4000.5, "tCO2e", 2, "ghg:2023:S1", "Scope 1"),
                    fig(4472.7, "tCO2e", 2, "ghg:2024:S1", "Scope 1"),
                ),
                stack="ghg",
            ),
            Series(
                "Scope 2 (market)",
                (
                    fig(None, "tCO2e", 2, "ghg:2023:S2M", "Scope 2"),
                    fig(None, "tCO2e", 2, "ghg:2024:S2M", "Scope 2"),
                ),
                stack="ghg",
            ),
        ),
    )
    highlights = FigureList(
        "highlights",
        "Our year in figures",
        (
            total_2024,
            headcount,
            fig(98, "%", 0, "metric:2024:ethics.anticorruption_training_coverage", "Training"),
            fig(None, "count", 0, "metric:2024:innovation.patents_new", "New patents"),
        ),
    )
    other = Table(
        "custom",
        "+Custom figures",
        ("Item", "Value"),
        (("-A custom figure", fig(7.5, "t", 1, "custom:2024:thing", "@thing")),),
    )
    people = Table(
        "kpi_s",
        "Key performance: social",
        ("Indicator", "Unit", "2024"),
        (("Employees", "persons", headcount),),
        sheet="S",
    )
    sections = (
        Section(
            "about",
            "1",
            w["about"],
            1,
            framework_refs=(("gri", "2-2"),),
            blocks=(
                Narrative("about.text", "We report **every** figure.\n\n=1+1 is not a formula."),
                highlights,
            ),
            children=(
                Section(
                    "climate",
                    "1.1",
                    w["climate"],
                    2,
                    framework_refs=(("gri", "305-1"), ("szse17", "21")),
                    blocks=(kpi, chart),
                    children=(Section("custom", "1.1.1", "Other data", 3, blocks=(other,)),),
                ),
            ),
        ),
        Section("people", "2", w["people"], 1, blocks=(people,)),
    )
    return Report(
        year=2024,
        lang=lang,  # type: ignore[arg-type]
        title="2024 Sustainability Report" if lang == "en" else "2024年可持续发展报告",
        organisation="Seed Group" if lang == "en" else "种子集团",
        sections=sections,
        indexes=(
            new_index(
                "gri",
                lang,
                (
                    IndexRow("2-2", "Entities included", ("1 About this report",)),
                    IndexRow("305-1", "Direct (Scope 1) GHG emissions", ("1.1 Climate action",)),
                    IndexRow(
                        "305-5", "Reduction of GHG emissions", (), "not applicable", "=no data"
                    ),
                ),
            ),
            new_index(
                "szse17",
                lang,
                (
                    IndexRow(
                        "21",
                        "Climate change",
                        ("1.1 Climate action",),
                        four_elements="all four",
                        status="disclosed",
                    ),
                    IndexRow(
                        "26",
                        "Pollutant emissions",
                        (),
                        reason="no pollutants",
                        status="not applicable",
                    ),
                ),
            ),
        ),
        gaps=(Gap("GRI", "305-3", "=SUM(A1) no scope 3 figure"),),
        methodology=(MethodologyItem("GHG", "ISO 14064-1, **GHG Protocol**.", ("IPCC AR6",)),),
        meta={
            "data_version": "3 batches",
            "factor_library": "2024.1",
            "built_at": "2025-03-01T08:00:00Z",
        },
    )


def _open(data: bytes):  # type: ignore[no-untyped-def]
    return load_workbook(io.BytesIO(data))


def _header(sheet: Worksheet) -> list[str]:
    return [c.value for c in sheet[1]]


def _figure_cells(book) -> Counter[tuple[str, float | None, str]]:  # type: ignore[no-untyped-def]
    """(lineage, value, number format) of every figure row of every sheet: the rows under a
    header with a lineage and a value column, down to the next empty row."""
    found: Counter[tuple[str, float | None, str]] = Counter()
    for sheet in book.worksheets:
        col: dict[str, int] | None = None
        for row in sheet.iter_rows():
            names = [c.value for c in row]
            if set(names) & {"Lineage", "溯源编号"} and set(names) & {"Value", "数值"}:
                col = {str(name): i for i, name in enumerate(names)}
                lineage = col.get("Lineage", col.get("溯源编号"))
                value = col.get("Value", col.get("数值"))
            elif all(v is None for v in names):
                col = None
            elif col is not None:
                cell = row[value]
                found[(row[lineage].value, cell.value, cell.number_format)] += 1
    return found


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_figure_is_a_number_with_its_lineage(lang: str) -> None:
    report = sample_report(lang)
    book = _open(render_xlsx(report))
    expected: Counter[tuple[str, float | None, str]] = Counter()
    for f in report.figures():
        expected[(f.lineage, None if f.missing else f.value, number_format(f.precision))] += 1
    assert _figure_cells(book) == expected
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, float):
                    assert cell.data_type == "n"


def test_number_formats_follow_precision() -> None:
    assert number_format(0) == "#,##0"
    assert number_format(2) == "#,##0.00"
    assert number_format(4) == "#,##0.0000"
    book = _open(render_xlsx(sample_report()))
    environment = book["Environment"]
    col = {name: i for i, name in enumerate(_header(environment))}
    rows = {r[col["Lineage"]].value: r for r in environment.iter_rows(min_row=2)}
    assert rows["metric:2024:ghg.total"][col["Value"]].number_format == "#,##0.00"
    assert rows["metric:2024:ghg.intensity_revenue"][col["Value"]].value == 0.0102
    assert rows["metric:2024:ghg.intensity_revenue"][col["Value"]].number_format == "#,##0.0000"


def test_missing_figures_keep_their_row_with_an_empty_value() -> None:
    book = _open(render_xlsx(sample_report()))
    environment = book["Environment"]
    col = {name: i for i, name in enumerate(_header(environment))}
    rows = {r[col["Lineage"]].value: r for r in environment.iter_rows(min_row=2)}
    missing = rows["metric:2023:energy.total_tce"]
    assert missing[col["Value"]].value is None
    assert missing[col["Unit"]].value == "tce"
    assert missing[col["Source"]].value == "missing"
    assert rows["ghg:2024:S2M"][col["Value"]].value is None  # a chart's missing figure
    social = book["Social"]
    scol = {name: i for i, name in enumerate(_header(social))}
    patents = [
        r
        for r in social.iter_rows(min_row=2)
        if r[scol["Lineage"]].value == "metric:2024:innovation.patents_new"
    ]
    assert len(patents) == 1
    assert patents[0][scol["Value"]].value is None


def test_figures_go_to_their_pillar_sheet() -> None:
    book = _open(render_xlsx(sample_report()))

    def lineages(title: str) -> set[str]:
        sheet = book[title]
        col = _header(sheet).index("Lineage")
        return {r[col].value for r in sheet.iter_rows(min_row=2) if r[col].value}

    assert book.sheetnames == ["Environment", "Social", "Governance", "Other", "Content index"]
    assert "metric:2024:ghg.total" in lineages("Environment")  # table E and figure list
    assert "ghg:2024:S1" in lineages("Environment")  # a chart's scope figure
    assert "metric:2024:workforce.headcount" in lineages("Social")
    assert lineages("Governance") == {"metric:2024:ethics.anticorruption_training_coverage"}
    assert lineages("Other") == {"custom:2024:thing"}


def test_sheet_names_and_headers_in_chinese() -> None:
    book = _open(render_xlsx(sample_report("zh")))
    assert book.sheetnames == ["环境", "社会", "治理", "其他", "内容索引"]
    assert _header(book["环境"]) == [
        "章节",
        "图表",
        "行",
        "列",
        "数值",
        "单位",
        "溯源编号",
        "数据来源",
    ]
    assert book["环境"]["A2"].value == "1 关于本报告"


def test_header_row_is_bold_frozen_and_filtered() -> None:
    book = _open(render_xlsx(sample_report()))
    for sheet in book.worksheets:
        assert sheet.freeze_panes == "A2"
        assert sheet.auto_filter.ref and sheet.auto_filter.ref.startswith("A1:")
        assert all(c.font.b for c in sheet[1] if c.value)
        assert sheet.column_dimensions["A"].width >= 8


def test_content_index_has_gri_then_szse_rows_then_the_gap_list() -> None:
    book = _open(render_xlsx(sample_report()))
    sheet = book["Content index"]
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0][:4] == ["Framework", "Item", "Title", "Location"]
    frameworks = [v[0] for v in values[1:6]]
    assert frameworks == ["GRI", "GRI", "GRI", "SZSE No. 17", "SZSE No. 17"]
    assert [v[1] for v in values[1:4]] == ["2-2", "305-1", "305-5"]
    assert values[4][1] == 21
    assert sheet.auto_filter.ref == "A1:H6"
    gap_title = next(i for i, v in enumerate(values) if v[0] == "Gap list")
    assert values[gap_title + 1][:3] == ["Framework", "Item", "Missing"]
    assert values[gap_title + 2][:3] == ["GRI", "305-3", "'=SUM(A1) no scope 3 figure"]


def test_no_cell_is_a_formula() -> None:
    """Text starting with = + - @ (a narrative label, a table title, a gap) is neutralised
    with a leading quote and stored as a string."""
    data = render_xlsx(sample_report())
    book = _open(data)
    texts = []
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f"
                if isinstance(cell.value, str):
                    assert not cell.value.startswith(("=", "+", "-", "@")), cell.value
                    texts.append(cell.value)
    assert '\'=HYPERLINK("http://evil","click")' in texts
    assert "'+Custom figures" in texts
    assert "'-A custom figure" in texts
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/"):
                assert b"<f>" not in archive.read(name)


def test_same_report_same_bytes() -> None:
    report = sample_report("zh")
    assert render_xlsx(report) == render_xlsx(report)


def test_properties_come_from_the_report() -> None:
    book = _open(render_xlsx(sample_report()))
    assert book.properties.creator == "esgledger"
    assert book.properties.created.isoformat() == "2025-03-01T08:00:00"
    assert book.properties.modified.isoformat() == "2025-03-01T08:00:00"
    assert book.properties.title == "2024 Sustainability Report"
