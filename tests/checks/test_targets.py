"""Targets and their status: hand-calculated cases of every kind and status, the seed's targets.

Seed: ``../shared/seed/targets.csv`` (21 rows) mapped in the demo's ``demo/data/targets.csv`` and
``../shared/seed/kpi_2024.csv`` (the 2024 key performance table, mapped to metrics by the
catalogue's ``seed_row``).
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from esgledger.checks import Target, TargetStatus, load_targets, parse_targets, target_status
from esgledger.checks.targets import TARGET_COLUMNS, Figure, Status
from esgledger.demo.build import DEMO_DATA
from esgledger.domain.diagnostics import Severity
from esgledger.metrics import load_catalogue

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT.parent / "shared" / "seed"
needs_seed = pytest.mark.skipif(
    not (SEED / "kpi_2024.csv").exists(), reason="../shared is not beside the project"
)
HEADER = ",".join(TARGET_COLUMNS)
DEMO_TARGETS = DEMO_DATA / "targets.csv"
"""The demo group's targets (the seed report's), which the demo build enters."""


def target(**fields: Any) -> Target:
    """A group target on a metric, absolute, for 2024 only, unless told otherwise."""
    values: dict[str, Any] = {
        "target_id": "T",
        "metric_id": "customer.satisfaction_rate",
        "entity_id": "*",
        "kind": "absolute",
        "direction": ">=",
        "value": 99.0,
        "unit": "%",
        "baseline_year": None,
        "baseline_value": None,
        "start_year": 2024,
        "deadline_year": 2024,
        "source": "test",
    }
    values.update(fields)
    return Target(**values)


def status(t: Target, figures: list[tuple[str, str, int, float]], year: int) -> TargetStatus:
    [result] = target_status([t], figures, year)
    return result


def seed_figures() -> list[tuple[str, str, int, float]]:
    """The seed's 2024 KPI table as group figures of catalogue metrics."""
    with (SEED / "kpi_2024.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return [
        (metric.metric_id, "*", 2024, float(rows[n - 1]["value_2024"]))
        for n, metric in load_catalogue().seed_rows().items()
    ]


@pytest.fixture(scope="module")
def seed_targets() -> dict[str, Target]:
    targets, diagnostics = load_targets(DEMO_TARGETS)
    assert not [d for d in diagnostics if d.severity is Severity.ERROR]
    return {t.target_id: t for t in targets}


# --------------------------------------------------------------------------- the seed targets


def test_seed_targets_load_with_every_row_of_the_seed_kept(
    seed_targets: dict[str, Target],
) -> None:
    assert len(seed_targets) == 24  # 21 seed rows; two combined rows split into 3 and 2
    cited = {
        int(part.split(":")[1].split(",")[0].rstrip(")"))
        for t in seed_targets.values()
        for part in t.source.split()
        if part.startswith("targets.csv:")
    }
    assert cited == set(range(2, 23))  # every data row of targets.csv (header = row 1)
    catalogue = load_catalogue()
    for t in seed_targets.values():
        assert t.source.startswith("2024 ESG report, ")
        assert all(m in catalogue for m in t.metric_ids)


def test_seed_targets_without_a_metric_are_kept_and_announced() -> None:
    targets, diagnostics = load_targets(DEMO_TARGETS)
    no_metric = {t.row for t in targets if not t.metric_id and t.kind != "qualitative"}
    assert {d.row for d in diagnostics if d.code == "target.no_metric"} == no_metric
    assert all(d.severity is Severity.INFO for d in diagnostics)
    assert len(no_metric) == 12  # 4 + 4 infosec rates, 2 infosec violations, security, KPIs


def test_seed_mapping(seed_targets: dict[str, Target]) -> None:
    expected = {
        "2024.customer_satisfaction": ("customer.satisfaction_rate", "absolute", ">=", 99),
        "2024.first_pass_acceptance": ("quality.first_pass_acceptance_rate", "absolute", ">=", 99),
        "2024.major_quality_incidents": ("quality.major_incidents", "count_max", "=", 0),
        "2024.labour_contracts": ("workforce.labour_contract_rate", "absolute", "=", 100),
        "2024.social_insurance": ("welfare.social_insurance_coverage", "absolute", "=", 100),
        "2024.discrimination_incidents": (
            "workforce.discrimination_incidents",
            "count_max",
            "=",
            0,
        ),
        "2025.parental_leave_return": (
            "workforce.parental_leave_return_rate",
            "absolute",
            ">=",
            95,
        ),
        "2024.fire_explosion_accidents": ("safety.fire_explosion_accidents", "count_max", "=", 0),
        "2025.employee_satisfaction": ("workforce.satisfaction", "qualitative", "", None),
        "2025.infosec_violations": ("", "count_max", "< previous year", None),
        "2024.infosec_commitment_signing": ("", "absolute", ">=", 95),
    }
    for target_id, (metric_id, kind, direction, value) in expected.items():
        t = seed_targets[target_id]
        assert (t.metric_id, t.kind.value, t.direction, t.value) == (
            metric_id,
            kind,
            direction,
            value,
        ), target_id


@needs_seed
def test_seed_2024_targets_against_the_seed_2024_figures(
    seed_targets: dict[str, Target],
) -> None:
    results = {
        s.target.target_id: s for s in target_status(seed_targets.values(), seed_figures(), 2024)
    }
    assert not [i for i in results if i.startswith("2025.")]  # not in force in 2024
    csat = results["2024.customer_satisfaction"]
    # 99.11 (published at 2 decimals) >= 99
    assert csat.status is Status.ACHIEVED
    assert csat.actual == 99.11
    assert csat.reason.startswith("customer satisfaction rate 99.11 % (2024) >= 99 %: achieved")
    assert "rounded to 2 decimals, the published precision" in csat.reason
    assert csat.figures == (Figure("customer.satisfaction_rate", "*", 2024, 99.11),)
    # the KPI table does not publish these figures: the report's "achieved" cannot be checked
    for target_id in (
        "2024.first_pass_acceptance",
        "2024.major_quality_incidents",
        "2024.labour_contracts",
        "2024.social_insurance",
        "2024.discrimination_incidents",
        "2024.fire_explosion_accidents",
    ):
        assert results[target_id].status is Status.NO_DATA, target_id
        assert "no 2024 figure" in results[target_id].reason
    for target_id in (
        "2024.infosec_commitment_signing",
        "2024.infosec_self_check",
        "2024.infosec_exam_pass",
        "2024.infosec_policy_coverage",
        "2024.major_security_incidents",
        "2024.esg_kpis",
    ):
        assert results[target_id].status is Status.NOT_MEASURABLE, target_id
        assert "not measurable: no metric in the catalogue" in results[target_id].reason
    peak = results["climate.carbon_peak"]
    assert peak.status is Status.QUALITATIVE
    assert "total GHG emissions (ghg.total) 2024: 31,935.10 tCO2e" in peak.reason


def test_seed_2024_targets_with_the_figures_the_table_lacks(
    seed_targets: dict[str, Target],
) -> None:
    figures = [
        ("quality.first_pass_acceptance_rate", "*", 2024, 99.0),  # 99 >= 99
        ("quality.major_incidents", "*", 2024, 0.0),  # 0 <= 0
        ("workforce.labour_contract_rate", "*", 2024, 99.6),  # precision 0: 100 = 100
        ("welfare.social_insurance_coverage", "*", 2024, 99.4),  # precision 0: 99 != 100
        ("workforce.discrimination_incidents", "*", 2024, 0.0),
        ("safety.fire_explosion_accidents", "*", 2024, 1.0),  # 1 > 0
    ]
    results = {s.target.target_id: s for s in target_status(seed_targets.values(), figures, 2024)}
    got = {i: results[i].status for i in results if results[i].figures}
    assert got == {
        "2024.first_pass_acceptance": Status.ACHIEVED,
        "2024.major_quality_incidents": Status.ACHIEVED,
        "2024.labour_contracts": Status.ACHIEVED,
        "2024.social_insurance": Status.OFF_TRACK,
        "2024.discrimination_incidents": Status.ACHIEVED,
        "2024.fire_explosion_accidents": Status.OFF_TRACK,
    }
    assert results["2024.labour_contracts"].reason.startswith(
        "labour contract signing rate 100 % (2024) = 100 %: achieved"
    )
    assert "rounded to 0 decimals" in results["2024.labour_contracts"].reason
    assert results["2024.social_insurance"].reason.startswith(
        "social insurance coverage 99 % (2024) != 100 %, must be =: off track "
        "(missed at the 2024 deadline, by 1 %)"
    )
    assert results["2024.fire_explosion_accidents"].reason.startswith(
        "fire and explosion accidents 1 accidents (2024) > 0 accidents, must be <=: off track "
        "(maximum exceeded, by 1 accidents)"
    )


def test_seed_2025_targets(seed_targets: dict[str, Target]) -> None:
    figures = [
        ("workforce.parental_leave_return_rate", "*", 2025, 96.0),
        ("workforce.satisfaction", "*", 2025, 73.0),
        ("customer.satisfaction_rate", "*", 2024, 99.11),
    ]
    results = {s.target.target_id: s for s in target_status(seed_targets.values(), figures, 2025)}
    assert results["2025.parental_leave_return"].status is Status.ACHIEVED
    satisfaction = results["2025.employee_satisfaction"]
    assert satisfaction.status is Status.QUALITATIVE
    assert satisfaction.reason.endswith(
        "employee satisfaction (workforce.satisfaction) 2025: 73.0 %"
    )
    for target_id in ("2025.infosec_violations", "2025.infosec_penalties"):
        assert results[target_id].status is Status.NOT_MEASURABLE
    # a 2024 target asked for 2025: its outcome at the 2024 deadline is final
    csat = results["2024.customer_satisfaction"]
    assert (csat.status, csat.evaluated_year) == (Status.ACHIEVED, 2024)
    assert csat.reason.startswith("deadline 2024 passed, its figure counts: ")


# ------------------------------------------------------------------------ levels and rounding


@pytest.mark.parametrize(
    ("value", "expected", "shown"),
    [
        (99.11, Status.ACHIEVED, "99.11 % (2024) >= 99 %"),
        (98.995, Status.ACHIEVED, "99.00 % (2024) >= 99 %"),  # rounds half up to 99.00
        (98.994, Status.OFF_TRACK, "98.99 % (2024) < 99 %"),  # rounds to 98.99: 0.01 short
    ],
)
def test_absolute_level_compared_at_the_published_precision(
    value: float, expected: Status, shown: str
) -> None:
    result = status(target(), [("customer.satisfaction_rate", "*", 2024, value)], 2024)
    assert result.status is expected
    assert shown in result.reason
    assert result.required == 99.0


def test_target_value_in_another_unit_is_converted() -> None:
    # 4,000 t = 4 kt; 3,900.00 tCO2e <= 4,000.00 tCO2e
    t = target(metric_id="ghg.scope1", direction="<=", value=4, unit="ktCO2e")
    result = status(t, [("ghg.scope1", "*", 2024, 3900.0)], 2024)
    assert result.status is Status.ACHIEVED
    assert "<= 4,000 tCO2e (= 4 ktCO2e)" in result.reason


# ------------------------------------------------------------------------------ linear paths

SCOPE12 = target(
    target_id="S12",
    metric_id="ghg.scope1+ghg.scope2",
    kind="reduction",
    direction=">=",
    value=25.2,
    unit="%",
    baseline_year=2024,
    start_year=2025,
    deadline_year=2030,
    name_en="scope 1+2",
)
BASE_2024 = [("ghg.scope1", "*", 2024, 4472.70), ("ghg.scope2", "*", 2024, 24197.00)]


def scope12(year: int, s1: float, s2: float) -> list[tuple[str, str, int, float]]:
    return [*BASE_2024, ("ghg.scope1", "*", year, s1), ("ghg.scope2", "*", year, s2)]


def test_reduction_on_track() -> None:
    # base 2024: 4,472.70 + 24,197.00 = 28,669.70
    # level 2030: 28,669.70 x (1 - 25.2 %) = 21,444.9356 -> 21,444.94
    # step: (21,444.94 - 28,669.70) / (2030 - 2024) = -1,204.1267 a year (4.20 % of the base)
    # path 2025: 28,669.70 - 1,204.1267 = 27,465.5733 -> 27,465.57
    # actual 2025: 4,000 + 23,000 = 27,000.00 <= 27,465.57: on track, ahead by 465.57
    result = status(SCOPE12, scope12(2025, 4000, 23000), 2025)
    assert result.status is Status.ON_TRACK
    assert result.required == 21444.94
    assert result.path_value == 27465.57
    assert result.reason == (
        "scope 1+2 must fall 1,204.13 tCO2e/year (4.20 %/year of the 2024 base) from 2024 base "
        "28,669.70 tCO2e to reach 21,444.94 tCO2e (2024 base 28,669.70 tCO2e x (1 - 25.2 %)) by "
        "2030; 2025 path value 28,669.70 tCO2e - 1,204.13 tCO2e x 1 = 27,465.57 tCO2e; actual "
        "27,000.00 tCO2e: on track (ahead by 465.57 tCO2e) (compared rounded to 2 decimals, the "
        "published precision)"
    )
    assert set(result.figures) == {Figure(*f) for f in scope12(2025, 4000, 23000)}


def test_reduction_off_track() -> None:
    # path 2026: 28,669.70 - 2 x 1,204.1267 = 26,261.4467 -> 26,261.45
    # actual 2026: 4,400 + 23,500 = 27,900.00 > 26,261.45: off track by 1,638.55
    result = status(SCOPE12, scope12(2026, 4400, 23500), 2026)
    assert result.status is Status.OFF_TRACK
    assert result.path_value == 26261.45
    assert "2026 path value 28,669.70 tCO2e - 1,204.13 tCO2e x 2 = 26,261.45 tCO2e" in result.reason
    assert "actual 27,900.00 tCO2e: off track by 1,638.55 tCO2e" in result.reason


def test_reduction_achieved_early_and_missed_at_the_deadline() -> None:
    # 2027: 21,000.00 <= 21,444.94: achieved three years early
    early = status(SCOPE12, scope12(2027, 1000, 20000), 2027)
    assert early.status is Status.ACHIEVED
    assert "achieved ahead of the 2030 deadline" in early.reason
    # 2030: 21,500.00 > 21,444.94 at the deadline: off track (no path any more)
    late = status(SCOPE12, scope12(2030, 1500, 20000), 2030)
    assert late.status is Status.OFF_TRACK
    assert "missed at the 2030 deadline, by 55.06 tCO2e" in late.reason


def test_reduction_without_its_baseline_figure_has_no_data() -> None:
    figures = [("ghg.scope1", "*", 2025, 4000.0), ("ghg.scope2", "*", 2025, 23000.0)]
    result = status(SCOPE12, figures, 2025)
    assert result.status is Status.NO_DATA
    assert "no baseline figure for 2024" in result.reason


def test_reduction_in_absolute_units_with_a_declared_baseline() -> None:
    # level: 30,000 - 6,000 = 24,000; path 2025: 30,000 - 6,000 x 1/4 = 28,500
    t = target(
        metric_id="ghg.scope2",
        kind="reduction",
        direction=">=",
        value=6000,
        unit="tCO2e",
        baseline_year=2024,
        baseline_value=30000,
        start_year=2025,
        deadline_year=2028,
    )
    on = status(t, [("ghg.scope2", "*", 2025, 28500.0)], 2025)
    assert (on.status, on.required, on.path_value) == (Status.ON_TRACK, 24000.0, 28500.0)
    off = status(t, [("ghg.scope2", "*", 2025, 28500.01)], 2025)
    assert off.status is Status.OFF_TRACK
    assert "off track by 0.01 tCO2e" in off.reason


def test_upward_path_from_the_first_value() -> None:
    # >= 95 % by 2027, set for 2025 with no baseline: the path starts at the first figure from
    # 2024 (start - 1): 90 -> 95 over 3 years, 2025 path 90 + 5 x 1/3 = 91.67 -> 92 (precision 0)
    t = target(
        metric_id="workforce.parental_leave_return_rate",
        value=95,
        start_year=2025,
        deadline_year=2027,
    )
    first = ("workforce.parental_leave_return_rate", "*", 2024, 90.0)
    on = status(t, [first, ("workforce.parental_leave_return_rate", "*", 2025, 92.0)], 2025)
    assert (on.status, on.path_value) == (Status.ON_TRACK, 92.0)
    assert "from 2024 first value 90 %" in on.reason
    off = status(t, [first, ("workforce.parental_leave_return_rate", "*", 2025, 91.4)], 2025)
    assert off.status is Status.OFF_TRACK  # 91 < 92
    assert "actual 91 %: off track by 1 %" in off.reason
    alone = status(t, [("workforce.parental_leave_return_rate", "*", 2025, 92.0)], 2025)
    assert alone.status is Status.NO_DATA
    assert "no baseline or earlier figure to draw a path from" in alone.reason


def test_downward_path_at_two_decimals() -> None:
    # turnover <= 20 % by 2027 from 27.89 % in 2024: step (20 - 27.89) / 3 = -2.63,
    # 2025 path 27.89 - 2.63 = 25.26; 25.26 meets it, 25.27 misses by 0.01
    t = target(
        metric_id="workforce.turnover_rate",
        direction="<=",
        value=20,
        baseline_year=2024,
        start_year=2025,
        deadline_year=2027,
    )
    base = ("workforce.turnover_rate", "*", 2024, 27.89)
    on = status(t, [base, ("workforce.turnover_rate", "*", 2025, 25.26)], 2025)
    assert (on.status, on.path_value) == (Status.ON_TRACK, 25.26)
    off = status(t, [base, ("workforce.turnover_rate", "*", 2025, 25.27)], 2025)
    assert off.status is Status.OFF_TRACK
    assert off.reason.endswith(
        "actual 25.27 %: off track by 0.01 % (compared rounded to 2 decimals, the published "
        "precision)"
    )


# ------------------------------------------------------------ maxima, previous year, no data


def test_count_max_is_per_period() -> None:
    t = target(
        metric_id="quality.major_incidents",
        kind="count_max",
        direction="=",
        value=0,
        unit="count",
        deadline_year=2026,
    )
    assert status(t, [("quality.major_incidents", "*", 2025, 0.0)], 2025).status is Status.ACHIEVED
    # one incident in 2025 is a missed year even before the 2026 deadline: no path for a maximum
    missed = status(t, [("quality.major_incidents", "*", 2025, 1.0)], 2025)
    assert missed.status is Status.OFF_TRACK
    assert "maximum exceeded" in missed.reason


@pytest.mark.parametrize(
    ("previous", "current", "expected", "shown"),
    [
        (3.0, 2.0, Status.ACHIEVED, "2 incidents (2025) < 3 incidents (2024)"),
        (3.0, 3.0, Status.OFF_TRACK, "3 incidents (2025) >= 3 incidents (2024)"),
        (0.0, 0.0, Status.OFF_TRACK, "0 incidents (2025) >= 0 incidents (2024)"),
    ],
)
def test_below_previous_year(previous: float, current: float, expected: Status, shown: str) -> None:
    t = target(
        metric_id="infosec.leak_incidents",
        kind="count_max",
        direction="< previous year",
        value=None,
        unit="count",
        start_year=2025,
        deadline_year=2025,
    )
    figures = [
        ("infosec.leak_incidents", "*", 2024, previous),
        ("infosec.leak_incidents", "*", 2025, current),
    ]
    result = status(t, figures, 2025)
    assert result.status is expected
    assert shown in result.reason
    assert "must be < previous year" in result.reason
    assert result.required == previous
    assert len(result.figures) == 2


def test_below_previous_year_without_last_year() -> None:
    t = target(
        metric_id="infosec.leak_incidents",
        kind="count_max",
        direction="< previous year",
        value=None,
        unit="count",
        start_year=2025,
        deadline_year=2025,
    )
    result = status(t, [("infosec.leak_incidents", "*", 2025, 1.0)], 2025)
    assert result.status is Status.NO_DATA
    assert "no 2024 figure to compare with" in result.reason


def test_no_data_for_a_missing_figure_or_part_of_a_sum() -> None:
    assert status(target(), [], 2024).status is Status.NO_DATA
    result = status(SCOPE12, [*BASE_2024, ("ghg.scope1", "*", 2025, 4000.0)], 2025)
    assert result.status is Status.NO_DATA
    assert "no 2025 figure of ghg.scope1+ghg.scope2 for the group" in result.reason


def test_qualitative_and_not_measurable() -> None:
    quali = target(
        metric_id="",
        kind="qualitative",
        direction="",
        value=None,
        unit="",
        name_en="a healthy level",
    )
    result = status(quali, [], 2024)
    assert result.status is Status.QUALITATIVE
    assert result.reason == "'a healthy level' is qualitative: judged by the report, not computed"
    none = status(target(metric_id="", name_en="signing rate"), [], 2024)
    assert none.status is Status.NOT_MEASURABLE
    assert none.reason == "signing rate: not measurable: no metric in the catalogue"
    unknown = status(target(metric_id="infosec.signing_rate"), [], 2024)
    assert unknown.status is Status.NOT_MEASURABLE
    assert "infosec.signing_rate not in the metric catalogue" in unknown.reason


def test_entity_targets_use_the_entity_figure() -> None:
    t = target(entity_id="E1")
    figures = [
        ("customer.satisfaction_rate", "*", 2024, 99.5),
        ("customer.satisfaction_rate", "E1", 2024, 98.0),
    ]
    result = status(t, figures, 2024)
    assert result.status is Status.OFF_TRACK
    assert result.reason.startswith("customer satisfaction rate of E1 98.00 % (2024) < 99 %")


def test_targets_not_yet_in_force_are_not_listed() -> None:
    assert target_status([target(start_year=2025, deadline_year=2025)], [], 2024) == []


def test_figures_as_a_frame_with_gaps_and_conflicts() -> None:
    frame = pd.DataFrame(
        {
            "metric_id": ["customer.satisfaction_rate", "customer.satisfaction_rate"],
            "entity_id": ["*", "E1"],
            "year": [2024, 2024],
            "value": [99.2, math.nan],
        }
    )
    [group, entity] = target_status([target(), target(entity_id="E1")], frame, 2024)
    assert group.status is Status.ACHIEVED
    assert entity.status is Status.NO_DATA  # NaN is a gap, not zero
    rows = [{"metric_id": "m.x", "entity_id": "*", "year": 2024, "value": v} for v in (1, 2)]
    with pytest.raises(ValueError, match=r"two values for m\.x \* 2024"):
        target_status([], rows, 2024)
    with pytest.raises(ValueError, match="lack column"):
        target_status([], frame.drop(columns="year"), 2024)


def test_status_to_dict_is_json() -> None:
    result = status(SCOPE12, scope12(2025, 4000, 23000), 2025)
    data = json.loads(json.dumps(result.to_dict()))
    assert data["status"] == "on track"
    assert data["path_value"] == 27465.57
    assert ["ghg.scope1", "*", 2025, 4000.0] in data["figures"]


# ---------------------------------------------------------------------------- bad target files


def row(**cells: str) -> str:
    values = {
        "target_id": "T1",
        "metric_id": "customer.satisfaction_rate",
        "entity_id": "*",
        "kind": "absolute",
        "direction": ">=",
        "value": "99",
        "unit": "%",
        "start_year": "2024",
        "deadline_year": "2024",
        "source": "report",
    }
    values.update(cells)
    return ",".join(values.get(c, "") for c in TARGET_COLUMNS)


def located(text: str) -> set[tuple[int | None, str | None, str]]:
    targets, diagnostics = parse_targets(text, "bad.csv")
    errors = [d for d in diagnostics if d.severity is Severity.ERROR]
    if errors:
        assert targets == []  # all or nothing
    assert all(d.file == "bad.csv" for d in diagnostics)
    return {(d.row, d.column, d.code) for d in errors}


def test_a_good_file_loads() -> None:
    targets, diagnostics = parse_targets("\n".join([HEADER, row(), row(target_id="T2")]))
    assert [t.target_id for t in targets] == ["T1", "T2"]
    assert diagnostics == []
    assert (targets[0].row, targets[1].row) == (2, 3)


def test_bad_rows_are_located() -> None:
    text = "\n".join(
        [
            HEADER,
            row(target_id="A", metric_id="customer.happiness"),  # row 2
            row(target_id="B", direction="=>"),  # row 3
            row(target_id="C", start_year="2025", deadline_year="2024"),  # row 4
            row(target_id="D", value="about 99"),  # row 5
            row(target_id="E", value=""),  # row 6
            row(target_id="A"),  # row 7: duplicate id
            row(target_id="F", kind="stretch"),  # row 8
            row(target_id="G", metric_id="quality.major_incidents", unit="%"),  # row 9
            row(target_id="H", kind="reduction", value="10"),  # row 10: no baseline year
            row(
                target_id="I",
                kind="count_max",
                metric_id="quality.major_incidents",
                direction=">=",
                value="0",
                unit="count",
            ),
            row(target_id="J", kind="qualitative", direction="", unit=""),  # row 12
            row(target_id="K", deadline_year="20x4"),  # row 13
            row(target_id="L", metric_id="ghg.scope1+workforce.headcount", unit="tCO2e"),
            row(target_id="M", baseline_year="2024"),  # row 15: baseline at the deadline
            row(target_id="N", source=""),  # row 16
        ]
    )
    assert located(text) == {
        (2, "metric_id", "target.unknown_metric"),
        (3, "direction", "target.unknown_direction"),
        (4, "deadline_year", "target.deadline_before_start"),
        (5, "value", "target.bad_number"),
        (6, "value", "target.missing_value"),
        (7, "target_id", "target.duplicate_id"),
        (8, "kind", "target.unknown_kind"),
        (9, "unit", "target.bad_unit"),
        (10, "baseline_year", "target.missing_value"),
        (11, "direction", "target.unknown_direction"),
        (12, "value", "target.qualitative"),
        (13, "deadline_year", "target.bad_year"),
        (14, "metric_id", "target.bad_sum"),
        (15, "baseline_year", "target.bad_year"),
        (16, "source", "target.missing_value"),
    }


def test_diagnostics_read_file_row_column() -> None:
    _, diagnostics = parse_targets("\n".join([HEADER, row(direction="about")]), "targets.csv")
    [d] = diagnostics
    assert str(d).startswith("targets.csv:2:direction: direction 'about' is not one of")


def test_bad_structure() -> None:
    missing = located("target_id,metric_id\nT1,x")
    assert {(row, code) for row, _, code in missing} == {(1, "target.missing_column")}
    assert {column for _, column, _ in missing} >= {"kind", "deadline_year", "source"}
    _, diagnostics = parse_targets("target_id\n")
    assert {d.message for d in diagnostics} >= {"required column 'deadline_year' is missing"}
    assert located("\n".join([HEADER, row() + ",extra"])) == {(2, None, "target.fields")}


def test_more_decimals_than_published_is_a_warning() -> None:
    # labour contract rate is published at 0 decimals: 99.5 is compared as 100
    targets, diagnostics = parse_targets(
        "\n".join([HEADER, row(metric_id="workforce.labour_contract_rate", value="99.5")])
    )
    assert len(targets) == 1
    [d] = diagnostics
    assert (d.severity, d.column, d.code) == (Severity.WARNING, "value", "target.precision")


def test_load_targets_from_a_path(tmp_path: Path) -> None:
    good = tmp_path / "targets.csv"
    good.write_text("\n".join([HEADER, row()]), encoding="utf-8")
    targets, diagnostics = load_targets(good)
    assert [t.file for t in targets] == ["targets.csv"]
    assert diagnostics == []
    targets, diagnostics = load_targets(tmp_path / "missing.csv")
    assert targets == []
    assert [d.code for d in diagnostics] == ["target.file"]
