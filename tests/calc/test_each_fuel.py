"""Each combustion activity type against the published figures of its fuel.

CO2 per unit: the derived values printed in the China guideline tables (reference README,
section 3: natural gas 21.6219 tCO2/10^4 Nm3, gasoline 2.9251, diesel 3.0959, LPG 3.1013,
fuel oil 3.1705, kerosene 3.0334, raw coal 1.9003, coke 2.8604 tCO2/t), published to 4
decimals. Standard coal: GB/T 2589 Appendix A (section 1 of the same README).
"""

from __future__ import annotations

import pandas as pd
import pytest

from esgledger.calc import InventoryInput, compute_inventory
from esgledger.domain import Entity, Organisation
from esgledger.factors import CalcSettings, load_library

ORG = Organisation.of([Entity("G", "Group", None, region="CN-BJ")])

# activity type, unit of 1 record, published tCO2 per unit, GB/T 2589 kgce per unit,
# China NCV in GJ per unit, IPCC 2006 CH4 and N2O in kg/TJ (stationary Table 2.3, road
# Table 3.2.2 with gasoline "LDV 1995 or later", off-road Table 3.3.1)
FUELS = [
    ("natural_gas", "10^4 Nm3", 21.6219, 1.3300 * 10_000, 389.31, 1, 0.1),
    ("gasoline_vehicle", "t", 2.9251, 1.4714 * 1000, 43.07, 3.8, 5.7),
    ("diesel_stationary", "t", 3.0959, 1.4571 * 1000, 42.652, 3, 0.6),
    ("diesel_vehicle", "t", 3.0959, 1.4571 * 1000, 42.652, 3.9, 3.9),
    ("diesel_offroad", "t", 3.0959, 1.4571 * 1000, 42.652, 4.15, 28.6),
    ("lpg", "t", 3.1013, 1.7143 * 1000, 50.179, 1, 0.1),
    ("lpg_vehicle", "t", 3.1013, 1.7143 * 1000, 50.179, 62, 0.2),
    ("fuel_oil", "t", 3.1705, 1.4286 * 1000, 41.816, 3, 0.6),
    ("kerosene", "t", 3.0334, 1.4714 * 1000, 43.07, 3, 0.6),
    ("raw_coal", "t", 1.9003, 0.7143 * 1000, 20.908, 10, 1.5),
    ("coke", "t", 2.8604, 0.9714 * 1000, 28.435, 10, 1.5),
]


@pytest.mark.parametrize(("activity", "unit", "co2", "kgce", "ncv", "ch4", "n2o"), FUELS)
def test_co2_and_standard_coal_of_one_unit(
    activity: str, unit: str, co2: float, kgce: float, ncv: float, ch4: float, n2o: float
) -> None:
    records = pd.DataFrame(
        [(1, "G", 2024, activity, 1.0, unit, None)],
        columns=["rid", "entity_id", "year", "activity_type", "quantity", "unit", "region"],
    )
    result = compute_inventory(InventoryInput(records, ORG), load_library(), CalcSettings())
    assert result.ok, result.diagnostics
    lines = result.lines
    co2_line = lines[lines["gas"] == "CO2"]
    assert len(co2_line) == 1
    assert float(co2_line["t_gas"].iloc[0]) == pytest.approx(co2, abs=5e-5)
    # CH4 and N2O: energy content (GJ -> TJ) x kg/TJ -> t, x AR6 GWP (27.0 and 273)
    by_gas = lines.set_index("gas")["tco2e"]
    assert set(by_gas.index) == {"CO2", "CH4_nonfossil", "N2O"}
    assert by_gas["CH4_nonfossil"] == pytest.approx(ncv * 1e-3 * ch4 * 1e-3 * 27.0, rel=1e-9)
    assert by_gas["N2O"] == pytest.approx(ncv * 1e-3 * n2o * 1e-3 * 273.0, rel=1e-9)
    energy = result.energy_totals(2024)
    assert energy["tce"] == pytest.approx(kgce / 1000, rel=1e-9)
