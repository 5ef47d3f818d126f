"""Cost-optimal abatement: a measure catalogue, its marginal abatement cost curve (MACC), and
a mixed-integer optimiser (SciPy HiGHS) that chooses measures to meet a cap, a required
abatement or a pathway of yearly caps at the least discounted cost, with the shadow price
of carbon.

The catalogue (a CSV, one row per measure, its amounts per unit) is read, checked and priced
at a grid factor by :mod:`esgledger.strategy.measures`; its names are re-exported here.

Costs are annualised: the equivalent annual cost of a unit is
``capex * CRF(r, lifetime) + opex`` with ``CRF = r(1+r)^n / ((1+r)^n - 1)``; the marginal
abatement cost is that over the unit's yearly abatement (CNY/tCO2e).

The optimiser (:func:`optimise`, and :func:`plan_for_cap`, :func:`plan_for_abatement`,
:func:`plan_pathway`, :func:`energy_plan` around it) has one variable per measure and
adoption year: units adopted in year ``y`` abate in ``y .. y + lifetime - 1``. Every plan can
be checked with :func:`verify_plan`, which recomputes it with plain arithmetic (no solver).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import sparse
from scipy.optimize import (
    Bounds,
    LinearConstraint,
    linprog,
    milp,
)

from esgledger.strategy.measures import (
    CATALOGUE_COLUMNS,
    DEMO_CATALOGUE,
    LEVERS,
    CatalogueError,
    applicable,
    apply_grid_factor,
    default_grid_factor,
    default_rate,
    for_basis,
    load_catalogue,
    load_parameters,
    read_catalogue,
)

if TYPE_CHECKING:
    from esgledger.calc import InventoryResult

__all__ = [
    "CATALOGUE_COLUMNS",
    "DEMO_CATALOGUE",
    "LEVERS",
    "Baseline",
    "CatalogueError",
    "EnergyPlan",
    "InfeasiblePlanError",
    "Plan",
    "Problem",
    "Verification",
    "annualised_cost",
    "applicable",
    "apply_grid_factor",
    "baseline_from_inventory",
    "crf",
    "default_grid_factor",
    "default_rate",
    "energy_plan",
    "for_basis",
    "load_catalogue",
    "load_parameters",
    "macc",
    "optimise",
    "plan_for_abatement",
    "plan_for_cap",
    "plan_pathway",
    "read_catalogue",
    "verify_plan",
]

TOL = 1e-6
"""Relative tolerance of the checks of a plan (constraints, recomputed cost)."""

FloatArray = npt.NDArray[np.float64]


class InfeasiblePlanError(ValueError):
    """No choice of measures meets the constraint: ``shortfall`` tCO2e per year short."""

    def __init__(self, message: str, shortfall: Mapping[int, tuple[float, float]]) -> None:
        self.shortfall = dict(shortfall)
        """``{year: (required abatement, most achievable abatement)}`` in tCO2e."""
        super().__init__(message)


# -- costs and the MACC ----------------------------------------------------------------------


def crf(rate: float, lifetime: npt.ArrayLike) -> FloatArray:
    """Capital recovery factor ``r(1+r)^n / ((1+r)^n - 1)`` (``1/n`` at ``r = 0``)."""
    n = np.asarray(lifetime, dtype=float)
    if rate == 0:
        return np.asarray(1.0 / n, dtype=float)
    # (1+r)^n - 1 as expm1(n ln(1+r)): exact for the smallest rates, where (1+r)^n rounds to 1
    log_growth = n * np.log1p(rate)
    return np.asarray(rate * np.exp(log_growth) / np.expm1(log_growth), dtype=float)


def annualised_cost(catalogue: pd.DataFrame, rate: float | None = None) -> pd.Series[float]:
    """Equivalent annual cost per unit (CNY/year): ``capex * CRF(rate, lifetime) + opex``."""
    r = default_rate() if rate is None else rate
    values = catalogue["capex_cny"].to_numpy(float) * crf(
        r, catalogue["lifetime_years"].to_numpy(float)
    ) + catalogue["opex_cny_per_year"].to_numpy(float)
    return pd.Series(values, index=catalogue.index, name="annual_cost_cny")


def macc(catalogue: pd.DataFrame, rate: float | None = None) -> pd.DataFrame:
    """The marginal abatement cost curve: one row per measure at full deployment
    (``max_units``), sorted by cost per tonne, cheapest first, with the cumulative abatement
    (``cumulative_t`` is where the measure's bar ends, ``start_t`` where it starts: the x
    extent of a variable-width MACC bar). Requires/excludes are not applied: the curve is the
    catalogue's ranking, the optimiser its choice."""
    annual = annualised_cost(catalogue, rate)
    units = catalogue["max_units"].to_numpy(float)
    unit_t = catalogue["unit_abatement_t"].to_numpy(float)
    frame = pd.DataFrame(
        {
            "measure_id": catalogue["measure_id"],
            "name_en": catalogue["name_en"],
            "name_zh": catalogue["name_zh"],
            "lever": catalogue["lever"],
            "scope": catalogue["scope"],
            "abatement_t_per_year": unit_t * units,
            "annual_cost_cny": annual.to_numpy() * units,
            "cost_cny_per_t": annual.to_numpy() / unit_t,
        }
    )
    frame = frame.sort_values(["cost_cny_per_t", "measure_id"], kind="stable").reset_index(
        drop=True
    )
    frame["cumulative_t"] = frame["abatement_t_per_year"].cumsum()
    frame["start_t"] = frame["cumulative_t"] - frame["abatement_t_per_year"]
    return frame


# -- the optimiser ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """What :func:`optimise` solves: yearly caps on emissions over consecutive ``years``.

    ``baseline[y] - abatement(y) <= caps[y]`` for every year with a cap, where
    ``abatement(y)`` counts the measures of ``scopes`` active in ``y``. Costs are discounted
    to ``base_year`` at ``rate``; a unit adopted in ``y`` costs its equivalent annual cost in
    each year ``y .. y + lifetime - 1`` that falls in ``years`` (annualised capital: a measure
    adopted near the horizon's end bears only the years it serves in the horizon).
    ``electricity_mwh[y]``, when given, caps the grid electricity the measures may avoid in
    ``y`` (green power cannot exceed the power used)."""

    catalogue: pd.DataFrame
    years: tuple[int, ...]
    baseline: Mapping[int, float]
    caps: Mapping[int, float]
    rate: float
    base_year: int
    scopes: tuple[int, ...] = (1, 2, 3)
    electricity_mwh: Mapping[int, float] | None = None

    def __post_init__(self) -> None:
        years = self.years
        if not years or list(years) != list(range(years[0], years[0] + len(years))):
            raise ValueError(f"expected consecutive years, got {years}")
        for year in self.caps:
            if year not in years:
                raise ValueError(f"a cap for {year}, outside the years {years[0]}-{years[-1]}")
            if year not in self.baseline:
                raise ValueError(f"a cap for {year} but no baseline emissions for it")


@dataclass(frozen=True)
class Plan:
    """The optimiser's choice.

    ``adoptions``: one row per measure and adoption year with units > 0 (``units``,
    ``active_to``, ``abatement_t_per_year``, ``annual_cost_cny``, ``cost_pv_cny``).
    ``years``: per year ``baseline_t``, ``cap_t`` (NaN: no cap), ``abatement_t``,
    ``emissions_t``, ``slack_t``, ``shadow_price`` and ``shadow_price_relaxed`` (CNY/tCO2e in
    that year's money; NaN where no cap)."""

    problem: Problem
    adoptions: pd.DataFrame
    years: pd.DataFrame
    total_cost_cny: float
    """Discounted to ``problem.base_year`` (CNY)."""
    binding: tuple[str, ...]
    solver_status: str = ""

    @property
    def chosen(self) -> tuple[str, ...]:
        """The ids of the measures adopted, in catalogue order."""
        ids = set(self.adoptions["measure_id"])
        return tuple(m for m in self.problem.catalogue["measure_id"] if m in ids)

    def units(self) -> dict[str, float]:
        """Units adopted per measure (summed over adoption years)."""
        return {
            str(k): float(v) for k, v in self.adoptions.groupby("measure_id")["units"].sum().items()
        }

    @property
    def shadow_price(self) -> float:
        """The shadow price of carbon of the last capped year (CNY/tCO2e): the dual of its cap
        in the LP with the integer choices fixed at the optimum (see :func:`optimise`)."""
        capped = self.years[self.years["cap_t"].notna()]
        return float(capped["shadow_price"].iloc[-1])

    @property
    def shadow_price_relaxed(self) -> float:
        """As :attr:`shadow_price`, from the LP relaxation."""
        capped = self.years[self.years["cap_t"].notna()]
        return float(capped["shadow_price_relaxed"].iloc[-1])

    @property
    def abatement_t(self) -> float:
        """Abatement of the last capped year (tCO2e)."""
        capped = self.years[self.years["cap_t"].notna()]
        return float(capped["abatement_t"].iloc[-1])


@dataclass
class _Model:
    """The matrices of a problem: variables ``x[v]`` (measure ``var_i[v]`` adopted in
    ``years[var_k[v]]``), then binary adoption indicators ``z``."""

    c: FloatArray
    a_ub: sparse.csr_matrix
    b_ub: FloatArray
    lower: FloatArray
    upper: FloatArray
    integrality: npt.NDArray[np.int_]
    names: list[str]
    cap_rows: dict[int, int]
    kinds: list[str]
    var_i: npt.NDArray[np.int_]
    var_k: npt.NDArray[np.int_]
    counted: FloatArray
    """Per variable and year: the tCO2e it counts against the cap (``(T, nx)``)."""
    nx: int
    act: npt.NDArray[np.bool_]
    """``act[t, v]``: variable ``v`` is active in year ``t``."""


class _Rows:
    """The ``<=`` rows of a model as they are added, each with its kind (``cap 2030``)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.rows: list[FloatArray] = []
        self.rhs: list[float] = []
        self.kinds: list[str] = []

    def add(self, row: FloatArray, bound: float, kind: str) -> int:
        self.rows.append(row)
        self.rhs.append(bound)
        self.kinds.append(kind)
        return len(self.rows) - 1

    def empty(self) -> FloatArray:
        return np.zeros(self.size)


@dataclass
class _Layout:
    """Variables of a problem: ``x[v]`` (measure ``var_i[v]`` adopted in year index
    ``var_k[v]``), then per measure in ``z_of`` one adoption indicator ``z`` per year."""

    ids: list[str]
    years: tuple[int, ...]
    var_i: npt.NDArray[np.int_]
    var_k: npt.NDArray[np.int_]
    act: npt.NDArray[np.bool_]
    member: npt.NDArray[np.bool_]
    """``member[i, v]``: variable ``v`` is of measure ``i``."""
    binary: npt.NDArray[np.bool_]
    units: FloatArray
    z_of: dict[int, int]

    @property
    def nx(self) -> int:
        return len(self.var_i)

    def z(self, i: int, k: int) -> int:
        return self.nx + self.z_of[i] * len(self.years) + k

    def active(self, i: int, k: int, size: int) -> FloatArray:
        """The row summing measure ``i``'s units active in year index ``k``."""
        row = np.zeros(size)
        row[: self.nx] = self.member[i] & self.act[k]
        return row

    def indicator(self, i: int, k: int, size: int) -> FloatArray:
        """Measure ``i`` adopted in year index ``k`` (0 or 1): its active units when yes/no,
        else its ``z``."""
        if self.binary[i]:
            return self.active(i, k, size)
        row = np.zeros(size)
        row[self.z(i, k)] = 1.0
        return row


def _layout(cat: pd.DataFrame, years_: tuple[int, ...]) -> _Layout:
    years = np.asarray(years_, dtype=int)
    life = cat["lifetime_years"].to_numpy(int)
    units = cat["max_units"].to_numpy(float)
    binary = (~cat["divisible"].to_numpy(bool)) & (units == 1)
    var_i, var_k = np.nonzero(years[None, :] >= cat["start_year_min"].to_numpy(int)[:, None])
    adopted = years[var_k]
    act = (adopted[None, :] <= years[:, None]) & (
        years[:, None] <= (adopted + life[var_i] - 1)[None, :]
    )
    ids = cat["measure_id"].tolist()
    involved = {
        index
        for column in ("requires", "excludes")
        for i, links in enumerate(cat[column])
        for index in ([i] if links else []) + [ids.index(m) for m in links]
    }
    return _Layout(
        ids=ids,
        years=years_,
        var_i=var_i,
        var_k=var_k,
        act=act,
        member=var_i[None, :] == np.arange(len(cat))[:, None],
        binary=binary,
        units=units,
        z_of={i: k for k, i in enumerate(sorted(i for i in involved if not binary[i]))},
    )


def _capacity_rows(rows: _Rows, lay: _Layout, life: npt.NDArray[np.int_]) -> None:
    """Active units of a measure in a year at most ``max_units`` (where more than one
    adoption year can be active at once: a single variable's bound is its capacity); a yes/no
    measure's row (``once``) is never reported as binding."""
    for i, k in np.ndindex(len(lay.ids), len(lay.years)):
        if (lay.binary[i] and life[i] == 1) or (lay.member[i] & lay.act[k]).sum() <= 1:
            continue
        kind = "once" if lay.binary[i] else "capacity"
        rows.add(
            lay.active(i, k, rows.size), float(lay.units[i]), f"{kind} {lay.ids[i]} {lay.years[k]}"
        )


def _relation_rows(rows: _Rows, lay: _Layout, cat: pd.DataFrame) -> None:
    """Indicators ``z`` (1 exactly when at least one unit, or ``max_units`` if smaller, is
    active), then ``requires`` (``ind_i <= ind_j``) and ``excludes`` (``ind_i + ind_j <= 1``)
    in every year."""
    size, t_count = rows.size, len(lay.years)
    for i, k in ((i, k) for i in lay.z_of for k in range(t_count)):
        upper = lay.active(i, k, size)
        upper[lay.z(i, k)] = -lay.units[i]
        rows.add(upper, 0.0, f"indicator {lay.ids[i]} {lay.years[k]}")
        lower = -lay.active(i, k, size)
        lower[lay.z(i, k)] = min(1.0, lay.units[i])
        rows.add(lower, 0.0, f"indicator {lay.ids[i]} {lay.years[k]}")
    for i, links in enumerate(cat["requires"]):
        for other, k in ((o, k) for o in links for k in range(t_count)):
            j = lay.ids.index(other)
            rows.add(
                lay.indicator(i, k, size) - lay.indicator(j, k, size),
                0.0,
                f"requires {lay.ids[i]} -> {other} {lay.years[k]}",
            )
    pairs = {
        tuple(sorted((i, lay.ids.index(o))))
        for i, links in enumerate(cat["excludes"])
        for o in links
    }
    for (i, j), k in ((p, k) for p in sorted(pairs) for k in range(t_count)):
        rows.add(
            lay.indicator(i, k, size) + lay.indicator(j, k, size),
            1.0,
            f"excludes {lay.ids[i]} / {lay.ids[j]} {lay.years[k]}",
        )


def _build(problem: Problem) -> _Model:
    cat = problem.catalogue.reset_index(drop=True)
    lay = _layout(cat, problem.years)
    years = np.asarray(problem.years, dtype=int)
    nx, nz = lay.nx, len(lay.z_of) * len(years)
    discount = (1.0 + problem.rate) ** -(years - problem.base_year).astype(float)
    eac = annualised_cost(cat, problem.rate).to_numpy(float)
    c_x = eac[lay.var_i] * (lay.act * discount[:, None]).sum(axis=0)
    in_scope = cat["scope"].isin(problem.scopes).to_numpy(bool)
    counted = lay.act * (cat["unit_abatement_t"].to_numpy(float) * in_scope)[lay.var_i][None, :]

    rows = _Rows(nx + nz)
    cap_rows: dict[int, int] = {}
    for k, year in enumerate(problem.years):
        if year in problem.caps:
            row = rows.empty()
            row[:nx] = -counted[k]
            cap_rows[year] = rows.add(
                row, problem.caps[year] - problem.baseline[year], f"cap {year}"
            )
    _capacity_rows(rows, lay, cat["lifetime_years"].to_numpy(int))
    _relation_rows(rows, lay, cat)
    if problem.electricity_mwh is not None:
        mwh = cat["grid_mwh_per_year"].to_numpy(float)
        for k, year in enumerate(problem.years):
            if year in problem.electricity_mwh:
                row = rows.empty()
                row[:nx] = lay.act[k] * mwh[lay.var_i]
                rows.add(row, float(problem.electricity_mwh[year]), f"electricity {year}")
    # no measure available: one dummy variable fixed at 0 (the solvers need a variable)
    pad = 1 if nx + nz == 0 else 0
    matrix = np.vstack(rows.rows) if rows.rows else np.zeros((0, nx + nz))
    matrix = np.hstack([matrix, np.zeros((matrix.shape[0], pad))])
    integer = ~cat["divisible"].to_numpy(bool)
    return _Model(
        c=np.concatenate([c_x, np.zeros(nz + pad)]),
        a_ub=sparse.csr_matrix(matrix),
        b_ub=np.asarray(rows.rhs, dtype=float),
        lower=np.zeros(nx + nz + pad),
        upper=np.concatenate([lay.units[lay.var_i], np.ones(nz), np.zeros(pad)]),
        integrality=np.concatenate(
            [integer[lay.var_i].astype(int), np.ones(nz, dtype=int), np.zeros(pad, dtype=int)]
        ),
        names=[f"{lay.ids[i]}@{years[k]}" for i, k in zip(lay.var_i, lay.var_k, strict=True)],
        cap_rows=cap_rows,
        kinds=rows.kinds,
        var_i=lay.var_i,
        var_k=lay.var_k,
        counted=counted,
        nx=nx,
        act=lay.act,
    )


def _milp(model: _Model, c: FloatArray) -> Any:
    constraints = [LinearConstraint(model.a_ub, -np.inf, model.b_ub)] if model.a_ub.shape[0] else []
    return milp(
        c,
        integrality=model.integrality,
        bounds=Bounds(model.lower, model.upper),
        constraints=constraints,
    )


def _duals(model: _Model, lower: FloatArray, upper: FloatArray) -> FloatArray:
    """The duals of the ``<=`` rows of the LP over the given bounds (<= 0: relaxing a row by
    one lowers the cost by minus its dual)."""
    if not model.a_ub.shape[0]:
        return np.zeros(0)
    result = linprog(
        model.c,
        A_ub=model.a_ub,
        b_ub=model.b_ub,
        bounds=np.column_stack([lower, upper]),
        method="highs",
    )
    if result.status != 0:
        return np.full(model.a_ub.shape[0], np.nan)
    return np.asarray(result.ineqlin.marginals, dtype=float)


def _infeasible(problem: Problem, model: _Model) -> InfeasiblePlanError:
    """The error of an infeasible problem: per capped year, the abatement needed and the most
    the catalogue can achieve in that year under the other constraints."""
    shortfall: dict[int, tuple[float, float]] = {}
    keep = np.array([not kind.startswith("cap ") for kind in model.kinds], dtype=bool)
    alone = replace(model, a_ub=model.a_ub[keep], b_ub=model.b_ub[keep])
    for year in problem.caps:
        k = problem.years.index(year)
        objective = np.zeros(len(model.c))
        objective[: model.nx] = -model.counted[k]
        best = _milp(alone, objective)
        achievable = -float(best.fun) + 0.0 if best.status == 0 else 0.0
        required = problem.baseline[year] - problem.caps[year]
        if required > achievable + TOL * max(1.0, abs(required)):
            shortfall[year] = (required, achievable)
    if not shortfall:
        return InfeasiblePlanError(
            "no plan meets every cap together, though each year's cap alone can be met",
            {},
        )
    text = "; ".join(
        f"{year}: required abatement {need:,.2f} tCO2e, at most {can:,.2f} tCO2e achievable "
        f"(shortfall {need - can:,.2f} tCO2e)"
        for year, (need, can) in sorted(shortfall.items())
    )
    return InfeasiblePlanError(f"no choice of measures meets the cap: {text}", shortfall)


def optimise(problem: Problem) -> Plan:
    """The least-cost plan of ``problem`` (SciPy ``milp``, HiGHS branch and bound).

    Yes/no measures are binary variables; countable ones integers; divisible ones continuous
    up to ``max_units``. ``requires`` (A needs B active in the same year) and ``excludes``
    (never both active) are linear constraints on adoption indicators (a measure's own
    variable when it is yes/no, else a binary ``z`` with ``units <= max_units * z``).

    Shadow price of carbon (``shadow_price``, CNY/tCO2e): the dual of each year's cap in the
    LP solved by ``linprog(method="highs")`` **with the integer choices fixed at the MILP
    optimum**: the cost of abating one more tonne in that year by moving the divisible
    measures at the margin, the yes/no choices kept. It is 0 when the cap is slack or no
    divisible measure is at the margin (a MILP has no dual; the change of yes/no set a
    further tonne would trigger is a step, not a price). ``shadow_price_relaxed`` is the dual
    in the LP relaxation (integers made continuous): the marginal cost on the MACC's convex
    hull, a lower bound on what the next tonne costs in the MILP. Both are stated in the
    capped year's money (the discounted dual times ``(1 + rate)^(year - base_year)``).

    Raises :class:`InfeasiblePlanError` naming each year's required and most achievable abatement.
    """
    model = _build(problem)
    result = _milp(model, model.c)
    if result.status == 2:
        raise _infeasible(problem, model)
    if result.status != 0 or result.x is None:
        raise RuntimeError(f"the MILP solver stopped: {result.message}")
    x = np.asarray(result.x, dtype=float)
    integer = model.integrality.astype(bool)
    x[integer] = np.round(x[integer])
    fixed_low = np.where(integer, x, model.lower)
    fixed_high = np.where(integer, x, model.upper)
    fixed = _duals(model, fixed_low, fixed_high)
    relaxed = _duals(model, model.lower, model.upper)

    cat = problem.catalogue.reset_index(drop=True)
    xs = x[: model.nx]
    chosen = np.flatnonzero(xs > TOL)
    eac = annualised_cost(cat, problem.rate).to_numpy(float)
    i_of = model.var_i[chosen]
    adopted_year = np.asarray(problem.years)[model.var_k[chosen]]
    adoptions = pd.DataFrame(
        {
            "measure_id": cat["measure_id"].to_numpy()[i_of],
            "name_en": cat["name_en"].to_numpy()[i_of],
            "lever": cat["lever"].to_numpy()[i_of],
            "scope": cat["scope"].to_numpy()[i_of],
            "year": adopted_year,
            "units": xs[chosen],
            "unit": cat["unit"].to_numpy()[i_of],
            "active_to": adopted_year + cat["lifetime_years"].to_numpy(int)[i_of] - 1,
            "abatement_t_per_year": xs[chosen] * cat["unit_abatement_t"].to_numpy(float)[i_of],
            "annual_cost_cny": xs[chosen] * eac[i_of],
            "cost_pv_cny": xs[chosen] * model.c[: model.nx][chosen],
        }
    )
    years = np.asarray(problem.years)
    abatement = model.counted @ xs
    baseline = np.array([problem.baseline.get(int(y), np.nan) for y in years], dtype=float)
    caps = np.array([problem.caps.get(int(y), np.nan) for y in years], dtype=float)
    grow = (1.0 + problem.rate) ** (years - problem.base_year).astype(float)
    price = np.full(len(years), np.nan)
    price_relaxed = np.full(len(years), np.nan)
    for year, row in model.cap_rows.items():
        k = problem.years.index(year)
        price[k] = -fixed[row] * grow[k] + 0.0
        price_relaxed[k] = -relaxed[row] * grow[k] + 0.0
    frame = pd.DataFrame(
        {
            "year": years,
            "baseline_t": baseline,
            "cap_t": caps,
            "abatement_t": abatement,
            "emissions_t": baseline - abatement,
            "slack_t": caps - (baseline - abatement),
            "shadow_price": price,
            "shadow_price_relaxed": price_relaxed,
        }
    )
    slack = model.b_ub - model.a_ub @ x
    binding = [
        kind
        for kind, gap, bound in zip(model.kinds, slack, model.b_ub, strict=True)
        if abs(gap) <= TOL * max(1.0, abs(bound))
        and kind.startswith(("cap ", "electricity ", "capacity "))
    ]
    binding += [
        f"max_units {model.names[v]}"
        for v in chosen
        if cat["divisible"].iloc[model.var_i[v]] or cat["max_units"].iloc[model.var_i[v]] > 1
        if xs[v] >= model.upper[v] - TOL * max(1.0, model.upper[v])
    ]
    # active units per measure and year; a relation binds where an adopted measure is in it
    member = model.var_i[None, :] == np.arange(len(cat))[:, None]
    active = (member[:, None, :] & model.act[None, :, :]) @ xs > TOL  # (n, T)
    ids = cat["measure_id"].tolist()
    for i, (needs, shuns) in enumerate(zip(cat["requires"], cat["excludes"], strict=True)):
        on = [problem.years[k] for k in np.flatnonzero(active[i])]
        if not on:
            continue
        binding += [f"requires {ids[i]} -> {other} {_span(on)}" for other in needs]
        binding += [f"excludes {ids[i]} / {other} {_span(on)}" for other in shuns]
    return Plan(
        problem=problem,
        adoptions=adoptions,
        years=frame,
        total_cost_cny=float(model.c @ x),
        binding=tuple(binding),
        solver_status=str(result.message),
    )


def _span(years: Sequence[int]) -> str:
    return str(years[0]) if len(years) == 1 else f"{years[0]}-{years[-1]}"


def _rate(rate: float | None) -> float:
    return default_rate() if rate is None else rate


def plan_for_cap(
    catalogue: pd.DataFrame,
    baseline_t: float,
    cap_t: float,
    year: int,
    rate: float | None = None,
    *,
    scopes: tuple[int, ...] = (1, 2, 3),
    electricity_mwh: float | None = None,
) -> Plan:
    """The least-cost measures bringing ``baseline_t`` down to ``cap_t`` in ``year``, in
    steady state: one period, measures available by ``year``, costs per year (the equivalent
    annual cost, ``base_year = year``)."""
    return optimise(
        Problem(
            catalogue=catalogue,
            years=(year,),
            baseline={year: baseline_t},
            caps={year: cap_t},
            rate=_rate(rate),
            base_year=year,
            scopes=scopes,
            electricity_mwh=None if electricity_mwh is None else {year: electricity_mwh},
        )
    )


def plan_for_abatement(
    catalogue: pd.DataFrame,
    required_t: float,
    year: int,
    rate: float | None = None,
    *,
    scopes: tuple[int, ...] = (1, 2, 3),
    electricity_mwh: float | None = None,
) -> Plan:
    """The least-cost measures abating at least ``required_t`` tCO2e/year in ``year`` (a cap
    of ``-required_t`` on a zero baseline)."""
    return plan_for_cap(
        catalogue,
        0.0,
        -required_t,
        year,
        rate,
        scopes=scopes,
        electricity_mwh=electricity_mwh,
    )


def plan_pathway(
    catalogue: pd.DataFrame,
    baseline: float | Mapping[int, float],
    caps: Mapping[int, float],
    rate: float | None = None,
    *,
    base_year: int | None = None,
    scopes: tuple[int, ...] = (1, 2, 3),
    electricity_mwh: float | Mapping[int, float] | None = None,
) -> Plan:
    """The least-cost adoption schedule meeting yearly ``caps`` from ``base_year`` (default:
    the first capped year) to the last capped year. ``baseline`` is the business-as-usual
    emissions, one figure for every year or per year; so is ``electricity_mwh``."""
    start = min(caps) if base_year is None else base_year
    years = tuple(range(start, max(caps) + 1))

    def per_year(value: float | Mapping[int, float]) -> dict[int, float]:
        if isinstance(value, Mapping):
            return {int(y): float(v) for y, v in value.items()}
        return dict.fromkeys(years, float(value))

    return optimise(
        Problem(
            catalogue=catalogue,
            years=years,
            baseline=per_year(baseline),
            caps=dict(caps),
            rate=_rate(rate),
            base_year=start,
            scopes=scopes,
            electricity_mwh=None if electricity_mwh is None else per_year(electricity_mwh),
        )
    )


# -- independent recomputation ---------------------------------------------------------------


@dataclass(frozen=True)
class Verification:
    """:func:`verify_plan`'s recomputation: ``problems`` empty when the plan holds."""

    problems: tuple[str, ...]
    total_cost_cny: float
    abatement_t: Mapping[int, float]

    @property
    def ok(self) -> bool:
        return not self.problems


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= TOL * max(1.0, abs(a), abs(b))


@dataclass
class _Tally:
    """What :func:`verify_plan` adds up, per year and per (measure, year)."""

    cost: float = 0.0
    abatement: dict[int, float] = field(default_factory=dict)
    mwh: dict[int, float] = field(default_factory=dict)
    active: dict[tuple[str, int], float] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def _tally_adoption(
    tally: _Tally, problem: Problem, m: Mapping[str, Any], year: int, units: float
) -> None:
    measure_id, rate = str(m["measure_id"]), problem.rate
    life = int(m["lifetime_years"])
    if year not in problem.years or year < int(m["start_year_min"]):
        tally.problems.append(f"{measure_id}: adopted in {year}, outside its years")
    if units < -TOL or units > float(m["max_units"]) * (1 + TOL) + TOL:
        tally.problems.append(f"{measure_id}: {units} units outside 0..{m['max_units']}")
    if not m["divisible"] and abs(units - round(units)) > TOL:
        tally.problems.append(f"{measure_id}: {units} units, expected a whole number")
    # CRF = r / (1 - (1+r)^-n), with 1 - (1+r)^-n as -expm1(-n ln(1+r)) so that rates too
    # small for (1+r)^n to differ from 1 still give 1/n
    factor = 1.0 / life if rate == 0 else rate / -math.expm1(-life * math.log1p(rate))
    annual = float(m["capex_cny"]) * factor + float(m["opex_cny_per_year"])
    mwh = float(m["grid_mwh_per_year"])
    per_unit = float(m["abatement_t_per_year"]) + mwh * float(m["grid_factor"])
    counted = int(m["scope"]) in problem.scopes
    for t in range(year, year + life):
        if t not in tally.abatement:
            continue
        tally.cost += units * annual / (1 + rate) ** (t - problem.base_year)
        tally.active[measure_id, t] = tally.active.get((measure_id, t), 0.0) + units
        tally.mwh[t] += units * mwh
        tally.abatement[t] += units * per_unit if counted else 0.0


def _check_relations(tally: _Tally, measures: Mapping[str, Mapping[str, Any]]) -> None:
    for (measure_id, t), units in tally.active.items():
        m = measures[measure_id]
        if units > float(m["max_units"]) * (1 + TOL) + TOL:
            tally.problems.append(f"{measure_id}: {units} units active in {t} > {m['max_units']}")
        if units <= TOL:
            continue
        tally.problems.extend(
            f"{measure_id} active in {t} without {other}, which it requires"
            for other in m["requires"]
            if tally.active.get((other, t), 0.0) <= TOL
        )
        tally.problems.extend(
            f"{measure_id} and {other} both active in {t}"
            for other in m["excludes"]
            if tally.active.get((other, t), 0.0) > TOL
        )


def verify_plan(plan: Plan) -> Verification:
    """Recompute a plan's abatement and cost with plain arithmetic (no solver, no array
    code shared with the optimiser) and check every constraint: units within ``0 ..
    max_units`` and whole for indivisible measures, adoption years, active units per year,
    requires / excludes, electricity, each cap, and the plan's stated cost and abatement."""
    problem = plan.problem
    records: list[dict[str, Any]] = problem.catalogue.to_dict("records")  # type: ignore[assignment]
    measures = {str(r["measure_id"]): r for r in records}
    tally = _Tally(
        abatement=dict.fromkeys(problem.years, 0.0), mwh=dict.fromkeys(problem.years, 0.0)
    )
    for row in plan.adoptions.to_dict("records"):
        m = measures.get(str(row["measure_id"]))
        if m is None:
            tally.problems.append(f"{row['measure_id']}: not in the catalogue")
            continue
        _tally_adoption(tally, problem, m, int(row["year"]), float(row["units"]))
    _check_relations(tally, measures)
    for t, cap in problem.caps.items():
        emissions = problem.baseline[t] - tally.abatement[t]
        if emissions > cap + TOL * max(1.0, abs(cap)):
            tally.problems.append(f"{t}: emissions {emissions:,.4f} above the cap {cap:,.4f}")
    for t, limit in (problem.electricity_mwh or {}).items():
        if t in tally.mwh and tally.mwh[t] > limit + TOL * max(1.0, limit):
            tally.problems.append(
                f"{t}: {tally.mwh[t]:,.4f} MWh avoided, over the {limit:,.4f} used"
            )
    if not _close(tally.cost, plan.total_cost_cny):
        tally.problems.append(
            f"cost {plan.total_cost_cny:,.4f} stated, {tally.cost:,.4f} recomputed"
        )
    for year, stated in zip(plan.years["year"], plan.years["abatement_t"], strict=True):
        if not _close(float(stated), tally.abatement[int(year)]):
            tally.problems.append(
                f"{year}: abatement {stated:,.4f} stated, "
                f"{tally.abatement[int(year)]:,.4f} recomputed"
            )
    return Verification(tuple(tally.problems), tally.cost, tally.abatement)


# -- energy plan under a quota ---------------------------------------------------------------


@dataclass(frozen=True)
class EnergyPlan:
    """:func:`energy_plan`'s result: the plan and the electricity it moves (MWh/year)."""

    plan: Plan
    green_power_mwh: float
    """Grid electricity replaced by green power (lever ``green_power``)."""
    efficiency_mwh: float
    """Grid electricity saved by the other measures (net of electricity they add)."""
    grid_mwh: float
    """Grid electricity still bought: the baseline less both."""


def energy_plan(
    catalogue: pd.DataFrame,
    electricity_mwh: float,
    other_t: float,
    quota_t: float,
    grid_factor: float,
    year: int,
    rate: float | None = None,
    *,
    levers: Sequence[str] | None = None,
) -> EnergyPlan:
    """The least-cost mix of green power and efficiency meeting an emissions quota:
    emissions ``electricity_mwh * grid_factor + other_t - abatement <= quota_t``, the grid
    electricity the measures avoid at most ``electricity_mwh``, abatement priced at
    ``grid_factor``. ``levers`` restricts the catalogue (default: all measures)."""
    chosen = catalogue if levers is None else catalogue[catalogue["lever"].isin(levers)]
    priced = apply_grid_factor(chosen.reset_index(drop=True), grid_factor)
    plan = plan_for_cap(
        priced,
        electricity_mwh * grid_factor + other_t,
        quota_t,
        year,
        rate,
        electricity_mwh=electricity_mwh,
    )
    adoptions = plan.adoptions.merge(
        priced[["measure_id", "grid_mwh_per_year"]], on="measure_id", how="left"
    )
    moved = adoptions["units"] * adoptions["grid_mwh_per_year"]
    green = float(moved[adoptions["lever"] == "green_power"].sum())
    efficiency = float(moved[adoptions["lever"] != "green_power"].sum())
    return EnergyPlan(plan, green, efficiency, electricity_mwh - green - efficiency)


# -- the baseline of an inventory -------------------------------------------------------------


@dataclass(frozen=True)
class Baseline:
    """A year's inventory totals to optimise against (tCO2e; electricity in MWh)."""

    year: int
    scope1: float
    scope2_location: float
    scope2_market: float
    scope3: float
    electricity_mwh: float
    energy_mwh: float
    scope2_basis: str = "location"

    @property
    def grid_factor(self) -> float:
        """The inventory's implied location-based factor: scope 2 (location) / electricity
        (tCO2/MWh; scope 2 of the seed is all purchased electricity)."""
        return self.scope2_location / self.electricity_mwh if self.electricity_mwh else math.nan

    @property
    def market_grid_factor(self) -> float:
        """The implied market-based factor: scope 2 (market) / electricity. Green power
        (certificates, PPAs) lowers market-based scope 2 only: optimise a market-based total
        with the catalogue priced at this factor (:func:`apply_grid_factor`)."""
        return self.scope2_market / self.electricity_mwh if self.electricity_mwh else math.nan

    def total(self, scopes: Sequence[int] = (1, 2, 3), basis: str | None = None) -> float:
        """Emissions of ``scopes``, scope 2 on ``basis`` (default: the ledger's total basis)."""
        scope2 = (
            self.scope2_market
            if (basis or self.scope2_basis) == "market"
            else (self.scope2_location)
        )
        values = {1: self.scope1, 2: scope2, 3: self.scope3}
        return float(sum(values[s] for s in scopes))


def baseline_from_inventory(result: InventoryResult, year: int) -> Baseline:
    """The year of an inventory as a :class:`Baseline`: scope totals, purchased electricity
    (the ``electricity`` activity of the energy frame) and all energy in MWh, scope 2 on the
    inventory's total basis (:func:`esgledger.usecases.strategy.baseline_from_ledger` reads
    the ledger's)."""
    if year not in result.years():
        raise ValueError(
            f"no inventory for {year}: expected one of {', '.join(map(str, result.years()))}"
        )
    totals = result.scope_totals(year)
    energy = result.energy[result.energy["year"] == year]
    electricity = float(energy.loc[energy["activity_type"] == "electricity", "mwh"].sum())
    return Baseline(
        year=year,
        scope1=totals["scope1"],
        scope2_location=totals["scope2_location"],
        scope2_market=totals["scope2_market"],
        scope3=totals["scope3"],
        electricity_mwh=electricity,
        energy_mwh=result.energy_totals(year)["mwh"],
        scope2_basis=result.settings.scope2_total_basis,
    )
