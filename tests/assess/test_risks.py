"""Risk registers: BCM grades, GB/T 20984 multiplication method, located errors, demos."""

from __future__ import annotations

import csv
import datetime as dt
import math
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from esgledger.assess.risks import (
    BCM_COLUMNS,
    INFOSEC_COLUMNS,
    InfosecMethod,
    assess_infosec,
    bcm_heat_map,
    demo_bcm_register,
    demo_infosec_register,
    grade_bcm,
    grade_counts,
    infosec_levels,
    load_bcm_categories,
    load_bcm_grades,
    load_infosec_levels,
    load_infosec_method,
    overdue_drills,
    read_bcm_register,
    read_infosec_register,
)


def _write(path: Path, columns: tuple[str, ...], rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows({c: row.get(c, "") for c in columns} for row in rows)
    return path


def _bcm(risk_id: str, **cells: str) -> dict[str, str]:
    row = {
        "risk_id": risk_id,
        "entity_id": "G00",
        "title": f"title {risk_id}",
        "category": "cyber",
        "likelihood": "3",
        "impact": "3",
        "last_drill_on": "2024-05-01",
        "next_drill_on": "2025-05-01",
        "source": "test",
    }
    row.update(cells)
    return row


def _isr(risk_id: str, **cells: str) -> dict[str, str]:
    row = {
        "risk_id": risk_id,
        "entity_id": "G00",
        "asset": "ERP",
        "asset_type": "system",
        "asset_value": "5",
        "threat": "ransomware",
        "threat_level": "4",
        "vulnerability": "unpatched",
        "vulnerability_level": "3",
        "control_effectiveness": "none",
        "source": "test",
    }
    row.update(cells)
    return row


def _scores(pairs: list[tuple[int, int]]) -> pd.DataFrame:
    return pd.DataFrame(pairs, columns=["likelihood", "impact"])


def _infosec(rows: list[tuple[int, int, int, str]]) -> pd.DataFrame:
    return pd.DataFrame(
        rows,
        columns=["asset_value", "threat_level", "vulnerability_level", "control_effectiveness"],
    )


# --------------------------------------------------------------------------- packaged data


def test_packaged_rules_have_sources() -> None:
    assert [g.grade for g in load_bcm_grades()] == ["low", "general", "significant", "major"]
    assert [g.min_score for g in load_bcm_grades()] == [1, 5, 10, 16]
    assert [g.name_zh for g in load_bcm_grades()] == ["低", "一般", "较大", "重大"]
    assert all("esgledger default" in g.source for g in load_bcm_grades())
    assert {c.category for c in load_bcm_categories()} >= {
        "supply_chain",
        "it_systems",
        "facilities",
        "personnel",
        "natural_disaster",
        "cyber",
        "pandemic",
        "utilities",
    }
    levels = load_infosec_levels()
    assert [v.level for v in levels] == [1, 2, 3, 4, 5]
    assert [v.name_zh for v in levels] == ["很低", "低", "中", "高", "很高"]
    assert [v.min_risk for v in levels] == [1, 6, 11, 16, 21]
    assert all("leaves the thresholds to the assessor" in v.source for v in levels)
    method = load_infosec_method()
    assert method.rounding == "none"
    assert dict(method.reductions) == {"none": 0, "partial": 1, "effective": 2}
    assert method.vulnerability_floor == 1


# --------------------------------------------------------------------------- BCM grading


@pytest.mark.parametrize(
    ("likelihood", "impact", "score", "grade"),
    [
        (1, 1, 1, "low"),
        (2, 2, 4, "low"),
        (1, 5, 5, "general"),
        (3, 3, 9, "general"),
        (2, 5, 10, "significant"),
        (5, 3, 15, "significant"),
        (4, 4, 16, "major"),
        (5, 5, 25, "major"),
    ],
)
def test_bcm_grade_boundaries(likelihood: int, impact: int, score: int, grade: str) -> None:
    graded = grade_bcm(_scores([(likelihood, impact)]))
    assert graded["score"].tolist() == [score]
    assert graded["grade"].tolist() == [grade]


def test_bcm_treatments_follow_the_seed_wording() -> None:
    graded = grade_bcm(_scores([(1, 1), (1, 5), (2, 5), (5, 5)]))
    assert graded["treatment"].tolist() == [
        "accept and monitor",
        "delegated to departments",
        "PDCA with close watch, dedicated plan",
        "PDCA with close watch, dedicated plan",
    ]


def test_grade_counts_keep_every_grade_in_order() -> None:
    counts = grade_counts(_scores([(5, 5), (5, 5), (1, 1)]))
    assert counts.to_dict() == {"low": 1, "general": 0, "significant": 0, "major": 2}
    assert list(counts.index) == ["low", "general", "significant", "major"]


def test_heat_map_counts_every_cell() -> None:
    heat = bcm_heat_map(_scores([(1, 5), (1, 5), (5, 1)]))
    assert heat.shape == (5, 5)
    assert heat.loc[1, 5] == 2
    assert heat.loc[5, 1] == 1
    assert int(heat.to_numpy().sum()) == 3


def test_overdue_drills(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "bcm.csv",
        BCM_COLUMNS,
        [
            _bcm("ok", last_drill_on="2024-06-01", next_drill_on="2025-06-01"),
            _bcm("late", last_drill_on="2024-06-01", next_drill_on="2024-12-01"),
            _bcm("never", last_drill_on="", next_drill_on=""),
            _bcm("stale", last_drill_on="2023-12-30", next_drill_on=""),
            _bcm("edge", last_drill_on="2023-12-31", next_drill_on=""),
        ],
    )
    frame, problems = read_bcm_register(path)
    assert problems == []
    overdue = overdue_drills(frame, dt.date(2024, 12, 31))
    assert overdue["risk_id"].tolist() == ["late", "never", "stale"]
    assert overdue["overdue_reason"].tolist() == [
        "next drill 2024-12-01 is before 2024-12-31",
        "no drill recorded",
        "no drill since 2023-12-30 (12 months to 2024-12-31)",
    ]


# --------------------------------------------------------------------------- GB/T 20984


@pytest.mark.parametrize(
    ("asset", "threat", "vulnerability", "controls", "effective", "risk"),
    [
        (5, 4, 3, "none", 3, math.sqrt(12) * math.sqrt(15)),
        (1, 1, 1, "none", 1, 1.0),
        (5, 5, 5, "none", 5, 25.0),
        (5, 4, 3, "partial", 2, math.sqrt(8) * math.sqrt(10)),
        (4, 5, 5, "effective", 3, math.sqrt(15) * math.sqrt(12)),
        (3, 2, 2, "effective", 1, math.sqrt(2) * math.sqrt(3)),
        (3, 3, 2, "none", 2, 6.0),
    ],
)
def test_infosec_known_answers(
    asset: int, threat: int, vulnerability: int, controls: str, effective: int, risk: float
) -> None:
    out = assess_infosec(_infosec([(asset, threat, vulnerability, controls)]))
    assert out["effective_vulnerability"].tolist() == [effective]
    assert out["likelihood"].iloc[0] == pytest.approx(math.sqrt(threat * effective))
    assert out["loss"].iloc[0] == pytest.approx(math.sqrt(asset * effective))
    assert out["risk_value"].iloc[0] == pytest.approx(risk, rel=1e-12)


def test_infosec_arithmetic_text() -> None:
    out = assess_infosec(
        _infosec([(5, 4, 3, "none"), (5, 4, 3, "partial"), (3, 2, 2, "effective")])
    )
    assert out["arithmetic"].tolist() == [
        "L=√(4×3)=3.46; F=√(5×3)=3.87; R=3.46×3.87=13.42",
        "V=3-1=2; L=√(4×2)=2.83; F=√(5×2)=3.16; R=2.83×3.16=8.94",
        "V=max(2-2,1)=1; L=√(2×1)=1.41; F=√(3×1)=1.73; R=1.41×1.73=2.45",
    ]
    assert out["risk_level_name"].tolist() == ["medium", "low", "very low"]


def test_infosec_exact_threshold_is_not_lost_to_rounding() -> None:
    # √(3×2) × √(3×2) is 6 exactly, the low level's min_risk
    out = assess_infosec(_infosec([(3, 3, 2, "none"), (4, 4, 4, "none")]))
    assert out["risk_value"].tolist() == [6.0, 16.0]
    assert out["risk_level"].tolist() == [2, 4]


def test_infosec_half_up_rounding_is_a_data_switch() -> None:
    method = InfosecMethod(rounding="half_up")
    out = assess_infosec(_infosec([(5, 4, 3, "none")]), method=method)
    assert out["likelihood"].tolist() == [3.0]
    assert out["loss"].tolist() == [4.0]
    assert out["risk_value"].tolist() == [12.0]
    assert out["arithmetic"].tolist() == ["L=√(4×3)=3.46≈3; F=√(5×3)=3.87≈4; R=3×4=12.00"]


def test_infosec_level_boundaries() -> None:
    values = [1, 5.99, 6, 10.99, 11, 15.99, 16, 20.99, 21, 25, 5.9999999999999]
    assert infosec_levels(values).tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 2]


levels_1_5 = st.integers(1, 5)


@settings(max_examples=200, deadline=None)
@given(levels_1_5, levels_1_5, levels_1_5, st.sampled_from(["none", "partial", "effective"]))
def test_infosec_risk_is_monotone_and_bounded(a: int, t: int, v: int, controls: str) -> None:
    rows = [(a, t, v, controls)]
    if a < 5:
        rows.append((a + 1, t, v, controls))
    if t < 5:
        rows.append((a, t + 1, v, controls))
    if v < 5:
        rows.append((a, t, v + 1, controls))
    risk = assess_infosec(_infosec(rows))["risk_value"].tolist()
    assert all(1 <= r <= 25 for r in risk)
    assert all(r >= risk[0] for r in risk[1:])
    levels = assess_infosec(_infosec(rows))["risk_level"].tolist()
    assert all(level >= levels[0] for level in levels[1:])


@settings(max_examples=100, deadline=None)
@given(levels_1_5, levels_1_5)
def test_bcm_grade_is_monotone(likelihood: int, impact: int) -> None:
    rank = {g.grade: i for i, g in enumerate(load_bcm_grades())}
    rows = [
        (likelihood, impact),
        (min(likelihood + 1, 5), impact),
        (likelihood, min(impact + 1, 5)),
    ]
    grades = [rank[g] for g in grade_bcm(_scores(rows))["grade"]]
    assert grades[1] >= grades[0] and grades[2] >= grades[0]


# --------------------------------------------------------------------------- located errors


def test_bcm_register_errors_are_located(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "bcm.csv",
        BCM_COLUMNS,
        [
            _bcm("R1", likelihood="x"),
            _bcm("R2", impact="6"),
            _bcm("R3", category="meteor"),
            _bcm("R1"),
            _bcm("R5", next_drill_on="2024-13-01", likelihood="3.0"),
            _bcm("R6", title=""),
        ],
    )
    frame, problems = read_bcm_register(path)
    assert frame.empty
    categories = ", ".join(c.category for c in load_bcm_categories())
    assert [f"{p.location()}: {p.message}" for p in problems] == [
        "bcm.csv:2:likelihood: expected an integer 1-5, got 'x'",
        "bcm.csv:3:impact: expected an integer 1-5, got '6'",
        f"bcm.csv:4:category: expected a BCM category ({categories}), got 'meteor'",
        "bcm.csv:5:risk_id: expected a unique id, 'R1' is on row 2",
        "bcm.csv:6:likelihood: expected an integer 1-5, got '3.0'",
        "bcm.csv:6:next_drill_on: expected a date YYYY-MM-DD, got '2024-13-01'",
        "bcm.csv:7:title: expected a value, got an empty cell",
    ]
    assert str(problems[0]) == "bcm.csv:2:likelihood: expected an integer 1-5, got 'x' [score]"


def test_bcm_register_missing_column_and_unreadable(tmp_path: Path) -> None:
    path = _write(tmp_path / "short.csv", BCM_COLUMNS[:-1], [_bcm("R1")])
    _, problems = read_bcm_register(path)
    assert [f"{p.location()}: {p.message}" for p in problems] == [
        "short.csv:1:source: expected a column 'source'"
    ]
    _, problems = read_bcm_register(tmp_path / "absent.csv")
    assert problems[0].code == "register"


def test_infosec_register_errors_are_located(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "isr.csv",
        INFOSEC_COLUMNS,
        [
            _isr("I1", asset_value="0", control_effectiveness="strong"),
            _isr("I1", threat_level="high", asset_type="cloud"),
        ],
    )
    frame, problems = read_infosec_register(path)
    assert frame.empty
    assert [f"{p.location()}: {p.message}" for p in problems] == [
        "isr.csv:2:asset_value: expected an integer 1-5, got '0'",
        "isr.csv:2:control_effectiveness: expected a control effectiveness "
        "(none, partial, effective), got 'strong'",
        "isr.csv:3:risk_id: expected a unique id, 'I1' is on row 2",
        "isr.csv:3:asset_type: expected an asset type (business, system, component), got 'cloud'",
        "isr.csv:3:threat_level: expected an integer 1-5, got 'high'",
    ]


def test_registers_round_trip_through_csv(tmp_path: Path) -> None:
    demo = demo_bcm_register()
    path = tmp_path / "bcm.csv"
    demo.to_csv(path, index=False, date_format="%Y-%m-%d")
    frame, problems = read_bcm_register(path)
    assert problems == []
    pd.testing.assert_frame_equal(grade_bcm(frame), grade_bcm(demo), check_dtype=False)
    infosec = demo_infosec_register()
    path = tmp_path / "isr.csv"
    infosec.to_csv(path, index=False)
    frame, problems = read_infosec_register(path)
    assert problems == []
    assert assess_infosec(frame)["risk_value"].tolist() == pytest.approx(
        assess_infosec(infosec)["risk_value"].tolist()
    )


# --------------------------------------------------------------------------- SYNTHETIC demos


def test_demo_bcm_register_reproduces_the_seed_counts() -> None:
    demo = demo_bcm_register(seed=2024)
    assert len(demo) == 66
    assert grade_counts(demo).to_dict() == {"low": 6, "general": 33, "significant": 13, "major": 14}
    assert (demo["plan_updated_on"].dt.year == 2024).sum() == 21
    assert demo["risk_id"].iloc[0] == "syn-BCM-001"
    assert demo["risk_id"].is_unique
    assert set(demo["source"]) == {"synthetic (demo)"}
    assert int(bcm_heat_map(demo).to_numpy().sum()) == 66
    assert len(overdue_drills(demo, dt.date(2024, 12, 31))) == 3


@pytest.mark.parametrize("seed", [1, 7, 2025])
def test_demo_bcm_register_is_deterministic_for_any_seed(seed: int) -> None:
    demo = demo_bcm_register(seed=seed)
    pd.testing.assert_frame_equal(demo, demo_bcm_register(seed=seed))
    assert grade_counts(demo).tolist() == [6, 33, 13, 14]


def test_demo_infosec_register() -> None:
    demo = demo_infosec_register(seed=2024)
    assert len(demo) == 20
    assert demo["risk_id"].str.startswith("syn-ISR-").all()
    assert set(demo["source"]) == {"synthetic (demo)"}
    out = assess_infosec(demo)
    assert out["risk_value"].between(1, 25).all()
    assert out["arithmetic"].str.contains("R=").all()
    pd.testing.assert_frame_equal(demo, demo_infosec_register(seed=2024))
