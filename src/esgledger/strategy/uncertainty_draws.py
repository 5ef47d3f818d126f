"""The Monte Carlo draws of :func:`esgledger.strategy.uncertainty.propagate`.

Rows (one per record and inventory line) are grouped into **cells**, one per emission factor
and output pattern (the outputs a row counts in), and the activity units (error sources) into
**entries**, their contribution to each cell. An iteration is

    cell value = sum over entries of contribution x activity multiplier of the entry's unit
    output     = sum over the output's cells of cell value x factor multiplier of the cell

Units whose activity multiplier is an untruncated normal (every default: a normal is truncated
at zero only above +/-24.5 %) are **pooled**: the sum of independent normals is normal, so the
units touching the same set of cells add up to ``mean + L z`` with ``z`` a standard normal
vector of that set's size and ``L L' = sum of sd^2 c c'`` over its units (``c``: a unit's
contributions to the cells). That is the distribution of drawing each unit, exactly, not an
approximation; it costs a few draws per set of cells instead of one per record. Lognormal
and truncated (wide normal) units, and units spread over more than :data:`K_MAX` cells, are
drawn one by one. ``pooled=False`` draws every unit one by one (the reference).

Reproducibility: separate streams for factors, units, pooled sets and each kind's truncation
re-draw rounds, each consumed in iteration order; every sum runs in an order fixed by the
layout (``np.add.reduceat`` along the row of one iteration, element-wise products in a fixed
order; no matrix product, whose BLAS summation order follows the matrix shape), so the draws
are bit-identical whatever the chunk size.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

TRUNCATE_SD = 0.125  # below this relative sd a negative draw needs z < -8 (p < 1e-15)
K_MAX = 8  # a unit spread over more cells is drawn one by one


def loc_scale(half: np.ndarray, lognormal: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-unit location and scale of the standard normal draw (multipliers of mean 1)."""
    sd = half / 1.959963984540054
    sigma_ln = np.sqrt(np.log1p(sd**2))
    scale = np.where(lognormal, sigma_ln, sd)
    loc = np.where(lognormal, -0.5 * sigma_ln**2, 1.0)
    return loc, scale


def transform(
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


def _starts(sorted_values: np.ndarray) -> np.ndarray:
    """First index of each run of equal values (none for no values)."""
    if not sorted_values.size:
        return np.empty(0, dtype=np.intp)
    return np.flatnonzero(np.r_[True, sorted_values[1:] != sorted_values[:-1]])


@dataclass(frozen=True)
class Plan:
    """Cells, the units drawn one by one and the pooled sets, as index arrays."""

    base: np.ndarray  # per cell: the pooled contributions at multiplier 1
    cell_factor: np.ndarray  # factor unit of each cell (cells ordered by pattern)
    pattern_starts: np.ndarray  # first cell of each output pattern
    output_patterns: tuple[np.ndarray, ...]  # per output: the patterns it sums, in order
    unit_loc: np.ndarray  # units drawn one by one: location, scale, lognormal flag
    unit_scale: np.ndarray
    unit_log: np.ndarray
    entry_unit: np.ndarray  # their entries, sorted by cell: unit (one-by-one numbering)
    entry_c: np.ndarray  # and contribution
    entry_starts: np.ndarray  # first entry of each cell with one
    entry_cells: np.ndarray  # that cell
    group_l: np.ndarray  # pooled sets: (sets, K, K) with L L' = covariance of their cells
    slot_order: np.ndarray  # real (set, slot) pairs of the flattened sets, sorted by cell
    slot_starts: np.ndarray
    slot_cells: np.ndarray

    @property
    def cells(self) -> int:
        return int(self.base.size)


def _cells(
    fac: np.ndarray, pattern: np.ndarray, n_fac: int, outputs: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[np.ndarray, ...]]:
    """Row -> cell (cells sorted by pattern, then factor), the cells' factor, pattern starts
    and each output's patterns."""
    keys, row_cell = np.unique(pattern * n_fac + fac, return_inverse=True)
    cell_pattern = keys // n_fac
    pattern_starts = _starts(cell_pattern)
    patterns = cell_pattern[pattern_starts]
    bits = 1 << np.arange(outputs, dtype=np.int64)
    output_patterns = tuple(np.flatnonzero(patterns & b) for b in bits)
    return row_cell.reshape(-1), keys % n_fac, pattern_starts, output_patterns


def _unique_rows(rows: np.ndarray, base: int) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows (sorted) of an integer array with values in [-1, base - 1), and each
    row's index among them: through one int64 per row where they fit, else row-wise."""
    k = rows.shape[1]
    if k * math.log2(base) < 62:
        packed = np.zeros(rows.shape[0], dtype=np.int64)
        for j in range(k):  # over the (at most K_MAX) columns
            packed = packed * base + (rows[:, j] + 1)
        _, first, group = np.unique(packed, return_index=True, return_inverse=True)
        return rows[first], group.reshape(-1)
    sets, group = np.unique(rows, axis=0, return_inverse=True)
    return sets, group.reshape(-1)


def _pooled_sets(
    e_unit: np.ndarray,
    e_cell: np.ndarray,
    e_c: np.ndarray,
    pooled: np.ndarray,
    sd: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Pooled units (with a non-zero sd) grouped by the set of cells they touch: per set the
    factor L (sets x K x K), and the flattened slots sorted by cell (order, starts, cells)."""
    empty = np.empty(0, dtype=np.intp)
    take = pooled[e_unit] & (sd[e_unit] > 0)
    if not take.any():
        return np.empty((0, 0, 0)), empty, empty, empty
    first = np.searchsorted(e_unit, e_unit)  # entries are sorted by unit, then cell
    pos = np.arange(e_unit.size) - first
    k = int(pos[take].max()) + 1
    units, local = np.unique(e_unit[take], return_inverse=True)
    local = local.reshape(-1)
    signature = np.full((units.size, k), -1, dtype=np.int64)
    signature[local, pos[take]] = e_cell[take]
    contribution = np.zeros((units.size, k))
    contribution[local, pos[take]] = e_c[take]
    sets, group = _unique_rows(signature, e_cell.max(initial=0) + 2)
    variance = sd[units] ** 2
    outer = variance[:, None, None] * contribution[:, :, None] * contribution[:, None, :]
    order = np.argsort(group, kind="stable")
    covariance = np.add.reduceat(outer[order], _starts(group[order]), axis=0)
    w, v = np.linalg.eigh(covariance)
    factor_l = v * np.sqrt(np.clip(w, 0.0, None))[:, None, :]
    slot_cell = sets.reshape(-1)
    real = np.flatnonzero(slot_cell >= 0)
    slot_order = real[np.argsort(slot_cell[real], kind="stable")]
    starts = _starts(slot_cell[slot_order])
    return factor_l, slot_order, starts, slot_cell[slot_order][starts]


def plan(
    c: np.ndarray,
    fac: np.ndarray,
    n_fac: int,
    unit: np.ndarray,
    unit_half: np.ndarray,
    unit_log: np.ndarray,
    pattern: np.ndarray,
    outputs: int,
    pooled: bool = True,
) -> Plan:
    """The layout of rows with contribution ``c``, factor unit ``fac``, activity unit
    ``unit`` and output bit pattern ``pattern`` (all per row)."""
    row_cell, cell_factor, pattern_starts, output_patterns = _cells(fac, pattern, n_fac, outputs)
    n_cells = cell_factor.size
    keys, row_entry = np.unique(unit.astype(np.int64) * n_cells + row_cell, return_inverse=True)
    e_c = np.bincount(row_entry.reshape(-1), weights=c, minlength=keys.size).astype(float)
    e_unit, e_cell = keys // n_cells, keys % n_cells
    per_unit = np.bincount(e_unit, minlength=unit_half.size)
    loc, scale = loc_scale(unit_half, unit_log)
    pool = pooled & ~unit_log & (scale <= TRUNCATE_SD) & (per_unit <= K_MAX)
    at_one = pool[e_unit]
    base = np.bincount(e_cell[at_one], weights=e_c[at_one], minlength=n_cells).astype(float)
    drawn = np.flatnonzero(~at_one)
    by_cell = drawn[np.argsort(e_cell[drawn], kind="stable")]
    entry_starts = _starts(e_cell[by_cell])
    # units drawn one by one, numbered in the order of their first entry: where each has one
    # entry, the entries are the units in order and need no gather
    seen, first = np.unique(e_unit[by_cell], return_index=True)
    one_by_one = seen[np.argsort(first, kind="stable")]
    number = np.full(unit_half.size, -1, dtype=np.intp)
    number[one_by_one] = np.arange(one_by_one.size)
    factor_l, slot_order, slot_starts, slot_cells = _pooled_sets(
        e_unit, e_cell, e_c, pool, np.where(pool, scale, 0.0)
    )
    return Plan(
        base=base,
        cell_factor=cell_factor,
        pattern_starts=pattern_starts,
        output_patterns=output_patterns,
        unit_loc=loc[one_by_one],
        unit_scale=scale[one_by_one],
        unit_log=unit_log[one_by_one],
        entry_unit=number[e_unit[by_cell]],
        entry_c=e_c[by_cell],
        entry_starts=entry_starts,
        entry_cells=e_cell[by_cell][entry_starts],
        group_l=factor_l,
        slot_order=slot_order,
        slot_starts=slot_starts,
        slot_cells=slot_cells,
    )


def bytes_per_iteration(layout: Plan, factors: int) -> int:
    """Memory of one iteration of a chunk (the arrays :func:`simulate` holds at once)."""
    sets = layout.group_l.shape[0] * layout.group_l.shape[1] if layout.group_l.size else 0
    return 8 * (
        2 * factors + layout.unit_loc.size + layout.entry_c.size + 3 * sets + 2 * layout.cells
    )


def outputs(cells: np.ndarray, layout: Plan, out: np.ndarray) -> np.ndarray:
    """Iterations x cell values (factor multipliers applied) -> ``out`` (iterations x
    outputs), each iteration summed in an order fixed by the layout alone."""
    patterns = np.add.reduceat(cells, layout.pattern_starts, axis=1)
    for j, sums in enumerate(layout.output_patterns):
        out[:, j] = patterns[:, sums[0]] if sums.size else 0.0
        for p in sums[1:]:
            out[:, j] += patterns[:, p]
    return out


def deterministic(layout: Plan) -> np.ndarray:
    """The cell values with every multiplier 1, summed as a draw is (one iteration)."""
    cells = layout.base[np.newaxis].copy()
    if layout.entry_c.size:
        cells[:, layout.entry_cells] += np.add.reduceat(
            layout.entry_c[np.newaxis], layout.entry_starts, axis=1
        )
    return cells


@dataclass
class Streams:
    """The random streams of a run, each consumed in iteration order."""

    factor: np.random.Generator
    unit: np.random.Generator
    pooled: np.random.Generator
    factor_redraw: list[np.random.Generator]
    unit_redraw: list[np.random.Generator]

    @classmethod
    def of(cls, seed: int) -> Streams:
        s = np.random.SeedSequence(seed).spawn(5)
        g = [np.random.default_rng(x) for x in s]
        return cls(factor=g[1], unit=g[0], pooled=g[3], factor_redraw=[g[2]], unit_redraw=[g[4]])


def cell_values(layout: Plan, m: int, streams: Streams) -> np.ndarray:
    """One chunk of ``m`` iterations: the cells' values before the factor multipliers."""
    cells = np.empty((m, layout.cells))
    cells[:] = layout.base
    if layout.group_l.size:
        sets, k, _ = layout.group_l.shape
        z = streams.pooled.standard_normal((m, sets, k))
        noise = z[:, :, 0, None] * layout.group_l[np.newaxis, :, :, 0]
        for j in range(1, k):  # over the slots of a set (at most K_MAX)
            noise += z[:, :, j, None] * layout.group_l[np.newaxis, :, :, j]
        flat = noise.reshape(m, sets * k)[:, layout.slot_order]
        cells[:, layout.slot_cells] += np.add.reduceat(flat, layout.slot_starts, axis=1)
    if layout.entry_c.size:
        z = streams.unit.standard_normal((m, layout.unit_loc.size))
        units = transform(
            z, layout.unit_loc, layout.unit_scale, layout.unit_log, streams.unit_redraw
        )
        gather = layout.entry_unit.size != layout.unit_loc.size  # else entries are the units
        rows = units[:, layout.entry_unit] if gather else units
        rows *= layout.entry_c
        cells[:, layout.entry_cells] += np.add.reduceat(rows, layout.entry_starts, axis=1)
    return cells


def simulate(
    layout: Plan,
    fac_half: np.ndarray,
    fac_log: np.ndarray,
    iterations: int,
    seed: int,
    chunk: int,
) -> np.ndarray:
    """The draws (iterations x outputs), ``chunk`` iterations at a time."""
    f_loc, f_scale = loc_scale(fac_half, fac_log)
    streams = Streams.of(seed)
    draws = np.empty((iterations, len(layout.output_patterns)))
    for begin in range(0, iterations, chunk):  # over chunks of iterations
        m = min(iterations, begin + chunk) - begin
        z = streams.factor.standard_normal((m, fac_half.size))
        factors = transform(z, f_loc, f_scale, fac_log, streams.factor_redraw)
        cells = cell_values(layout, m, streams)
        cells *= factors[:, layout.cell_factor]
        outputs(cells, layout, draws[begin : begin + m])
    return draws
