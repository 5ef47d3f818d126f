"""The report model: what a built report holds, independent of its output format.

A :class:`Report` is a tree of :class:`Section` s, each holding blocks: :class:`Narrative`
text (stored per year and language), and data blocks bound to ledger queries: a
:class:`FigureList`, a :class:`Table` or a :class:`Chart`. Every number in a data block is a
:class:`Figure`, which carries its lineage id (``esgledger explain`` accepts it), so a
renderer never formats a number that did not come from the ledger: renderers print
``Figure.text()`` and never compute.

The model is frozen (tuples, frozen dataclasses): the builder (:mod:`esgledger.report.build`)
makes it once and every renderer reads the same object.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

Lang = Literal["zh", "en"]
LANGS: tuple[Lang, ...] = ("zh", "en")
FORMATS = ("html", "pdf", "docx", "xlsx")

NO_DATA = {"zh": "—", "en": "—"}


@dataclass(frozen=True, slots=True)
class Figure:
    """One number of the report, with the unit it is printed in and where it came from."""

    value: float | None
    """None: the ledger has no figure (printed as a dash, listed in the gap list)."""
    unit: str
    """The unit label in the report's language (``tCO2e``, ``吨二氧化碳当量``)."""
    precision: int
    """Decimals printed (the catalogue's precision for the metric)."""
    lineage: str
    """The id ``esgledger explain`` accepts: ``ghg:2024:S1``, ``energy:2024``,
    ``metric:2024:workforce.headcount`` (optionally ``:<entity>``)."""
    label: str = ""
    """What it is, in the report's language (a metric name, a scope)."""
    metric_id: str | None = None
    source: str = ""
    """``computed`` (the ledger computes it from records), ``reported`` (a figure entered or
    imported as such) or ``missing``."""

    @property
    def missing(self) -> bool:
        return self.value is None or (isinstance(self.value, float) and math.isnan(self.value))

    def text(self) -> str:
        """The figure as printed: thousands separators, ``precision`` decimals; a dash when
        missing."""
        if self.missing:
            return NO_DATA["en"]
        assert self.value is not None
        return f"{self.value:,.{self.precision}f}"


Cell = str | Figure
"""A table cell: text (names, units, years as headers) or a figure. Numbers are always
figures."""


@dataclass(frozen=True, slots=True)
class Narrative:
    """Text of a section in the report's language: paragraphs separated by blank lines,
    plain text with ``**bold**`` allowed. Stored per year and language in the ledger
    (:mod:`esgledger.report.narrative`), or the section's prompt where none is."""

    block_id: str
    text: str
    origin: str = "ledger"
    """``ledger`` (edited in the web app or imported from a file) or ``prompt`` (not written:
    printed set apart, not counted as disclosure)."""

    def paragraphs(self) -> tuple[str, ...]:
        return tuple(p.strip() for p in self.text.split("\n\n") if p.strip())


@dataclass(frozen=True, slots=True)
class FigureList:
    """Headline figures of a section, printed as a short list (label, value, unit)."""

    block_id: str
    title: str
    figures: tuple[Figure, ...]


@dataclass(frozen=True, slots=True)
class Table:
    """A table: header labels (units in headers where a column has one unit) and rows."""

    block_id: str
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    notes: tuple[str, ...] = ()
    sheet: str = ""
    """The XLSX sheet the table goes to (a pillar: ``E``, ``S``, ``G``; or ``index``)."""

    @classmethod
    def note_only(cls, block_id: str, title: str, note: str, sheet: str = "") -> Table:
        """A block the ledger cannot fill: no rows, a note saying why (never invented
        figures)."""
        return cls(block_id, title, (), (), notes=(note,), sheet=sheet)


@dataclass(frozen=True, slots=True)
class Series:
    name: str
    figures: tuple[Figure, ...]
    """One figure per category of the chart, in order."""
    kind: Literal["bar", "line", "pie", "scatter"] = "bar"
    axis: Literal["left", "right"] = "left"
    stack: str | None = None
    """Series with the same stack name are stacked."""


@dataclass(frozen=True, slots=True)
class Chart:
    """A chart, rendered as SVG in HTML/PDF and as PNG in DOCX by :mod:`esgledger.report.charts`."""

    block_id: str
    kind: Literal["stacked_bar_line", "pie", "bar", "matrix", "macc"]
    title: str
    categories: tuple[str, ...]
    series: tuple[Series, ...]
    y_label: str = ""
    y2_label: str = ""
    guides: tuple[float, ...] = ()
    """Reference lines of a matrix: the x threshold then the y threshold (e.g. the scores at
    which financial and impact materiality are high).

    A ``macc`` chart (marginal abatement cost curve) has two series over the same categories
    (the measures, cheapest first): the cost per tonne (bar heights, negative below the axis)
    and the yearly abatement (bar widths, laid end to end)."""


Block = Narrative | FigureList | Table | Chart


@dataclass(frozen=True, slots=True)
class Section:
    section_id: str
    number: str
    """Its number in the report (``2``, ``2.1``)."""
    title: str
    level: int
    framework_refs: tuple[tuple[str, str], ...] = ()
    """(framework id, clause) pairs this section answers, as written in
    ``data/section_refs.csv``: ``("gri", "305-1")``, ``("szse17", "23(1)")``."""
    blocks: tuple[Block, ...] = ()
    children: tuple[Section, ...] = ()

    def walk(self) -> Iterator[Section]:
        yield self
        for child in self.children:
            yield from child.walk()

    def cites(self, framework_id: str) -> tuple[str, ...]:
        """The clauses of a framework this section answers, in file order."""
        return tuple(clause for fid, clause in self.framework_refs if fid == framework_id)


@dataclass(frozen=True, slots=True)
class IndexRow:
    """A row of a content index. A ``disclosures`` index (GRI) fills ``omission``; an
    ``obligations`` index (SZSE No. 17) fills ``four_elements``, ``status`` and ``level``."""

    clause: str
    """The clause as its table keys it (``305-1``, ``21``)."""
    title: str
    """Its title (GRI) or topic (SZSE) in the report's language where the table has one."""
    locations: tuple[str, ...]
    """Section numbers and titles where it is disclosed (empty: omitted)."""
    omission: str = ""
    reason: str = ""
    four_elements: str = ""
    """For financially material topics: which of governance / strategy / impact-risk-
    opportunity management / metrics and targets are present; or ``not applicable``."""
    status: str = ""
    """``disclosed``, ``partly``, ``not applicable`` (with reason) or ``gap``."""
    level: str = ""
    """The clause's obligation in the report's language: mandatory, mandatory where it
    applies, or encouraged (from the table's level column)."""


@dataclass(frozen=True, slots=True)
class ContentIndex:
    """The content index of one framework of the registry
    (:mod:`esgledger.metrics.frameworks`), in the report's language."""

    framework_id: str
    title: str
    """The index's heading (``GRI content index``)."""
    name: str
    """The framework's name (``GRI``), as the gap list prints it."""
    anchor: str
    """The element id of the index in the HTML page (``gri-index``)."""
    columns: tuple[tuple[str, str], ...]
    """(label key, :class:`IndexRow` field) of each column, in order: the header word comes
    from the renderer's labels, the cell from the row."""
    rows: tuple[IndexRow, ...] = ()


@dataclass(frozen=True, slots=True)
class Gap:
    """A mandatory item with no data or text."""

    framework: str
    item: str
    what: str
    """What is missing (a metric without a figure, a section without text)."""
    metric_id: str = ""
    """The catalogue metric without a figure, for a missing-metric gap (else empty)."""
    framework_ids: tuple[str, ...] = ()
    """The frameworks of the item (``gri``, ``szse17``); empty for a section of the report."""


@dataclass(frozen=True, slots=True)
class MethodologyItem:
    topic: str
    text: str
    sources: tuple[str, ...] = ()


@dataclass(frozen=True)
class Report:
    year: int
    lang: Lang
    title: str
    organisation: str
    sections: tuple[Section, ...]
    indexes: tuple[ContentIndex, ...] = ()
    """One content index per framework the registry gives one, in registry order."""
    gaps: tuple[Gap, ...] = ()
    methodology: tuple[MethodologyItem, ...] = ()
    meta: dict[str, str] = field(default_factory=dict)
    """Build facts printed in the colophon: ledger data version, factor library version,
    build time (normalised by golden tests)."""

    def walk(self) -> Iterator[Section]:
        for section in self.sections:
            yield from section.walk()

    def index(self, framework_id: str) -> ContentIndex:
        """The content index of a framework; :class:`KeyError` when the report has none."""
        for found in self.indexes:
            if found.framework_id == framework_id:
                return found
        raise KeyError(f"no content index of framework {framework_id!r}")

    def blocks(self) -> Iterator[Block]:
        for section in self.walk():
            yield from section.blocks

    def figures(self) -> Iterator[Figure]:
        """Every figure of every data block, in report order (tests and the XLSX use it)."""
        for block in self.blocks():
            yield from block_figures(block)


def block_figures(block: Block) -> Iterator[Figure]:
    """The figures of a block, in order (none for a narrative)."""
    if isinstance(block, FigureList):
        yield from block.figures
    elif isinstance(block, Table):
        for row in block.rows:
            yield from (c for c in row if isinstance(c, Figure))
    elif isinstance(block, Chart):
        for series in block.series:
            yield from series.figures
