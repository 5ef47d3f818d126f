"""Key risk indicators (KRIs): monthly series per entity and the rules that raise early warnings.

A series is the monthly values of one metric for one entity (``entity_id, metric_id, period,
value``). Rules are data (``checks/data/kri_rules.csv``): one row applies one rule to one metric.
A month without a value is a **gap**: it is neither zero nor interpolated.

Rule kinds and their arithmetic (``x_t`` the value of month ``t``):

``threshold`` (``upper``, ``lower``; at least one)
    a warning for every month with ``x_t > upper`` or ``x_t < lower``.

``jump`` (``window`` = 6, ``min_points`` = 3, ``factor``, ``sigmas``, ``direction`` = 0)
    ``m`` and ``s`` are the mean and sample standard deviation (ddof 1) of the values present in
    the ``window`` calendar months before ``t`` (months ``t - window .. t - 1``; gaps are simply
    absent, so a jump compares only with the available previous points), and only when at least
    ``min_points`` are present. Upwards, ``x_t > factor * m`` (with ``m >= 0``: a rise from a
    trailing mean of 0 counts) or ``(x_t - m) / s > sigmas``; downwards, ``x_t < m / factor``
    (``m > 0``) or ``(x_t - m) / s < -sigmas``. ``direction`` 1 checks rises only, -1 falls only,
    0 both. The sigma test needs ``s > 0`` (a constant history has no spread to measure).

``control_chart`` (``baseline`` = 12, ``min_points`` = 12, ``run`` = 9, ``trend`` = 6,
``direction`` = 0)
    The Western Electric rules (Western Electric Co., *Statistical Quality Control Handbook*,
    1956) as numbered by L. S. Nelson, "The Shewhart control chart: tests for special causes",
    *Journal of Quality Technology* 16(4), 1984, pp. 237-239. Each point is standardised,
    ``z_t = (x_t - m) / s``, by the mean and sample standard deviation of a baseline: the first
    ``baseline`` points of the series (fixed limits; those points are the reference and are not
    themselves tested), or with ``baseline=0`` all previous points of the series (expanding
    limits; tested once ``min_points`` previous points exist). Points are the observations in
    order: a gap month is skipped, it does not break a run. On the tested points:

    - rule 1: ``|z_t| > 3``, raised at every such point;
    - rule 2: ``run`` (9) points in a row on the same side of the mean (``x_t - m`` of one sign;
      a point on the mean breaks the run), raised once per run at its ``run``-th point;
    - rule 3: ``trend`` (6) points in a row steadily increasing or decreasing (``trend - 1``
      consecutive differences of one sign; a tie breaks it), raised once per run;
    - rule 5: 2 of 3 consecutive points beyond 2 sigma on the same side (``z > 2`` or
      ``z < -2``), raised at a point beyond 2 sigma that makes exactly two of the last three
      beyond on its side (a longer stretch beyond 2 sigma raises once).

    ``run=0`` or ``trend=0`` switches rule 2 or 3 off; ``direction`` keeps the signals above the
    mean or rising (1), below or falling (-1), or both (0). With ``s = 0`` rules 1 and 5 are not
    applied (``z`` is undefined); rules 2 and 3 still are. Every rule has a false-alarm rate on
    pure noise; rules 2 and 3 exactly (1/512 and 1/420 per tested point), rules 1 and 5 more the
    shorter the baseline, as ``s`` is then a rough estimate of sigma: on white noise the four
    rules together raise about 3 % of tested months with a 12-point baseline, 1 % with 200.

``evaluate`` is vectorised per rule over all series of its metric: pandas rolling windows on a
month x entity frame for jumps, grouped cumulative statistics and numpy run lengths for the
control chart. Python loops run over rules and raised warnings only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from esgledger.checks.chart import control_chart_signals, fmt, month_text
from esgledger.checks.rules import KINDS, PARAMS, Rule, load_rules, parse_rules
from esgledger.domain.diagnostics import Severity

__all__ = [
    "KINDS",
    "PARAMS",
    "KriWarning",
    "Rule",
    "Warning",
    "evaluate",
    "load_rules",
    "parse_rules",
    "prepare",
]

SERIES_COLUMNS = ("entity_id", "metric_id", "period", "value")


@dataclass(frozen=True, slots=True)
class KriWarning:
    """An early warning: which rule, on which series, at which month, why, from which points."""

    rule_id: str
    kind: str
    entity_id: str
    metric_id: str
    period: str  # YYYY-MM of the point that raised it
    value: float
    reason: str
    points: tuple[tuple[str, float], ...]
    severity: Severity
    signal: str  # upper, lower, jump, nelson1, nelson2, nelson3, nelson5

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule_id": self.rule_id,
            "kind": self.kind,
            "entity_id": self.entity_id,
            "metric_id": self.metric_id,
            "period": self.period,
            "value": self.value,
            "reason": self.reason,
            "points": [list(p) for p in self.points],
            "severity": self.severity.value,
            "signal": self.signal,
        }


Warning = KriWarning  # the name of the API; KriWarning avoids shadowing the builtin


def _months(period: pd.Series) -> pd.Series:
    """Month ordinals (year * 12 + month - 1) of YYYY-MM strings, Periods or timestamps."""
    if isinstance(period.dtype, pd.PeriodDtype):
        stamps = period.dt.to_timestamp()
    elif pd.api.types.is_datetime64_any_dtype(period.dtype):
        stamps = period
    else:
        text = period.astype(str).str.strip()
        stamps = pd.to_datetime(text, format="%Y-%m", errors="coerce")
        rest = stamps.isna()
        if rest.any():
            stamps[rest] = pd.to_datetime(text[rest], format="ISO8601", errors="coerce")
    bad = stamps.isna()
    if bad.any():
        raise ValueError(f"period is not a month (YYYY-MM): {period[bad].unique()[:5].tolist()}")
    months: pd.Series = (stamps.dt.year * 12 + stamps.dt.month - 1).astype("int64")
    return months


def prepare(series: pd.DataFrame) -> pd.DataFrame:
    """entity_id, metric_id, month (ordinal), value; gaps (missing values) dropped; sorted."""
    missing = [c for c in SERIES_COLUMNS if c not in series.columns]
    if missing:
        raise ValueError(f"series lacks column(s) {', '.join(missing)}")
    values = pd.to_numeric(series["value"], errors="coerce").astype("float64")
    bad = values.isna() & series["value"].notna() & series["value"].astype(str).str.strip().ne("")
    if bad.any():
        raise ValueError(f"value is not a number: {series['value'][bad].unique()[:5].tolist()}")
    frame = pd.DataFrame(
        {
            "entity_id": series["entity_id"].astype(str).to_numpy(),
            "metric_id": series["metric_id"].astype(str).to_numpy(),
            "month": _months(series["period"]).to_numpy(),
            "value": values.to_numpy(),
        }
    )
    frame = frame[np.isfinite(frame["value"])]
    duplicated = frame.duplicated(["entity_id", "metric_id", "month"])
    if duplicated.any():
        first = frame[duplicated].iloc[0]
        raise ValueError(
            f"more than one value for {first['entity_id']} {first['metric_id']} "
            f"{month_text(int(first['month']))}"
        )
    ordered: pd.DataFrame = frame.sort_values(
        ["metric_id", "entity_id", "month"], ignore_index=True
    )
    return ordered


def _points(frame: pd.DataFrame, rows: Sequence[int]) -> tuple[tuple[str, float], ...]:
    months, values = frame["month"].to_numpy(), frame["value"].to_numpy()
    return tuple((month_text(int(months[i])), float(values[i])) for i in rows)


def _make(
    rule: Rule, frame: pd.DataFrame, row: int, reason: str, rows: Sequence[int], signal: str
) -> KriWarning:
    return KriWarning(
        rule_id=rule.rule_id,
        kind=rule.kind,
        entity_id=str(frame["entity_id"].iat[row]),
        metric_id=rule.metric_id,
        period=month_text(int(frame["month"].to_numpy()[row])),
        value=float(frame["value"].to_numpy()[row]),
        reason=reason,
        points=_points(frame, rows),
        severity=rule.severity,
        signal=signal,
    )


def _threshold(rule: Rule, frame: pd.DataFrame) -> list[KriWarning]:
    out = []
    value = frame["value"].to_numpy()
    for signal, word in (("upper", "above"), ("lower", "below")):
        limit = rule.params.get(signal)
        if limit is None:
            continue
        hits = np.flatnonzero(value > limit if signal == "upper" else value < limit).tolist()
        out += [
            _make(
                rule,
                frame,
                i,
                f"{rule.metric_id} {fmt(value[i])} is {word} the {signal} limit {fmt(limit)}",
                [i],
                signal,
            )
            for i in hits
        ]
    return out


def _jump(rule: Rule, frame: pd.DataFrame) -> list[KriWarning]:
    p = rule.params
    window, min_points, direction = int(p["window"]), int(p["min_points"]), int(p["direction"])
    months = frame["month"].to_numpy()
    codes, entities = pd.factorize(frame["entity_id"], sort=True)  # column c is entity code c
    wide = frame.pivot(index="month", columns="entity_id", values="value")
    wide = wide.reindex(index=range(int(months.min()), int(months.max()) + 1), columns=entities)
    rolling = wide.rolling(window, min_periods=min_points)
    mean, sd = rolling.mean().shift(1), rolling.std().shift(1)
    count = wide.notna().astype("float64").rolling(window, min_periods=1).sum().shift(1).to_numpy()
    sd = sd.where(sd > 1e-9 * mean.abs().clip(lower=1.0))  # a constant history: no spread
    x, m, s = wide.to_numpy(), mean.to_numpy(), sd.to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio, z = x / m, (x - m) / s
    ups, downs = direction >= 0, direction <= 0
    no = np.zeros_like(x, dtype=bool)
    factor, sigmas = p.get("factor"), p.get("sigmas")
    by_factor = (
        no
        if factor is None
        else ((ups & (m >= 0) & (x > factor * m)) | (downs & (m > 0) & (x < m / factor)))
    )
    by_sigma = no if sigmas is None else ((ups & (z > sigmas)) | (downs & (z < -sigmas)))
    rows, cols = np.nonzero((by_factor | by_sigma) & ~np.isnan(x))
    # a series' rows by binary search on (entity code, month): frame is sorted by both
    stride = int(months.max()) + window + 1
    keys = codes.astype("int64") * stride + months
    out = []
    for r, c in zip(rows.tolist(), cols.tolist(), strict=True):
        month = int(wide.index[r])
        n = int(count[r, c])
        span = f"the trailing {window}-month mean {fmt(m[r, c])} ({n} points"
        parts = []
        if by_factor[r, c]:
            how = f"{ratio[r, c]:.2f}x" if m[r, c] > 0 else "a rise from"
            parts.append(f"is {how} {span}; limit {fmt(factor or 0)}x)")
        if by_sigma[r, c]:
            parts.append(
                f"is {z[r, c]:+.2f} sigma from {span}, sd {fmt(s[r, c])}; limit "
                f"{fmt(sigmas or 0)} sigma)"
            )
        key = c * stride + month
        row = int(np.searchsorted(keys, key))
        previous = range(int(np.searchsorted(keys, key - window)), row)
        reason = f"{rule.metric_id} {fmt(x[r, c])} " + " and ".join(parts)
        out.append(_make(rule, frame, row, reason, [*previous, row], "jump"))
    return out


def _control_chart(rule: Rule, frame: pd.DataFrame) -> list[KriWarning]:
    return [
        _make(rule, frame, row, f"{rule.metric_id}: {reason}", rows, signal)
        for row, rows, reason, signal in control_chart_signals(frame, rule.params)
    ]


_EVALUATORS: Mapping[str, Callable[[Rule, pd.DataFrame], list[KriWarning]]] = {
    "threshold": _threshold,
    "jump": _jump,
    "control_chart": _control_chart,
}


def evaluate(series: pd.DataFrame, rules: Sequence[Rule]) -> list[KriWarning]:
    """Every warning the rules raise on the series, by entity, metric, period and rule.

    ``series`` is long: entity_id, metric_id, period (YYYY-MM, a monthly Period or a timestamp
    within the month), value. A missing value is a gap. Raises ValueError on a missing column, a
    period that is not a month, a non-numeric value or two values for one series and month.
    """
    frame = prepare(series)
    by_metric = {str(k): g.reset_index(drop=True) for k, g in frame.groupby("metric_id")}
    out: list[KriWarning] = []
    for rule in rules:
        part = by_metric.get(rule.metric_id)
        if part is not None and not part.empty:
            out += _EVALUATORS[rule.kind](rule, part)
    out.sort(key=lambda w: (w.entity_id, w.metric_id, w.period, w.rule_id, w.signal))
    return out
