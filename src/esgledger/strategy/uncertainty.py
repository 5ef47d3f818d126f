"""Monte Carlo propagation of activity-data and emission-factor uncertainty (IPCC Approach 2).

Every inventory line is ``tCO2e = quantity x factor``. Both are drawn as multipliers of mean 1:

* the **activity** multiplier is drawn once per ``record_id`` per iteration, independently of
  every other record (rows sharing a record id, e.g. the CO2, CH4 and N2O lines of one fuel
  quantity, share the draw: the same litres were burnt);
* the **factor** multiplier is drawn once per ``factor_id`` per iteration and applied to every
  row naming that factor: a grid factor that is 3 % too high is 3 % too high for every site.
  Records sharing a factor are perfectly correlated, so the factor error does not average
  out across many records. Treating them as independent (the IPCC Approach 1 sum of squares
  over rows) understates the interval of a total dominated by a few shared factors.

Uncertainties are half-widths of the 95 % interval as a share of the value (``0.05`` = +/-5 %).
A ``normal`` input has standard deviation ``U / 1.96`` and is truncated at zero (redrawn);
a ``lognormal`` one has the same mean (1) and standard deviation (moment matching, IPCC 2006
Vol. 1 ch. 3), so both give the same Approach 1 figure and differ only in skew.

The draws are numpy arrays of iterations x rows, generated chunk by chunk (bounded memory);
rows are sorted by (factor, output pattern) cell: one ``np.add.reduceat`` sums a chunk's rows
per cell, the shared factor multipliers apply per cell, a second one sums cells per pattern.
Python loops run only over chunks, truncation re-draw rounds and (output, pattern) pairs.

Reproducibility: ``numpy.random.default_rng`` on ``SeedSequence(seed)``, one child stream for
activity, one for factors, one per truncation re-draw round. A fixed seed gives identical
results and, by construction, bit-identical draws whatever the chunk size: every stream is
consumed in iteration order and every sum has an order fixed per iteration (``reduceat`` runs
one strided reduce loop per segment and iteration, its order set by the segment length; no
matrix product: a BLAS kernel's summation order follows the matrix shape).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from importlib import resources

import numpy as np
import pandas as pd

from esgledger.calc import InventoryResult
from esgledger.domain.diagnostics import Diagnostic, Severity

Z95 = 1.959963984540054
OUTPUTS = ("scope1", "scope2_location", "scope2_market", "scope3", "total")
FRAME_COLUMNS = [
    "record_id",
    "scope",
    "basis",
    "quantity",
    "factor",
    "factor_id",
    "activity_uncertainty",
    "factor_uncertainty",
    "activity_distribution",
    "factor_distribution",
]
DISTRIBUTIONS = ("normal", "lognormal")
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
TRUNCATE_SD = 0.125  # below this relative sd a negative draw needs z < -8 (p < 1e-15)


def load_uncertainty_defaults() -> pd.DataFrame:
    """Default 95 % half-widths per data-quality flag and factor type, with their sources."""
    path = resources.files("esgledger.strategy") / "data" / "uncertainty_defaults.csv"
    with resources.as_file(path) as file:
        table = pd.read_csv(file, dtype={"kind": str, "key": str, "distribution": str})
    table["half_width"] = table["half_width"].astype(float)
    return table


def _default(table: pd.DataFrame, kind: str, keys: list[str]) -> tuple[float, str]:
    rows = table[table["kind"] == kind]
    found = {
        str(k): (float(h), str(d))
        for k, h, d in zip(rows["key"], rows["half_width"], rows["distribution"], strict=True)
    }
    for key in [*keys, "default"]:
        if key in found:
            return found[key]
    return 0.0, "normal"


def _gas_base(gas: str) -> str:
    for base in ("CO2", "CH4", "N2O"):
        if gas.upper().startswith(base):
            return base
    return gas


def _month_key(values: pd.Series) -> pd.Series:
    numeric = pd.to_numeric(values, errors="coerce")
    return numeric.map(lambda v: "" if pd.isna(v) else str(int(v)))


def _activity_key(frame: pd.DataFrame) -> pd.Series:
    return (
        frame["entity_id"].astype(str)
        + "|"
        + frame["year"].astype(int).astype(str)
        + "|"
        + _month_key(frame["month"])
        + "|"
        + frame["activity_type"].astype(str)
    )


def uncertainty_frame(
    result: InventoryResult,
    records: pd.DataFrame | None = None,
    direct: pd.DataFrame | None = None,
    year: int | None = None,
    defaults: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, list[Diagnostic]]:
    """The propagation input (:data:`FRAME_COLUMNS`) from the consolidated inventory lines.

    One row per line: ``quantity`` is the consolidated activity (basis quantity x share),
    ``factor`` the tCO2e per basis unit (gas factor x GWP), so ``quantity x factor`` is the
    line's tCO2e. Lines of one (entity, year, month, activity type, region) share a record id
    (one activity draw for all its gases); the factor key is ``factor_id|gas``. The activity
    uncertainty follows the data-quality flag of the records behind the line (the widest
    where they differ); ``records`` and ``direct`` are the ledger's activity and direct frames
    (``esgledger.service.inventory_input``).
    """
    table = load_uncertainty_defaults() if defaults is None else defaults
    diagnostics: list[Diagnostic] = []
    lines = result.lines if year is None else result.lines[result.lines["year"] == year]
    lines = lines.reset_index(drop=True)
    if lines.empty:
        return pd.DataFrame(columns=FRAME_COLUMNS), [
            Diagnostic("uncertainty-no-lines", "no inventory lines to propagate", Severity.WARNING)
        ]
    key = _activity_key(lines)
    is_direct = lines["factor_id"].astype(str).eq("direct")
    record_id = key + "|" + lines["region"].astype(str)
    record_id = record_id.where(
        ~is_direct,
        "direct|" + key + "|" + lines["scope"].astype(str) + "|" + lines["category"].astype(str),
    )
    quality = pd.Series("", index=lines.index, dtype=object)
    half_by_quality = {
        str(k): float(v)
        for k, v in table.loc[table["kind"] == "activity", ["key", "half_width"]].itertuples(
            index=False
        )
    }

    def widest(frame: pd.DataFrame | None, rows: pd.Series) -> None:
        if frame is None or frame.empty or "data_quality" not in frame.columns:
            return
        f = frame.copy()
        if "month" not in f.columns:
            f["month"] = None
        if "activity_type" not in f.columns:
            f["activity_type"] = "direct"
        f["_key"] = _activity_key(f)
        f["_half"] = f["data_quality"].astype(str).str.lower().map(half_by_quality).fillna(-1.0)
        f = f.sort_values("_half")
        worst = f.groupby("_key")["data_quality"].last()
        # yearly lines (market-based scope 2) match the records of any month of the year
        f["_year"] = f["_key"].str.replace(r"\|[^|]*\|([^|]*)$", r"||\1", regex=True)
        yearly = f.groupby("_year")["data_quality"].last()
        found = key[rows].map(worst).fillna(key[rows].map(yearly))
        quality.loc[rows] = found.fillna("").astype(str).str.lower()

    widest(records, ~is_direct)
    widest(direct, is_direct)
    missing = int(quality.eq("").sum())
    if missing:
        diagnostics.append(
            Diagnostic(
                "uncertainty-quality-unknown",
                f"{missing} lines have no data-quality flag; the 'default' activity "
                "uncertainty applies",
                Severity.INFO,
            )
        )
    activity = [_default(table, "activity", [q]) for q in quality]
    gases = lines["gas"].astype(str).map(_gas_base)
    methods = lines["method"].astype(str)
    factor = [
        _default(table, "factor", [f"{m}.{g}", m])
        for m, g in zip(methods.where(~is_direct, "direct"), gases, strict=True)
    ]
    quantity = lines["quantity_basis"].astype(float)  # consolidated (x share) by the engine
    tco2e = lines["tco2e"].astype(float)
    per_unit = (tco2e / quantity).where(quantity != 0, 0.0)
    frame = pd.DataFrame(
        {
            "record_id": record_id,
            "scope": lines["scope"].astype(int),
            "basis": lines["basis"].astype(str),
            "quantity": quantity.where(quantity != 0, tco2e),
            "factor": per_unit.where(quantity != 0, 1.0),
            "factor_id": lines["factor_id"].astype(str)
            + "|"
            + lines["gas"].astype(str).where(~is_direct, record_id),
            "activity_uncertainty": [a[0] for a in activity],
            "factor_uncertainty": [f[0] for f in factor],
            "activity_distribution": [a[1] for a in activity],
            "factor_distribution": [f[1] for f in factor],
        }
    )
    return frame, diagnostics


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


def _normalise(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[Diagnostic]]:
    diagnostics: list[Diagnostic] = []
    f = frame.copy().reset_index(drop=True)
    required = {"record_id", "scope", "quantity", "factor"}
    missing = required - set(f.columns)
    if missing:
        raise ValueError(f"uncertainty frame lacks columns {sorted(missing)}")
    defaults = {
        "basis": "both",
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
    f["factor_id"] = f["factor_id"].astype(object).where(~own, "row|" + f.index.astype(str))
    f["factor_id"] = f["factor_id"].astype(str)
    f["record_id"] = f["record_id"].astype(str)
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
        f[column] = f[column].fillna("normal").astype(str).str.lower()
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
    frame: pd.DataFrame, key: str, value: str, dist: str, diagnostics: list[Diagnostic]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Unique ids (first-seen order), row -> unit index, half-width and lognormal flag."""
    codes, uniques = pd.factorize(frame[key], sort=False)
    grouped = frame.groupby(codes)
    half = grouped[value].max().to_numpy(dtype=float)
    if bool((grouped[value].min().to_numpy(dtype=float) != half).any()):
        diagnostics.append(
            Diagnostic(
                f"uncertainty-inconsistent-{value.split('_', maxsplit=1)[0]}",
                f"rows sharing a {key} give different {value}; the widest is used",
                Severity.WARNING,
            )
        )
    lognormal = grouped[dist].agg(lambda s: bool((s == "lognormal").any())).to_numpy(dtype=bool)
    return np.asarray(uniques), codes.astype(np.intp), half, lognormal


def _loc_scale(half: np.ndarray, lognormal: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-unit location and scale of the standard normal draw (multipliers of mean 1)."""
    sd = half / Z95
    sigma_ln = np.sqrt(np.log1p(sd**2))
    scale = np.where(lognormal, sigma_ln, sd)
    loc = np.where(lognormal, -0.5 * sigma_ln**2, 1.0)
    return loc, scale


def _transform(
    z: np.ndarray,
    loc: np.ndarray,
    scale: np.ndarray,
    lognormal: np.ndarray,
    redraw: list[np.random.Generator],
) -> np.ndarray:
    """Standard normals (in place) -> multipliers: normal truncated at 0, or lognormal. Re-draw
    round ``k`` draws from ``redraw[k]`` (spawned on first use), in iteration order."""
    z *= scale
    z += loc
    if lognormal.any():
        cols = np.flatnonzero(lognormal)
        z[:, cols] = np.exp(z[:, cols])
    wide = np.flatnonzero(~lognormal & (scale > TRUNCATE_SD))
    if wide.size:
        sub = z[:, wide]
        negative = sub < 0
        k = 0
        while negative.any():  # rejection rounds over the negative draws only
            if k == len(redraw):
                redraw.append(redraw[0].spawn(1)[0])
            _, col = np.nonzero(negative)  # row-major: iteration order
            sub[negative] = 1.0 + scale[wide][col] * redraw[k].standard_normal(col.size)
            negative = sub < 0
            k += 1
        z[:, wide] = sub
    return z


def _analytical(
    frame: pd.DataFrame, member: np.ndarray, rec: np.ndarray, fac: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per output: IPCC Approach 1 relative half-width (rows independent, eqs 3.1 and 3.2)
    and the exact second-moment half-width with shared records and factors (normal approx.)."""
    c = (frame["quantity"] * frame["factor"]).to_numpy(dtype=float)
    ua = frame["activity_uncertainty"].to_numpy(dtype=float)
    uf = frame["factor_uncertainty"].to_numpy(dtype=float)
    va = (ua / Z95) ** 2
    vf = (uf / Z95) ** 2
    approach1 = np.full(member.shape[1], np.nan)
    correlated = np.full(member.shape[1], np.nan)
    for j in range(member.shape[1]):  # over the five outputs
        m = member[:, j]
        total = c[m].sum()
        if not m.any() or total == 0:
            continue
        u_row = np.sqrt(ua[m] ** 2 + uf[m] ** 2)
        approach1[j] = math.sqrt(float(((u_row * c[m]) ** 2).sum())) / abs(total)
        sub = pd.DataFrame({"r": rec[m], "f": fac[m], "c": c[m], "va": va[m], "vf": vf[m]})
        by_r = sub.groupby("r").agg(c=("c", "sum"), v=("va", "first"))
        by_f = sub.groupby("f").agg(c=("c", "sum"), v=("vf", "first"))
        by_rf = sub.groupby(["r", "f"]).agg(c=("c", "sum"), va=("va", "first"), vf=("vf", "first"))
        variance = (
            float((by_r["v"] * by_r["c"] ** 2).sum())
            + float((by_f["v"] * by_f["c"] ** 2).sum())
            + float((by_rf["va"] * by_rf["vf"] * by_rf["c"] ** 2).sum())
        )
        correlated[j] = Z95 * math.sqrt(variance) / abs(total)
    return approach1, correlated


@dataclass(frozen=True)
class _Layout:
    """Rows sorted into cells of one factor and one output pattern, cells into patterns."""

    order: np.ndarray  # sorted row -> frame row
    starts: np.ndarray  # first sorted row of each cell
    cell_order: np.ndarray  # cells in pattern order -> cell
    cell_factor: np.ndarray  # factor unit of each cell, in pattern order
    pattern_starts: np.ndarray  # first cell (in pattern order) of each output pattern
    output_patterns: tuple[np.ndarray, ...]  # per output: the patterns it sums, in order
    rec_index: np.ndarray  # sorted row -> activity unit (units numbered in sorted-row order)
    unit_half: np.ndarray
    unit_log: np.ndarray


def _cells(
    member: np.ndarray,
    fac_codes: np.ndarray,
    rec_codes: np.ndarray,
    rec_half: np.ndarray,
    rec_log: np.ndarray,
) -> _Layout:
    """The row, cell and pattern layout, and the activity units renumbered in sorted-row
    order (so no gather is needed when every record has one row)."""
    bits = 1 << np.arange(member.shape[1], dtype=np.int64)
    pattern = member.astype(np.int64) @ bits  # integer: exact whatever the order
    cell_key = fac_codes.astype(np.int64) * (1 << member.shape[1]) + pattern
    order = np.argsort(cell_key, kind="stable")
    sorted_keys = cell_key[order]
    starts = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])
    cell_order = np.argsort(pattern[order][starts], kind="stable")
    cell_pattern = pattern[order][starts][cell_order]
    pattern_starts = np.flatnonzero(np.r_[True, cell_pattern[1:] != cell_pattern[:-1]])
    rec_sorted = rec_codes[order]
    renumber, rec_row = np.unique(rec_sorted, return_index=True)
    first_seen = np.argsort(rec_row, kind="stable")
    new_code = np.empty(renumber.size, dtype=np.intp)
    new_code[first_seen] = np.arange(renumber.size)
    return _Layout(
        order=order,
        starts=starts,
        cell_order=cell_order,
        cell_factor=fac_codes[order][starts][cell_order],
        pattern_starts=pattern_starts,
        output_patterns=tuple(np.flatnonzero(cell_pattern[pattern_starts] & b) for b in bits),
        rec_index=new_code[np.searchsorted(renumber, rec_sorted)],
        unit_half=rec_half[renumber[first_seen]],
        unit_log=rec_log[renumber[first_seen]],
    )


def _reduce(
    rows: np.ndarray, cell_factors: np.ndarray, layout: _Layout, out: np.ndarray
) -> np.ndarray:
    """Iterations x sorted-row contributions -> ``out`` (iterations x outputs), each
    iteration's sums in an order fixed by the layout alone, never by the chunk shape."""
    cells = np.add.reduceat(rows, layout.starts, axis=1)[:, layout.cell_order]
    cells *= cell_factors
    patterns = np.add.reduceat(cells, layout.pattern_starts, axis=1)
    for j, sums in enumerate(layout.output_patterns):
        out[:, j] = patterns[:, sums[0]] if sums.size else 0.0
        for p in sums[1:]:
            out[:, j] += patterns[:, p]
    return out


def _simulate(
    layout: _Layout,
    c_sorted: np.ndarray,
    fac_half: np.ndarray,
    fac_log: np.ndarray,
    iterations: int,
    seed: int,
    max_chunk_bytes: int,
) -> np.ndarray:
    """The draws (iterations x outputs), chunk by chunk of iterations."""
    identity = layout.rec_index.size == layout.unit_half.size
    a_loc, a_scale = _loc_scale(layout.unit_half, layout.unit_log)
    f_loc, f_scale = _loc_scale(fac_half, fac_log)
    seeds = np.random.SeedSequence(seed).spawn(3)
    rng_activity = np.random.default_rng(seeds[0])
    rng_factor = np.random.default_rng(seeds[1])
    redraw = [np.random.default_rng(seeds[2])]
    factors = _transform(
        rng_factor.standard_normal((iterations, fac_half.size)), f_loc, f_scale, fac_log, redraw
    )
    units_n = layout.unit_half.size
    bytes_per_iteration = 8 * (units_n + (0 if identity else layout.rec_index.size))
    chunk = max(1, min(iterations, max_chunk_bytes // max(1, bytes_per_iteration)))
    draws = np.empty((iterations, len(layout.output_patterns)))
    for begin in range(0, iterations, chunk):  # over chunks of iterations
        end = min(iterations, begin + chunk)
        z = rng_activity.standard_normal((end - begin, units_n))
        units = _transform(z, a_loc, a_scale, layout.unit_log, redraw)
        rows = units if identity else units[:, layout.rec_index]
        rows *= c_sorted
        _reduce(rows, factors[begin:end][:, layout.cell_factor], layout, draws[begin:end])
    return draws


def propagate(
    frame: pd.DataFrame,
    iterations: int = 10_000,
    seed: int = 0,
    *,
    level: float = 0.95,
    total_basis: str = "location",
    max_chunk_bytes: int = 128 * 2**20,
) -> UncertaintyResult:
    """Monte Carlo interval of each scope and the total from a frame of :data:`FRAME_COLUMNS`.

    ``record_id``, ``scope`` (1, 2, 3), ``quantity`` and ``factor`` are required; ``basis``
    (``both``/``location``/``market``, default ``both``) places scope 2 rows, ``factor_id``
    keys the shared factor draw (rows without one get independent factors), uncertainties
    default to 0 and distributions to ``normal``.
    """
    if iterations < 2:
        raise ValueError("at least 2 iterations")
    f, diagnostics = _normalise(frame)
    member_all = _membership(f, total_basis)
    present = [j for j, name in enumerate(OUTPUTS) if name == "total" or member_all[:, j].any()]
    outputs = tuple(OUTPUTS[j] for j in present)
    member = member_all[:, present]
    c_all = (f["quantity"] * f["factor"]).to_numpy(dtype=float)

    _, rec_codes, rec_half, rec_log = _per_unit(
        f, "record_id", "activity_uncertainty", "activity_distribution", diagnostics
    )
    _, fac_codes, fac_half, fac_log = _per_unit(
        f, "factor_id", "factor_uncertainty", "factor_distribution", diagnostics
    )
    approach1, correlated = _analytical(f, member, rec_codes, fac_codes)

    layout = _cells(member, fac_codes, rec_codes, rec_half, rec_log)
    c_sorted = c_all[layout.order]
    ones = np.ones((1, layout.starts.size))  # summed like a draw with all multipliers 1
    deterministic = _reduce(c_sorted[np.newaxis], ones, layout, np.empty((1, len(outputs))))[0]
    draws = _simulate(layout, c_sorted, fac_half, fac_log, iterations, seed, max_chunk_bytes)

    tail = (1.0 - level) / 2.0
    lower, median, upper = np.quantile(draws, [tail, 0.5, 1.0 - tail], axis=0)
    mean = draws.mean(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(deterministic != 0, (upper - lower) / 2.0 / np.abs(deterministic), np.nan)
    summary = pd.DataFrame(
        {
            "output": list(outputs),
            "deterministic": deterministic,
            "mean": mean,
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
    return UncertaintyResult(summary, draws, outputs, iterations, seed, tuple(diagnostics))


def uncertainty_from_inventory(
    result: InventoryResult,
    year: int,
    records: pd.DataFrame | None = None,
    direct: pd.DataFrame | None = None,
    iterations: int = 10_000,
    seed: int = 0,
) -> UncertaintyResult:
    """The Monte Carlo interval of a year of an inventory, with default uncertainties;
    ``records`` and ``direct``: the activity and direct frames of the year the inventory
    read (:func:`esgledger.usecases.strategy.uncertainty_from_ledger` reads the ledger's)."""
    if year not in result.years():
        raise ValueError(
            f"no inventory for {year}: expected one of {', '.join(map(str, result.years()))}"
        )
    frame, found = uncertainty_frame(result, records, direct, year=year)
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
