"""Per entity then aggregated (from numerators and denominators) equals the pooled roster."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from workforce_data import END, START

from esgledger.calc.workforce import (
    BREAKDOWNS,
    GROUP,
    METRICS,
    TURNOVER_BASES,
    aggregate_totals,
    compute_workforce,
)
from esgledger.domain.diagnostics import has_errors

KEY = ["metric_id", "entity_id"]
NUMBERS = ["value", "numerator", "denominator"]
BASE = date(2024, 1, 1)


@st.composite
def employees(draw: st.DrawFn) -> dict[str, Any]:
    birth_year = draw(st.one_of(st.none(), st.integers(1944, 2009)))
    hire = BASE + timedelta(days=draw(st.integers(-2000, 365)))
    stay = draw(st.one_of(st.none(), st.integers(0, 2000)))
    taken = draw(st.booleans())

    def code(column: str) -> str | None:
        return draw(st.sampled_from([*BREAKDOWNS[column][1], None]))

    return {
        "employee_id": "",
        "entity_id": draw(st.sampled_from(["A", "B", "C"])),
        "gender": draw(st.sampled_from(["male", "female", "other", "undisclosed"])),
        "birth_year": birth_year,
        "age_band": draw(st.sampled_from(BREAKDOWNS["age"][1])) if birth_year is None else None,
        **{column: code(column) for column in ("level", "tier", "education", "region")},
        "hire_date": pd.Timestamp(hire),
        "leave_date": pd.NaT if stay is None else pd.Timestamp(hire + timedelta(days=stay)),
        "training_hours": draw(st.integers(0, 400)) / 2,
        "parental_leave_taken": taken,
        "parental_leave_returned": taken and draw(st.booleans()),
        "disability": draw(st.booleans()),
        "ethnic_minority": draw(st.booleans()),
        "veteran": draw(st.booleans()),
    }


def _frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    frame["employee_id"] = [f"X{i}" for i in range(len(frame))]
    frame["birth_year"] = frame["birth_year"].astype("Int64")
    for column in ("hire_date", "leave_date"):
        frame[column] = frame[column].astype("datetime64[ns]")
    return frame


def _same(left: pd.DataFrame, right: pd.DataFrame) -> None:
    merged = left.merge(right, on=KEY, how="outer", suffixes=("_l", "_r"), indicator=True)
    assert (merged["_merge"] == "both").all(), merged[merged["_merge"] != "both"]
    for column in NUMBERS:
        a, b = merged[f"{column}_l"].to_numpy(), merged[f"{column}_r"].to_numpy()
        ok = np.isclose(a, b, rtol=1e-12, atol=1e-9, equal_nan=True)
        assert ok.all(), merged.loc[~ok, [*KEY, f"{column}_l", f"{column}_r"]]


@settings(max_examples=50, deadline=None)
@given(
    rows=st.lists(employees(), min_size=1, max_size=40),
    basis=st.sampled_from(TURNOVER_BASES),
)
def test_aggregating_entities_equals_pooled(rows: list[dict[str, Any]], basis: str) -> None:
    roster = _frame(rows)
    pooled = compute_workforce(roster, START, END, turnover_basis=basis)
    per_entity = pd.concat(
        [
            compute_workforce(part, START, END, turnover_basis=basis).query("entity_id == @e")
            for e, part in roster.groupby("entity_id")
        ],
        ignore_index=True,
    )
    combined, diagnostics = aggregate_totals(per_entity.drop(columns="unit"))
    assert diagnostics == []
    _same(combined, pooled)

    # A ratio of the group is a weighted mean of the entity ratios, so never their sum: checked
    # where every entity with a numerator has a denominator (an entity whose people all came
    # and left in the period has leavers but no average headcount: its ratio is undefined).
    ratios = [m for m, spec in METRICS.items() if spec.is_ratio]
    entity_rows = pooled[pooled["metric_id"].isin(ratios) & (pooled["entity_id"] != GROUP)]
    group = pooled[pooled["entity_id"] == GROUP].set_index("metric_id")["value"]
    for metric, part in entity_rows.groupby("metric_id"):
        if ((part["numerator"] > 0) & (part["denominator"] == 0)).any():
            continue
        defined = part[part["denominator"] > 0]["value"]
        if defined.empty:
            continue
        value = group[metric]
        assert defined.min() - 1e-9 <= value <= defined.max() + 1e-9, metric
        if len(defined) >= 2 and value > 0:
            assert not np.isclose(value, defined.sum()), metric


def test_roster_and_reported_totals_combine(small_roster: pd.DataFrame) -> None:
    """G01 from its roster, G02 as reported totals: the group equals the pooled roster."""
    pooled = compute_workforce(small_roster, START, END)
    g01 = compute_workforce(small_roster[small_roster["entity_id"] == "G01"], START, END)
    g02_totals = pooled[pooled["entity_id"] == "G02"].drop(columns="unit")
    combined, diagnostics = aggregate_totals(g02_totals, computed=g01)
    assert diagnostics == []
    _same(combined, pooled)


def test_ratio_without_parts_cannot_be_combined(small_roster: pd.DataFrame) -> None:
    computed = compute_workforce(small_roster[small_roster["entity_id"] == "G01"], START, END)
    inputs = pd.DataFrame(
        {
            "metric_id": ["workforce.headcount", "workforce.turnover_rate", "training.coverage"],
            "entity_id": ["G03", "G03", "G03"],
            "value": [120, 18.5, None],
            "numerator": [None, None, 80],
            "denominator": [None, None, 120],
            "row": [2, 3, 4],
        }
    )
    combined, diagnostics = aggregate_totals(inputs, computed=computed, source="totals.csv")
    errors = [d for d in diagnostics if d.severity == "error"]
    assert [(d.code, d.row) for d in errors] == [("ratio-parts", 3)]
    assert str(errors[0]).startswith("totals.csv:3:metric_id: workforce.turnover_rate of G03")
    group = combined[combined["entity_id"] == GROUP].set_index("metric_id")
    assert "workforce.turnover_rate" not in group.index  # no group figure rather than a wrong one
    assert group.loc["workforce.headcount", "value"] == 7 + 120
    # coverage: (5 + 80) / (7 + 120), and G03's value was filled from its parts
    assert group.loc["training.coverage", "value"] == 100 * 85 / 127
    g03 = combined[(combined["entity_id"] == "G03")].set_index("metric_id")
    assert g03.loc["training.coverage", "value"] == 100 * 80 / 120
    warnings = [d for d in diagnostics if d.code == "coverage"]
    assert len(warnings) == 1 and "G03" in warnings[0].message


def test_unknown_duplicate_and_group_inputs_are_refused() -> None:
    inputs = pd.DataFrame(
        {
            "metric_id": ["workforce.headcount", "workforce.headcount", "x.y", "workforce.leavers"],
            "entity_id": ["G03", "G03", "G03", GROUP],
            "value": [1, 2, 3, 4],
        }
    )
    combined, diagnostics = aggregate_totals(inputs)
    assert sorted(d.code for d in diagnostics if has_errors([d])) == [
        "duplicate",
        "group-input",
        "metric-unknown",
    ]
    assert combined[combined["entity_id"] == GROUP].empty
