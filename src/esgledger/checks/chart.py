"""Control-chart rules on monthly series: Western Electric (1956) rules, Nelson (1984) numbering.

Rules 1, 2, 3 and 5 of L. S. Nelson, "The Shewhart control chart: tests for special causes",
*Journal of Quality Technology* 16(4), 1984, which restate the zone tests of the Western Electric
*Statistical Quality Control Handbook* (1956). Their arithmetic, the baseline and the handling of
gaps are documented in :mod:`esgledger.checks.kri`. Everything is vectorised over all series of a
metric at once: grouped statistics in pandas, run lengths in numpy; Python runs per signal only.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

#: A signal: row of the point that raised it, rows of the points involved, reason, signal name.
Signal = tuple[int, list[int], str, str]


def fmt(x: float) -> str:
    """A value as a reason shows it: 4 significant digits, never scientific notation."""
    if x == 0 or not math.isfinite(x):
        return f"{x:g}"
    digits = max(0, 3 - math.floor(math.log10(abs(x))))
    return f"{x:,.{digits}f}".rstrip("0").rstrip(".") if digits else f"{x:,.0f}"


def month_text(month: int) -> str:
    """``YYYY-MM`` of a month ordinal (year * 12 + month - 1)."""
    return f"{month // 12:04d}-{month % 12 + 1:02d}"


def standardise(
    frame: pd.DataFrame, baseline: int, min_points: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per row: mean and sd of its baseline, number of baseline points, and whether it is tested.

    ``frame`` is sorted by entity and month (one metric). ``baseline > 0``: the first
    ``baseline`` points of each series (tested: the later points); ``baseline == 0``: all previous
    points (tested: rows with at least ``min_points`` previous points).
    """
    entity = frame["entity_id"]
    values = frame["value"]
    position = values.groupby(entity, sort=False).cumcount().to_numpy()
    if baseline > 0:
        grouped = values.where(position < baseline).groupby(entity, sort=False)
        mean = grouped.transform("mean")
        sd = grouped.transform("std")
        count = grouped.transform("count").to_numpy()
        tested = position >= baseline
    else:
        expanding = values.groupby(entity, sort=False).expanding()
        mean = expanding.mean().reset_index(level=0, drop=True).reindex(frame.index)
        sd = expanding.std().reset_index(level=0, drop=True).reindex(frame.index)
        mean, sd = mean.groupby(entity).shift(1), sd.groupby(entity).shift(1)
        count = position
        tested = position >= min_points
    sd = sd.where(sd > 1e-9 * mean.abs().clip(lower=1.0))  # a constant baseline: no spread
    return mean.to_numpy(), sd.to_numpy(), count, tested


def run_lengths(key: np.ndarray, start: np.ndarray) -> np.ndarray:
    """Length so far of the run of equal non-zero ``key`` values ending at each position.

    A run restarts where ``start`` is true (a new series) or ``key`` changes; 0 where key is 0.
    """
    index = np.arange(len(key))
    breaks = start.copy()
    breaks[1:] |= key[1:] != key[:-1]
    first = np.maximum.accumulate(np.where(breaks, index, 0))
    return np.where(key != 0, index - first + 1, 0)


def _shift(values: np.ndarray, k: int) -> np.ndarray:
    """``values`` moved ``k`` places later, zeros in front."""
    return np.concatenate([np.zeros(k, dtype=values.dtype), values])[: len(values)]


def control_chart_signals(frame: pd.DataFrame, params: Mapping[str, float]) -> list[Signal]:
    """Nelson rules 1, 2, 3 and 5 on every series of ``frame`` (one metric, sorted)."""
    baseline, direction = int(params["baseline"]), int(params["direction"])
    run, trend = int(params["run"]), int(params["trend"])
    mean, sd, count, tested = standardise(frame, baseline, int(params["min_points"]))
    rows = np.flatnonzero(tested)
    if rows.size == 0:
        return []
    x, m, s, n = frame["value"].to_numpy()[rows], mean[rows], sd[rows], count[rows]
    months = frame["month"].to_numpy()[rows]
    codes = pd.factorize(frame["entity_id"])[0][rows]
    start = np.r_[True, codes[1:] != codes[:-1]]
    first = np.maximum.accumulate(np.where(start, np.arange(rows.size), 0))
    with np.errstate(invalid="ignore", divide="ignore"):
        z = (x - m) / s
    side = np.sign(x - m)

    def keep(sign: np.ndarray) -> np.ndarray:
        return sign != 0 if direction == 0 else sign * direction > 0

    def base(i: int) -> str:
        if baseline > 0:
            return f"the baseline mean {fmt(m[i])} (sd {fmt(s[i])}, first {n[i]} points)"
        return f"the mean {fmt(m[i])} of the {n[i]} previous points (sd {fmt(s[i])})"

    def span(i: int, length: int) -> list[int]:
        return [int(r) for r in rows[i - length + 1 : i + 1]]

    def when(i: int) -> str:
        return month_text(int(months[i]))

    out: list[Signal] = []
    for i in np.flatnonzero((np.abs(z) > 3) & keep(side)).tolist():
        reason = f"{fmt(x[i])} is {z[i]:+.2f} sigma from {base(i)} (Nelson rule 1: beyond 3 sigma)"
        out.append((int(rows[i]), [int(rows[i])], reason, "nelson1"))
    if run:
        for i in np.flatnonzero((run_lengths(side, start) == run) & keep(side)).tolist():
            word = "above" if side[i] > 0 else "below"
            reason = (
                f"{run} points in a row {word} {base(i)}, {when(i - run + 1)} to {when(i)} "
                "(Nelson rule 2)"
            )
            out.append((int(rows[i]), span(i, run), reason, "nelson2"))
    if trend:
        step = np.sign(np.r_[0.0, np.diff(x)])
        step[start] = 0
        for i in np.flatnonzero((run_lengths(step, start) == trend - 1) & keep(step)).tolist():
            j = i - trend + 1
            word = "increasing" if step[i] > 0 else "decreasing"
            reason = (
                f"{trend} points in a row steadily {word}, {fmt(x[j])} ({when(j)}) to "
                f"{fmt(x[i])} ({when(i)}) (Nelson rule 3)"
            )
            out.append((int(rows[i]), span(i, trend), reason, "nelson3"))
    depth = np.arange(rows.size) - first  # position among the tested points of its series
    for sign, word in ((1, "above"), (-1, "below")):
        if not keep(np.array(sign)):
            continue
        beyond = (z * sign > 2).astype("int64")
        last3 = beyond + _shift(beyond, 1) * (depth >= 1) + _shift(beyond, 2) * (depth >= 2)
        for i in np.flatnonzero((beyond == 1) & (last3 == 2)).tolist():
            length = min(3, int(depth[i]) + 1)
            involved = range(i - length + 1, i + 1)
            listed = ", ".join(f"{fmt(x[k])} ({when(k)})" for k in involved if beyond[k])
            limit = m[i] + sign * 2 * s[i]
            reason = (
                f"2 of {length} points beyond 2 sigma {word} {base(i)}: {listed} beyond "
                f"{fmt(limit)} (Nelson rule 5)"
            )
            out.append((int(rows[i]), span(i, length), reason, "nelson5"))
    return out
