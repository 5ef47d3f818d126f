"""Build the report model of a year and language from the ledger.

The section tree (``data/sections.csv``: the seed report's chapters; their framework
references in ``data/section_refs.csv``) and the data blocks bound to ledger queries
(``data/blocks.csv``: section, kind, query, arguments) are data; this module only runs the
queries. Every number of the report comes from here, as a :class:`Figure` with the lineage id
``esgledger explain`` accepts:

- catalogue metrics: ``metric:<year>:<metric_id>``, the ledger's own figure where it computes
  one (``service.computed_figures``), else the figure stored in the ledger as reported;
- emissions by scope: ``ghg:<year>:<S1|S2L|S2M|S3|TOTAL>`` from the inventory of all years;
- energy by carrier: its standard coal in ``energy:<year>`` (the carrier is a line of it).

Queries (``query`` column): ``metrics`` (a figure list or a table of the metrics in ``args``),
``ghg_series`` (emissions by scope and intensity over the years: a table or the stacked-bar
chart), ``energy_mix`` (standard coal by carrier: a pie chart), ``breakdown``
(``parent:dimension``: the members of a catalogue breakdown as a bar chart) and ``kpi`` (the
key performance table rows of a pillar, ``args`` E, S or G: the seed report's table order);
the assessment queries (:mod:`esgledger.report.assessments`) and the carbon strategy queries
``lmdi`` (``args`` scope or entity), ``pathway`` and ``pathway_progress``
(:mod:`esgledger.report.strategy`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

from esgledger import service
from esgledger.book import Book, Source, book_of
from esgledger.calc import InventoryResult
from esgledger.domain.figure_id import FigureId
from esgledger.metrics import load_catalogue
from esgledger.metrics.catalogue import Catalogue, Metric
from esgledger.report import assessments, indexes, methodology
from esgledger.report.model import (
    Block,
    Cell,
    Chart,
    Figure,
    FigureList,
    Lang,
    Narrative,
    Report,
    Section,
    Series,
    Table,
)
from esgledger.report.narrative import narrative_for
from esgledger.report.sections import (
    ReportConfigError,
    SectionSpec,
    data_rows,
    data_text,
    load_sections,
)
from esgledger.store.ledger import Ledger

SCOPES = (
    ("scope1", "S1", "scope1"),
    ("scope2_location", "S2L", "scope2_location"),
    ("scope2_market", "S2M", "scope2_market"),
    ("scope3", "S3", "scope3"),
)
"""(inventory total key, lineage scope code, label key)."""
SCOPE_METRICS = {
    s["key"]: s["metric_id"] for s in service.ledger_sources() if s["source"] == "inventory"
}
"""Inventory total key -> the catalogue metric it is (``metrics/data/ledger_sources.csv``),
so that the content indexes find GRI 305-1..3 behind the emission series."""


@cache
def labels() -> Mapping[str, Mapping[str, str]]:
    """Fixed words of the builder (column headers, scope names) in both languages."""
    rows = data_rows(data_text("build_labels.csv"), "build_labels.csv", ("key", "en", "zh"))
    return {r["key"]: {"en": r["en"], "zh": r["zh"]} for r in rows}


def label(key: str, lang: Lang) -> str:
    return labels()[key][lang]


@dataclass(frozen=True, slots=True)
class BlockSpec:
    section_id: str
    block_id: str
    kind: str
    query: str
    args: tuple[str, ...]
    title_en: str
    title_zh: str
    sheet: str
    row: int = 0


def _split(value: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in value.split(";") if p.strip())


KINDS = {
    "figures": ("metrics",),
    "table": (
        "metrics",
        "ghg_series",
        "kpi",
        "materiality",
        "materiality_changes",
        "climate_register",
        "climate_changes",
        "register_counts",
        "lmdi",
        "pathway",
        "pathway_progress",
    ),
    "chart": ("ghg_series", "energy_mix", "breakdown", "materiality"),
}


def load_blocks(
    sections: tuple[SectionSpec, ...], path: Path | None = None
) -> tuple[BlockSpec, ...]:
    name = str(path) if path else "blocks.csv"
    text = path.read_text("utf-8-sig") if path else data_text("blocks.csv")
    rows = data_rows(text, name, ("section_id", "block_id", "kind", "query", "args"))
    known = {s.section_id for s in sections}
    catalogue = load_catalogue()
    specs = []
    for number, row in enumerate(rows, start=2):
        where = f"{name}:{number}"
        if row["section_id"] not in known:
            raise ReportConfigError(f"{where}:section_id: no section {row['section_id']!r}")
        if row["query"] not in KINDS.get(row["kind"], ()):
            raise ReportConfigError(
                f"{where}:query: {row['query']!r} does not make a {row['kind']!r} block"
                f" (kinds and queries: {KINDS})"
            )
        args = _split(row["args"])
        if row["query"] == "register_counts" and args not in (
            ("suppliers",),
            ("bcm",),
            ("infosec",),
        ):
            raise ReportConfigError(f"{where}:args: expected one of suppliers, bcm, infosec")
        if row["query"] == "lmdi" and args not in ((), ("scope",), ("entity",)):
            raise ReportConfigError(f"{where}:args: expected scope or entity (the subsectors)")
        if row["query"] == "metrics":
            unknown = [a for a in args if a not in catalogue]
            if unknown or not args:
                raise ReportConfigError(
                    f"{where}:args: expected catalogue metric ids, got {', '.join(unknown)}"
                )
        specs.append(
            BlockSpec(
                row["section_id"],
                row["block_id"],
                row["kind"],
                row["query"],
                args,
                row.get("title_en", ""),
                row.get("title_zh", ""),
                row.get("sheet", ""),
                number,
            )
        )
    return tuple(specs)


@dataclass
class _Context:
    """The Book's figures of the report (each computed once per Book, whoever asks)."""

    book: Book
    year: int
    lang: Lang
    catalogue: Catalogue = field(init=False)
    _values: dict[int, dict[str, tuple[float, str]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.catalogue = self.book.catalogue()  # the packaged one with the company's own

    @property
    def ledger(self) -> Ledger:
        return self.book.ledger

    def values(self, year: int) -> dict[str, tuple[float, str]]:
        """metric id -> (value, source) of a year: computed by the ledger, else reported."""
        if year not in self._values:
            computed, _ = service.computed_figures(self.book, year)
            stored = service.group_reported_values(self.book, year)
            out = {m: (v, "reported") for m, v in stored.items()}
            out.update({m: (v, "computed") for m, v in computed.items()})
            self._values[year] = out
        return self._values[year]

    @property
    def inventory(self) -> InventoryResult:
        return self.book.inventory()

    def metric(self, metric_id: str, year: int | None = None) -> Figure:
        year = self.year if year is None else year
        metric = self.catalogue.get(metric_id)
        found = self.values(year).get(metric_id)
        return Figure(
            value=None if found is None else round(found[0], metric.precision),
            unit=metric.label(self.lang),
            precision=metric.precision,
            lineage=str(FigureId.of("metric", year, metric_id)),
            label=metric.name(self.lang),
            metric_id=metric_id,
            source="missing" if found is None else found[1],
        )

    def title(self, spec: BlockSpec) -> str:
        return spec.title_zh if self.lang == "zh" and spec.title_zh else spec.title_en


# -- queries ----------------------------------------------------------------------------------


def _metrics(ctx: _Context, spec: BlockSpec) -> Block:
    figures = tuple(ctx.metric(m) for m in spec.args)
    if spec.kind == "figures":
        return FigureList(spec.block_id, ctx.title(spec), figures)
    head = (label("indicator", ctx.lang), label("unit", ctx.lang), str(ctx.year))
    rows = tuple((f.label, f.unit, f) for f in figures)
    return Table(spec.block_id, ctx.title(spec), head, rows, sheet=spec.sheet)


def _series_years(ctx: _Context) -> list[int]:
    return [y for y in ctx.inventory.years() if y <= ctx.year]


def _scope_figure(ctx: _Context, year: int, key: str, code: str) -> Figure:
    """A scope total of a year; missing (not 0) when the inventory has no line for it, e.g.
    market-based scope 2 of a year entered as location-based totals only."""
    found = service.inventory_figures(ctx.inventory, year, None)[key]
    value = None if found is None else round(found, 2)
    return Figure(
        value,
        label("tco2e", ctx.lang),
        2,
        str(FigureId.of("ghg", year, code)),
        label(key, ctx.lang),
        metric_id=SCOPE_METRICS.get(key),
        source="missing" if value is None else "computed",
    )


def _ghg_series(ctx: _Context, spec: BlockSpec) -> Block:
    years = _series_years(ctx)
    scopes = [(k, c, lab) for k, c, lab in SCOPES if k != "scope2_market" or spec.kind == "table"]
    if spec.kind == "chart":
        series = [
            Series(
                label(lab, ctx.lang),
                tuple(_scope_figure(ctx, y, k, c) for y in years),
                "bar",
                stack="ghg",
            )
            for k, c, lab in scopes
        ]
        intensity = tuple(ctx.metric("ghg.intensity_revenue", y) for y in years)
        series.append(Series(label("intensity", ctx.lang), intensity, "line", axis="right"))
        return Chart(
            spec.block_id,
            "stacked_bar_line",
            ctx.title(spec),
            tuple(str(y) for y in years),
            tuple(series),
            y_label=label("tco2e", ctx.lang),
            y2_label=ctx.catalogue.get("ghg.intensity_revenue").label(ctx.lang),
        )
    head = (
        label("year", ctx.lang),
        *(f"{label(lab, ctx.lang)} ({label('tco2e', ctx.lang)})" for _, _, lab in scopes),
        f"{label('total', ctx.lang)} ({label('tco2e', ctx.lang)})",
        f"{label('intensity', ctx.lang)} "
        f"({ctx.catalogue.get('ghg.intensity_revenue').label(ctx.lang)})",
    )
    rows: tuple[tuple[Cell, ...], ...] = tuple(
        (
            str(y),
            *(_scope_figure(ctx, y, k, c) for k, c, _ in scopes),
            _scope_figure(ctx, y, "total", "TOTAL"),
            ctx.metric("ghg.intensity_revenue", y),
        )
        for y in years
    )
    notes = (label("scope2_total_note", ctx.lang),)
    return Table(spec.block_id, ctx.title(spec), head, rows, notes=notes, sheet=spec.sheet)


def _energy_mix(ctx: _Context, spec: BlockSpec) -> Block:
    energy = ctx.inventory.energy
    energy = energy[energy["year"] == ctx.year]
    by_type = energy.groupby("activity_type", sort=True)["tce"].sum()
    names = {
        s["key"]: ctx.catalogue.get(s["metric_id"]).name(ctx.lang)
        for s in service.ledger_sources()
        if s["source"] == "activity"
    }
    tce = label("tce", ctx.lang)
    figures = tuple(
        Figure(
            round(float(v), 2),
            tce,
            2,
            str(FigureId.of("carrier", ctx.year, str(t))),
            names.get(str(t), str(t)),
            source="computed",
        )
        for t, v in by_type.items()
    )
    return Chart(
        spec.block_id,
        "pie",
        ctx.title(spec),
        tuple(f.label for f in figures),
        (Series(label("energy", ctx.lang), figures, "pie"),),
        y_label=tce,
    )


def _breakdown(ctx: _Context, spec: BlockSpec) -> Block:
    parent, _, dimension = spec.args[0].partition(":")
    members = ctx.catalogue.members(parent, dimension or None)
    if not members:
        raise ReportConfigError(
            f"blocks.csv:{spec.row}:args: {spec.args[0]!r} names no catalogue breakdown"
        )
    figures = tuple(ctx.metric(m.metric_id) for m in members)
    unit = ctx.catalogue.get(parent).label(ctx.lang)
    return Chart(
        spec.block_id,
        "bar",
        ctx.title(spec),
        tuple(f.label for f in figures),
        (Series(ctx.catalogue.get(parent).name(ctx.lang), figures, "bar"),),
        y_label=unit,
    )


def _kpi(ctx: _Context, spec: BlockSpec) -> Block:
    pillar = spec.args[0] if spec.args else ""
    years = [ctx.year - 1, ctx.year]
    metrics: list[Metric] = [
        m for m in service.key_metrics(ctx.book, years) if not pillar or m.pillar.value == pillar
    ]
    shown = [y for y in years if any(m.metric_id in ctx.values(y) for m in metrics)] or [ctx.year]
    head = (label("indicator", ctx.lang), label("unit", ctx.lang), *(str(y) for y in shown))
    rows: tuple[tuple[Cell, ...], ...] = tuple(
        (m.name(ctx.lang), m.label(ctx.lang), *(ctx.metric(m.metric_id, y) for y in shown))
        for m in metrics
    )
    return Table(spec.block_id, ctx.title(spec), head, rows, sheet=spec.sheet or pillar)


def _assessment(ctx: _Context, spec: BlockSpec) -> Block:
    """The assessment blocks (:mod:`esgledger.report.assessments`)."""
    makers: dict[tuple[str, str], Callable[..., Block]] = {
        ("chart", "materiality"): assessments.materiality_matrix,
        ("table", "materiality"): assessments.material_topics,
        ("table", "materiality_changes"): assessments.materiality_changes,
        ("table", "climate_register"): assessments.climate_register,
        ("table", "climate_changes"): assessments.climate_changes,
        ("table", "register_counts"): assessments.register_counts,
    }
    return makers[(spec.kind, spec.query)](
        ctx.book,
        ctx.year,
        ctx.lang,
        spec.block_id,
        ctx.title(spec),
        spec.sheet,
        label,
        *spec.args,
    )


def _strategy(ctx: _Context, spec: BlockSpec) -> Block:
    """The carbon strategy blocks (:mod:`esgledger.report.strategy`, imported here: it
    imports the forecasting stack)."""
    from esgledger.report import strategy  # noqa: PLC0415

    makers: dict[str, Callable[..., Block]] = {
        "lmdi": strategy.lmdi_effects,
        "pathway": strategy.pathway_years,
        "pathway_progress": strategy.pathway_progress,
    }
    return makers[spec.query](
        ctx.book,
        ctx.year,
        ctx.lang,
        spec.block_id,
        ctx.title(spec),
        spec.sheet,
        label,
        *spec.args,
    )


QUERIES: dict[str, Callable[[_Context, BlockSpec], Block]] = {
    "metrics": _metrics,
    "ghg_series": _ghg_series,
    "energy_mix": _energy_mix,
    "breakdown": _breakdown,
    "kpi": _kpi,
    "materiality": _assessment,
    "materiality_changes": _assessment,
    "climate_register": _assessment,
    "climate_changes": _assessment,
    "register_counts": _assessment,
    "lmdi": _strategy,
    "pathway": _strategy,
    "pathway_progress": _strategy,
}


# -- the report -------------------------------------------------------------------------------


def data_version(ledger: Ledger) -> str:
    """The newest batch of the ledger and the number of batches: what the report's data is."""
    count, newest = ledger.batch_summary()
    return f"{count} batches, newest {newest or '-'}"


def build_report(
    source: Source,
    year: int,
    lang: Lang,
    *,
    built_at: str | None = None,
    sections_path: Path | None = None,
    blocks_path: Path | None = None,
) -> Report:
    """The report of ``year`` in ``lang`` (``zh`` or ``en``) from the figures of a Book (or
    of a ledger's current Book)."""
    if lang not in ("zh", "en"):
        raise ValueError(f"language {lang!r}: expected zh or en")
    specs = load_sections(sections_path)
    block_specs = load_blocks(specs, blocks_path)
    book = book_of(source)
    ledger = book.ledger
    ctx = _Context(book, year, lang)
    texts = narrative_for(ledger.engine, year, lang)
    by_section: dict[str, list[BlockSpec]] = {}
    for b in block_specs:
        by_section.setdefault(b.section_id, []).append(b)

    def make(spec: SectionSpec, number: str, level: int) -> Section:
        blocks: list[Block] = []
        if spec.section_id in texts:
            text, origin = texts[spec.section_id]
            blocks.append(Narrative(f"{spec.section_id}.text", text, origin))
        blocks.extend(QUERIES[b.query](ctx, b) for b in by_section.get(spec.section_id, []))
        children = [s for s in specs if s.parent == spec.section_id]
        return Section(
            spec.section_id,
            number,
            spec.title_zh if lang == "zh" else spec.title_en,
            level,
            spec.refs,
            tuple(blocks),
            tuple(make(c, f"{number}.{i}", level + 1) for i, c in enumerate(children, start=1)),
        )

    roots = [s for s in specs if s.parent is None]
    sections = tuple(make(s, str(i), 1) for i, s in enumerate(roots, start=1))
    organisation = book.organisation().roots()
    group = organisation[0] if organisation else None
    name = "" if group is None else (group.name_zh or group.name if lang == "zh" else group.name)
    content = indexes.content_indexes(
        sections, lang, financially_material=assessments.financially_material(book, year)
    )
    return Report(
        year=year,
        lang=lang,
        title=label("report_title", lang).format(year=year),
        organisation=name,
        sections=sections,
        indexes=content,
        gaps=indexes.gaps(sections, content, lang),
        methodology=methodology.methodology(ledger, year, lang, result=ctx.inventory),
        meta={
            "data_version": data_version(ledger),
            "factor_library": ctx.inventory.library_version,
            "built_at": built_at or datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        },
    )
