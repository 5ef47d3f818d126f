"""The DOCX document of a report, opened again with python-docx: headings, real tables whose
cells are the figures' text, chart images, the content indexes, the lineage references,
Chinese text and fonts, same bytes on every render."""

from __future__ import annotations

import importlib
import io
import re
import sys
import types
import zipfile
from functools import cache

import pytest
from docx import Document
from docx.document import Document as DocxDocument
from docx.oxml.ns import qn
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure as PlotFigure

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
from esgledger.report.word import EAST_ASIAN_FONT, render_docx

WORDS = {
    "en": {
        "about": "About this report",
        "climate": "Climate action",
        "people": "Our people",
        "text": "We report **every** figure.\n\n=1+1 is not a formula.",
        "kpi": "Key performance: environment",
    },
    "zh": {
        "about": "关于本报告",
        "climate": "应对气候变化",
        "people": "员工发展",
        "text": "我们披露**每一项**数据。\n\n本年度温室气体排放总量有所上升。",
        "kpi": "关键绩效：环境",
    },
}


def sample_report(lang: str = "en") -> Report:
    """Sections on three levels, a narrative, a figure list, a KPI table (a missing figure in
    it), two charts, the content indexes, a gap, the methodology and the build facts."""
    w = WORDS[lang]

    def fig(value: float | None, unit: str, precision: int, lineage: str, label: str) -> Figure:
        metric = lineage.split(":")[2] if lineage.startswith("metric:") else None
        return Figure(value, unit, precision, lineage, label, metric, "computed")

    total = fig(31925.01, "tCO2e", 2, "metric:2024:ghg.total", "Total GHG emissions")
    headcount = fig(1234, "persons", 0, "metric:2024:workforce.headcount", "Employees")
    kpi = Table(
        "kpi_e",
        w["kpi"],
        ("Indicator", "Unit", "2023", "2024"),
        (
            (
                "Total GHG emissions",
                "tCO2e",
                fig(24014.98, "tCO2e", 2, "metric:2023:ghg.total", "Total GHG emissions"),
                total,
            ),
            (
                "Energy",
                "tce",
                fig(None, "tce", 2, "metric:2023:energy.total_tce", "Energy"),
                fig(5580.87, "tce", 2, "metric:2024:energy.total_tce", "Energy"),
            ),
        ),
        notes=("Scope 2 location-based in the total.",),
        sheet="E",
    )
    scopes = Chart(
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
            ),
        ),
    )
    gender = Chart(
        "gender",
        "bar",
        "Employees by gender",
        ("Women", "Men"),
        (
            Series(
                "Employees",
                (
                    fig(500, "persons", 0, "metric:2024:workforce.headcount.female", "Women"),
                    fig(734, "persons", 0, "metric:2024:workforce.headcount.male", "Men"),
                ),
            ),
        ),
    )
    sections = (
        Section(
            "about",
            "1",
            w["about"],
            1,
            blocks=(
                Narrative("about.text", w["text"]),
                FigureList("highlights", "Our year in figures", (total, headcount)),
            ),
            children=(
                Section(
                    "climate",
                    "1.1",
                    w["climate"],
                    2,
                    blocks=(kpi, scopes),
                    children=(Section("detail", "1.1.1", "Scope detail", 3),),
                ),
            ),
        ),
        Section("people", "2", w["people"], 1, blocks=(gender,)),
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
                ),
            ),
            new_index(
                "szse17",
                lang,
                (
                    IndexRow(
                        "21",
                        "Climate change",
                        ("1.1",),
                        four_elements="all four",
                        status="disclosed",
                    ),
                ),
            ),
        ),
        gaps=(Gap("GRI", "305-3", "no scope 3 figure"),),
        methodology=(MethodologyItem("GHG", "ISO 14064-1, **GHG Protocol**.", ("IPCC AR6",)),),
        meta={"data_version": "3 batches", "built_at": "2025-03-01T08:00:00Z"},
    )


@cache
def _tiny_png() -> bytes:
    plot = PlotFigure(figsize=(1, 1))
    FigureCanvasAgg(plot)
    buffer = io.BytesIO()
    plot.savefig(buffer, format="png", dpi=20, metadata={"Software": None})
    return buffer.getvalue()


@pytest.fixture(autouse=True)
def charts(monkeypatch: pytest.MonkeyPatch) -> None:
    """A stand-in for :mod:`esgledger.report.charts` until it exists."""
    try:
        importlib.import_module("esgledger.report.charts")
    except ImportError:
        stand_in = types.ModuleType("esgledger.report.charts")
        stand_in.png = lambda chart, lang, dpi=200: _tiny_png()  # type: ignore[attr-defined]
        monkeypatch.setitem(sys.modules, "esgledger.report.charts", stand_in)


def _open(report: Report) -> DocxDocument:
    return Document(io.BytesIO(render_docx(report)))


def _headings(doc: DocxDocument) -> list[tuple[int, str]]:
    return [
        (int(p.style.name.split()[-1]), p.text)
        for p in doc.paragraphs
        if p.style is not None and p.style.name.startswith("Heading ")
    ]


def test_headings_follow_the_section_tree_then_the_appendices() -> None:
    report = sample_report()
    headings = _headings(_open(report))
    sections = [(s.level, f"{s.number} {s.title}") for s in report.walk()]
    assert headings[: len(sections)] == sections
    assert [text for _, text in headings[len(sections) :]] == [
        "Methodology",
        "GHG",
        "GRI content index",
        "SZSE guideline No. 17 index",
        "Gap list",
        "Figure lineage",
        "Colophon",
    ]


def test_title_page_and_table_of_contents_field() -> None:
    doc = _open(sample_report())
    assert [p.text for p in doc.paragraphs[:3]] == [
        "2024 Sustainability Report",
        "Seed Group",
        "Reporting year 2024",
    ]
    assert doc.paragraphs[0].style.name == "Title"  # type: ignore[union-attr]
    body = doc.element.body.xml
    assert 'TOC \\o "1-3" \\h \\z \\u' in body
    assert doc.settings.element.find(qn("w:updateFields")) is not None


def test_narrative_bold_runs() -> None:
    doc = _open(sample_report())
    paragraph = next(p for p in doc.paragraphs if p.text == "We report every figure.")
    assert [(r.text, r.bold) for r in paragraph.runs] == [
        ("We report ", None),
        ("every", True),
        (" figure.", None),
    ]
    assert any(p.text == "=1+1 is not a formula." for p in doc.paragraphs)


def test_kpi_table_is_a_word_table_of_the_figures_text() -> None:
    report = sample_report()
    kpi = next(b for b in report.blocks() if isinstance(b, Table))
    doc = _open(report)
    table = doc.tables[0]  # the first table of the document is the report's first table
    assert table.style is not None and table.style.name == "Table Grid"
    assert [c.text for c in table.rows[0].cells] == list(kpi.columns)
    header = table.rows[0]._tr.trPr
    assert header is not None and header.find(qn("w:tblHeader")) is not None
    assert len(table.rows) == 1 + len(kpi.rows)
    for row, values in zip(table.rows[1:], kpi.rows, strict=True):
        for cell, value in zip(row.cells, values, strict=True):
            paragraph = cell.paragraphs[0]
            if isinstance(value, Figure):
                assert paragraph.runs[0].text == value.text()  # then the lineage reference
                assert re.fullmatch(r"\[\d+\]", paragraph.runs[1].text)
                reference = paragraph.runs[1].style
                assert reference is not None and reference.name == "Lineage Reference"
                assert reference.font.superscript
                assert paragraph.alignment == 2  # right
            else:
                assert cell.text == value
    assert table.rows[2].cells[2].paragraphs[0].runs[0].text == "—"  # missing: a dash


def test_lineage_references_point_to_the_lineage_table() -> None:
    report = sample_report()
    doc = _open(report)
    lineage = doc.tables[-1]
    assert [c.text for c in lineage.rows[0].cells] == ["Ref.", "Lineage", "Indicator"]
    refs = {row.cells[1].text: int(row.cells[0].text) for row in lineage.rows[1:]}
    assert set(refs) == {f.lineage for f in report.figures()}
    assert sorted(refs.values()) == list(range(1, len(refs) + 1))
    # the same lineage keeps its number: the figure list and the KPI table share ghg.total
    kpi_cell = doc.tables[0].rows[1].cells[3].paragraphs[0]
    assert kpi_cell.runs[1].text == f"[{refs['metric:2024:ghg.total']}]"
    bullet = next(p for p in doc.paragraphs if p.text.startswith("Total GHG emissions: "))
    assert bullet.text == f"Total GHG emissions: 31,925.01 tCO2e[{refs['metric:2024:ghg.total']}]"


def test_charts_are_images_with_their_title_as_caption() -> None:
    report = sample_report()
    doc = _open(report)
    charts = [b for b in report.blocks() if isinstance(b, Chart)]
    assert len(doc.inline_shapes) == len(charts)
    captions = [p.text for p in doc.paragraphs if p.style is not None and p.style.name == "Caption"]
    for chart in charts:
        assert any(re.fullmatch(re.escape(chart.title) + r"\[[\d\u2013, ]+\]", c) for c in captions)
    with zipfile.ZipFile(io.BytesIO(render_docx(report))) as archive:
        assert any(n.startswith("word/media/") and n.endswith(".png") for n in archive.namelist())


def test_content_indexes_and_gap_list_are_tables() -> None:
    report = sample_report()
    doc = _open(report)
    texts = [[[c.text for c in row.cells] for row in t.rows] for t in doc.tables]
    gri = next(t for t in texts if t[0][0] == "Disclosure")
    assert [r[:3] for r in gri[1:]] == [
        [g.clause, g.title, "\n".join(g.locations)] for g in report.index("gri").rows
    ]
    szse = next(t for t in texts if t[0][0] == "Article")
    assert szse[1][:2] == ["21", "Climate change"]
    gaps = next(t for t in texts if t[0][0] == "Framework")
    assert gaps[1] == ["GRI", "305-3", "no scope 3 figure"]


def test_colophon_from_meta() -> None:
    doc = _open(sample_report())
    texts = [p.text for p in doc.paragraphs]
    assert "Ledger data: 3 batches" in texts
    assert "Built at: 2025-03-01T08:00:00Z" in texts


def test_chinese_report_text_and_east_asian_font() -> None:
    report = sample_report("zh")
    data = render_docx(report)
    doc = Document(io.BytesIO(data))
    texts = "\n".join(p.text for p in doc.paragraphs)
    assert "关于本报告" in texts and "我们披露每一项数据。" in texts and "编制方法" in texts
    assert "GRI 内容索引" in texts and "目录" in texts
    assert any(t.rows[0].cells[0].text == "披露项" for t in doc.tables)
    normal = doc.styles["Normal"].element.rPr
    assert normal is not None and normal.rFonts.get(qn("w:eastAsia")) == EAST_ASIAN_FONT
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        styles = archive.read("word/styles.xml").decode()
        fonts = archive.read("word/fontTable.xml").decode()
    assert "eastAsiaTheme" not in styles  # headings too: the theme would pick a Japanese font
    assert f'<w:font w:name="{EAST_ASIAN_FONT}"><w:altName w:val="SimSun"/>' in fonts


def test_core_properties_are_fixed() -> None:
    doc = _open(sample_report())
    props = doc.core_properties
    assert props.author == "esgledger"
    assert props.created is not None and props.created.isoformat().startswith("2025-03-01T08:00")
    assert props.modified == props.created
    assert props.title == "2024 Sustainability Report"


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_same_report_same_bytes(lang: str) -> None:
    report = sample_report(lang)
    assert render_docx(report) == render_docx(report)


def test_settings_stay_in_schema_order() -> None:
    """``w:updateFields`` must come before ``w:compat`` (Word rejects misordered settings)."""
    doc = _open(sample_report())
    names = [child.tag.split("}")[1] for child in doc.settings.element]
    assert names.index("updateFields") < names.index("compat")
