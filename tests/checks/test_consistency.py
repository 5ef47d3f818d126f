"""Consistency checks: planted inconsistencies are found exactly, rounding alone never is, and the
seed's published key performance table yields its known inconsistencies."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from esgledger.checks import (
    CONSISTENCY_RULES,
    ConsistencySettings,
    Finding,
    load_consistency_settings,
    parse_consistency_settings,
    run_checks,
)
from esgledger.checks.consistency import linear_formula
from esgledger.domain.diagnostics import Severity
from esgledger.metrics import Catalogue, Metric, load_catalogue
from esgledger.units import parse_unit, registry

CATALOGUE = load_catalogue()
SEED_KPI = Path(__file__).resolve().parents[3] / "shared" / "seed" / "kpi_2024.csv"
YEAR = 2024


# ------------------------------------------------------------------ a consistent set of figures


def _factor(m: Metric) -> float:
    n, d = CATALOGUE.get(str(m.numerator)), CATALOGUE.get(str(m.denominator))
    ratio = registry.Quantity(1.0, parse_unit(n.unit)) / registry.Quantity(1.0, parse_unit(d.unit))
    return float(ratio.to(parse_unit(m.unit)).magnitude)


def _depth(metric_id: str) -> int:
    depth, current = 0, CATALOGUE.get(metric_id)
    while current.parent:
        depth, current = depth + 1, CATALOGUE.get(current.parent)
    return depth


def consistent_values(
    rng: np.random.Generator, low: float = 0.0, high: float = 6.0
) -> dict[str, float]:
    """One entity-year of figures for every catalogue metric, built from the catalogue alone:
    free figures drawn at their precision, parts of a whole drawn as a fraction of it, every
    summing breakdown split exactly, linear formulas and ratios derived and then rounded to the
    published precision."""
    summing = [b for b in CATALOGUE.breakdowns() if b.sums_to_parent]
    linear = {
        m.metric_id: parsed
        for m in CATALOGUE.by_kind("computed")
        if (parsed := linear_formula(m, CATALOGUE)) is not None
    }
    parents = {b.parent for b in summing}
    free = [
        m
        for m in CATALOGUE
        if not m.is_ratio and not m.parent and (m.metric_id not in linear or m.metric_id in parents)
    ]
    values: dict[str, float] = {}
    for m in free:
        scale = 10.0**-m.precision
        values[m.metric_id] = round(10 ** rng.uniform(low, high) / scale) * scale
    # the numerator of a ratio of like units is drawn as a part of its denominator
    drawn = set()
    for m in CATALOGUE:
        if m.is_ratio and m.numerator in values and m.denominator in values:
            n, d = CATALOGUE.get(str(m.numerator)), CATALOGUE.get(str(m.denominator))
            if parse_unit(n.unit) == parse_unit(d.unit):
                assert d.metric_id not in drawn, "a drawn part is itself a whole: re-order"
                unit = 10.0**-n.precision
                values[n.metric_id] = math.floor(rng.uniform() * values[d.metric_id] / unit) * unit
                drawn.add(n.metric_id)
    for b in sorted(summing, key=lambda b: _depth(b.parent)):
        precision = min(CATALOGUE.get(m).precision for m in b.members)
        units = round(values[b.parent] * 10**precision)
        split = rng.multinomial(units, rng.dirichlet(np.ones(len(b.members))))
        values[b.parent] = units / 10**precision
        values.update({m: int(u) / 10**precision for m, u in zip(b.members, split, strict=True)})
    for metric_id, (terms, _) in linear.items():
        if metric_id not in parents:
            total = sum(c * values[t] for t, c in terms)
            values[metric_id] = round(total, CATALOGUE.get(metric_id).precision)
    for m in CATALOGUE:
        if m.is_ratio and values.get(str(m.denominator), 0) > 0:
            exact = values[str(m.numerator)] / values[str(m.denominator)] * _factor(m)
            values[m.metric_id] = round(exact, m.precision)
    missing = [m.metric_id for m in CATALOGUE if m.metric_id not in values]
    assert all(CATALOGUE.get(m).is_ratio for m in missing), missing
    return values


def table(
    values: dict[str, float], entity: str = "*", year: int = YEAR, published: bool = False
) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "metric_id": list(values),
            "entity_id": entity,
            "year": year,
            "value": list(values.values()),
        }
    )
    if published:
        frame["published"] = [f"{v:,.{CATALOGUE.get(m).precision}f}" for m, v in values.items()]
    return frame


def keys(findings: list[Finding]) -> set[tuple[str, str, str, int]]:
    return {(f.rule, f.metric_id, f.entity_id, f.year) for f in findings}


BASE = consistent_values(np.random.default_rng(7), low=3.0, high=6.0)


def test_the_base_set_is_consistent() -> None:
    assert run_checks(table(BASE), CATALOGUE) == []


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    low=st.floats(0.0, 4.0),
    entities=st.integers(1, 3),
    published=st.booleans(),
)
def test_rounding_alone_never_raises_a_finding(
    seed: int, low: float, entities: int, published: bool
) -> None:
    rng = np.random.default_rng(seed)
    frames = [
        table(consistent_values(rng, low, low + 3.0), f"E{i}", published=published)
        for i in range(entities)
    ]
    findings = run_checks(pd.concat(frames, ignore_index=True), CATALOGUE)
    assert findings == [], "\n".join(map(str, findings))


# ------------------------------------------------------------------------ planted, all at once


def test_each_rule_finds_exactly_the_planted_inconsistencies() -> None:
    v = dict(BASE)
    # breakdown: one member of the level breakdown 7 persons too high
    v["workforce.headcount.level_core"] += 7
    # ratio: an intensity 50 % above its numerator over its denominator
    intensity = v["ghg.intensity_revenue"]
    v["ghg.intensity_revenue"] = round(intensity * 1.5, 4)
    # rate_breakdown: the per-capita hours above every member, its parts absent
    top = max(v[m] for m in CATALOGUE.ids() if m.startswith("training.hours_per_capita."))
    v["training.hours_per_capita"] = top + 5
    del v["training.hours_total"]
    # formula: 10,000 L of gasoline more than the energy total counts
    v["energy.gasoline"] += 10_000
    # bounds: a share above 100 (consistent with its parts) and a negative count
    v["workforce.survey_satisfied"] = round(v["workforce.survey_respondents"] * 1.1)
    v["workforce.satisfaction"] = round(
        v["workforce.survey_satisfied"] / v["workforce.survey_respondents"] * 100, 1
    )
    v["workforce.labour_disputes"] = -1
    # not a finding: a turnover rate above 100 (a flow over a stock), consistent with its parts
    extra = v["workforce.headcount.male"] * 2
    for leavers in ("workforce.leavers", "workforce.leavers.male", "workforce.leavers.age_lt35"):
        v[leavers] += extra
    for rate, n, d in (
        ("workforce.turnover_rate.male", "workforce.leavers.male", "workforce.headcount.male"),
        ("workforce.turnover_rate", "workforce.leavers", "workforce.headcount"),
        (
            "workforce.turnover_rate.age_lt35",
            "workforce.leavers.age_lt35",
            "workforce.headcount.age_lt35",
        ),
    ):
        v[rate] = round(v[n] / v[d] * 100, 2)
    found = run_checks(table(v), CATALOGUE)
    assert keys(found) == {
        ("breakdown", "workforce.headcount", "*", YEAR),
        ("ratio", "ghg.intensity_revenue", "*", YEAR),
        ("rate_breakdown", "training.hours_per_capita", "*", YEAR),
        ("formula", "energy.total_tce", "*", YEAR),
        ("bounds", "workforce.satisfaction", "*", YEAR),
        ("bounds", "workforce.labour_disputes", "*", YEAR),
    }, "\n".join(map(str, found))
    by_rule = {f.rule: f for f in found if f.rule not in {"bounds", "rate_breakdown"}}
    means = [f for f in found if f.rule == "rate_breakdown"]
    assert sorted(f.message.split(" members")[0].rsplit(" ", 1)[1] for f in means) == [
        "gender",
        "tier",
    ]
    assert all(f.difference >= 5 - 1e-9 for f in means)  # above the highest of both breakdowns
    breakdown = by_rule["breakdown"]
    assert breakdown.difference == pytest.approx(-7)
    assert breakdown.tolerance == pytest.approx(2.0)
    assert [m for m, _ in breakdown.figures] == [
        "workforce.headcount",
        "workforce.headcount.level_staff",
        "workforce.headcount.level_core",
        "workforce.headcount.level_management",
    ]
    ratio = by_rule["ratio"]
    expected = v["ghg.total"] / v["finance.revenue"]
    assert ratio.difference == pytest.approx(v["ghg.intensity_revenue"] - expected)
    assert dict(ratio.figures) == {
        "ghg.intensity_revenue": v["ghg.intensity_revenue"],
        "ghg.total": v["ghg.total"],
        "finance.revenue": v["finance.revenue"],
    }
    formula = by_rule["formula"]
    assert formula.severity is Severity.WARNING  # written coefficients
    assert formula.difference == pytest.approx(-10_000 * 0.73 * 1.4714 / 1000, abs=0.01)
    bounds = {f.metric_id: f for f in found if f.rule == "bounds"}
    assert bounds["workforce.labour_disputes"].difference == -1
    assert bounds["workforce.satisfaction"].difference == pytest.approx(
        v["workforce.satisfaction"] - 100
    )


# --------------------------------------------------------------------------- rules one by one


def figures(*rows: tuple[str, float], entity: str = "*", year: int = YEAR) -> pd.DataFrame:
    return pd.DataFrame(
        [{"metric_id": m, "entity_id": entity, "year": year, "value": v} for m, v in rows]
    )


LEVELS = (
    "workforce.headcount.level_staff",
    "workforce.headcount.level_core",
    "workforce.headcount.level_management",
)


@pytest.mark.parametrize(("gap", "found"), [(2, False), (-2, False), (3, True), (-3, True)])
def test_breakdown_tolerance_is_half_a_unit_per_figure(gap: int, found: bool) -> None:
    frame = figures(("workforce.headcount", 100 + gap), *zip(LEVELS, (60, 30, 10), strict=True))
    result = run_checks(frame, CATALOGUE)
    assert keys(result) == ({("breakdown", "workforce.headcount", "*", YEAR)} if found else set())
    if found:
        assert result[0].difference == gap
        assert result[0].tolerance == pytest.approx(4 * 0.5)


def test_a_partial_breakdown_asserts_nothing() -> None:
    frame = figures(("workforce.headcount", 1000), (LEVELS[0], 60), (LEVELS[1], 30))
    assert run_checks(frame, CATALOGUE) == []


def test_published_precision_widens_the_tolerance_and_a_lower_bound_is_no_equality() -> None:
    frame = figures(
        ("training.hours_total", 100.0),
        *((f"training.hours_total.{t}", v) for t, v in (("male", 60.0), ("female", 39.6))),
    )
    assert keys(run_checks(frame, CATALOGUE)) == {("breakdown", "training.hours_total", "*", YEAR)}
    frame["published"] = ["100", "60", "39.6"]  # printed without decimals: +-0.5 each
    assert run_checks(frame, CATALOGUE) == []
    frame["published"] = ["100.00", "60.00+", "39.60"]  # a lower bound: no total to meet
    assert run_checks(frame, CATALOGUE) == []


def test_ratio_tolerance_propagates_the_rounding_of_its_parts() -> None:
    # 100 / 300 = 33.33 %; tolerance 0.05 (1 decimal) + 100 x 0.5 / 300 + 100 x 100 x 0.5 /
    # 300**2 (0-decimal parts) = 0.272: 33.5 is within the rounding, 33.7 is not
    base = (("workforce.survey_satisfied", 100), ("workforce.survey_respondents", 300))
    ok = figures(*base, ("workforce.satisfaction", 33.5))
    assert run_checks(ok, CATALOGUE) == []
    bad = figures(*base, ("workforce.satisfaction", 33.7))
    (finding,) = run_checks(bad, CATALOGUE)
    assert finding.rule == "ratio"
    assert finding.difference == pytest.approx(33.7 - 100 / 3)
    assert finding.tolerance == pytest.approx(0.05 + 100 * 0.5 / 300 + 100 * 100 * 0.5 / 300**2)
    assert "x 100" in finding.message
    assert finding.figures == (
        ("workforce.satisfaction", 33.7),
        ("workforce.survey_satisfied", 100.0),
        ("workforce.survey_respondents", 300.0),
    )


def test_ratio_parts_carried_by_the_row() -> None:
    frame = figures(("workforce.turnover_rate", 30.0))
    frame["numerator"], frame["denominator"] = [25.0], [100.0]
    (finding,) = run_checks(frame, CATALOGUE)
    assert finding.rule == "ratio"
    assert finding.difference == pytest.approx(5.0)
    assert "carried by the ratio row" in finding.message
    frame["value"] = [25.0]
    assert run_checks(frame, CATALOGUE) == []


def test_ratio_factor_follows_the_units() -> None:
    # 9.79 (100M CNY) / 978,000 (10k CNY) in % is x 1,000,000, not the scale 100 alone
    frame = figures(
        ("innovation.rd_investment", 9.79),
        ("finance.revenue", 978_000.0),
        ("innovation.rd_revenue_share", 10.01),
    )
    assert run_checks(frame, CATALOGUE) == []


def test_rate_breakdown_holds_for_any_additive_denominator() -> None:
    # turnover 27.89 with members 29.96, 18.72, 18.99: inside the range, whatever the weights
    rows = [
        ("workforce.turnover_rate", 27.89),
        ("workforce.turnover_rate.age_lt35", 29.96),
        ("workforce.turnover_rate.age_35_50", 18.72),
        ("workforce.turnover_rate.age_gt50", 18.99),
    ]
    assert run_checks(figures(*rows), CATALOGUE) == []
    rows[0] = ("workforce.turnover_rate", 18.66)
    (finding,) = run_checks(figures(*rows), CATALOGUE)
    assert finding.rule == "rate_breakdown"
    assert finding.difference == pytest.approx(18.66 - 18.72)
    assert finding.tolerance == pytest.approx(0.005 + 0.005)
    assert run_checks(figures(*rows[:3]), CATALOGUE) == []  # a member missing: nothing


def _without_scope_breakdown() -> Catalogue:
    return Catalogue(
        tuple(
            dataclasses.replace(m, parent=None, dimension=None, member=None)
            if m.parent == "ghg.total"
            else m
            for m in CATALOGUE
        )
    )


def test_a_plain_sum_formula_is_an_error_and_not_reported_twice() -> None:
    frame = figures(
        ("ghg.scope1", 10.0), ("ghg.scope2", 20.0), ("ghg.scope3", 30.0), ("ghg.total", 61.0)
    )
    (finding,) = run_checks(frame, CATALOGUE)
    assert (finding.rule, finding.severity) == ("breakdown", Severity.ERROR)
    (finding,) = run_checks(frame, _without_scope_breakdown())
    assert (finding.rule, finding.severity) == ("formula", Severity.ERROR)
    assert finding.difference == pytest.approx(1.0)
    assert finding.tolerance == pytest.approx(4 * 0.005)


def test_bounds() -> None:
    rows = [
        ("workforce.turnover_rate", 120.0),  # flow over stock: may exceed 100
        ("innovation.rd_revenue_share", 150.0),  # different units: not a share
        ("training.coverage", 101.0),  # trained in the year (flow) / closing headcount
        ("diversity.women_senior_mgmt_pct", 101.0),  # numerator is a member of the denominator
        ("governance.board_female_pct", -1.0),
        ("workforce.headcount", -3.0),
        ("infosec.trainings", -30.0),
    ]
    frame = figures(*rows)
    frame["published"] = ["120", "150", "101", "101", "-1", "-3", "-30+"]
    assert keys(run_checks(frame, CATALOGUE)) == {
        ("bounds", "diversity.women_senior_mgmt_pct", "*", YEAR),
        ("bounds", "governance.board_female_pct", "*", YEAR),
        ("bounds", "workforce.headcount", "*", YEAR),
    }


def test_year_on_year_jumps_are_warnings() -> None:
    base = {"water.withdrawal": 900.0, "ghg.scope2_market": 100.0, "waste.hazardous": 3.0}
    later = {"water.withdrawal": 299.0, "ghg.scope2_market": 290.0, "waste.hazardous": 0.0}
    later["community.investment"] = 5.0  # no previous year: nothing to compare
    frame = pd.concat([table(base, year=2023), table(later, year=2024)], ignore_index=True)
    found = run_checks(frame, CATALOGUE)
    assert keys(found) == {
        ("yoy", "water.withdrawal", "*", 2024),
        ("yoy", "waste.hazardous", "*", 2024),
    }
    assert {f.severity for f in found} == {Severity.WARNING}
    water = next(f for f in found if f.metric_id == "water.withdrawal")
    assert water.figures == (("water.withdrawal", 900.0), ("water.withdrawal", 299.0))
    assert water.difference == -601.0
    assert water.tolerance == pytest.approx(600.0)
    looser = ConsistencySettings(yoy_factor=4)
    assert keys(run_checks(frame, CATALOGUE, looser)) == {("yoy", "waste.hazardous", "*", 2024)}


def test_order_is_deterministic_and_input_is_validated() -> None:
    v = dict(BASE)
    v["workforce.headcount.level_core"] += 7
    v["workforce.labour_disputes"] = -1
    frame = pd.concat([table(v, "E2"), table(v, "E1")], ignore_index=True)
    first = run_checks(frame, CATALOGUE)
    again = run_checks(frame.sample(frac=1, random_state=3), CATALOGUE)
    assert first == again
    assert [(f.entity_id, f.rule) for f in first] == [
        ("E1", "breakdown"),
        ("E1", "bounds"),
        ("E2", "breakdown"),
        ("E2", "bounds"),
    ]
    with pytest.raises(ValueError, match="more than one value"):
        run_checks(pd.concat([frame, frame.head(1)]), CATALOGUE)
    with pytest.raises(ValueError, match="lack column"):
        run_checks(frame.drop(columns="year"), CATALOGUE)
    with pytest.raises(ValueError, match="not a number"):
        run_checks(frame.assign(value="x"), CATALOGUE)


def test_settings() -> None:
    assert load_consistency_settings() == ConsistencySettings()
    assert CONSISTENCY_RULES[-1] == "yoy"
    parsed, problems = parse_consistency_settings("setting,value,description\nyoy_factor,2,\n")
    assert parsed == ConsistencySettings(yoy_factor=2) and problems == []
    parsed, problems = parse_consistency_settings(
        "setting,value,description\nyoy_factor,0.5,\nspeed,1,\npercent_upper,x,\n"
    )
    assert parsed is None
    assert [(p.row, p.column) for p in problems] == [(3, "setting"), (4, "value")]
    parsed, problems = parse_consistency_settings("setting,value,description\nyoy_factor,0.5,\n")
    assert parsed is None and "yoy_factor must be above 1" in problems[0].message
    with pytest.raises(ValueError, match="above 1"):
        ConsistencySettings(yoy_factor=1)


# ---------------------------------------------------------------------------- the seed table


def seed_figures() -> pd.DataFrame:
    kpi = pd.read_csv(SEED_KPI, dtype=str, keep_default_na=False)
    rows = CATALOGUE.seed_rows()
    return pd.DataFrame(
        {
            "metric_id": [rows[i].metric_id for i in range(1, len(kpi) + 1)],
            "entity_id": "*",
            "year": YEAR,
            "value": kpi["value_2024"].astype(float),
            "published": kpi["published"],
        }
    )


@pytest.mark.skipif(not SEED_KPI.exists(), reason="../shared/seed is not present")
def test_the_seed_table_has_exactly_its_known_inconsistencies() -> None:
    found = run_checks(seed_figures(), CATALOGUE)
    summary = {(f.rule, f.severity.value, f.metric_id, round(f.difference, 4)) for f in found}
    assert summary == {
        # 80,378 + 9,753 + 268 = 90,399 employees by level, not the 90,759 employees
        ("breakdown", "error", "workforce.headcount", 360.0),
        # 2,414,429.74 h / 90,759 = 26.60 h per capita, not the published 37.2
        ("ratio", "error", "training.hours_per_capita", 10.5974),
        # and 37.2 is above both its gender members (27.19 male, 25.33 female)
        ("rate_breakdown", "error", "training.hours_per_capita", 10.01),
        # 1,471.54 L x 0.73 x 1.4714 + 29,812 m3 x 1.33 + 45,074.37 MWh x 0.1229 = 5,580.8706
        # tce with the catalogue's coefficients, not 5,580.86 (tolerance 0.0063)
        ("formula", "warning", "energy.total_tce", -0.0106),
    }, "\n".join(map(str, found))
    level = next(f for f in found if f.rule == "breakdown")
    assert "= 90,399, not 90,759" in level.message
    ratio = next(f for f in found if f.rule == "ratio")
    assert "2,414,429.74 / workforce.headcount 90,759 = 26.6026" in ratio.message
    assert all(f.entity_id == "*" and f.year == YEAR for f in found)
