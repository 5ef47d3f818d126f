"""Factor library: provenance, shipped values against the research pack, and resolution rules.

Reference: /work/shared/reference/factors/README.md (the research pack), cited by section.
"""

from __future__ import annotations

from datetime import date
from importlib import resources

import pandas as pd
import pytest

from esgledger.domain import Severity
from esgledger.factors import CalcSettings, load_library, resolve_factors
from esgledger.factors.library import DATA_FILES, EF_FILES

C_TO_CO2 = 44.0 / 12.0


@pytest.fixture(scope="module")
def lib():
    return load_library()


def _raw(name: str) -> pd.DataFrame:
    path = resources.files("esgledger.factors").joinpath("data", name)
    with path.open("r", encoding="utf-8") as fh:
        return pd.read_csv(fh, dtype=str, keep_default_na=False)


def _enabled(frame: pd.DataFrame) -> pd.DataFrame:
    if "enabled" not in frame:
        return frame
    return frame[frame["enabled"].str.lower().eq("true")]


def _resolve(
    lib,
    activity_type: str,
    region: str | None,
    year: int,
    settings: CalcSettings | None = None,
    overrides: pd.DataFrame | None = None,
):
    keys = pd.DataFrame(
        [(activity_type, region, year)], columns=["activity_type", "region", "year"]
    )
    return resolve_factors(keys, lib, settings or CalcSettings(), overrides)


def _one(resolved: pd.DataFrame, gas: str = "CO2") -> pd.Series:
    rows = resolved[resolved["gas"] == gas]
    assert len(rows) == 1, resolved
    return rows.iloc[0]


# --------------------------------------------------------------------------- provenance


@pytest.mark.parametrize("name", DATA_FILES)
def test_every_enabled_row_has_source_edition_and_verification(name: str) -> None:
    frame = _enabled(_raw(name))
    for column in ("source", "edition", "verification"):
        if column in frame:
            empty = frame[frame[column].str.strip().eq("")]
            ids = empty.iloc[:, 0].tolist()
            assert empty.empty, f"{name}: enabled rows without {column}: {ids}"
    if name in EF_FILES or name in ("tce_coefficients.csv", "fuel_parameters.csv", "gwp.csv"):
        assert {"source", "verification"} <= set(frame.columns)


@pytest.mark.parametrize("name", DATA_FILES)
def test_no_unverified_row_is_enabled(name: str) -> None:
    frame = _raw(name)
    if "verification" not in frame:
        return
    unverified = frame[frame["verification"].str.contains("unverified")]
    if "enabled" in frame:
        shipped = unverified[unverified["enabled"].str.lower().eq("true")]
    else:  # densities.csv: unverified rows must carry no value (the loader drops them)
        shipped = (
            unverified[unverified["value"].str.strip().ne("")] if "value" in frame else unverified
        )
    assert shipped.empty, f"{name}: unverified rows shipped: {shipped.iloc[:, 0].tolist()}"


@pytest.mark.parametrize(
    ("table", "factor_id"),
    [
        ("ef_grid.csv", "cn_ent_2021_reporting"),  # 0.5810, README §2(b) "not found"
        ("ef_grid.csv", "cn_2023_provincial"),  # 2023 provincial values not found
        ("tce_coefficients.csv", "gb2589_lng_2020"),  # LNG 1.7571, README §1 "unverified"
        ("tce_coefficients.csv", "gb2589_elec_equal"),  # 等价值: no official value
        ("tce_coefficients.csv", "gb2589_steam_lp"),
        ("fuel_parameters.csv", "ipcc_comm_ng"),  # IPCC Table 2.4, from recall
        ("fuel_parameters.csv", "ipcc_comm_gasoline"),
        ("fuel_parameters.csv", "ipcc_comm_diesel"),
        ("fuel_parameters.csv", "ipcc_comm_lpg"),
        ("fuel_parameters.csv", "ipcc_comm_bitcoal"),
        ("ef_transport.csv", "defra24_hgv_all_avg"),  # row identity uncertain
    ],
)
def test_named_unverified_rows_are_disabled(table: str, factor_id: str) -> None:
    frame = _raw(table)
    id_column = frame.columns[0]
    row = frame[frame[id_column] == factor_id]
    assert len(row) == 1
    assert row["enabled"].iloc[0].lower() == "false"


def test_unverified_values_never_reach_the_loaded_library(lib) -> None:
    ef = lib.emission_factors
    assert not ef["verification"].str.contains("unverified").any()
    assert "cn_ent_2021_reporting" not in set(ef["factor_id"])
    assert not ((ef["key"] == "grid.enterprise") & (ef["value"] == 0.5810)).any()
    assert "cn_2023_provincial" not in set(ef["factor_id"])
    assert "defra24_hgv_all_avg" not in set(ef["factor_id"])
    assert "tce.lng" not in set(lib.tce["key"])  # LNG 1.7571
    assert "tce.electricity_primary" not in set(lib.tce["key"])
    assert not lib.tce["verification"].str.contains("unverified").any()
    assert not any(k.startswith("ipcc.comm_") for k in lib.fuel.index)  # IPCC Table 2.4
    assert not lib.fuel["verification"].str.contains("unverified").any()
    assert not lib.densities["verification"].str.contains("unverified").any()


# --------------------------------------------------------------------------- values vs README


@pytest.mark.parametrize(
    ("key", "geography", "year", "value"),
    [
        # README §2(a) national / excl. market-traded non-fossil / fossil, kgCO2/kWh
        ("grid.location", "CN", 2021, 0.5568),
        ("grid.location", "CN", 2022, 0.5366),
        ("grid.location", "CN", 2023, 0.5306),
        ("grid.residual", "CN", 2021, 0.5942),
        ("grid.residual", "CN", 2022, 0.5856),
        ("grid.residual", "CN", 2023, 0.6096),
        ("grid.fossil", "CN", 2021, 0.8426),
        ("grid.fossil", "CN", 2022, 0.8325),
        ("grid.fossil", "CN", 2023, 0.8273),
        # README §2(b) enterprise-reporting series: 0.5703 is data year 2022
        ("grid.enterprise", "CN", 2022, 0.5703),
        # README §2 regional table
        ("grid.location", "CN-R-NORTH", 2021, 0.7120),
        ("grid.location", "CN-R-NORTH", 2022, 0.6776),
        ("grid.location", "CN-R-NORTH", 2023, 0.6361),
        ("grid.location", "CN-R-NORTHEAST", 2022, 0.5564),
        ("grid.location", "CN-R-EAST", 2021, 0.5992),
        ("grid.location", "CN-R-EAST", 2022, 0.5617),
        ("grid.location", "CN-R-EAST", 2023, 0.5500),
        ("grid.location", "CN-R-CENTRAL", 2022, 0.5395),
        ("grid.location", "CN-R-NORTHWEST", 2023, 0.5543),
        ("grid.location", "CN-R-SOUTH", 2021, 0.4326),
        ("grid.location", "CN-R-SOUTH", 2022, 0.3869),
        ("grid.location", "CN-R-SOUTH", 2023, 0.4042),
        ("grid.location", "CN-R-SOUTHWEST", 2021, 0.2113),
        ("grid.location", "CN-R-SOUTHWEST", 2022, 0.2268),
        ("grid.location", "CN-R-SOUTHWEST", 2023, 0.2472),
        # README §2: the ten 2022 provinces matching the news report, plus examples
        ("grid.location", "CN-HE", 2022, 0.7252),
        ("grid.location", "CN-SX", 2022, 0.7096),
        ("grid.location", "CN-TJ", 2022, 0.7041),
        ("grid.location", "CN-NM", 2022, 0.6849),
        ("grid.location", "CN-AH", 2022, 0.6782),
        ("grid.location", "CN-FJ", 2022, 0.4092),
        ("grid.location", "CN-GX", 2022, 0.4044),
        ("grid.location", "CN-QH", 2022, 0.1567),
        ("grid.location", "CN-SC", 2022, 0.1404),
        ("grid.location", "CN-YN", 2022, 0.1073),
        ("grid.location", "CN-JS", 2022, 0.5978),
        ("grid.location", "CN-SH", 2022, 0.5849),
        ("grid.location", "CN-GD", 2022, 0.4403),
        ("grid.location", "CN-ZJ", 2022, 0.5153),
        ("grid.location", "CN-BJ", 2022, 0.5580),
    ],
)
def test_grid_factor_values_match_research_pack(lib, key, geography, year, value) -> None:
    ef = lib.emission_factors
    rows = ef[(ef["key"] == key) & (ef["geography"] == geography) & (ef["year"] == year)]
    assert len(rows) == 1
    assert rows["value"].iloc[0] == pytest.approx(value, abs=5e-5)
    assert rows["unit"].iloc[0] == "kgCO2/kWh"


@pytest.mark.parametrize(
    ("key", "variant", "value", "unit"),
    [
        # README §1 GB/T 2589 Appendix A (coefficient = kcal / 7000)
        ("tce.raw_coal", "default", 0.7143, "kgce/kg"),
        ("tce.coke", "default", 0.9714, "kgce/kg"),
        ("tce.fuel_oil", "default", 1.4286, "kgce/kg"),
        ("tce.gasoline", "default", 1.4714, "kgce/kg"),
        ("tce.kerosene", "default", 1.4714, "kgce/kg"),
        ("tce.diesel", "default", 1.4571, "kgce/kg"),
        ("tce.lpg", "default", 1.7143, "kgce/kg"),
        ("tce.natural_gas", "oilfield_2008", 1.3300, "kgce/m3"),  # 9310/7000
        ("tce.natural_gas", "gasfield_2008", 1.2143, "kgce/m3"),  # 8500/7000
        ("tce.natural_gas", "low", 1.1000, "kgce/m3"),  # 7700/7000
        ("tce.natural_gas", "high", 1.3300, "kgce/m3"),
        ("tce.heat", "default", 0.03412, "kgce/MJ"),  # 238.85/7000
        ("tce.electricity", "default", 0.1229, "kgce/kWh"),  # 860/7000
        ("tce.fresh_water", "default", 0.2571, "kgce/t"),
        ("tce.compressed_air", "default", 0.0400, "kgce/m3"),
    ],
)
def test_tce_coefficients_match_gb2589(lib, key, variant, value, unit) -> None:
    rows = lib.tce[(lib.tce["key"] == key) & (lib.tce["variant"] == variant)]
    assert len(rows) == 1
    assert rows["value"].iloc[0] == pytest.approx(value, rel=1e-12)
    assert rows["unit"].iloc[0] == unit


@pytest.mark.parametrize(
    ("kcal", "key", "variant"),
    [
        (5000, "tce.raw_coal", "default"),
        (10300, "tce.gasoline", "default"),
        (10200, "tce.diesel", "default"),
        (12000, "tce.lpg", "default"),
        (9310, "tce.natural_gas", "high"),
        (8500, "tce.natural_gas", "gasfield_2008"),
        (7700, "tce.natural_gas", "low"),
        (860, "tce.electricity", "default"),
    ],
)
def test_tce_coefficient_is_kcal_over_7000(lib, kcal, key, variant) -> None:
    # README §1 consistency check: coefficient = NCV (kcal) / 7 000 kcal per kgce, to 4 d.p.
    value = lib.tce[(lib.tce["key"] == key) & (lib.tce["variant"] == variant)]["value"].iloc[0]
    assert value == pytest.approx(round(kcal / 7000, 4), abs=5e-5)


@pytest.mark.parametrize(
    ("gas", "ar4", "ar5", "ar6"),
    [  # README §4 GWP-100 table
        ("CO2", 1, 1, 1),
        ("N2O", 298, 265, 273),
        ("SF6", 22800, 23500, 25200),
        ("NF3", 17200, 16100, 17400),
        ("HFC-32", 675, 677, 771),
        ("HFC-125", 3500, 3170, 3740),
        ("HFC-134a", 1430, 1300, 1530),
        ("HFC-143a", 4470, 4800, 5810),
        ("HFC-227ea", 3220, 3350, 3600),
        ("HFC-23", 14800, 12400, 14600),
        ("CF4", 7390, 6630, 7380),
        ("CH4_nonfossil", 25, 28, 27.0),
        ("CH4_fossil", 25, 30, 29.8),
    ],
)
def test_gwp_values_match_ipcc_tables(lib, gas, ar4, ar5, ar6) -> None:
    assert lib.gwp_value(gas, "AR4") == ar4
    assert lib.gwp_value(gas, "AR5") == ar5
    assert lib.gwp_value(gas, "AR6") == pytest.approx(ar6, rel=1e-12)


def test_generic_ch4_exists_only_in_ar6(lib) -> None:
    assert lib.gwp_value("CH4_generic", "AR6") == pytest.approx(27.9, rel=1e-12)
    with pytest.raises(KeyError):
        lib.gwp_value("CH4_generic", "AR5")


@pytest.mark.parametrize(
    ("blend", "gwp_set", "expected"),
    [
        # README §4 blends, mass fractions x component GWPs
        ("R-410A", "AR4", 0.5 * 675 + 0.5 * 3500),  # 2087.5
        ("R-410A", "AR5", 0.5 * 677 + 0.5 * 3170),  # 1923.5
        ("R-410A", "AR6", 0.5 * 771 + 0.5 * 3740),  # 2255.5
        ("R-407C", "AR4", 0.23 * 675 + 0.25 * 3500 + 0.52 * 1430),  # 1773.85
        ("R-407C", "AR5", 0.23 * 677 + 0.25 * 3170 + 0.52 * 1300),  # 1624.21
        ("R-407C", "AR6", 0.23 * 771 + 0.25 * 3740 + 0.52 * 1530),  # 1907.93
        ("R-404A", "AR4", 0.44 * 3500 + 0.52 * 4470 + 0.04 * 1430),  # 3921.6
        ("R-404A", "AR5", 0.44 * 3170 + 0.52 * 4800 + 0.04 * 1300),  # 3942.8
        ("R-404A", "AR6", 0.44 * 3740 + 0.52 * 5810 + 0.04 * 1530),  # 4728.0
    ],
)
def test_blend_gwps_from_compositions(lib, blend, gwp_set, expected) -> None:
    assert lib.gwp_value(blend, gwp_set) == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize(
    ("blend", "gwp_set", "published"),
    [
        ("R-410A", "AR4", 2087.5),
        ("R-410A", "AR5", 1923.5),
        ("R-410A", "AR6", 2255.5),
        ("R-407C", "AR4", 1773.85),
        ("R-407C", "AR5", 1624.21),
        ("R-407C", "AR6", 1907.93),
        ("R-404A", "AR4", 3921.6),
        ("R-404A", "AR5", 3942.8),
        ("R-404A", "AR6", 4728.0),
    ],
)
def test_blend_gwps_equal_published_reference_values(lib, blend, gwp_set, published) -> None:
    assert lib.gwp_value(blend, gwp_set) == pytest.approx(published, abs=1e-6)


def test_blend_mass_fractions_sum_to_one(lib) -> None:
    sums = (
        lib.blends.assign(f=lib.blends["mass_fraction"].astype(float)).groupby("blend")["f"].sum()
    )
    for blend, total in sums.items():
        assert total == pytest.approx(1.0, abs=1e-12), blend


@pytest.mark.parametrize(
    ("key", "ncv", "cc", "of", "published"),
    [
        # README §3 China method: E = AD x NCV x CC x OF x 44/12
        ("comb.cn.natural_gas", 389.31, 0.0153, 0.99, 21.6219),  # tCO2/10^4 Nm3
        ("comb.cn.gasoline", 43.070, 0.0189, 0.98, 2.9251),  # tCO2/t
        ("comb.cn.diesel", 42.652, 0.0202, 0.98, 3.0959),
        ("comb.cn.lpg", 50.179, 0.0172, 0.98, 3.1013),
        ("comb.cn.fuel_oil", 41.816, 0.0211, 0.98, 3.1705),
        ("comb.cn.kerosene", 43.070, 0.0196, 0.98, 3.0334),
        ("comb.cn.raw_coal", 20.908, 0.02637, 0.94, 1.9003),
        ("comb.cn.coke", 28.435, 0.0295, 0.93, 2.8604),
        ("comb.cn.natural_gas_01532", 389.31, 0.01532, 0.99, 21.6502),
    ],
)
def test_china_method_co2_factors_derive_from_parameters(lib, key, ncv, cc, of, published):
    row = lib.fuel.loc[key]
    # the shipped parameters are those of the README table
    assert float(row["ncv"]) == pytest.approx(ncv, rel=1e-12)
    assert float(row["carbon_content"]) == pytest.approx(cc, rel=1e-12)
    assert float(row["oxidation_rate"]) == pytest.approx(of, rel=1e-12)
    derived = ncv * cc * of * C_TO_CO2
    # the published derived value in fuel_parameters.csv, and the README, to 4 decimals
    assert round(derived, 4) == pytest.approx(published, abs=1e-12)
    assert float(row["published_co2"]) == pytest.approx(published, abs=1e-12)


@pytest.mark.parametrize(
    ("activity_type", "expected"),
    [
        ("natural_gas", 389.31 * 0.0153 * 0.99 * C_TO_CO2),  # 21.62189 t/10^4 Nm3
        ("gasoline_vehicle", 43.07 * 0.0189 * 0.98 * C_TO_CO2),  # 2.92506 t/t
        ("diesel_stationary", 42.652 * 0.0202 * 0.98 * C_TO_CO2),  # 3.09591 t/t
        ("lpg", 50.179 * 0.0172 * 0.98 * C_TO_CO2),  # 3.10133 t/t
    ],
)
def test_resolved_combustion_co2_factor_uses_the_china_formula(lib, activity_type, expected):
    resolved, diagnostics = _resolve(lib, activity_type, "CN-BJ", 2024)
    row = _one(resolved, "CO2")
    assert row["ef"] == pytest.approx(expected, rel=1e-12)
    assert diagnostics == []


@pytest.mark.parametrize(
    ("key", "ncv", "co2_kg_per_tj", "published"),
    [  # README §3 IPCC: CO2 per tonne = NCV (TJ/Gg) x EF (kg/TJ) / 1e6
        ("ipcc.st_diesel", 43.0, 74100, 3.1863),
        ("ipcc.st_gasoline", 44.3, 69300, 3.06999),
        ("ipcc.st_lpg", 47.3, 63100, 2.98463),
        ("ipcc.st_ng", 48.0, 56100, 2.6928),
    ],
)
def test_ipcc_co2_per_tonne(lib, key, ncv, co2_kg_per_tj, published) -> None:
    row = lib.fuel.loc[key]
    assert ncv * co2_kg_per_tj / 1e6 == pytest.approx(published, abs=5e-6)
    assert float(row["published_co2"]) == pytest.approx(published, abs=5e-6)


@pytest.mark.parametrize(
    ("key", "ch4", "n2o"),
    [  # README §3: IPCC 2006 Vol.2 Table 2.3 (stationary) and Table 3.2.2 (road)
        ("ipcc.st_ng", 1, 0.1),
        ("ipcc.st_gasoline", 3, 0.6),
        ("ipcc.st_diesel", 3, 0.6),
        ("ipcc.st_lpg", 1, 0.1),
        ("ipcc.st_rfo", 3, 0.6),
        ("ipcc.st_bitcoal", 10, 1.5),
        ("ipcc.road_cng", 92, 3),
        ("ipcc.road_diesel", 3.9, 3.9),
        ("ipcc.road_lpg", 62, 0.2),
        ("ipcc.road_gasoline_uncontrolled", 33, 3.2),
        ("ipcc.road_gasoline_oxcat", 25, 8.0),
        ("ipcc.road_gasoline_ldv1995", 3.8, 5.7),
        ("ipcc.offroad_diesel", 4.15, 28.6),
    ],
)
def test_ipcc_ch4_n2o_defaults(lib, key, ch4, n2o) -> None:
    row = lib.fuel.loc[key]
    assert float(row["ch4_kg_per_tj"]) == pytest.approx(ch4, rel=1e-12)
    assert float(row["n2o_kg_per_tj"]) == pytest.approx(n2o, rel=1e-12)


@pytest.mark.parametrize(
    ("factor_id", "value", "unit"),
    [  # README §5 DEFRA 2023 v1.1 (values rounded to 5 d.p. in the README)
        ("defra23_air_int_econ_rf", 0.13464, "kgCO2e/passenger_km"),
        ("defra23_air_int_econ_norf", 0.07947, "kgCO2e/passenger_km"),
        ("defra23_air_lh_econ_rf", 0.20011, "kgCO2e/passenger_km"),
        ("defra23_air_lh_bus_rf", 0.58029, "kgCO2e/passenger_km"),
        ("defra23_air_dom_avg_rf", 0.27258, "kgCO2e/passenger_km"),
        ("defra23_rail_national", 0.03546, "kgCO2e/passenger_km"),
        ("defra23_coach", 0.02718, "kgCO2e/passenger_km"),
        ("defra23_bus_avg_local", 0.10215, "kgCO2e/passenger_km"),
        ("defra23_hgv_all_avg", 0.09696, "kgCO2e/tonne_km"),
        ("defra23_rail_freight", 0.02779, "kgCO2e/tonne_km"),
        ("defra23_container_avg", 0.01612, "kgCO2e/tonne_km"),
        ("defra23_bulk_avg", 0.00353, "kgCO2e/tonne_km"),
        ("defra23_airfreight_int_rf", 1.09903, "kgCO2e/tonne_km"),
        ("defra23_hotel_china", 53.5, "kgCO2e/room_night"),
        ("defra23_hotel_hk", 51.5, "kgCO2e/room_night"),
    ],
)
def test_defra_2023_values(lib, factor_id, value, unit) -> None:
    row = lib.emission_factors.set_index("factor_id").loc[factor_id]
    assert row["value"] == pytest.approx(value, abs=5e-6)
    assert row["unit"] == unit
    assert row["gas"] == "CO2e"


# --------------------------------------------------------------------------- key integrity


def _emission_key_problems(lib, name: str, at: pd.Series) -> list[tuple]:
    """Keys of one activity type that do not point at an enabled (loaded) row."""
    method, key = at["method"], at["emission_key"]
    if method in ("combustion", "heat"):
        keys = [("emission_key", key)]
        if at["ch4n2o_key"]:
            keys.append(("ch4n2o_key", at["ch4n2o_key"]))
        return [(name, field, k) for field, k in keys if k not in lib.fuel.index]
    if method == "gwp":
        sets = set(lib.gwp.loc[lib.gwp["gas"] == key, "gwp_set"])
        return [(name, f"gwp {s}", key) for s in ("AR4", "AR5", "AR6") if s not in sets]
    if method in ("grid", "emission_factor"):
        return [] if key in set(lib.emission_factors["key"]) else [(name, "emission_key", key)]
    if method == "instrument":
        return [] if key == "" else [(name, "instrument with a key", key)]
    if method == "removal":  # tonnes of CO2 removed: no factor, never in a scope
        return [] if key == "CO2" and at["basis_unit"] == "tCO2e" else [(name, "removal", key)]
    return [(name, "method", method)]


def _energy_key_problems(lib, name: str, at: pd.Series) -> list[tuple]:
    key = at["energy_key"]
    if not key:
        return []
    variants = set(lib.tce.loc[lib.tce["key"] == key, "variant"])
    needed = {"high", "low"} if key == "tce.natural_gas" else {"default"}
    return [] if needed <= variants else [(name, "energy_key", key, variants)]


def test_every_activity_type_key_resolves_to_an_enabled_row(lib) -> None:
    problems = []
    for name, at in lib.activity_types.iterrows():
        problems += _emission_key_problems(lib, name, at)
        problems += _energy_key_problems(lib, name, at)
    assert problems == []


def test_every_non_instrument_activity_type_resolves_for_2023_and_2024(lib) -> None:
    names = [
        n
        for n, at in lib.activity_types.iterrows()
        if at["method"] not in ("instrument", "removal")
    ]
    keys = pd.DataFrame(
        [(n, "CN-BJ", y) for n in names for y in (2023, 2024)],
        columns=["activity_type", "region", "year"],
    )
    resolved, diagnostics = resolve_factors(keys, lib, CalcSettings())
    assert not [d for d in diagnostics if d.severity is Severity.ERROR]
    assert set(resolved["activity_type"]) == set(names)
    assert (resolved["ef"] > 0).all()


def test_region_chain(lib) -> None:
    assert lib.geography_chain("CN-BJ") == ("CN-BJ", "CN-R-NORTH", "CN")
    assert lib.geography_chain("CN-XZ") == ("CN-XZ", "CN-R-SOUTHWEST", "CN")
    assert lib.geography_chain("CN-HK") == ("CN-HK", "CN")
    assert lib.geography_chain(None) == ("CN",)
    assert lib.normalise_region("北京市") == "CN-BJ"
    assert lib.normalise_region("jiangsu") == "CN-JS"
    assert lib.normalise_region("Atlantis") is None


# --------------------------------------------------------------------------- resolution


def test_province_factor_for_beijing_2022(lib) -> None:
    # ef_grid.csv cn_2022_prov_beijing: 0.5580 kgCO2/kWh = 0.5580 tCO2/MWh
    resolved, diagnostics = _resolve(lib, "electricity", "CN-BJ", 2022)
    row = _one(resolved)
    assert row["factor_id"] == "cn_2022_prov_beijing"
    assert row["ef"] == pytest.approx(0.5580, rel=1e-12)
    assert row["fallback"] == ""
    assert diagnostics == []


def test_province_without_provincial_row_falls_back_to_its_grid_region(lib) -> None:
    # Xizang has no provincial row (30 provinces in the code file); 西南 2022 = 0.2268
    resolved, diagnostics = _resolve(lib, "electricity", "CN-XZ", 2022)
    row = _one(resolved)
    assert row["factor_id"] == "cn_2022_region_southwest"
    assert row["ef"] == pytest.approx(0.2268, rel=1e-12)
    assert "CN-XZ -> CN-R-SOUTHWEST" in row["fallback"]
    assert [d.code for d in diagnostics] == ["factor-fallback"]
    assert diagnostics[0].severity is Severity.WARNING


def test_hong_kong_falls_back_to_national(lib) -> None:
    # CN-HK has no grid region: national 2022 = 0.5366 (cn_2022_national)
    resolved, diagnostics = _resolve(lib, "electricity", "CN-HK", 2022)
    row = _one(resolved)
    assert row["factor_id"] == "cn_2022_national"
    assert row["ef"] == pytest.approx(0.5366, rel=1e-12)
    assert "CN-HK -> CN" in row["fallback"]
    assert [d.code for d in diagnostics] == ["factor-fallback"]
    assert "CN-HK" in diagnostics[0].message


def test_grid_level_region_uses_the_regional_factor(lib) -> None:
    # 华北 2022 = 0.6776 (cn_2022_region_north)
    resolved, _ = _resolve(lib, "electricity", "CN-BJ", 2022, CalcSettings(grid_level="region"))
    row = _one(resolved)
    assert row["factor_id"] == "cn_2022_region_north"
    assert row["ef"] == pytest.approx(0.6776, rel=1e-12)


def test_grid_level_national_ignores_province(lib) -> None:
    resolved, diagnostics = _resolve(
        lib, "electricity", "CN-JS", 2022, CalcSettings(grid_level="national")
    )
    row = _one(resolved)
    assert row["factor_id"] == "cn_2022_national"
    assert row["ef"] == pytest.approx(0.5366, rel=1e-12)
    assert diagnostics == []


def test_nearest_earlier_year_without_as_of(lib) -> None:
    # 2024 has no factor; nearest earlier national year is 2023 (0.5306, published Jan 2026)
    resolved, diagnostics = _resolve(
        lib, "electricity", "CN-BJ", 2024, CalcSettings(grid_level="national")
    )
    row = _one(resolved)
    assert row["factor_id"] == "cn_2023_national"
    assert row["ef"] == pytest.approx(0.5306, rel=1e-12)
    assert "nearest earlier year 2024 -> 2023" in row["fallback"]
    assert [d.code for d in diagnostics] == ["factor-fallback"]


def test_nearest_earlier_year_with_as_of_hides_later_publications(lib) -> None:
    # as of 2025-03-31 the 2023 factors (published 2026-01-31) do not exist yet: 2022 = 0.5366
    settings = CalcSettings(grid_level="national", factor_as_of=date(2025, 3, 31))
    resolved, _ = _resolve(lib, "electricity", "CN-BJ", 2024, settings)
    row = _one(resolved)
    assert row["factor_id"] == "cn_2022_national"
    assert row["ef"] == pytest.approx(0.5366, rel=1e-12)
    assert "2024 -> 2022" in row["fallback"]


def test_as_of_before_any_publication_gives_factor_missing(lib) -> None:
    settings = CalcSettings(factor_as_of=date(2024, 1, 1))  # 2021 factors published 2024-04-12
    resolved, diagnostics = _resolve(lib, "electricity", "CN-BJ", 2022, settings)
    assert resolved.empty
    assert [d.code for d in diagnostics] == ["factor-missing"]
    assert diagnostics[0].severity is Severity.ERROR


def test_region_level_2023_uses_regional_2023(lib) -> None:
    resolved, diagnostics = _resolve(
        lib, "electricity", "CN-JS", 2023, CalcSettings(grid_level="region")
    )
    row = _one(resolved)
    assert row["factor_id"] == "cn_2023_region_east"  # 华东 2023 = 0.5500
    assert row["ef"] == pytest.approx(0.5500, rel=1e-12)
    assert diagnostics == []


def test_later_year_fallback_warns(lib) -> None:
    # 2019: nothing earlier exists, the nearest later national year is 2021 (0.5568)
    resolved, diagnostics = _resolve(
        lib, "electricity", None, 2019, CalcSettings(grid_level="national")
    )
    row = _one(resolved)
    assert row["factor_id"] == "cn_2021_national"
    assert row["ef"] == pytest.approx(0.5568, rel=1e-12)
    assert len(diagnostics) == 1
    assert diagnostics[0].code == "factor-fallback"
    assert diagnostics[0].severity is Severity.WARNING
    assert "LATER year" in diagnostics[0].message
    assert "2019 -> 2021" in diagnostics[0].message


def test_later_year_refused_gives_factor_missing(lib) -> None:
    resolved, diagnostics = _resolve(
        lib, "electricity", None, 2019, CalcSettings(allow_later_year=False)
    )
    assert resolved.empty
    assert [d.code for d in diagnostics] == ["factor-missing"]
    assert diagnostics[0].severity is Severity.ERROR
    assert "add a factor override" in diagnostics[0].message


def test_defra_travel_year_fallback(lib) -> None:
    # DEFRA HGV 2024 is disabled (row identity uncertain): 2024 -> 2023 (0.096957467 kg/tkm)
    resolved, diagnostics = _resolve(lib, "freight_in_road", "CN-BJ", 2024)
    row = _one(resolved, "CO2e")
    assert row["factor_id"] == "defra23_hgv_all_avg"
    assert row["ef"] == pytest.approx(0.096957467e-3, rel=1e-12)
    assert [d.code for d in diagnostics] == ["factor-fallback"]
    assert "2024 -> 2023" in row["fallback"]
    # a GLOBAL proxy factor reports the year fallback only, not a geographic one
    assert "CN-BJ ->" not in row["fallback"]


# Regression (fixed in 78e696f): defra24_* rows have no 'published' date and used to be visible
# under any factor_as_of; an unknown publication date is now bounded by the factor year.
def test_as_of_hides_defra_2024_before_2024(lib) -> None:
    settings = CalcSettings(factor_as_of=date(2023, 12, 31))
    resolved, _ = _resolve(lib, "air_economy", "CN-BJ", 2024, settings)
    assert _one(resolved, "CO2e")["factor_id"] == "defra23_air_int_econ_rf"


def _overrides(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(
        rows, columns=["activity_type", "region", "year", "gas", "value", "unit", "source", "id"]
    )


def test_override_beats_packaged_factor(lib) -> None:
    overrides = _overrides(
        [("electricity", "CN-BJ", 2022, "CO2", 0.42, "kgCO2/kWh", "supplier letter", "ov1")]
    )
    resolved, diagnostics = _resolve(lib, "electricity", "CN-BJ", 2022, overrides=overrides)
    row = _one(resolved)
    assert row["factor_id"] == "override:ov1"
    assert row["ef"] == pytest.approx(0.42, rel=1e-12)  # 0.42 kg/kWh = 0.42 t/MWh
    assert [d.code for d in diagnostics] == ["factor-override"]
    assert diagnostics[0].severity is Severity.WARNING
    assert "supplier letter" in diagnostics[0].message


def test_most_specific_override_wins(lib) -> None:
    overrides = _overrides(
        [
            ("electricity", None, None, "CO2", 0.9, "kgCO2/kWh", "any", "general"),
            ("electricity", "CN-BJ", None, "CO2", 0.8, "kgCO2/kWh", "region", "region"),
            ("electricity", "CN-BJ", 2022, "CO2", 0.7, "kgCO2/kWh", "exact", "exact"),
        ]
    )
    resolved, _ = _resolve(lib, "electricity", "CN-BJ", 2022, overrides=overrides)
    assert _one(resolved)["factor_id"] == "override:exact"
    resolved, _ = _resolve(lib, "electricity", "CN-BJ", 2023, overrides=overrides)
    assert _one(resolved)["factor_id"] == "override:region"
    resolved, _ = _resolve(lib, "electricity", "CN-SH", 2023, overrides=overrides)
    assert _one(resolved)["factor_id"] == "override:general"


def test_override_unit_conversion_gram_per_kwh(lib) -> None:
    # 810 gCO2/kWh = 0.810 kg/kWh = 0.810 t/MWh
    overrides = _overrides([("electricity", "CN-HK", None, "CO2", 810, "gCO2/kWh", "CLP", "hk")])
    resolved, diagnostics = _resolve(lib, "electricity", "CN-HK", 2023, overrides=overrides)
    assert _one(resolved)["ef"] == pytest.approx(0.810, rel=1e-12)
    assert [d.code for d in diagnostics] == ["factor-override"]


def test_override_of_another_activity_type_does_not_apply(lib) -> None:
    overrides = _overrides([("purchased_heat", None, None, "CO2", 0.2, "tCO2/GJ", "x", "h")])
    resolved, diagnostics = _resolve(lib, "electricity", "CN-BJ", 2022, overrides=overrides)
    assert _one(resolved)["factor_id"] == "cn_2022_prov_beijing"
    assert [d.code for d in diagnostics] == ["override-unused"]  # no heat record uses it


def test_heat_factor(lib) -> None:
    # fuel_parameters.csv cn_heat_purchased: 0.11 tCO2/GJ
    resolved, _ = _resolve(lib, "purchased_heat", "CN-BJ", 2024)
    row = _one(resolved)
    assert row["factor_id"] == "cn_heat_purchased"
    assert row["ef"] == pytest.approx(0.11, rel=1e-12)


def test_instruments_resolve_to_nothing(lib) -> None:
    resolved, diagnostics = _resolve(lib, "gec", "CN-BJ", 2024)
    assert resolved.empty
    assert diagnostics == []


def test_settings_validation(lib) -> None:
    assert CalcSettings().validate(lib) == []
    bad = CalcSettings(
        gwp_set="AR3",
        grid_level="city",
        natural_gas_tce="medium",
        scope2_total_basis="both",
        ch4_convention="other",
    )
    codes = [d.code for d in bad.validate(lib)]
    assert codes.count("settings") == 5
    assert [
        d.code for d in CalcSettings(gwp_set="AR5", ch4_convention="generic").validate(lib)
    ] == ["settings"]
