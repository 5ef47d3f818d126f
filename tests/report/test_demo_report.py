"""The demo group's 2024 report end to end: the PDF read back (pdftoppm pages, pdftotext
text), the DOCX's key performance table, and golden HTML files of both languages.

Update the golden files after an intended change with::

    ESGLEDGER_UPDATE_GOLDEN=1 .venv/bin/pytest tests/report/test_demo_report.py

They hold the page with the build facts (``Report.meta``: data version, factor library
version, build time) replaced by placeholders and each inline SVG chart reduced to its text
(the drawing depends on matplotlib's version, the words and figures do not).
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from docx import Document

from esgledger.demo import build_demo
from esgledger.report import build_report, render
from esgledger.report.model import Figure, Report, Table

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("ESGLEDGER_UPDATE_GOLDEN") == "1"

needs_poppler = pytest.mark.skipif(
    not all(shutil.which(t) for t in ("pdftoppm", "pdftotext", "pdfinfo")),
    reason="poppler-utils (pdftoppm, pdftotext, pdfinfo) not installed",
)


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Report]:
    ledger, _ = build_demo(tmp_path_factory.mktemp("demo-report") / "demo.db")
    built = "2026-01-01T00:00:00Z"
    return {lang: build_report(ledger, 2024, lang, built_at=built) for lang in ("zh", "en")}


def _kpi_tables(report: Report) -> list[Table]:
    return [
        b for s in report.walk() if s.section_id == "kpi" for b in s.blocks if isinstance(b, Table)
    ]


def _kpi_figures(report: Report) -> list[Figure]:
    return [c for t in _kpi_tables(report) for r in t.rows for c in r if isinstance(c, Figure)]


EXPECTED = {
    "zh": ("2024年可持续发展报告", "气候行动", "关键绩效表", "指标索引", "温室气体排放总量"),
    "en": ("2024 Sustainability Report", "Climate action", "Key performance table", "GRI"),
}


@needs_poppler
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_pdf_has_its_pages_and_every_kpi_figure(
    reports: dict[str, Report], lang: str, tmp_path: Path
) -> None:
    report = reports[lang]
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(render(report, "pdf"))
    info = subprocess.run(["pdfinfo", pdf], capture_output=True, text=True, check=True).stdout
    found = re.search(r"^Pages:\s+(\d+)", info, re.MULTILINE)
    assert found is not None
    pages = int(found.group(1))
    subprocess.run(["pdftoppm", "-r", "30", "-png", pdf, tmp_path / "page"], check=True)
    assert len(list(tmp_path.glob("page-*.png"))) == pages >= 30
    text = subprocess.run(
        ["pdftotext", "-layout", pdf, "-"], capture_output=True, text=True, check=True
    ).stdout
    for words in EXPECTED[lang]:
        assert words in text, words
    for figure in ("31,925.01", "4,472.70", "24,186.91", "5,580.87", "90,759"):
        assert figure in text, figure
    missing = [f.lineage for f in _kpi_figures(report) if f.text() not in text]
    assert missing == []


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_docx_kpi_tables_hold_the_ledgers_figures(
    reports: dict[str, Report], lang: str
) -> None:
    report = reports[lang]
    document = Document(io.BytesIO(render(report, "docx")))
    by_name: dict[str, list[str]] = {}
    for word_table in document.tables:
        for word_row in word_table.rows:
            cells = word_row.cells
            if len(cells) >= 3:
                by_name.setdefault(cells[0].text, []).extend(
                    c.paragraphs[0].runs[0].text if c.paragraphs[0].runs else "" for c in cells
                )
    for table in _kpi_tables(report):
        for row in table.rows:
            name, unit, *figures = row
            assert isinstance(name, str)
            printed = by_name[name]
            assert unit in printed
            for figure in figures:
                assert isinstance(figure, Figure)
                assert figure.text() in printed, (name, figure.text())


def _normalise(page: str, report: Report) -> str:
    for key, value in report.meta.items():
        if value:
            page = page.replace(value, f"<{key}>")

    def summary(match: re.Match[str]) -> str:
        texts = re.findall(r"<text\b[^>]*>([^<]*)</text>", match.group(0))
        return "<svg><!-- " + " | ".join(texts).replace("--", "- -") + " --></svg>"

    return re.sub(r"<svg\b.*?</svg>", summary, page, flags=re.DOTALL)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_html_matches_the_golden_file(reports: dict[str, Report], lang: str) -> None:
    report = reports[lang]
    page = _normalise(render(report, "html").decode("utf-8"), report)
    path = GOLDEN / f"demo-2024-{lang}.html"
    if UPDATE or not path.exists():
        path.write_text(page, encoding="utf-8")
        if not UPDATE:
            pytest.fail(f"{path.name} written: review it and run again")
    assert page == path.read_text(encoding="utf-8"), (
        f"{path.name} differs: ESGLEDGER_UPDATE_GOLDEN=1 rewrites it (review the diff)"
    )
