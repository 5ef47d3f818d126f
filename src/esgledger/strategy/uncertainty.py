"""Monte Carlo propagation of activity-data and emission-factor uncertainty (IPCC Approach 2).

Every inventory line is ``tCO2e = quantity x factor``, split into one row per record behind it
(:mod:`esgledger.strategy.uncertainty_inputs`). Both are drawn as multipliers of mean 1:

* the **activity** multiplier is drawn once per error source per iteration, independently of
  every other source. A record is its own source unless it declares a shared one
  (``error_source``: the same meter, the same estimate); the rows of one record (its CO2, CH4
  and N2O lines, its location- and market-based electricity) always share its draw. Two
  independent records at +/-x % give +/-x/sqrt(2) % on their sum; two on one meter, +/-x %;
* the **factor** multiplier is drawn once per ``factor_id`` per iteration and applied to every
  row naming that factor: a grid factor that is 3 % too high is 3 % too high for every site.
  Records sharing a factor are perfectly correlated, so the factor error does not average
  out across many records. Treating them as independent (the IPCC Approach 1 sum of squares
  over rows) understates the interval of a total dominated by a few shared factors.

Uncertainties are half-widths of the 95 % interval as a share of the value (``0.05`` = +/-5 %).
A ``normal`` input has standard deviation ``U / 1.96`` and is truncated at zero (redrawn);
a ``lognormal`` one has the same mean (1) and standard deviation (moment matching, IPCC 2006
Vol. 1 ch. 3), so both give the same Approach 1 figure and differ only in skew.

The draws (:mod:`esgledger.strategy.uncertainty_draws`) are numpy arrays of iterations x cells
(one cell per factor and output pattern), generated chunk by chunk (bounded memory); sources
with an untruncated normal multiplier are pooled exactly per set of cells (a sum of independent
normals is normal), the others drawn one by one. The set-up is column-wise: no Python function
runs per row or group (text is cleaned once per distinct value). Beside the Monte Carlo
interval, two analytical figures: IPCC Approach 1 (rows independent) and the exact second
moment with shared sources and factors (the sum in quadrature by error source, by factor and by
their pairs).

Reproducibility: ``numpy.random.default_rng`` on ``SeedSequence(seed)``, separate child streams
for factors, sources, pooled sets and truncation re-draw rounds. A fixed seed gives identical
results and, by construction, bit-identical draws whatever the chunk size: every stream is
consumed in iteration order and every sum has an order fixed per iteration.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from esgledger.calc import InventoryResult
from esgledger.domain.diagnostics import Diagnostic, Severity
from esgledger.strategy import uncertainty_draws as draws_
from esgledger.strategy.uncertainty_draws import TRUNCATE_SD
from esgledger.strategy.uncertainty_inputs import (
    DISTRIBUTIONS,
    ERROR_SOURCE_COLUMNS,
    FRAME_COLUMNS,
    Z95,
    check_error_sources,
    clean,
    each_distinct,
    load_error_sources,
    load_uncertainty_defaults,
    uncertainty_frame,
)

__all__ = [
    "DISTRIBUTIONS",
    "ERROR_SOURCE_COLUMNS",
    "FRAME_COLUMNS",
    "OUTPUTS",
    "SUMMARY_COLUMNS",
    "TRUNCATE_SD",
    "Z95",
    "UncertaintyResult",
    "check_error_sources",
    "load_error_sources",
    "load_uncertainty_defaults",
    "propagate",
    "uncertainty_frame",
    "uncertainty_from_inventory",
]

OUTPUTS = ("scope1", "scope2_location", "scope2_market", "scope3", "total")
SUMMARY_COLUMNS = [
    "output",
    "deterministic",
    "mean",
    "median",
    "lower",
    "upper",
    "rel_half_width",
    "approach1_lower",
    "approach1_upper",
    "approach1_rel_half_width",
    "correlated_rel_half_width",
]


@dataclass(frozen=True)
class UncertaintyResult:
    """Summary per output (scope and total), the draws behind it and the settings used."""

    summary: pd.DataFrame
    draws: np.ndarray
    outputs: tuple[str, ...]
    iterations: int
    seed: int
    diagnostics: tuple[Diagnostic, ...]

    def row(self, output: str) -> dict[str, float]:
        found = self.summary[self.summary["output"] == output]
        if found.empty:
            raise KeyError(output)
        return {str(k): float(v) for k, v in found.iloc[0].drop("output").items()}


def _membership(frame: pd.DataFrame, total_basis: str) -> np.ndarray:
    """Rows x outputs (bool): scope 2 lines enter the location and/or market view."""
    scope = frame["scope"].astype(int).to_numpy()
    basis = frame["basis"].astype(str).to_numpy()
    in_location = np.isin(basis, ("both", "location"))
    in_market = np.isin(basis, ("both", "market"))
    in_total = np.isin(basis, ("both", total_basis))
    return np.column_stack(
        [
            scope == 1,
            (scope == 2) & in_location,
            (scope == 2) & in_market,
            scope == 3,
            in_total,
        ]
    )


def _text(values: pd.Series) -> pd.Series:
    """Values as text; a column of Python strings is kept as it is (no copy to another
    string type: a third of the set-up at 100,000 rows)."""
    if values.dtype == object and pd.api.types.infer_dtype(values, skipna=False) == "string":
        return values
    return values.astype(str)


def _normalise(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[Diagnostic]]:
    diagnostics: list[Diagnostic] = []
    f = frame.copy().reset_index(drop=True)
    required = {"record_id", "scope", "quantity", "factor"}
    missing = required - set(f.columns)
    if missing:
        raise ValueError(f"uncertainty frame lacks columns {sorted(missing)}")
    defaults = {
        "basis": "both",
        "error_source": "",
        "factor_id": None,
        "activity_uncertainty": 0.0,
        "factor_uncertainty": 0.0,
        "activity_distribution": "normal",
        "factor_distribution": "normal",
    }
    for column, value in defaults.items():
        if column not in f.columns:
            f[column] = value
    # rows without a factor id get one of their own (independent factors)
    own = f["factor_id"].isna()
    if own.any():
        f["factor_id"] = f["factor_id"].astype(object).where(~own, "row|" + f.index.astype(str))
    f["error_source"] = each_distinct(f["error_source"], clean)
    f["factor_id"] = _text(f["factor_id"])
    f["record_id"] = _text(f["record_id"])
    for column in ("quantity", "factor", "activity_uncertainty", "factor_uncertainty"):
        f[column] = pd.to_numeric(f[column], errors="coerce").astype(float)
    bad = f[["quantity", "factor"]].isna().any(axis=1)
    if bad.any():
        diagnostics.append(
            Diagnostic(
                "uncertainty-not-numeric",
                f"{int(bad.sum())} rows have no numeric quantity or factor; they are dropped",
            )
        )
        f = f[~bad].reset_index(drop=True)
    return _checked_inputs(f, diagnostics)


def _checked_inputs(
    f: pd.DataFrame, diagnostics: list[Diagnostic]
) -> tuple[pd.DataFrame, list[Diagnostic]]:
    """Half-widths >= 0 and known distributions (each fallback a diagnostic)."""
    for column in ("activity_uncertainty", "factor_uncertainty"):
        negative = f[column].isna() | (f[column] < 0)
        if negative.any():
            diagnostics.append(
                Diagnostic(
                    "uncertainty-invalid",
                    f"{int(negative.sum())} rows have a missing or negative {column}; 0 is used",
                    Severity.WARNING,
                )
            )
            f.loc[negative, column] = 0.0
    for column in ("activity_distribution", "factor_distribution"):
        f[column] = each_distinct(f[column], lambda v: clean(v).lower() or "normal")
        unknown = ~f[column].isin(DISTRIBUTIONS)
        if unknown.any():
            diagnostics.append(
                Diagnostic(
                    "uncertainty-distribution",
                    f"{int(unknown.sum())} rows name an unknown {column} "
                    f"({', '.join(sorted(set(f.loc[unknown, column])))}); normal is used",
                    Severity.WARNING,
                )
            )
            f.loc[unknown, column] = "normal"
    wide = (f["activity_distribution"].eq("normal") & (f["activity_uncertainty"] > 1.0)) | (
        f["factor_distribution"].eq("normal") & (f["factor_uncertainty"] > 1.0)
    )
    if wide.any():
        diagnostics.append(
            Diagnostic(
                "uncertainty-wide-normal",
                f"{int(wide.sum())} rows have a normal input wider than +/-100 %: truncation at "
                "zero shifts its mean up; a lognormal is the better choice",
                Severity.WARNING,
            )
        )
    return f, diagnostics


def _per_unit(
    key: np.ndarray, values: np.ndarray, lognormal: np.ndarray, what: str, names: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[Diagnostic]]:
    """Row -> unit code (units numbered 0..n-1 in first-seen order), each unit's widest
    half-width and lognormal flag (any of its rows), with a warning naming units whose rows
    disagree."""
    codes, uniques = pd.factorize(key)
    codes = codes.astype(np.intp)
    half = np.full(uniques.size, -np.inf)
    low = np.full(uniques.size, np.inf)
    np.maximum.at(half, codes, values)
    np.minimum.at(low, codes, values)
    log = np.bincount(codes, weights=lognormal.astype(float), minlength=uniques.size) > 0
    notes = []
    differ = np.flatnonzero(low != half)
    if differ.size:
        first = np.full(uniques.size, codes.size)
        np.minimum.at(first, codes, np.arange(codes.size))
        shown = ", ".join(map(str, names[first[differ[:3]]]))
        notes.append(
            Diagnostic(
                f"uncertainty-inconsistent-{what}",
                f"{differ.size} {what} units have rows with different half-widths (e.g. "
                f"{shown}); the widest is used",
                Severity.WARNING,
            )
        )
    return codes, half, log, notes


def _units(f: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Integer keys of the activity unit (declared error source, else the record) and of the
    factor of each row, without building a string per row."""
    record = pd.factorize(f["record_id"])[0].astype(np.int64)
    source = pd.factorize(f["error_source"])[0].astype(np.int64)
    declared = f["error_source"].ne("").to_numpy()
    unit = np.where(declared, record.max(initial=-1) + 1 + source, record)
    return unit, pd.factorize(f["factor_id"])[0].astype(np.int64)


def _unit_tables(
    f: pd.DataFrame, diagnostics: list[Diagnostic]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Row -> activity unit (error source) and factor unit, with each unit's half-width and
    lognormal flag."""
    unit_key, fac_key = _units(f)
    declared = f["error_source"].ne("")
    unit, unit_half, unit_log, notes = _per_unit(
        unit_key,
        f["activity_uncertainty"].to_numpy(dtype=float),
        f["activity_distribution"].eq("lognormal").to_numpy(),
        "activity",
        f["error_source"].where(declared, f["record_id"]).to_numpy(),
    )
    diagnostics += notes
    fac, fac_half, fac_log, notes = _per_unit(
        fac_key,
        f["factor_uncertainty"].to_numpy(dtype=float),
        f["factor_distribution"].eq("lognormal").to_numpy(),
        "factor",
        f["factor_id"].to_numpy(),
    )
    diagnostics += notes
    return unit, unit_half, unit_log, fac, fac_half, fac_log


def _sum_by(codes: np.ndarray, weights: np.ndarray, size: int) -> np.ndarray:
    return np.bincount(codes, weights=weights, minlength=size).astype(float)


def _analytical(
    c: np.ndarray,
    row_a1: np.ndarray,
    member: np.ndarray,
    unit: np.ndarray,
    unit_half: np.ndarray,
    fac: np.ndarray,
    fac_half: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Per output: IPCC Approach 1 relative half-width (rows independent, eqs 3.1 and 3.2;
    ``row_a1`` the square of each row's combined half-width) and the exact second-moment
    half-width with shared sources and factors (normal approximation): the variance is the
    sum in quadrature by error source (va C^2), by factor (vf C^2) and by their pairs
    (va vf C^2), ``C`` the contribution of the source, factor or pair."""
    n_u, n_f = unit_half.size, fac_half.size
    keys, pair = np.unique(unit * n_f + fac, return_inverse=True)
    pair = pair.reshape(-1)
    va = (unit_half / Z95) ** 2
    vf = (fac_half / Z95) ** 2
    pair_v = va[keys // n_f] * vf[keys % n_f]
    approach1 = np.full(member.shape[1], np.nan)
    correlated = np.full(member.shape[1], np.nan)
    for j in range(member.shape[1]):  # over the five outputs
        cj = np.where(member[:, j], c, 0.0)
        total = float(cj.sum())
        if not member[:, j].any() or total == 0:
            continue
        approach1[j] = math.sqrt(float((row_a1 * cj**2).sum())) / abs(total)
        variance = (
            float((va * _sum_by(unit, cj, n_u) ** 2).sum())
            + float((vf * _sum_by(fac, cj, n_f) ** 2).sum())
            + float((pair_v * _sum_by(pair, cj, keys.size) ** 2).sum())
        )
        correlated[j] = Z95 * math.sqrt(variance) / abs(total)
    return approach1, correlated


def _summary(
    outputs: tuple[str, ...],
    deterministic: np.ndarray,
    draws: np.ndarray,
    level: float,
    approach1: np.ndarray,
    correlated: np.ndarray,
) -> pd.DataFrame:
    tail = (1.0 - level) / 2.0
    lower, median, upper = np.quantile(draws, [tail, 0.5, 1.0 - tail], axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(deterministic != 0, (upper - lower) / 2.0 / np.abs(deterministic), np.nan)
    return pd.DataFrame(
        {
            "output": list(outputs),
            "deterministic": deterministic,
            "mean": draws.mean(axis=0),
            "median": median,
            "lower": lower,
            "upper": upper,
            "rel_half_width": rel,
            "approach1_lower": deterministic * (1 - approach1),
            "approach1_upper": deterministic * (1 + approach1),
            "approach1_rel_half_width": approach1,
            "correlated_rel_half_width": correlated,
        },
        columns=SUMMARY_COLUMNS,
    )


def propagate(
    frame: pd.DataFrame,
    iterations: int = 10_000,
    seed: int = 0,
    *,
    level: float = 0.95,
    total_basis: str = "location",
    max_chunk_bytes: int = 128 * 2**20,
    chunk: int | None = None,
    pooled: bool = True,
) -> UncertaintyResult:
    """Monte Carlo interval of each scope and the total from a frame of :data:`FRAME_COLUMNS`.

    ``record_id``, ``scope`` (1, 2, 3), ``quantity`` and ``factor`` are required; ``basis``
    (``both``/``location``/``market``, default ``both``) places scope 2 rows; ``error_source``
    (default "": the row's record) keys the shared activity draw, ``factor_id`` the shared
    factor draw (rows without one get independent factors); uncertainties default to 0 and
    distributions to ``normal``. ``chunk`` iterations are drawn at a time (default: as many as
    ``max_chunk_bytes`` hold); ``pooled=False`` draws every error source one by one instead of
    pooling the normal ones (same distribution, slower: the reference for checks).
    """
    if iterations < 2:
        raise ValueError("at least 2 iterations")
    f, diagnostics = _normalise(frame)
    member_all = _membership(f, total_basis)
    present = [j for j, name in enumerate(OUTPUTS) if name == "total" or member_all[:, j].any()]
    outputs = tuple(OUTPUTS[j] for j in present)
    member = member_all[:, present]
    c = (f["quantity"] * f["factor"]).to_numpy(dtype=float)
    ua = f["activity_uncertainty"].to_numpy(dtype=float)
    uf = f["factor_uncertainty"].to_numpy(dtype=float)
    unit, unit_half, unit_log, fac, fac_half, fac_log = _unit_tables(f, diagnostics)
    approach1, correlated = _analytical(c, ua**2 + uf**2, member, unit, unit_half, fac, fac_half)
    bits = 1 << np.arange(member.shape[1], dtype=np.int64)
    pattern = (member.astype(np.int64) * bits).sum(axis=1)  # integers: exact in any order
    layout = draws_.plan(
        c, fac, fac_half.size, unit, unit_half, unit_log, pattern, len(outputs), pooled
    )
    deterministic = draws_.outputs(
        draws_.deterministic(layout), layout, np.empty((1, len(outputs)))
    )[0]
    if chunk is None:
        per_iteration = draws_.bytes_per_iteration(layout, fac_half.size)
        chunk = max_chunk_bytes // max(1, per_iteration)
    chunk = max(1, min(iterations, chunk))
    draws = draws_.simulate(layout, fac_half, fac_log, iterations, seed, chunk)
    summary = _summary(outputs, deterministic, draws, level, approach1, correlated)
    return UncertaintyResult(summary, draws, outputs, iterations, seed, tuple(diagnostics))


def uncertainty_from_inventory(
    result: InventoryResult,
    year: int,
    records: pd.DataFrame | None = None,
    direct: pd.DataFrame | None = None,
    iterations: int = 10_000,
    seed: int = 0,
    *,
    sources: pd.DataFrame | None = None,
    defaults: pd.DataFrame | None = None,
) -> UncertaintyResult:
    """The Monte Carlo interval of a year of an inventory, one activity draw per record (or
    declared error source, ``sources``), uncertainties from ``defaults`` (the packaged table
    when None) unless declared; ``records`` and ``direct``: the activity and direct frames of
    the year the inventory read (:func:`esgledger.usecases.strategy.uncertainty_from_ledger`
    reads the ledger's)."""
    if year not in result.years():
        raise ValueError(
            f"no inventory for {year}: expected one of {', '.join(map(str, result.years()))}"
        )
    frame, found = uncertainty_frame(
        result, records, direct, year=year, defaults=defaults, sources=sources
    )
    outcome = propagate(
        frame, iterations, seed, total_basis=str(result.settings.scope2_total_basis)
    )
    return UncertaintyResult(
        outcome.summary,
        outcome.draws,
        outcome.outputs,
        outcome.iterations,
        outcome.seed,
        (*found, *outcome.diagnostics),
    )
