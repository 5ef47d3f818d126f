"""Known answers: each formula of the inventory checked against a hand calculation.

Every expected number is worked out in the test from the published factor, citing the factor
row id (factors/data/*.csv) and its source table (see /work/shared/reference/factors/README.md).
GWPs: AR6 (default) CH4 non-fossil/combustion 27.0 (Table 7.15), N2O 273.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from esgledger.calc import InventoryInput, compute_inventory
from esgledger.domain import ConsolidationApproach, Entity, Organisation, Severity
from esgledger.factors import CalcSettings, load_library

C_TO_CO2 = 44.0 / 12.0
GWP_CH4_AR6 = 27.0  # gwp.csv CH4_nonfossil AR6 (IPCC AR6 Table 7.15)
GWP_N2O_AR6 = 273.0  # gwp.csv N2O AR6
REL = 1e-9

RECORD_COLUMNS = [
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
GROUP = Organisation.of([Entity("G", "Group", None, region="CN-BJ")])


def _records(rows: list[tuple]) -> pd.DataFrame:
    """Rows of (entity, year, activity_type, quantity, unit[, region[, ef_value, ef_unit]])."""
    full = []
    for i, row in enumerate(rows, start=1):
        entity, year, activity, qty, unit, *rest = row
        region = rest[0] if rest else None
        ef_value, ef_unit = (rest[1], rest[2]) if len(rest) > 1 else (None, None)
        full.append((i, entity, year, activity, qty, unit, region, ef_value, ef_unit))
    return pd.DataFrame(full, columns=RECORD_COLUMNS)


def _params(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["name", "year", "value", "unit", "source"])


DENSITY_073 = _params([("density.gasoline", None, 0.73, "kg/L", "test")])
# Tests of non-energy formulas also carry 1 MWh of electricity (scope 2 only): compute_inventory
# once crashed without any energy record (test_inventory_without_energy_records).
ELEC_1MWH_2023 = ("G", 2023, "electricity", 1, "MWh")
ELEC_1MWH_2024 = ("G", 2024, "electricity", 1, "MWh")


def run(rows, org=GROUP, settings=None, parameters=None, overrides=None):
    kwargs = {}
    if parameters is not None:
        kwargs["parameters"] = parameters
    if overrides is not None:
        kwargs["overrides"] = overrides
    data = InventoryInput(_records(rows), org, **kwargs)
    return compute_inventory(data, load_library(), settings or CalcSettings())


def gas_t(result, gas: str, activity_type: str | None = None, basis: str = "location") -> float:
    """Consolidated tCO2e of one gas (optionally one activity type) in a basis view."""
    lines = result.basis_lines(basis)
    lines = lines[lines["gas"] == gas]
    if activity_type is not None:
        lines = lines[lines["activity_type"] == activity_type]
    return float(lines["tco2e"].sum())


def codes(result) -> list[str]:
    return [d.code for d in result.diagnostics]


# --------------------------------------------------------------------------- fuel combustion


def test_natural_gas_combustion() -> None:
    r = run([("G", 2024, "natural_gas", 29812, "m3")])
    ad = 29812 / 1e4  # 2.9812 10^4 Nm3 (metered m3 taken as Nm3)
    # fuel_parameters.csv cn_ng (MEE/NDRC guideline): NCV 389.31 GJ/10^4Nm3, CC 0.0153 tC/GJ,
    # OF 99 %: 2.9812 x 389.31 x 0.0153 x 0.99 x 44/12 = 2.9812 x 21.62189 = 64.45917 tCO2
    co2 = ad * 389.31 * 0.0153 * 0.99 * C_TO_CO2
    assert co2 == pytest.approx(64.45917, abs=1e-5)
    # ipcc_st_ng (IPCC 2006 Vol.2 Table 2.3): CH4 1 kg/TJ, N2O 0.1 kg/TJ on the same NCV
    tj = ad * 389.31 / 1000  # 1.160611 TJ
    ch4 = tj * 1.0 / 1000 * GWP_CH4_AR6  # 0.001160611 t CH4 x 27.0 = 0.0313365 tCO2e
    n2o = tj * 0.1 / 1000 * GWP_N2O_AR6  # 0.0001160611 t N2O x 273 = 0.0316847 tCO2e
    assert gas_t(r, "CO2") == pytest.approx(co2, rel=REL)
    assert gas_t(r, "CH4_nonfossil") == pytest.approx(ch4, rel=REL)
    assert gas_t(r, "N2O") == pytest.approx(n2o, rel=REL)
    assert r.scope_totals(2024)["scope1"] == pytest.approx(co2 + ch4 + n2o, rel=REL)
    ids = set(r.lines["factor_id"])
    assert {"cn_ng", "ipcc_st_ng"} <= ids
    assert r.ok


def test_natural_gas_in_ten_thousand_nm3_equals_m3() -> None:
    a = run([("G", 2024, "natural_gas", 2.9812, "10^4 Nm3")])
    b = run([("G", 2024, "natural_gas", 2.9812, "万标准立方米")])
    expected = 2.9812 * 389.31 * 0.0153 * 0.99 * C_TO_CO2  # cn_ng, as above
    assert gas_t(a, "CO2") == pytest.approx(expected, rel=REL)
    assert gas_t(b, "CO2") == pytest.approx(expected, rel=REL)


def test_gasoline_in_litres_with_density() -> None:
    r = run([("G", 2024, "gasoline_vehicle", 1000, "L")], parameters=DENSITY_073)
    t = 1000 * 0.73 / 1000  # 1 000 L x 0.73 kg/L = 730 kg = 0.73 t
    # cn_gasoline: 43.070 GJ/t x 0.0189 tC/GJ x 98 % x 44/12 = 2.92506 tCO2/t
    co2 = t * 43.07 * 0.0189 * 0.98 * C_TO_CO2  # 0.73 x 2.92506 = 2.13529 t
    # ipcc_road_gasoline_ldv1995 (IPCC Table 3.2.2, LDV 1995+): CH4 3.8, N2O 5.7 kg/TJ
    tj = t * 43.07 / 1000  # 0.0314411 TJ
    ch4 = tj * 3.8 / 1000 * GWP_CH4_AR6
    n2o = tj * 5.7 / 1000 * GWP_N2O_AR6
    assert gas_t(r, "CO2") == pytest.approx(co2, rel=REL)
    assert co2 == pytest.approx(2.135291, abs=1e-6)
    assert gas_t(r, "CH4_nonfossil") == pytest.approx(ch4, rel=REL)
    assert gas_t(r, "N2O") == pytest.approx(n2o, rel=REL)
    # energy: 730 kg x 1.4714 kgce/kg (gb2589_gasoline) = 1 074.122 kgce
    assert r.energy_totals(2024)["tce"] == pytest.approx(730 * 1.4714 / 1000, rel=REL)


def test_gasoline_in_tonnes() -> None:
    r = run([("G", 2024, "gasoline_vehicle", 2, "t")])
    co2 = 2 * 43.07 * 0.0189 * 0.98 * C_TO_CO2  # cn_gasoline: 2 x 2.92506 = 5.85011 t
    assert gas_t(r, "CO2") == pytest.approx(co2, rel=REL)
    assert r.energy_totals(2024)["tce"] == pytest.approx(2 * 1.4714, rel=REL)  # 2 000 kg x 1.4714


def test_gasoline_litres_without_density_is_a_unit_error() -> None:
    # (an electricity record keeps the energy table non-empty: see the crash test below)
    r = run([("G", 2024, "gasoline_vehicle", 1000, "L"), ELEC_1MWH_2024])
    assert not r.ok
    assert "unit" in codes(r)
    assert any("density.gasoline" in d.message for d in r.diagnostics)
    assert r.basis_lines("location").query("scope == 1").empty


def test_diesel_stationary() -> None:
    r = run([("G", 2024, "diesel_stationary", 5, "t")])
    # cn_diesel: 42.652 GJ/t x 0.0202 tC/GJ x 98 % x 44/12 = 3.09591 tCO2/t
    co2 = 5 * 42.652 * 0.0202 * 0.98 * C_TO_CO2  # 15.47955 t
    # ipcc_st_diesel (IPCC Table 2.3): CH4 3, N2O 0.6 kg/TJ
    tj = 5 * 42.652 / 1000  # 0.21326 TJ
    ch4 = tj * 3 / 1000 * GWP_CH4_AR6
    n2o = tj * 0.6 / 1000 * GWP_N2O_AR6
    assert co2 == pytest.approx(15.47955, abs=1e-5)
    assert gas_t(r, "CO2") == pytest.approx(co2, rel=REL)
    assert gas_t(r, "CH4_nonfossil") == pytest.approx(ch4, rel=REL)
    assert gas_t(r, "N2O") == pytest.approx(n2o, rel=REL)
    # tce: 5 000 kg x 1.4571 kgce/kg (gb2589_diesel) = 7.2855 tce
    assert r.energy_totals(2024)["tce"] == pytest.approx(7.2855, rel=REL)


def test_diesel_vehicle_in_kg_uses_road_ch4_n2o() -> None:
    r = run([("G", 2024, "diesel_vehicle", 500, "kg")])
    t = 0.5
    tj = t * 42.652 / 1000
    # ipcc_road_diesel (IPCC Table 3.2.2): CH4 3.9, N2O 3.9 kg/TJ
    assert gas_t(r, "CO2") == pytest.approx(t * 42.652 * 0.0202 * 0.98 * C_TO_CO2, rel=REL)
    assert gas_t(r, "CH4_nonfossil") == pytest.approx(tj * 3.9e-3 * GWP_CH4_AR6, rel=REL)
    assert gas_t(r, "N2O") == pytest.approx(tj * 3.9e-3 * GWP_N2O_AR6, rel=REL)


def test_generic_ch4_convention_uses_27_9() -> None:
    r = run(
        [("G", 2024, "natural_gas", 10000, "m3")], settings=CalcSettings(ch4_convention="generic")
    )
    # 1 x 10^4 Nm3 x 389.31 GJ = 0.38931 TJ x 1 kg/TJ = 0.38931 kg CH4 x 27.9 (AR6 generic)
    assert gas_t(r, "CH4_generic") == pytest.approx(0.38931e-3 * 27.9, rel=REL)
    assert gas_t(r, "CH4_nonfossil") == 0.0


def test_ar5_gwps() -> None:
    r = run([("G", 2024, "natural_gas", 10000, "m3")], settings=CalcSettings(gwp_set="AR5"))
    assert gas_t(r, "CH4_nonfossil") == pytest.approx(0.38931e-3 * 28, rel=REL)  # AR5 CH4 28
    assert gas_t(r, "N2O") == pytest.approx(0.038931e-3 * 265, rel=REL)  # AR5 N2O 265


# --------------------------------------------------------------------------- electricity


def test_grid_location_based_province() -> None:
    org = Organisation.of([Entity("G", "Group", None, region="CN-JS")])
    r = run([("G", 2022, "electricity", 5000, "MWh")], org=org)
    # cn_2022_prov_jiangsu 0.5978 kgCO2/kWh = 0.5978 tCO2/MWh: 5 000 x 0.5978 = 2 989.0 t
    assert r.scope_totals(2022)["scope2_location"] == pytest.approx(2989.0, rel=REL)
    assert set(r.basis_lines("location")["factor_id"]) == {"cn_2022_prov_jiangsu"}


def test_grid_location_based_national_and_record_region() -> None:
    r = run(
        [("G", 2022, "electricity", 5_000_000, "kWh", "CN-GD")],
        settings=CalcSettings(grid_level="national"),
    )
    # 5 000 000 kWh = 5 000 MWh x 0.5366 (cn_2022_national) = 2 683.0 t
    assert r.scope_totals(2022)["scope2_location"] == pytest.approx(2683.0, rel=REL)
    r = run([("G", 2022, "electricity", 5000, "MWh", "CN-GD")])
    # record region overrides the entity's: cn_2022_prov_guangdong 0.4403 -> 2 201.5 t
    assert r.scope_totals(2022)["scope2_location"] == pytest.approx(2201.5, rel=REL)


def test_market_based_with_green_power_gec_and_supplier() -> None:
    r = run(
        [
            ("G", 2022, "electricity", 1000, "MWh"),
            ("G", 2022, "green_power", 200, "MWh"),
            ("G", 2022, "gec", 100_000, "kWh"),  # 100 MWh
            ("G", 2022, "supplier_electricity", 300, "MWh", None, 0.3, "tCO2/MWh"),
        ]
    )
    totals = r.scope_totals(2022)
    # location: 1 000 MWh x 0.5580 (cn_2022_prov_beijing) = 558.0 t
    assert totals["scope2_location"] == pytest.approx(558.0, rel=REL)
    # market, in allocation order: green power 200 MWh x 0 + GEC 100 MWh x 0
    #   + supplier 300 MWh x 0.3 t/MWh = 90.0 t
    #   + residual 1000 - 200 - 100 - 300 = 400 MWh x 0.5856 (cn_2022_excl_mkt_nonfossil,
    #     national: no provincial residual factor) = 234.24 t
    # = 324.24 t
    assert totals["scope2_market"] == pytest.approx(90.0 + 400 * 0.5856, rel=REL)
    market = r.basis_lines("market")
    by_type = market.groupby("activity_type")["quantity_basis"].sum()
    assert by_type["green_power"] == pytest.approx(200, rel=REL)
    assert by_type["gec"] == pytest.approx(100, rel=REL)
    assert by_type["supplier_electricity"] == pytest.approx(300, rel=REL)
    assert by_type["electricity"] == pytest.approx(400, rel=REL)
    residual = market[market["activity_type"] == "electricity"]
    assert set(residual["factor_id"]) == {"cn_2022_excl_mkt_nonfossil"}
    assert "instrument-surplus" not in codes(r)
    # the total follows scope2_total_basis (location by default)
    assert totals["total"] == pytest.approx(558.0, rel=REL)
    m = run(
        [("G", 2022, "electricity", 1000, "MWh"), ("G", 2022, "green_power", 200, "MWh")],
        settings=CalcSettings(scope2_total_basis="market"),
    )
    assert m.scope_totals(2022)["total"] == pytest.approx(800 * 0.5856, rel=REL)


def test_market_based_surplus_instrument_warns_and_is_not_applied() -> None:
    r = run(
        [
            ("G", 2022, "electricity", 500, "MWh"),
            ("G", 2022, "green_power", 300, "MWh"),
            ("G", 2022, "gec", 300, "MWh"),
            ("G", 2022, "supplier_electricity", 100, "MWh", None, 0.3, "tCO2/MWh"),
        ]
    )
    # green power first: 300 of 500 MWh; GEC next: 200 of its 300 MWh (100 surplus);
    # supplier last: nothing left (100 MWh surplus, its 30 t are not counted); residual 0
    # -> market-based scope 2 = 0. (Supplier first would have given 100 x 0.3 = 30 t.)
    assert r.scope_totals(2022)["scope2_market"] == pytest.approx(0.0, abs=1e-12)
    market = r.basis_lines("market").groupby("activity_type")["quantity_basis"].sum()
    assert market["green_power"] == pytest.approx(300, rel=REL)
    assert market["gec"] == pytest.approx(200, rel=REL)
    assert market["supplier_electricity"] == pytest.approx(0, abs=1e-12)
    surplus = [d for d in r.diagnostics if d.code == "instrument-surplus"]
    assert len(surplus) == 2
    assert all(d.severity is Severity.WARNING for d in surplus)
    assert "gec" in surplus[0].message and "supplier_electricity" in surplus[1].message
    assert r.ok


def test_market_based_instrument_of_another_year_is_not_applied() -> None:
    r = run([("G", 2022, "electricity", 1000, "MWh"), ("G", 2023, "gec", 400, "MWh")])
    # the 2023 GEC does not reduce 2022: 1000 x 0.5856 = 585.6 t
    assert r.scope_totals(2022)["scope2_market"] == pytest.approx(585.6, rel=REL)
    assert "instrument-surplus" in codes(r)


def test_market_based_supplier_factor_in_kg_per_kwh() -> None:
    r = run(
        [
            ("G", 2022, "electricity", 1000, "MWh"),
            ("G", 2022, "supplier_electricity", 1000, "MWh", None, 0.25, "kgCO2/kWh"),
        ]
    )
    # 1000 MWh x 0.25 kgCO2/kWh = 1000 x 0.25 t/MWh = 250 t; no residual left
    assert r.scope_totals(2022)["scope2_market"] == pytest.approx(250.0, rel=REL)


# Regression: market.py used to take consumption only from gas == 'CO2' lines, so a kgCO2e/kWh
# override (as Hong Kong utilities publish) dropped the MWh from market-based scope 2.
def test_market_based_counts_consumption_under_a_co2e_override() -> None:
    org = Organisation.of([Entity("H", "HK", None, region="CN-HK")])
    overrides = pd.DataFrame(
        [("electricity", "CN-HK", None, "CO2e", 0.7, "kgCO2e/kWh", "utility", "hk")],
        columns=["activity_type", "region", "year", "gas", "value", "unit", "source", "id"],
    )
    r = run(
        [("H", 2022, "electricity", 1000, "MWh"), ("H", 2022, "gec", 100, "MWh")],
        org=org,
        overrides=overrides,
    )
    assert r.scope_totals(2022)["scope2_location"] == pytest.approx(700.0, rel=REL)
    # 900 unclaimed MWh remain under some residual factor: market-based scope 2 > 0
    assert "instrument-surplus" not in codes(r)
    assert r.scope_totals(2022)["scope2_market"] > 0


def test_factor_override_changes_location_result() -> None:
    overrides = pd.DataFrame(
        [("electricity", "CN-BJ", 2022, "CO2", 0.42, "kgCO2/kWh", "PPA letter", "o1")],
        columns=["activity_type", "region", "year", "gas", "value", "unit", "source", "id"],
    )
    r = run([("G", 2022, "electricity", 1000, "MWh")], overrides=overrides)
    assert r.scope_totals(2022)["scope2_location"] == pytest.approx(420.0, rel=REL)  # 1000 x 0.42
    assert "factor-override" in codes(r)
    assert set(r.basis_lines("location")["factor_id"]) == {"override:o1"}


def test_missing_factor_is_an_error() -> None:
    r = run(
        [("G", 2019, "electricity", 1000, "MWh")], settings=CalcSettings(allow_later_year=False)
    )
    assert not r.ok
    assert "factor-missing" in codes(r)
    assert r.scope_totals(2019)["scope2_location"] == 0.0


# --------------------------------------------------------------------------- fugitive


# Regression: engine.py _finish_energy crashed (pandas TypeError) when no record had an energy
# key (an inventory of only refrigerants or travel, or all energy records failing conversion).
@pytest.mark.parametrize(
    "row",
    [
        ("G", 2024, "refrigerant_r410a", 10, "kg"),
        ("G", 2024, "air_economy", 100, "pkm"),
        ("G", 2024, "gasoline_vehicle", 10, "L"),
    ],  # the last: litres without a density
)
def test_inventory_without_energy_records(row) -> None:
    r = run([row])
    assert r.energy_totals(2024)["tce"] == 0.0


def test_refrigerant_blend_r410a() -> None:
    r = run([("G", 2024, "refrigerant_r410a", 10, "kg"), ELEC_1MWH_2024])
    # 10 kg = 0.010 t x GWP(R-410A, AR6) = 0.5 x 771 + 0.5 x 3740 = 2 255.5 -> 22.555 tCO2e
    assert r.scope_totals(2024)["scope1"] == pytest.approx(0.010 * 2255.5, rel=REL)
    r4 = run(
        [("G", 2024, "refrigerant_r410a", 10, "kg"), ELEC_1MWH_2024],
        settings=CalcSettings(gwp_set="AR4"),
    )
    # AR4: 0.5 x 675 + 0.5 x 3500 = 2 087.5 -> 20.875 tCO2e
    assert r4.scope_totals(2024)["scope1"] == pytest.approx(20.875, rel=REL)


def test_refrigerant_blends_r407c_r404a() -> None:
    r = run(
        [
            ("G", 2024, "refrigerant_r407c", 1, "t"),
            ("G", 2024, "refrigerant_r404a", 1, "t"),
            ELEC_1MWH_2024,
        ],
        settings=CalcSettings(gwp_set="AR5"),
    )
    # AR5: R-407C 1 624.21, R-404A 3 942.8 (README §4) per tonne
    assert gas_t(r, "R-407C") == pytest.approx(1624.21, rel=REL)
    assert gas_t(r, "R-404A") == pytest.approx(3942.8, rel=REL)


def test_pure_hfc_and_sf6() -> None:
    r = run(
        [
            ("G", 2024, "refrigerant_r134a", 5, "kg"),
            ("G", 2024, "switchgear_sf6", 2, "kg"),
            ELEC_1MWH_2024,
        ]
    )
    # HFC-134a AR6 1 530: 0.005 t x 1530 = 7.65; SF6 AR6 25 200: 0.002 t x 25200 = 50.4
    assert gas_t(r, "HFC-134a") == pytest.approx(7.65, rel=REL)
    assert gas_t(r, "SF6") == pytest.approx(50.4, rel=REL)
    assert r.scope_totals(2024)["scope1"] == pytest.approx(58.05, rel=REL)


# --------------------------------------------------------------------------- heat


def test_purchased_heat() -> None:
    r = run([("G", 2024, "purchased_heat", 1000, "GJ")])
    # cn_heat_purchased: 0.11 tCO2/GJ x 1 000 GJ = 110 t (scope 2)
    assert r.scope_totals(2024)["scope2_location"] == pytest.approx(110.0, rel=REL)
    # gb2589_heat 0.03412 kgce/MJ = 34.12 kgce/GJ x 1 000 GJ = 34.12 tce; 1000 GJ / 3.6 = 277.78 MWh
    energy = r.energy_totals(2024)
    assert energy["tce"] == pytest.approx(34.12, rel=REL)
    assert energy["mwh"] == pytest.approx(1000 / 3.6, rel=REL)
    mj = run([("G", 2024, "purchased_heat", 1_000_000, "MJ")])
    assert mj.scope_totals(2024)["scope2_location"] == pytest.approx(110.0, rel=REL)


# Regression (fixed in 78e696f): every scope-2 activity line used to be basis 'location' and only
# electricity was rebuilt for the market-based view, so purchased heat was missing from it.
def test_purchased_heat_enters_market_based_scope2() -> None:
    r = run([("G", 2024, "purchased_heat", 1000, "GJ")])
    assert r.scope_totals(2024)["scope2_market"] == pytest.approx(110.0, rel=REL)


# --------------------------------------------------------------------------- scope 3


def test_defra_air_and_hotel() -> None:
    r = run(
        [
            ("G", 2023, "air_economy", 10_000, "passenger.km"),
            ("G", 2023, "hotel_china", 10, "room-night"),
            ELEC_1MWH_2023,
        ]
    )
    # defra23_air_int_econ_rf (DESNZ 2023 v1.1, international non-UK economy with RF):
    # 10 000 p.km x 0.13464333 kgCO2e = 1 346.4333 kg = 1.3464333 t
    assert gas_t(r, "CO2e", "air_economy") == pytest.approx(1.3464333, rel=REL)
    # defra23_hotel_china: 10 room-nights x 53.5 kgCO2e = 535 kg = 0.535 t
    assert gas_t(r, "CO2e", "hotel_china") == pytest.approx(0.535, rel=REL)
    assert r.scope_totals(2023)["scope3"] == pytest.approx(1.3464333 + 0.535, rel=REL)
    r24 = run([("G", 2024, "air_economy", 10_000, "pkm"), ELEC_1MWH_2024])
    # defra24_air_int_econ_rf 0.13465 kg/p.km -> 1.3465 t
    assert r24.scope_totals(2024)["scope3"] == pytest.approx(1.3465, rel=REL)


def test_defra_freight_tonne_km() -> None:
    r = run(
        [
            ("G", 2023, "freight_in_road", 5000, "t.km"),
            ("G", 2023, "freight_out_sea", 200, "吨公里"),
            ("G", 2023, "freight_in_air", 10, "tonne.km"),
            ELEC_1MWH_2023,
        ]
    )
    # defra23_hgv_all_avg 0.096957467 x 5 000 = 484.787335 kg
    # defra23_container_avg 0.01611857 x 200 = 3.223714 kg
    # defra23_airfreight_int_rf 1.099031604 x 10 = 10.99031604 kg
    expected = (5000 * 0.096957467 + 200 * 0.01611857 + 10 * 1.099031604) / 1000
    assert r.scope_totals(2023)["scope3"] == pytest.approx(expected, rel=REL)
    cats = r.lines.groupby("category")["tco2e"].sum()
    assert cats["s3_04_upstream_transport"] == pytest.approx(
        (5000 * 0.096957467 + 10 * 1.099031604) / 1000, rel=REL
    )
    assert cats["s3_09_downstream_transport"] == pytest.approx(200 * 0.01611857 / 1000, rel=REL)


def test_spend_based_with_fx_parameter() -> None:
    params = _params([("fx.CNY_per_USD", 2024, 7.0, "CNY/USD", "test")])
    r = run([("G", 2024, "spend_computers", 10, "万元"), ELEC_1MWH_2024], parameters=params)
    # 10 万元 = 100 000 CNY / 7.0 CNY per USD = 14 285.714 USD
    # x 0.112 kgCO2e/USD (epa_useeio_v12_334111, USEEIO v1.2 NAICS 334111) = 1 600 kg = 1.6 t
    assert r.scope_totals(2024)["scope3"] == pytest.approx(100_000 / 7.0 * 0.112 / 1000, rel=REL)
    assert r.scope_totals(2024)["scope3"] == pytest.approx(1.6, rel=REL)
    assert "factor-fallback" in codes(r)  # US 2021 factor used as proxy for CN-BJ 2024
    usd = run([("G", 2024, "spend_computers", 1000, "USD"), ELEC_1MWH_2024])
    assert usd.scope_totals(2024)["scope3"] == pytest.approx(0.112, rel=REL)  # 1000 x 0.112 kg


def test_spend_in_cny_without_fx_is_a_unit_error() -> None:
    r = run([("G", 2024, "spend_computers", 100_000, "CNY"), ELEC_1MWH_2024])
    assert not r.ok
    assert any(d.code == "unit" and "fx.CNY_per_USD" in d.message for d in r.diagnostics)


# --------------------------------------------------------------------------- energy (tce)


def test_tce_electricity_equivalent_value() -> None:
    r = run([("G", 2024, "electricity", 1000, "MWh")])
    # gb2589_elec_equiv 0.1229 kgce/kWh: 1 000 000 kWh x 0.1229 = 122 900 kgce = 122.9 tce
    e = r.energy_totals(2024)
    assert e["tce"] == pytest.approx(122.9, rel=REL)
    assert e["mwh"] == pytest.approx(1000, rel=REL)
    assert e["tce_primary"] == pytest.approx(122.9, rel=REL)  # no 等价值 parameter: same


@pytest.mark.parametrize(
    ("variant", "coefficient"),
    [("high", 1.33), ("low", 1.10), ("gasfield_2008", 1.2143), ("oilfield_2008", 1.33)],
)
def test_tce_natural_gas_variants(variant: str, coefficient: float) -> None:
    # README WE1: 3 000 m3 gives 3.990 (1.33), 3.643 (1.2143) or 3.300 (1.10) tce
    r = run(
        [("G", 2024, "natural_gas", 3000, "m3")], settings=CalcSettings(natural_gas_tce=variant)
    )
    assert r.energy_totals(2024)["tce"] == pytest.approx(3000 * coefficient / 1000, rel=REL)


def test_tce_natural_gas_we1_published_figures() -> None:
    got = {
        v: run(
            [("G", 2024, "natural_gas", 3000, "m3")], settings=CalcSettings(natural_gas_tce=v)
        ).energy_totals(2024)["tce"]
        for v in ("high", "gasfield_2008", "low")
    }
    assert got["high"] == pytest.approx(3.990, abs=5e-4)
    assert got["gasfield_2008"] == pytest.approx(3.643, abs=5e-4)
    assert got["low"] == pytest.approx(3.300, abs=5e-4)


def test_tce_gasoline_per_kg_and_mwh_content() -> None:
    r = run([("G", 2024, "gasoline_vehicle", 1000, "kg")])
    # gb2589_gasoline 1.4714 kgce/kg x 1 000 kg = 1.4714 tce; energy content at
    # 29.3076 GJ/tce: 1.4714 x 29.3076 / 3.6 = 11.9788 MWh
    e = r.energy_totals(2024)
    assert e["tce"] == pytest.approx(1.4714, rel=REL)
    assert e["mwh"] == pytest.approx(1.4714 * 29.3076 / 3.6, rel=REL)


def test_tce_primary_value_of_electricity_by_year() -> None:
    params = _params([("tce.electricity_primary", 2024, 0.30, "kgce/kWh", "user")])
    r = run(
        [("G", 2024, "electricity", 1000, "MWh"), ("G", 2023, "electricity", 1000, "MWh")],
        parameters=params,
    )
    # 等价值 2024: 1 000 000 kWh x 0.30 kgce/kWh = 300 tce; 当量值 stays 122.9 tce
    e24 = r.energy_totals(2024)
    assert e24["tce_primary"] == pytest.approx(300.0, rel=REL)
    assert e24["tce"] == pytest.approx(122.9, rel=REL)
    # 2023 has no parameter: the primary value falls back to 当量值
    assert r.energy_totals(2023)["tce_primary"] == pytest.approx(122.9, rel=REL)


def test_tce_primary_value_leaves_fuels_alone() -> None:
    params = _params([("tce.electricity_primary", None, 0.30, "kgce/kWh", "user")])
    r = run(
        [("G", 2024, "electricity", 1000, "MWh"), ("G", 2024, "diesel_stationary", 1, "t")],
        parameters=params,
    )
    e = r.energy_totals(2024)
    assert e["tce"] == pytest.approx(122.9 + 1.4571, rel=REL)
    assert e["tce_primary"] == pytest.approx(300.0 + 1.4571, rel=REL)


# --------------------------------------------------------------------------- consolidation


def _tree() -> Organisation:
    return Organisation.of(
        [
            Entity("G", "Group", None, region="CN-BJ"),
            Entity("S1", "Sub 60 %", parent_id="G", equity_share=0.6, region="CN-BJ"),
            Entity(
                "S2",
                "Sub of S1 50 %",
                parent_id="S1",
                equity_share=0.5,
                region="CN-BJ",
                operational_control=False,
            ),
            Entity(
                "S3",
                "Associate 20 %",
                parent_id="G",
                equity_share=0.2,
                region="CN-BJ",
                financial_control=False,
            ),
        ]
    )


def _tree_run(approach: ConsolidationApproach):
    rows = [(e, 2022, "electricity", 1000, "MWh") for e in ("G", "S1", "S2", "S3")]
    return run(rows, org=_tree(), settings=CalcSettings(approach=approach, grid_level="national"))


def test_equity_share_consolidation() -> None:
    r = _tree_run(ConsolidationApproach.EQUITY_SHARE)
    one = 1000 * 0.5366  # 536.6 t per entity (cn_2022_national)
    assert r.scope_totals(2022, entity_id="G")["scope2_location"] == pytest.approx(one, rel=REL)
    assert r.scope_totals(2022, entity_id="S1")["scope2_location"] == pytest.approx(
        0.6 * one, rel=REL
    )
    # nested: 60 % x 50 % = 30 %
    assert r.scope_totals(2022, entity_id="S2")["scope2_location"] == pytest.approx(
        0.3 * one, rel=REL
    )
    assert r.scope_totals(2022, entity_id="S3")["scope2_location"] == pytest.approx(
        0.2 * one, rel=REL
    )
    assert r.scope_totals(2022)["scope2_location"] == pytest.approx(2.1 * one, rel=REL)
    # energy follows the same shares: 122.9 tce x (1 + 0.6 + 0.3 + 0.2)
    assert r.energy_totals(2022)["tce"] == pytest.approx(122.9 * 2.1, rel=REL)
    # market-based too: 1000 MWh x 0.5856 x 2.1
    assert r.scope_totals(2022)["scope2_market"] == pytest.approx(585.6 * 2.1, rel=REL)


def test_operational_control_consolidation() -> None:
    r = _tree_run(ConsolidationApproach.OPERATIONAL_CONTROL)
    one = 536.6
    # controlled entities at 100 % (S1 and S3 whatever their equity), S2 not controlled: 0 %
    assert r.scope_totals(2022, entity_id="S1")["scope2_location"] == pytest.approx(one, rel=REL)
    assert r.scope_totals(2022, entity_id="S3")["scope2_location"] == pytest.approx(one, rel=REL)
    assert r.scope_totals(2022, entity_id="S2")["scope2_location"] == 0.0
    assert r.scope_totals(2022)["scope2_location"] == pytest.approx(3 * one, rel=REL)
    assert r.energy_totals(2022, entity_id="S2")["tce"] == 0.0
    assert "boundary" in codes(r)


def test_financial_control_consolidation() -> None:
    r = _tree_run(ConsolidationApproach.FINANCIAL_CONTROL)
    one = 536.6
    # S3 not financially controlled: 0 %; S2 is (only operational control is missing): 100 %
    assert r.scope_totals(2022, entity_id="S3")["scope2_location"] == 0.0
    assert r.scope_totals(2022, entity_id="S2")["scope2_location"] == pytest.approx(one, rel=REL)
    assert r.scope_totals(2022)["scope2_location"] == pytest.approx(3 * one, rel=REL)


def test_control_below_an_uncontrolled_parent_is_excluded() -> None:
    org = Organisation.of(
        [
            Entity("G", "Group", None, region="CN-BJ"),
            Entity("J", "JV", parent_id="G", operational_control=False, region="CN-BJ"),
            Entity("K", "JV's sub", parent_id="J", operational_control=True, region="CN-BJ"),
        ]
    )
    assert org.consolidation_shares(ConsolidationApproach.OPERATIONAL_CONTROL) == {
        "G": 1.0,
        "J": 0.0,
        "K": 0.0,
    }


# --------------------------------------------------------------------------- seed group check


def test_seed_group_check() -> None:
    org = Organisation.of(
        [
            Entity("G", "Group", None, region="CN-BJ"),
            Entity("S1", "Sub", parent_id="G", equity_share=0.6, region="CN-JS"),
        ]
    )
    r = run(
        [
            ("G", 2024, "electricity", 45074.37, "MWh"),
            ("G", 2024, "natural_gas", 29812, "m3"),
            ("G", 2024, "gasoline_vehicle", 1471.54, "L"),
        ],
        org=org,
        parameters=DENSITY_073,
        settings=CalcSettings(grid_level="national", factor_as_of=date(2025, 3, 31)),
    )
    # electricity 45 074.37 MWh x 122.9 kgce/MWh = 5 539 640.07 kgce = 5 539.640 tce
    # natural gas 29 812 m3 x 1.33 kgce/m3 = 39 649.96 kgce = 39.650 tce
    # gasoline 1 471.54 L x 0.73 kg/L = 1 074.2242 kg x 1.4714 kgce/kg = 1 580.61 kgce
    #   = 1.581 tce
    # total 5 580.87 tce (published 5 580.86)
    tce = (45074.37 * 1000 * 0.1229 + 29812 * 1.33 + 1471.54 * 0.73 * 1.4714) / 1000
    assert tce == pytest.approx(5580.87, abs=0.005)
    assert r.energy_totals(2024)["tce"] == pytest.approx(tce, rel=REL)
    assert r.energy_totals(2024)["tce"] == pytest.approx(5580.86, abs=0.05)
    # scope 2 location: 45 074.37 MWh x 0.5366 (cn_2022_national; as of 2025-03-31 the 2023
    # factor is not yet published) = 24 186.91 t
    s2 = r.scope_totals(2024)["scope2_location"]
    assert s2 == pytest.approx(45074.37 * 0.5366, rel=REL)
    assert s2 == pytest.approx(24186.91, abs=0.005)
    assert set(r.basis_lines("location").query("scope == 2")["factor_id"]) == {"cn_2022_national"}
    assert r.ok


def test_electricity_instruments_do_not_offset_heat_in_market_based() -> None:
    r = run(
        [
            ("G", 2024, "electricity", 1000, "MWh"),
            ("G", 2024, "gec", 1500, "MWh"),  # 500 MWh surplus: never applied to heat
            ("G", 2024, "purchased_heat", 1000, "GJ"),
        ]
    )
    # electricity fully covered by GECs: 0 t; heat 1 000 GJ x 0.11 tCO2/GJ = 110 t
    assert r.scope_totals(2024)["scope2_market"] == pytest.approx(110.0, rel=REL)
    # location: 1 000 MWh x 0.5580 (CN-BJ 2022, nearest earlier) + 110 t
    assert r.scope_totals(2024)["scope2_location"] == pytest.approx(558.0 + 110.0, rel=REL)
    assert "instrument-surplus" in codes(r)
