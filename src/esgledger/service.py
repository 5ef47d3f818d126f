"""Use cases the CLI, the web app and the report call: a Book (the ledger's figures at one data
version) -> figures. Each takes a :class:`~esgledger.book.Book` or a ledger standing for its
current Book, and memoises what it computes in that Book, so a figure is computed once per
data version whoever asks for it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from esgledger.assess.supplier_rows import SUPPLIER_COLUMNS
from esgledger.assess.suppliers import kpi_counts
from esgledger.book import Book, Source, book_of
from esgledger.calc import InventoryInput, InventoryResult
from esgledger.calc.baseyear import BaseYearDecision, assess_base_year
from esgledger.calc.workforce import COLUMNS as WORKFORCE_COLUMNS
from esgledger.calc.workforce import METRICS as WORKFORCE
from esgledger.calc.workforce import aggregate_totals, compute_workforce
from esgledger.checks import Finding, TargetStatus, load_targets, run_checks, target_status
from esgledger.checks.consistency import published_number
from esgledger.checks.plausibility import activity_sums, history_findings
from esgledger.checks.targets import NO_TARGETS
from esgledger.domain.diagnostics import Diagnostic, Severity, has_errors
from esgledger.factors import CalcSettings, load_library
from esgledger.metrics import ledger_sources as ledger_sources  # noqa: PLC0414 - re-export
from esgledger.metrics import load_catalogue
from esgledger.metrics.catalogue import Aggregation, Catalogue, Metric
from esgledger.metrics.ledger_catalogue import LEDGER_FILE
from esgledger.store import registers
from esgledger.units import UnitError, conversion_factor


def settings_from_ledger(source: Source, **overrides: object) -> CalcSettings:
    """Inventory settings stored in the ledger, with command-line overrides applied."""
    return book_of(source).settings(**overrides)


def inventory_input(source: Source, years: list[int] | None = None) -> InventoryInput:
    return book_of(source).inventory_input(tuple(years) if years else None)


def run_inventory(source: Source, settings: CalcSettings) -> InventoryResult:
    """The inventory in ``settings``, computed once per data version and setting set."""
    return book_of(source).inventory(settings)


def context_frame(source: Source) -> pd.DataFrame:
    """The context metrics (revenue, employees...) of every entity and year."""
    return book_of(source).context_frame()


def _group_metric(source: Source, year: int, metric: str) -> pd.DataFrame:
    """Context rows of a metric for the group (the root entity of the tree) in a year."""
    context = context_frame(source)
    roots = _roots(source)
    return context[
        (context["metric"] == metric) & (context["year"] == year) & context["entity_id"].isin(roots)
    ]


def _roots(source: Source) -> list[str]:
    return [e.entity_id for e in book_of(source).organisation().roots()]


def revenue_wan_yuan(source: Source, year: int) -> float | None:
    """Group revenue of a year in 万元 (from the root entity's context metrics)."""
    rows = _group_metric(source, year, "revenue")
    if rows.empty:
        return None
    return float(
        sum(
            v * conversion_factor(u, "万元")
            for v, u in zip(rows["value"], rows["unit"], strict=True)
        )
    )


def headcount(source: Source, year: int) -> float | None:
    """Group headcount of a year (the root entity's `employees` metric)."""
    rows = _group_metric(source, year, "employees")
    return None if rows.empty else float(rows["value"].sum())


def base_year_decision(source: Source, result: InventoryResult) -> BaseYearDecision | None:
    book = book_of(source)
    stored = book.stored_settings()
    if "base_year" not in stored:
        return None
    base_year = int(stored["base_year"])
    threshold = float(stored.get("base_year_threshold", "0.05"))
    totals = result.scope_totals(base_year)
    if totals["total"] <= 0:
        return None
    changes = book.memo(("structural_changes",), book.ledger.structural_changes)
    return assess_base_year(base_year, totals["total"], changes, threshold)


def intensity_table(source: Source, result: InventoryResult) -> pd.DataFrame:
    """Total emissions, revenue and intensity per year (ratios computed, never summed)."""
    rows = []
    for year in result.years():
        total = result.scope_totals(year)["total"]
        revenue = revenue_wan_yuan(source, year)
        people = headcount(source, year)
        rows.append(
            {
                "year": year,
                "total_tco2e": total,
                "revenue_wan_yuan": revenue,
                "intensity_per_wan_yuan": None if not revenue else total / revenue,
                "employees": people,
                "intensity_per_employee": None if not people else total / people,
            }
        )
    table = pd.DataFrame(
        rows,
        columns=[
            "year",
            "total_tco2e",
            "revenue_wan_yuan",
            "intensity_per_wan_yuan",
            "employees",
            "intensity_per_employee",
        ],
    )
    # Year-on-year only against the previous calendar year, never across a gap.
    follows = table["year"].diff().eq(1)
    table["total_yoy_pct"] = (table["total_tco2e"].pct_change() * 100).where(follows)
    table["intensity_yoy_change"] = (
        table["intensity_per_wan_yuan"].astype("float64").diff().where(follows)
    )
    return table


def metric_frame(source: Source, years: list[int] | None = None) -> pd.DataFrame:
    """The stored metric figures of ``years`` (all when None), read once per Book, each in
    its metric's catalogue unit (:func:`in_metric_units`)."""
    book = book_of(source)
    key = None if years is None else tuple(years)
    frame: pd.DataFrame = book.memo(
        ("metric_frame", key),
        lambda: in_metric_units(book.ledger.metric_frame(years), book.catalogue()),
    )
    return frame


def in_metric_units(stored: pd.DataFrame, catalogue: Catalogue | None = None) -> pd.DataFrame:
    """Stored figures with ``value`` in the catalogue unit of their metric (a figure entered
    as 1 万千瓦时 is 10 MWh beside the activity's 10 MWh, not 1). The entry is kept as
    written in the ledger; here ``unit`` becomes the metric's, ``value_text`` the converted
    number (with the ``+`` of a published lower bound), ``text_entered`` and ``unit_entered``
    the number and unit as entered. The import refused units of another dimension; a metric
    no longer in the catalogue keeps its figures as they are."""
    out = stored.assign(unit_entered=stored["unit"], text_entered=stored["value_text"])
    catalogue = load_catalogue() if catalogue is None else catalogue
    for (metric_id, unit), rows in stored.groupby(["metric_id", "unit"], sort=False):
        if str(metric_id) not in catalogue:
            continue
        target = catalogue.get(str(metric_id)).unit
        if str(unit) == target:
            continue
        factor = conversion_factor(str(unit), target)
        index = rows.index
        out.loc[index, "value"] = rows["value"] * factor
        out.loc[index, "unit"] = target
        bound = rows["value_text"].astype(str).str.strip().str.endswith("+")
        text = (rows["value"] * factor).map("{:.10g}".format)
        out.loc[index, "value_text"] = text.where(~bound, text + "+")
    return out


def reported_figures(source: Source, years: list[int] | None = None) -> pd.DataFrame:
    """Stored metric figures as the long table the consistency checks read.

    The root entity's figures are the group's (``entity_id`` '*'); ``published`` is the value
    as written, so a trailing ``+`` (a published lower bound) and the printed decimals reach
    the checks.
    """
    stored = _annual(metric_frame(source, years), book_of(source).catalogue())
    roots = set(_roots(source))
    return pd.DataFrame(
        {
            "metric_id": stored["metric_id"],
            "entity_id": stored["entity_id"].where(~stored["entity_id"].isin(roots), "*"),
            "year": stored["year"],
            "value": stored["value"],
            "numerator": stored["numerator"],
            "denominator": stored["denominator"],
            "published": stored["value_text"],
        }
    )


def _annual(stored: pd.DataFrame, catalogue: Catalogue) -> pd.DataFrame:
    """One figure per metric, entity and year from the current values (:func:`stored_value`'s
    rule): the annual value; for a figure given only by months, their sum when the metric
    adds up (the months of any other metric make no year)."""
    annual = stored[stored["month"].isna()]
    months = stored[stored["month"].notna()]
    keys = ["metric_id", "entity_id", "year"]
    if months.empty:
        return annual
    given = pd.MultiIndex.from_frame(annual[keys])
    only = months[~pd.MultiIndex.from_frame(months[keys]).isin(given)]
    adds = only["metric_id"].map(
        lambda m: m in catalogue and catalogue.get(m).aggregation == Aggregation.SUM
    )
    summed: pd.DataFrame = (
        only[adds.astype(bool)].groupby(keys, sort=False)["value"].sum().reset_index()
    )
    summed["value_text"] = summed["value"].map("{:.10g}".format)
    return pd.concat([annual, summed], ignore_index=True)


def monthly_series(source: Source) -> pd.DataFrame:
    """Monthly metric figures of every entity as KRI series (entity, metric, YYYY-MM, value)."""
    stored = metric_frame(source)
    monthly = stored[stored["month"].notna()]
    periods = [
        f"{int(y)}-{int(m):02d}" for y, m in zip(monthly["year"], monthly["month"], strict=True)
    ]
    return pd.DataFrame(
        {
            "entity_id": monthly["entity_id"],
            "metric_id": monthly["metric_id"],
            "period": periods,
            "value": monthly["value"],
        }
    )


def check(source: Source, years: list[int] | None = None) -> list[Finding]:
    """Consistency findings on the stored figures (rules in esgledger.checks.consistency) and
    years of activity implausibly far above the entity's others (esgledger.checks.plausibility)."""
    book = book_of(source)
    key = ("check", None if years is None else tuple(years))
    return list(book.memo(key, lambda: tuple(_check(book, years))))


def _check(book: Book, years: list[int] | None) -> list[Finding]:
    """The consistency rules on the figures, then the plausibility of the stored activity
    against each entity's own history (:mod:`esgledger.checks.plausibility`)."""
    found = run_checks(reported_figures(book, years))
    stored = book.memo(("activity_sums",), lambda: activity_sums(book.inventory_input().records))
    return [*found, *history_findings(stored, load_library(), years)]


Workforce = tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, list[Diagnostic]]


def workforce_frame(source: Source, year: int) -> Workforce:
    """Workforce figures of a year per entity and for the group (``entity_id`` '*', columns
    ``calc.workforce.COLUMNS``) with what they combine: the latest roster snapshot and the
    totals that subsidiaries without a roster report as metric figures (counts summed, ratios
    recomputed from their numerators and denominators, never averaged); and the diagnostics.
    Computed once per Book and year (callers get copies)."""
    book = book_of(source)
    figures, roster, totals, problems = book.memo(
        ("workforce", year), lambda: _workforce(book, year)
    )
    return figures.copy(), roster.copy(), totals.copy(), list(problems)


def _workforce(book: Book, year: int) -> Workforce:
    # a locked year's figures come from the roster that was current when it was locked: a
    # later snapshot changes the open years only (nothing changes a locked period)
    locked = book.memo(("locked_at", year), lambda: book.ledger.locked_at(year))
    roster = book.memo(("roster", locked), lambda: book.ledger.roster_frame(locked))
    basis = book.stored_settings().get("turnover_basis") or "closing"
    computed = (
        compute_workforce(roster, date(year, 1, 1), date(year, 12, 31), basis)
        if not roster.empty
        else None
    )
    stored = metric_frame(book, [year])
    roots = set(_roots(book))
    totals = stored[~stored["entity_id"].isin(roots) & stored["metric_id"].isin(list(WORKFORCE))]
    if computed is not None:  # an entity in the roster does not also report totals
        totals = totals[~totals["entity_id"].isin(set(roster["entity_id"]))]
    problems: list[Diagnostic] = []
    if not totals.empty:
        inputs = totals.rename(columns={"source_row": "row"})[
            ["metric_id", "entity_id", "value", "numerator", "denominator", "row"]
        ]
        files = ", ".join(sorted(set(totals["source_file"])))
        figures, problems = aggregate_totals(inputs, computed, source=files)
    elif computed is not None:
        figures = computed
    else:
        figures = pd.DataFrame({c: pd.Series(dtype=object) for c in WORKFORCE_COLUMNS})
    return figures, roster, totals, problems


def workforce_figures(source: Source, year: int) -> tuple[dict[str, float], list[Diagnostic]]:
    """Group workforce figures of a year (:func:`workforce_frame`'s group rows with a value)."""
    figures, _, _, problems = workforce_frame(source, year)
    group = figures[(figures["entity_id"] == "*") & figures["value"].notna()]
    return {str(m): float(v) for m, v in zip(group["metric_id"], group["value"], strict=True)}, (
        problems
    )


def inventory_figures(
    result: InventoryResult, year: int, revenue: float | None
) -> dict[str, float | None]:
    """The inventory's totals of a year by key of ``ledger_sources.csv``; None (no figure, not
    0) for a scope without any line that year, energy without energy lines, and a total or
    intensity of a year without any line."""
    totals = result.scope_totals(year)
    present = result.scope_present(year)
    out: dict[str, float | None] = {k: (v if present[k] else None) for k, v in totals.items()}
    energy = result.energy_totals(year) if result.energy_present(year) else None
    out["energy_tce"] = None if energy is None else energy["tce"]
    out["energy_mwh"] = None if energy is None else energy["mwh"]
    out["removals"] = result.removal_total(year)
    out["intensity_per_wan_yuan"] = (
        totals["total"] / revenue if revenue and present["total"] else None
    )
    return out


def computed_figures(source: Source, year: int) -> tuple[dict[str, float], list[Diagnostic]]:
    """Catalogue figures the ledger computes itself (metrics/data/ledger_sources.csv), and the
    diagnostics of combining subsidiaries' workforce totals with the roster. Every figure is
    at the inventory's boundary: activity quantities are consolidated like the emissions and
    the standard coal computed from them (``InventoryResult.activity_quantity``)."""
    book = book_of(source)
    out, problems = book.memo(("computed", year), lambda: _computed(book, year))
    return dict(out), list(problems)


def _computed(book: Book, year: int) -> tuple[dict[str, float], list[Diagnostic]]:
    catalogue = book.catalogue()
    result = book.inventory_of(year)
    inventory = inventory_figures(result, year, revenue_wan_yuan(book, year))
    out: dict[str, float] = {}
    group, problems = workforce_figures(book, year)
    known = catalogue.ids()
    out.update({m: v for m, v in group.items() if m in known})
    suppliers: tuple[dict[str, int], dict[str, Any]] | None = None
    for source_row in ledger_sources():
        metric = catalogue.get(source_row["metric_id"])
        if source_row["source"] == "activity":
            try:
                found = result.activity_sum(source_row["key"].split("|"), metric.unit, year)
            except UnitError as exc:  # a figure left out, said, rather than a wrong one
                problems.append(Diagnostic("unit", f"{metric.metric_id}: {exc}"))
                continue
            if found is not None:
                out[metric.metric_id] = found
        elif source_row["source"] == "suppliers":
            if suppliers is None:
                suppliers = register_counts(book, year) or ({}, {})
            if source_row["key"] in suppliers[0]:
                out[metric.metric_id] = float(suppliers[0][source_row["key"]])
        elif inventory.get(source_row["key"]) is not None:
            out[metric.metric_id] = float(inventory[source_row["key"]] or 0.0)
    return out, problems


def register_counts(source: Source, year: int) -> tuple[dict[str, int], dict[str, Any]] | None:
    """:func:`~esgledger.assess.suppliers.kpi_counts` of the supplier register of ``year`` in
    the ledger, with where the rows come from (imports: file names and SHA-256); None when the
    year has no register. Memoised in the Book."""
    book = book_of(source)
    return book.memo(("supplier_counts", year), lambda: _register_counts(book, year))


def _register_counts(book: Book, year: int) -> tuple[dict[str, int], dict[str, Any]] | None:
    engine = book.ledger.engine
    frame = registers.stored_frame(engine, "suppliers", year)
    if frame.empty:
        return None
    rows = frame[list(SUPPLIER_COLUMNS)].apply(lambda column: column.astype(str).str.strip())
    imports = {
        int(r["import_id"]): r
        for r in registers.imports_of(engine, "suppliers", year)
        if int(r["import_id"]) in set(frame["_import_id"].astype(int))
    }
    origin = {
        "rows": len(rows),
        "imports": [
            f"{r['file_name']} (import {i}, sha256 {r['sha256'][:12]}, {r['imported_by']})"
            for i, r in sorted(imports.items())
        ],
    }
    return kpi_counts(rows, year), origin


def stored_value(records: pd.DataFrame, metric: Metric) -> float | None:
    """The stored figure of one metric, entity and year from its current values (the store
    keeps one current value per metric, entity, year and month; a restatement supersedes it,
    ``Ledger.metric_history``): the annual value; without one, the months' values summed when
    the metric adds up (``aggregation`` sum), else none (a ratio's months do not make a year)."""
    if records.empty:
        return None
    annual = records.loc[records["month"].isna(), "value"].dropna()
    if not annual.empty:
        return float(annual.iloc[-1])
    months = records["value"].dropna()
    if months.empty or metric.aggregation != Aggregation.SUM:
        return None
    return float(months.sum())


def group_reported_values(source: Source, year: int) -> dict[str, float]:
    """metric id -> the group's stored figure of a year (:func:`stored_value` per metric),
    computed once per Book (the key table, `kpi` and the report all ask)."""
    book = book_of(source)
    found: dict[str, float] = book.memo(
        ("group_reported", year), lambda: _group_reported(book, year)
    )
    return dict(found)


def _group_reported(source: Source, year: int) -> dict[str, float]:
    stored = metric_frame(source, [year])
    roots = set(_roots(source))
    group = stored[stored["entity_id"].isin(roots)]
    catalogue = book_of(source).catalogue()
    out = {}
    for metric_id, records in group.groupby("metric_id", sort=False):
        if str(metric_id) not in catalogue:
            continue
        value = stored_value(records, catalogue.get(str(metric_id)))
        if value is not None:
            out[str(metric_id)] = value
    return out


def _source(computed: bool, reported: bool) -> str:
    if computed:
        return "computed and reported" if reported else "computed"
    return "reported" if reported else "missing"


def key_metrics(source: Source, years: Sequence[int]) -> list[Metric]:
    """The metrics of the key performance table (`kpi` and the report's KPI tables, one rule):
    the packaged key table (the catalogue's ``seed_row`` metrics, in their order), then every
    other packaged metric the ledger has a figure of in one of ``years`` (computed or reported
    for the group; a coal-burning company's coal, say), in catalogue order, then the company's
    own metrics in the order it entered them."""
    book = book_of(source)
    catalogue = book.catalogue()
    listed = [m for _, m in sorted(catalogue.seed_rows().items())]
    chosen = {m.metric_id for m in listed}
    with_figure: set[str] = set()
    for year in years:
        with_figure |= set(computed_figures(book, year)[0]) | set(group_reported_values(book, year))
    listed += [
        m
        for m in catalogue
        if m.metric_id not in chosen and m.file != LEDGER_FILE and m.metric_id in with_figure
    ]
    listed += [m for m in catalogue if m.file == LEDGER_FILE]
    return listed


def kpi_table(source: Source, year: int, lang: str = "en") -> tuple[pd.DataFrame, list[Diagnostic]]:
    """Every metric of the key performance table (:func:`key_metrics`): the reported figure,
    the ledger's own figure where it computes one, and their difference; with the diagnostics
    of the computation."""
    book = book_of(source)
    stored = reported_figures(source, [year])
    group = stored[stored["entity_id"] == "*"]
    texts = dict(zip(group["metric_id"], group["published"], strict=True))
    values = group_reported_values(source, year)
    reported = {  # the figure as published where it was written as a number, else its value
        metric_id: str(texts[metric_id])
        if published_number(str(texts.get(metric_id, "")))
        else f"{value:.10g}"
        for metric_id, value in values.items()
    }
    computed, problems = computed_figures(source, year)
    rows = []
    problems = [*problems, *book.catalogue_problems()]
    for number, metric in enumerate(key_metrics(book, [year]), start=1):
        mine = computed.get(metric.metric_id)
        published = values.get(metric.metric_id)
        rows.append(
            {
                "row": number,
                "metric_id": metric.metric_id,
                "name": metric.name_zh if lang == "zh" else metric.name_en,
                "unit": metric.unit_label_zh if lang == "zh" else metric.unit_label,
                "reported": reported.get(metric.metric_id),
                "computed": None if mine is None else round(mine, metric.precision),
                "difference": None
                if mine is None or published is None
                else round(mine - float(published), metric.precision + 2),
                "source": _source(mine is not None, metric.metric_id in reported),
            }
        )
    return pd.DataFrame(rows), problems


def targets(
    source: Source, year: int, path: Path | None = None
) -> tuple[list[TargetStatus], list[Diagnostic]]:
    """Status of the targets (the ledger's, or a file's) against the ledger's figures: the
    reported ones, and the ones it computes itself, which win. A ledger without targets gives
    none and a warning saying how to enter them (:data:`NO_TARGETS`)."""
    found, problems = book_of(source).targets() if path is None else load_targets(path)
    if has_errors(problems):
        return [], problems
    if not found and path is None:
        return [], [*problems, Diagnostic("targets-none", NO_TARGETS, Severity.WARNING)]
    reported = reported_figures(source)
    figures = reported[["metric_id", "entity_id", "year", "value"]]
    for y in sorted({int(v) for v in reported["year"]} | {year}):
        computed, more = computed_figures(source, y)
        problems = [*problems, *more]
        if computed:
            mine = pd.DataFrame(
                {
                    "metric_id": list(computed),
                    "entity_id": "*",
                    "year": y,
                    "value": list(computed.values()),
                }
            )
            keep = ~(figures["year"].eq(y) & figures["metric_id"].isin(list(computed)))
            figures = pd.concat([figures[keep], mine], ignore_index=True)
    return target_status(found, figures, year), problems
