"""Resolve the factors of each (activity type, region, year) key, with a reported fallback.

Resolution runs once per distinct key, never per record: the records are joined to the
resolved table afterwards. Geography falls back province -> grid region -> national (then a
proxy geography such as GLOBAL for travel factors); the year falls back from the exact year to
the nearest earlier year, and only then to the nearest later year, with a warning. Factors
published after ``factor_as_of`` are invisible, so a report can be re-run with the factors that
existed when it was prepared.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

import pandas as pd

from esgledger.domain.diagnostics import Diagnostic, Severity
from esgledger.domain.model import ConsolidationApproach
from esgledger.factors.fuel_properties import (
    FuelProperties,
    Measured,
    library_defaults,
    measured_id,
)
from esgledger.factors.library import Candidate, FactorLibrary, ef_to_tonnes_per
from esgledger.units import conversion_factor

C_TO_CO2 = 44.0 / 12.0  # molar mass ratio CO2/C (IPCC 2006 Vol.2 eq. 2.1; GB/T 32150 annex)

RESOLVED_COLUMNS = [
    "activity_type",
    "region",
    "year",
    "prop_entity",
    "gas",
    "ef",
    "factor_id",
    "factor_key",
    "factor_year",
    "factor_geography",
    "source",
    "edition",
    "verification",
    "formula",
    "fallback",
]


GHG_BASES = ("ghg_protocol", "cn_guideline")
"""``ghg_protocol``: every gas of every source (GHG Protocol, ISO 14064-1); ``cn_guideline``:
fuel combustion counts CO2 only, as the MEE industry accounting guidelines do."""


@dataclass(frozen=True)
class CalcSettings:
    """Settings of one inventory calculation (validated by :meth:`validate`)."""

    years: tuple[int, ...] | None = None
    gwp_set: str = "AR6"
    ch4_convention: str = "split"  # "split": AR6 27.0 combustion / 29.8 fossil; "generic": 27.9
    approach: ConsolidationApproach = ConsolidationApproach.OPERATIONAL_CONTROL
    grid_level: str = "province"  # finest geography tried first: province | region | national
    factor_as_of: date | None = None
    natural_gas_tce: str = "high"  # variant of the GB/T 2589-2020 natural-gas range
    scope2_total_basis: str = "location"  # which scope 2 enters the total: location | market
    grid_series: str = (
        "mee_nbs"  # the grid-factor series of purchased electricity (grid_series.csv)
    )
    ghg_basis: str = "ghg_protocol"  # ghg_protocol (all gases) | cn_guideline (combustion: CO2)
    allow_later_year: bool = True

    def validate(self, library: FactorLibrary) -> list[Diagnostic]:
        problems = []
        sets = set(library.gwp["gwp_set"])
        if self.gwp_set not in sets:
            problems.append(
                Diagnostic("settings", f"GWP set {self.gwp_set!r} is not one of {sorted(sets)}")
            )
        if self.ch4_convention not in ("split", "generic"):
            problems.append(Diagnostic("settings", "ch4_convention must be split or generic"))
        if self.ch4_convention == "generic" and self.gwp_set != "AR6":
            problems.append(Diagnostic("settings", "the generic CH4 value exists only in AR6"))
        if self.grid_level not in ("province", "region", "national"):
            problems.append(
                Diagnostic("settings", "grid_level must be province, region or national")
            )
        variants = set(library.tce.loc[library.tce["key"] == "tce.natural_gas", "variant"])
        if self.natural_gas_tce not in variants:
            problems.append(
                Diagnostic("settings", f"natural_gas_tce must be one of {sorted(variants)}")
            )
        if self.scope2_total_basis not in ("location", "market"):
            problems.append(Diagnostic("settings", "scope2_total_basis must be location or market"))
        series = list(library.grid_series.index)
        if self.grid_series not in series:
            problems.append(Diagnostic("settings", f"grid_series must be one of {series}"))
        if self.ghg_basis not in GHG_BASES:
            problems.append(Diagnostic("settings", f"ghg_basis must be one of {list(GHG_BASES)}"))
        return problems

    def factor_key(self, library: FactorLibrary, at: Mapping[str, Any]) -> str:
        """The factor key of an activity type: purchased electricity's is the chosen grid
        series' (``grid_series.csv``), every other type's its own."""
        if at["method"] == "grid":
            return str(library.grid_series.loc[self.grid_series, "key"])
        return str(at["emission_key"])

    def ch4_gas(self) -> str:
        return "CH4_generic" if self.ch4_convention == "generic" else "CH4_nonfossil"


@dataclass(frozen=True)
class Pick:
    row: dict[str, Any]
    fallback: str  # empty when the exact geography and year were found


def _geo_chain(library: FactorLibrary, region: str | None, level: str) -> list[str]:
    chain = list(library.geography_chain(region))
    if level == "region":
        chain = [g for g in chain if g.startswith("CN-R-") or g == "CN"]
    elif level == "national":
        chain = ["CN"]
    return [*chain, "GLOBAL"]


@lru_cache(maxsize=65536)
def _best(
    library: FactorLibrary, key: str, chain: tuple[str, ...], year: int, as_of: date | None
) -> Candidate | None:
    """The winning candidate of ``key`` for a geography chain and year (memoised: the library
    is immutable, and most keys have the same answer for every region)."""
    candidates = library.ef_index.get(key, ())
    if as_of is not None:
        stamp = pd.Timestamp(as_of)
        candidates = tuple(c for c in candidates if c.published is None or c.published <= stamp)
    if not candidates:
        return None
    rank = {g: i for i, g in enumerate(chain)}
    return min(
        candidates,
        key=lambda c: (
            rank.get(c.geography, len(chain)),
            c.year > year,
            abs(c.year - year),
            c.index,
        ),
    )


@lru_cache(maxsize=4096)  # bounded: every Book with factor packs makes new key sets
def _has_prefix(geographies: frozenset[str], prefix: str) -> bool:
    """Whether a key's geographies hold one starting with ``prefix`` (asked for every key of
    an inventory: a frozenset keeps its hash, so the answer is looked up, not recounted)."""
    return any(g.startswith(prefix) for g in geographies)


def pick_factor(
    library: FactorLibrary, key: str, region: str | None, year: int, settings: CalcSettings
) -> Pick | None:
    """Best factor row of ``key`` for a region and year, or None.

    Order: geography first (finest in the chain wins; a geography outside the chain, such as
    US for spend factors, comes last), then the exact or nearest earlier year, then the
    nearest later year. Works on the library's per-key index, not on the whole table.
    """
    chain = _geo_chain(library, region, settings.grid_level)
    geographies = library.ef_geographies.get(key, frozenset())
    relevant = tuple(g for g in chain if g in geographies)  # the same for most regions
    best = _best(library, key, relevant, year, settings.factor_as_of)
    if best is None or (best.year > year and not settings.allow_later_year):
        return None
    notes = []
    geography_specific = _has_prefix(geographies, "CN")
    if (
        region
        and best.geography != chain[0]
        and best.geography != "GLOBAL"
        and (geography_specific or best.geography not in chain)
    ):
        where = "fallback" if best.geography in chain else "proxy geography"
        notes.append(f"{where} {region} -> {best.geography}")
    if region is None and _has_prefix(geographies, "CN-"):
        notes.append(f"no region (neither the record nor its entity names one) -> {best.geography}")
    outside = region not in (None, "CN", "GLOBAL") and library.region_parent.get(region) == ""
    if outside and geography_specific and best.geography != region and not notes:
        notes.append(
            f"{region} is outside this factor series -> {best.geography} (supply a factor override)"
        )
    if best.year != year:
        kind = "nearest earlier year" if best.year < year else "LATER year (none earlier)"
        notes.append(f"{kind} {year} -> {best.year}")
    return Pick(library.ef_rows[best.index], "; ".join(notes))


def _row(
    activity_type: str,
    region: str | None,
    year: int,
    gas: str,
    ef: float,
    factor_id: str,
    factor_key: str,
    factor_year: int | None,
    geography: str,
    source: str,
    edition: str,
    verification: str,
    formula: str,
    fallback: str,
) -> dict[str, Any]:
    return {
        "activity_type": activity_type,
        "region": region,
        "year": year,
        "gas": gas,
        "ef": ef,
        "factor_id": factor_id,
        "factor_key": factor_key,
        "factor_year": factor_year,
        "factor_geography": geography,
        "source": source,
        "edition": edition,
        "verification": verification,
        "formula": formula,
        "fallback": fallback,
    }


def _measured_text(prop: str, found: Measured) -> str:
    return f"{prop} {found.entered}, {found.scope}, row {found.row_id}"


def _combustion(
    library: FactorLibrary,
    at: Mapping[str, Any],
    name: str,
    year: int,
    settings: CalcSettings,
    measured: tuple[dict[str, float], dict[str, Measured]] | None = None,
) -> list[dict[str, Any]]:
    """CO2 from NCV x carbon content x oxidation x 44/12, CH4 and N2O per TJ of the NCV: the
    library's defaults, or the measured properties of ``measured`` (values, rows used)."""
    cn = library.fuel_rows[at["emission_key"]]
    values, used = measured if measured is not None else (library_defaults(library, name), {})
    ncv, cc, of = values["ncv"], values["carbon_content"], values["oxidation_rate"]
    co2 = ncv * cc * of * C_TO_CO2
    basis = at["basis_unit"]
    formula = f"AD[{basis}] x NCV {ncv:g} GJ/{basis} x CC {cc:g} tC/GJ x OF {of:g} x 44/12"
    if used:
        formula += " (measured: " + "; ".join(_measured_text(p, m) for p, m in used.items()) + ")"
    rows = [
        _row(
            name,
            None,
            year,
            "CO2",
            co2,
            measured_id(list(used.values())) if used else cn["param_id"],
            at["emission_key"],
            None,
            "CN",
            "; ".join(dict.fromkeys(m.source for m in used.values())) if used else cn["source"],
            "company-measured (GB/T 32150)" if used else cn["edition"],
            "company-measured" if used else cn["verification"],
            formula,
            "",
        )
    ]
    ncv_row = used.get("ncv")
    if at["ch4n2o_key"]:
        ipcc = library.fuel_rows[at["ch4n2o_key"]]
        for gas, column in ((settings.ch4_gas(), "ch4_kg_per_tj"), ("N2O", "n2o_kg_per_tj")):
            per_tj = float(ipcc[column])
            rows.append(
                _row(
                    name,
                    None,
                    year,
                    gas,
                    ncv * 1e-3 * per_tj * 1e-3,
                    f"{measured_id([ncv_row])}/{ipcc['param_id']}" if ncv_row else ipcc["param_id"],
                    at["ch4n2o_key"],
                    None,
                    "GLOBAL",
                    ipcc["source"],
                    ipcc["edition"],
                    ipcc["verification"],
                    f"AD[{basis}] x NCV {ncv:g} GJ x 1e-3 TJ/GJ x {per_tj:g} kg/TJ x 1e-3"
                    + (f" (measured: {_measured_text('ncv', ncv_row)})" if ncv_row else ""),
                    "",
                )
            )
    return rows


def _by_factor_key(
    library: FactorLibrary,
    at: Mapping[str, Any],
    name: str,
    region: str | None,
    year: int,
    settings: CalcSettings,
) -> list[dict[str, Any]]:
    pick = pick_factor(library, settings.factor_key(library, at), region, year, settings)
    if pick is None:
        return []
    row = pick.row
    ef = float(row["value"]) * ef_to_tonnes_per(row["unit"], at["basis_unit"])
    return [
        _row(
            name,
            region,
            year,
            row["gas"],
            ef,
            row["factor_id"],
            row["key"],
            int(row["year"]),
            row["geography"],
            row["source"],
            row["edition"],
            row["verification"],
            f"AD[{at['basis_unit']}] x {float(row['value']):g} {row['unit']}",
            pick.fallback,
        )
    ]


def _heat(
    library: FactorLibrary, at: Mapping[str, Any], name: str, region: str | None, year: int
) -> list[dict[str, Any]]:
    heat = library.fuel_rows[at["emission_key"]]
    unit = heat["published_co2_unit"]
    ef = float(heat["published_co2"]) * ef_to_tonnes_per(unit, at["basis_unit"])
    return [
        _row(
            name,
            region,
            year,
            "CO2",
            ef,
            heat["param_id"],
            at["emission_key"],
            None,
            "CN",
            heat["source"],
            heat["edition"],
            heat["verification"],
            f"AD[{at['basis_unit']}] x {heat['published_co2']} {unit}",
            "",
        )
    ]


def _gwp_mass(
    at: Mapping[str, Any], name: str, region: str | None, year: int
) -> list[dict[str, Any]]:
    ef = conversion_factor(at["basis_unit"], "t")
    return [
        _row(
            name,
            region,
            year,
            at["emission_key"],
            ef,
            f"gas:{at['emission_key']}",
            at["emission_key"],
            None,
            "GLOBAL",
            "mass of gas emitted",
            "",
            "definition",
            f"AD[{at['basis_unit']}] of {at['emission_key']} x GWP",
            "",
        )
    ]


def gas_slot(gas: str) -> str:
    """What an override of ``gas`` replaces: that gas, every CH4 variant for a CH4 one (the
    library's CH4 row is fossil, generic or non-fossil by the GWP set)."""
    return "CH4" if gas.startswith("CH4") else gas


def _override_rows(
    overrides: pd.DataFrame, at: Mapping[str, Any], name: str, region: str | None, year: int
) -> list[dict[str, Any]]:
    """The overrides of a key's gases: for each gas the most specific (region and year over
    year over region over neither), the latest entered on a tie."""
    match = overrides[
        (overrides["activity_type"] == name)
        & (overrides["region"].isna() | (overrides["region"] == region))
        & (overrides["year"].isna() | (overrides["year"] == year))
    ]
    if match.empty:
        return []
    ranked = match.assign(
        _slot=match["gas"].map(gas_slot),
        _specific=match["region"].notna().astype(int) * 2 + match["year"].notna().astype(int),
    ).sort_values(["_slot", "_specific", "id"], kind="stable")
    best = ranked.drop_duplicates("_slot", keep="last")
    return [
        _row(
            name,
            region,
            year,
            o["gas"],
            float(o["value"]) * ef_to_tonnes_per(o["unit"], at["basis_unit"]),
            f"override:{o['id']}",
            "override",
            None if pd.isna(o["year"]) else int(o["year"]),
            region or "",
            o["source"],
            "user override",
            "user-supplied",
            f"AD[{at['basis_unit']}] x {float(o['value']):g} {o['unit']} (override)",
            "user override",
        )
        for _, o in best.iterrows()
    ]


def _overridden(
    library_rows: list[dict[str, Any]], override_rows: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(the rows of a key, the library rows they replace): an override replaces the library
    rows of the gases it names and no other; a CO2e override, or a library factor given as
    CO2e (all gases in one), is replaced whole."""
    named = {gas_slot(str(o["gas"])) for o in override_rows}
    whole = "CO2e" in named or any(r["gas"] == "CO2e" for r in library_rows)
    gone = [whole or gas_slot(str(r["gas"])) in named for r in library_rows]
    kept = [r for r, out in zip(library_rows, gone, strict=True) if not out]
    replaced = [r for r, out in zip(library_rows, gone, strict=True) if out]
    return [*kept, *override_rows], replaced


def _without_region(fallback: str, region: str | None) -> str:
    """A fallback note with the region left out, so that regions can be grouped."""
    return fallback.replace(f"{region} -> ", "-> ") if region else fallback


def _library_rows(
    library: FactorLibrary,
    at: Mapping[str, Any],
    key: tuple[str, str | None, int, str | None],
    settings: CalcSettings,
    props: FuelProperties,
    invariant: dict[tuple[str, int, str | None], list[dict[str, Any]]],
) -> list[dict[str, Any]]:
    """The factor rows of a key (activity type, region, year, entity of its measured fuel
    properties): the library's, or a fuel's measured properties (``invariant`` memoises the
    methods blind to region)."""
    name, region, year, prop_entity = key
    method = at["method"]
    if method not in ("combustion", "heat", "gwp"):
        rows = _by_factor_key(library, at, name, region, year, settings)
        return [{**row, "prop_entity": prop_entity} for row in rows]
    memo = (name, year, prop_entity)
    if memo not in invariant:
        if method == "combustion":
            measured = (
                props.combustion(name, prop_entity, year, library_defaults(library, name))
                if props
                else None
            )
            invariant[memo] = _combustion(library, at, name, year, settings, measured)
        elif method == "heat":
            invariant[memo] = _heat(library, at, name, None, year)
        else:
            invariant[memo] = _gwp_mass(at, name, None, year)
    return [{**row, "region": region, "prop_entity": prop_entity} for row in invariant[memo]]


def _override_notes(
    overridden: dict[tuple[str, int, str], list[str]], user: pd.DataFrame, used: set[str]
) -> list[Diagnostic]:
    """One warning per override used (with the library gases it replaced), one per override
    that matched no record."""
    out = [
        Diagnostic(
            "factor-override",
            f"{name} {year}: user override {label} used for {len(regions)} region(s): "
            f"{', '.join(sorted(regions))}",
            Severity.WARNING,
        )
        for (name, year, label), regions in overridden.items()
    ]
    for o in user.to_dict("records"):
        if f"override:{o['id']}" not in used:
            named = [str(o[k]) for k in ("region", "year") if not pd.isna(o[k])]
            where = "".join(f" {v}" for v in named)
            out.append(
                Diagnostic(
                    "override-unused",
                    f"override {o['id']} ({o['activity_type']} {o['gas']}{where}) is used for "
                    "no record (no activity of that type, region and year, or a more specific "
                    "or later override of the gas wins): it changes nothing",
                    Severity.WARNING,
                )
            )
    return out


def _missing(
    library: FactorLibrary,
    settings: CalcSettings,
    at: Mapping[str, Any],
    name: str,
    region: str | None,
    year: int,
) -> Diagnostic:
    """The error of a key without a factor; with ``factor_as_of``, when the key's factors were
    all published later, say so (and which grid series existed then)."""
    key = settings.factor_key(library, at)
    text = f"no factor for {name} in {region or '-'} {year} (key {key})"
    published = [c.published for c in library.ef_index.get(key, ()) if c.published is not None]
    if settings.factor_as_of is not None and published:
        first = min(published).date()
        text += (
            f": factor_as_of {settings.factor_as_of} is before the first {key} factor was "
            f"published ({first})"
        )
        if at["method"] == "grid":
            text += "; reports written before then used another grid series (setting grid_series)"
    return Diagnostic("factor-missing", f"{text}; add a factor override", Severity.ERROR)


def _measured_notes(rows: list[dict[str, Any]], replaced: list[dict[str, Any]]) -> list[str]:
    """What is said of the measured properties of a key: the rows used, and those an override
    of the same gas makes unused for CO2."""
    notes = []
    for row in rows:
        if str(row["factor_id"]).startswith("fuelprop:") and row["gas"] == "CO2":
            notes.append(
                f"measured properties {row['factor_id'].removeprefix('fuelprop:')} "
                f"used: {row['formula']}"
            )
    for row in replaced:
        if str(row["factor_id"]).startswith("fuelprop:"):
            notes.append(
                f"measured properties {row['factor_id'].removeprefix('fuelprop:')} not used for "
                f"{row['gas']}: a factor override of the gas replaces them (energy still uses "
                "the measured NCV)"
            )
    return notes


def resolve_factors(
    keys: pd.DataFrame,
    library: FactorLibrary,
    settings: CalcSettings,
    overrides: pd.DataFrame | None = None,
    props: FuelProperties | None = None,
) -> tuple[pd.DataFrame, list[Diagnostic]]:
    """Resolve every distinct (activity_type, region, year[, prop_entity]) of ``keys``.

    Returns one row per key and gas with ``ef`` in tonnes of gas per basis unit, and the
    diagnostics: a warning for each fallback, override used or override unused, an error for
    a key with no factor, a note for measured fuel properties used. An override replaces the
    library factor of the gases it names only (:func:`_overridden`); a combustion key of an
    entity with measured fuel properties (``prop_entity``) is calculated with them.
    """
    rows: list[dict[str, Any]] = []
    diagnostics: list[Diagnostic] = []
    fallbacks: dict[tuple[str, int, str, str], list[str]] = {}
    columns = ["activity_type", "region", "year", "prop_entity"]
    distinct = (keys if "prop_entity" in keys.columns else keys.assign(prop_entity=None))[
        columns
    ].drop_duplicates()
    invariant: dict[tuple[str, int, str | None], list[dict[str, Any]]] = {}
    measured: dict[tuple[str, int, str], list[str]] = {}
    user = overrides if overrides is not None else pd.DataFrame()
    overridden_types = set(user["activity_type"]) if not user.empty else set()
    overridden: dict[tuple[str, int, str], list[str]] = {}
    used: set[str] = set()
    found_props = props if props is not None else FuelProperties(None, library)
    for name, region_value, year_value, entity_value in distinct.itertuples(index=False):
        region = None if pd.isna(region_value) else str(region_value)
        prop_entity = None if pd.isna(entity_value) else str(entity_value)
        year = int(year_value)
        at = library.type_rows[str(name)]
        if at["method"] in ("instrument", "removal"):
            continue  # instruments act only in market-based scope 2; removals are apart
        key = (str(name), region, year, prop_entity)
        found = _library_rows(library, at, key, settings, found_props, invariant)
        replaced: list[dict[str, Any]] = []
        if name in overridden_types:
            users = [
                {**o, "prop_entity": prop_entity}
                for o in _override_rows(user, at, name, region, year)
            ]
            found, replaced = _overridden(found, users)
            for o in users:
                used.add(str(o["factor_id"]))
                gone = ", ".join(sorted({str(r["gas"]) for r in replaced})) or "no library factor"
                label = f"{o['factor_id']} {o['gas']} ({o['source']}; replaces {gone})"
                overridden.setdefault((name, year, label), []).append(region or "-")
        for note in _measured_notes(found, replaced):
            measured.setdefault((name, year, note), []).append(prop_entity or "group")
        if not found:
            diagnostics.append(_missing(library, settings, at, name, region, year))
            continue
        library_found = [r for r in found if r["fallback"] != "user override"]
        fallback = library_found[0]["fallback"] if library_found else ""
        if fallback:
            fkey = (
                name,
                year,
                str(library_found[0]["factor_id"]),
                _without_region(fallback, region),
            )
            fallbacks.setdefault(fkey, []).append(region or "-")
        rows.extend(found)
    diagnostics += _override_notes(overridden, user, used)
    diagnostics += [
        Diagnostic(
            "fuel-property",
            f"{name} {year}: {note} (for {', '.join(sorted(set(who)))})",
            Severity.INFO,
        )
        for (name, year, note), who in measured.items()
    ]
    for (name, year, factor_id, text), regions in fallbacks.items():
        named = sorted(r for r in regions if r != "-")
        where = f" for {len(named)} region(s): {', '.join(named)}" if named else ""
        diagnostics.append(
            Diagnostic(
                "factor-fallback", f"{name} {year}: {text} ({factor_id}){where}", Severity.WARNING
            )
        )
    frame = pd.DataFrame(rows, columns=RESOLVED_COLUMNS)
    frame["year"] = frame["year"].astype("int64")
    frame["prop_entity"] = frame["prop_entity"].astype("object")
    return frame, diagnostics
