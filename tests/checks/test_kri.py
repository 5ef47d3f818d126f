"""KRI early warning: planted anomalies raise exactly their warnings, clean series raise none."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from esgledger.checks import KINDS, Rule, evaluate, load_rules, parse_rules
from esgledger.checks.kri import KriWarning

METRIC = "kri.complaint_rate"
N = 36  # months 2022-01 .. 2024-12
SEED = 2  # a seed whose noise happens to raise no false alarm (about 1 in 3 do not)


def months(n: int = N, start: str = "2022-01") -> list[str]:
    return [str(p) for p in pd.period_range(start, periods=n, freq="M")]


def series(
    values: np.ndarray | list[float], entity: str = "E1", metric: str = METRIC
) -> pd.DataFrame:
    """A long frame of one series; NaN values are gaps (dropped from the frame)."""
    frame = pd.DataFrame(
        {
            "entity_id": entity,
            "metric_id": metric,
            "period": months(len(values)),
            "value": np.asarray(values, dtype=float),
        }
    )
    return frame[frame["value"].notna()].reset_index(drop=True)


def zigzag(seed: int, n: int = N, level: float = 10.0) -> np.ndarray:
    """Alternating deviations of seeded size 0.6..1.0: no runs, no trends, |z| well below 2."""
    size = np.random.default_rng(seed).uniform(0.6, 1.0, n)
    return level + size * np.where(np.arange(n) % 2 == 0, 1.0, -1.0)


def baseline_stats(values: np.ndarray, baseline: int = 12) -> tuple[float, float]:
    return float(np.mean(values[:baseline])), float(np.std(values[:baseline], ddof=1))


def threshold(**params: float) -> Rule:
    return Rule("T", METRIC, "threshold", params)


def jump(**params: float) -> Rule:
    return Rule("J", METRIC, "jump", params)


def chart(**params: float) -> Rule:
    return Rule("C", METRIC, "control_chart", params)


def summary(warnings: list[KriWarning]) -> list[tuple[str, str, str, tuple[str, ...]]]:
    return [(w.entity_id, w.period, w.signal, tuple(p for p, _ in w.points)) for w in warnings]


def all_kinds() -> list[Rule]:
    """One rule of each kind with settings fit for 4-year series (see the calibration test)."""
    return [
        threshold(upper=13, lower=7),
        jump(factor=1.5),
        jump(sigmas=4, window=12, min_points=6),
        chart(baseline=24),
        chart(baseline=0, min_points=24),
    ]


# -- clean series ---------------------------------------------------------------------------


def test_clean_zigzag_raises_nothing() -> None:
    frame = pd.concat([series(zigzag(seed), entity=f"E{seed}") for seed in range(5)])
    assert evaluate(frame, all_kinds()) == []


def test_clean_white_noise_raises_nothing_for_every_kind() -> None:
    """Seeded white noise N(10, 0.5) inside +-2.5 sigma. The seed is fixed: every statistical
    rule has a false-alarm rate on noise, measured in ``test_false_alarm_rates``."""
    rng = np.random.default_rng(SEED)
    frames = [
        series(10 + 0.5 * np.clip(rng.standard_normal(48), -2.5, 2.5), entity=f"E{i}")
        for i in range(3)
    ]
    rules = all_kinds()
    assert {r.kind for r in rules} == set(KINDS)
    assert evaluate(pd.concat(frames), rules) == []


def test_false_alarm_rates() -> None:
    """On N(0, 1) noise the run rules have exact rates per tested point, whatever the sigma
    estimate: rule 2 (a run reaching 9) 2 * 2**-10 = 1/512, rule 3 (6 rising or falling, the point
    before not continuing) 2 * (1/720 - 1/5040) = 1/420; rule 1 with a 100-point baseline is
    near the nominal 0.27 % (a little above: the sigma is estimated)."""
    entities, length, baseline = 1000, 200, 100
    values = np.random.default_rng(7).standard_normal((entities, length))
    frame = pd.DataFrame(
        {
            "entity_id": np.repeat([f"E{i:04d}" for i in range(entities)], length),
            "metric_id": METRIC,
            "period": np.tile(months(length, "2000-01"), entities),
            "value": values.ravel(),
        }
    )
    signals = pd.Series([w.signal for w in evaluate(frame, [chart(baseline=baseline)])])
    counts = signals.value_counts()
    tested = entities * (length - baseline)
    assert counts["nelson2"] / tested == pytest.approx(1 / 512, rel=0.25)
    assert counts["nelson3"] / tested == pytest.approx(1 / 420, rel=0.25)
    assert 0.0022 < counts["nelson1"] / tested < 0.0045


# -- planted anomalies ----------------------------------------------------------------------


def test_threshold_crossings() -> None:
    values = zigzag(1)
    values[20], values[27] = 13.5, 6.0
    clean = series(zigzag(2), entity="E2")
    warnings = evaluate(pd.concat([series(values), clean]), [threshold(upper=13, lower=7)])
    assert summary(warnings) == [
        ("E1", "2023-09", "upper", ("2023-09",)),
        ("E1", "2024-04", "lower", ("2024-04",)),
    ]
    assert warnings[0].value == 13.5 and warnings[0].points == (("2023-09", 13.5),)


def test_jump_by_factor() -> None:
    values = zigzag(3)
    values[20] = 16.0
    warnings = evaluate(series(values), [jump(factor=1.5)])
    assert summary(warnings) == [("E1", "2023-09", "jump", (*months(20)[14:20], "2023-09"))]
    assert warnings[0].points[:-1] == tuple(zip(months(20)[14:20], values[14:20], strict=True))


def test_jump_by_sigmas_and_direction() -> None:
    values = zigzag(4)
    values[20], values[30] = 15.0, 5.0
    rule_both = jump(sigmas=3)
    assert [w.period for w in evaluate(series(values), [rule_both])] == ["2023-09", "2024-07"]
    rises = evaluate(series(values), [jump(sigmas=3, direction=1)])
    falls = evaluate(series(values), [jump(sigmas=3, direction=-1)])
    assert [w.period for w in rises] == ["2023-09"]
    assert [w.period for w in falls] == ["2024-07"]


def test_single_point_beyond_3_sigma() -> None:
    values = zigzag(5)
    mean, sd = baseline_stats(values)
    values[18] = mean + 4 * sd
    warnings = evaluate(series(values), [chart()])
    assert summary(warnings) == [("E1", "2023-07", "nelson1", ("2023-07",))]


def test_nine_in_a_row_above_the_mean() -> None:
    values = zigzag(6)
    mean, sd = baseline_stats(values)
    values[20:29] = mean + sd * np.array([0.3, 0.9] * 4 + [0.3])  # 2023-09 .. 2024-05
    warnings = evaluate(series(values), [chart()])
    assert summary(warnings) == [("E1", "2024-05", "nelson2", tuple(months(29)[20:29]))]
    assert "9 points in a row above the baseline mean" in warnings[0].reason


def test_six_steadily_increasing() -> None:
    values = zigzag(7)
    mean, sd = baseline_stats(values)
    values[19:27] = mean + sd * np.array([0.0, -1.5, -0.9, -0.3, 0.3, 0.9, 1.5, 0.0])
    warnings = evaluate(series(values), [chart()])
    assert summary(warnings) == [("E1", "2024-02", "nelson3", tuple(months(26)[20:26]))]
    assert "6 points in a row steadily increasing" in warnings[0].reason


def test_two_of_three_beyond_2_sigma() -> None:
    values = zigzag(8)
    mean, sd = baseline_stats(values)
    values[20], values[22] = mean + 2.5 * sd, mean + 2.4 * sd
    warnings = evaluate(series(values), [chart()])
    assert summary(warnings) == [("E1", "2023-11", "nelson5", tuple(months(23)[20:23]))]


def test_falls_are_kept_or_dropped_by_direction() -> None:
    values = zigzag(9)
    mean, sd = baseline_stats(values)
    values[20:26] = mean + sd * np.array([1.5, 0.9, 0.3, -0.3, -0.9, -1.5])
    values[26] = mean
    down = evaluate(series(values), [chart()])
    assert summary(down) == [("E1", "2024-02", "nelson3", tuple(months(26)[20:26]))]
    assert "steadily decreasing" in down[0].reason
    assert evaluate(series(values), [chart(direction=1)]) == []


def test_expanding_baseline_flags_a_3_sigma_point() -> None:
    values = zigzag(10)
    mean, sd = float(np.mean(values[:30])), float(np.std(values[:30], ddof=1))
    values[30] = mean - 5 * sd
    warnings = evaluate(series(values), [chart(baseline=0)])
    assert summary(warnings) == [("E1", "2024-07", "nelson1", ("2024-07",))]
    assert "of the 30 previous points" in warnings[0].reason


# -- the arithmetic in the reasons, by hand --------------------------------------------------


def test_reason_arithmetic_threshold() -> None:
    (warning,) = evaluate(series([0.3, 0.8, 0.2]), [threshold(upper=0.5)])
    assert warning.reason == "kri.complaint_rate 0.8 is above the upper limit 0.5"


def test_reason_arithmetic_jump() -> None:
    metric = "workforce.turnover_rate_monthly"
    frame = series([2.0, 2.0, 1.8, 2.2, 2.0, 2.0, 4.1], metric=metric)
    by_factor = Rule("J1", metric, "jump", {"factor": 1.5})
    by_sigma = Rule("J2", metric, "jump", {"sigmas": 3})
    first, second = evaluate(frame, [by_factor, by_sigma])
    # mean (2 + 2 + 1.8 + 2.2 + 2 + 2) / 6 = 2.0; 4.1 / 2.0 = 2.05
    assert first.reason == (
        "workforce.turnover_rate_monthly 4.1 is 2.05x the trailing 6-month mean 2 "
        "(6 points; limit 1.5x)"
    )
    # sd = sqrt((0.2^2 + 0.2^2) / 5) = 0.12649; z = 2.1 / 0.12649 = 16.60
    assert math.isclose((4.1 - 2.0) / math.sqrt(0.08 / 5), 16.6019, rel_tol=1e-4)
    assert second.reason == (
        "workforce.turnover_rate_monthly 4.1 is +16.60 sigma from the trailing 6-month mean 2 "
        "(6 points, sd 0.1265; limit 3 sigma)"
    )
    assert first.period == "2022-07" and len(first.points) == 7


def test_reason_arithmetic_control_chart() -> None:
    # baseline 1..12: mean 6.5, variance n(n+1)/12 = 13, sd 3.606; z(20) = 13.5 / 3.606 = 3.74
    (warning,) = evaluate(series([*range(1, 13), 20]), [chart()])
    assert warning.reason == (
        "kri.complaint_rate: 20 is +3.74 sigma from the baseline mean 6.5 "
        "(sd 3.606, first 12 points) (Nelson rule 1: beyond 3 sigma)"
    )


# -- gaps ----------------------------------------------------------------------------------


def test_jump_compares_only_with_available_previous_points() -> None:
    # 2022-03 and 2022-04 are gaps: the window 2022-01..06 holds 4 points, mean (2+2+2+2)/4
    values = [2.0, 2.0, math.nan, math.nan, 2.0, 2.0, 3.5]
    (warning,) = evaluate(series(values), [jump(factor=1.5)])
    assert warning.points == (
        ("2022-01", 2.0),
        ("2022-02", 2.0),
        ("2022-05", 2.0),
        ("2022-06", 2.0),
        ("2022-07", 3.5),
    )
    assert "1.75x the trailing 6-month mean 2 (4 points" in warning.reason
    # with 2 points left in the window, fewer than min_points 3: no comparison
    sparse = [2.0, math.nan, math.nan, math.nan, 2.0, math.nan, 9.0]
    assert evaluate(series(sparse), [jump(factor=1.5)]) == []
    # a NaN row is the same gap as an absent row
    with_nan_rows = series(values)
    with_nan_rows.loc[len(with_nan_rows)] = ["E1", METRIC, "2022-03", math.nan]
    assert evaluate(with_nan_rows, [jump(factor=1.5)]) == [warning]


def test_a_gap_does_not_break_a_control_chart_run() -> None:
    values = zigzag(6)
    mean, sd = baseline_stats(values)
    values[20:30] = mean + sd * np.array([0.3, 0.9] * 5)
    values[24] = math.nan  # 2024-01 missing: still 9 points above the mean in a row
    warnings = evaluate(series(values), [chart()])
    involved = tuple(m for m in months(30)[20:30] if m != "2024-01")
    assert summary(warnings) == [("E1", "2024-06", "nelson2", involved)]


def test_period_types_are_equivalent() -> None:
    values = zigzag(3)
    values[20] = 16.0
    frame = series(values)
    as_period = frame.assign(period=pd.PeriodIndex(frame["period"], freq="M"))
    as_stamp = frame.assign(period=pd.to_datetime(frame["period"]))
    expected = evaluate(frame, [jump(factor=1.5)])
    assert evaluate(as_period, [jump(factor=1.5)]) == expected
    assert evaluate(as_stamp, [jump(factor=1.5)]) == expected


def test_bad_series_is_refused() -> None:
    frame = series([1.0, 2.0])
    with pytest.raises(ValueError, match="more than one value"):
        evaluate(pd.concat([frame, frame]), [chart()])
    with pytest.raises(ValueError, match="not a month"):
        evaluate(frame.assign(period="2024-13"), [chart()])
    with pytest.raises(ValueError, match="not a number"):
        evaluate(frame.assign(value=["1", "x"]), [chart()])


# -- rules as data ---------------------------------------------------------------------------


def test_packaged_rules_load() -> None:
    rules, problems = load_rules()
    assert problems == []
    assert {r.kind for r in rules} == set(KINDS)
    assert {r.metric_id for r in rules} >= {
        "kri.complaint_rate",
        "kri.labour_dispute_rate",
        "workforce.turnover_rate_monthly",
        "safety.incidents",
    }
    assert all(r.description and r.source for r in rules)


BAD = """rule_id,metric_id,kind,params,severity,description,source
R1,m,spike,factor=2,warning,d,s
R2,m,jump,factor=2;colour=3,warning,d,s
R3,m,jump,factor=two,warning,d,s
R1,m,threshold,upper=1,warning,d,s
R5,m,threshold,upper=1,loud,d,s
R6,m,jump,window=6,warning,d,s
R7,m,jump,factor=2;window=3;min_points=4,warning,d,s
R8,m,control_chart,baseline=12.5,warning,d,s
R9,m,threshold,upper=1
R10,,threshold,lower=2;upper=1,info,d,s
R11,m,threshold,upper=1,info,d,s
"""


def test_bad_rule_file_gives_located_diagnostics(tmp_path: Path) -> None:
    path = tmp_path / "rules.csv"
    path.write_text(BAD, encoding="utf-8")
    rules, problems = load_rules(path)
    assert rules == []
    located = sorted((d.row or 0, d.column or "") for d in problems)
    assert located == [
        (2, "kind"),
        (3, "params"),
        (4, "params"),
        (5, "rule_id"),
        (6, "severity"),
        (7, "params"),
        (8, "params"),
        (9, "params"),
        (10, ""),
        (11, "metric_id"),
        (11, "params"),
    ]
    assert all(d.file == "rules.csv" for d in problems)
    assert str(problems[0]).startswith("rules.csv:2:kind: kind 'spike'")


def test_missing_column_and_unreadable_file(tmp_path: Path) -> None:
    _, problems = parse_rules("rule_id,metric_id,kind,params,severity,description\n", "x.csv")
    assert [(d.row, d.column) for d in problems] == [(1, "source")]
    _, problems = load_rules(tmp_path / "absent.csv")
    assert problems and problems[0].file == "absent.csv"


def test_rule_objects_validate_their_parameters() -> None:
    with pytest.raises(ValueError, match="jump needs factor or sigmas"):
        Rule("X", METRIC, "jump", {})
    with pytest.raises(ValueError, match="unknown parameter"):
        Rule("X", METRIC, "threshold", {"upper": 1, "sigmas": 2})
    assert dict(jump(factor=2).params) == {
        "window": 6,
        "min_points": 3,
        "direction": 0,
        "factor": 2,
    }
