"""No number reaches a report except from a ledger query.

Three checks together:

1. every figure of the model is what its lineage id explains: ``esgledger explain <id>``
   (``esgledger.figures.value``, the figure registry) gives the same value, rounded as printed;
2. the outputs print nothing numeric of their own: in the HTML (which the PDF is made from)
   and in the DOCX, once every figure's text and every other string of the model (titles,
   names, units, index rows, methodology, all of which come from data files with sources) is
   taken out, no digit is left; in the XLSX every numeric cell is a figure's value on the row
   of its lineage id;
3. the templates and the fixed labels hold no number (years come in as ``{year}``).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from importlib import resources

import pytest
from docx import Document
from openpyxl import load_workbook

from esgledger.demo import build_demo
from esgledger.figures import value as figure_value
from esgledger.report import build_report, render
from esgledger.report.model import Chart, Figure, FigureList, Narrative, Report, Table
from esgledger.report.workbook import office_label
from esgledger.store.ledger import Ledger

DIGIT = re.compile(r"\d")
NAMES = re.compile(
    r"No\. ?17|第17号|GB/T 2589-2020|ISO 14064-1( 6\.4\.1)?|GHG Protocol chapter 5"
    r"|(?i:scopes? [123](?:(?:, | and )[123])*)"
    r"|t?CO2e?|100-year|100年|\(share 0\)|比例为0|art\. \d+"
)
"""Names with digits in them: standards, scopes, gases, the GWP horizon, the share of an
entity outside the boundary, guideline articles.
They name things; none is a figure of the ledger."""
ORDINALS = {"scope.1", "scope.2", "scope.3"}
"""The scope numbers as the methodology text prints them (1 / 一)."""


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> Ledger:
    made, _ = build_demo(tmp_path_factory.mktemp("trace") / "demo.db")
    return made


@pytest.fixture(scope="module")
def reports(ledger: Ledger) -> dict[str, Report]:
    return {lang: build_report(ledger, 2024, lang) for lang in ("zh", "en")}


def _model_strings(report: Report) -> Iterator[str]:
    """Every string of the model that is not a figure's text."""
    yield from (report.title, report.organisation, *report.meta.values())
    for section in report.walk():
        yield from (section.number, section.title, *(c for _, c in section.framework_refs))
        for block in section.blocks:
            if isinstance(block, Narrative):
                yield from block.paragraphs()
                continue
            yield block.block_id
            yield block.title
            if isinstance(block, Table):
                yield from block.columns
                yield from block.notes
                yield from (c for row in block.rows for c in row if isinstance(c, str))
            if isinstance(block, Chart):
                yield from (*block.categories, block.y_label, block.y2_label)
                yield from (s.name for s in block.series)
    for figure in report.figures():
        yield from (figure.label, figure.unit, figure.lineage, figure.metric_id or "")
    for index in report.indexes:
        yield from (index.title, index.name)
        for z in index.rows:
            yield from (z.clause, z.title, *z.locations, z.omission, z.four_elements, z.status)
            yield from (z.reason, z.level)
    for gap in report.gaps:
        yield from (gap.framework, gap.item, gap.what, gap.metric_id)
    for item in report.methodology:
        yield from (item.topic, item.text, *item.sources)


def _without(text: str, strings: list[str]) -> str:
    for s in strings:  # longest first, so that a string inside another goes with it
        if s:
            text = text.replace(s, " ")
    return text


def _leftover_digits(text: str, report: Report) -> list[str]:
    strings = sorted({s for s in _model_strings(report) if s}, key=len, reverse=True)
    figures = sorted({f.text() for f in report.figures()}, key=len, reverse=True)
    rest = _without(_without(text, strings), figures)
    return [rest[max(0, m.start() - 30) : m.end() + 30] for m in DIGIT.finditer(rest)]


class _Text(HTMLParser):
    """The printed text of the HTML, without the inline SVG charts (their axis ticks are a
    scale, not figures) and without the style sheet."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("svg", "style", "script"):
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("svg", "style", "script"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def test_every_figure_is_what_its_lineage_explains(
    ledger: Ledger, reports: dict[str, Report]
) -> None:
    """Each lineage id once (both languages print the same figures: checked too)."""
    figures: dict[str, Figure] = {}
    for report in reports.values():
        for figure in report.figures():  # every figure has an id of its own (carriers too)
            seen = figures.setdefault(figure.lineage, figure)
            assert (seen.value, seen.precision) == (figure.value, figure.precision)
    for lineage, figure in figures.items():
        explained = figure_value(ledger, lineage)
        if figure.missing:
            assert explained is None, lineage
        else:
            assert explained is not None, lineage
            # the printed figure is the explained one rounded to its precision; sums in another
            # order may differ by an ulp, so a value at a half-way point may round either way
            half = 0.5 * 10.0**-figure.precision
            assert abs(explained - (figure.value or 0.0)) <= half * (1 + 1e-9), lineage
    assert len(figures) > 100


def test_the_energy_mix_adds_up_to_the_energy_figure_it_explains(
    ledger: Ledger, reports: dict[str, Report]
) -> None:
    chart = next(
        b for b in reports["en"].blocks() if isinstance(b, Chart) and b.block_id == "energy_mix"
    )
    parts = chart.series[0].figures
    assert all(f.lineage.startswith("carrier:2024:") for f in parts)
    assert len({f.lineage for f in parts}) == len(parts)  # one id per carrier
    total = figure_value(ledger, "energy:2024")
    assert total is not None
    assert sum(f.value or 0.0 for f in parts) == pytest.approx(total, abs=0.01)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_html_prints_no_number_of_its_own(reports: dict[str, Report], lang: str) -> None:
    report = reports[lang]
    parser = _Text()
    parser.feed(render(report, "html").decode("utf-8"))
    assert _leftover_digits(" ".join(parser.parts), report) == []


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_docx_prints_no_number_of_its_own(reports: dict[str, Report], lang: str) -> None:
    report = reports[lang]
    document = Document(io.BytesIO(render(report, "docx")))
    texts = [p.text for p in document.paragraphs]
    texts += [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    # lineage references ([12]) and the figure-lineage table's Ref column are counters
    text = re.sub(r"\[\d+(?:[–-]\d+)?(?:, ?\d+(?:[–-]\d+)?)*\]", " ", "\n".join(texts))
    leftovers = [
        s for s in _leftover_digits(text, report) if not re.fullmatch(r"\s*\d+\s*", s.strip())
    ]
    assert leftovers == []


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_xlsx_number_is_a_figure_on_its_lineage_row(
    reports: dict[str, Report], lang: str
) -> None:
    report = reports[lang]
    values: dict[str, set[float]] = {}
    for f in report.figures():
        if not f.missing:
            values.setdefault(f.lineage, set()).add(float(f.value or 0.0))
    articles = {int(z.clause) for z in report.index("szse17").rows}
    book = load_workbook(io.BytesIO(render(report, "xlsx")))
    numbers = 0
    for sheet in book.worksheets:
        rows = list(sheet.iter_rows(values_only=True))
        if not rows:
            continue
        lineage_columns = [i for i, h in enumerate(rows[0]) if h == office_label("lineage", lang)]
        for row in rows[1:]:
            for cell in row:
                if isinstance(cell, bool) or not isinstance(cell, int | float):
                    continue
                if not lineage_columns:  # the content index: SZSE article numbers only
                    assert cell in articles, (sheet.title, cell)
                    continue
                lineage = str(row[lineage_columns[0]])
                assert float(cell) in values.get(lineage, set()), (sheet.title, lineage, cell)
                numbers += 1
    assert numbers == sum(1 for f in report.figures() if not f.missing)


def _data_rows(name: str) -> list[dict[str, str]]:
    text = resources.files("esgledger.report").joinpath("data", name).read_text("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def test_templates_and_fixed_labels_hold_no_number() -> None:
    """The words the renderers add hold no number: a year enters as ``{year}``; names that
    contain digits by nature (Scope 1, GB/T 2589-2020, guideline No. 17) come from the model."""
    template = resources.files("esgledger.report").joinpath("templates", "report.html")
    text = template.read_text("utf-8")
    text = re.sub(r"\{[{%#].*?[}%#]\}", " ", text, flags=re.DOTALL)  # Jinja
    text = re.sub(r"<style.*?</style>|<[^>]+>", " ", text, flags=re.DOTALL)  # markup
    assert DIGIT.findall(text) == []
    found = []
    for name in ("labels.csv", "labels_office.csv", "index_labels.csv", "methodology_text.csv"):
        for row in _data_rows(name):
            if row["key"] in ORDINALS:
                continue
            for lang in ("en", "zh"):
                words = NAMES.sub(" ", re.sub(r"\{[^}]*\}", " ", row[lang]))
                if DIGIT.search(words):
                    found.append((name, row["key"], lang, words))
    assert found == []


def test_figure_lists_and_tables_show_every_figure_once_per_place(
    reports: dict[str, Report],
) -> None:
    """A figure list never repeats a metric; a table row never repeats a lineage id."""
    for block in reports["en"].blocks():
        if isinstance(block, FigureList):
            ids = [f.lineage for f in block.figures]
            assert len(ids) == len(set(ids)), block.block_id
        if isinstance(block, Table):
            for row in block.rows:
                ids = [c.lineage for c in row if not isinstance(c, str)]
                assert len(ids) == len(set(ids)), block.block_id
