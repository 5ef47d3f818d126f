"""Stage 1: one conversion factor per distinct (activity type, unit, year) to the basis unit.

Volume to mass for liquid fuels needs a density parameter, and CNY to USD for spend-based
factors needs an exchange-rate parameter; both are user-supplied, year-keyed parameters
(``density.<fuel>`` in kg/L, ``fx.CNY_per_USD``), never constants in code.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from esgledger.domain.diagnostics import Diagnostic
from esgledger.factors.library import FactorLibrary
from esgledger.units import UnitError, conversion_factor, parse_unit

CONVERSION_COLUMNS = ["activity_type", "unit", "year", "factor", "route"]


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


def conversions(
    keys: pd.DataFrame, library: FactorLibrary, parameters: pd.DataFrame
) -> tuple[pd.DataFrame, list[Diagnostic]]:
    """Conversion table for distinct (activity_type, unit, year) keys with their record count."""
    rows: list[dict[str, Any]] = []
    problems: list[Diagnostic] = []
    volume = parse_unit("L").dimensionality
    money = parse_unit("CNY").dimensionality
    counted = keys if "n_records" in keys.columns else keys.assign(n_records=1)
    distinct = pd.DataFrame(
        counted.groupby(["activity_type", "unit", "year"], as_index=False, sort=True)[
            "n_records"
        ].sum()
    )
    table = parameter_table(parameters)
    for key in distinct.to_dict("records"):
        name, unit, year = str(key["activity_type"]), str(key["unit"]), int(key["year"])
        at = library.type_rows[name]
        basis = str(at["basis_unit"])
        try:
            source = parse_unit(unit)
            target = parse_unit(basis)
            if source.dimensionality == target.dimensionality:
                factor, route = conversion_factor(unit, basis), f"{unit} -> {basis}"
            elif source.dimensionality == volume and at["density_fuel"]:
                factor, route = _density_route(library, name, at, unit, year, table)
            elif basis == "USD" and source.dimensionality == money:
                factor, route = _fx_route(unit, year, table)
            else:
                factor, route = conversion_factor(unit, basis), ""  # raises with both dimensions
        except UnitError as exc:
            count = int(key["n_records"])
            problems.append(Diagnostic("unit", f"{name} {year}: {exc} ({count} records)"))
            continue
        rows.append(
            {"activity_type": name, "unit": unit, "year": year, "factor": factor, "route": route}
        )
    frame = pd.DataFrame(rows, columns=CONVERSION_COLUMNS)
    frame["year"] = frame["year"].astype("int64")
    return frame, problems
