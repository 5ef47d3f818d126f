"""Commands of the carbon strategy: ``strategy decompose`` (Kaya-LMDI of the change between
two years) and ``strategy pathway`` (the pathways to the group's targets, with the gap to a
forecast)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import pandas as pd
import typer

from esgledger.cli.app import (
    DEFAULT_LEDGER,
    LedgerOption,
    _emit,
    _open,
    _print_diagnostics,
    console,
    errors,
    show_table,
)
from esgledger.strategy.choices import Activity, Basis, By
from esgledger.usecases.strategy import DEFAULT_HORIZON, DEFAULT_ITERATIONS, DEFAULT_PLAN_BASIS

if TYPE_CHECKING:
    from esgledger.domain.diagnostics import Diagnostic
    from esgledger.store.ledger import Ledger
    from esgledger.strategy.abatement import Baseline, Plan

strategy_app = typer.Typer(
    help="Carbon strategy: decomposition, pathways, forecasts, abatement, uncertainty.",
    no_args_is_help=True,
)

JsonOption = Annotated[bool, typer.Option("--json", help="JSON output")]
CsvOption = Annotated[bool, typer.Option("--csv", help="CSV output")]


class Shape(StrEnum):
    linear = "linear"
    rate = "rate"


class Ambition(StrEnum):
    one_point_five = "1.5C"
    well_below_two = "wb2c"


def register(app: typer.Typer) -> None:
    app.add_typer(strategy_app, name="strategy")


def _fail(message: str) -> typer.Exit:
    errors.print(message, markup=False, highlight=False, soft_wrap=True)
    return typer.Exit(1)


def _notes(notes: object) -> None:
    for note in notes:  # type: ignore[attr-defined]
        console.print(f"note: {note}", markup=False, highlight=False, soft_wrap=True)


@strategy_app.command("decompose")
def strategy_decompose(
    year_from: Annotated[int, typer.Option("--from", help="first year", min=1901, max=2199)],
    year_to: Annotated[int, typer.Option("--to", help="second year", min=1901, max=2199)],
    activity: Annotated[Activity, typer.Option(help="activity driver")] = Activity.revenue,
    by: Annotated[
        By, typer.Option(help="subsectors: entities, or scopes when entities cannot be compared")
    ] = By.entity,
    ledger: LedgerOption = DEFAULT_LEDGER,
    as_json: JsonOption = False,
    as_csv: CsvOption = False,
) -> None:
    """Kaya-LMDI-I decomposition of the change in emissions between two years: activity,
    structure, energy intensity and carbon intensity of energy (additive effects in tCO2e that
    sum to the change, and multiplicative indices)."""
    from esgledger.usecases.strategy import kaya_decomposition

    try:
        result, _ = kaya_decomposition(
            _open(ledger), year_from, year_to, activity=activity.value, by=by.value
        )
    except (ValueError, ArithmeticError) as exc:
        raise _fail(f"strategy decompose: {exc}") from exc
    table = result.table()
    total = {
        "factor": "total change",
        "unit": "tCO2e",
        "effect_tco2e": result.change,
        "share_of_change_pct": 100.0 if result.change else float("nan"),
        "index": result.ratio,
    }
    frame = pd.concat([table, pd.DataFrame([total])], ignore_index=True)
    _emit(
        frame,
        as_json,
        as_csv,
        f"LMDI {year_from} -> {year_to}: {result.total0:,.2f} -> {result.total1:,.2f} tCO2e",
        list(result.notes),
    )


@strategy_app.command("pathway")
def strategy_pathway(
    base_year: Annotated[
        int | None,
        typer.Option(help="base year (its inventory total); default: the latest inventory year"),
    ] = None,
    growth: Annotated[
        float | None,
        typer.Option(
            help="yearly growth to the peak, e.g. 0.03; default: the compound growth of the "
            "ledger's totals up to the base year"
        ),
    ] = None,
    shape: Annotated[Shape, typer.Option(help="decline after the peak")] = Shape.linear,
    ambition: Annotated[
        Ambition, typer.Option(help="the absolute-contraction pathway shown beside it")
    ] = Ambition.one_point_five,
    ledger: LedgerOption = DEFAULT_LEDGER,
    as_json: JsonOption = False,
    as_csv: CsvOption = False,
) -> None:
    """The pathway to the group's carbon peak, neutrality and net zero from the base year's
    inventory total, beside an SBTi-style absolute contraction."""
    from esgledger.strategy.pathways import absolute_contraction
    from esgledger.usecases.strategy import base_year_of, ledger_pathway

    store = _open(ledger)
    try:
        year = base_year_of(store, base_year)
        frame, notes = ledger_pathway(store, base_year=year, growth=growth, shape=shape.value)
    except ValueError as exc:
        raise _fail(f"strategy pathway: {exc}") from exc
    base = float(frame.loc[frame["year"] == year, "pathway_tco2e"].iloc[0])
    contraction = absolute_contraction(
        year, base, int(frame["year"].max()), ambition=ambition.value
    )
    merged = frame.merge(
        contraction[["year", "pathway_tco2e"]].rename(
            columns={"pathway_tco2e": f"contraction_{ambition.value}_tco2e"}
        ),
        on="year",
        how="left",
    )
    title = "pathway to the group's targets"
    if as_json or as_csv:
        _emit(merged, as_json, as_csv, title, [])
    show_table(merged, title)
    _notes(notes)


@strategy_app.command("forecast")
def strategy_forecast(
    horizon: Annotated[
        int, typer.Option(help="periods ahead (years, or months)", min=1, max=50)
    ] = DEFAULT_HORIZON,
    by_entity: Annotated[bool, typer.Option(help="one series per entity as well")] = False,
    monthly: Annotated[
        bool, typer.Option(help="the months of the records that carry one, not the years")
    ] = False,
    since: Annotated[
        int | None,
        typer.Option(
            help="a structural break (an acquisition, a disposal, a change of method): fit "
            "only the years from this one on",
            min=1901,
            max=2199,
        ),
    ] = None,
    ledger: LedgerOption = DEFAULT_LEDGER,
    as_json: JsonOption = False,
    as_csv: CsvOption = False,
) -> None:
    """Business-as-usual forecast of emissions and energy by scope with 95 % prediction
    intervals; each series' model fixed in advance for short series, else chosen by a
    rolling-origin back-test (the back-test table follows; --json carries both)."""
    import sys

    from esgledger.cli.app import _has_inventory_data
    from esgledger.domain.diagnostics import exit_code
    from esgledger.usecases.strategy import forecast_from_ledger

    store = _open(ledger)
    _has_inventory_data(store, "strategy forecast")
    try:
        result = forecast_from_ledger(
            store, horizon, by_entity=by_entity, monthly=monthly, since=since
        )
    except ValueError as exc:
        raise _fail(f"strategy forecast: {exc}") from exc
    diagnostics = list(result.diagnostics)
    code = exit_code(diagnostics)
    if as_json:
        tables = {"rows": result.forecasts, "backtests": result.backtests}
        _print_json(tables, [d.to_dict() for d in diagnostics], failed=code != 0)
    elif as_csv and not code:
        result.forecasts.to_csv(sys.stdout, index=False)
    if not as_json:
        _print_diagnostics(diagnostics)
    if any(d.code == "forecast-no-model" for d in diagnostics):
        later = "" if since is None else f" (from {since} on: --since)"
        raise _fail(
            "strategy forecast: too little history: enter the activity data or direct "
            f"emissions of more years{later} (esgledger import FILE)"
        )
    if code:
        raise _fail("strategy forecast: nothing printed, the errors above leave it incomplete")
    if not (as_json or as_csv):
        show_table(result.forecasts, "business-as-usual forecast")
        show_table(result.backtests, "back-tests and model choice (mean absolute error)")


def _print_json(
    tables: dict[str, pd.DataFrame], diagnostics: list[dict[str, object]], *, failed: bool
) -> None:
    """Each table as JSON records (missing figures null; every table null when an error
    leaves the figures incomplete, as ``_emit``), and the diagnostics."""
    import json

    payload: dict[str, object] = {}
    for name, table in tables.items():
        rows = table.astype(object).where(table.notna(), None).to_dict("records")
        payload[name] = None if failed else [{str(k): v for k, v in r.items()} for r in rows]
    payload["diagnostics"] = diagnostics
    print(json.dumps(payload, ensure_ascii=False, indent=2, default=str, allow_nan=False))


def _catalogue(
    store: Ledger, path: str | None, base: Baseline, basis: Basis
) -> tuple[pd.DataFrame, list[Diagnostic]]:
    """The plan's measure catalogue and its warnings
    (:func:`esgledger.usecases.strategy.measure_catalogue`), or exit 1 with every located
    problem."""
    from esgledger.strategy.abatement import CatalogueError
    from esgledger.usecases.strategy import measure_catalogue

    try:
        return measure_catalogue(store, base, basis, path)
    except CatalogueError as exc:
        for problem in exc.diagnostics:
            errors.print(str(problem), style="red", markup=False, highlight=False)
        raise _fail(f"{path or 'catalogue'}: {len(exc.diagnostics)} problem(s)") from exc
    except ValueError as exc:
        raise _fail(f"strategy: {exc}") from exc


CatalogueOption = Annotated[
    str | None,
    typer.Option(help="measure catalogue CSV (default: the packaged demo catalogue)"),
]
RateOption = Annotated[
    float | None, typer.Option(help="discount rate, e.g. 0.08 (default: measures_parameters.csv)")
]
BaseYearOption = Annotated[
    int | None,
    typer.Option(help="inventory year of the baseline; default: the latest inventory year"),
]


def _baseline(store: Ledger, year: int | None, command: str) -> Baseline:
    """The ledger's baseline of ``year`` (default: the latest inventory year), or exit 1
    saying why there is none."""
    from esgledger.usecases.strategy import baseline_from_ledger

    try:
        return baseline_from_ledger(store, year)
    except ValueError as exc:
        raise _fail(f"strategy {command}: {exc}") from exc


@strategy_app.command("macc")
def strategy_macc(
    year: Annotated[
        int | None,
        typer.Option(
            help="inventory year whose grid factor prices power; default: the latest inventory year"
        ),
    ] = None,
    basis: Annotated[
        Basis,
        typer.Option(help="scope 2 basis of the grid factor (green power lowers market-based)"),
    ] = DEFAULT_PLAN_BASIS,
    catalogue: CatalogueOption = None,
    rate: RateOption = None,
    ledger: LedgerOption = DEFAULT_LEDGER,
    as_json: JsonOption = False,
    as_csv: CsvOption = False,
) -> None:
    """The marginal abatement cost curve: measures by cost per tonne (CNY/tCO2e), cheapest
    first, with their yearly abatement at full deployment and the cumulative abatement."""
    from esgledger.strategy.abatement import macc
    from esgledger.usecases.strategy import grid_factor

    store = _open(ledger)
    base = _baseline(store, year, "macc")
    factor = grid_factor(base, basis)
    measures, notes = _catalogue(store, catalogue, base, basis)
    curve = macc(measures, rate)
    columns = [
        "measure_id",
        "name_en",
        "lever",
        "abatement_t_per_year",
        "annual_cost_cny",
        "cost_cny_per_t",
        "cumulative_t",
    ]
    known = math.isfinite(factor)
    priced = f"grid factor {factor:.4f} tCO2/MWh" if known else "no grid factor"
    extra = {"year": base.year, "basis": basis.value, "grid_factor": factor if known else None}
    _emit(curve[columns], as_json, as_csv, f"MACC ({priced})", notes, extra)


class Target(StrEnum):
    group = "group"
    contraction = "contraction"


def _pathway_caps(
    ledger: object, base_year: int, year: int, target: Target, scale: float
) -> tuple[dict[int, float], dict[int, float]]:
    """Business as usual and the caps of each year after ``base_year`` up to ``year`` from
    the pathway table (the ledger's total basis), times ``scale`` (the basis ratio)."""
    from esgledger.usecases.strategy_figures import pathway_table

    frame, _ = pathway_table(ledger, base_year)  # type: ignore[arg-type]
    rows = frame[(frame["year"] > base_year) & (frame["year"] <= year)].set_index("year")
    if rows.empty:
        raise ValueError(f"no pathway year after {base_year} up to {year}")
    years = [int(y) for y in rows.index]
    baseline = dict(zip(years, (float(v) * scale for v in rows["bau"]), strict=True))
    caps = dict(zip(years, (float(v) * scale for v in rows[target.value]), strict=True))
    return baseline, caps


@strategy_app.command("optimise")
def strategy_optimise(
    year: Annotated[int, typer.Option(help="target year of the cap", min=1901, max=2199)],
    reduction: Annotated[
        float | None, typer.Option(help="cut from the base year's emissions, e.g. 0.3")
    ] = None,
    cap: Annotated[float | None, typer.Option(help="emissions cap in tCO2e")] = None,
    pathway: Annotated[
        Target | None,
        typer.Option(
            help="instead of one cap: every year after the base year up to --year under the "
            "group's pathway or the 1.5 C contraction, from business as usual"
        ),
    ] = None,
    base_year: BaseYearOption = None,
    basis: Annotated[
        Basis, typer.Option(help="scope 2 basis (green power lowers market-based only)")
    ] = DEFAULT_PLAN_BASIS,
    catalogue: CatalogueOption = None,
    rate: RateOption = None,
    ledger: LedgerOption = DEFAULT_LEDGER,
    as_json: JsonOption = False,
    as_csv: CsvOption = False,
) -> None:
    """The least-cost measures (HiGHS mixed-integer programme) that bring the base year's
    emissions under a cap in the target year, or business as usual under a pathway every
    year; the plan is re-checked without the solver and the shadow price of carbon is
    printed."""
    from esgledger.strategy.abatement import InfeasiblePlanError

    if sum(x is not None for x in (reduction, cap, pathway)) != 1:
        raise _fail("strategy optimise: give one of --reduction, --cap and --pathway")
    store = _open(ledger)
    base = _baseline(store, base_year, "optimise")
    measures, notes = _catalogue(store, catalogue, base, basis)
    try:
        plan, summary = _optimise(store, base, measures, year, basis, pathway, reduction, cap, rate)
    except (InfeasiblePlanError, ValueError) as exc:
        raise _fail(f"strategy optimise: {exc}") from exc
    years = plan.years if pathway is not None else None
    if as_json or as_csv:
        extra = {"plan": summary, "years": None if years is None else _records(years)}
        _emit(plan.adoptions, as_json, as_csv, f"least-cost plan for {year}", notes, extra)
    _print_diagnostics(notes)
    show_table(plan.adoptions, f"least-cost plan for {year}")
    if years is not None:
        show_table(years, "years: business as usual, cap, abatement, duals")
    console.print(_plan_sentence(summary, pathway), markup=False, soft_wrap=True)


def _records(frame: pd.DataFrame) -> list[dict[str, object]]:
    return [
        {str(k): v for k, v in row.items()}
        for row in frame.astype(object).where(frame.notna(), None).to_dict("records")
    ]


def _optimise(
    store: Ledger,
    base: Baseline,
    measures: pd.DataFrame,
    year: int,
    basis: Basis,
    pathway: Target | None,
    reduction: float | None,
    cap: float | None,
    rate: float | None,
) -> tuple[Plan, dict[str, object]]:
    """The least-cost plan and what the command prints of it (the JSON ``plan``)."""
    from esgledger.strategy.abatement import plan_for_cap, plan_pathway, verify_plan
    from esgledger.usecases.strategy import plan_cap

    total = base.total(basis=basis.value)
    scale = 1.0
    if pathway is not None:
        own = base.total()
        scale = total / own if own else 1.0
        baseline, caps = _pathway_caps(store, base.year, year, pathway, scale)
        plan = plan_pathway(measures, baseline, caps, rate, electricity_mwh=base.electricity_mwh)
        limit = caps[year]
    else:
        _, limit = plan_cap(total, reduction, cap)
        plan = plan_for_cap(
            measures, total, limit, year, rate, electricity_mwh=base.electricity_mwh
        )
    check = verify_plan(plan)
    if not check.ok:  # pragma: no cover - the optimiser's plans pass (tests)
        raise ValueError("the plan fails its recomputation: " + "; ".join(check.problems))
    summary: dict[str, object] = {
        "base_year": base.year,
        "year": year,
        "basis": basis.value,
        "pathway": None if pathway is None else pathway.value,
        "scale": scale,
        "baseline_tco2e": total,
        "cap_tco2e": limit,
        "abatement_t_per_year": plan.abatement_t,
        "total_cost_cny": plan.total_cost_cny,
        "shadow_price_cny_per_t": plan.shadow_price,
        "binding": list(plan.binding),
        "verified": check.ok,
    }
    return plan, summary


def _plan_sentence(summary: Mapping[str, Any], pathway: Target | None) -> str:
    """The line under the plan: baseline, cap, cost, shadow price, binding constraints."""
    basis, year, base_year = summary["basis"], summary["year"], summary["base_year"]
    if pathway is not None:
        what = (
            f"business as usual under the {pathway.value} pathway {base_year + 1}-{year} "
            f"({basis}-based scope 2: the pathway's values times {summary['scale']:.4f}, the "
            f"{base_year} ratio of the {basis}-based to the ledger's total), "
            f"cap {summary['cap_tco2e']:,.2f} in {year}; total cost discounted to "
            f"{base_year + 1} {summary['total_cost_cny']:,.0f} CNY"
        )
    else:
        what = (
            f"baseline {summary['baseline_tco2e']:,.2f} tCO2e ({basis}-based scope 2), cap "
            f"{summary['cap_tco2e']:,.2f}, abatement {summary['abatement_t_per_year']:,.2f} "
            f"tCO2e/year, annual cost {summary['total_cost_cny']:,.0f} CNY"
        )
    return (
        f"{what}; shadow price of carbon {summary['shadow_price_cny_per_t']:,.2f} CNY/tCO2e; "
        f"binding: {', '.join(summary['binding']) or 'none'}; recomputed without the solver: "
        f"{'ok' if summary['verified'] else 'FAILED'}"
    )


@strategy_app.command("energy-plan")
def strategy_energy_plan(
    year: Annotated[int, typer.Option(help="year of the quota", min=1901, max=2199)],
    quota: Annotated[float | None, typer.Option(help="emissions quota in tCO2e")] = None,
    reduction: Annotated[
        float | None, typer.Option(help="quota as a cut from the base year, e.g. 0.3")
    ] = None,
    base_year: BaseYearOption = None,
    catalogue: CatalogueOption = None,
    rate: RateOption = None,
    ledger: LedgerOption = DEFAULT_LEDGER,
    as_json: JsonOption = False,
    as_csv: CsvOption = False,
) -> None:
    """The energy plan under an emissions quota: the least-cost mix of green power and
    efficiency measures (market-based scope 2), with the grid electricity still bought."""
    from esgledger.strategy.abatement import (
        InfeasiblePlanError,
        energy_plan,
        verify_plan,
    )
    from esgledger.usecases.strategy import plan_cap

    if (quota is None) == (reduction is None):
        raise _fail("strategy energy-plan: give one of --quota and --reduction")
    store = _open(ledger)
    base = _baseline(store, base_year, "energy-plan")
    total = base.total(basis="market")
    factor = base.market_grid_factor
    other = total - base.electricity_mwh * factor
    _, limit = plan_cap(total, reduction, quota)
    measures, notes = _catalogue(store, catalogue, base, Basis.market)
    try:
        found = energy_plan(
            measures,
            base.electricity_mwh,
            other,
            limit,
            factor,
            year,
            rate,
        )
    except InfeasiblePlanError as exc:
        raise _fail(f"strategy energy-plan: {exc}") from exc
    check = verify_plan(found.plan)
    summary = pd.DataFrame(
        [
            {"item": "electricity before", "mwh": base.electricity_mwh},
            {"item": "green power", "mwh": found.green_power_mwh},
            {"item": "saved by efficiency", "mwh": found.efficiency_mwh},
            {"item": "grid electricity bought", "mwh": found.grid_mwh},
        ]
    )
    title = f"energy plan {year} (quota {limit:,.2f} tCO2e)"
    if as_json or as_csv:
        extra = {
            "measures": _records(found.plan.adoptions),
            "plan": {
                "emissions_tco2e": total,
                "quota_tco2e": limit,
                "grid_factor": factor,
                "total_cost_cny": found.plan.total_cost_cny,
                "shadow_price_cny_per_t": found.plan.shadow_price,
                "verified": check.ok,
            },
        }
        _emit(summary, as_json, as_csv, title, notes, extra)
    _print_diagnostics(notes)
    show_table(summary, title)
    show_table(found.plan.adoptions, "measures")
    console.print(
        f"emissions {total:,.2f} -> at most {limit:,.2f} tCO2e (market-based, grid factor "
        f"{factor:.4f} tCO2/MWh); annual cost {found.plan.total_cost_cny:,.0f} CNY; "
        f"shadow price {found.plan.shadow_price:,.2f} CNY/tCO2e; recomputed without the "
        f"solver: {'ok' if check.ok else 'FAILED'}",
        markup=False,
        soft_wrap=True,
    )


@strategy_app.command("uncertainty")
def strategy_uncertainty(
    year: Annotated[int, typer.Option(help="inventory year", min=1901, max=2199)],
    iterations: Annotated[
        int, typer.Option(help="Monte Carlo iterations", min=100)
    ] = DEFAULT_ITERATIONS,
    seed: Annotated[int, typer.Option(help="random seed (same seed, same result)")] = 0,
    sources: Annotated[
        str | None,
        typer.Option(
            help="error-source CSV: record_id, error_source (records sharing one activity "
            "error, e.g. a meter), half_width, distribution (default: one source per record)"
        ),
    ] = None,
    ledger: LedgerOption = DEFAULT_LEDGER,
    as_json: JsonOption = False,
    as_csv: CsvOption = False,
) -> None:
    """Monte Carlo 95 % intervals of each scope and the total from activity-data and factor
    uncertainty (defaults by data quality and factor type; one activity draw per record or
    declared error source), beside IPCC Approach 1."""
    from esgledger.usecases.strategy import uncertainty_from_ledger

    try:
        result = uncertainty_from_ledger(
            _open(ledger), year, iterations=iterations, seed=seed, sources=sources
        )
    except ValueError as exc:
        raise _fail(f"strategy uncertainty: {exc}") from exc
    _emit(
        result.summary,
        as_json,
        as_csv,
        f"uncertainty {year} ({iterations:,} iterations, seed {seed})",
        list(result.diagnostics),
    )
