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

The Kaya inputs of an inventory (activity, energy and emissions per subsector and year, the
factors, the fallbacks when energy or entity activity is missing) are in :mod:`.kaya`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from io import StringIO
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from esgledger.domain.diagnostics import Diagnostic, Severity

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, NDArray

__all__ = [
    "KAYA_FACTORS",
    "Decomposition",
    "LmdiParameters",
    "ZeroTreatment",
    "decompose",
    "load_parameters",
    "log_mean",
]

KAYA_FACTORS = ("activity", "structure", "energy_intensity", "carbon_intensity")
"""C = sum_i Q * S_i * I_i * F_i (the default factor columns)."""
ZeroTreatment = Literal["limit", "delta"]

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
