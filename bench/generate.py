"""Deterministic synthetic activity data for the esgledger benchmark.

``generate(n)`` returns ``n`` activity records of a 20-entity group (a group company and 19
subsidiaries with assorted equity shares and control flags), every non-instrument activity type
of the packaged library plus a trickle of contractual instruments (``gec``, ``green_power``),
30 provinces, the years 2022-2024 and several units per activity type (kWh/MWh, m3/Nm3/10^4 Nm3,
t/kg/L, CNY/万元/USD, ...). Everything is drawn with one seeded ``numpy.random.Generator`` and
built column-wise: no Python loop runs per record, so 10 million rows take a few seconds.

The parameters (fuel densities, CNY/USD rates) are synthetic benchmark values, not sourced data.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from esgledger.domain import Entity, Organisation
from esgledger.factors import load_library

SEED = 20240601
YEARS = (2022, 2023, 2024)
INSTRUMENT_TYPES = ("gec", "green_power")
INSTRUMENT_SHARE = 0.0001  # fraction of records that are instruments (low volume)
PARAMETER_SOURCE = "synthetic benchmark parameter"

# (unit, weight within the activity type, typical quantity of one record in that unit)
UnitMix = tuple[tuple[str, float, float], ...]
_UNITS_BY_BASIS: dict[str, UnitMix] = {
    "MWh": (("kWh", 0.6, 40_000.0), ("MWh", 0.4, 40.0)),
    "10^4 Nm3": (("m3", 0.5, 20_000.0), ("Nm3", 0.2, 20_000.0), ("10^4 Nm3", 0.3, 2.0)),
    "kg": (("kg", 0.8, 20.0), ("t", 0.2, 0.02)),
    "GJ": (("GJ", 0.7, 500.0), ("MJ", 0.3, 500_000.0)),
    "USD": (("CNY", 0.5, 50_000.0), ("万元", 0.3, 5.0), ("USD", 0.2, 7_000.0)),
    "tonne_km": (("tonne_km", 1.0, 10_000.0),),
    "passenger_km": (("passenger_km", 1.0, 2_000.0),),
    "km": (("km", 1.0, 300.0),),
    "room_night": (("room_night", 1.0, 3.0),),
}
_LIQUID_BY_MASS: UnitMix = (("t", 0.4, 5.0), ("kg", 0.3, 5_000.0), ("L", 0.3, 6_500.0))
_SOLID_BY_MASS: UnitMix = (("t", 0.6, 20.0), ("kg", 0.4, 20_000.0))
_INSTRUMENT_UNITS: UnitMix = (("MWh", 1.0, 200.0),)
# Relative record volume of an activity type (the rest weigh 1).
_TYPE_WEIGHT = {
    "electricity": 12.0,
    "natural_gas": 4.0,
    "diesel_vehicle": 3.0,
    "gasoline_vehicle": 3.0,
    "purchased_heat": 2.0,
    "air_economy": 2.0,
    "taxi_travel": 2.0,
    "hotel_china": 2.0,
}

# Entity tree: (id, parent, equity share, operational control, financial control, province).
_ENTITIES: tuple[tuple[str, str | None, float, bool, bool, str], ...] = (
    ("G", None, 1.0, True, True, "CN-BJ"),
    ("S01", "G", 1.0, True, True, "CN-SH"),
    ("S02", "G", 0.85, True, True, "CN-JS"),
    ("S03", "G", 0.6, True, True, "CN-ZJ"),
    ("S04", "G", 0.51, True, True, "CN-GD"),
    ("S05", "G", 0.45, False, False, "CN-SC"),
    ("S06", "G", 0.3, False, False, "CN-HB"),
    ("S07", "G", 0.7, True, True, "CN-SD"),
    ("S08", "G", 0.9, True, True, "CN-HA"),
    ("S09", "G", 0.55, True, False, "CN-FJ"),
    ("S10", "G", 0.49, True, False, "CN-LN"),
    ("S11", "S03", 0.8, True, True, "CN-AH"),
    ("S12", "S03", 0.65, True, True, "CN-JX"),
    ("S13", "S04", 1.0, True, True, "CN-GX"),
    ("S14", "S04", 0.35, False, False, "CN-YN"),
    ("S15", "S07", 0.75, True, True, "CN-HE"),
    ("S16", "S07", 0.6, True, True, "CN-SX"),
    ("S17", "S08", 0.95, True, True, "CN-HN"),
    ("S18", "S10", 0.7, True, True, "CN-HL"),
    ("S19", "S10", 0.2, False, False, "CN-XJ"),
)


@dataclass(frozen=True)
class Dataset:
    records: pd.DataFrame
    organisation: Organisation
    parameters: pd.DataFrame


def organisation() -> Organisation:
    return Organisation.of(
        Entity(
            eid,
            "Group" if parent is None else f"Subsidiary {eid}",
            parent,
            equity_share=share,
            operational_control=op,
            financial_control=fin,
            region=prov,
        )
        for eid, parent, share, op, fin, prov in _ENTITIES
    )


def parameters() -> pd.DataFrame:
    rows: list[tuple[str, int | None, float, str, str]] = [
        ("density.gasoline", None, 0.745, "kg/L", PARAMETER_SOURCE),
        ("density.diesel", None, 0.84, "kg/L", PARAMETER_SOURCE),
        ("density.kerosene", None, 0.80, "kg/L", PARAMETER_SOURCE),
        ("density.lpg", None, 0.55, "kg/L", PARAMETER_SOURCE),
        ("fx.CNY_per_USD", 2022, 6.73, "CNY/USD", PARAMETER_SOURCE),
        ("fx.CNY_per_USD", 2023, 7.08, "CNY/USD", PARAMETER_SOURCE),
        ("fx.CNY_per_USD", 2024, 7.19, "CNY/USD", PARAMETER_SOURCE),
    ]
    frame = pd.DataFrame(rows, columns=["name", "year", "value", "unit", "source"])
    frame["year"] = frame["year"].astype("Int64")
    return frame


def provinces() -> list[str]:
    """30 province codes with a grid region (Tibet, the 31st, is left out)."""
    regions = load_library().regions
    codes = [
        str(c)
        for c, grid in regions["grid_region"].items()
        if str(grid).startswith("CN-R-") and not str(c).startswith("CN-R-")
    ]
    return [c for c in codes if c != "CN-XZ"][:30]


def _pairs() -> tuple[list[str], list[str], np.ndarray, np.ndarray]:
    """Flattened (activity type, unit) pairs with joint probabilities and typical sizes."""
    types = load_library().activity_types
    names, units, probs, sizes = [], [], [], []
    # instruments come as a trickle below; removals are not emissions (never in a total)
    regular = [t for t in types.index if types.at[t, "method"] not in ("instrument", "removal")]
    weights = {t: _TYPE_WEIGHT.get(t, 1.0) for t in regular}
    total = sum(weights.values())
    type_prob = {t: (1.0 - INSTRUMENT_SHARE) * w / total for t, w in weights.items()}
    type_prob |= {t: INSTRUMENT_SHARE / len(INSTRUMENT_TYPES) for t in INSTRUMENT_TYPES}
    for name, p_type in type_prob.items():
        basis = types.at[name, "basis_unit"]
        if name in INSTRUMENT_TYPES:
            mix = _INSTRUMENT_UNITS
        elif basis == "t":
            mix = _LIQUID_BY_MASS if types.at[name, "density_fuel"] else _SOLID_BY_MASS
        else:
            mix = _UNITS_BY_BASIS[basis]
        for unit, p_unit, size in mix:
            names.append(name)
            units.append(unit)
            probs.append(p_type * p_unit)
            sizes.append(size)
    p = np.asarray(probs)
    return names, units, p / p.sum(), np.asarray(sizes)


def _categorical(codes: np.ndarray, categories: list[str]) -> pd.Categorical:
    return pd.Categorical.from_codes(codes, categories=pd.Index(categories, dtype=object))


SITES_PER_ENTITY = 3  # the home province and two more: 20 entities cover all 30 provinces


def site_provinces(province_codes: list[str]) -> np.ndarray:
    """Province index of each entity's sites, shape (entities, SITES_PER_ENTITY).

    Site 0 is the entity's home province; the others are spread so that the 20 entities
    together operate in all 30 provinces.
    """
    home = [province_codes.index(e[5]) for e in _ENTITIES]
    table = np.empty((len(_ENTITIES), SITES_PER_ENTITY), dtype=np.int8)
    for i, h in enumerate(home):
        table[i, 0] = h
        for j in range(1, SITES_PER_ENTITY):
            table[i, j] = (2 * i + j - 1) % len(province_codes)
    return table


def generate(
    n: int, seed: int = SEED, region_share: float = 0.7, dtype: str = "str", spread: str = "sites"
) -> Dataset:
    """``n`` records; ``region_share`` of them name a province, the rest use the entity's.

    ``spread="sites"`` (default) draws a record's province from its entity's three sites, as
    real groups operate in a few provinces each; ``spread="all"`` draws it from all 30
    provinces for every entity (a stress case: about ten times as many inventory lines).

    Text columns are built as categoricals and, with ``dtype="str"`` (the default, the dtype of
    ``Ledger.activity_frame``), cast to pandas' string dtype; ``dtype="category"`` keeps them.
    """
    if dtype not in ("str", "category"):
        raise ValueError(f"dtype must be str or category, not {dtype!r}")
    if spread not in ("sites", "all"):
        raise ValueError(f"spread must be sites or all, not {spread!r}")
    rng = np.random.default_rng(seed)
    names, units, probs, sizes = _pairs()
    type_cats = sorted(set(names))
    unit_cats = sorted(set(units))
    pair_type = np.array([type_cats.index(t) for t in names], dtype=np.int16)
    pair_unit = np.array([unit_cats.index(u) for u in units], dtype=np.int16)

    pair = rng.choice(len(probs), size=n, p=probs).astype(np.int16)
    quantity = sizes[pair] * rng.lognormal(mean=0.0, sigma=1.0, size=n)
    quantity = np.round(quantity, 3) + 0.001  # strictly positive, like a ledger's figures
    entity_ids = [e[0] for e in _ENTITIES]
    entity = rng.integers(0, len(entity_ids), size=n, dtype=np.int8)
    year = rng.integers(YEARS[0], YEARS[-1] + 1, size=n, dtype=np.int64)
    province_codes = provinces()
    if spread == "all":
        region = rng.integers(0, len(province_codes), size=n, dtype=np.int8)
    else:
        site = rng.integers(0, SITES_PER_ENTITY, size=n, dtype=np.int8)
        region = site_provinces(province_codes)[entity, site]
    region[rng.random(n) >= region_share] = -1  # no province: the entity's default applies

    records = pd.DataFrame(
        {
            "rid": np.arange(1, n + 1, dtype=np.int64),
            "entity_id": _categorical(entity, entity_ids),
            "year": year,
            "activity_type": _categorical(pair_type[pair], type_cats),
            "quantity": quantity,
            "unit": _categorical(pair_unit[pair], unit_cats),
            "region": _categorical(region, province_codes),
        }
    )
    if dtype == "str":
        for column in ("entity_id", "activity_type", "unit", "region"):
            records[column] = records[column].astype("str")
    return Dataset(records, organisation(), parameters())


if __name__ == "__main__":
    import sys

    size = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000_000
    start = time.perf_counter()
    data = generate(size)
    elapsed = time.perf_counter() - start
    print(
        f"{size:,} rows in {elapsed:.2f} s; "
        f"{data.records.memory_usage(deep=True).sum() / 2**20:,.0f} MiB"
    )
    print(data.records.head(10).to_string())
    print(
        data.records["activity_type"].nunique(),
        "activity types,",
        data.records["region"].nunique(),
        "provinces,",
        data.records["unit"].nunique(),
        "units",
    )
