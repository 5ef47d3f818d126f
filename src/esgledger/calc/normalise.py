"""Stage 1: one conversion factor per distinct (activity type, unit, year) to the basis unit.

Volume to mass for liquid fuels needs a density parameter, and CNY to USD for spend-based
factors needs an exchange-rate parameter; both are user-supplied, year-keyed parameters
(``density.<fuel>`` in kg/L, ``fx.CNY_per_USD``), never constants in code.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from esgledger.domain.diagnostics import Diagnostic
from esgledger.factors.fuel_properties import FuelProperties, library_defaults
from esgledger.factors.library import FactorLibrary
from esgledger.tables import blank
from esgledger.units import UnitError, conversion_factor, parse_unit

CONVERSION_COLUMNS = ["activity_type", "unit", "year", "prop_entity", "factor", "route"]


Parameters = dict[tuple[str, int | None], tuple[float, str]]


def parameter_table(parameters: pd.DataFrame) -> Parameters:
    """{(name, year or None for all years): (value, unit)} of a parameters frame."""
    table: Parameters = {}
    for name, year, value, unit in zip(
        parameters["name"], parameters["year"], parameters["value"], parameters["unit"], strict=True
    ):
        table[(str(name), None if pd.isna(year) else int(year))] = (float(value), str(unit))
    return table


def lookup(table: Parameters, name: str, year: int) -> tuple[float, str] | None:
    """A parameter for a year, else its all-years value, else None."""
    return table.get((name, year)) or table.get((name, None))


def _density_route(
    library: FactorLibrary,
    name: str,
    at: dict[str, Any],
    unit: str,
    year: int,
    parameters: Parameters,
) -> tuple[float, str]:
    fuel = at["density_fuel"]
    found = lookup(parameters, f"density.{fuel}", year) if fuel else None
    if found is None:
        raise UnitError(
            f"{unit!r} is a volume but {name} is accounted by mass ({at['basis_unit']}): "
            f"set parameter density.{fuel or name} (kg/L) for {year}"
        )
    density, density_unit = found
    per_liter = kg_per_litre(density, density_unit)
    factor = conversion_factor(unit, "L") * per_liter * conversion_factor("kg", at["basis_unit"])
    bounds = density_range(library, str(fuel))
    note = f"{unit} -> L x density {density:g} {density_unit} -> {at['basis_unit']}"
    if bounds is not None and not bounds[0] <= per_liter <= bounds[1]:
        note += f" (outside the fuel-standard range {bounds[0]:g}-{bounds[1]:g} kg/L)"
    return factor, note


def kg_per_litre(density: float, unit: str) -> float:
    """A density given in ``unit`` (mass/volume: kg/L, kg/m3, t/m3...) in kg/L."""
    per, _, volume = unit.partition("/")
    return density * conversion_factor(per, "kg") / conversion_factor(volume, "L")


def density_range(library: FactorLibrary, fuel: str) -> tuple[float, float] | None:
    """(lowest, highest) density of ``fuel`` in kg/L allowed by its fuel standard
    (densities.csv rows with a value), None when the library has none."""
    values = library.densities[library.densities["fuel"] == fuel]["value"]
    numbers = pd.to_numeric(values, errors="coerce").dropna()
    return None if numbers.empty else (float(numbers.min()), float(numbers.max()))


def _fx_route(unit: str, year: int, parameters: Parameters) -> tuple[float, str]:
    found = lookup(parameters, "fx.CNY_per_USD", year)
    if found is None:
        raise UnitError(f"spend in {unit!r} needs parameter fx.CNY_per_USD for {year}")
    rate, _ = found
    return conversion_factor(unit, "CNY") / rate, f"{unit} -> CNY / {rate:g} CNY per USD"


def _energy_route(
    library: FactorLibrary,
    name: str,
    unit: str,
    year: int,
    entity: str | None,
    props: FuelProperties | None,
) -> tuple[float, str]:
    """A fuel recorded in an energy unit (GJ, MWh, kWh: the HKEX guide asks for kWh) to its
    basis unit through its NCV: the measured one of the entity and year where stored, else the
    library's (the same NCV its CO2 and standard coal are calculated with)."""
    basis = str(library.type_rows[name]["basis_unit"])
    found = props.get(name, entity, year, "ncv") if props else None
    if found is not None:
        ncv, source = found.value, f"measured NCV {found.entered} ({found.scope})"
    else:
        ncv = library_defaults(library, name)["ncv"]
        source = f"NCV {ncv:g} GJ/{basis} ({library.type_rows[name]['emission_key']})"
    return conversion_factor(unit, "GJ") / ncv, f"{unit} -> GJ / {source} -> {basis}"


STEAM_RETURN_KJ_PER_KG = 83.74
"""Enthalpy of the condensate returned (water at 20 °C), the reference of the MEE guidelines'
steam formula: heat = mass x (enthalpy - 83.74 kJ/kg) x 10^-3 GJ/t."""


def _steam_route(unit: str, basis: str, year: int, parameters: Parameters) -> tuple[float, str]:
    """Steam in tonnes to heat (GJ), with the steam's enthalpy of the year (parameter
    ``enthalpy.steam`` in kJ/kg, read from the steam tables at its temperature and pressure)."""
    found = lookup(parameters, "enthalpy.steam", year)
    if found is None:
        raise UnitError(
            f"steam in {unit!r} needs its enthalpy: set parameter enthalpy.steam (kJ/kg, from "
            f"the steam tables at its temperature and pressure) for {year}"
        )
    value, enthalpy_unit = found
    kj_per_kg = value * conversion_factor(enthalpy_unit, "kJ/kg")
    gj_per_t = (kj_per_kg - STEAM_RETURN_KJ_PER_KG) * 1e-3
    factor = conversion_factor(unit, "t") * gj_per_t * conversion_factor("GJ", basis)
    route = (
        f"{unit} steam -> t x (enthalpy {kj_per_kg:g} - {STEAM_RETURN_KJ_PER_KG:g}) kJ/kg "
        f"x 1e-3 -> {basis}"
    )
    return factor, route


def route_kind(at: Mapping[str, Any], unit: str) -> str | None:
    """How records of an activity type (its library row) in ``unit`` reach its basis unit:
    ``same`` (the unit registry), ``density`` (litres of a liquid fuel), ``fx`` (money in
    CNY), ``energy`` (a fuel in GJ, MWh, kWh through its NCV), ``steam`` (heat in tonnes of
    steam through its enthalpy), or None: no route. The import checks units by this rule and
    the calculation converts by it. UnitError for a unit the registry does not know."""
    basis = str(at["basis_unit"])
    source = parse_unit(unit).dimensionality
    if source == parse_unit(basis).dimensionality:
        return "same"
    if source == parse_unit("L").dimensionality and at["density_fuel"]:
        return "density"
    if basis == "USD" and source == parse_unit("CNY").dimensionality:
        return "fx"
    if at["method"] == "combustion" and source == parse_unit("GJ").dimensionality:
        return "energy"
    if at["method"] == "heat" and source == parse_unit("t").dimensionality:
        return "steam"
    return None


def _route(
    library: FactorLibrary,
    key: Mapping[Any, Any],
    table: Parameters,
    props: FuelProperties | None,
) -> tuple[float, str]:
    """The factor and route of one (activity type, unit, year, entity) to the basis unit."""
    name, unit, year = str(key["activity_type"]), str(key["unit"]), int(key["year"])
    at = library.type_rows[name]
    basis = str(at["basis_unit"])
    kind = route_kind(at, unit)
    if kind == "density":
        return _density_route(library, name, at, unit, year, table)
    if kind == "fx":
        return _fx_route(unit, year, table)
    if kind == "energy":
        entity = key.get("prop_entity")
        return _energy_route(
            library, name, unit, year, None if blank(entity) else str(entity), props
        )
    if kind == "steam":
        return _steam_route(unit, basis, year, table)
    if kind == "same":
        return conversion_factor(unit, basis), f"{unit} -> {basis}"
    return conversion_factor(unit, basis), ""  # raises, naming both dimensions


def conversions(
    keys: pd.DataFrame,
    library: FactorLibrary,
    parameters: pd.DataFrame,
    props: FuelProperties | None = None,
) -> tuple[pd.DataFrame, list[Diagnostic]]:
    """Conversion table for distinct (activity_type, unit, year[, prop_entity]) keys with their
    record count; ``prop_entity`` names the entity whose measured fuel properties route its
    records (NULL: the group's)."""
    rows: list[dict[str, Any]] = []
    problems: list[Diagnostic] = []
    counted = keys if "n_records" in keys.columns else keys.assign(n_records=1)
    if "prop_entity" not in counted.columns:
        counted = counted.assign(prop_entity=None)
    distinct = pd.DataFrame(
        counted.groupby(
            ["activity_type", "unit", "year", "prop_entity"],
            as_index=False,
            sort=True,
            dropna=False,
        )["n_records"].sum()
    )
    table = parameter_table(parameters)
    for key in distinct.to_dict("records"):
        name, unit, year = str(key["activity_type"]), str(key["unit"]), int(key["year"])
        try:
            factor, route = _route(library, key, table, props)
        except UnitError as exc:
            count = int(key["n_records"])
            problems.append(Diagnostic("unit", f"{name} {year}: {exc} ({count} records)"))
            continue
        entity = None if blank(key["prop_entity"]) else str(key["prop_entity"])
        rows.append(
            {
                "activity_type": name,
                "unit": unit,
                "year": year,
                "prop_entity": entity,
                "factor": factor,
                "route": route,
            }
        )
    frame = pd.DataFrame(rows, columns=CONVERSION_COLUMNS)
    frame["year"] = frame["year"].astype("int64")
    frame["prop_entity"] = frame["prop_entity"].astype("object")
    return frame, problems
