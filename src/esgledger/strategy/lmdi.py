"""Kaya-type LMDI-I decomposition of a change in emissions between two years.

Identity (Ang 2005, "The LMDI approach to decomposition analysis: a practical guide", Energy
Policy 33, 867-871): the aggregate is a sum over subsectors ``i`` of a product of factors,
``C = sum_i x_1,i * x_2,i * ... * x_n,i``. The Kaya form used for a ledger is

``C = sum_i Q * S_i * I_i * F_i``: ``Q`` the activity (revenue in 万元 or headcount),
``S_i = Q_i / Q`` the structure share, ``I_i = E_i / Q_i`` the energy intensity (tce per unit
of activity), ``F_i = C_i / E_i`` the carbon intensity of energy (tCO2e/tce).

LMDI-I between year 0 and year T, with ``L(a, b) = (a - b) / (ln a - ln b)`` (``L(a, a) = a``):

- additive: ``dC_x = sum_i L(C_i^T, C_i^0) ln(x_i^T / x_i^0)`` (tCO2e); the effects sum to
  ``C^T - C^0`` exactly;
- multiplicative: ``D_x = exp(sum_i L(C_i^T, C_i^0) / L(C^T, C^0) ln(x_i^T / x_i^0))``
  (dimensionless), i.e. ``ln D_x = dC_x / L(C^T, C^0)``; the indices multiply to
  ``C^T / C^0`` exactly.

Zeros (Ang 2005 recommends replacing them by a small number ``delta``, 1e-10..1e-20, as the
results converge when ``delta -> 0``): the default treatment is that limit, computed
analytically (Wood and Lenzen 2006): a subsector with a zero factor in one year puts its whole
change on the factors that are zero, in equal shares, and nothing on the others; treatment
``delta`` substitutes ``delta`` and computes as usual. A subsector present in one year only is
a subsector whose activity (structure share) is zero in the other year. The parameters are data
(``data/lmdi_parameters.csv``, with sources).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from importlib import resources
from io import StringIO
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from esgledger.domain.diagnostics import Diagnostic, Severity

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, NDArray

    from esgledger.calc import InventoryResult

__all__ = [
    "KAYA_FACTORS",
    "KAYA_NO_ENERGY_FACTORS",
    "UNITS",
    "Decomposition",
    "KayaInputs",
    "KayaSource",
    "LmdiParameters",
    "decompose",
    "entity_activity",
    "kaya_decomposition",
    "kaya_factors",
    "kaya_inputs",
    "load_parameters",
    "log_mean",
]

KAYA_FACTORS = ("activity", "structure", "energy_intensity", "carbon_intensity")
"""C = sum_i Q * S_i * I_i * F_i (the default factor columns)."""
KAYA_NO_ENERGY_FACTORS = ("activity", "structure", "emission_intensity")
"""C = sum_i Q * S_i * CI_i with CI_i = C_i / Q_i: the fallback when energy is missing."""
ZeroTreatment = Literal["limit", "delta"]
Activity = Literal["revenue", "headcount"]
By = Literal["entity", "scope"]

UNITS: Mapping[str, Mapping[str, str]] = {
    "revenue": {
        "activity": "万元",
        "structure": "1",
        "energy_intensity": "tce/万元",
        "carbon_intensity": "tCO2e/tce",
        "emission_intensity": "tCO2e/万元",
    },
    "headcount": {
        "activity": "person",
        "structure": "1",
        "energy_intensity": "tce/person",
        "carbon_intensity": "tCO2e/tce",
        "emission_intensity": "tCO2e/person",
    },
}
"""Units of the Kaya factors by activity measure (emissions in tCO2e, energy in tce)."""

PARAMETERS_FILE = "lmdi_parameters.csv"


@dataclass(frozen=True, slots=True)
class LmdiParameters:
    """The zero treatment and the exactness check of ``lmdi_parameters.csv``."""

    zero: ZeroTreatment = "limit"
    delta: float = 1e-15
    tolerance: float = 1e-9


def _read_data(name: str) -> pd.DataFrame:
    text = resources.files("esgledger.strategy").joinpath("data", name).read_text("utf-8")
    return pd.read_csv(StringIO(text), dtype=str, keep_default_na=False)


def load_parameters(table: pd.DataFrame | None = None) -> LmdiParameters:
    """The parameters of ``table`` (default: the packaged ``lmdi_parameters.csv``)."""
    frame = _read_data(PARAMETERS_FILE) if table is None else table
    value = dict(zip(frame["parameter"], frame["value"].astype(str), strict=True))
    zero = value["zero.treatment"]
    if zero not in ("limit", "delta"):
        raise ValueError(f"zero.treatment {zero!r}: expected 'limit' or 'delta'")
    delta = float(value["zero.delta"])
    if not 0 < delta < 1e-6:
        raise ValueError(f"zero.delta {delta!r}: expected a small positive number (< 1e-6)")
    return LmdiParameters(
        zero="limit" if zero == "limit" else "delta",
        delta=delta,
        tolerance=float(value["check.tolerance"]),
    )


def log_mean(a: ArrayLike, b: ArrayLike) -> NDArray[np.float64]:
    """The logarithmic mean ``L(a, b) = (a - b) / (ln a - ln b)``, element-wise.

    ``L(a, a) = a`` and ``L(a, 0) = L(0, b) = 0`` (the limits); inputs must be >= 0.
    """
    x = np.asarray(a, dtype=np.float64)
    y = np.asarray(b, dtype=np.float64)
    x, y = np.broadcast_arrays(x, y)
    if np.any(x < 0) or np.any(y < 0) or not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise ValueError("log_mean: expected finite non-negative values")
    out = np.zeros(x.shape, dtype=np.float64)
    both = (x > 0) & (y > 0)
    equal = both & np.isclose(x, y, rtol=1e-12, atol=0.0)
    # Near equality (a - b) / ln(a / b) loses precision: the series a * (1 + u/2 - u²/12)
    # with u = b/a - 1 is exact to ~1e-16 there.
    u = np.where(equal, y / np.where(x > 0, x, 1.0) - 1.0, 0.0)
    out[equal] = (x * (1.0 + u / 2.0 - u * u / 12.0))[equal]
    other = both & ~equal
    with np.errstate(divide="ignore", invalid="ignore"):
        out[other] = ((x - y) / (np.log(x) - np.log(y)))[other]
    return out


@dataclass(frozen=True)
class Decomposition:
    """LMDI-I results for one pair of years (both forms).

    ``additive``: effect per factor in tCO2e, summing to ``change``; ``multiplicative``: index
    per factor (dimensionless), multiplying to ``ratio`` (NaN when a year's total is 0);
    ``contributions``: additive effects per subsector (rows) and factor (columns), tCO2e.
    """

    year0: int
    year1: int
    factors: tuple[str, ...]
    total0: float
    total1: float
    additive: pd.Series
    multiplicative: pd.Series
    contributions: pd.DataFrame
    zero: ZeroTreatment
    delta: float
    zero_values: int
    """How many factor values (subsector x factor x year) were zero."""
    notes: tuple[Diagnostic, ...] = ()
    units: Mapping[str, str] = field(default_factory=dict)

    @property
    def change(self) -> float:
        """``C^T - C^0`` in tCO2e."""
        return self.total1 - self.total0

    @property
    def ratio(self) -> float:
        """``C^T / C^0`` (NaN when ``C^0`` is 0)."""
        return self.total1 / self.total0 if self.total0 > 0 else float("nan")

    def table(self) -> pd.DataFrame:
        """One row per factor: effect (tCO2e), share of the change (%), index, unit."""
        change = self.change
        share = self.additive / change * 100 if change != 0 else self.additive * np.nan
        return pd.DataFrame(
            {
                "factor": list(self.factors),
                "unit": [self.units.get(f, "") for f in self.factors],
                "effect_tco2e": self.additive.to_numpy(),
                "share_of_change_pct": share.to_numpy(),
                "index": self.multiplicative.to_numpy(),
            }
        )


def _factor_arrays(
    frame: pd.DataFrame, factors: Sequence[str], year0: int, year1: int, subsector: str
) -> tuple[list[str], NDArray[np.float64], NDArray[np.float64]]:
    missing = [c for c in (subsector, "year", *factors) if c not in frame.columns]
    if missing:
        raise ValueError(
            f"factor frame lacks {', '.join(missing)}: expected columns "
            f"{subsector}, year, {', '.join(factors)}"
        )
    years = frame["year"].astype(int)
    parts = []
    for year in (year0, year1):
        rows = frame[years == year]
        if rows.empty:
            raise ValueError(f"no rows for year {year}: expected rows for {year0} and {year1}")
        if rows[subsector].duplicated().any():
            dup = sorted(rows.loc[rows[subsector].duplicated(), subsector].astype(str))
            raise ValueError(
                f"year {year}: subsector {', '.join(dup)} repeated: expected one row per "
                "subsector and year"
            )
        parts.append(rows.set_index(subsector)[list(factors)])
    first, second = parts
    both = first.index.union(second.index)
    names = sorted(both, key=str)
    lacking = [
        f"{name} in {year}"
        for part, year in ((first, year0), (second, year1))
        for name in both.difference(part.index)[:10]
    ]
    if lacking:
        raise ValueError(
            f"no row for subsector {', '.join(map(str, lacking))}: expected a row per subsector "
            "and year (give 0 for the factor that is absent, e.g. the structure share of an "
            "entity that did not exist; kaya_factors does this)"
        )
    x0 = first.loc[names].to_numpy(dtype=np.float64)
    x1 = second.loc[names].to_numpy(dtype=np.float64)
    for x, year in ((x0, year0), (x1, year1)):
        bad = ~np.isfinite(x) | (x < 0)
        if bad.any():
            row, col = (int(v[0]) for v in np.nonzero(bad))
            raise ValueError(
                f"factor {factors[col]} of {names[row]} in {year} is {x[row, col]!r}: "
                "expected a finite value >= 0"
            )
    return [str(n) for n in names], x0, x1


def decompose(
    frame: pd.DataFrame,
    factors: Sequence[str] = KAYA_FACTORS,
    *,
    year0: int | None = None,
    year1: int | None = None,
    subsector: str = "subsector",
    zero: ZeroTreatment | None = None,
    delta: float | None = None,
    parameters: LmdiParameters | None = None,
    units: Mapping[str, str] | None = None,
) -> Decomposition:
    """LMDI-I decomposition (additive and multiplicative) of the change of
    ``C = sum_i prod_x x_i`` from ``year0`` to ``year1``.

    ``frame``: one row per subsector and year, with ``subsector``, ``year`` and one column
    per factor (any number of factors; Kaya by default). The years default to the frame's
    first and last. Values must be finite and ``>= 0``; zeros are treated as
    ``parameters.zero`` says (``limit`` or ``delta``; see the module text).
    """
    params = parameters or load_parameters()
    treatment: ZeroTreatment = zero or params.zero
    small = params.delta if delta is None else delta
    if treatment not in ("limit", "delta"):
        raise ValueError(f"zero treatment {treatment!r}: expected 'limit' or 'delta'")
    if not factors:
        raise ValueError("no factors: expected at least one factor column")
    years = sorted({int(y) for y in frame["year"]}) if "year" in frame.columns else []
    y0 = years[0] if year0 is None and years else year0
    y1 = years[-1] if year1 is None and years else year1
    if y0 is None or y1 is None or y0 == y1:
        raise ValueError(f"years {y0} and {y1}: expected two different years in the frame")
    names, x0, x1 = _factor_arrays(frame, factors, y0, y1, subsector)
    zeros0, zeros1 = x0 == 0, x1 == 0
    n_zero = int(zeros0.sum() + zeros1.sum())
    notes: list[Diagnostic] = []

    if treatment == "delta":
        x0 = np.where(zeros0, small, x0)
        x1 = np.where(zeros1, small, x1)
        zeros0 = np.zeros_like(zeros0)
        zeros1 = np.zeros_like(zeros1)
    c0 = np.prod(x0, axis=1)
    c1 = np.prod(x1, axis=1)
    regular = ~(zeros0.any(axis=1) | zeros1.any(axis=1))
    weight = log_mean(c1, c0)
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.where(regular[:, None], np.log(x1 / np.where(x0 > 0, x0, 1.0)), 0.0)
    contrib = weight[:, None] * logs
    # The limit delta -> 0 (Wood and Lenzen 2006): the change of a subsector with zeros in
    # one year goes to its zero factors in equal shares; zeros in both years give 0.
    only0 = zeros0.any(axis=1) & ~zeros1.any(axis=1)
    only1 = zeros1.any(axis=1) & ~zeros0.any(axis=1)
    k0 = np.maximum(zeros0.sum(axis=1), 1)[:, None]
    k1 = np.maximum(zeros1.sum(axis=1), 1)[:, None]
    contrib = np.where(only0[:, None], c1[:, None] * zeros0 / k0, contrib)
    contrib = np.where(only1[:, None], -c0[:, None] * zeros1 / k1, contrib)

    total0, total1 = float(c0.sum()), float(c1.sum())
    additive = pd.Series(contrib.sum(axis=0), index=list(factors), name="effect_tco2e")
    scale = max(abs(total0), abs(total1), 1e-300)
    residual = float(additive.sum()) - (total1 - total0)
    if abs(residual) > params.tolerance * scale + (n_zero * small if treatment == "delta" else 0):
        raise ArithmeticError(
            f"additive effects sum to {additive.sum()!r}, change {total1 - total0!r}: expected "
            f"equal within {params.tolerance:g} relative"
        )
    if total0 > 0 and total1 > 0:
        multiplicative = pd.Series(
            np.exp(additive.to_numpy() / float(log_mean(total1, total0))),
            index=list(factors),
            name="index",
        )
    else:
        multiplicative = pd.Series(np.nan, index=list(factors), name="index")
        notes.append(
            Diagnostic(
                "lmdi.multiplicative_undefined",
                f"multiplicative form undefined: total {total0:g} tCO2e in {y0} and "
                f"{total1:g} tCO2e in {y1}: expected both positive",
                Severity.WARNING,
            )
        )
    if n_zero:
        how = (
            "analytical limit delta -> 0: each such subsector's change goes to its zero "
            "factors in equal shares"
            if treatment == "limit"
            else f"replaced by delta = {small:g}"
        )
        notes.append(
            Diagnostic(
                "lmdi.zero_values",
                f"{n_zero} zero factor value(s) ({how}; Ang 2005)",
                Severity.INFO,
            )
        )
    return Decomposition(
        year0=y0,
        year1=y1,
        factors=tuple(factors),
        total0=total0,
        total1=total1,
        additive=additive,
        multiplicative=multiplicative,
        contributions=pd.DataFrame(
            contrib, index=pd.Index(names, name=subsector), columns=list(factors)
        ),
        zero=treatment,
        delta=small,
        zero_values=n_zero,
        notes=tuple(notes),
        units=dict(units or {}),
    )


RAW_COLUMNS = ("subsector", "year", "activity", "energy", "emissions")


def kaya_factors(raw: pd.DataFrame, *, structure: bool = True, energy: bool = True) -> pd.DataFrame:
    """Kaya factor columns from quantities per subsector and year (vectorised).

    ``raw`` columns: ``subsector``, ``year``, ``activity``, ``energy`` (tce; not read when
    ``energy`` is False), ``emissions`` (tCO2e). With ``structure`` the activity is the
    subsector's own ``Q_i`` and ``Q = sum_i Q_i``; without it ``activity`` is the group's
    ``Q``, the same on every row of a year (subsectors that share one activity, like the
    scopes of a group), and the structure factor is left out.

    Factors: ``activity`` Q; ``structure`` Q_i/Q; ``energy_intensity`` E_i/Q_i (E_i/Q
    without structure); ``carbon_intensity`` C_i/E_i; or, without energy,
    ``emission_intensity`` C_i/Q_i (C_i/Q). A subsector missing in a year gets zero
    quantities; a ratio 0/0 is set to 1 (``delta/delta`` of the zero substitution, its value
    does not matter in the limit treatment).
    """
    need = [c for c in RAW_COLUMNS if c != "energy" or energy]
    missing = [c for c in need if c not in raw.columns]
    if missing:
        raise ValueError(f"raw frame lacks {', '.join(missing)}: expected columns {need}")
    data = raw[need].copy()
    data["year"] = data["year"].astype(int)
    values = [c for c in need if c not in ("subsector", "year")]
    numbers = data[values].to_numpy(dtype=np.float64)
    if not np.all(np.isfinite(numbers)) or np.any(numbers < 0):
        raise ValueError(f"raw quantities {values}: expected finite values >= 0")
    if data.duplicated(["subsector", "year"]).any():
        raise ValueError("raw frame repeats a subsector in a year: expected one row each")
    group_q = data.groupby("year")["activity"]
    if not structure and (group_q.max() != group_q.min()).any():
        raise ValueError(
            "without structure the activity is the group's: expected one value per year"
        )
    q_total = group_q.sum() if structure else group_q.first()
    full = pd.MultiIndex.from_product(
        [sorted(data["subsector"].unique(), key=str), sorted(data["year"].unique())],
        names=["subsector", "year"],
    )
    data = data.set_index(["subsector", "year"]).reindex(full, fill_value=0.0).reset_index()
    q = data["year"].map(q_total).to_numpy(dtype=np.float64)
    if not structure:
        data["activity"] = q
    q_i = data["activity"].to_numpy(dtype=np.float64)
    c_i = data["emissions"].to_numpy(dtype=np.float64)
    out = pd.DataFrame({"subsector": data["subsector"], "year": data["year"], "activity": q})
    if (q <= 0).any():
        raise ValueError("group activity is 0 in a year: expected a positive activity")
    if structure:
        out["structure"] = q_i / q
    if energy:
        e_i = data["energy"].to_numpy(dtype=np.float64)
        _undefined(data, (q_i == 0) & (e_i > 0), "energy > 0 with activity 0", "activity > 0")
        _undefined(data, (e_i == 0) & (c_i > 0), "emissions > 0 with energy 0", "energy > 0")
        out["energy_intensity"] = _ratio(e_i, q_i)
        out["carbon_intensity"] = _ratio(c_i, e_i)
    else:
        _undefined(data, (q_i == 0) & (c_i > 0), "emissions > 0 with activity 0", "activity > 0")
        out["emission_intensity"] = _ratio(c_i, q_i)
    return out


def _ratio(num: NDArray[np.float64], den: NDArray[np.float64]) -> NDArray[np.float64]:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), 1.0)


def _undefined(data: pd.DataFrame, mask: NDArray[np.bool_], what: str, expected: str) -> None:
    if mask.any():
        where = ", ".join(
            f"{s} {y}" for s, y in zip(data["subsector"][mask], data["year"][mask], strict=True)
        )
        raise ValueError(f"{what} ({where}): expected {expected} where it is needed")


@dataclass(frozen=True)
class KayaInputs:
    """Kaya quantities and factors of a ledger for two years, with the choices made.

    ``raw``: subsector, year, activity, energy (tce), emissions (tCO2e); ``factors``: the
    factor frame :func:`decompose` reads; ``factor_names``: its factor columns; ``notes``:
    which factors were used and why (fallbacks are warnings, never silent).
    """

    year0: int
    year1: int
    activity: Activity
    by: By
    raw: pd.DataFrame
    factors: pd.DataFrame
    factor_names: tuple[str, ...]
    units: Mapping[str, str]
    notes: tuple[Diagnostic, ...]


@dataclass(frozen=True)
class KayaSource:
    """What a Kaya decomposition reads of a ledger, as data.

    ``result``: the inventory (its settings name the scope 2 total basis); ``group_activity``:
    the group's activity per year (revenue in 万元 or headcount, as the decomposition's
    ``activity``; None or missing when the ledger has none, an error); ``entity_activity``:
    per year, the activity per entity (:func:`entity_activity`; may be empty); ``roots``: the
    root entities of the organisation (the group itself, never a subsector with structure).
    :func:`esgledger.usecases.strategy.kaya_decomposition` builds it from the Book.
    """

    result: InventoryResult
    group_activity: Mapping[int, float | None]
    entity_activity: Mapping[int, pd.Series]
    roots: frozenset[str]


def _group_activity(source: KayaSource, activity: Activity, year: int) -> float:
    value = source.group_activity.get(year)
    if value is None or value <= 0:
        what = "revenue (万元)" if activity == "revenue" else "headcount (employees)"
        raise ValueError(
            f"no group {what} for {year}: expected a positive context figure of the root "
            "entity for both years"
        )
    return float(value)


def entity_activity(context: pd.DataFrame, activity: Activity, year: int) -> pd.Series:
    """Activity per entity in ``year`` from the context metrics (``entity_id, year, metric,
    value, unit``: revenue converted to 万元, or employees), summed per entity; may be empty."""
    from esgledger.units import conversion_factor  # noqa: PLC0415

    metric = "revenue" if activity == "revenue" else "employees"
    rows = context[(context["metric"] == metric) & (context["year"] == year)]
    if rows.empty:
        return pd.Series(dtype=np.float64)
    if activity == "revenue":
        factor = rows["unit"].map(lambda u: conversion_factor(str(u), "万元"))
        values = rows["value"].astype(float) * factor.astype(float)
    else:
        values = rows["value"].astype(float)
    return values.groupby(rows["entity_id"]).sum()


def _scope_raw(
    lines: pd.DataFrame,
    scopes: Sequence[int],
    q: Mapping[int, float],
    e_total: pd.Series,
    has_energy: bool,
    notes: list[Diagnostic],
) -> pd.DataFrame:
    """Scopes as subsectors sharing the group activity and energy."""
    year0, year1 = sorted(q)
    emis = lines.groupby(["scope", "year"])["tco2e"].sum()
    full = pd.MultiIndex.from_product([sorted(scopes), [year0, year1]])
    emis = emis.reindex(full, fill_value=0.0)
    raw = pd.DataFrame(
        {
            "subsector": [f"scope{s}" for s, _ in emis.index],
            "year": [y for _, y in emis.index],
            "emissions": emis.to_numpy(),
        }
    )
    raw["activity"] = raw["year"].map(q)
    raw["energy"] = raw["year"].map(e_total)
    notes.append(
        Diagnostic(
            "lmdi.scopes",
            "subsectors are the scopes: they share the group activity"
            + (" and energy (C_s = Q x E/Q x C_s/E)" if has_energy else "")
            + "; there is no structure factor",
            Severity.INFO,
        )
    )
    return raw


def _entity_raw(
    source: KayaSource,
    lines: pd.DataFrame,
    energy: pd.DataFrame,
    activity: Activity,
    q: Mapping[int, float],
    has_energy: bool,
    notes: list[Diagnostic],
) -> tuple[pd.DataFrame, bool, bool]:
    """Entities as subsectors: the raw frame, whether a structure factor exists, and
    whether the energy split holds."""
    year0, year1 = sorted(q)
    structure = False
    emis = lines.groupby(["entity_id", "year"])["tco2e"].sum()
    en = energy.groupby(["entity_id", "year"])["tce"].sum()
    index = emis.index.union(en.index)
    raw = pd.DataFrame(
        {
            "subsector": index.get_level_values(0).astype(str),
            "year": index.get_level_values(1).astype(int),
            "emissions": emis.reindex(index, fill_value=0.0).to_numpy(),
            "energy": en.reindex(index, fill_value=0.0).to_numpy(),
        }
    )
    sets = {y: set(raw.loc[raw["year"] == y, "subsector"]) for y in (year0, year1)}
    if sets[year0] != sets[year1]:
        only = {y: sorted(sets[y] - sets[x]) for y, x in ((year0, year1), (year1, year0))}
        notes.append(
            Diagnostic(
                "lmdi.entities_differ",
                f"entities differ between the years (only in {year0}: "
                f"{', '.join(only[year0]) or '-'}; only in {year1}: "
                f"{', '.join(only[year1]) or '-'}): they enter with zero quantities in the "
                "other year (limit treatment); if a year holds only group-level reported "
                "totals, by='scope' is the consistent structure",
                Severity.WARNING,
            )
        )
    empty = pd.Series(dtype=np.float64)
    own = {y: source.entity_activity.get(y, empty) for y in (year0, year1)}
    roots = source.roots
    covered = all(
        s in own[y].index for y in (year0, year1) for s in sets[y] if s not in roots
    ) and all(not (sets[y] & roots) for y in (year0, year1))
    if covered:
        structure = True
        table = pd.concat(own, names=["year", "subsector"])
        keys = pd.MultiIndex.from_arrays([raw["year"], raw["subsector"]])
        raw["activity"] = table.reindex(keys).to_numpy(dtype=np.float64)
        raw.loc[raw["emissions"].eq(0) & raw["energy"].eq(0), "activity"] = 0.0
    else:
        raw["activity"] = raw["year"].map(q)
        notes.append(
            Diagnostic(
                "lmdi.no_entity_activity",
                f"no {activity} per entity for every entity in both years: the entities "
                "share the group activity, no structure factor; "
                + (
                    "the energy intensity E_i / Q carries structure and intensity together"
                    if has_energy
                    else "the emission intensity C_i / Q carries structure and intensity"
                ),
                Severity.WARNING,
            )
        )
    if has_energy:
        bad = raw[(raw["energy"] <= 0) & (raw["emissions"] > 0)]
        if not bad.empty:
            has_energy = False
            notes.append(
                Diagnostic(
                    "lmdi.emissions_without_energy",
                    "emissions with no energy ("
                    + ", ".join(
                        f"{s} {y}" for s, y in zip(bad["subsector"], bad["year"], strict=True)
                    )
                    + "): the carbon intensity of energy is undefined there; factors used: "
                    "activity"
                    + (", structure" if structure else "")
                    + ", emission intensity (C_i / Q_i)",
                    Severity.WARNING,
                )
            )
    return raw, structure, has_energy


def kaya_inputs(
    source: KayaSource,
    year0: int,
    year1: int,
    activity: Activity = "revenue",
    by: By = "entity",
    scopes: Sequence[int] = (1, 2, 3),
) -> KayaInputs:
    """The Kaya inputs of ``source`` (a ledger's inventory and activity) for ``year0`` and
    ``year1``.

    Emissions are the consolidated inventory lines of ``scopes`` (scope 2 on the inventory's
    total basis), energy the consolidated energy in tce, activity the group's revenue (万元)
    or headcount (``source`` holds the one ``activity`` names). ``by``:

    ``entity``
        subsectors are entities. The structure share needs each entity's activity (context
        metric of the entity); without it the entities share the group activity and the
        energy intensity ``E_i / Q`` carries structure and intensity together (a warning
        says so). Entities in one year only are kept (zero in the other year).
    ``scope``
        subsectors are the scopes of the group; they share the activity and the energy, so
        ``C_s = Q * (E / Q) * (C_s / E)``: activity, energy intensity of the group, carbon
        intensity per scope. The consistent choice when one year holds only group-level
        reported totals (as the demo's 2020-2023).

    When a year has no energy (or a subsector emits with no energy), the energy split is
    dropped: ``C = sum_i Q * S_i * CI_i`` (``CI_i = C_i / Q_i``) and a warning names the
    factors used and why.
    """
    if year0 == year1:
        raise ValueError(f"years {year0} and {year1}: expected two different years")
    if by not in ("entity", "scope"):
        raise ValueError(f"by {by!r}: expected 'entity' or 'scope'")
    if activity not in ("revenue", "headcount"):
        raise ValueError(f"activity {activity!r}: expected 'revenue' or 'headcount'")
    result = source.result
    basis = result.settings.scope2_total_basis
    lines = result.basis_lines(basis)
    lines = lines[lines["year"].isin((year0, year1)) & lines["scope"].isin(list(scopes))]
    energy = result.energy[result.energy["year"].isin((year0, year1))]
    notes: list[Diagnostic] = []
    q = {y: _group_activity(source, activity, y) for y in (year0, year1)}
    e_total = energy.groupby("year")["tce"].sum().reindex([year0, year1], fill_value=0.0)
    c_total = lines.groupby("year")["tco2e"].sum().reindex([year0, year1], fill_value=0.0)
    for year in (year0, year1):
        if c_total[year] <= 0:
            raise ValueError(
                f"no emissions of scopes {list(scopes)} in {year}: expected inventory lines "
                "for both years"
            )
    has_energy = bool((e_total > 0).all())
    no_energy_years = [str(y) for y in (year0, year1) if e_total[y] <= 0]

    if by == "scope":
        structure = False
        raw = _scope_raw(lines, scopes, q, e_total, has_energy, notes)
    else:
        raw, structure, has_energy = _entity_raw(
            source, lines, energy, activity, q, has_energy, notes
        )
    if no_energy_years:
        notes.append(
            Diagnostic(
                "lmdi.no_energy",
                f"no energy in {', '.join(no_energy_years)}: energy intensity and carbon "
                "intensity of energy cannot be separated; factors used: activity"
                + (", structure" if structure else "")
                + ", emission intensity (C_i / Q_i, tCO2e per unit of activity)",
                Severity.WARNING,
            )
        )
    raw = raw[list(RAW_COLUMNS)].sort_values(["subsector", "year"], ignore_index=True)
    factors = kaya_factors(raw, structure=structure, energy=has_energy)
    names = tuple(c for c in factors.columns if c not in ("subsector", "year"))
    units = {n: UNITS[activity][n] for n in names}
    notes.append(
        Diagnostic(
            "lmdi.factors",
            f"factors: {', '.join(f'{n} ({units[n]})' for n in names)}; subsectors: {by}; "
            f"emissions of scopes {', '.join(map(str, scopes))} (scope 2 "
            f"{basis}-based), tCO2e",
            Severity.INFO,
        )
    )
    return KayaInputs(
        year0=year0,
        year1=year1,
        activity=activity,
        by=by,
        raw=raw,
        factors=factors,
        factor_names=names,
        units=units,
        notes=tuple(notes),
    )


def kaya_decomposition(
    source: KayaSource,
    year0: int,
    year1: int,
    activity: Activity = "revenue",
    by: By = "entity",
    scopes: Sequence[int] = (1, 2, 3),
    parameters: LmdiParameters | None = None,
) -> tuple[Decomposition, KayaInputs]:
    """:func:`kaya_inputs` then :func:`decompose`; the notes of both are on the result."""
    inputs = kaya_inputs(source, year0, year1, activity=activity, by=by, scopes=scopes)
    result = decompose(
        inputs.factors,
        inputs.factor_names,
        year0=year0,
        year1=year1,
        parameters=parameters,
        units=inputs.units,
    )
    return replace(result, notes=(*inputs.notes, *result.notes)), inputs
