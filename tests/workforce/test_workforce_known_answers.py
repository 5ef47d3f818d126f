"""Known answers of every workforce formula on the small roster of workforce_data.py (2024)."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from workforce_data import END, START

from esgledger.calc.workforce import METRICS, compute_workforce

# Closing headcount (employed at 2024-12-31; F02 left on 2024-12-31 so is a leaver, not closing):
#   G01: E01 E02 E03 E04 E07 E09 E10 = 7        G02: F01 F03 F04 F06 = 4        group 11
# Opening (employed at the close of 2023-12-31; E08 left that day, F04 hired 2024-01-01):
#   G01: E01 E02 E03 E05 E07 E09 = 6            G02: F01 F02 F03 F05 F06 F07 = 6 group 12
# New hires (hired in 2024): G01 E04 E06 E10 = 3; G02 F04 = 1; group 4
# Leavers (left in 2024): G01 E05 E06 = 2; G02 F02 F05 F07 = 3; group 5
# Check: 6 + 3 - 2 = 7 and 6 + 1 - 3 = 4.
COUNTS: dict[str, tuple[float, float, float]] = {  # metric: (G01, G02, group)
    "workforce.headcount": (7, 4, 11),
    "workforce.headcount.male": (4, 1, 5),  # E01 E04 E07 E09 | F04 (F06 undisclosed)
    "workforce.headcount.female": (3, 2, 5),  # E02 E03 E10 | F01 F03
    "workforce.headcount.age_lt35": (3, 1, 4),  # E01 34, E04 29, E10 24 | F04 25
    "workforce.headcount.age_35_50": (3, 2, 5),  # E02 39, E07 49, E09 band | F01 36, F06 42
    "workforce.headcount.age_gt50": (1, 1, 2),  # E03 54 | F03 59
    "workforce.headcount.level_staff": (3, 1, 4),
    "workforce.headcount.level_core": (2, 2, 4),
    "workforce.headcount.level_management": (2, 1, 3),
    "workforce.headcount.edu_college_or_below": (2, 0, 2),  # E04 E10
    "workforce.headcount.edu_bachelor": (3, 3, 6),
    "workforce.headcount.edu_master_or_above": (2, 1, 3),
    "workforce.headcount.region_china": (6, 2, 8),  # E04's CN-GD counts as china
    "workforce.headcount.region_overseas": (1, 2, 3),  # E03 | F03 F04
    "workforce.headcount.tier_junior": (3, 1, 4),
    "workforce.headcount.tier_middle": (2, 2, 4),
    "workforce.headcount.tier_senior": (2, 1, 3),
    "workforce.headcount_opening": (6, 6, 12),
    "workforce.new_hires": (3, 1, 4),
    "workforce.leavers": (2, 3, 5),
    "workforce.leavers.male": (1, 2, 3),  # E05 | F02 F07
    "workforce.leavers.female": (1, 1, 2),  # E06 | F05
    "workforce.leavers.age_lt35": (1, 3, 4),  # E06 26 | F02 34, F05 31, F07 28
    "workforce.leavers.age_35_50": (1, 0, 1),  # E05 44
    "workforce.leavers.age_gt50": (0, 0, 0),
    # hours of everyone employed at some time in 2024 (E08 left 2023-12-31: excluded)
    "training.hours_total": (155, 138, 293),  # 20+40+60+10+8+5+0+12+0 | 30+16+50+24+2+10+6
    "diversity.ethnic_minority": (1, 1, 2),  # E03 | F06
    "diversity.disabled": (1, 0, 1),  # E09
    "diversity.veterans": (1, 0, 1),  # E07
}

# Ratios: (numerator, denominator) per G01, G02, group; value = numerator / denominator x scale.
# Turnover, average basis: leavers / ((opening + closing) / 2).
#   opening by gender: G01 m 4 (E01 E05 E07 E09) f 2; G02 m 2 (F02 F07) f 3 (F01 F03 F05)
#   opening by age: G01 lt35 1, 35_50 4, gt50 1; G02 lt35 3 (F02 F05 F07), 35_50 2, gt50 1
RATIOS: dict[str, tuple[tuple[float, float], ...]] = {
    "workforce.turnover_rate": ((2, 6.5), (3, 5), (5, 11.5)),  # 30.77, 60, 43.48 (not 90.77)
    "workforce.turnover_rate.male": ((1, 4), (2, 1.5), (3, 5.5)),
    "workforce.turnover_rate.female": ((1, 2.5), (1, 2.5), (2, 5)),
    "workforce.turnover_rate.age_lt35": ((1, 2), (3, 2), (4, 4)),
    "workforce.turnover_rate.age_35_50": ((1, 3.5), (0, 2), (1, 5.5)),
    "workforce.turnover_rate.age_gt50": ((0, 1), (0, 1), (0, 2)),
    # per capita: hours of the group / its closing headcount
    "training.hours_per_capita": ((155, 7), (138, 4), (293, 11)),  # 22.14, 34.5, 26.64
    "training.hours_per_capita.male": ((50, 4), (46, 1), (96, 5)),  # 20+10+8+0+12 | 16+24+6
    "training.hours_per_capita.female": ((105, 3), (82, 2), (187, 5)),  # 40+60+5+0 | 30+50+2
    "training.hours_per_capita.tier_junior": ((35, 3), (48, 1), (83, 4)),  # 20+10+5+0 | 16+24+2+6
    "training.hours_per_capita.tier_middle": ((60, 2), (40, 2), (100, 4)),  # 40+8+12 | 30+10
    "training.hours_per_capita.tier_senior": ((60, 2), (50, 1), (110, 3)),  # 60+0 | 50
    # closing employees with hours > 0: E01 E02 E03 E04 E09 | all four
    "training.coverage": ((5, 7), (4, 4), (9, 11)),
    "diversity.women_middle_mgmt_pct": ((1, 2), (1, 2), (2, 4)),  # E02 of E02 E09 | F01 of F01 F06
    "diversity.women_senior_mgmt_pct": ((1, 2), (1, 1), (2, 3)),  # E03 of E03 E07 | F03: 66.7
    # took leave and employed in 2024: E02 (returned) | F01 (returned), F02 (not); E08 left 2023
    "workforce.parental_leave_return_rate": ((1, 1), (1, 2), (2, 3)),
}
ENTITIES = ("G01", "G02", "*")


def _table(result: pd.DataFrame) -> pd.DataFrame:
    return result.set_index(["metric_id", "entity_id"])


def test_every_metric_is_known(small_roster: pd.DataFrame) -> None:
    result = compute_workforce(small_roster, START, END, turnover_basis="average")
    assert set(COUNTS) | set(RATIOS) == set(METRICS)
    assert list(result.columns) == [
        "metric_id",
        "entity_id",
        "value",
        "numerator",
        "denominator",
        "unit",
    ]
    assert len(result) == len(METRICS) * 3


@pytest.mark.parametrize("metric", sorted(COUNTS))
def test_counts(small_roster: pd.DataFrame, metric: str) -> None:
    result = _table(compute_workforce(small_roster, START, END, turnover_basis="average"))
    for entity, expected in zip(ENTITIES, COUNTS[metric], strict=True):
        row = result.loc[(metric, entity)]
        assert row["value"] == expected, (metric, entity)
        assert pd.isna(row["numerator"]) and pd.isna(row["denominator"])


@pytest.mark.parametrize("metric", sorted(RATIOS))
def test_ratios(small_roster: pd.DataFrame, metric: str) -> None:
    result = _table(compute_workforce(small_roster, START, END, turnover_basis="average"))
    scale = METRICS[metric].scale
    for entity, (num, den) in zip(ENTITIES, RATIOS[metric], strict=True):
        row = result.loc[(metric, entity)]
        assert (row["numerator"], row["denominator"]) == (num, den), (metric, entity)
        assert row["value"] == pytest.approx(num / den * scale), (metric, entity)


def test_headline_values(small_roster: pd.DataFrame) -> None:
    result = _table(compute_workforce(small_roster, START, END, turnover_basis="average"))["value"]
    assert result[("workforce.turnover_rate", "*")] == pytest.approx(100 * 5 / 11.5)  # 43.48
    assert result[("training.hours_per_capita.female", "*")] == pytest.approx(37.4)
    assert result[("training.coverage", "*")] == pytest.approx(100 * 9 / 11)  # 81.82
    assert result[("diversity.women_senior_mgmt_pct", "*")] == pytest.approx(200 / 3)
    assert result[("workforce.parental_leave_return_rate", "*")] == pytest.approx(200 / 3)


# Turnover with the other bases: leavers / closing, leavers / (closing + leavers).
@pytest.mark.parametrize(
    ("basis", "expected"),
    [
        ("average", {"G01": (2, 6.5), "G02": (3, 5), "*": (5, 11.5)}),
        ("closing", {"G01": (2, 7), "G02": (3, 4), "*": (5, 11)}),  # 28.57, 75, 45.45
        ("closing_plus_leavers", {"G01": (2, 9), "G02": (3, 7), "*": (5, 16)}),  # 22.2 42.9 31.25
    ],
)
def test_turnover_bases(
    small_roster: pd.DataFrame, basis: str, expected: dict[str, tuple[float, float]]
) -> None:
    result = _table(compute_workforce(small_roster, START, END, turnover_basis=basis))
    for entity, (num, den) in expected.items():
        row = result.loc[("workforce.turnover_rate", entity)]
        assert (row["numerator"], row["denominator"]) == (num, den)
        assert row["value"] == pytest.approx(100 * num / den)
    # by gender, closing basis: group male 3 / 5 = 60 %, female 2 / 5 = 40 %
    if basis == "closing":
        assert result.loc[("workforce.turnover_rate.male", "*"), "value"] == pytest.approx(60)
        assert result.loc[("workforce.turnover_rate.female", "*"), "value"] == pytest.approx(40)


def test_unknown_basis_and_reversed_period(small_roster: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="turnover_basis"):
        compute_workforce(small_roster, START, END, turnover_basis="median")
    with pytest.raises(ValueError, match="before its start"):
        compute_workforce(small_roster, END, START)


def test_first_half_period(small_roster: pd.DataFrame) -> None:
    """H1 2024: closing at 2024-06-30 counts E05 (left that day) as a leaver, E10 not hired."""
    result = _table(compute_workforce(small_roster, START, date(2024, 6, 30)))["value"]
    # G01 employed 2024-06-30: E01 E02 E03 E04 E06 E07 E09 = 7; G02: F01 F02 F03 F04 F06 F07 = 6
    assert result[("workforce.headcount", "G01")] == 7
    assert result[("workforce.headcount", "G02")] == 6
    assert result[("workforce.leavers", "*")] == 2  # E05 2024-06-30, F05 2024-01-01
    assert result[("workforce.new_hires", "*")] == 3  # E04 E06 F04
    # ages stay at 2024 - birth year (the period ends in 2024)
    assert result[("workforce.headcount.age_lt35", "G02")] == 3  # F02 F04 F07


def test_empty_denominator_gives_no_value(small_roster: pd.DataFrame) -> None:
    only_g02 = small_roster[small_roster["entity_id"] == "G02"]
    result = _table(compute_workforce(only_g02, START, END))
    row = result.loc[("training.hours_per_capita.tier_junior", "G02")]
    assert row["value"] == 48
    empty = _table(compute_workforce(small_roster.iloc[:0], START, END))
    assert empty.loc[("workforce.headcount", "*"), "value"] == 0
    assert pd.isna(empty.loc[("workforce.turnover_rate", "*"), "value"])


def test_the_default_turnover_basis_is_closing_headcount(small_roster: pd.DataFrame) -> None:
    default = _table(compute_workforce(small_roster, START, END))
    closing = _table(compute_workforce(small_roster, START, END, turnover_basis="closing"))
    assert default.equals(closing)
