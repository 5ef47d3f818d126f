"""Regions outside the MEE/NBS series (Hong Kong): warnings and overrides in both scope 2 bases."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from esgledger.calc import InventoryInput, compute_inventory
from esgledger.domain import Entity, Organisation
from esgledger.factors import CalcSettings, load_library

ORG = Organisation.of(
    [
        Entity("G", "Group", None, region="CN-BJ"),
        Entity("HK", "Hong Kong office", "G", region="CN-HK"),
    ]
)
RECORDS = pd.DataFrame(
    [(1, "HK", 2024, "electricity", 1000.0, "MWh", None)],
    columns=["rid", "entity_id", "year", "activity_type", "quantity", "unit", "region"],
)
OVERRIDE = pd.DataFrame(
    [("electricity", "CN-HK", None, "CO2e", 0.39, "kgCO2e/kWh", "utility report 2024", 1)],
    columns=["activity_type", "region", "year", "gas", "value", "unit", "source", "id"],
)


@pytest.mark.parametrize("level", ["province", "region", "national"])
def test_a_region_outside_the_series_is_never_silent(level: str) -> None:
    settings = CalcSettings(grid_level=level, factor_as_of=date(2025, 3, 31))
    result = compute_inventory(InventoryInput(RECORDS, ORG), load_library(), settings)
    messages = [d.message for d in result.diagnostics if d.code == "factor-fallback"]
    assert any("CN-HK" in m for m in messages), messages


def test_the_override_stands_for_the_residual_in_market_based() -> None:
    data = InventoryInput(RECORDS, ORG, overrides=OVERRIDE)
    result = compute_inventory(data, load_library(), CalcSettings())
    totals = result.scope_totals(2024)
    # 1,000 MWh x 0.39 kgCO2e/kWh = 390 tCO2e in both bases (no instruments, no residual mix)
    assert totals["scope2_location"] == pytest.approx(390.0, rel=1e-12)
    assert totals["scope2_market"] == pytest.approx(390.0, rel=1e-12)
    market = result.lines[(result.lines["basis"] == "market")]
    assert list(market["factor_id"]) == ["override:1"]
    assert any("user override used as residual" in d.message for d in result.diagnostics)


def test_monthly_consumption_meets_annual_certificates() -> None:
    # 12 months x 100 MWh in Beijing, a 600 MWh GEC for the year:
    # market = (1,200 - 600) MWh x 0.5856 (2022 residual, as of March 2025); location = 1,200
    # x 0.5580 (Beijing 2022)
    rows = [(m, "G", 2024, m, "electricity", 100.0, "MWh", "CN-BJ", None) for m in range(1, 13)]
    rows.append((13, "G", 2024, None, "gec", 600.0, "MWh", None, "GEC-1"))
    records = pd.DataFrame(
        rows,
        columns=[
            "rid",
            "entity_id",
            "year",
            "month",
            "activity_type",
            "quantity",
            "unit",
            "region",
            "instrument_id",
        ],
    )
    settings = CalcSettings(factor_as_of=date(2025, 3, 31))
    result = compute_inventory(InventoryInput(records, ORG), load_library(), settings)
    totals = result.scope_totals(2024)
    assert totals["scope2_location"] == pytest.approx(1200 * 0.5580, rel=1e-12)
    assert totals["scope2_market"] == pytest.approx(600 * 0.5856, rel=1e-12)
    location = result.lines[result.lines["basis"] == "location"]
    assert sorted(location["month"]) == list(range(1, 13))
    assert not any(d.code == "instrument-surplus" for d in result.diagnostics)
