"""Market-based scope 2 (GHG Protocol Scope 2 Guidance, chapter 6).

Per entity and year, contractual instruments are allocated to the entity's metered electricity
in a fixed, documented order: green-power purchases (绿电交易) first, then retired green
electricity certificates (GEC, 绿证), then supplier-specific contracts. An instrument is applied
only to consumption of its own year and never beyond the consumption (the surplus is reported,
not carried elsewhere), and each instrument id can be stored once in the ledger, so no MWh is
claimed twice. The unclaimed remainder is multiplied by the residual-mix proxy factor (MEE/NBS
'excluding market-traded non-fossil electricity', key ``grid.residual``) of the consumption's
region, with the same fallback chain as location-based factors.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from esgledger.domain.diagnostics import Diagnostic, Severity
from esgledger.factors.library import FactorLibrary, ef_to_tonnes_per
from esgledger.factors.resolve import CalcSettings, pick_factor
from esgledger.units import conversion_factor

ALLOCATION_ORDER = ("green_power", "gec", "supplier_electricity")


def _instrument_totals(instruments: pd.DataFrame) -> pd.DataFrame:
    """MWh and supplier-factor tCO2 of instruments per entity, year and type."""
    if instruments.empty:
        return pd.DataFrame(
            columns=["entity_id", "year", "activity_type", "mwh", "t_co2", "n_records"]
        )
    frame = instruments.copy()
    to_mwh = {u: conversion_factor(u, "MWh") for u in frame["unit"].astype(str).unique()}
    frame["mwh"] = frame["quantity"] * frame["unit"].astype(str).map(to_mwh)
    if "ef_value" in frame:
        per_mwh = frame["ef_unit"].map(
            lambda u: ef_to_tonnes_per(u, "MWh") if isinstance(u, str) and u else 0.0
        )
        frame["t_co2"] = frame["mwh"] * frame["ef_value"].astype("float64").fillna(0.0) * per_mwh
    else:
        frame["t_co2"] = 0.0
    return frame.groupby(["entity_id", "year", "activity_type"], as_index=False).agg(
        mwh=("mwh", "sum"), t_co2=("t_co2", "sum"), n_records=("mwh", "size")
    )


def _line(
    entity: str,
    year: int,
    activity_type: str,
    region: Any,
    factor_id: str,
    mwh: float,
    t_co2: float,
    n_records: int,
    method: str,
) -> dict[str, Any]:
    return {
        "entity_id": entity,
        "year": year,
        "month": None,
        "scope": 2,
        "category": "purchased_electricity",
        "activity_type": activity_type,
        "region": region,
        "gas": "CO2",
        "factor_id": factor_id,
        "basis": "market",
        "method": method,
        "quantity_gross": mwh,
        "basis_unit": "MWh",
        "n_records": n_records,
        "t_gas": t_co2,
        "gwp": 1.0,
        "tco2e_gross": t_co2,
    }


def _region_key(region: Any) -> str | None:
    """A region as a dictionary key (a missing one, NaN or None, is None)."""
    return None if pd.isna(region) else str(region)


def _residual(
    library: FactorLibrary,
    residual_key: str,
    region: Any,
    year: int,
    settings: CalcSettings,
    cache: dict[tuple[Any, int], tuple[float, str, str] | None],
) -> tuple[float, str, str] | None:
    """(t CO2 per MWh, factor id, fallback note) of the residual-mix proxy, cached per key."""
    key = (region, year)
    if key not in cache:
        pick = pick_factor(
            library, residual_key, None if pd.isna(region) else region, year, settings
        )
        cache[key] = (
            None
            if pick is None
            else (
                float(pick.row["value"]) * ef_to_tonnes_per(str(pick.row["unit"]), "MWh"),
                str(pick.row["factor_id"]),
                pick.fallback,
            )
        )
    return cache[key]


def _location_factors(
    elec: pd.DataFrame, per_key: pd.DataFrame
) -> dict[tuple[str, int, str | None], tuple[float, str]]:
    """Per (entity, year, region): the location-based tCO2e per MWh of its lines (all gases)
    and the factor id of its first line, from one group-by (not a scan per key)."""
    keys = ["entity_id", "year", "region"]
    sums = elec.groupby(keys, dropna=False, sort=False).agg(
        t=("tco2e_gross", "sum"), factor_id=("factor_id", "first")
    )
    both = sums.reset_index().merge(per_key[[*keys, "mwh"]], on=keys, how="left")
    return {
        (str(e), int(y), _region_key(r)): (float(t) / float(m) if m else 0.0, str(f))
        for e, y, r, t, f, m in zip(
            both["entity_id"],
            both["year"],
            both["region"],
            both["t"],
            both["factor_id"],
            both["mwh"].fillna(0.0),
            strict=True,
        )
    }


def market_based_scope2(
    lines: pd.DataFrame, instruments: pd.DataFrame, library: FactorLibrary, settings: CalcSettings
) -> tuple[pd.DataFrame, list[Diagnostic]]:
    """Market-based scope 2 lines from location-based electricity lines and instruments."""
    problems: list[Diagnostic] = []
    elec = lines[lines["activity_type"] == "electricity"]
    # Every gas line of an (entity, year, month, region) key carries the key's MWh: count it
    # once, whatever gas the location-based factor (or an override) is expressed in; then add
    # the months up (instruments are allocated per year).
    one_gas = elec.sort_values("gas").drop_duplicates(["entity_id", "year", "month", "region"])
    per_key = one_gas.groupby(["entity_id", "year", "region"], as_index=False, dropna=False).agg(
        mwh=("quantity_gross", "sum"), n_records=("n_records", "sum")
    )
    consumption: dict[tuple[str, int], list[tuple[Any, float, int]]] = {}
    for key_row in per_key.to_dict("records"):
        consumption.setdefault((str(key_row["entity_id"]), int(key_row["year"])), []).append(
            (key_row["region"], float(key_row["mwh"]), int(key_row["n_records"]))
        )
    # Each key's location-based factor: it stands in for the residual mix where the user
    # overrode it (no MEE/NBS series, e.g. Hong Kong), where the grid series has no residual
    # mix, or where none is found (GHG Protocol Scope 2 Guidance: grid-average factors are the
    # last step of the market-based hierarchy).
    location_ef = _location_factors(elec, per_key)
    residual_key = str(library.grid_series.loc[settings.grid_series, "residual_key"])
    totals = _instrument_totals(instruments)
    claimed = {
        (str(e), int(y), str(k)): (float(m), float(t), int(n))
        for e, y, k, m, t, n in zip(
            totals["entity_id"],
            totals["year"],
            totals["activity_type"],
            totals["mwh"],
            totals["t_co2"],
            totals["n_records"],
            strict=True,
        )
    }
    rows: list[dict[str, Any]] = []
    cache: dict[tuple[Any, int], tuple[float, str, str] | None] = {}
    fallbacks: dict[tuple[int, str, str], list[str]] = {}
    for entity, year in sorted(set(consumption) | {(e, y) for e, y, _ in claimed}):
        use = consumption.get((entity, year), [])
        total_use = sum(mwh for _, mwh, _ in use)
        remaining = total_use
        for kind in ALLOCATION_ORDER:
            if (entity, year, kind) not in claimed:
                continue
            mwh, t_co2, n = claimed[(entity, year, kind)]
            applied = min(mwh, remaining)
            if mwh > remaining + 1e-9:
                problems.append(
                    Diagnostic(
                        "instrument-surplus",
                        f"{entity} {year}: {kind} {mwh:,.3f} MWh exceeds the unclaimed consumption "
                        f"{remaining:,.3f} MWh; {mwh - applied:,.3f} MWh not applied (instruments "
                        "are never carried to another entity or year)",
                        Severity.WARNING,
                    )
                )
            scaled = t_co2 * (applied / mwh) if mwh else 0.0
            rows.append(
                _line(
                    entity, year, kind, None, f"instrument:{kind}", applied, scaled, n, "instrument"
                )
            )
            remaining -= applied
        for region, mwh_region, n in use:
            part = remaining * (mwh_region / total_use) if total_use else 0.0
            ef_location, location_id = location_ef[(entity, year, _region_key(region))]
            why = (
                "user override used as residual"
                if location_id.startswith("override:")
                else f"grid series {settings.grid_series} has no residual mix: its "
                "grid-average factor stands in"
                if not residual_key
                else None
            )
            found = None if why else _residual(library, residual_key, region, year, settings, cache)
            if found is None:
                why = why or (
                    f"no residual mix ({residual_key}) for this region and year: the "
                    "grid-average factor stands in"
                )
                fallbacks.setdefault((year, location_id, why), []).append(str(region))
                rows.append(
                    _line(
                        entity,
                        year,
                        "electricity",
                        region,
                        location_id,
                        part,
                        part * ef_location,
                        n,
                        "grid",
                    )
                )
                continue
            ef, factor_id, fallback = found
            if fallback:
                fallbacks.setdefault(
                    (year, factor_id, fallback.replace(f"{region} -> ", "-> ")), []
                ).append(str(region))
            rows.append(
                _line(entity, year, "electricity", region, factor_id, part, part * ef, n, "grid")
            )
    for (year, factor_id, text), regions in sorted(fallbacks.items()):
        problems.append(
            Diagnostic(
                "factor-fallback",
                f"market-based residual {year}: {text} ({factor_id}) for "
                f"{len(set(regions))} region(s): {', '.join(sorted(set(regions)))}",
                Severity.WARNING,
            )
        )
    return pd.DataFrame(rows), problems
