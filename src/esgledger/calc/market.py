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
    frame["mwh"] = frame["quantity"] * frame["unit"].map(lambda u: conversion_factor(u, "MWh"))
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
        "scope": 2,
        "category": "purchased_electricity",
        "activity_type": activity_type,
        "region": region,
        "gas": "CO2",
        "factor_id": factor_id,
        "basis": "market",
        "method": method,
        "quantity_basis": mwh,
        "basis_unit": "MWh",
        "n_records": n_records,
        "t_gas": t_co2,
        "gwp": 1.0,
        "tco2e_gross": t_co2,
    }


def market_based_scope2(
    lines: pd.DataFrame, instruments: pd.DataFrame, library: FactorLibrary, settings: CalcSettings
) -> tuple[pd.DataFrame, list[Diagnostic]]:
    """Market-based scope 2 lines from location-based electricity lines and instruments."""
    problems: list[Diagnostic] = []
    elec = lines[(lines["activity_type"] == "electricity") & (lines["gas"] == "CO2")]
    consumption = elec.groupby(["entity_id", "year", "region"], as_index=False, dropna=False).agg(
        mwh=("quantity_basis", "sum"), n_records=("n_records", "sum")
    )
    totals = _instrument_totals(instruments)
    rows: list[dict[str, Any]] = []
    residual_cache: dict[tuple[Any, int], tuple[float, str] | None] = {}
    entity_years = set(zip(consumption["entity_id"], consumption["year"], strict=True)) | set(
        zip(totals["entity_id"], totals["year"], strict=True)
    )
    for entity, year in sorted(entity_years):
        use = consumption[(consumption["entity_id"] == entity) & (consumption["year"] == year)]
        remaining = float(use["mwh"].sum())
        for kind in ALLOCATION_ORDER:
            got = totals[
                (totals["entity_id"] == entity)
                & (totals["year"] == year)
                & (totals["activity_type"] == kind)
            ]
            if got.empty:
                continue
            mwh, t_co2, n = (
                float(got["mwh"].sum()),
                float(got["t_co2"].sum()),
                int(got["n_records"].sum()),
            )
            applied = min(mwh, remaining)
            if mwh > remaining + 1e-9:
                problems.append(
                    Diagnostic(
                        "instrument-surplus",
                        f"{entity} {year}: {kind} {mwh:,.3f} MWh exceeds the "
                        f"unclaimed consumption {remaining:,.3f} MWh; {mwh - applied:,.3f} MWh not "
                        "applied (instruments are never carried to another entity or year)",
                        Severity.WARNING,
                    )
                )
            scaled = t_co2 * (applied / mwh) if mwh else 0.0
            rows.append(
                _line(
                    entity,
                    int(year),
                    kind,
                    None,
                    f"instrument:{kind}",
                    applied,
                    scaled,
                    n,
                    "instrument",
                )
            )
            remaining -= applied
        total_use = float(use["mwh"].sum())
        for region, mwh_region in zip(use["region"], use["mwh"], strict=True):
            part = remaining * (float(mwh_region) / total_use) if total_use else 0.0
            key = (region, int(year))
            if key not in residual_cache:
                pick = pick_factor(
                    library,
                    "grid.residual",
                    None if pd.isna(region) else region,
                    int(year),
                    settings,
                )
                residual_cache[key] = (
                    None
                    if pick is None
                    else (
                        float(pick.row["value"]) * ef_to_tonnes_per(pick.row["unit"], "MWh"),
                        str(pick.row["factor_id"]),
                    )
                )
            found = residual_cache[key]
            if found is None:
                problems.append(
                    Diagnostic("factor-missing", f"no residual factor for {region} {year}")
                )
                continue
            ef, factor_id = found
            n = (
                int(use.loc[use["region"] == region, "n_records"].sum())
                if not pd.isna(region)
                else int(use["n_records"].sum())
            )
            rows.append(
                _line(
                    entity, int(year), "electricity", region, factor_id, part, part * ef, n, "grid"
                )
            )
    frame = pd.DataFrame(rows)
    return frame, problems
