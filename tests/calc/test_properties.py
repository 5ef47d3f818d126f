"""Properties of the inventory (hypothesis): unit invariance, additivity, consistency, scaling.

Each property runs 12-15 examples: one inventory takes 0.1-0.2 s.
"""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from esgledger.calc import InventoryInput, compute_inventory
from esgledger.domain import ConsolidationApproach, Entity, Organisation
from esgledger.factors import CalcSettings, load_library

COLUMNS = [
    "rid",
    "entity_id",
    "year",
    "activity_type",
    "quantity",
    "unit",
    "region",
    "ef_value",
    "ef_unit",
]
PARAMS = pd.DataFrame(
    [
        ("density.gasoline", None, 0.73, "kg/L", "test"),
        ("density.diesel", None, 0.84, "kg/L", "test"),
        ("fx.CNY_per_USD", None, 7.1, "CNY/USD", "test"),
    ],
    columns=["name", "year", "value", "unit", "source"],
)
ORG = Organisation.of([Entity("G", "Group", None, region="CN-BJ")])
SETTINGS = CalcSettings()
# two inventories per example
PAIRED = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# one inventory per example
SINGLE = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TOL = {"rel": 1e-9, "abs": 1e-9}

# (activity type, unit in which the quantity is drawn, equivalent unit, multiplier to it)
EQUIVALENT_UNITS = {
    "electricity": ("MWh", "kWh", 1e3),
    "natural_gas": ("10^4 Nm3", "m3", 1e4),
    "gasoline_vehicle": ("L", "m3", 1e-3),
    "diesel_stationary": ("t", "kg", 1e3),
    "purchased_heat": ("GJ", "MJ", 1e3),
    "refrigerant_r410a": ("kg", "t", 1e-3),
    "air_economy": ("passenger_km", "pkm", 1.0),
    "freight_in_road": ("tonne_km", "吨公里", 1.0),
    "spend_computers": ("CNY", "万元", 1e-4),
    "gec": ("MWh", "kWh", 1e3),
    "green_power": ("MWh", "kWh", 1e3),
    "supplier_electricity": ("MWh", "kWh", 1e3),
}
QUANTITY = st.floats(min_value=0.0, max_value=1e6, allow_nan=False, allow_infinity=False)
REGION = st.sampled_from([None, "CN-JS", "CN-XZ", "CN-HK", "CN-GD"])


@st.composite
def record_sets(draw: st.DrawFn) -> list[tuple]:
    """(activity_type, quantity, region, year) rows, always with one electricity row."""
    year = draw(st.sampled_from([2022, 2023, 2024]))
    rows = [("electricity", draw(st.floats(min_value=1.0, max_value=1e6)), draw(REGION), year)]
    for _ in range(draw(st.integers(min_value=0, max_value=5))):
        rows.append(
            (draw(st.sampled_from(sorted(EQUIVALENT_UNITS))), draw(QUANTITY), draw(REGION), year)
        )
    return rows


def _frame(rows: list[tuple], entity: str = "G", alt_units: bool = False) -> pd.DataFrame:
    out = []
    for i, (activity, drawn, region, year) in enumerate(rows, start=1):
        unit, alt, mult = EQUIVALENT_UNITS[activity]
        qty = drawn * mult if alt_units else drawn
        if alt_units:
            unit = alt
        supplier = activity == "supplier_electricity"
        out.append(
            (
                i,
                entity,
                year,
                activity,
                qty,
                unit,
                region,
                0.3 if supplier else None,
                "tCO2/MWh" if supplier else None,
            )
        )
    return pd.DataFrame(out, columns=COLUMNS)


def _run(records: pd.DataFrame, org: Organisation = ORG, calc: CalcSettings = SETTINGS):
    return compute_inventory(InventoryInput(records, org, parameters=PARAMS), load_library(), calc)


def _all_totals(result, year: int) -> dict[str, float]:
    totals = dict(result.scope_totals(year))
    totals.update({f"energy_{k}": v for k, v in result.energy_totals(year).items()})
    return totals


def _assert_same_totals(a: dict[str, float], b: dict[str, float]) -> None:
    assert a.keys() == b.keys()
    for key, value in a.items():
        assert value == pytest.approx(b[key], **TOL), key


@PAIRED
@given(rows=record_sets())
def test_same_quantity_in_another_unit_gives_same_totals(rows) -> None:
    # kWh vs MWh, m3 vs 10^4 Nm3, m3 vs L, kg vs t, MJ vs GJ, 万元 vs CNY ...
    year = rows[0][3]
    a = _run(_frame(rows))
    b = _run(_frame(rows, alt_units=True))
    assert a.ok and b.ok
    _assert_same_totals(_all_totals(a, year), _all_totals(b, year))


@PAIRED
@given(
    rows=record_sets(),
    index=st.integers(min_value=0, max_value=5),
    fraction=st.floats(min_value=0.0, max_value=1.0),
)
def test_splitting_a_record_gives_same_totals(rows, index, fraction) -> None:
    year = rows[0][3]
    i = index % len(rows)
    activity, qty, region, yr = rows[i]
    part = qty * fraction
    split = [
        *rows[:i],
        (activity, part, region, yr),
        (activity, qty - part, region, yr),
        *rows[i + 1 :],
    ]
    a = _run(_frame(rows))
    b = _run(_frame(split))
    _assert_same_totals(_all_totals(a, year), _all_totals(b, year))


@SINGLE
@given(rows=record_sets())
def test_scope_totals_equal_the_sum_of_their_lines(rows) -> None:
    year = rows[0][3]
    r = _run(_frame(rows))
    lines = r.lines[r.lines["year"] == year]
    totals = r.scope_totals(year)
    assert totals["scope1"] == pytest.approx(lines.query("scope == 1")["tco2e"].sum(), **TOL)
    assert totals["scope3"] == pytest.approx(lines.query("scope == 3")["tco2e"].sum(), **TOL)
    s2 = lines.query("scope == 2")
    assert totals["scope2_location"] == pytest.approx(
        s2[s2["basis"].isin(["both", "location"])]["tco2e"].sum(), **TOL
    )
    assert totals["scope2_market"] == pytest.approx(
        s2[s2["basis"].isin(["both", "market"])]["tco2e"].sum(), **TOL
    )
    assert totals["total"] == pytest.approx(
        totals["scope1"] + totals["scope2_location"] + totals["scope3"], **TOL
    )
    # each line: tco2e = t_gas x GWP x share
    assert (
        lines["tco2e"] - lines["t_gas"] * lines["gwp"] * lines["share"]
    ).abs().max() <= 1e-9 * max(1.0, float(lines["tco2e"].abs().max()))
    # each activity line: t_gas = quantity_basis x the resolved factor (t gas per basis unit)
    activity_lines = lines[lines["method"] != "instrument"].query("basis != 'market'")
    merged = activity_lines.merge(
        r.resolved[["activity_type", "region", "year", "gas", "factor_id", "ef"]],
        on=["activity_type", "region", "year", "gas", "factor_id"],
        how="left",
    )
    assert merged["ef"].notna().all()
    for t_gas, expected in zip(
        merged["t_gas"], merged["quantity_basis"] * merged["ef"], strict=True
    ):
        assert t_gas == pytest.approx(expected, **TOL)


@SINGLE
@given(rows=record_sets())
def test_per_gas_co2e_sums_to_the_total(rows) -> None:
    year = rows[0][3]
    r = _run(_frame(rows))
    for basis in ("location", "market"):
        lines = r.basis_lines(basis)
        by_gas = lines[lines["year"] == year].groupby("gas")["tco2e"].sum()
        totals = r.scope_totals(year, basis=basis)
        assert float(by_gas.sum()) == pytest.approx(totals["total"], **TOL)
        via_by = r.by(["year", "gas"], basis=basis)
        assert float(via_by[via_by["year"] == year]["tco2e"].sum()) == pytest.approx(
            totals["total"], **TOL
        )


@SINGLE
@given(rows=record_sets())
def test_totals_are_non_negative_for_non_negative_inputs(rows) -> None:
    year = rows[0][3]
    r = _run(_frame(rows))
    assert (r.lines["tco2e"] >= 0).all()
    assert (r.lines["quantity_basis"] >= 0).all()
    assert (r.energy[["tce", "tce_primary", "mwh"]] >= 0).all().all()
    for value in _all_totals(r, year).values():
        assert value >= 0
    # market-based scope 2 never exceeds what the instruments and the residual factor allow:
    # every MWh is either claimed by an instrument or priced at the residual factor
    market = r.lines[(r.lines["scope"] == 2) & (r.lines["basis"] == "market")]
    elec_mwh = (
        r.basis_lines("location").query("activity_type == 'electricity'")["quantity_basis"].sum()
    )
    assert market["quantity_basis"].sum() <= elec_mwh * (1 + 1e-9) + 1e-9


@PAIRED
@given(rows=record_sets(), share=st.floats(min_value=0.0, max_value=1.0))
def test_equity_share_totals_scale_linearly(rows, share) -> None:
    year = rows[0][3]

    def org(s: float) -> Organisation:
        return Organisation.of(
            [
                Entity("G", "Group", None, region="CN-BJ"),
                Entity("S", "Sub", parent_id="G", equity_share=s, region="CN-BJ"),
            ]
        )

    calc = CalcSettings(approach=ConsolidationApproach.EQUITY_SHARE)
    records = _frame(rows, entity="S")
    full = _all_totals(_run(records, org(1.0), calc), year)
    part = _all_totals(_run(records, org(share), calc), year)
    for key, value in full.items():
        assert part[key] == pytest.approx(share * value, **TOL), key


LINE = st.tuples(
    st.sampled_from([2023, 2024]),
    st.sampled_from(["A", "B"]),
    st.sampled_from([1, 2, 3]),
    st.sampled_from(["both", "location", "market"]),
    st.floats(min_value=-1e6, max_value=1e6, allow_nan=False),
)
ENERGY = st.tuples(
    st.sampled_from([2023, 2024]),
    st.sampled_from(["A", "B"]),
    *(st.floats(min_value=0, max_value=1e6, allow_nan=False) for _ in range(3)),
)


@settings(max_examples=60, deadline=None)
@given(lines=st.lists(LINE, max_size=25), energy=st.lists(ENERGY, max_size=10))
def test_the_totals_read_from_the_summaries_are_the_lines_filtered(lines, energy) -> None:
    """Scope and energy totals come from per-(year, entity) summaries made once per inventory
    (a report asks for a hundred): each equals the lines filtered directly, for the group and
    every entity, in a year with lines and in one without (2025)."""
    from esgledger.calc import InventoryResult  # noqa: PLC0415

    frame = pd.DataFrame(lines, columns=["year", "entity_id", "scope", "basis", "tco2e"])
    energy_frame = pd.DataFrame(energy, columns=["year", "entity_id", "tce", "mwh", "tce_primary"])
    result = InventoryResult(
        SETTINGS, "test", frame, energy_frame, pd.DataFrame(), pd.DataFrame(), pd.DataFrame(), ()
    )
    for year in (2023, 2024, 2025):
        for entity in (None, "A", "B"):
            mine = frame[frame["year"] == year]
            own = energy_frame[energy_frame["year"] == year]
            if entity is not None:
                mine, own = mine[mine["entity_id"] == entity], own[own["entity_id"] == entity]

            def direct(scope: int, bases: tuple[str, ...], part: pd.DataFrame = mine) -> float:
                return float(
                    part[(part["scope"] == scope) & part["basis"].isin(bases)]["tco2e"].sum()
                )

            s2l, s2m = direct(2, ("both", "location")), direct(2, ("both", "market"))
            s1, s3 = (
                direct(1, ("both", "location", "market")),
                direct(3, ("both", "location", "market")),
            )
            expected = {"scope1": s1, "scope2_location": s2l, "scope2_market": s2m, "scope3": s3}
            expected["total"] = s1 + s2l + s3  # the default total basis is location
            got = result.scope_totals(year, entity_id=entity)
            assert got == pytest.approx(expected, rel=1e-12, abs=1e-6)
            sums = {k: float(own[k].sum()) for k in ("tce", "mwh", "tce_primary")}
            assert result.energy_totals(year, entity) == pytest.approx(sums, rel=1e-12, abs=1e-6)
            if entity is None:
                assert result.energy_present(year) == (not own.empty)
                present = result.scope_present(year)
                assert present["total"] == (not mine.empty)
                assert present["scope2_market"] == (
                    not mine[(mine["scope"] == 2) & mine["basis"].isin(("both", "market"))].empty
                )
