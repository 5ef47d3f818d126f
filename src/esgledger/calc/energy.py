"""Energy (GB/T 2589) and removals stages of the inventory: standard coal per carrier from
the library's coefficients or a fuel's measured properties, MWh, the primary-energy basis of
electricity; and the notes of removals, which stay apart from every scope."""

from __future__ import annotations

import pandas as pd

from esgledger.calc.normalise import lookup, parameter_table
from esgledger.domain.diagnostics import Diagnostic, Severity
from esgledger.factors.fuel_properties import FuelProperties
from esgledger.factors.library import FactorLibrary
from esgledger.factors.resolve import CalcSettings
from esgledger.units import UnitError, conversion_factor

ENERGY_COLUMNS = [
    "entity_id",
    "year",
    "month",
    "activity_type",
    "region",
    "quantity_basis",
    "quantity_gross",
    "basis_unit",
    "coef_id",
    "coef_kgce_per_basis",
    "n_records",
    "tce_gross",
    "tce_primary_gross",
    "share",
    "tce",
    "tce_primary",
    "mwh",
]


def tce_coefficients(library: FactorLibrary, settings: CalcSettings) -> pd.DataFrame:
    """kgce per basis unit of each activity type with an energy key (GB/T 2589 当量值)."""
    rows = []
    types = library.activity_types
    for name, at in types[types["energy_key"].ne("")].iterrows():
        coefs = library.tce[library.tce["key"] == at["energy_key"]]
        if at["energy_key"] == "tce.natural_gas":
            coefs = coefs[coefs["variant"] == settings.natural_gas_tce]
        else:
            coefs = coefs[coefs["variant"] == "default"]
        if coefs.empty:
            continue
        coef = coefs.iloc[0]
        per, _, denominator = coef["unit"].partition("/")
        value = (
            float(coef["value"])
            * conversion_factor(per, "kgce")
            * conversion_factor(at["basis_unit"], denominator)
        )
        rows.append(
            {"activity_type": name, "coef_id": coef["factor_id"], "coef_kgce_per_basis": value}
        )
    return pd.DataFrame(rows, columns=["activity_type", "coef_id", "coef_kgce_per_basis"])


def _measured_coefficients(energy: pd.DataFrame, props: FuelProperties) -> pd.DataFrame:
    """The energy lines with the standard-coal coefficient of a fuel's stated coefficient or
    measured NCV where the ledger holds one for the line's entity and year
    (:meth:`FuelProperties.tce`); the library's GB/T 2589 coefficient elsewhere."""
    if not props or energy.empty:
        return energy
    out = energy.copy()
    keys = out[["activity_type", "entity_id", "year"]].drop_duplicates()
    for name, entity, year in keys.itertuples(index=False):
        found = props.tce(str(name), str(entity), int(year))
        if found is None:
            continue
        value, row = found
        rows = (out["activity_type"] == name) & (out["entity_id"] == entity) & (out["year"] == year)
        out.loc[rows, "coef_kgce_per_basis"] = value
        out.loc[rows, "coef_id"] = f"fuelprop:{row.row_id}"
    return out


def _energy_unit_to_mwh(unit: str) -> float | None:
    try:
        return conversion_factor(unit, "MWh")
    except UnitError:
        return None


def finish_energy(
    raw: pd.DataFrame,
    coefs: pd.DataFrame,
    library: FactorLibrary,
    boundary: pd.DataFrame,
    parameters: pd.DataFrame,
    props: FuelProperties,
) -> pd.DataFrame:
    """tce (当量值), tce on the primary-energy basis (等价值) and MWh per energy line."""
    energy = _measured_coefficients(
        raw.merge(coefs, on="activity_type").merge(
            boundary[["entity_id", "share"]], on="entity_id"
        ),
        props,
    )
    energy["basis_unit"] = energy["activity_type"].map(library.activity_types["basis_unit"])
    energy["tce_gross"] = energy["quantity_gross"] * energy["coef_kgce_per_basis"] / 1000.0
    # 等价值 of electricity: a user-supplied kgce/kWh per year; 当量值 where none is given.
    energy["tce_primary_gross"] = energy["tce_gross"]
    electricity = energy["activity_type"] == "electricity"
    table = parameter_table(parameters)
    for year in energy.loc[electricity, "year"].unique():
        found = lookup(table, "tce.electricity_primary", int(year))
        if found is not None:
            value, unit = found
            per, _, denominator = unit.partition("/")
            tce_per_mwh = (
                value * conversion_factor(per, "tce") * conversion_factor("MWh", denominator)
            )
            rows = electricity & (energy["year"] == year)
            energy.loc[rows, "tce_primary_gross"] = energy.loc[rows, "quantity_gross"] * tce_per_mwh
    energy["quantity_basis"] = energy["quantity_gross"] * energy["share"]
    energy["tce"] = energy["tce_gross"] * energy["share"]
    energy["tce_primary"] = energy["tce_primary_gross"] * energy["share"]
    # Energy content in MWh: the metered energy itself where the basis is an energy unit
    # (electricity, heat), else the standard-coal figure at 29.3076 GJ/tce.
    to_mwh = {u: _energy_unit_to_mwh(u) for u in energy["basis_unit"].unique()}
    direct_mwh = energy["basis_unit"].map(to_mwh).astype("float64")
    energy["mwh"] = (energy["quantity_gross"] * direct_mwh).where(
        direct_mwh.notna(), energy["tce_gross"] * conversion_factor("tce", "MWh")
    ) * energy["share"]
    order = ["year", "month", "entity_id", "activity_type", "region"]
    return energy[ENERGY_COLUMNS].sort_values(order, kind="stable").reset_index(drop=True)


def removal_notes(removals: pd.DataFrame) -> list[Diagnostic]:
    """One note per year with removals: they are reported apart, never netted."""
    by_year = removals.groupby("year", sort=True)["tco2"].sum()
    return [
        Diagnostic(
            "removals",
            f"{year}: {float(t):,.2f} tCO2 of removals recorded (figure removals:{year}); "
            "reported apart from scopes 1-3, never netted against them",
            Severity.INFO,
        )
        for year, t in by_year.items()
    ]
