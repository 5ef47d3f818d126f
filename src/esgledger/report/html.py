"""The report as one self-contained HTML file (Jinja2, ``templates/report.html``).

The page holds everything: CSS inline (``templates/report.css``, and ``templates/print.css``
for PDF), charts as inline SVG (:mod:`esgledger.report.charts`), no script, no external
resource. Layout: a cover (title, organisation, reporting year), the table of contents with
section numbers, the sections by level with their blocks (narrative paragraphs with
``**bold**``, figure lists, tables as real ``<table>`` s with ``<th>`` headers, charts), the
methodology appendix, the content indexes (one per framework the registry gives one: GRI,
SZSE guideline No. 17; heading and anchor from the registry), the gap list and a colophon from
``Report.meta``. Fixed words come from ``data/labels.csv`` in the
report's language; the template itself holds no word of either language and no digit.

Numbers: every number printed is :meth:`Figure.text` of a figure of the model, inside
``<span class="fig" data-lineage="<id>" title="esgledger explain <id>">`` (hover shows how to
trace it). Screen pages add under each chart a collapsed data table of its figures.

Print (``for_pdf=True``, what :mod:`esgledger.report.pdf` renders): A4 pages numbered at the
bottom, each level-1 section and appendix part on a new page, table headers repeated, page
numbers in the table of contents. A hover title does not print, so each data block ends with
a note pointing to the page of its group in a "Figure lineage" appendix, which lists every
figure of the block (indicator, column or category, value, lineage id): the tables stay
clean and every printed figure can still be traced.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup, escape

from esgledger.report.model import (
    Block,
    Chart,
    Figure,
    FigureList,
    Narrative,
    Report,
    Section,
    Table,
    block_figures,
)

HTML_LANG = {"zh": "zh-CN", "en": "en"}
HEAD = {"charset": "utf-8", "viewport": "width=device-width, initial-scale=1"}
"""``<meta>`` values of the page head (kept out of the template, which holds no digit)."""
TAGS = {"title": "h1", "part": "h2", "item": "h3"}
"""Heading elements of the cover title, the appendix parts and their items."""

_BOLD = re.compile(r"\*\*(.+?)\*\*", re.DOTALL)
_CODE = re.compile(r"`([^`]+)`")
_ANCHOR = re.compile(r"[^A-Za-z0-9_-]+")


@cache
def labels() -> Mapping[str, Mapping[str, str]]:
    """The fixed words of the HTML and PDF report: key -> language -> text."""
    text = resources.files("esgledger.report").joinpath("data", "labels.csv").read_text("utf-8-sig")
    return {
        row["key"]: {"en": row["en"], "zh": row["zh"]} for row in csv.DictReader(io.StringIO(text))
    }


def label(key: str, lang: str, **values: object) -> str:
    """The fixed word ``key`` in ``lang``, with ``{name}`` placeholders filled in."""
    text = labels()[key][lang]
    return text.format(**values) if values else text


def _css(name: str) -> str:
    return resources.files("esgledger.report").joinpath("templates", name).read_text("utf-8")


def rich(text: str) -> Markup:
    """Plain text as HTML: escaped, ``**bold**`` as ``<strong>``, line breaks kept."""
    html = _BOLD.sub(r"<strong>\1</strong>", str(escape(text))).replace("\n", "<br>\n")
    return Markup(html)  # noqa: S704 - built from escaped text only


def code(text: str) -> Markup:
    """A fixed label as HTML: escaped, `` `command` `` as ``<code>``."""
    return Markup(_CODE.sub(r"<code>\1</code>", str(escape(text))))  # noqa: S704 - escaped


def paragraphs(text: str) -> tuple[str, ...]:
    """Paragraphs of a text (separated by blank lines)."""
    return Narrative("", text).paragraphs()


def anchor(*parts: str) -> str:
    """An element id from ``parts`` (letters, digits, ``_`` and ``-`` only)."""
    return "-".join(_ANCHOR.sub("-", p).strip("-") for p in parts if p)


def heading(level: int) -> str:
    """The heading element of a level: the cover is ``h1``, level-1 sections ``h2``."""
    return f"h{min(level + 1, 6)}"


@dataclass(frozen=True, slots=True)
class LineageRow:
    indicator: str
    column: str
    figure: Figure


@dataclass(frozen=True, slots=True)
class LineageGroup:
    """The figures of one data block, listed in the print lineage appendix."""

    anchor: str
    section: Section
    title: str
    rows: tuple[LineageRow, ...]


def _block_rows(block: Block) -> Iterator[LineageRow]:
    if isinstance(block, FigureList):
        for f in block.figures:
            yield LineageRow(f.label, "", f)
    elif isinstance(block, Table):
        for row in block.rows:
            names = [c for c in row if isinstance(c, str) and c]
            for j, cell in enumerate(row):
                if isinstance(cell, Figure):
                    column = block.columns[j] if j < len(block.columns) else ""
                    yield LineageRow(names[0] if names else cell.label, column, cell)
    elif isinstance(block, Chart):
        for series in block.series:
            for category, f in zip(block.categories, series.figures, strict=False):
                yield LineageRow(series.name, category, f)


def block_anchor(section: Section, block: Block) -> str:
    return anchor("lineage", section.section_id, block.block_id)


def lineage_groups(report: Report) -> tuple[LineageGroup, ...]:
    """The data blocks of the report with their figures, in report order."""
    groups: list[LineageGroup] = []
    for section in report.walk():
        for block in section.blocks:
            if isinstance(block, Narrative):
                continue
            rows = tuple(_block_rows(block))
            if rows:
                title = block.title or section.title
                groups.append(LineageGroup(block_anchor(section, block), section, title, rows))
    return tuple(groups)


def table_columns(table: Table) -> tuple[tuple[str, bool], ...]:
    """The table's column headers, each with whether the column holds figures (aligned right
    like them)."""
    return tuple(
        (name, any(j < len(row) and isinstance(row[j], Figure) for row in table.rows))
        for j, name in enumerate(table.columns)
    )


def chart_rows(chart: Chart) -> tuple[tuple[str, tuple[Figure | None, ...]], ...]:
    """The chart's data table: per category, the figure of each series (None: none)."""
    return tuple(
        (category, tuple(s.figures[i] if i < len(s.figures) else None for s in chart.series))
        for i, category in enumerate(chart.categories)
    )


def _chart_svg(lang: str) -> Callable[[Chart], Markup]:
    def draw(chart: Chart) -> Markup:
        from esgledger.report import charts  # noqa: PLC0415 - matplotlib loads in a second

        return Markup(charts.svg(chart, lang))  # noqa: S704 - matplotlib's escaped SVG

    return draw


def _is(kind: type) -> Callable[[object], bool]:
    return lambda value: isinstance(value, kind)


@cache
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("esgledger.report", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["rich"] = rich
    env.filters["code"] = code
    env.tests["narrative"] = _is(Narrative)
    env.tests["figure_list"] = _is(FigureList)
    env.tests["table"] = _is(Table)
    env.tests["chart"] = _is(Chart)
    env.tests["figure"] = _is(Figure)
    env.tests["with_figures"] = lambda block: next(block_figures(block), None) is not None
    return env


def render_html(report: Report, *, for_pdf: bool = False) -> str:
    """The report as one self-contained HTML page; ``for_pdf`` adds the print layout."""
    lang = report.lang
    css = _css("report.css") + (_css("print.css") if for_pdf else "")
    note_before, _, note_after = label("lineage_note", lang).partition("{page}")

    def word(key: str, **values: object) -> str:
        return label(key, lang, **values)

    def meta_label(key: str) -> str:
        return word(f"meta_{key}") if f"meta_{key}" in labels() else key

    context: dict[str, Any] = {
        "r": report,
        "for_pdf": for_pdf,
        "html_lang": HTML_LANG.get(lang, lang),
        "head": HEAD,
        "css": Markup(css),  # noqa: S704 - packaged stylesheets
        "created": report.meta.get("built_at", "") if for_pdf else "",
        "label": word,
        "meta_label": meta_label,
        "note_before": note_before,
        "note_after": note_after,
        "heading": heading,
        "tags": TAGS,
        "paragraphs": paragraphs,
        "section_anchor": lambda s: anchor("s", s.section_id),
        "block_anchor": block_anchor,
        "chart_svg": _chart_svg(lang),
        "chart_rows": chart_rows,
        "table_columns": table_columns,
        "lineage": lineage_groups(report) if for_pdf else (),
    }
    return _environment().get_template("report.html").render(context)
