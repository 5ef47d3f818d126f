"""Cost-optimal abatement: catalogue checks, CRF and MACC, the MILP against hand-solved and
brute-forced instances, shadow prices, pathways, the energy plan and the ledger adapter."""

from __future__ import annotations

import csv
import io
import itertools
import math
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from esgledger.report.model import Chart
from esgledger.report.strategy_charts import macc_chart
from esgledger.store.ledger import Ledger
from esgledger.strategy.abatement import (
    CATALOGUE_COLUMNS,
    LEVERS,
    CatalogueError,
    InfeasiblePlanError,
    annualised_cost,
    applicable,
    crf,
    default_grid_factor,
    default_rate,
    energy_plan,
    load_catalogue,
    load_parameters,
    macc,
    plan_for_abatement,
    plan_for_cap,
    plan_pathway,
    read_catalogue,
    verify_plan,
)
from esgledger.usecases.strategy import baseline_from_ledger

YEAR = 2030


def measure(measure_id: str, abatement: float, cost: float, **overrides: object) -> dict[str, str]:
    """A catalogue row: by default a yes/no measure of ``abatement`` tCO2e/year costing
    ``cost`` CNY/year (no capital, lifetime 1: its equivalent annual cost is ``cost``)."""
    row: dict[str, object] = {
        "measure_id": measure_id,
        "name_en": measure_id,
        "name_zh": measure_id,
        "lever": "energy_management",
        "scope": 2,
        "abatement_t_per_year": abatement,
        "grid_mwh_per_year": "",
        "capex_cny": 0,
        "opex_cny_per_year": cost,
        "lifetime_years": 1,
        "start_year_min": 2025,
        "applicable_entities": "*",
        "max_units": 1,
        "unit": "measure",
        "divisible": "no",
        "requires": "",
        "excludes": "",
        "source": "test",
    }
    row.update(overrides)
    return {k: str(v) for k, v in row.items()}


def csv_text(rows: Sequence[Mapping[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def catalogue(rows: Sequence[Mapping[str, str]], grid_factor: float | None = None) -> pd.DataFrame:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "measures_test.csv"
        path.write_text(csv_text(rows), encoding="utf-8")
        return load_catalogue(path, grid_factor)


# -- data and catalogue checks ---------------------------------------------------------------


def test_packaged_parameters_and_catalogue_have_sources() -> None:
    parameters = load_parameters()
    assert default_rate() == parameters["discount_rate"][0] == 0.08
    assert default_grid_factor() == parameters["grid_factor"][0]
    assert all(source for _, _, source in parameters.values())
    assert "illustrative assumption" in parameters["discount_rate"][2]
    demo = load_catalogue()
    assert set(demo["lever"]) == set(LEVERS)
    assert demo["source"].str.contains("illustrative assumption for the demo").all()
    wanted = {
        "led_retrofit",
        "hvac_setpoints",
        "server_virtualisation",
        "rooftop_pv",
        "green_certificates",
        "shuttle_electric",
        "travel_policy",
        "office_consolidation",
        "supplier_renewables",
        "ewaste_recycling",
    }
    assert wanted <= set(demo["measure_id"])
    gec = demo.set_index("measure_id").loc["green_certificates"]
    assert gec["divisible"] and gec["unit"] == "MWh"
    assert gec["unit_abatement_t"] == pytest.approx(default_grid_factor())


def test_bad_catalogue_rows_are_located(tmp_path: Path) -> None:
    rows = [
        measure("a", 10, 100),
        measure("b", 10, 100, lever="magic", max_units=1.5),
        measure("a", -1, 100, requires="zzz", lifetime_years=0),
    ]
    path = tmp_path / "bad.csv"
    path.write_text(csv_text(rows), encoding="utf-8")
    frame, problems = read_catalogue(path)
    assert frame is None
    where = {(d.row, d.column) for d in problems}
    assert {
        (3, "lever"),
        (3, "max_units"),
        (4, "measure_id"),
        (4, "abatement_t_per_year"),
        (4, "lifetime_years"),
        (4, "requires"),
    } <= where
    assert any("'a' is on row 2" in d.message for d in problems if d.row == 4)
    text = [str(d) for d in problems]
    assert any(t.startswith("bad.csv:3:lever: expected a lever") for t in text)
    assert any(t.startswith("bad.csv:4:requires: expected ids of other measures") for t in text)
    with pytest.raises(CatalogueError, match=r"bad\.csv:3:max_units"):
        load_catalogue(path)


def test_missing_column_is_reported_on_the_header(tmp_path: Path) -> None:
    row = measure("a", 10, 100)
    del row["source"]
    path = tmp_path / "short.csv"
    path.write_text(csv_text([row]), encoding="utf-8")
    _, problems = read_catalogue(path)
    assert [str(p) for p in problems] == [
        "short.csv:1:source: expected a column 'source' [column-missing]"
    ]
    assert "source" in CATALOGUE_COLUMNS


def test_applicable_filters_by_entity() -> None:
    rows = [measure("a", 1, 1, applicable_entities="S01;S02"), measure("b", 1, 1)]
    cat = catalogue(rows)
    assert list(applicable(cat, ["S02"])["measure_id"]) == ["a", "b"]
    assert list(applicable(cat, ["S09"])["measure_id"]) == ["b"]


# -- costs and MACC --------------------------------------------------------------------------


def test_crf_known_values() -> None:
    # 1.08^10 = 2.158925; 0.08 * 2.158925 / 1.158925 = 0.149029
    assert crf(0.08, 10) == pytest.approx(0.1490295, rel=1e-6)
    assert crf(0.0, 4) == pytest.approx(0.25)
    assert crf(0.08, np.array([1, 10])) == pytest.approx([1.08, 0.1490295], rel=1e-6)


def test_annualised_cost_and_macc_order() -> None:
    rows = [
        measure("a", 10, 50, capex_cny=1000, lifetime_years=10),
        measure("b", 20, -100),
        measure("g", 0, 30, grid_mwh_per_year=1, divisible="yes", max_units=100, unit="MWh"),
    ]
    cat = catalogue(rows, grid_factor=0.5)
    annual = annualised_cost(cat, 0.08)
    assert annual.iloc[0] == pytest.approx(1000 * 0.1490295 + 50, rel=1e-6)
    curve = macc(cat, 0.08)
    assert list(curve["measure_id"]) == ["b", "a", "g"]
    assert curve["cost_cny_per_t"].tolist() == pytest.approx([-5.0, 19.90295 / 1.0, 60.0], rel=1e-5)
    assert curve["abatement_t_per_year"].tolist() == pytest.approx([20, 10, 50])
    assert curve["cumulative_t"].tolist() == pytest.approx([20, 30, 80])
    assert curve["start_t"].tolist() == pytest.approx([0, 20, 30])
    chart = macc_chart(curve, "zh")
    assert isinstance(chart, Chart) and chart.kind == "macc"
    assert chart.categories == ("b", "a", "g")
    assert [f.value for f in chart.series[0].figures] == pytest.approx([-5.0, 19.90295, 60.0])
    # widths: the yearly abatement, laid end to end in the curve's order
    assert [f.value for f in chart.series[1].figures] == pytest.approx([20, 10, 50])


def test_demo_macc_is_sorted_and_complete() -> None:
    curve = macc(load_catalogue())
    assert curve["cost_cny_per_t"].is_monotonic_increasing
    assert curve["cumulative_t"].iloc[-1] == pytest.approx(curve["abatement_t_per_year"].sum())
    assert len(macc_chart(curve).categories) == len(curve)


# -- the optimiser: hand-solved instances ----------------------------------------------------


def test_three_yes_no_measures() -> None:
    """A 10 t / 100 CNY, B 20 t / 150 CNY, C 30 t / 400 CNY, 30 t required. Subsets reaching
    30 t: {A,B} 250, {C} 400, {A,C} 500, {B,C} 550, {A,B,C} 650: the optimum is {A,B} at 250.

    Shadow prices: with the yes/no choices fixed nothing can move, so the fixed-LP price is
    0. The relaxation takes B (7.5 CNY/t) and A (10 CNY/t) whole and sits at a degenerate
    vertex: one tonne less saves A's 10 CNY/t, one tonne more costs C's 13.33 CNY/t, so its
    dual lies in [10, 13.33]."""
    cat = catalogue([measure("A", 10, 100), measure("B", 20, 150), measure("C", 30, 400)])
    plan = plan_for_abatement(cat, 30, YEAR)
    assert plan.chosen == ("A", "B")
    assert plan.total_cost_cny == pytest.approx(250)
    assert plan.abatement_t == pytest.approx(30)
    assert "cap 2030" in plan.binding
    assert plan.shadow_price == pytest.approx(0.0, abs=1e-9)
    assert 10 - 1e-6 <= plan.shadow_price_relaxed <= 400 / 30 + 1e-6
    assert verify_plan(plan).ok
    capped = plan_for_cap(cat, 1000, 970, YEAR)
    assert capped.chosen == ("A", "B")
    assert capped.years["emissions_t"].iloc[0] == pytest.approx(970)


def test_continuous_green_power_shadow_price() -> None:
    """E: yes/no, 200 t for 8,000 CNY/year (40 CNY/t). G: green power, divisible up to
    10,000 MWh, 1 MWh avoids 0.5 t (grid factor 0.5) at a 50 CNY/MWh premium (100 CNY/t).
    500 t required.

    Without E, G alone needs 1,000 MWh = 50,000 CNY. With E, G covers 300 t = 600 MWh =
    30,000 CNY: 38,000 in all, the optimum. G is strictly inside its bounds (0 < 600 <
    10,000), so its reduced cost is zero: ``50 - lambda * 0.5 = 0``, the dual of the
    requirement ``lambda = 100`` CNY/t, G's cost per tonne: one more tonne is 2 MWh more,
    100 CNY. E is at its upper bound (reduced cost 8,000 - 100 * 200 < 0), so the relaxation
    has the same vertex and the same dual."""
    rows = [
        measure("E", 200, 8000),
        measure(
            "G",
            0,
            50,
            grid_mwh_per_year=1,
            divisible="yes",
            max_units=10000,
            unit="MWh",
            lever="green_power",
        ),
    ]
    cat = catalogue(rows, grid_factor=0.5)
    plan = plan_for_abatement(cat, 500, YEAR)
    assert plan.units() == pytest.approx({"E": 1.0, "G": 600.0})
    assert plan.total_cost_cny == pytest.approx(38000)
    assert plan.shadow_price == pytest.approx(100)
    assert plan.shadow_price_relaxed == pytest.approx(100)
    assert verify_plan(plan).ok


def test_requires_forces_the_prerequisite() -> None:
    """A 30 t / 30 CNY needs B (5 t / 100); C 30 t / 120. For 30 t: A+B 130 > C 120, so C.
    For 35 t: A+B 130 beats C+B 220 and C+A... (A needs B): A+B."""
    rows = [measure("A", 30, 30, requires="B"), measure("B", 5, 100), measure("C", 30, 120)]
    cat = catalogue(rows)
    assert plan_for_abatement(cat, 30, YEAR).chosen == ("C",)
    plan = plan_for_abatement(cat, 35, YEAR)
    assert plan.chosen == ("A", "B")
    assert "requires A -> B 2030" in plan.binding
    assert verify_plan(plan).ok


def test_requires_a_divisible_measure_means_one_unit() -> None:
    """A (yes/no, 50 t, 10 CNY) requires G (divisible, 0.5 t per MWh at 100 CNY/MWh): taking
    A forces at least one MWh of G (an indicator alone does not count as adoption)."""
    rows = [
        measure("A", 50, 10, requires="G"),
        measure("G", 0, 100, grid_mwh_per_year=1, divisible="yes", max_units=1000, unit="MWh"),
    ]
    plan = plan_for_abatement(catalogue(rows, grid_factor=0.5), 50, YEAR)
    assert plan.units() == pytest.approx({"A": 1.0, "G": 1.0})
    assert plan.total_cost_cny == pytest.approx(110)
    assert verify_plan(plan).ok


def test_excludes() -> None:
    """A and B exclude each other (20 t / 20 CNY each); C 20 t / 100. 40 t: A+B is barred,
    so one of A, B and C: 120 CNY."""
    rows = [measure("A", 20, 20, excludes="B"), measure("B", 20, 20), measure("C", 20, 100)]
    plan = plan_for_abatement(catalogue(rows), 40, YEAR)
    assert "C" in plan.chosen and len(plan.chosen) == 2
    assert plan.total_cost_cny == pytest.approx(120)
    assert verify_plan(plan).ok


def test_infeasible_names_the_shortfall() -> None:
    rows = [measure("A", 20, 20, excludes="B"), measure("B", 30, 20), measure("C", 10, 100)]
    with pytest.raises(InfeasiblePlanError) as error:
        plan_for_abatement(catalogue(rows), 100, YEAR)
    assert error.value.shortfall == {YEAR: pytest.approx((100.0, 40.0))}
    assert "required abatement 100.00 tCO2e, at most 40.00 tCO2e achievable" in str(error.value)
    assert "shortfall 60.00 tCO2e" in str(error.value)


def test_start_year_makes_a_measure_unavailable() -> None:
    rows = [measure("A", 10, 10, start_year_min=2031), measure("B", 10, 50)]
    assert plan_for_abatement(catalogue(rows), 10, YEAR).chosen == ("B",)


def test_pathway_with_lifetimes_and_start_years() -> None:
    """10 t needed every year 2025-2030 at rate 0. A: 100 CNY/year, from 2025, lasts 2
    years; B: 50 CNY/year, from 2027, lasts 10. Cheapest: A in 2025 (2025-26, 200 CNY), B
    in 2027 (2027-30 inside the horizon, 4 x 50 = 200 CNY): 400 CNY; A adopted again in
    2027 would cost 100/year instead of 50."""
    rows = [
        measure("A", 10, 100, lifetime_years=2),
        measure("B", 10, 50, lifetime_years=10, start_year_min=2027),
    ]
    caps = dict.fromkeys(range(2025, 2031), 90.0)
    plan = plan_pathway(catalogue(rows), 100.0, caps, rate=0.0)
    adopted = sorted(zip(plan.adoptions["measure_id"], plan.adoptions["year"], strict=True))
    assert adopted == [("A", 2025), ("B", 2027)]
    assert plan.total_cost_cny == pytest.approx(400)
    assert plan.years["emissions_t"].tolist() == pytest.approx([90.0] * 6)
    assert verify_plan(plan).ok


def test_pathway_discounts_and_prices_each_year() -> None:
    """Green power (lifetime 1) bought each year against a cap tightening by 10 t a year:
    the shadow price of each capped year, in that year's money, is its cost per tonne."""
    rows = [
        measure("G", 0, 20, grid_mwh_per_year=1, divisible="yes", max_units=1000, unit="MWh"),
    ]
    caps = {2025: 100.0, 2026: 90.0, 2027: 80.0}
    plan = plan_pathway(catalogue(rows, grid_factor=0.5), 100.0, caps, rate=0.1)
    assert plan.units() == pytest.approx({"G": 0 + 20 + 40})
    assert plan.total_cost_cny == pytest.approx(20 * 20 / 1.1 + 40 * 20 / 1.21)
    assert plan.years["shadow_price"].tolist()[1:] == pytest.approx([40.0, 40.0])
    assert verify_plan(plan).ok


def test_verify_plan_catches_a_tampered_plan() -> None:
    cat = catalogue([measure("A", 10, 100), measure("B", 20, 150), measure("C", 30, 400)])
    plan = plan_for_abatement(cat, 30, YEAR)
    adoptions = plan.adoptions[plan.adoptions["measure_id"] != "A"]
    tampered = type(plan)(plan.problem, adoptions, plan.years, plan.total_cost_cny, ())
    problems = verify_plan(tampered).problems
    assert any("above the cap" in p for p in problems)
    assert any("recomputed" in p for p in problems)


# -- property: the optimum of small random instances by brute force --------------------------


@st.composite
def instances(draw: st.DrawFn) -> tuple[list[dict[str, str]], float]:
    n = draw(st.integers(1, 8))
    abatement = draw(st.lists(st.integers(1, 50), min_size=n, max_size=n))
    costs = draw(st.lists(st.integers(-30, 200), min_size=n, max_size=n))
    rows = [measure(f"m{i}", abatement[i], costs[i]) for i in range(n)]
    if n >= 2 and draw(st.booleans()):
        i, j = draw(st.lists(st.integers(0, n - 1), min_size=2, max_size=2, unique=True))
        rows[i]["requires"] = f"m{j}"
    if n >= 3 and draw(st.booleans()):
        i, j = draw(st.lists(st.integers(0, n - 1), min_size=2, max_size=2, unique=True))
        if rows[i]["requires"] != f"m{j}" and rows[j]["requires"] != f"m{i}":
            rows[i]["excludes"] = f"m{j}"
    required = draw(st.integers(0, sum(abatement) + 10))
    return rows, float(required)


def brute_force(rows: Sequence[Mapping[str, str]], required: float) -> float | None:
    best: float | None = None
    ids = [r["measure_id"] for r in rows]
    for picks in itertools.product((0, 1), repeat=len(rows)):
        on = {m for m, p in zip(ids, picks, strict=True) if p}
        if any(r["requires"] and r["requires"] not in on for r in rows if r["measure_id"] in on):
            continue
        if any(r["excludes"] and r["excludes"] in on for r in rows if r["measure_id"] in on):
            continue
        if sum(float(r["abatement_t_per_year"]) for r in rows if r["measure_id"] in on) < required:
            continue
        cost = sum(float(r["opex_cny_per_year"]) for r in rows if r["measure_id"] in on)
        best = cost if best is None else min(best, cost)
    return best


@settings(max_examples=60, deadline=None)
@given(instances())
def test_plan_is_feasible_and_no_subset_is_cheaper(
    instance: tuple[list[dict[str, str]], float],
) -> None:
    rows, required = instance
    best = brute_force(rows, required)
    cat = catalogue(rows)
    if best is None:
        with pytest.raises(InfeasiblePlanError):
            plan_for_abatement(cat, required, YEAR)
        return
    plan = plan_for_abatement(cat, required, YEAR)
    assert verify_plan(plan).ok, verify_plan(plan).problems
    assert plan.abatement_t >= required - 1e-6
    assert plan.total_cost_cny == pytest.approx(best, abs=1e-6)


# -- the energy plan under a quota -----------------------------------------------------------


def energy_rows() -> list[dict[str, str]]:
    return [
        measure("E", 0, 2000, grid_mwh_per_year=200),
        measure(
            "G",
            0,
            40,
            grid_mwh_per_year=1,
            divisible="yes",
            max_units=5000,
            unit="MWh",
            lever="green_power",
        ),
    ]


def test_energy_plan_mixes_efficiency_and_green_power() -> None:
    """1,000 MWh at 0.5 t/MWh plus 100 t other: 600 t; quota 300 t: 300 t to abate. E saves
    200 MWh = 100 t for 2,000 CNY (20 CNY/t); G costs 40 CNY/MWh = 80 CNY/t: E, then
    400 MWh of G (16,000 CNY). Shadow price 80 CNY/t."""
    result = energy_plan(catalogue(energy_rows()), 1000, 100, 300, 0.5, YEAR)
    assert result.green_power_mwh == pytest.approx(400)
    assert result.efficiency_mwh == pytest.approx(200)
    assert result.grid_mwh == pytest.approx(400)
    assert result.plan.total_cost_cny == pytest.approx(18000)
    assert result.plan.shadow_price == pytest.approx(80)
    assert verify_plan(result.plan).ok


def test_energy_plan_cannot_green_more_than_the_power_used() -> None:
    """Quota 50 t: 550 t to abate, but E (200 MWh) and G can replace at most the 1,000 MWh
    used: 500 t. G's own cap (5,000 MWh) would allow more."""
    with pytest.raises(InfeasiblePlanError) as error:
        energy_plan(catalogue(energy_rows()), 1000, 100, 50, 0.5, YEAR)
    assert error.value.shortfall == {YEAR: pytest.approx((550.0, 500.0))}


# -- the ledger adapter and the demo ---------------------------------------------------------


def test_baseline_from_the_demo_ledger(demo_ledger: Ledger) -> None:
    baseline = baseline_from_ledger(demo_ledger, 2024)
    assert baseline.scope1 == pytest.approx(4472.70, abs=0.01)
    assert baseline.scope2_location == pytest.approx(24186.91, abs=0.01)
    assert baseline.scope3 == pytest.approx(3265.40, abs=0.01)
    assert baseline.total() == pytest.approx(31925.01, abs=0.01)
    assert baseline.electricity_mwh == pytest.approx(45074.37, abs=0.01)
    assert baseline.grid_factor == pytest.approx(default_grid_factor(), abs=1e-4)
    assert baseline.total((1, 2)) == pytest.approx(4472.70 + 24186.91, abs=0.01)

    # green power lowers market-based scope 2: a market-based total, priced at its factor
    assert baseline.market_grid_factor == pytest.approx(
        baseline.scope2_market / baseline.electricity_mwh
    )
    cat = load_catalogue(grid_factor=baseline.market_grid_factor)
    total = baseline.total(basis="market")
    assert total == pytest.approx(4472.70 + baseline.scope2_market + 3265.40, abs=0.01)
    plan = plan_for_cap(cat, total, 0.7 * total, 2028, electricity_mwh=baseline.electricity_mwh)
    check = verify_plan(plan)
    assert check.ok, check.problems
    assert plan.years["emissions_t"].iloc[0] <= 0.7 * total + 1e-6
    assert plan.shadow_price > 0
    assert "cap 2028" in plan.binding
    caps = {y: total * (1 - 0.03 * (y - 2025)) for y in range(2025, 2036)}
    pathway = plan_pathway(cat, total, caps, electricity_mwh=baseline.electricity_mwh)
    assert verify_plan(pathway).ok
    assert math.isfinite(pathway.total_cost_cny)


@st.composite
def pathway_instances(
    draw: st.DrawFn,
) -> tuple[list[dict[str, str]], dict[int, float]]:
    n = draw(st.integers(1, 3))
    years = tuple(range(2025, 2025 + draw(st.integers(1, 3))))
    rows = [
        measure(
            f"m{i}",
            draw(st.integers(1, 30)),
            draw(st.integers(-20, 100)),
            lifetime_years=draw(st.integers(1, 3)),
            start_year_min=draw(st.sampled_from(years)),
        )
        for i in range(n)
    ]
    caps = {y: 100.0 - draw(st.integers(0, 60)) for y in years}
    return rows, caps


def brute_force_pathway(
    rows: Sequence[Mapping[str, str]], caps: Mapping[int, float]
) -> float | None:
    """Every adoption schedule of yes/no measures (adopt or not in each year, at most one
    copy active at a time) at rate 0: the cost is the annual cost per active year."""
    years = sorted(caps)
    best: float | None = None
    slots = [(r, y) for r in rows for y in years if y >= int(r["start_year_min"])]
    for picks in itertools.product((0, 1), repeat=len(slots)):
        active: dict[tuple[str, int], int] = {}
        cost = 0.0
        for (r, y), p in zip(slots, picks, strict=True):
            for t in range(y, y + int(r["lifetime_years"])) if p else ():
                if t in caps:
                    active[r["measure_id"], t] = active.get((r["measure_id"], t), 0) + 1
                    cost += float(r["opex_cny_per_year"])
        if any(v > 1 for v in active.values()):
            continue
        abated = {
            t: sum(float(r["abatement_t_per_year"]) for r in rows if (r["measure_id"], t) in active)
            for t in years
        }
        if all(100.0 - abated[t] <= caps[t] for t in years):
            best = cost if best is None else min(best, cost)
    return best


@settings(max_examples=40, deadline=None)
@given(pathway_instances())
def test_pathway_matches_brute_force(
    instance: tuple[list[dict[str, str]], dict[int, float]],
) -> None:
    rows, caps = instance
    best = brute_force_pathway(rows, caps)
    cat = catalogue(rows)
    if best is None:
        with pytest.raises(InfeasiblePlanError):
            plan_pathway(cat, 100.0, caps, rate=0.0)
        return
    plan = plan_pathway(cat, 100.0, caps, rate=0.0)
    assert verify_plan(plan).ok, verify_plan(plan).problems
    assert plan.total_cost_cny == pytest.approx(best, abs=1e-6)


def test_no_measure_available() -> None:
    """Every measure starts after the year: nothing can be adopted."""
    cat = catalogue([measure("A", 10, 10, start_year_min=2040)])
    plan = plan_for_abatement(cat, 0, YEAR)
    assert plan.chosen == () and plan.total_cost_cny == 0.0
    with pytest.raises(InfeasiblePlanError, match=r"at most 0\.00 tCO2e achievable"):
        plan_for_abatement(cat, 10, YEAR)


def test_a_baseline_year_without_inventory_is_refused(demo_ledger: Ledger) -> None:
    with pytest.raises(ValueError, match="no inventory for 2019"):
        baseline_from_ledger(demo_ledger, 2019)


def test_a_zero_discount_rate_spreads_capital_evenly() -> None:
    """r = 0: CRF = 1/n, so the equivalent annual cost is capex / lifetime + opex."""
    cat = load_catalogue()
    annual = annualised_cost(cat, 0.0)
    expected = cat["capex_cny"] / cat["lifetime_years"] + cat["opex_cny_per_year"]
    assert annual.to_numpy() == pytest.approx(expected.to_numpy())


def test_crf_is_stable_for_tiny_rates() -> None:
    """(1 + r)^n - 1 rounds to 0 for r below the float resolution; the CRF tends to 1/n."""
    for rate in (1e-18, 1e-300):
        assert crf(rate, [5.0, 10.0]) == pytest.approx([0.2, 0.1])


def test_verify_plan_at_tiny_and_zero_rates() -> None:
    """The solver-free check computes the CRF its own way; it agrees at every rate."""
    cat = load_catalogue(grid_factor=0.5)
    for rate in (0.0, 5e-324, 1e-12, 0.08):
        plan = plan_for_cap(cat, 10_000.0, 9_000.0, 2030, rate)
        check = verify_plan(plan)
        assert check.ok, (rate, check.problems)
        assert check.total_cost_cny == pytest.approx(plan.total_cost_cny, rel=1e-9, abs=1e-6)
