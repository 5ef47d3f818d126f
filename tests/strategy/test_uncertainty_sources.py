"""Monte Carlo activity error per record and per declared error source (issue 17 b).

Hand arithmetic: n independent records of equal size at +/-x % (95 % half-width) add up to
+/-x/sqrt(n) % (their standard deviations add in quadrature: sqrt(n) x sd / (n x value)); n
records on one meter share one draw and keep +/-x %. A factor error of +/-f % shared by all of
them adds in quadrature: sqrt((x/sqrt(n))^2 + f^2).

Monte Carlo tolerance: the 2.5 % and 97.5 % quantiles of N normal draws have a standard error
of sqrt(p (1 - p) / N) / phi(1.96) = 2.67 / sqrt(N) standard deviations each, so the
half-width (their half-difference) has a relative standard error of about 0.96 / sqrt(N):
0.30 % at N = 100,000, 0.68 % at N = 20,000. The tolerances below are five or more standard
errors; the seed is fixed, so each test is deterministic. The analytical figure (the exact
second moment with shared sources) is checked to 1e-9.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from esgledger.calc import InventoryInput, InventoryResult, compute_inventory
from esgledger.domain import Entity, Organisation
from esgledger.factors import CalcSettings, load_library
from esgledger.strategy.uncertainty import (
    Z95,
    UncertaintyResult,
    load_error_sources,
    load_uncertainty_defaults,
    propagate,
    uncertainty_frame,
    uncertainty_from_inventory,
)

ORG = Organisation.of([Entity("G", "Group", None, region="CN-BJ")])
COLUMNS = [
    "rid",
    "record_id",
    "entity_id",
    "year",
    "month",
    "activity_type",
    "quantity",
    "unit",
    "region",
    "data_quality",
]
N = 100_000
MC_TOLERANCE = 0.015  # relative: five standard errors of a 95 % half-width at N = 100,000


def activity_only() -> pd.DataFrame:
    """The packaged defaults with every factor half-width set to 0: activity error only."""
    table = load_uncertainty_defaults()
    table.loc[table["kind"] == "factor", "half_width"] = 0.0
    return table


def electricity(quantities: list[float], months: list[int] | None = None) -> pd.DataFrame:
    months = months or [1] * len(quantities)
    return pd.DataFrame(
        [
            (i, f"r{i}", "G", 2024, m, "electricity", q, "MWh", None, "estimated")
            for i, (q, m) in enumerate(zip(quantities, months, strict=True), start=1)
        ],
        columns=COLUMNS,
    )


def inventory(records: pd.DataFrame, direct: pd.DataFrame | None = None) -> InventoryResult:
    data = InventoryInput(records, ORG, direct=pd.DataFrame() if direct is None else direct)
    return compute_inventory(data, load_library(), CalcSettings())


def run(
    records: pd.DataFrame,
    sources: pd.DataFrame | None = None,
    defaults: pd.DataFrame | None = None,
    direct: pd.DataFrame | None = None,
    iterations: int = N,
) -> UncertaintyResult:
    result = inventory(records, direct)
    return uncertainty_from_inventory(
        result,
        2024,
        records,
        direct,
        iterations=iterations,
        seed=1,
        sources=sources,
        defaults=activity_only() if defaults is None else defaults,
    )


def meter(ids: list[str], name: str = "M1") -> pd.DataFrame:
    return pd.DataFrame({"record_id": ids, "error_source": name})


def assert_half_width(result: UncertaintyResult, output: str, expected: float) -> None:
    row = result.row(output)
    assert row["correlated_rel_half_width"] == pytest.approx(expected, rel=1e-9)
    assert row["rel_half_width"] == pytest.approx(expected, rel=MC_TOLERANCE)


def test_two_independent_records_give_x_over_root_two() -> None:
    # two 10,000 MWh estimated records (+/-20 %) of one month: 0.20 / sqrt(2) = 14.142 %
    result = run(electricity([10_000.0, 10_000.0]))
    for output in ("total", "scope2_location", "scope2_market"):
        assert_half_width(result, output, 0.20 / math.sqrt(2))
    # Approach 1 treats rows as independent: the same figure here
    assert result.row("total")["approach1_rel_half_width"] == pytest.approx(0.20 / math.sqrt(2))


def test_two_records_on_one_meter_give_x() -> None:
    result = run(electricity([10_000.0, 10_000.0]), sources=meter(["r1", "r2"]))
    for output in ("total", "scope2_market"):
        assert_half_width(result, output, 0.20)
    # Approach 1 (rows independent) does not see the shared meter
    assert result.row("total")["approach1_rel_half_width"] == pytest.approx(0.20 / math.sqrt(2))


def test_twelve_monthly_records_with_and_without_a_meter() -> None:
    monthly = electricity([20_000.0 / 12] * 12, months=list(range(1, 13)))
    assert_half_width(run(monthly), "total", 0.20 / math.sqrt(12))  # 5.774 %
    shared = run(monthly, sources=meter([f"r{i}" for i in range(1, 13)]))
    assert_half_width(shared, "total", 0.20)


def test_the_issue_figures_with_the_grid_factor() -> None:
    # packaged defaults: estimated +/-20 %, grid factor +/-5 % shared by every record. To first
    # order the half-widths add in quadrature, sqrt(x^2 / n + f^2); the exact second moment of
    # a product of independent multipliers adds the term x^2 f^2 / (n z^2), z = 1.96 (4e-5 here)
    defaults = load_uncertainty_defaults()

    def exact(x: float, n: int, f: float) -> float:
        return math.sqrt(x**2 / n + f**2 + x**2 * f**2 / (n * Z95**2))

    two = run(electricity([10_000.0, 10_000.0]), defaults=defaults)
    assert_half_width(two, "scope2_location", exact(0.20, 2, 0.05))  # 15.0 %
    monthly = electricity([20_000.0 / 12] * 12, months=list(range(1, 13)))
    twelve = run(monthly, defaults=defaults)
    assert_half_width(twelve, "scope2_location", exact(0.20, 12, 0.05))  # 7.64 %
    one_meter = run(electricity([10_000.0, 10_000.0]), meter(["r1", "r2"]), defaults)
    assert_half_width(one_meter, "scope2_location", exact(0.20, 1, 0.05))  # 20.6 %
    assert exact(0.20, 2, 0.05) == pytest.approx(0.150, abs=5e-4)
    assert exact(0.20, 12, 0.05) == pytest.approx(0.0764, abs=5e-4)
    assert exact(0.20, 1, 0.05) == pytest.approx(0.206, abs=5e-4)


def test_records_in_other_units_weigh_by_their_converted_quantity() -> None:
    # 10,000 MWh and 10,000,000 kWh: equal parts of the line, so 0.20 / sqrt(2) again (by raw
    # quantity the kWh record would take 99.9 % of the line and give about 20 %)
    records = electricity([10_000.0, 10_000_000.0])
    records.loc[1, "unit"] = "kWh"
    frame, _ = uncertainty_frame(inventory(records), records, year=2024, defaults=activity_only())
    location = frame[frame["basis"] == "location"]
    assert location["quantity"].tolist() == pytest.approx([10_000.0, 10_000.0], rel=1e-12)
    assert_half_width(run(records), "total", 0.20 / math.sqrt(2))


def test_a_records_gases_share_its_draw() -> None:
    # natural gas: CO2, CH4 and N2O lines of one quantity; one record keeps +/-20 % on the
    # total of its gases, two independent ones give 0.20 / sqrt(2)
    gas = pd.DataFrame(
        [
            (1, "g1", "G", 2024, 1, "natural_gas", 50_000.0, "m3", None, "estimated"),
            (2, "g2", "G", 2024, 1, "natural_gas", 50_000.0, "m3", None, "estimated"),
        ],
        columns=COLUMNS,
    )
    frame, _ = uncertainty_frame(inventory(gas), gas, year=2024, defaults=activity_only())
    assert sorted(frame.groupby("record_id").size()) == [3, 3]
    assert_half_width(run(gas.iloc[:1]), "scope1", 0.20)
    assert_half_width(run(gas), "scope1", 0.20 / math.sqrt(2))


def test_a_declared_half_width_and_distribution_replace_the_default() -> None:
    records = electricity([10_000.0])
    declared = pd.DataFrame({"record_id": ["r1"], "half_width": ["0.08"]})
    assert_half_width(run(records, declared), "total", 0.08)
    skewed = declared.assign(distribution="lognormal")
    row = run(records, skewed).row("total")
    assert row["correlated_rel_half_width"] == pytest.approx(0.08, rel=1e-9)
    # a lognormal of the same mean and sd: the 95 % half-width within 1 % of the normal's
    assert row["rel_half_width"] == pytest.approx(0.08, rel=0.02)
    assert row["upper"] - row["deterministic"] > row["deterministic"] - row["lower"]


def test_direct_records_are_drawn_one_by_one() -> None:
    # two reported scope 3 figures (+/-10 %) of 1,000 and 3,000 tCO2e in one line:
    # 0.10 x sqrt(1,000^2 + 3,000^2) / 4,000 = 7.906 %
    direct = pd.DataFrame(
        {
            "rid": [1, 2],
            "record_id": ["d1", "d2"],
            "entity_id": "G",
            "year": 2024,
            "month": None,
            "scope": 3,
            "category": "s3_04_upstream_transport",
            "gas": "CO2e",
            "tco2e": [1_000.0, 3_000.0],
            "scope2_basis": None,
            "data_quality": "reported",
        }
    )
    records = electricity([10_000.0]).assign(data_quality="measured")
    result = run(records, direct=direct)
    assert_half_width(result, "scope3", 0.10 * math.sqrt(1_000**2 + 3_000**2) / 4_000)
    on_one = run(records, direct=direct, sources=meter(["d1", "d2"], "supplier report"))
    assert_half_width(on_one, "scope3", 0.10)


def test_every_fallback_is_a_diagnostic() -> None:
    records = electricity([100.0, 200.0, 300.0])
    records.loc[0, "data_quality"] = None
    records.loc[1, "data_quality"] = "guessed"
    gec = pd.DataFrame(
        [(9, "c1", "G", 2024, None, "gec", 50.0, "MWh", None, "measured")], columns=COLUMNS
    )
    both = pd.concat([records, gec.assign(instrument_id="GEC-1")], ignore_index=True)
    result = run(both, sources=meter(["r3", "nowhere"]), iterations=200)
    codes = {d.code for d in result.diagnostics}
    assert {
        "uncertainty-quality-unknown",
        "uncertainty-quality-unlisted",
        "uncertainty-declared-unknown",
    } <= codes
    assert "uncertainty-no-records" not in codes  # instrument and market lines found theirs
    bare = uncertainty_from_inventory(inventory(records), 2024, iterations=200)
    assert "uncertainty-no-records" in {d.code for d in bare.diagnostics}


def test_the_rows_add_up_to_the_inventory() -> None:
    # kWh and MWh in one line, a record in a unit the inventory cannot convert (not counted),
    # gases, certificates (market-based remainder) and a direct figure: the frame's rows add up
    # to every scope total of the inventory
    records = pd.concat(
        [
            electricity([400.0, 250_000.0, 300.0, 50.0], months=[1, 1, 2, 2]),
            pd.DataFrame(
                [
                    (7, "g1", "G", 2024, 3, "natural_gas", 9_000.0, "m3", None, "measured"),
                    (8, "c1", "G", 2024, None, "gec", 200.0, "MWh", None, "measured"),
                ],
                columns=COLUMNS,
            ),
        ],
        ignore_index=True,
    )
    records.loc[1, "unit"] = "kWh"
    records.loc[3, "unit"] = "kg"  # electricity in kg: the inventory leaves it out
    records["instrument_id"] = np.where(records["activity_type"] == "gec", "GEC-1", None)
    direct = pd.DataFrame(
        {
            "rid": [1],
            "record_id": ["d1"],
            "entity_id": "G",
            "year": 2024,
            "month": None,
            "scope": 3,
            "category": "s3_06_business_travel",
            "gas": "CO2e",
            "tco2e": [12.5],
            "scope2_basis": None,
            "data_quality": "reported",
        }
    )
    result = inventory(records, direct)
    frame, notes = uncertainty_frame(result, records, direct, year=2024)
    assert not [n for n in notes if n.code == "uncertainty-no-records"]
    assert "r4" not in set(frame["record_id"])
    totals = result.scope_totals(2024)
    c = frame["quantity"] * frame["factor"]
    location = frame["basis"].isin(["both", "location"])
    market = frame["basis"].isin(["both", "market"])
    assert c[frame["scope"] == 1].sum() == pytest.approx(totals["scope1"], rel=1e-12)
    assert c[(frame["scope"] == 2) & location].sum() == pytest.approx(
        totals["scope2_location"], rel=1e-12
    )
    assert c[(frame["scope"] == 2) & market].sum() == pytest.approx(
        totals["scope2_market"], rel=1e-12
    )
    assert c[frame["scope"] == 3].sum() == pytest.approx(totals["scope3"], rel=1e-12)


def test_an_error_source_file_is_checked(tmp_path: Path) -> None:
    good = tmp_path / "sources.csv"
    good.write_text(
        "record_id,error_source,half_width,distribution,note\nr1,M1,,,main\nr2,M1,0.05,,\n"
    )
    frame = load_error_sources(good)
    assert frame["error_source"].tolist() == ["M1", "M1"]
    assert np.isnan(frame["half_width"].iloc[0]) and frame["half_width"].iloc[1] == 0.05
    bad = tmp_path / "bad.csv"
    bad.write_text("record_id,half_width,distribution\nr1,-1,\nr1,x,uniform\n,,\n")
    with pytest.raises(ValueError, match="line 2") as caught:
        load_error_sources(bad)
    message = str(caught.value)
    for part in (
        "line 2: record_id twice",
        "line 2: half_width -1 is not a number >= 0",
        "line 3: half_width x is not",
        "line 3: distribution uniform is not",
        "line 4: no record_id",
    ):
        assert part in message
    typo = tmp_path / "typo.csv"
    typo.write_text("record_id,halfwidth\nr1,0.1\n")
    with pytest.raises(ValueError, match="unknown columns halfwidth"):
        load_error_sources(typo)


# -- properties -------------------------------------------------------------------------------

PROPERTY = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(n=st.integers(1, 40), half=st.floats(0.01, 0.24), size=st.floats(1.0, 1e6))
def test_n_independent_equal_records_give_x_over_root_n(n: int, half: float, size: float) -> None:
    frame = pd.DataFrame(
        {
            "record_id": [f"r{i}" for i in range(n)],
            "scope": 1,
            "quantity": size,
            "factor": 1.0,
            "factor_id": "f",
            "activity_uncertainty": half,
        }
    )
    row = propagate(frame, 20_000, seed=n).row("total")
    assert row["correlated_rel_half_width"] == pytest.approx(half / math.sqrt(n), rel=1e-9)
    # 20,000 draws: relative standard error 0.68 %; 4 % is six of them
    assert row["rel_half_width"] == pytest.approx(half / math.sqrt(n), rel=0.04)


@PROPERTY
@given(
    data=st.lists(st.tuples(st.integers(0, 5), st.floats(1.0, 1_000.0)), min_size=1, max_size=30),
    halves=st.lists(st.floats(0.0, 0.3), min_size=6, max_size=6),
)
def test_the_analytical_figure_is_the_sum_in_quadrature_by_error_source(
    data: list[tuple[int, float]], halves: list[float]
) -> None:
    sources = [s for s, _ in data]
    quantity = np.array([q for _, q in data])
    frame = pd.DataFrame(
        {
            "record_id": [f"r{i}" for i in range(len(data))],
            "error_source": [f"s{s}" for s in sources],
            "scope": 1,
            "quantity": quantity,
            "factor": 1.0,
            "activity_uncertainty": [halves[s] for s in sources],
        }
    )
    by_source = pd.Series(quantity).groupby(sources).sum()
    expected = math.sqrt(sum((halves[s] * c) ** 2 for s, c in by_source.items()))
    pooled = propagate(frame, 2_000, seed=3)
    assert pooled.row("total")["correlated_rel_half_width"] == pytest.approx(
        expected / quantity.sum(), rel=1e-9, abs=1e-15
    )
    # the exact pooling of normal sources and the draw of each source one by one: the same
    # distribution (here +/-30 % at most: no truncation), so both stay near the analytical
    one_by_one = propagate(frame, 2_000, seed=3, pooled=False)
    for result in (pooled, one_by_one):
        # 2,000 draws: relative standard error 2.1 %; 15 % is seven of them
        assert result.row("total")["rel_half_width"] == pytest.approx(
            expected / quantity.sum(), rel=0.15, abs=1e-12
        )


def test_pooled_and_one_by_one_draws_agree_on_a_mixed_inventory() -> None:
    # records over shared factors, three rows a record (gases), some on shared meters, some
    # lognormal or wider than +/-24.5 % (drawn one by one in both runs)
    rng = np.random.default_rng(5)
    n = 600
    frame = pd.DataFrame(
        {
            "record_id": [f"r{i // 3}" for i in range(n)],
            "error_source": [f"m{i // 30}" if i % 90 < 30 else "" for i in range(n)],
            "scope": rng.integers(1, 4, n),
            "quantity": rng.uniform(1.0, 100.0, n),
            "factor": rng.uniform(0.5, 2.0, n),
            "factor_id": [f"f{i % 3}|{i // 60}" for i in range(n)],
            "activity_uncertainty": rng.choice([0.02, 0.05, 0.2, 0.4], n // 3).repeat(3),
            "activity_distribution": rng.choice(
                ["normal", "lognormal"], n // 3, p=[0.8, 0.2]
            ).repeat(3),
            "factor_uncertainty": 0.05,
        }
    )
    pooled = propagate(frame, 40_000, seed=2)
    one_by_one = propagate(frame, 40_000, seed=2, pooled=False)
    for name in pooled.outputs:
        a, b = pooled.row(name), one_by_one.row(name)
        assert a["deterministic"] == pytest.approx(b["deterministic"], rel=1e-12)
        # 40,000 draws each: relative standard error 0.5 % each, 0.7 % on the difference
        assert a["rel_half_width"] == pytest.approx(b["rel_half_width"], rel=0.04)
        assert a["mean"] == pytest.approx(b["mean"], rel=0.005)
