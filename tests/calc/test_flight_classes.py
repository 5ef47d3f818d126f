"""Every DEFRA flight factor of the library is reached by an activity type (issue 16: the
UK flight factors were in the library but no activity type reached them)."""

from __future__ import annotations

import pandas as pd
import pytest

from esgledger.calc import InventoryInput, compute_inventory
from esgledger.domain.model import Entity, EntityKind
from esgledger.domain.organisation import Organisation
from esgledger.factors import CalcSettings, load_library


def test_every_flight_factor_key_has_an_activity_type() -> None:
    library = load_library()
    keys = {k for k in library.emission_factors["key"] if str(k).startswith("defra.air")}
    reached = set(library.activity_types["emission_key"])
    assert keys and keys - reached == set()


@pytest.mark.parametrize(
    ("activity_type", "kg_per_pkm"),
    [
        # DESNZ/DEFRA 2024 flat file, per passenger.km, with RF unless named
        ("air_domestic", 0.27257),
        ("air_domestic_norf", 0.16098),
        ("air_short_haul_economy", 0.18287),
        ("air_short_haul_business", 0.2743),
        ("air_long_haul_economy", 0.20011),
        ("air_long_haul_premium", 0.32015),
        ("air_long_haul_business", 0.58028),
        ("air_long_haul_first", 0.8004),
    ],
)
def test_a_flight_class_uses_its_own_factor(activity_type: str, kg_per_pkm: float) -> None:
    org = Organisation([Entity("G", "Group", kind=EntityKind.GROUP, region="CN-BJ")])
    records = pd.DataFrame(
        {
            "rid": [1],
            "entity_id": ["G"],
            "year": [2024],
            "activity_type": [activity_type],
            "quantity": [12_500.0],
            "unit": ["passenger_km"],
            "region": [None],
        }
    )
    result = compute_inventory(InventoryInput(records, org), load_library(), CalcSettings())
    assert result.ok
    # 12,500 passenger.km x the class's kgCO2e/pkm / 1000 = tCO2e
    assert result.scope_totals(2024)["scope3"] == pytest.approx(12_500 * kg_per_pkm / 1000)
