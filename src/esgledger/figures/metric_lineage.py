"""Lineage of catalogue metrics: ``metric:<year>:<metric_id>[:<entity>]``.

The sustainability report (:mod:`esgledger.report`) prints every catalogue metric with this
lineage id. Without an entity the figure is the group's, with the value the report and
``service.kpi_table`` show: the figure the ledger computes itself where it computes one
(``service.computed_figures``: the activity sums and inventory keys of
``metrics/data/ledger_sources.csv``, the workforce figures of the latest roster combined with
the totals subsidiaries report), else the figure stored as reported for the root entity (its
current version: a restatement, by an approved adjustment or a later import, supersedes the
value before it, which stays as its history; ``service.stored_value``: the rule of
``kpi_table`` and of the report). With an entity, the same
rules on that entity's records, inventory lines, roster rows and stored figures.

:func:`explain_metric` returns the derivation tree (:class:`esgledger.calc.explain.Node`, the
shape of the ``ghg:`` and ``energy:`` trees, so the CLI prints it and ``--json`` dumps it):

- inventory figure: the value, with the ``ghg:`` / ``energy:`` tree it is as its child;
- activity sum: the value and the formula, then per entity the records summed (file and row,
  or data request / adjustment with its reason and who), ``rows`` records per entity;
- workforce figure: the value, the catalogue formula, the roster snapshot, and per entity its
  part (its roster rows, or the total a subsidiary reported, with file and row);
- ratio: the value with its numerator and denominator as children, each explained the same
  way (group ratios are recomputed from summed parts, never averaged);
- reported: the current stored record: value, unit, entity, file and row (or data request /
  adjustment with reason and who), batch; then the earlier versions it restates.

:func:`metric_value` returns the value a tree's root shows; it is the ``metric`` provider of the
figure registry (:mod:`esgledger.figures`), which a report's printed figures are checked
against.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

import pandas as pd

from esgledger import service
from esgledger.book import Book, Source, book_of
from esgledger.calc import InventoryResult
from esgledger.calc.explain import Node
from esgledger.calc.workforce import GROUP
from esgledger.calc.workforce import METRICS as WORKFORCE
from esgledger.checks.consistency import _ratio_factor  # the checks' rule: one rule
from esgledger.domain.diagnostics import Diagnostic
from esgledger.domain.figure_id import FigureId
from esgledger.figures import registry
from esgledger.metrics.catalogue import Catalogue, Metric
from esgledger.store import provenance
from esgledger.store.ledger import Ledger
from esgledger.tables import rows as table_rows
from esgledger.units import UnitError, conversion_factor

INVENTORY_FIGURES = {
    "scope1": "ghg:{year}:S1",
    "scope2_location": "ghg:{year}:S2L",
    "scope2_market": "ghg:{year}:S2M",
    "scope3": "ghg:{year}:S3",
    "total": "ghg:{year}:TOTAL",
    "energy_tce": "energy:{year}",
    "energy_mwh": "energy:{year}",
    "removals": "removals:{year}",
}
"""Inventory key of ``ledger_sources.csv`` -> the figure id whose tree explains it."""
_T = TypeVar("_T")
INTENSITY = "intensity_per_wan_yuan"
MAX_DEPTH = 3
"""Ratio parts are explained down to this depth (catalogue ratios have additive parts)."""


class NoFigureError(ValueError):
    """The ledger neither computes a figure nor stores a reported one."""


@dataclass(frozen=True, slots=True)
class MetricFigure:
    """A parsed ``metric:`` lineage id; ``entity`` None is the group figure."""

    year: int
    metric_id: str
    entity: str | None = None

    def __str__(self) -> str:
        return str(FigureId.of("metric", self.year, self.metric_id, self.entity))

    def of(self, metric_id: str) -> MetricFigure:
        """Another metric of the same year and entity."""
        return MetricFigure(self.year, metric_id, self.entity)


def parse_metric_figure(figure: str) -> MetricFigure:
    """Split ``metric:<year>:<metric_id>[:<entity>]`` (the figure-id grammar,
    :class:`~esgledger.domain.figure_id.FigureId`; see :func:`explain_metric` for the
    catalogue and entity checks)."""
    fid = FigureId.parse(figure)
    if fid.kind != "metric":
        raise ValueError(f"figure id {figure!r} is not metric:<year>:<metric_id>[:<entity>]")
    entity = fid.get("entity")
    metric_id = str(fid.get("metric_id"))
    return MetricFigure(fid.year, metric_id, None if entity is None else str(entity))


@dataclass(frozen=True, slots=True)
class _Found:
    how: str  # activity, inventory, workforce or reported
    value: float


@dataclass
class _Context:
    """The Book's material of one call (each piece computed once per Book)."""

    book: Book
    rows: int = 5
    catalogue: Catalogue = field(init=False)
    sources: dict[str, dict[str, str]] = field(
        default_factory=lambda: {s["metric_id"]: s for s in service.ledger_sources()}
    )
    _cache: dict[tuple[str, int], Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.ledger: Ledger = self.book.ledger
        self.catalogue = self.book.catalogue()  # the packaged one with the company's own
        organisation = self.book.organisation()
        self.roots = frozenset(e.entity_id for e in organisation.roots())
        self.entities = organisation.ids()

    def _once(self, name: str, year: int, make: Callable[[], _T]) -> _T:
        if (name, year) not in self._cache:
            self._cache[name, year] = make()
        return cast(_T, self._cache[name, year])

    def check(self, fig: MetricFigure) -> MetricFigure:
        if fig.metric_id not in self.catalogue:
            close = difflib.get_close_matches(fig.metric_id, self.catalogue.ids(), n=3)
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            raise ValueError(
                f"unknown metric {fig.metric_id!r} in {str(fig)!r}: not in the metric "
                f"catalogue{hint}"
            )
        if fig.entity is not None and fig.entity not in self.entities:
            raise ValueError(f"unknown entity {fig.entity!r} in {str(fig)!r}")
        return fig

    def computed(self, year: int) -> dict[str, float]:
        return service.computed_figures(self.book, year)[0]

    def stored(self, year: int) -> pd.DataFrame:
        return service.metric_frame(self.book, [year])

    def activity(self, year: int) -> pd.DataFrame:
        records = self.book.inventory_input().records
        return self._once("activity", year, lambda: records[records["year"] == year])

    def inventory(self, year: int) -> InventoryResult:
        return self.book.inventory_of(year)

    def workforce(
        self, year: int
    ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, list[Diagnostic]]:
        return service.workforce_frame(self.book, year)

    def records(self, fig: MetricFigure) -> pd.DataFrame:
        """Stored figures of a metric, year and entity (the root entities' for the group)."""
        stored = self.stored(fig.year)
        owners = self.roots if fig.entity is None else {fig.entity}
        return stored[(stored["metric_id"] == fig.metric_id) & stored["entity_id"].isin(owners)]

    def activity_records(self, year: int, activity_type: str, entity: str | None) -> pd.DataFrame:
        records = self.activity(year)
        match = records[records["activity_type"] == activity_type]
        return match if entity is None else match[match["entity_id"] == entity]

    def revenue(self, year: int, entity: str | None) -> tuple[float | None, pd.DataFrame]:
        """Revenue in 万元 from the context metrics (the root entity's for the group), as
        ``service.revenue_wan_yuan`` reads it, with the context rows."""
        context = service.context_frame(self.book)
        owners = self.roots if entity is None else {entity}
        found = context[
            (context["metric"] == "revenue")
            & (context["year"] == year)
            & context["entity_id"].isin(owners)
        ]
        if found.empty:
            return None, found
        total = sum(
            v * conversion_factor(u, "万元")
            for v, u in zip(found["value"], found["unit"], strict=True)
        )
        return float(total), found

    def origins(self, table: str, rids: list[int]) -> dict[int, dict[str, Any]]:
        """Where stored records came from (``source_kind``, ``source_file``, ``source_user``),
        with the adjustment (reason, proposer, decision) of those an adjustment posted."""
        return provenance.by_rid(self.ledger.engine, table, rids)


# -- the value ----------------------------------------------------------------------------------


def _in_unit(records: pd.DataFrame, unit: str) -> pd.Series:
    """Each record's quantity in ``unit`` (``computed_figures``' conversion)."""
    factors = {u: conversion_factor(str(u), unit) for u in set(records["unit"])}
    converted: pd.Series = records["quantity"] * records["unit"].map(factors).astype("float64")
    return converted


def _entity_computed(  # noqa: PLR0911 - one return per kind of source
    ctx: _Context, metric: Metric, fig: MetricFigure
) -> float | None:
    """The figure of one entity the ledger computes, by the group figure's rules."""
    source = ctx.sources.get(metric.metric_id)
    if source is not None and source["source"] == "suppliers":
        return None  # a group figure (distinct suppliers are not summed over entities)
    if source is not None and source["source"] == "activity":
        result = ctx.inventory(fig.year)
        try:
            return result.activity_sum(source["key"].split("|"), metric.unit, fig.year, fig.entity)
        except UnitError:  # the KPI table says why (service._computed's diagnostic)
            return None
    if source is not None:
        result, key = ctx.inventory(fig.year), source["key"]
        totals = result.scope_totals(fig.year, entity_id=fig.entity)
        if key == INTENSITY:
            revenue, _ = ctx.revenue(fig.year, fig.entity)
            return totals["total"] / revenue if revenue else None
        if key in ("energy_tce", "energy_mwh"):
            return result.energy_totals(fig.year, fig.entity)[key.removeprefix("energy_")]
        if key == "removals":
            return result.removal_total(fig.year, fig.entity)
        return totals.get(key)
    if metric.metric_id in WORKFORCE:
        figures, roster, _, _ = ctx.workforce(fig.year)
        if fig.entity in set(roster["entity_id"]):
            row = figures[
                (figures["metric_id"] == metric.metric_id) & (figures["entity_id"] == fig.entity)
            ]
            if not row.empty and pd.notna(row["value"].iloc[0]):
                return float(row["value"].iloc[0])
    return None


def _resolve(ctx: _Context, fig: MetricFigure) -> _Found | None:
    """Where the figure's value comes from, and the value: computed, else reported."""
    metric = ctx.catalogue.get(fig.metric_id)
    source = ctx.sources.get(metric.metric_id)
    if fig.entity is None:
        value = ctx.computed(fig.year).get(metric.metric_id)
    else:
        value = _entity_computed(ctx, metric, fig)
    if value is not None:
        return _Found(source["source"] if source else "workforce", float(value))
    stored = service.stored_value(ctx.records(fig), metric)
    return None if stored is None else _Found("reported", stored)


def _no_figure(ctx: _Context, fig: MetricFigure) -> NoFigureError:
    whose = "the group" if fig.entity is None else f"entity {fig.entity}"
    message = (
        f"no figure of {fig.metric_id} for {whose} in {fig.year}: the ledger computes none "
        "and stores no reported value"
    )
    if fig.entity is None:
        stored = ctx.stored(fig.year)
        others = sorted(set(stored.loc[stored["metric_id"] == fig.metric_id, "entity_id"]))
        if others:
            example = MetricFigure(fig.year, fig.metric_id, others[0])
            message += (
                f"; entities {', '.join(others)} store one (e.g. {example}), but the group "
                "figure is the root entity's own, not their sum"
            )
    return NoFigureError(message)


# -- the tree -----------------------------------------------------------------------------------


def _explain(ctx: _Context, fig: MetricFigure, depth: int) -> Node:
    metric = ctx.catalogue.get(fig.metric_id)
    found = _resolve(ctx, fig)
    if found is None:
        raise _no_figure(ctx, fig)
    root = Node(
        str(fig), found.value, metric.unit, {"metric": f"{metric.name_en} ({metric.name_zh})"}
    )
    if found.how == "activity":
        _activity(ctx, fig, metric, root)
    elif found.how == "inventory":
        _inventory(ctx, fig, metric, root, depth)
    elif found.how == "workforce":
        _workforce(ctx, fig, metric, root)
    elif found.how == "suppliers":
        _suppliers(ctx, fig, root)
    else:
        _reported(ctx, fig, metric, root, depth)
    return root


def _part(ctx: _Context, fig: MetricFigure, role: str, depth: int) -> Node:
    """A ratio's numerator or denominator, explained; a node saying so when it has no
    figure."""
    try:
        node = _explain(ctx, fig, depth)
    except NoFigureError as missing:
        unit = ctx.catalogue.get(fig.metric_id).unit
        node = Node(str(fig), None, unit, {"missing": str(missing)})
    node.detail = {"part": role, **node.detail}
    return node


def _where(row: dict[str, Any]) -> str:
    source_row = row.get("source_row")
    file = str(row["source_file"])
    return file if source_row is None or pd.isna(source_row) else f"{file}:{int(source_row)}"


def _period(row: dict[str, Any]) -> str:
    month = row.get("month")
    return f"{row['year']}" + ("" if month is None or pd.isna(month) else f"-{int(month):02d}")


def _provenance(row: dict[str, Any], origin: dict[str, Any]) -> dict[str, Any]:
    """Detail of a stored record: how it was entered, by whom, its note and batch."""
    detail: dict[str, Any] = {}
    kind, user = origin.get("source_kind"), origin.get("source_user")
    if kind == "form":
        number = str(row["source_file"]).partition(":")[2]
        detail["entered"] = f"data request {number} (web form), by {user}"
    adjustment = origin.get("adjustment")
    if kind == "adjustment" and adjustment is not None:
        detail["adjustment"] = (
            f"adjustment {adjustment['adjustment_id']} ({adjustment['status']}): "
            f"{adjustment['reason']}; {_num(adjustment['before_value'])} -> "
            f"{_num(adjustment['after_value'])} {adjustment['unit']}; proposed by "
            f"{adjustment['proposed_by']}, decided by {adjustment['decided_by']}"
        )
    elif kind == "adjustment":
        detail["adjustment"] = f"{row['source_file']}, proposed by {user}"
    for key in ("provenance", "note"):
        text = row.get(key)
        if isinstance(text, str) and text and text != row["source_file"]:
            detail[key] = text
    if pd.notna(row.get("batch_id")):
        detail["batch"] = int(row["batch_id"])
    return detail


def _num(value: float) -> str:
    """A number for a formula line: grouped, up to 4 decimals, small ones significant."""
    if value == 0 or abs(value) >= 1:
        return f"{value:,.4f}".rstrip("0").rstrip(".")
    return f"{value:.6g}"


def _root_value(node: Node) -> float:
    """A node's value for a formula line (NaN when it has none)."""
    return float("nan") if node.value is None else node.value


def _more(count: int, shown: int, what: str = "more records") -> list[Node]:
    return [Node(f"... {count - shown} {what} (--rows N shows more)")] if count > shown else []


def _activity(ctx: _Context, fig: MetricFigure, metric: Metric, root: Node) -> None:
    key = ctx.sources[metric.metric_id]["key"]
    found = ctx.activity_records(fig.year, key, fig.entity)
    records = found.assign(amount=_in_unit(found, metric.unit))
    whose = "" if fig.entity is None else f" of {fig.entity}"
    result = ctx.inventory(fig.year)
    shares = result.boundary.set_index("entity_id")["share"]
    root.detail["source"] = "computed: activity records (metrics/data/ledger_sources.csv)"
    root.detail["formula"] = (
        f"sum of the {len(records)} activity records of type {key}{whose} in {fig.year}, "
        f"each quantity converted to {metric.unit}, x the entity's consolidation share "
        f"({result.settings.approach.value})"
    )
    for entity, group in records.groupby("entity_id", sort=True):
        share = float(shares.get(entity, 0.0))
        # the entity's consolidated activity: the rule of the figure itself (one conversion)
        problem: str | None = None
        try:
            value = result.activity_quantity(key, metric.unit, fig.year, str(entity))
        except UnitError as exc:
            value, problem = None, str(exc)
        node = Node(str(entity), value, metric.unit)
        if problem is not None:
            node.detail["problem"] = problem
        node.detail["records"] = len(group)
        node.detail["share"] = share
        sample = group.head(ctx.rows)
        origins = ctx.origins("activity_record", [int(r) for r in sample["rid"]])
        for row in table_rows(sample):
            detail = _provenance(row, origins.get(int(row["rid"]), {}))
            if row["unit"] != metric.unit:
                detail = {f"in {metric.unit}": float(row["amount"]), **detail}
            node.children.append(
                Node(
                    f"record {row['record_id']} [{_where(row)}] {_period(row)} "
                    f"{row['quantity_text']} {row['unit']} ({row['data_quality']})",
                    None,
                    "",
                    detail,
                    record=str(row["record_id"]),
                )
            )
        node.children.extend(_more(len(group), len(sample)))
        root.children.append(node)


def _inventory(ctx: _Context, fig: MetricFigure, metric: Metric, root: Node, depth: int) -> None:
    source = ctx.sources[metric.metric_id]
    root.detail["source"] = f"computed: {source['notes']} (metrics/data/ledger_sources.csv)"
    suffix = f":{fig.entity}" if fig.entity else ""
    if source["key"] != INTENSITY:
        figure = INVENTORY_FIGURES[source["key"]].format(year=fig.year) + suffix
        root.detail["formula"] = f"the inventory figure {figure} (below)"
        child = registry.explain(ctx.book, figure, ctx.rows)
        child.detail = {"lineage id": figure, **child.detail}
        root.children.append(child)
        return
    revenue, rows = ctx.revenue(fig.year, fig.entity)
    numerator = _part(ctx, fig.of(metric.numerator or "ghg.total"), "numerator", depth + 1)
    owner = "the root entity" if fig.entity is None else fig.entity
    denominator = Node(
        f"revenue {fig.year}" + (f" of {fig.entity}" if fig.entity else " of the group"),
        revenue,
        "万元",
        {"part": "denominator", "source": f"context metric revenue of {owner}, in 万元"},
    )
    for row in table_rows(rows):
        denominator.children.append(
            Node(
                f"{row['entity_id']} revenue {row['year']}: {_num(row['value'])} {row['unit']}",
                float(row["value"]) * conversion_factor(str(row["unit"]), "万元"),
                "万元",
                {"source": row["source"]},
            )
        )
    root.detail["formula"] = f"{numerator.label} / revenue in 万元 (ratio, never averaged)"
    if numerator.value is not None and revenue:
        root.detail["arithmetic"] = (
            f"{_num(numerator.value)} / {_num(revenue)} = {_num(_root_value(root))}"
        )
    root.children.extend([numerator, denominator])


@dataclass(frozen=True)
class _Workforce:
    """The workforce material of one metric and year: its rows per entity and group, the
    roster snapshot and the subsidiaries' stored totals of the metric."""

    ctx: _Context
    figures: pd.DataFrame
    roster: pd.DataFrame
    reported: pd.DataFrame

    @property
    def files(self) -> str:
        return ", ".join(sorted(set(self.roster["source_file"])))

    def part(self, row: dict[str, Any], column: str, unit: str) -> Node:
        """An entity's part of a group figure: its roster rows or its reported total."""
        entity = str(row["entity_id"])
        value = None if pd.isna(row[column]) else float(row[column])
        if entity in set(self.roster["entity_id"]):
            lines = self.roster.loc[self.roster["entity_id"] == entity, "source_row"].dropna()
            where = f"{self.files} rows {int(lines.min())}-{int(lines.max())}" if len(lines) else ""
            label = f"{entity}: roster, {int((self.roster['entity_id'] == entity).sum())} rows"
            return Node(label, value, unit, {"roster": where or self.files})
        stored = table_rows(self.reported[self.reported["entity_id"] == entity].tail(1))
        detail: dict[str, Any] = {}
        if stored:
            rid = int(stored[0]["rid"])
            origin = self.ctx.origins("metric_value", [rid]).get(rid, {})
            detail = {
                "record": f"{stored[0]['record_id']} [{_where(stored[0])}]",
                **_provenance(stored[0], origin),
            }
        return Node(f"{entity}: reported total", value, unit, detail)


def _workforce_detail(
    ctx: _Context, fig: MetricFigure, metric: Metric, root: Node, data: _Workforce
) -> None:
    with_totals = fig.entity is None and not data.reported.empty
    root.detail["source"] = "computed: the roster" if not data.roster.empty else "computed"
    if with_totals:
        root.detail["source"] += " and the totals of the subsidiaries without a roster"
    root.detail["formula"] = metric.formula or metric.definition
    root.detail["period"] = f"{fig.year}-01-01 to {fig.year}-12-31"
    if not data.roster.empty:
        batches = ctx.ledger.batches()
        batch = int(batches.loc[batches["kind"] == "roster", "batch_id"].max())
        root.detail["roster"] = (
            f"{data.files} (the latest snapshot, roster batch {batch}: {len(data.roster)} "
            f"employees of {data.roster['entity_id'].nunique()} entities)"
        )
    if metric.metric_id.startswith("workforce.turnover_rate"):
        root.detail["turnover basis"] = ctx.ledger.get_setting("turnover_basis") or "closing"


def _workforce(ctx: _Context, fig: MetricFigure, metric: Metric, root: Node) -> None:
    figures, roster, totals, problems = ctx.workforce(fig.year)
    spec = WORKFORCE[metric.metric_id]
    mine = figures[figures["metric_id"] == metric.metric_id]
    data = _Workforce(ctx, mine, roster, totals[totals["metric_id"] == metric.metric_id])
    _workforce_detail(ctx, fig, metric, root, data)
    figure = mine[mine["entity_id"] == (fig.entity or GROUP)].iloc[0]
    parts = mine[mine["entity_id"] != GROUP] if fig.entity is None else figure.to_frame().T
    if fig.entity is None:
        left_out = sorted(set(totals["entity_id"]) - set(parts["entity_id"]))
        if left_out:
            root.detail["not included"] = (
                f"{', '.join(left_out)} (they report other workforce totals, not this one)"
            )
        named = re.compile(rf"(?<![\w.]){re.escape(metric.metric_id)}(?![\w.])")
        found = [str(d) for d in problems if named.search(d.message)]
        if found:
            root.detail["diagnostics"] = found
    if not spec.is_ratio:
        root.children.extend(data.part(r, "value", metric.unit) for r in table_rows(parts))
        return
    scale = f" x {spec.scale:g}" if spec.scale != 1 else ""
    root.detail["formula"] = (
        f"{metric.formula or metric.definition}; recomputed as numerator{scale} / denominator "
        "from the summed parts of the entities, never averaged"
    )
    numerator, denominator = float(figure["numerator"]), float(figure["denominator"])
    root.detail["arithmetic"] = (
        f"{_num(numerator)}{scale} / {_num(denominator)} = {_num(_root_value(root))}"
    )
    basis = ctx.ledger.get_setting("turnover_basis") or "closing"
    for role, metric_id, quantity in (
        ("numerator", metric.numerator, spec.numerator),
        ("denominator", metric.denominator, spec.denominator or ""),
    ):
        unit = ctx.catalogue.get(metric_id).unit if metric_id and metric_id in ctx.catalogue else ""
        node = Node(
            f"{role}: {metric_id or quantity}",
            float(figure[role]),
            unit,
            {
                "part": role,
                "roster quantity": f"{quantity} ({basis})"
                if quantity.startswith("turnover_base")
                else quantity,
            },
        )
        node.children.extend(data.part(r, role, unit) for r in table_rows(parts))
        root.children.append(node)


def _suppliers(ctx: _Context, fig: MetricFigure, root: Node) -> None:
    found = service.register_counts(ctx.book, fig.year)
    if found is None:  # pragma: no cover - the figure was resolved from the register
        return
    counts, origin = found
    root.detail["formula"] = ctx.sources[fig.metric_id]["notes"]
    root.children.append(
        Node(
            f"supplier register {fig.year}",
            float(origin["rows"]),
            "rows",
            {"imports": "; ".join(origin["imports"]), **counts},
        )
    )


def _record_node(row: dict[str, Any], origin: dict[str, Any], used: bool) -> Node:
    written = row.get("text_entered", row["value_text"])
    entered_unit = row.get("unit_entered", row.get("unit"))
    shown = (
        f"{written} {entered_unit}" if entered_unit and entered_unit != row.get("unit") else written
    )
    detail: dict[str, Any] = {"entity": row["entity_id"], "as written": shown}
    for part in ("numerator", "denominator"):
        if pd.notna(row[part]):
            detail[part] = float(row[part])
    detail.update(_provenance(row, origin))
    if used:
        detail["used"] = "counts in the figure shown"
    return Node(
        f"record {row['record_id']} [{_where(row)}] {row['entity_id']} {_period(row)} "
        f"({row['data_quality']})",
        float(row["value"]),
        str(row["unit"]),
        detail,
        record=str(row["record_id"]),
    )


def _earlier_versions(ctx: _Context, current: pd.DataFrame) -> pd.DataFrame:
    """The superseded versions of the current values ``current`` (oldest first)."""
    ledger = ctx.book.ledger
    parts = [
        history[history["superseded_by"].notna()]
        for history in (
            ledger.metric_history(
                str(r["metric_id"]),
                str(r["entity_id"]),
                int(r["year"]),
                None if pd.isna(r["month"]) else int(r["month"]),
            )
            for r in table_rows(current)
        )
    ]
    kept = [p for p in parts if not p.empty]
    return pd.concat(kept, ignore_index=True) if kept else current.iloc[0:0]


def _version_node(row: dict[str, Any], origin: dict[str, Any]) -> Node:
    """An earlier version of a reported figure: what it was, and the batch that restated it."""
    node = _record_node(row, origin, False)
    node.detail["superseded by"] = f"batch {int(row['superseded_by'])}"
    return Node(
        "earlier version: " + node.label,
        node.value,
        node.unit,
        node.detail,
        record=node.record,
    )


def _reported(ctx: _Context, fig: MetricFigure, metric: Metric, root: Node, depth: int) -> None:
    stored = ctx.records(fig)
    owner = f"the root entity {', '.join(sorted(ctx.roots))}" if fig.entity is None else fig.entity
    computed = (
        "the ledger computes none"
        if metric.metric_id not in ctx.sources and metric.metric_id not in WORKFORCE
        else "the ledger computes none for this year"
    )
    root.detail["source"] = f"reported: the figure of {owner} stored in the ledger ({computed})"
    annual = stored[stored["month"].isna()]
    used = annual if not annual.empty else stored
    earlier = _earlier_versions(ctx, used)
    if len(used) > 1:
        root.detail["rule"] = f"the months' {len(used)} current values summed"
    if not earlier.empty:
        root.detail["restated"] = (
            f"{len(earlier)} earlier version(s) superseded: the figure is the current one "
            "(service.stored_value; Ledger.metric_history)"
        )
    shown = used.tail(ctx.rows)
    root.children.extend(_more(len(used), len(shown), "records"))
    origins = ctx.origins("metric_value", [int(r) for r in shown["rid"]])
    root.children.extend(
        _record_node(r, origins.get(int(r["rid"]), {}), True) for r in table_rows(shown)
    )
    before = earlier.tail(ctx.rows)
    root.children.extend(_more(len(earlier), len(before), "earlier versions"))
    origins = ctx.origins("metric_value", [int(r) for r in before["rid"]])
    root.children.extend(
        _version_node(r, origins.get(int(r["rid"]), {})) for r in table_rows(before)
    )
    if not (metric.is_ratio and metric.numerator and metric.denominator) or depth >= MAX_DEPTH:
        return
    numerator = _part(ctx, fig.of(metric.numerator), "numerator", depth + 1)
    denominator = _part(ctx, fig.of(metric.denominator), "denominator", depth + 1)
    root.children.extend([numerator, denominator])
    factor = _ratio_factor(metric, ctx.catalogue)
    if factor is not None and numerator.value is not None and denominator.value:
        again = numerator.value * factor / denominator.value
        scale = f" x {factor:g}" if factor != 1 else ""
        root.detail["check"] = (
            f"numerator{scale} / denominator = {_num(numerator.value)}{scale} / "
            f"{_num(denominator.value)} = {_num(again)} {metric.unit} (stored: "
            f"{_num(_root_value(root))})"
        )


# -- public -------------------------------------------------------------------------------------


def explain_metric(source: Source, figure: str, rows: int = 5) -> Node:
    """Derivation tree of ``metric:<year>:<metric_id>[:<entity>]`` (module doc).

    Raises ValueError on a malformed id, an unknown metric or entity, and
    :class:`NoFigureError` (a ValueError) when the ledger has no figure for it.
    """
    ctx = _Context(book_of(source), rows)
    return _explain(ctx, ctx.check(parse_metric_figure(figure)), 0)


def metric_value(source: Source, figure: str) -> float | None:
    """The value of ``metric:<year>:<metric_id>[:<entity>]`` the tree shows at its root,
    unrounded; None when the ledger neither computes nor stores it. ValueError on a malformed
    id or an unknown metric or entity."""
    ctx = _Context(book_of(source))
    found = _resolve(ctx, ctx.check(parse_metric_figure(figure)))
    return None if found is None else found.value
