"""The report as an XLSX workbook: its figures as numbers, each with its lineage id.

One sheet per pillar (Environment, Social, Governance; in the report's language), an
``Other`` sheet only when some figure belongs to no pillar, and a ``Content index`` sheet.

A pillar sheet is one flat table with one row per figure, in report order: section, table or
chart, row and column (where the figure stands in that table or chart), value, unit, lineage
id (``esgledger explain`` accepts it) and source (computed, reported, missing). The value is
the :attr:`Figure.value` written as a number with a number format of the figure's precision
(``#,##0.00`` for 2); a missing figure keeps its row with an empty value cell, never 0. Units
differ from row to row, so they have their own column. Headers are bold, the header row is
frozen, the table has an autofilter and the column widths follow the content.

Where a figure goes: a :class:`Table` names its sheet (``E``, ``S``, ``G`` or ``index``);
figures of a figure list, of a chart and of a table without a sheet go by the pillar of their
catalogue metric, and emissions (``ghg:``) and energy (``energy:``) lineages by the
environment; anything else goes to ``Other``.

The content index sheet holds the rows of every content index in registry order (GRI, then
SZSE guideline No. 17; one table with an autofilter, the framework's name in its first column),
then the gap list, then the figures of tables whose sheet is ``index``.

Every text cell goes through :func:`esgledger.workflow.export.xlsx_text` (text starting with
``=``, ``+``, ``-`` or ``@`` gets a leading ``'``) and is typed as a string, so no cell is ever
a formula. The bytes are deterministic: the workbook properties come from the report's
``built_at`` and :func:`stable_zip` fixes the zip entries' timestamps.

:func:`office_label` (the fixed words of ``data/labels_office.csv``) and :func:`stable_zip`
are shared with :mod:`esgledger.report.word`.
"""

from __future__ import annotations

import csv
import io
import unicodedata
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from importlib import resources

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

from esgledger.metrics import load_catalogue
from esgledger.report.model import (
    Chart,
    ContentIndex,
    Figure,
    FigureList,
    IndexRow,
    Report,
    Table,
)
from esgledger.workflow.export import xlsx_text

PILLARS = ("E", "S", "G")
OTHER = "other"
INDEX = "index"
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
"""The zip entries' timestamp (the earliest a zip can hold): renders are byte-identical."""
FALLBACK_TIME = datetime(1980, 1, 1)  # naive UTC, as the XLSX stores it
"""Workbook and document times when the report's ``built_at`` is not an ISO time."""
MIN_WIDTH, MAX_WIDTH = 8, 60


# -- shared with word.py ----------------------------------------------------------------------


@cache
def _labels() -> Mapping[str, Mapping[str, str]]:
    text = (
        resources.files("esgledger.report")
        .joinpath("data", "labels_office.csv")
        .read_text("utf-8-sig")
    )
    return {r["key"]: {"en": r["en"], "zh": r["zh"]} for r in csv.DictReader(io.StringIO(text))}


def office_label(key: str, lang: str) -> str:
    """A fixed word of the DOCX and XLSX renderers in ``lang`` (``data/labels_office.csv``)."""
    return _labels()[key][lang]


def index_title(index: ContentIndex, lang: str) -> str:
    """A content index's heading in the office documents: ``index_<framework id>`` of
    ``data/labels_office.csv`` where it has one (a shorter wording), else the registry's."""
    key = f"index_{index.framework_id}"
    return office_label(key, lang) if key in _labels() else index.title


def framework_name(index: ContentIndex, lang: str) -> str:
    """A framework's name in the office documents: ``framework_<framework id>`` of
    ``data/labels_office.csv`` where it has one, else the registry's."""
    key = f"framework_{index.framework_id}"
    return office_label(key, lang) if key in _labels() else index.name


def index_cell(row: IndexRow, field: str) -> str:
    """The text of a content index row's cell (locations one per line)."""
    return "\n".join(row.locations) if field == "locations" else str(getattr(row, field))


def built_at(report: Report) -> datetime:
    """The report's build time (naive UTC) from ``meta['built_at']``; a fixed time when
    absent or not an ISO time (golden tests pass ``fixed``)."""
    text = report.meta.get("built_at", "")
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return FALLBACK_TIME
    return when.astimezone(UTC).replace(tzinfo=None) if when.tzinfo else when


def stable_zip(data: bytes, patch: Mapping[str, Callable[[bytes], bytes]] | None = None) -> bytes:
    """The zip ``data`` rewritten with fixed timestamps (same content, same order), so that two
    renders of one report are byte-identical; ``patch`` maps an entry name to a function that
    rewrites that entry's content."""
    patch = patch or {}
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for entry in source.infolist():
            content = source.read(entry)
            if entry.filename in patch:
                content = patch[entry.filename](content)
            fixed = zipfile.ZipInfo(entry.filename, date_time=ZIP_EPOCH)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            target.writestr(fixed, content)
    return out.getvalue()


# -- where each figure goes -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Entry:
    """One figure row: the figure and where it stands in the report."""

    section: str
    block: str
    row: str
    column: str
    figure: Figure


def _figure_sheet(figure: Figure) -> str:
    catalogue = load_catalogue()
    if figure.metric_id and figure.metric_id in catalogue:
        return catalogue.get(figure.metric_id).pillar.value
    if figure.lineage.startswith(("ghg:", "energy:")):
        return "E"
    return OTHER


def _table_entries(section: str, table: Table) -> Iterator[_Entry]:
    for row in table.rows:
        texts = [c for c in row if isinstance(c, str)]
        for position, cell in enumerate(row):
            if isinstance(cell, Figure):
                head = table.columns[position] if position < len(table.columns) else ""
                yield _Entry(section, table.title, texts[0] if texts else cell.label, head, cell)


def _entries(report: Report) -> dict[str, list[_Entry]]:
    """Sheet key (``E``, ``S``, ``G``, ``other``, ``index``) -> its figure rows, in report
    order."""
    sheets: dict[str, list[_Entry]] = {key: [] for key in (*PILLARS, OTHER, INDEX)}
    for section in report.walk():
        where = f"{section.number} {section.title}".strip()
        for block in section.blocks:
            if isinstance(block, Table):
                fixed = block.sheet if block.sheet in (*PILLARS, INDEX) else ""
                if block.sheet and not fixed:
                    fixed = OTHER
                for entry in _table_entries(where, block):
                    sheets[fixed or _figure_sheet(entry.figure)].append(entry)
            elif isinstance(block, FigureList):
                for figure in block.figures:
                    entry = _Entry(where, block.title, figure.label, "", figure)
                    sheets[_figure_sheet(figure)].append(entry)
            elif isinstance(block, Chart):
                for series in block.series:
                    for position, figure in enumerate(series.figures):
                        category = (
                            block.categories[position]
                            if position < len(block.categories)
                            else figure.label
                        )
                        entry = _Entry(where, block.title, category, series.name, figure)
                        sheets[_figure_sheet(figure)].append(entry)
    return sheets


# -- writing ----------------------------------------------------------------------------------


def number_format(precision: int) -> str:
    """``#,##0`` for 0 decimals, ``#,##0.00`` for 2."""
    return "#,##0" if precision <= 0 else "#,##0." + "0" * precision


def _text_width(value: object) -> int:
    """Display width of a cell: wide (CJK) characters count twice."""
    text = str(value)
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


class _Sheet:
    """Writes rows on a worksheet and remembers the widths its columns need."""

    def __init__(self, sheet: Worksheet) -> None:
        self.sheet = sheet
        self.row = 0
        self.widths: dict[int, int] = {}

    def text(self, row: int, col: int, value: str, *, bold: bool = False) -> None:
        if not value:
            return
        cell = self.sheet.cell(row, col)
        cell.value = xlsx_text(value)
        cell.data_type = "s"
        if bold:
            cell.font = Font(bold=True)
        if "\n" in value:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        self._measure(col, value)

    def number(self, row: int, col: int, value: float | int, fmt: str) -> None:
        cell = self.sheet.cell(row, col)
        cell.value = value
        cell.number_format = fmt
        self._measure(col, f"{value:,.2f}")

    def _measure(self, col: int, value: str) -> None:
        longest = max((_text_width(line) for line in value.split("\n")), default=0)
        self.widths[col] = max(self.widths.get(col, 0), longest)

    def header(self, names: Sequence[str]) -> int:
        self.row += 1
        for col, name in enumerate(names, start=1):
            self.text(self.row, col, name, bold=True)
        return self.row

    def line(self, values: Sequence[str | int]) -> None:
        self.row += 1
        for col, value in enumerate(values, start=1):
            if isinstance(value, int):
                self.number(self.row, col, value, "0")
            else:
                self.text(self.row, col, value)

    def figure_rows(self, entries: Sequence[_Entry], lang: str) -> None:
        for e in entries:
            self.row += 1
            f = e.figure
            for col, value in enumerate((e.section, e.block, e.row, e.column), start=1):
                self.text(self.row, col, value)
            if f.value is not None and not f.missing:
                self.number(self.row, 5, float(f.value), number_format(f.precision))
            else:  # an empty cell, not 0; formatted for whoever fills it in
                self.sheet.cell(self.row, 5).number_format = number_format(f.precision)
            self.text(self.row, 6, f.unit)
            self.text(self.row, 7, f.lineage)
            source = f"source_{f.source or ('missing' if f.missing else '')}"
            known = source in _labels()
            self.text(self.row, 8, office_label(source, lang) if known else f.source)

    def finish(self, filter_to: int, columns: int) -> None:
        """Frozen header row, an autofilter over rows 1 to ``filter_to``, column widths."""
        self.sheet.freeze_panes = "A2"
        last = get_column_letter(columns)
        self.sheet.auto_filter.ref = f"A1:{last}{max(filter_to, 1)}"
        for col in range(1, columns + 1):
            width = min(MAX_WIDTH, max(MIN_WIDTH, self.widths.get(col, 0) + 2))
            self.sheet.column_dimensions[get_column_letter(col)].width = width


def _figure_header(lang: str) -> tuple[str, ...]:
    keys = ("section", "block", "row", "column", "value", "unit", "lineage", "source")
    return tuple(office_label(k, lang) for k in keys)


def _write_pillar(book: Workbook, title: str, entries: Sequence[_Entry], lang: str) -> None:
    writer = _Sheet(book.create_sheet(title))
    header = _figure_header(lang)
    writer.header(header)
    writer.figure_rows(entries, lang)
    writer.finish(writer.row, len(header))


def _write_index(book: Workbook, report: Report, entries: Sequence[_Entry]) -> None:
    lang = report.lang
    writer = _Sheet(book.create_sheet(office_label("sheet_index", lang)))
    keys = (
        "framework",
        "item",
        "title",
        "location",
        "four_elements",
        "status",
        "omission",
        "reason",
    )
    writer.header([office_label(k, lang) for k in keys])
    fields = ("clause", "title", "locations", "four_elements", "status", "omission", "reason")
    for index in report.indexes:
        name = framework_name(index, lang)
        for row in index.rows:
            # a clause that is a whole number (an article) is written as a number
            clause: str | int = int(row.clause) if row.clause.isdigit() else row.clause
            writer.line([name, clause, *(index_cell(row, f) for f in fields[1:])])
    filter_to = writer.row
    writer.row += 2  # a blank row, then the gap list's title
    writer.text(writer.row, 1, office_label("gap_list", lang), bold=True)
    writer.header([office_label(k, lang) for k in ("framework", "item", "missing")])
    for gap in report.gaps:
        writer.line([gap.framework, gap.item, gap.what])
    if entries:
        writer.row += 2
        writer.header(_figure_header(lang))
        writer.figure_rows(entries, lang)
    writer.finish(filter_to, len(keys))


def render_xlsx(report: Report) -> bytes:
    """The report's figures and content index as an XLSX workbook (see the module doc)."""
    lang = report.lang
    entries = _entries(report)
    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    for pillar in PILLARS:
        _write_pillar(book, office_label(f"sheet_{pillar}", lang), entries[pillar], lang)
    if entries[OTHER]:
        _write_pillar(book, office_label("sheet_other", lang), entries[OTHER], lang)
    _write_index(book, report, entries[INDEX])
    when = built_at(report)
    props = book.properties
    props.creator = props.lastModifiedBy = "esgledger"
    props.created = props.modified = when
    props.title = report.title
    props.subject = report.organisation
    props.language = "zh-CN" if lang == "zh" else "en"
    buffer = io.BytesIO()
    # ExcelWriter rather than Workbook.save: save() stamps the current time as 'modified'
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(book, archive).write_data()
    return stable_zip(buffer.getvalue())
