"""Carbon strategy and carbon ledger pages and their JSON twins.

The strategy pages (``/strategy``: overview; ``/strategy/forecast``,
``/strategy/decomposition``, ``/strategy/pathway``, ``/strategy/abatement``,
``/strategy/uncertainty``) show the group's aggregates, so besides the ``view`` permission
the caller must see every entity (a scoped caller gets 403). Each is a thin layer over the
use cases of :mod:`esgledger.usecases.strategy` (the numbers and the defaults are those of
``esgledger strategy ...``), computed once per data version in the ledger's Book: nothing is
cached here.

The carbon ledger page (``/carbon``) lists the postings the caller may see with the
positions of a compliance year, records a posting (``edit``) and shows the hash-chain check
(``audit_read``); :mod:`esgledger.trading.ledger` checks the permission and entity scope of
every call itself.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

import pandas as pd
from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from esgledger.auth import access
from esgledger.auth.accounts import Principal
from esgledger.auth.roles import Permission
from esgledger.report.charts import svg
from esgledger.report.strategy_charts import macc_chart
from esgledger.store.carbon_ledger import has_entity
from esgledger.store.engine import LedgerEngine as Engine
from esgledger.store.ledger import Ledger
from esgledger.strategy import abatement
from esgledger.strategy.choices import Activity, Basis, By
from esgledger.trading import ledger as carbon
from esgledger.usecases import carbon_ledger
from esgledger.usecases import strategy as usecase
from esgledger.usecases.strategy_figures import pathway_table
from esgledger.usecases.targets import ledger_milestones
from esgledger.web.routes.assess import _json, _records
from esgledger.web.routes.common import (
    ID_PATTERN,
    TEXT_PATTERN,
    Viewer,
    engine_of,
    lang_of,
    page,
    scoped_entities,
    see_other,
    whole_number,
)
from esgledger.web.routes.dashboard import inventory_cache
from esgledger.web.security import Caller, ledger, need
from esgledger.workflow.errors import Forbidden, Invalid, NotFound, WorkflowError

router = APIRouter()

Editor = Annotated[Caller, Depends(need(Permission.EDIT))]
Auditor = Annotated[Caller, Depends(need(Permission.AUDIT_READ))]

#: Flash messages of the carbon ledger page (``?done=``).
FLASHES = frozenset({"carbon_posted", "carbon_emissions_posted"})
#: Postings shown on the page (newest first); the JSON holds all.
ROW_CAP = 500
#: Series of the forecast drawn on its chart (tCO2e; energy has other units).
CHART_SERIES = ("scope1", "scope2_location", "scope2_market", "scope3", "total")
NEXT_YEARS = 6


def _whole_group(request: Request, caller: Viewer) -> Caller:
    """The caller, who must see every entity: the strategy is the group's."""
    who = caller.who
    if not access.is_group_wide(engine_of(request), who):
        raise Forbidden(
            "the carbon strategy covers the whole group: it is shown to those who see every entity"
        )
    return caller


Strategist = Annotated[Caller, Depends(_whole_group)]


YearQuery = Annotated[int | None, Query(ge=1901, le=2199, description="default: latest year")]
Horizon = Annotated[int, Query(ge=1, le=30, description="years ahead")]
Iterations = Annotated[int, Query(ge=100, le=20_000, description="Monte Carlo iterations")]
Seed = Annotated[int, Query(ge=0, le=2_147_483_647, description="random seed")]


# -- helpers ---------------------------------------------------------------------------------


def _page(
    request: Request, caller: Caller, name: str, status_code: int = 200, **context: Any
) -> Response:
    return page(request, caller, name, status_code, FLASHES, **context)


def _years(request: Request) -> list[int]:
    """The ledger's inventory years (the app's inventory cache, kept per data version)."""
    return list(inventory_cache(request).get(ledger(request)).years)


def _latest(store: Ledger) -> int:
    """The latest inventory year, the default year of every strategy page
    (:func:`esgledger.usecases.strategy.default_base_year`); NotFound when there is none."""
    try:
        return usecase.default_base_year(store)
    except ValueError as exc:
        raise NotFound(str(exc)) from exc


def _inventory_year(request: Request, year: int | None) -> int:
    if year is None:
        return _latest(ledger(request))
    years = _years(request)
    if year not in years:
        held = f"{years[0]}-{years[-1]}" if years else "none"
        raise Invalid(f"no inventory for {year}: the ledger holds the years {held}")
    return year


def _notes(notes: Any) -> list[str]:
    return [str(n) for n in notes]


def _refused(exc: Exception) -> Invalid:
    """A library refusal of the inputs (ValueError, ArithmeticError) as a 422."""
    return Invalid(str(exc) or type(exc).__name__)


# -- computations (sync: FastAPI runs ``def`` routes in its threadpool) ----------------------


def forecast_data(store: Ledger, horizon: int, since: int | None = None) -> dict[str, Any]:
    try:
        result = usecase.forecast_from_ledger(store, horizon, since=since)
    except (ValueError, ArithmeticError) as exc:
        raise _refused(exc) from exc
    columns = ["series", "year", "forecast", "lower", "upper", "model", "level"]
    return {
        "horizon": horizon,
        "since": since,
        "forecasts": _records(result.forecasts[columns]),
        "backtests": _records(result.backtests),
        "diagnostics": _notes(result.diagnostics),
    }


def _forecast_chart(data: dict[str, Any]) -> dict[str, Any]:
    rows = [r for r in data["forecasts"] if r["series"] in CHART_SERIES]
    years = sorted({int(r["year"]) for r in rows})
    series = []
    for name in CHART_SERIES:
        of = {int(r["year"]): r for r in rows if r["series"] == name}
        if of:
            series.append({"key": name, "data": [of.get(y, {}).get("forecast") for y in years]})
    total = {int(r["year"]): r for r in rows if r["series"] == "total"}
    band = {
        "lower": [total.get(y, {}).get("lower") for y in years],
        "upper": [total.get(y, {}).get("upper") for y in years],
    }
    return {"years": years, "series": series, "band": band}


def decomposition_data(
    store: Ledger, year_from: int, year_to: int, activity: str, by: str
) -> dict[str, Any]:
    try:
        result, _ = usecase.kaya_decomposition(store, year_from, year_to, activity=activity, by=by)  # type: ignore[arg-type]
    except (ValueError, ArithmeticError) as exc:
        raise _refused(exc) from exc
    return {
        "year_from": year_from,
        "year_to": year_to,
        "activity": activity,
        "by": by,
        "total0": result.total0,
        "total1": result.total1,
        "change": result.change,
        "ratio": result.ratio,
        "factors": _records(result.table()),
        "total": {
            "factor": "total change",
            "unit": "tCO2e",
            "effect_tco2e": result.change,
            "share_of_change_pct": 100.0 if result.change else None,
            "index": result.ratio,
        },
        "notes": _notes(result.notes),
    }


def _milestones(store: Ledger) -> dict[str, int]:
    marks = ledger_milestones(store)
    return {"peak": marks.peak, "neutrality": marks.neutrality, "net_zero": marks.net_zero}


def pathway_data(store: Ledger, base_year: int) -> dict[str, Any]:
    try:
        frame, notes = pathway_table(store, base_year)
        marks = _milestones(store)
    except (ValueError, ArithmeticError) as exc:
        raise _refused(exc) from exc
    return {
        "base_year": base_year,
        "milestones": marks,
        "rows": _records(frame),
        "notes": _notes(notes),
    }


def overview_data(store: Ledger, years: list[int]) -> dict[str, Any]:
    base_year = _latest(store)
    pathway = pathway_data(store, base_year)
    base = next(r for r in pathway["rows"] if r["year"] == base_year)
    upcoming = [r for r in pathway["rows"] if base_year < r["year"] <= base_year + NEXT_YEARS]
    return {
        "base_year": base_year,
        "base_total_tco2e": base["bau"],
        "years": years,
        "milestones": pathway["milestones"],
        "next_years": upcoming,
        "notes": pathway["notes"],
    }


MACC_COLUMNS = [
    "measure_id",
    "name_en",
    "name_zh",
    "lever",
    "scope",
    "abatement_t_per_year",
    "annual_cost_cny",
    "cost_cny_per_t",
    "cumulative_t",
]
PLAN_COLUMNS = [
    "measure_id",
    "name_en",
    "lever",
    "scope",
    "year",
    "units",
    "unit",
    "active_to",
    "abatement_t_per_year",
    "annual_cost_cny",
]


def abatement_data(
    store: Ledger,
    year: int,
    basis: str,
    target_year: int,
    reduction: float | None,
    cap: float | None,
    rate: float | None,
) -> tuple[dict[str, Any], pd.DataFrame]:
    """The MACC at the year's grid factor, and the least-cost plan for the target (a cap,
    or a reduction from the year's emissions, default :data:`usecase.DEFAULT_REDUCTION`)."""
    if reduction is not None and cap is not None:
        raise Invalid("give one of reduction and cap")
    base = usecase.baseline_from_ledger(store, year)
    factor = usecase.grid_factor(base, basis)
    try:
        catalogue, notes = usecase.measure_catalogue(store, base, basis)
        curve = abatement.macc(catalogue, rate)
    except (ValueError, ArithmeticError) as exc:
        raise _refused(exc) from exc
    total = base.total(basis=basis)
    share, limit = usecase.plan_cap(total, reduction, cap)
    data: dict[str, Any] = {
        "year": year,
        "basis": basis,
        "grid_factor": factor if math.isfinite(factor) else None,
        "rate": abatement.default_rate() if rate is None else rate,
        "baseline_tco2e": total,
        "notes": [str(n) for n in notes],
        "macc": _records(curve[MACC_COLUMNS]),
        "target": {"year": target_year, "reduction": share, "cap_tco2e": limit},
        "plan": None,
        "infeasible": None,
    }
    try:
        plan = abatement.plan_for_cap(
            catalogue, total, limit, target_year, rate, electricity_mwh=base.electricity_mwh
        )
    except abatement.InfeasiblePlanError as exc:
        data["infeasible"] = {
            "detail": str(exc),
            "shortfall": [
                {"year": y, "required_t": need_t, "achievable_t": most}
                for y, (need_t, most) in sorted(exc.shortfall.items())
            ],
        }
        return data, curve
    except (ValueError, ArithmeticError) as exc:
        raise _refused(exc) from exc
    check = abatement.verify_plan(plan)
    names = dict(zip(curve["measure_id"], curve["name_zh"], strict=True))
    adoptions = _records(plan.adoptions[[c for c in PLAN_COLUMNS if c in plan.adoptions]])
    for row in adoptions:
        row["name_zh"] = names.get(row["measure_id"])
    data["plan"] = {
        "adoptions": adoptions,
        "abatement_t": plan.abatement_t,
        "emissions_t": total - plan.abatement_t,
        "total_cost_cny": plan.total_cost_cny,
        "shadow_price_cny_per_t": plan.shadow_price,
        "binding": list(plan.binding),
        "verified": check.ok,
        "verification_problems": list(check.problems),
    }
    return data, curve


def uncertainty_data(store: Ledger, year: int, iterations: int, seed: int) -> dict[str, Any]:
    try:
        result = usecase.uncertainty_from_ledger(store, year, iterations=iterations, seed=seed)
    except (ValueError, ArithmeticError, LookupError) as exc:
        raise _refused(exc) from exc
    return {
        "year": year,
        "iterations": iterations,
        "seed": seed,
        "summary": _records(result.summary),
        "diagnostics": _notes(result.diagnostics),
    }


# -- strategy pages ---------------------------------------------------------------------------


@router.get("/strategy", include_in_schema=False)
def strategy_page(request: Request, caller: Strategist) -> Response:
    data = overview_data(ledger(request), _years(request))
    return _page(request, caller, "strategy_overview.html", data=data)


@router.get("/api/strategy", tags=["strategy"])
def api_strategy(request: Request, caller: Strategist) -> Response:
    """The group's base-year total, its milestones (peak, neutrality, net zero) and the
    pathway of the next years (business as usual, contraction, group pathway, gap)."""
    del caller  # the dependency checked the permission and the scope
    return _json(overview_data(ledger(request), _years(request)))


#: A declared structural break of the forecast: only the years from it on are fitted.
Since = Annotated[
    int | None, Query(ge=1901, le=2199, description="structural break: fit the years from it")
]


@router.get("/strategy/forecast", include_in_schema=False)
def forecast_page(
    request: Request,
    caller: Strategist,
    horizon: Horizon = usecase.DEFAULT_HORIZON,
    since: Since = None,
) -> Response:
    data = forecast_data(ledger(request), horizon, since)
    return _page(request, caller, "strategy_forecast.html", data=data, chart=_forecast_chart(data))


@router.get("/api/strategy/forecast", tags=["strategy"])
def api_forecast(
    request: Request,
    caller: Strategist,
    horizon: Horizon = usecase.DEFAULT_HORIZON,
    since: Since = None,
) -> Response:
    """Business-as-usual forecast of emissions and energy by series with 95 % prediction
    intervals and each series' model (fixed in advance for short series, else chosen by
    back-test), the back-tests and the diagnostics (as ``esgledger strategy forecast``);
    ``since``: a structural break, only the years from it on are fitted."""
    del caller
    return _json(forecast_data(ledger(request), horizon, since))


def _decomposition_years(
    request: Request, year_from: int | None, year_to: int | None
) -> tuple[int, int]:
    last = _latest(ledger(request)) if year_to is None else year_to
    return (last - 1 if year_from is None else year_from), last


def _default_decomposition(
    request: Request, year_from: int | None, year_to: int | None, activity: str, by: str
) -> dict[str, Any]:
    """The decomposition of the years asked for; with none asked, of the latest inventory year
    from the one before, or, when that pair cannot be decomposed (a new year without group
    revenue yet), of the latest pair that can, with a note saying why: a default view that
    one new figure cannot break."""
    first, last = _decomposition_years(request, year_from, year_to)
    store = ledger(request)
    try:
        return decomposition_data(store, first, last, activity, by)
    except Invalid as refused:
        if year_from is not None or year_to is not None:
            raise
        for to in sorted((y for y in _years(request) if y < last), reverse=True):
            try:
                data = decomposition_data(store, to - 1, to, activity, by)
            except Invalid:
                continue
            why = f"{first}-{last} not decomposed ({refused}); shown: {to - 1}-{to}, the latest"
            data["notes"] = [why, *data["notes"]]
            return data
        raise


@router.get("/strategy/decomposition", include_in_schema=False)
def decomposition_page(
    request: Request,
    caller: Strategist,
    year_from: YearQuery = None,
    year_to: YearQuery = None,
    activity: Activity = Activity.revenue,
    by: By = By.entity,
) -> Response:
    first, last = _decomposition_years(request, year_from, year_to)
    form = {"year_from": first, "year_to": last, "activity": activity.value, "by": by.value}
    try:
        data = _default_decomposition(request, year_from, year_to, activity.value, by.value)
        form.update(year_from=data["year_from"], year_to=data["year_to"])
    except Invalid as exc:
        return _page(
            request,
            caller,
            "strategy_decomposition.html",
            exc.status,
            data=None,
            form=form,
            error=str(exc),
        )
    return _page(request, caller, "strategy_decomposition.html", data=data, form=form)


@router.get("/api/strategy/decomposition", tags=["strategy"])
def api_decomposition(
    request: Request,
    caller: Strategist,
    year_from: YearQuery = None,
    year_to: YearQuery = None,
    activity: Activity = Activity.revenue,
    by: By = By.entity,
) -> Response:
    """Kaya-LMDI-I decomposition of the change in emissions between two years (default: the
    latest two): additive effects in tCO2e (they sum to ``change``), shares of the change and
    multiplicative indices (their product is ``ratio``), with the notes."""
    del caller
    return _json(_default_decomposition(request, year_from, year_to, activity.value, by.value))


@router.get("/strategy/pathway", include_in_schema=False)
def pathway_page(request: Request, caller: Strategist, base_year: YearQuery = None) -> Response:
    chosen = _inventory_year(request, base_year)
    data = pathway_data(ledger(request), chosen)
    return _page(request, caller, "strategy_pathway.html", data=data, chart=_pathway_chart(data))


def _pathway_chart(data: dict[str, Any]) -> dict[str, Any]:
    rows = data["rows"]
    return {
        "years": [r["year"] for r in rows],
        "series": [
            {"key": k, "data": [r[k] for r in rows]} for k in ("bau", "contraction", "group")
        ],
        "band": {"lower": [r["bau_lower"] for r in rows], "upper": [r["bau_upper"] for r in rows]},
    }


@router.get("/api/strategy/pathway", tags=["strategy"])
def api_pathway(request: Request, caller: Strategist, base_year: YearQuery = None) -> Response:
    """Per year from the base year (default: the latest inventory year) to net zero: the
    business-as-usual forecast with its 95 % interval, the 1.5 °C absolute contraction, the
    group's pathway and the gap (bau − group); the milestones and notes."""
    del caller
    chosen = _inventory_year(request, base_year)
    return _json(pathway_data(ledger(request), chosen))


def _abatement(
    request: Request,
    year: int | None,
    basis: Basis,
    target_year: int | None,
    reduction: float | None,
    cap: float | None,
    rate: float | None,
) -> tuple[dict[str, Any], pd.DataFrame]:
    chosen = _inventory_year(request, year)
    target = usecase.default_target_year(chosen) if target_year is None else target_year
    return abatement_data(ledger(request), chosen, basis.value, target, reduction, cap, rate)


TargetYear = Annotated[
    int | None,
    Query(
        ge=1901,
        le=2199,
        description=f"year of the cap (default: year + {usecase.DEFAULT_TARGET_YEARS})",
    ),
]
Reduction = Annotated[
    float | None,
    Query(
        ge=0,
        lt=1,
        description="cut from the year's emissions, e.g. 0.3 "
        f"(default {usecase.DEFAULT_REDUCTION:g})",
    ),
]
Cap = Annotated[float | None, Query(ge=0, le=1e12, description="emissions cap in tCO2e")]
Rate = Annotated[
    float | None,
    Query(ge=0, le=1, description="discount rate, e.g. 0.08 (default: the catalogue's)"),
]


@router.get("/strategy/abatement", include_in_schema=False)
def abatement_page(
    request: Request,
    caller: Strategist,
    year: YearQuery = None,
    basis: Basis = usecase.DEFAULT_PLAN_BASIS,
    target_year: TargetYear = None,
    reduction: Reduction = None,
    cap: Cap = None,
    rate: Rate = None,
) -> Response:
    data, curve = _abatement(request, year, basis, target_year, reduction, cap, rate)
    lang = lang_of(request, caller)
    chart = svg(macc_chart(curve, "zh" if lang == "zh" else "en"), lang)
    status = 422 if data["infeasible"] else 200
    return _page(request, caller, "strategy_abatement.html", status, data=data, chart=chart)


@router.get("/api/strategy/abatement", tags=["strategy"])
def api_abatement(
    request: Request,
    caller: Strategist,
    year: YearQuery = None,
    basis: Basis = usecase.DEFAULT_PLAN_BASIS,
    target_year: TargetYear = None,
    reduction: Reduction = None,
    cap: Cap = None,
    rate: Rate = None,
) -> Response:
    """The marginal abatement cost curve at the year's grid factor (cheapest first) and the
    least-cost plan (HiGHS) bringing the year's emissions under the cap in the target year
    (default: a 30 % cut, year + 6): measures adopted, abatement, annual cost, shadow price
    of carbon, binding constraints and the recomputation without the solver. A target no
    choice of measures meets is 422 with the shortfall."""
    del caller
    data, _ = _abatement(request, year, basis, target_year, reduction, cap, rate)
    if data["infeasible"]:
        return _json(
            {
                "detail": data["infeasible"]["detail"],
                **data["infeasible"],
                "target": data["target"],
            },
            422,
        )
    return _json(data)


@router.get("/strategy/uncertainty", include_in_schema=False)
def uncertainty_page(
    request: Request,
    caller: Strategist,
    year: YearQuery = None,
    iterations: Iterations = usecase.PAGE_ITERATIONS,
    seed: Seed = 0,
) -> Response:
    chosen = _inventory_year(request, year)
    data = uncertainty_data(ledger(request), chosen, iterations, seed)
    return _page(request, caller, "strategy_uncertainty.html", data=data)


@router.get("/api/strategy/uncertainty", tags=["strategy"])
def api_uncertainty(
    request: Request,
    caller: Strategist,
    year: YearQuery = None,
    iterations: Iterations = usecase.PAGE_ITERATIONS,
    seed: Seed = 0,
) -> Response:
    """Monte Carlo 95 % intervals of each scope and the total of a year (default: the
    latest) beside IPCC Approach 1 (same seed, same result)."""
    del caller
    chosen = _inventory_year(request, year)
    return _json(uncertainty_data(ledger(request), chosen, iterations, seed))


# -- the carbon ledger ------------------------------------------------------------------------

POSTING_COLUMNS = [
    "seq",
    "entity_id",
    "kind",
    "unit_type",
    "vintage",
    "compliance_year",
    "quantity",
    "price_cny",
    "lineage",
    "reference",
    "note",
    "posted_by",
    "posted_at",
    "hash",
]
EntityQuery = Annotated[
    str | None, Query(min_length=1, max_length=64, pattern=ID_PATTERN, description="one entity")
]


def _whole(value: Any) -> int | None:
    return None if value is None else int(value)


def _known(engine: Engine, who: Principal, entity: str) -> None:
    """NotFound for an entity that does not exist or that ``who`` does not see (the same)."""
    if not has_entity(engine, entity) or not who.sees(entity):
        raise NotFound(f"no entity {entity!r}")


def _postings(engine: Engine, who: Principal, entity: str | None) -> list[dict[str, Any]]:
    if entity is not None:
        _known(engine, who, entity)
    frame = carbon_ledger.postings(engine, who, entity)
    rows = _records(frame[POSTING_COLUMNS])
    for row in rows:
        for key in ("seq", "vintage", "compliance_year"):
            row[key] = _whole(row[key])
    return rows


def _position(
    engine: Engine, who: Principal, entity: str | None, year: int, rows: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    listed = [entity] if entity else sorted({str(r["entity_id"]) for r in rows})
    if not listed:
        return []
    found = _records(carbon_ledger.positions(engine, who, listed, year))
    for row in found:
        row["year"] = int(row["year"])
    return found


def _position_year(request: Request, rows: list[dict[str, Any]], year: int | None) -> int | None:
    if year is not None:
        return year
    posted = [int(r["compliance_year"]) for r in rows if r["compliance_year"] is not None]
    if posted:
        return max(posted)
    years = _years(request)
    return years[-1] if years else None


def carbon_data(
    request: Request, who: Principal, entity: str | None, year: int | None
) -> dict[str, Any]:
    engine = engine_of(request)
    rows = _postings(engine, who, entity)
    chosen = _position_year(request, rows, year)
    position = [] if chosen is None else _position(engine, who, entity, chosen, rows)
    return {"entity": entity, "year": chosen, "postings": rows, "positions": position}


def _verify(engine: Engine) -> dict[str, Any]:
    problems = carbon_ledger.verify(engine)
    return {
        "ok": not problems,
        "problems": [{"seq": p.seq, "message": p.message, "text": str(p)} for p in problems],
    }


def _carbon_page(
    request: Request,
    caller: Caller,
    entity: str | None = None,
    year: int | None = None,
    status_code: int = 200,
    **context: Any,
) -> Response:
    engine = engine_of(request)
    data = carbon_data(request, caller.who, entity, year)
    shown = list(reversed(data["postings"]))[:ROW_CAP]
    checked = _verify(engine) if caller.who.can(Permission.AUDIT_READ) else None
    return _page(
        request,
        caller,
        "carbon.html",
        status_code,
        data=data,
        shown=shown,
        cap=ROW_CAP,
        entities=scoped_entities(engine, caller.who),
        kinds=carbon.KINDS,
        units=carbon.UNITS,
        scopes=carbon.SCOPES,
        checked=checked,
        **context,
    )


@router.get("/carbon", include_in_schema=False)
def carbon_page(
    request: Request, caller: Viewer, entity: EntityQuery = None, year: YearQuery = None
) -> Response:
    return _carbon_page(request, caller, entity, year)


@router.get("/api/carbon/postings", tags=["carbon"])
def api_carbon_postings(request: Request, caller: Viewer, entity: EntityQuery = None) -> Response:
    """The postings the caller may see (of one entity, or of all they see), oldest first,
    each with its hash in the chain."""
    rows = _postings(engine_of(request), caller.who, entity)
    return _json({"entity": entity, "postings": rows})


@router.get("/api/carbon/position", tags=["carbon"])
def api_carbon_position(
    request: Request, caller: Viewer, year: YearQuery = None, entity: EntityQuery = None
) -> Response:
    """Per entity (those with postings the caller sees, or ``entity``): verified emissions
    of the compliance year (default: the latest posted), units surrendered, the gap and the
    holdings."""
    data = carbon_data(request, caller.who, entity, year)
    return _json({"entity": entity, "year": data["year"], "positions": data["positions"]})


@router.get("/api/carbon/verify", tags=["carbon"])
def api_carbon_verify(request: Request, caller: Auditor) -> Response:
    """Recompute the postings' hash chain and compare it with the audit log."""
    del caller
    return _json(_verify(engine_of(request)))


def _number(text: str, what: str) -> float:
    try:
        value = float(text.strip().replace(",", ""))
    except ValueError as exc:
        raise Invalid(f"{what}: {text!r} is not a number") from exc
    if not math.isfinite(value) or abs(value) > 1e12:
        raise Invalid(f"{what}: {text!r} is out of range")
    return value


def _optional_number(text: str, what: str) -> float | None:
    return _number(text, what) if text.strip() else None


def _optional_year(text: str, what: str) -> int | None:
    if not text.strip():
        return None
    number = whole_number(text, what)
    if not 1901 <= number <= 2199:
        raise Invalid(f"{what}: {number} is outside 1901-2199")
    return number


def _unit(kind: str, unit: str) -> str:
    if unit.strip():
        return unit.strip()
    return "tCO2e" if kind in carbon.EMISSION_KINDS else ""


def _back(entity: str, year: int | None, done: str) -> Response:
    query = {"entity": entity} | ({"year": str(year)} if year is not None else {})
    return see_other(f"/carbon?{urlencode(query)}", done)


@router.post("/carbon/postings", include_in_schema=False)
def carbon_posting_form(
    request: Request,
    caller: Editor,
    kind: Annotated[str, Form(max_length=20)] = "",
    entity: Annotated[str, Form(max_length=64)] = "",
    quantity: Annotated[str, Form(max_length=40)] = "",
    unit: Annotated[str, Form(max_length=10)] = "",
    vintage: Annotated[str, Form(max_length=10)] = "",
    year: Annotated[str, Form(max_length=10)] = "",
    price: Annotated[str, Form(max_length=40)] = "",
    reference: Annotated[str, Form(max_length=200)] = "",
    note: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    form = {
        "kind": kind,
        "entity": entity,
        "quantity": quantity,
        "unit": unit,
        "vintage": vintage,
        "year": year,
        "price": price,
        "reference": reference,
        "note": note,
    }
    compliance_year: int | None = None
    try:
        if "\x00" in reference + note:
            raise Invalid("the reference or note holds a NUL character")
        compliance_year = _optional_year(year, "year")
        carbon_ledger.post(
            engine_of(request),
            caller.who,
            entity.strip(),
            kind.strip(),
            _number(quantity, "quantity"),
            unit_type=_unit(kind.strip(), unit),
            vintage=_optional_year(vintage, "vintage"),
            compliance_year=compliance_year,
            price_cny=_optional_number(price, "price"),
            reference=reference.strip(),
            note=note.strip(),
        )
    except WorkflowError as exc:
        return _carbon_page(request, caller, status_code=exc.status, error=str(exc), form=form)
    return _back(entity.strip(), compliance_year, "carbon_posted")


def _post_emissions(
    request: Request, who: Principal, entity: str, year: int, scopes: list[str]
) -> int:
    _known(engine_of(request), who, entity)
    # a scope named twice, or both scope 2 bases, is refused by the library (422)
    return carbon_ledger.post_inventory_emissions(ledger(request), who, entity, year, tuple(scopes))


@router.post("/carbon/post-emissions", include_in_schema=False)
def carbon_emissions_form(
    request: Request,
    caller: Editor,
    entity: Annotated[str, Form(max_length=64)] = "",
    year: Annotated[str, Form(max_length=10)] = "",
    scopes: Annotated[list[str] | None, Form(max_length=4)] = None,
) -> Response:
    form = {"entity": entity, "year": year, "scopes": list(scopes or [])}
    try:
        chosen = _optional_year(year, "year")
        if chosen is None:
            raise Invalid("year: expected the compliance year")
        _post_emissions(request, caller.who, entity.strip(), chosen, list(scopes or []))
    except WorkflowError as exc:
        return _carbon_page(
            request, caller, status_code=exc.status, error=str(exc), emissions_form=form
        )
    return _back(entity.strip(), chosen, "carbon_emissions_posted")


class PostingBody(BaseModel):
    entity_id: str = Field(min_length=1, max_length=64, pattern=ID_PATTERN)
    kind: Literal[
        "emissions", "adjustment", "allocation", "purchase", "sale", "surrender", "retire"
    ]
    quantity: float = Field(ge=-1e12, le=1e12, allow_inf_nan=False)
    unit_type: Literal["tCO2e", "CEA", "CCER"] = "tCO2e"
    vintage: int | None = Field(default=None, ge=1901, le=2199)
    compliance_year: int | None = Field(default=None, ge=1901, le=2199)
    price_cny: float | None = Field(default=None, ge=0, le=1e12, allow_inf_nan=False)
    reference: str = Field(default="", max_length=200, pattern=TEXT_PATTERN)
    note: str = Field(default="", max_length=1000, pattern=TEXT_PATTERN)


class EmissionsBody(BaseModel):
    entity_id: str = Field(min_length=1, max_length=64, pattern=ID_PATTERN)
    year: int = Field(ge=1901, le=2199)
    scopes: list[Literal["S1", "S2L", "S2M", "S3"]] = Field(
        default=["S1", "S2L"], min_length=1, max_length=4
    )


@router.post("/api/carbon/postings", tags=["carbon"], status_code=201)
def api_carbon_post(request: Request, body: PostingBody, caller: Editor) -> Response:
    """Record a posting: emissions or an adjustment (tCO2e), or an allocation, purchase,
    sale, surrender or retirement of allowances (CEA) or offsets (CCER); refused (409) when
    the rules forbid it (more than held, borrowing, the offset limit)."""
    seq = carbon_ledger.post(
        engine_of(request),
        caller.who,
        body.entity_id,
        body.kind,
        body.quantity,
        unit_type=body.unit_type,
        vintage=body.vintage,
        compliance_year=body.compliance_year,
        price_cny=body.price_cny,
        reference=body.reference,
        note=body.note,
    )
    return _json({"seq": seq}, 201)


@router.post("/api/carbon/post-emissions", tags=["carbon"], status_code=201)
def api_carbon_post_emissions(request: Request, body: EmissionsBody, caller: Editor) -> Response:
    """Post an entity's inventory emissions of a year (default scopes S1 and S2L) as its
    verified emissions, with the lineage of the scope totals."""
    seq = _post_emissions(request, caller.who, body.entity_id, body.year, list(body.scopes))
    return _json({"seq": seq}, 201)
