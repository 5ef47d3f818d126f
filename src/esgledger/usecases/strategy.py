"""The carbon strategy's use cases over the Book, and the defaults the CLI, the web pages and
the report share.

Each use case reads what a pure library of :mod:`esgledger.strategy` takes (the inventory in
the stored settings, the group's revenue and headcount, the entities' context metrics, the
organisation's roots, the records of a year) from the ledger's :class:`~esgledger.book.Book`
and calls it; ``source`` is a Book, or a ledger standing for its current Book. The defaults
(the base year, the cut a plan aims at, the forecast horizon, the Monte Carlo iterations) are
declared here once: ``esgledger strategy ...`` and ``/strategy/...`` both read them (the
CLI at import time, for its options' defaults: so the Book, the store and the service are
imported when a use case runs, not with this module).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from esgledger.strategy import kaya, pathways, uncertainty
from esgledger.strategy.choices import Basis

if TYPE_CHECKING:
    from esgledger.book import Book, Source
    from esgledger.calc import InventoryResult
    from esgledger.domain.diagnostics import Diagnostic
    from esgledger.strategy.abatement import Baseline
    from esgledger.strategy.forecast import ForecastResult, ForecastSettings
    from esgledger.strategy.lmdi import Decomposition, LmdiParameters

__all__ = [
    "DEFAULT_HORIZON",
    "DEFAULT_ITERATIONS",
    "DEFAULT_PLAN_BASIS",
    "DEFAULT_REDUCTION",
    "DEFAULT_TARGET_YEARS",
    "PAGE_ITERATIONS",
    "base_year_of",
    "baseline_from_ledger",
    "default_base_year",
    "default_target_year",
    "drivers_from_ledger",
    "forecast_from_ledger",
    "grid_factor",
    "history_from_ledger",
    "kaya_decomposition",
    "kaya_source",
    "ledger_pathway",
    "measure_catalogue",
    "plan_cap",
    "uncertainty_from_ledger",
]

# -- defaults --------------------------------------------------------------------------------

DEFAULT_HORIZON = 6
"""Periods ahead of a business-as-usual forecast (years; months for a monthly one)."""
DEFAULT_REDUCTION = 0.3
"""The cut from the base year's emissions a plan aims at when no cap is given (30 %)."""
DEFAULT_TARGET_YEARS = 6
"""The target year of a plan when none is given: this many years after the base year."""
DEFAULT_PLAN_BASIS = Basis.market
"""The scope 2 basis of a plan: green power (certificates, PPAs) lowers market-based only."""
DEFAULT_ITERATIONS = 10_000
"""Monte Carlo iterations of an uncertainty run (``esgledger strategy uncertainty``)."""
PAGE_ITERATIONS = 2_000
"""Monte Carlo iterations of the uncertainty page: fewer, so that the page answers at once
(its interval is wider by the sampling error; the query parameter asks for more)."""


def _book(source: Source) -> Book:
    from esgledger.book import book_of  # noqa: PLC0415 (the store: see the module text)

    return book_of(source)


def default_base_year(source: Source) -> int:
    """The latest inventory year: the default base year of a pathway and of a baseline (the
    MACC, the plans), the default year of an uncertainty run and the default last year of a
    decomposition. ValueError when the ledger holds no inventory year."""
    years = _book(source).inventory().years()
    if not years:
        raise ValueError("the ledger holds no inventory year")
    return int(years[-1])


def base_year_of(source: Source, year: int | None) -> int:
    """``year``, or :func:`default_base_year` when it is None."""
    return default_base_year(source) if year is None else year


def default_target_year(base_year: int) -> int:
    """The target year of a plan from ``base_year`` when none is given."""
    return base_year + DEFAULT_TARGET_YEARS


def plan_cap(
    total: float, reduction: float | None = None, cap: float | None = None
) -> tuple[float | None, float]:
    """The cut a plan on ``total`` (tCO2e) aims at and its cap: ``cap`` when given (no cut),
    else ``total x (1 - reduction)``, the reduction :data:`DEFAULT_REDUCTION` when None."""
    if cap is not None:
        return reduction, cap
    share = DEFAULT_REDUCTION if reduction is None else reduction
    return share, total * (1 - float(share or 0))


# -- decomposition ---------------------------------------------------------------------------


def kaya_source(
    source: Source, year0: int, year1: int, activity: kaya.Activity = "revenue"
) -> kaya.KayaSource:
    """What :func:`esgledger.strategy.kaya.kaya_inputs` reads of the ledger for the two
    years: the inventory in the stored settings, the group's revenue (万元) or headcount, the
    entities' activity from the context metrics, and the organisation's roots."""
    from esgledger import service  # noqa: PLC0415 (the store: see the module text)

    book = _book(source)
    group = service.revenue_wan_yuan if activity == "revenue" else service.headcount
    context = book.context_frame()
    years = (year0, year1)
    return kaya.KayaSource(
        result=book.inventory(),
        group_activity={y: group(book, y) for y in years},
        entity_activity={y: kaya.entity_activity(context, activity, y) for y in years},
        roots=frozenset(e.entity_id for e in book.organisation().roots()),
    )


def kaya_decomposition(
    source: Source,
    year0: int,
    year1: int,
    activity: kaya.Activity = "revenue",
    by: kaya.By = "entity",
    scopes: Sequence[int] = (1, 2, 3),
    parameters: LmdiParameters | None = None,
) -> tuple[Decomposition, kaya.KayaInputs]:
    """The Kaya-LMDI-I decomposition of the ledger's emissions from ``year0`` to ``year1``
    (:func:`esgledger.strategy.kaya.kaya_decomposition` on :func:`kaya_source`); ValueError
    when the group has no revenue (headcount) in a year, as the library says."""
    return kaya.kaya_decomposition(
        kaya_source(source, year0, year1, activity),
        year0,
        year1,
        activity=activity,
        by=by,
        scopes=scopes,
        parameters=parameters,
    )


# -- forecast --------------------------------------------------------------------------------


def history_from_ledger(
    source: Source,
    *,
    by_entity: bool = False,
    monthly: bool = False,
    result: InventoryResult | None = None,
) -> pd.DataFrame:
    """:func:`esgledger.strategy.forecast.history_from_inventory` of the ledger's inventory
    (``result`` when the caller already has it, else the Book's)."""
    from esgledger.strategy.forecast import history_from_inventory  # noqa: PLC0415 (statsmodels)

    if result is not None:
        return history_from_inventory(result, by_entity=by_entity, monthly=monthly)
    book = _book(source)
    history: pd.DataFrame = book.memo(
        ("strategy.history", by_entity, monthly),
        lambda: history_from_inventory(book.inventory(), by_entity=by_entity, monthly=monthly),
    )
    return history


def drivers_from_ledger(source: Source, years: Sequence[int]) -> pd.DataFrame:
    """Revenue (10^4 yuan) and headcount of the group per year, where the ledger has them."""
    from esgledger import service  # noqa: PLC0415 (the store: see the module text)

    book = _book(source)
    rows = []
    for year in years:
        for name, value in (
            ("revenue", service.revenue_wan_yuan(book, int(year))),
            ("headcount", service.headcount(book, int(year))),
        ):
            if value is not None:
                rows.append({"year": int(year), "driver": name, "value": float(value)})
    return pd.DataFrame(rows, columns=["year", "driver", "value"])


def forecast_from_ledger(
    source: Source,
    horizon: int = DEFAULT_HORIZON,
    *,
    by_entity: bool = False,
    assumptions: pd.DataFrame | None = None,
    settings: ForecastSettings | None = None,
    through: int | None = None,
    monthly: bool = False,
    result: InventoryResult | None = None,
    since: int | None = None,
) -> ForecastResult:
    """Business-as-usual forecast of the ledger's yearly series; drivers from the ledger and
    ``assumptions`` (year, driver, value) for the future years enable ``arimax``.
    ``through``: forecast from the history up to this year only (as it was seen then, e.g.
    the base year of a pathway), the later years of the ledger left out. ``since``: a
    structural break, only the years from this one on are fitted. ``monthly``: the
    series of the months of the records that carry one, ``horizon`` in months (no drivers:
    revenue and headcount are yearly). ``result``: the ledger's inventory, when computed.
    Without ``assumptions`` and ``result``, the forecast is the Book's (computed once)."""
    if since is not None and through is not None and since > through:
        raise ValueError(f"structural break {since} after the last year fitted {through}")
    if assumptions is None and result is None:
        book = _book(source)
        key = ("strategy.forecast", horizon, by_entity, settings, through, monthly, since)
        found: ForecastResult = book.memo(
            key,
            lambda: _forecast(
                book, horizon, by_entity, None, settings, through, monthly=monthly, since=since
            ),
        )
        return found
    return _forecast(
        source,
        horizon,
        by_entity,
        assumptions,
        settings,
        through,
        monthly=monthly,
        result=result,
        since=since,
    )


def _forecast(
    source: Source,
    horizon: int,
    by_entity: bool,
    assumptions: pd.DataFrame | None,
    settings: ForecastSettings | None,
    through: int | None,
    *,
    monthly: bool,
    result: InventoryResult | None = None,
    since: int | None = None,
) -> ForecastResult:
    from esgledger.strategy.forecast import forecast  # noqa: PLC0415 (statsmodels)

    history = history_from_ledger(source, by_entity=by_entity, monthly=monthly, result=result)
    if monthly and history.empty:
        raise ValueError("no monthly records in the ledger: expected records with a month")
    if through is not None:
        history = history[history["year"] <= through].reset_index(drop=True)
        if history.empty:
            raise ValueError(f"no inventory up to {through}: expected history to forecast from")
    if monthly:
        return forecast(history, horizon, settings=settings, since=since)
    drivers = drivers_from_ledger(source, sorted({int(y) for y in history["year"]}))
    return forecast(
        history, horizon, drivers=drivers, assumptions=assumptions, settings=settings, since=since
    )


# -- pathway ---------------------------------------------------------------------------------


def ledger_pathway(
    source: Source,
    base_year: int | None = None,
    growth: float | None = None,
    shape: pathways.Shape = "linear",
    targets_path: str | Path | None = None,
) -> tuple[pd.DataFrame, list[str]]:
    """The group's peak-neutrality-net-zero pathway from the ledger's inventory total of
    ``base_year`` (default: :func:`default_base_year`) to the milestones its targets mark (or
    those of the targets file ``targets_path``), with its notes
    (:func:`esgledger.strategy.pathways.pathway_from_inventory`)."""
    from esgledger.checks.targets import load_targets  # noqa: PLC0415
    from esgledger.domain.diagnostics import Severity, has_errors  # noqa: PLC0415
    from esgledger.usecases.targets import ledger_milestones  # noqa: PLC0415

    book = _book(source)
    year = base_year_of(book, base_year)
    if targets_path is None:
        marks = ledger_milestones(book)
    else:
        found, problems = load_targets(targets_path)
        if has_errors(problems):
            raise ValueError("; ".join(str(p) for p in problems if p.severity is Severity.ERROR))
        marks = pathways.milestones(found)
    return pathways.pathway_from_inventory(book.inventory(), year, marks, growth, shape)


# -- abatement -------------------------------------------------------------------------------


def baseline_from_ledger(source: Source, year: int | None = None) -> Baseline:
    """The ledger's inventory (stored settings) of ``year`` (default:
    :func:`default_base_year`) as a :class:`~esgledger.strategy.abatement.Baseline`."""
    from esgledger.strategy.abatement import baseline_from_inventory  # noqa: PLC0415 (SciPy)

    book = _book(source)
    chosen = base_year_of(book, year)
    found: Baseline = book.memo(
        ("strategy.baseline", chosen),
        lambda: baseline_from_inventory(book.inventory(), chosen),
    )
    return found


def measure_catalogue(
    source: Source, baseline: Baseline, basis: Basis | str, path: str | None = None
) -> tuple[pd.DataFrame, list[Diagnostic]]:
    """The measure catalogue of a plan on ``basis`` (the file ``path``; None: the ledger's),
    checked against the ledger's entities and priced at the baseline's grid factor on that
    basis, with a warning per measure a location-based plan cannot count
    (:func:`esgledger.strategy.measures.for_basis`). CatalogueError: every located problem."""
    from esgledger.strategy import measures  # noqa: PLC0415

    factor = grid_factor(baseline, basis)
    known = math.isfinite(factor)
    found = _catalogue(_book(source), path, factor if known else None)
    if not known:  # no purchased electricity: no implied factor to price power measures by
        why = f"and {baseline.year} has no purchased electricity to price it by"
        kept, notes = measures.without_grid(found, why)
        if kept.empty:
            raise ValueError(f"no measure of the catalogue applies: {len(notes)} {why}")
        return measures.apply_grid_factor(kept, 0.0), notes
    return measures.for_basis(found, Basis(basis).value)


def _catalogue(book: Book, path: str | None, factor: float | None) -> pd.DataFrame:
    """The catalogue of the file ``path``, or the ledger's (:class:`MeasuresMissingError`
    when it has none), checked against the ledger's entities (CatalogueError)."""
    from esgledger.strategy import measures  # noqa: PLC0415
    from esgledger.usecases.measures import MeasuresMissingError  # noqa: PLC0415

    entities = [e.entity_id for e in book.organisation()]
    if path is not None:
        return measures.load_catalogue(path, grid_factor=factor, entities=entities)
    rows = book.memo(("measures",), lambda: tuple(book.ledger.measure_rows()))
    if not rows:
        raise MeasuresMissingError
    found, problems = measures.catalogue_of_rows(rows, "measure catalogue", factor, entities)
    if found is None:  # entered valid; an entity removed since, say
        raise measures.CatalogueError(problems)
    return found


def grid_factor(baseline: Baseline, basis: Basis | str) -> float:
    """The baseline's implied grid factor on ``basis`` (tCO2/MWh): what prices the power
    measures of a catalogue (:func:`esgledger.strategy.abatement.apply_grid_factor`)."""
    if Basis(basis) is Basis.market:
        return baseline.market_grid_factor
    return baseline.grid_factor


# -- uncertainty -----------------------------------------------------------------------------


def uncertainty_from_ledger(
    source: Source,
    year: int,
    iterations: int = DEFAULT_ITERATIONS,
    seed: int = 0,
    sources: str | Path | None = None,
) -> uncertainty.UncertaintyResult:
    """The Monte Carlo interval of a year's inventory of the ledger (stored settings), with
    the default uncertainties (:func:`esgledger.strategy.uncertainty.uncertainty_from_inventory`
    on the year's records), computed once per Book for each year, iterations and seed.
    ``sources``: an error-source declaration file
    (:func:`esgledger.strategy.uncertainty.load_error_sources`; ValueError naming its problems),
    read and run on each call."""
    book = _book(source)
    if sources is not None:
        declared = uncertainty.load_error_sources(sources)
        return _uncertainty(book, year, iterations, seed, declared)
    found: uncertainty.UncertaintyResult = book.memo(
        ("strategy.uncertainty", year, iterations, seed),
        lambda: _uncertainty(book, year, iterations, seed),
    )
    return found


def _uncertainty(
    book: Book, year: int, iterations: int, seed: int, declared: pd.DataFrame | None = None
) -> uncertainty.UncertaintyResult:
    result = book.inventory()
    data = book.inventory_input((year,)) if year in result.years() else None
    return uncertainty.uncertainty_from_inventory(
        result,
        year,
        None if data is None else data.records,
        None if data is None else data.direct,
        iterations=iterations,
        seed=seed,
        sources=declared,
    )
