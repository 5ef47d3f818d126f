"""Load the packaged factor tables (``factors/data/*.csv``) into one immutable library.

Every table keeps its ``source``, ``edition`` and ``verification`` columns; rows shipped with
``enabled=false`` (unverified in the research pack, or without a value) are kept for display but
never used in a calculation. The library's version is a hash of the data files, so a result can
name exactly the factor data it used.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from functools import lru_cache
from importlib import resources
from typing import Any

import pandas as pd

from esgledger.units import conversion_factor

DATA_FILES = (
    "activity_types.csv",
    "regions.csv",
    "ef_grid.csv",
    "ef_grid_ndrc.csv",
    "ef_transport.csv",
    "ef_defra_extra.csv",
    "ef_spend.csv",
    "tce_coefficients.csv",
    "fuel_parameters.csv",
    "gwp.csv",
    "refrigerant_blends.csv",
    "densities.csv",
    "grid_series.csv",
)
EF_FILES = (
    "ef_grid.csv",
    "ef_grid_ndrc.csv",
    "ef_transport.csv",
    "ef_defra_extra.csv",
    "ef_spend.csv",
)
GAS_TOKENS = ("CO2e", "CO2", "CH4", "N2O")


@dataclass(frozen=True, slots=True)
class ActivityType:
    activity_type: str
    name_en: str
    name_zh: str
    scope: int
    category: str
    method: str
    basis_unit: str
    emission_key: str
    ch4n2o_key: str
    density_fuel: str
    energy_key: str
    notes: str


@dataclass(frozen=True, slots=True)
class Candidate:
    """One emission-factor row in the per-key index used by factor resolution."""

    index: int
    geography: str
    year: int
    published: pd.Timestamp | None


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: it is loaded once
class FactorLibrary:
    """All factor tables, as read-only data frames."""

    version: str
    activity_types: pd.DataFrame  # indexed by activity_type
    regions: pd.DataFrame  # indexed by code
    region_aliases: dict[str, str]
    emission_factors: pd.DataFrame  # long: key, geography, year, published, gas, value, unit...
    tce: pd.DataFrame
    fuel: pd.DataFrame  # indexed by key
    gwp: pd.DataFrame  # gas, gwp_set, value (blends computed from their components)
    blends: pd.DataFrame
    densities: pd.DataFrame
    grid_series: pd.DataFrame  # indexed by series: the factor key of each grid-factor series
    ef_index: dict[str, tuple[Candidate, ...]]  # emission-factor rows by key
    ef_geographies: dict[str, frozenset[str]]  # geographies each key has factors for
    ef_rows: tuple[dict[str, Any], ...]  # emission_factors as plain rows (fast access)
    fuel_rows: dict[str, dict[str, Any]]  # fuel parameters by key, as plain rows
    region_parent: dict[str, str]  # region code -> grid region ('' at the top)
    type_rows: dict[str, dict[str, Any]]  # activity types as plain rows

    def activity_type(self, name: str) -> ActivityType:
        row = self.activity_types.loc[name]
        text = {
            k: str(row[k]) for k in ActivityType.__slots__ if k not in ("activity_type", "scope")
        }
        return ActivityType(activity_type=name, scope=int(str(row["scope"])), **text)

    def known_activity_types(self) -> frozenset[str]:
        return frozenset(self.activity_types.index)

    def normalise_region(self, text: str | None) -> str | None:
        """Province/region code for a name, alias or code as written; None when unknown."""
        if text is None:
            return None
        key = text.strip()
        if not key:
            return None
        return self.region_aliases.get(key) or self.region_aliases.get(key.lower())

    def geography_chain(self, region: str | None) -> tuple[str, ...]:
        """Fallback chain of a region: province -> grid region -> national."""
        chain: list[str] = []
        code = region
        while code and code not in chain and code in self.region_parent:
            chain.append(code)
            code = self.region_parent[code] or None
        if "CN" not in chain:
            chain.append("CN")
        return tuple(chain)

    def gwp_value(self, gas: str, gwp_set: str) -> float:
        rows = self.gwp[(self.gwp["gas"] == gas) & (self.gwp["gwp_set"] == gwp_set)]
        if rows.empty:
            raise KeyError(f"no {gwp_set} GWP for gas {gas!r}")
        return float(rows["value"].iloc[0])


def unknown_region(text: str) -> str:
    """What is said of a region :meth:`FactorLibrary.normalise_region` does not know (an
    activity row's, an entity's, an override's)."""
    return (
        f"unknown region {text!r}: use a province code (CN-GD) or name (广东), a grid region "
        "(华北), CN or GLOBAL (esgledger factors list --kind regions)"
    )


def _read(name: str) -> pd.DataFrame:
    path = resources.files("esgledger.factors").joinpath("data", name)
    with path.open("r", encoding="utf-8") as fh:
        return pd.read_csv(fh, dtype=str, keep_default_na=False)


def _enabled(frame: pd.DataFrame) -> pd.Series:
    return frame["enabled"].str.lower().eq("true")


def _unique_index(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """Index a table by a key column that must be unique (a data error otherwise)."""
    duplicated = frame[column][frame[column].duplicated()]
    if not duplicated.empty:
        raise ValueError(f"duplicate {column} in factor data: {', '.join(duplicated)}")
    return frame.set_index(column)


def ef_to_tonnes_per(unit: str, basis_unit: str) -> float:
    """Multiplier from a factor written as ``<mass><gas>/<unit>`` to tonnes of gas per basis unit.

    ``kgCO2/kWh`` with basis ``MWh`` gives 1000 / 1000 = 1.0.
    """
    numerator, _, denominator = unit.partition("/")
    mass = numerator
    for token in GAS_TOKENS:
        if mass.endswith(token):
            mass = mass[: -len(token)]
            break
    return conversion_factor(mass, "t") * conversion_factor(basis_unit, denominator)


def _hash_files() -> str:
    digest = hashlib.sha256()
    for name in DATA_FILES:
        digest.update(name.encode())
        digest.update(resources.files("esgledger.factors").joinpath("data", name).read_bytes())
    return digest.hexdigest()[:12]


def _blend_gwps(gwp: pd.DataFrame, blends: pd.DataFrame) -> pd.DataFrame:
    """GWP of each blend = sum of mass fraction x component GWP, per GWP set."""
    merged = blends.merge(gwp, left_on="component", right_on="gas", how="inner")
    merged["weighted"] = merged["mass_fraction"].astype(float) * merged["value"]
    computed = pd.DataFrame(merged.groupby(["blend", "gwp_set"], as_index=False)["weighted"].sum())
    computed.columns = pd.Index(["gas", "gwp_set", "value"])
    computed["name_zh"] = computed["gas"]
    computed["table"] = "computed: sum of mass fraction x component GWP"
    computed["source"] = "refrigerant_blends.csv compositions x gwp.csv component values"
    computed["verification"] = "computed"
    computed["notes"] = ""
    return computed


def _ef_index(ef: pd.DataFrame) -> dict[str, Any]:
    """The per-key index of an emission-factor table (``ef_index``, ``ef_geographies``,
    ``ef_rows``): what factor resolution reads."""
    index: dict[str, list[Candidate]] = {}
    for i, key, geography, year, published in zip(
        ef.index, ef["key"], ef["geography"], ef["year"], ef["published"], strict=True
    ):
        index.setdefault(str(key), []).append(
            Candidate(int(i), str(geography), int(year), None if pd.isna(published) else published)
        )
    return {
        "ef_index": {k: tuple(v) for k, v in index.items()},
        "ef_geographies": {k: frozenset(c.geography for c in v) for k, v in index.items()},
        "ef_rows": tuple({str(k): v for k, v in r.items()} for r in ef.to_dict("records")),
    }


USER_PACK = "user"
"""The ``pack`` of the factors a user imported into a ledger."""


def with_user_factors(library: FactorLibrary, factors: pd.DataFrame) -> FactorLibrary:
    """The library with a ledger's factor packs beside the packaged factors (the same library
    when there are none). Its version names the packs' content too, and equal packs give the
    same library object (so that the memoised resolution is shared)."""
    if factors is None or factors.empty:
        return library
    digest = hashlib.sha256(
        factors.sort_values("factor_id").to_csv(index=False).encode("utf-8")
    ).hexdigest()[:8]
    return _extended(library, digest, _user_rows(factors))


USER_FACTOR_COLUMNS = (
    "factor_id",
    "key",
    "geography",
    "year",
    "published",
    "gas",
    "value",
    "unit",
    "source",
    "edition",
    "notes",
)
"""The columns of a factor of a pack (a pack file's, in this order)."""


def _user_rows(factors: pd.DataFrame) -> tuple[tuple[Any, ...], ...]:
    return tuple(tuple(r) for r in factors[list(USER_FACTOR_COLUMNS)].itertuples(index=False))


@lru_cache(maxsize=32)
def _extended(
    library: FactorLibrary, digest: str, rows: tuple[tuple[Any, ...], ...]
) -> FactorLibrary:
    user = pd.DataFrame(list(rows), columns=list(USER_FACTOR_COLUMNS))
    user["edition"] = user["edition"].fillna("").replace("", "user factor pack")
    user["notes"] = user["notes"].fillna("")
    user["table"] = ""
    user["verification"] = "user-supplied"
    user["enabled"] = "true"
    user["pack"] = USER_PACK
    user["year"] = user["year"].astype(int)
    user["value"] = user["value"].astype(float)
    published = pd.to_datetime(user["published"], errors="coerce")
    user["published"] = published.fillna(pd.to_datetime(user["year"].astype(str) + "-01-01"))
    ef = pd.concat(
        [library.emission_factors, user[library.emission_factors.columns]], ignore_index=True
    )
    return replace(
        library, version=f"{library.version}+{digest}", emission_factors=ef, **_ef_index(ef)
    )


def reachable_keys(library: FactorLibrary) -> dict[str, list[str]]:
    """Factor keys an activity type reads, with those activity types: its emission key, and
    every grid series' keys for purchased electricity."""
    out: dict[str, list[str]] = {}
    for name, row in library.type_rows.items():
        if row["method"] == "grid":
            keys = [*library.grid_series["key"], *library.grid_series["residual_key"]]
        elif row["method"] in ("emission_factor",):
            keys = [str(row["emission_key"])]
        else:
            continue
        for key in keys:
            if key:
                out.setdefault(str(key), []).append(name)
    return out


@lru_cache(maxsize=1)
def load_library() -> FactorLibrary:
    """The packaged library (cached: it is immutable)."""
    types = _read("activity_types.csv")
    types["scope"] = types["scope"].astype(int)
    types = types.pipe(_unique_index, "activity_type")

    regions = _read("regions.csv").pipe(_unique_index, "code")
    aliases: dict[str, str] = {}
    for code, row in regions.iterrows():
        names = [str(code), row["name_zh"], row["name_en"], *row["aliases"].split("|")]
        for name in names:
            if name:
                aliases[name] = str(code)
                aliases[name.lower()] = str(code)

    frames = []
    for name in EF_FILES:
        frame = _read(name)
        frame["pack"] = name.removesuffix(".csv")
        frames.append(frame)
    ef = pd.concat(frames, ignore_index=True)
    ef = ef[_enabled(ef) & ef["value"].ne("")].copy()
    ef["value"] = ef["value"].astype(float)
    ef["year"] = ef["year"].astype(int)
    # An unknown publication date is taken as 1 January of the factor's year: the earliest it
    # can have existed, so that `factor_as_of` never sees a factor set before its year.
    published = pd.to_datetime(ef["published"].replace("", None), errors="raise")
    ef["published"] = published.fillna(pd.to_datetime(ef["year"].astype(str) + "-01-01"))

    tce = _read("tce_coefficients.csv")
    tce = tce[_enabled(tce) & tce["value"].ne("")].copy()
    tce["value"] = tce["value"].astype(float)

    fuel = _read("fuel_parameters.csv")
    fuel = fuel[_enabled(fuel)].pipe(_unique_index, "key")

    gwp = _read("gwp.csv")
    gwp["value"] = gwp["value"].astype(float)
    blends = _read("refrigerant_blends.csv")
    gwp = pd.concat([gwp, _blend_gwps(gwp, blends)], ignore_index=True)

    grid_series = _read("grid_series.csv").pipe(_unique_index, "series")

    densities = _read("densities.csv")
    densities = densities[densities["value"].ne("")].copy()
    densities["value"] = densities["value"].astype(float)

    ef = ef.reset_index(drop=True)
    return FactorLibrary(
        version=_hash_files(),
        activity_types=types,
        regions=regions,
        region_aliases=aliases,
        emission_factors=ef,
        **_ef_index(ef),
        fuel_rows={
            str(k): {str(c): v for c, v in r.items()} for k, r in fuel.to_dict("index").items()
        },
        region_parent={str(k): str(v) for k, v in regions["grid_region"].items()},
        type_rows={
            str(k): {str(c): v for c, v in r.items()} for k, r in types.to_dict("index").items()
        },
        tce=tce.reset_index(drop=True),
        fuel=fuel,
        gwp=gwp,
        blends=blends,
        densities=densities,
        grid_series=grid_series,
    )
