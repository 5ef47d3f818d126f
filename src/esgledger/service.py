"""Library functions the CLI (and later the web app) call: ledger -> inputs -> result."""

from __future__ import annotations

import csv
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import select

from esgledger.calc import InventoryInput, InventoryResult, compute_inventory
from esgledger.calc.baseyear import BaseYearDecision, assess_base_year
from esgledger.calc.explain import Node, explain_figure, parse_figure
from esgledger.calc.workforce import COLUMNS as WORKFORCE_COLUMNS
from esgledger.calc.workforce import METRICS as WORKFORCE
from esgledger.calc.workforce import aggregate_totals, compute_workforce
from esgledger.checks import Finding, TargetStatus, load_targets, run_checks, target_status
from esgledger.domain.diagnostics import Diagnostic, has_errors
from esgledger.domain.model import ConsolidationApproach
from esgledger.factors import CalcSettings, load_library
from esgledger.metrics import load_catalogue
from esgledger.store.engine import TABLES
from esgledger.store.ledger import Ledger
from esgledger.units import conversion_factor

FIGURE_FORMS = (
    "ghg:<year>:<scope>[:<entity>], energy:<year>[:<entity>], metric:<year>:<metric_id>[:<entity>],"
    " materiality:<year>:<topic_id>:<impact|financial>,"
    " climate:<year>:<entry_id>:<likelihood|impact>, supplier:<year>:<supplier_id>,"
    " bcm:<year>:<risk_id>, infosec:<year>:<risk_id>,"
    " register:<suppliers|bcm|infosec>:<year>:<class>,"
    " lmdi:<year0>:<year1>:<scope|entity>:<factor|total>, pathway:<base>:<series>:<year>"
)
ASSESSMENT_KINDS = ("materiality", "climate", "supplier", "bcm", "infosec", "register")
"""Figure ids of the assessments (``esgledger.assess.lineage``)."""
STRATEGY_KINDS = ("lmdi", "pathway")
"""Figure ids of the carbon strategy (``esgledger.strategy.figures``)."""
"""The figure ids :func:`explain` accepts (lineage ids of reports and the panorama)."""


def settings_from_ledger(ledger: Ledger, **overrides: object) -> CalcSettings:
    """Inventory settings stored in the ledger, with command-line overrides applied."""
    stored = ledger.settings()
    values: dict[str, object] = {}
    if "gwp_set" in stored:
        values["gwp_set"] = stored["gwp_set"]
    if "approach" in stored:
        values["approach"] = ConsolidationApproach(stored["approach"])
    if "grid_level" in stored:
        values["grid_level"] = stored["grid_level"]
    if stored.get("factor_as_of"):
        values["factor_as_of"] = date.fromisoformat(stored["factor_as_of"])
    for key in ("natural_gas_tce", "ch4_convention", "scope2_total_basis"):
        if key in stored:
            values[key] = stored[key]
    for key, value in overrides.items():
        if value is not None:
            values[key] = value
    return CalcSettings(**values)  # type: ignore[arg-type]


def inventory_input(ledger: Ledger, years: list[int] | None = None) -> InventoryInput:
    records = ledger.activity_frame(years)
    direct = ledger.direct_frame(years)
    parameters = ledger.parameters()
    overrides = ledger.overrides()
    return InventoryInput(
        records=records,
        organisation=ledger.organisation(),
        direct=direct,
        parameters=parameters,
        overrides=overrides,
    )


def run_inventory(ledger: Ledger, settings: CalcSettings) -> InventoryResult:
    years = list(settings.years) if settings.years else None
    return compute_inventory(inventory_input(ledger, years), load_library(), settings)


def _group_metric(ledger: Ledger, year: int, metric: str) -> pd.DataFrame:
    """Context rows of a metric for the group (the root entity of the tree) in a year."""
    context = ledger.context_frame()
    roots = [e.entity_id for e in ledger.organisation().roots()]
    return context[
        (context["metric"] == metric) & (context["year"] == year) & context["entity_id"].isin(roots)
    ]


def revenue_wan_yuan(ledger: Ledger, year: int) -> float | None:
    """Group revenue of a year in 万元 (from the root entity's context metrics)."""
    rows = _group_metric(ledger, year, "revenue")
    if rows.empty:
        return None
    return float(
        sum(
            v * conversion_factor(u, "万元")
            for v, u in zip(rows["value"], rows["unit"], strict=True)
        )
    )


def headcount(ledger: Ledger, year: int) -> float | None:
    """Group headcount of a year (the root entity's `employees` metric)."""
    rows = _group_metric(ledger, year, "employees")
    return None if rows.empty else float(rows["value"].sum())


def base_year_decision(ledger: Ledger, result: InventoryResult) -> BaseYearDecision | None:
    stored = ledger.settings()
    if "base_year" not in stored:
        return None
    base_year = int(stored["base_year"])
    threshold = float(stored.get("base_year_threshold", "0.05"))
    totals = result.scope_totals(base_year)
    if totals["total"] <= 0:
        return None
    return assess_base_year(base_year, totals["total"], ledger.structural_changes(), threshold)


def intensity_table(ledger: Ledger, result: InventoryResult) -> pd.DataFrame:
    """Total emissions, revenue and intensity per year (ratios computed, never summed)."""
    rows = []
    for year in result.years():
        total = result.scope_totals(year)["total"]
        revenue = revenue_wan_yuan(ledger, year)
        people = headcount(ledger, year)
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


def reported_figures(ledger: Ledger, years: list[int] | None = None) -> pd.DataFrame:
    """Stored metric figures as the long table the consistency checks read.

    The root entity's figures are the group's (``entity_id`` '*'); ``published`` is the value
    as written, so a trailing ``+`` (a published lower bound) and the printed decimals reach
    the checks.
    """
    stored = ledger.metric_frame(years)
    roots = {e.entity_id for e in ledger.organisation().roots()}
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


def monthly_series(ledger: Ledger) -> pd.DataFrame:
    """Monthly metric figures of every entity as KRI series (entity, metric, YYYY-MM, value)."""
    stored = ledger.metric_frame()
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


def check(ledger: Ledger, years: list[int] | None = None) -> list[Finding]:
    """Consistency findings on the stored figures (rules in esgledger.checks.consistency)."""
    return run_checks(reported_figures(ledger, years))


def ledger_sources() -> list[dict[str, str]]:
    path = resources.files("esgledger.metrics").joinpath("data", "ledger_sources.csv")
    with path.open("r", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def workforce_frame(
    ledger: Ledger, year: int
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, list[Diagnostic]]:
    """Workforce figures of a year per entity and for the group (``entity_id`` '*', columns
    ``calc.workforce.COLUMNS``) with what they combine: the latest roster snapshot and the
    totals that subsidiaries without a roster report as metric figures (counts summed, ratios
    recomputed from their numerators and denominators, never averaged); and the diagnostics."""
    roster = ledger.roster_frame()
    basis = ledger.get_setting("turnover_basis") or "closing"
    computed = (
        compute_workforce(roster, date(year, 1, 1), date(year, 12, 31), basis)
        if not roster.empty
        else None
    )
    stored = ledger.metric_frame([year])
    roots = {e.entity_id for e in ledger.organisation().roots()}
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


def workforce_figures(ledger: Ledger, year: int) -> tuple[dict[str, float], list[Diagnostic]]:
    """Group workforce figures of a year (:func:`workforce_frame`'s group rows with a value)."""
    figures, _, _, problems = workforce_frame(ledger, year)
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
    lines = result.lines[result.lines["year"] == year]
    scope2 = lines[lines["scope"] == 2]
    present = {
        "scope1": bool((lines["scope"] == 1).any()),
        "scope2_location": bool(scope2["basis"].isin(("both", "location")).any()),
        "scope2_market": bool(scope2["basis"].isin(("both", "market")).any()),
        "scope3": bool((lines["scope"] == 3).any()),
        "total": not lines.empty,
    }
    out: dict[str, float | None] = {k: (v if present[k] else None) for k, v in totals.items()}
    energy = result.energy[result.energy["year"] == year]
    out["energy_tce"] = None if energy.empty else float(energy["tce"].sum())
    out["intensity_per_wan_yuan"] = (
        totals["total"] / revenue if revenue and present["total"] else None
    )
    return out


def computed_figures(ledger: Ledger, year: int) -> tuple[dict[str, float], list[Diagnostic]]:
    """Catalogue figures the ledger computes itself (metrics/data/ledger_sources.csv), and the
    diagnostics of combining subsidiaries' workforce totals with the roster."""
    catalogue = load_catalogue()
    data = inventory_input(ledger, [year])
    result = compute_inventory(data, load_library(), settings_from_ledger(ledger, years=(year,)))
    inventory = inventory_figures(result, year, revenue_wan_yuan(ledger, year))
    records = data.records  # the year's records, read once for the inventory and the sums
    out: dict[str, float] = {}
    group, problems = workforce_figures(ledger, year)
    known = catalogue.ids()
    out.update({m: v for m, v in group.items() if m in known})
    suppliers: tuple[dict[str, int], dict[str, Any]] | None = None
    for source in ledger_sources():
        metric = catalogue.get(source["metric_id"])
        if source["source"] == "activity":
            rows = records[records["activity_type"] == source["key"]]
            if rows.empty:
                continue
            out[metric.metric_id] = float(
                sum(
                    q * conversion_factor(u, metric.unit)
                    for q, u in zip(rows["quantity"], rows["unit"], strict=True)
                )
            )
        elif source["source"] == "suppliers":
            if suppliers is None:
                from esgledger.assess.suppliers import register_counts  # noqa: PLC0415

                suppliers = register_counts(ledger.engine, year) or ({}, {})
            if source["key"] in suppliers[0]:
                out[metric.metric_id] = float(suppliers[0][source["key"]])
        elif inventory.get(source["key"]) is not None:
            out[metric.metric_id] = float(inventory[source["key"]] or 0.0)
    return out, problems


def adjustment_batches(ledger: Ledger) -> frozenset[int]:
    """The batches that posted approved adjustments (restatement deltas, workflow/periods.py)."""
    batch = TABLES["import_batch"]
    with ledger.engine.connect() as conn:
        rows = conn.execute(select(batch.c.batch_id).where(batch.c.kind == "adjustment"))
        return frozenset(int(r) for (r,) in rows)


def stored_value(records: pd.DataFrame, adjustments: frozenset[int]) -> float | None:
    """The stored figure of one metric, entity and year from its records (ordered by ``rid``):
    the last record entered or imported, plus every adjustment delta posted after it. A new
    import replaces what came before; an approved adjustment adds its difference to it."""
    if records.empty:
        return None
    adjusting = records["batch_id"].isin(list(adjustments))
    bases = records.loc[~adjusting, "rid"]
    after = records if bases.empty else records[records["rid"] >= bases.max()]
    values = after["value"].dropna()
    return None if values.empty else float(values.sum())


def group_reported_values(ledger: Ledger, year: int) -> dict[str, float]:
    """metric id -> the group's stored figure of a year (:func:`stored_value` per metric)."""
    stored = ledger.metric_frame([year])
    roots = {e.entity_id for e in ledger.organisation().roots()}
    group = stored[stored["entity_id"].isin(roots)]
    adjustments = adjustment_batches(ledger)
    out = {}
    for metric_id, records in group.groupby("metric_id", sort=False):
        value = stored_value(records, adjustments)
        if value is not None:
            out[str(metric_id)] = value
    return out


def _source(computed: bool, reported: bool) -> str:
    if computed:
        return "computed and reported" if reported else "computed"
    return "reported" if reported else "missing"


def kpi_table(ledger: Ledger, year: int, lang: str = "en") -> tuple[pd.DataFrame, list[Diagnostic]]:
    """Every metric of the seed KPI table: the reported figure, the ledger's own figure where
    it computes one, and their difference (rows in the order of the published table); with
    the diagnostics of the computation."""
    catalogue = load_catalogue()
    stored = reported_figures(ledger, [year])
    group = stored[stored["entity_id"] == "*"].drop_duplicates("metric_id", keep="last")
    reported = dict(zip(group["metric_id"], group["published"], strict=True))
    values = group_reported_values(ledger, year)
    for metric_id, value in values.items():  # an approved adjustment restates the published
        last = group.loc[group["metric_id"] == metric_id, "value"]
        if not last.empty and last.iloc[-1] != value:
            reported[metric_id] = f"{value:.10g}"
    computed, problems = computed_figures(ledger, year)
    rows = []
    for number, metric in sorted(catalogue.seed_rows().items()):
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
    ledger: Ledger, year: int, path: Path | None = None
) -> tuple[list[TargetStatus], list[Diagnostic]]:
    """Status of the targets (the packaged seed targets, or a file's) against the ledger's
    figures: the reported ones, and the ones it computes itself, which win."""
    found, problems = load_targets(path)
    if has_errors(problems):
        return [], problems
    reported = reported_figures(ledger)
    figures = reported[["metric_id", "entity_id", "year", "value"]]
    for y in sorted({int(v) for v in reported["year"]} | {year}):
        computed, more = computed_figures(ledger, y)
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


def line_records(
    records: pd.DataFrame,
    direct_records: pd.DataFrame,
    entity: str,
    year: int,
    activity_type: str,
    region: str | None,
    direct: bool,
    category: str | None,
) -> pd.DataFrame:
    """The records an inventory line aggregated: direct records of its entity, year and
    category, or activity records of its entity, year, activity type and effective region
    (``eff_region``: the record's region, else its entity's; none when neither had one)."""
    if direct:
        d = direct_records
        return d[(d["entity_id"] == entity) & (d["year"] == year) & (d["category"] == category)]
    r = records
    match = r[
        (r["entity_id"] == entity) & (r["year"] == year) & (r["activity_type"] == activity_type)
    ]
    if region is None or pd.isna(region):
        return match[match["eff_region"].isna()]
    return match[match["eff_region"] == region]


def explain(ledger: Ledger, figure: str, rows: int = 5) -> Node:
    """Derivation tree of a figure, with the source rows of each line.

    The rows of a line are the stored records with the line's entity, year, activity type and
    effective region (the record's region, else its entity's), exactly those the calculation
    aggregated. Catalogue metrics (``metric:<year>:<metric_id>[:<entity>]``) are explained by
    :func:`esgledger.service_lineage.explain_metric`.
    """
    kind = figure.split(":", 1)[0]
    if kind == "metric":
        from esgledger.service_lineage import explain_metric  # noqa: PLC0415 (imports this module)

        return explain_metric(ledger, figure, rows)
    if kind in ASSESSMENT_KINDS:
        from esgledger.assess.lineage import explain_assessment  # noqa: PLC0415 (heavy import)

        return explain_assessment(ledger.engine, figure)
    if kind in STRATEGY_KINDS:
        from esgledger.strategy.figures import explain_strategy  # noqa: PLC0415 (heavy import)

        return explain_strategy(ledger, figure)
    if kind not in ("ghg", "energy"):
        raise ValueError(f"figure id {figure!r} is not one of {FIGURE_FORMS}")
    _, year, _, _ = parse_figure(figure)
    settings = settings_from_ledger(ledger, years=(year,))
    data = inventory_input(ledger, [year])
    result = compute_inventory(data, load_library(), settings)
    regions = {e.entity_id: e.region for e in data.organisation}
    records = data.records.assign(
        eff_region=data.records["region"].fillna(data.records["entity_id"].map(regions))
    )

    def lineage(
        entity: str,
        year: int,
        activity_type: str,
        region: str | None,
        limit: int,
        direct: bool,
        category: str | None,
    ) -> tuple[pd.DataFrame, int]:
        match = line_records(
            records, data.direct, entity, year, activity_type, region, direct, category
        )
        return match.head(limit), len(match)

    return explain_figure(result, figure, records=lineage, max_rows=rows)
