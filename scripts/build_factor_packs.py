"""Rebuild the packaged factor tables from the research pack in ../shared/reference/factors.

Run from the project root: ``python scripts/build_factor_packs.py [REFERENCE_DIR]``.
The output files in src/esgledger/factors/data/ are committed; this script documents exactly
how each row was derived from the reference rows (renamed keys, normalised geography and
units, rows marked disabled when the reference says ``unverified`` or gives no value).
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "src" / "esgledger" / "factors" / "data"  # hand-written inputs (regions.csv)
OUT = DATA  # where the built tables go (a test points it at a temporary folder)
EF_HEADER = [
    "factor_id",
    "key",
    "geography",
    "year",
    "published",
    "gas",
    "value",
    "unit",
    "source",
    "table",
    "edition",
    "verification",
    "enabled",
    "notes",
]

# Announcement dates of the MEE/NBS series, from the `document` column of grid_factors.csv.
GRID_PUBLISHED = {
    ("location_average", "2021"): "2024-04-12",
    ("location_average", "2022"): "2024-12-20",
    ("location_average", "2023"): "2026-01-31",
    ("enterprise_reporting_grid_average", "2022"): "2023-02-28",
}
GRID_KEYS = {
    "location_average": "grid.location",
    "average_excl_market_traded_nonfossil": "grid.residual",
    "fossil_power": "grid.fossil",
    "enterprise_reporting_grid_average": "grid.enterprise",
}
REGION_CODES = {
    "华北": "CN-R-NORTH",
    "东北": "CN-R-NORTHEAST",
    "华东": "CN-R-EAST",
    "华中": "CN-R-CENTRAL",
    "西北": "CN-R-NORTHWEST",
    "南方": "CN-R-SOUTH",
    "西南": "CN-R-SOUTHWEST",
}


def read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def write(name: str, header: list[str], rows: list[dict[str, str]]) -> None:
    with (OUT / name).open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=header, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {name}: {len(rows)} rows")


def enabled(verification: str, value: str) -> str:
    return "false" if not value.strip() or verification.strip().startswith("unverified") else "true"


def province_codes() -> dict[str, str]:
    return {r["name_zh"]: r["code"] for r in read(DATA / "regions.csv")}


def build_grid(ref: Path) -> None:
    provinces = province_codes()
    rows = []
    for r in read(ref / "grid_factors.csv"):
        level = r["region_level"]
        if level == "national":
            geo = "CN"
        elif level == "regional":
            geo = REGION_CODES[r["region_cn"]]
        elif r["region_cn"] in provinces:
            geo = provinces[r["region_cn"]]
        else:
            geo = "CN-ALL-PROVINCES"
        published = GRID_PUBLISHED.get(
            (
                r["factor_type"]
                if r["factor_type"] in ("enterprise_reporting_grid_average",)
                else "location_average",
                r["data_year"],
            ),
            "",
        )
        note = r["notes"]
        if r["factor_type"] == "enterprise_reporting_grid_average" and published:
            note = note + " | published date approximate: the notice is dated February 2023"
        if r["data_year"] == "2023" and r["factor_type"] != "enterprise_reporting_grid_average":
            note = (
                note + " | published date approximate: the announcement was reported in "
                "January 2026"
            ).strip(" |")
        rows.append(
            {
                "factor_id": r["id"],
                "key": GRID_KEYS[r["factor_type"]],
                "geography": geo,
                "year": r["data_year"],
                "published": published,
                "gas": "CO2",
                "value": r["value"],
                "unit": "kgCO2/kWh",
                "source": f"{r['publisher']}: {r['document']}; {r['source']}",
                "table": r["document"],
                "edition": f"data year {r['data_year']}",
                "verification": r["verification"],
                "enabled": enabled(r["verification"], r["value"]),
                "notes": note,
            }
        )
    write("ef_grid.csv", EF_HEADER, rows)


def build_transport(ref: Path) -> None:
    units = {
        "passenger.km": "kgCO2e/passenger_km",
        "tonne.km": "kgCO2e/tonne_km",
        "km": "kgCO2e/km",
        "room per night": "kgCO2e/room_night",
    }
    published = {"DESNZ/DEFRA 2023 v1.1": "2023-06-20", "DESNZ/DEFRA 2024 v1.1": ""}
    rows = []
    for r in read(ref / "transport_factors.csv"):
        fid = r["id"]
        year = "2023" if fid.startswith("defra23") else "2024"
        key = "defra." + fid.split("_", 1)[1]
        verification = r["verification"]
        on = enabled(verification, r["value_kgCO2e"])
        if "identity uncertain" in verification:
            on = "false"
        rows.append(
            {
                "factor_id": fid,
                "key": key,
                "geography": "GLOBAL",
                "year": year,
                "published": published[r["version"]],
                "gas": "CO2e",
                "value": r["value_kgCO2e"],
                "unit": units[r["unit"]],
                "source": r["source"],
                "table": f"{r['category']}: {r['detail']}" + (f" ({r['rf']})" if r["rf"] else ""),
                "edition": r["version"],
                "verification": verification,
                "enabled": on,
                "notes": "; ".join(
                    x
                    for x in (
                        f"DEFRA FactorID {r['defra_factor_id']}" if r["defra_factor_id"] else "",
                        r["notes"],
                    )
                    if x
                ),
            }
        )
    write("ef_transport.csv", EF_HEADER, rows)


TCE_KEYS = {
    "gb2589_raw_coal": "tce.raw_coal",
    "gb2589_washed_coal": "tce.washed_coal",
    "gb2589_middlings": "tce.middlings",
    "gb2589_slime": "tce.coal_slime",
    "gb2589_coke": "tce.coke",
    "gb2589_crude": "tce.crude_oil",
    "gb2589_fuel_oil": "tce.fuel_oil",
    "gb2589_gasoline": "tce.gasoline",
    "gb2589_kerosene": "tce.kerosene",
    "gb2589_diesel": "tce.diesel",
    "gb2589_coal_tar": "tce.coal_tar",
    "gb2589_residue": "tce.residual_oil",
    "gb2589_lpg": "tce.lpg",
    "gb2589_refinery_gas": "tce.refinery_gas",
    "gb2589_ng_oilfield_2008": "tce.natural_gas",
    "gb2589_ng_gasfield_2008": "tce.natural_gas",
    "gb2589_ng_2020_range": "tce.natural_gas",
    "gb2589_lng_2020": "tce.lng",
    "gb2589_cog": "tce.coke_oven_gas",
    "gb2589_bfg": "tce.blast_furnace_gas",
    "gb2589_heat": "tce.heat",
    "gb2589_elec_equiv": "tce.electricity",
    "gb2589_elec_equal": "tce.electricity_primary",
    "gb2589_steam_lp": "tce.steam_low_pressure",
    "steam_grade_10_0MPa": "tce.steam_10_0mpa",
    "steam_grade_3_5MPa": "tce.steam_3_5mpa",
    "steam_grade_1_0MPa": "tce.steam_1_0mpa",
    "steam_grade_0_3MPa": "tce.steam_0_3mpa",
    "steam_grade_lt0_3MPa": "tce.steam_lt_0_3mpa",
    "gb2589_fresh_water": "tce.fresh_water",
    "gb2589_comp_air": "tce.compressed_air",
}
VARIANTS = {"gb2589_ng_oilfield_2008": "oilfield_2008", "gb2589_ng_gasfield_2008": "gasfield_2008"}
TCE_HEADER = [
    "factor_id",
    "key",
    "variant",
    "value",
    "unit",
    "basis",
    "ncv",
    "ncv_unit",
    "standard",
    "edition",
    "source",
    "verification",
    "enabled",
    "notes",
]


def build_tce(ref: Path) -> None:
    rows = []
    for r in read(ref / "energy_coefficients.csv"):
        base = {
            "key": TCE_KEYS[r["id"]],
            "unit": r["coef_unit"],
            "basis": r["basis"],
            "ncv": r["ncv_value"],
            "ncv_unit": r["ncv_unit"],
            "standard": r["standard"],
            "edition": r["edition"],
            "source": r["source"],
            "verification": r["verification"],
            "notes": r["notes"],
        }
        # Rows that the reference flags as not confirmed against GB/T 2589 are shipped disabled.
        weak = "unverified" in r["verification"]
        if r["coef_value"].strip():
            rows.append(
                {
                    **base,
                    "factor_id": r["id"],
                    "variant": VARIANTS.get(r["id"], "default"),
                    "value": r["coef_value"],
                    "enabled": "false" if weak else "true",
                }
            )
        elif r["coef_low"].strip():
            for end in ("low", "high"):
                rows.append(
                    {
                        **base,
                        "factor_id": f"{r['id']}_{end}",
                        "variant": end,
                        "value": r[f"coef_{end}"],
                        "enabled": "false" if weak else "true",
                    }
                )
        else:
            rows.append(
                {
                    **base,
                    "factor_id": r["id"],
                    "variant": "default",
                    "value": "",
                    "enabled": "false",
                }
            )
    write("tce_coefficients.csv", TCE_HEADER, rows)


FUEL_KEYS = {
    "cn_ng": "comb.cn.natural_gas",
    "cn_ng_1532": "comb.cn.natural_gas_01532",
    "cn_gasoline": "comb.cn.gasoline",
    "cn_diesel": "comb.cn.diesel",
    "cn_lpg": "comb.cn.lpg",
    "cn_fuel_oil": "comb.cn.fuel_oil",
    "cn_kerosene": "comb.cn.kerosene",
    "cn_raw_coal": "comb.cn.raw_coal",
    "cn_coke": "comb.cn.coke",
    "cn_heat_purchased": "heat.cn.purchased",
}
FUEL_HEADER = [
    "param_id",
    "key",
    "framework",
    "fuel",
    "ncv",
    "ncv_unit",
    "carbon_content",
    "carbon_content_unit",
    "oxidation_rate",
    "co2_kg_per_tj",
    "ch4_kg_per_tj",
    "n2o_kg_per_tj",
    "published_co2",
    "published_co2_unit",
    "table",
    "edition",
    "source",
    "verification",
    "enabled",
    "notes",
]


def build_fuel(ref: Path) -> None:
    rows = []
    for r in read(ref / "fuel_factors.csv"):
        pid = r["id"]
        key = FUEL_KEYS.get(pid) or "ipcc." + pid.split("_", 1)[1]
        rows.append(
            {
                "param_id": pid,
                "key": key,
                "framework": r["framework"],
                "fuel": r["fuel_en"],
                "ncv": r["ncv_value"],
                "ncv_unit": r["ncv_unit"],
                "carbon_content": r["carbon_content"],
                "carbon_content_unit": r["carbon_content_unit"],
                "oxidation_rate": r["oxidation_rate"],
                "co2_kg_per_tj": r["co2_ef_kg_per_TJ"],
                "ch4_kg_per_tj": r["ch4_kg_per_TJ"],
                "n2o_kg_per_tj": r["n2o_kg_per_TJ"],
                "published_co2": r["derived_co2_value"],
                "published_co2_unit": r["derived_co2_unit"],
                "table": r["table"],
                "edition": r["edition"],
                "source": r["source"],
                "verification": r["verification"],
                "enabled": "false" if r["verification"].startswith("unverified") else "true",
                "notes": r["notes"],
            }
        )
    write("fuel_parameters.csv", FUEL_HEADER, rows)


GAS_IDS = {
    "CH4 (non-fossil / combustion)": "CH4_nonfossil",
    "CH4 (fossil)": "CH4_fossil",
    "CH4 (generic, Table 7.SM.7)": "CH4_generic",
    "CF4 (PFC-14)": "CF4",
}
BLENDS = {"R-410A", "R-407C", "R-404A"}
GWP_HEADER = ["gas", "name_zh", "gwp_set", "value", "table", "source", "verification", "notes"]


def build_gwp(ref: Path) -> None:
    rows = []
    for r in read(ref / "gwp.csv"):
        if r["gas"] in BLENDS:
            continue  # blends are computed from refrigerant_blends.csv and tested against these
        rows.append(
            {
                "gas": GAS_IDS.get(r["gas"], r["gas"]),
                "name_zh": r["gas_cn"],
                "gwp_set": r["report"],
                "value": r["value"],
                "table": r["basis"],
                "source": r["source"],
                "verification": r["verification"],
                "notes": r["notes"],
            }
        )
    ar4_ch4 = next(r for r in rows if r["gas"] == "CH4_nonfossil" and r["gwp_set"] == "AR4")
    rows.append(
        {
            **ar4_ch4,
            "gas": "CH4_fossil",
            "notes": "AR4 publishes one CH4 value for all sources; used for fossil CH4 too",
        }
    )
    for gwp_set in ("AR4", "AR5", "AR6"):
        rows.append(
            {
                "gas": "CO2e",
                "name_zh": "二氧化碳当量",
                "gwp_set": gwp_set,
                "value": "1",
                "table": "definition",
                "source": "definition: a quantity already in CO2e",
                "verification": "definition",
                "notes": "factors published in CO2e (DEFRA, EPA) keep the GWPs their "
                "publisher used",
            }
        )
    write("gwp.csv", GWP_HEADER, rows)


def main() -> None:
    ref = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared/reference/factors"
    build_grid(ref)
    build_transport(ref)
    build_tce(ref)
    build_fuel(ref)
    build_gwp(ref)


if __name__ == "__main__":
    main()
