"""Company-measured fuel properties (GB/T 32150 and the MEE guidelines' measured tier).

A company may measure the net calorific value (NCV), the carbon content per unit of heat and
the oxidation rate of a fuel it burns, and may state the standard-coal coefficient it uses;
the guidelines prefer measured values to the defaults. A ledger holds them per fuel (activity
type), optionally per entity and per year (``fuel_property`` rows, entered with ``esgledger
fuel``). One rule reads them everywhere (:class:`FuelProperties`):

* the most specific row wins: the entity's of the year, the entity's of every year, the
  group's of the year, the group's of every year; a property no row names keeps the factor
  library's default, so that measuring one property changes only what it enters;
* the NCV enters CO2 (NCV x carbon content x oxidation x 44/12), CH4 and N2O (per TJ), the
  standard coal of the fuel (NCV / 29.3076 GJ per tce, GB/T 2589's definition) and the
  conversion of a fuel recorded in an energy unit (GJ, MWh) to its mass or volume;
* a stated ``tce`` coefficient takes the place of the NCV in the energy figures only, when
  it is at least as specific as the measured NCV.

Values are converted once, to the units the calculation uses (:func:`canonical`): GJ per
basis unit, tC per GJ, a fraction, kgce per basis unit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from esgledger.factors.library import FactorLibrary
from esgledger.tables import blank
from esgledger.units import UnitError, conversion_factor

PROPERTIES = ("ncv", "carbon_content", "oxidation_rate", "tce")
"""The properties a ledger may hold, in the order they are listed."""

CANONICAL = {
    "ncv": "GJ/{basis}",
    "carbon_content": "tC/GJ",
    "oxidation_rate": "fraction",
    "tce": "kgce/{basis}",
}
"""The unit each property is calculated in (``{basis}``: the fuel's basis unit)."""

EXAMPLE_UNITS = {
    "ncv": "GJ/t, kJ/kg, MJ/kg, GJ/10^4 Nm3, MJ/m3",
    "carbon_content": "tC/GJ, tC/TJ, kgC/GJ",
    "oxidation_rate": "% or fraction",
    "tce": "kgce/kg, tce/t, kgce/m3",
}

FUEL_PROPERTY_COLUMNS = [
    "id",
    "activity_type",
    "entity_id",
    "year",
    "property",
    "value",
    "unit",
    "source",
]

PLAUSIBLE = (0.5, 2.0)
"""A measured NCV, carbon content or tce coefficient is refused outside this ratio to the
library's default of the fuel: beyond it the value is a unit slip (kJ/kg typed as GJ/t), not
a measurement."""


def canonical(prop: str, value: float, unit: str, basis_unit: str) -> float:
    """``value`` in ``unit`` expressed in the unit the calculation uses (:data:`CANONICAL`).
    UnitError when the unit is not one of the property's kind."""
    if prop == "oxidation_rate":
        if unit.strip() in ("%", "percent"):
            return value / 100.0
        if unit.strip() in ("", "1", "fraction"):
            return value
        raise UnitError(f"oxidation_rate is a fraction or a percentage, not {unit!r}")
    numerator, slash, denominator = unit.partition("/")
    if not slash:
        raise UnitError(f"{prop} is a ratio ({EXAMPLE_UNITS[prop]}), not {unit!r}")
    numerator, denominator = numerator.strip(), denominator.strip()
    if prop == "ncv":
        return (
            value * conversion_factor(numerator, "GJ") * conversion_factor(basis_unit, denominator)
        )
    if prop == "tce":
        return (
            value
            * conversion_factor(numerator, "kgce")
            * conversion_factor(basis_unit, denominator)
        )
    if prop == "carbon_content":
        if not numerator.endswith("C"):
            raise UnitError(f"carbon_content is a mass of carbon per heat (tC/GJ), not {unit!r}")
        mass = numerator.removesuffix("C")
        return value * conversion_factor(mass, "t") * conversion_factor("GJ", denominator)
    raise UnitError(f"unknown fuel property {prop!r}: one of {', '.join(PROPERTIES)}")


def library_defaults(library: FactorLibrary, activity_type: str) -> dict[str, float]:
    """The factor library's NCV (GJ per basis unit), carbon content and oxidation rate of a
    combustion type."""
    at = library.type_rows[activity_type]
    fuel = library.fuel_rows[str(at["emission_key"])]
    ncv_unit = str(fuel["ncv_unit"]).removeprefix("GJ/")
    return {
        "ncv": float(fuel["ncv"]) * conversion_factor(str(at["basis_unit"]), ncv_unit),
        "carbon_content": float(fuel["carbon_content"]),
        "oxidation_rate": float(fuel["oxidation_rate"]),
    }


def library_tce(library: FactorLibrary, activity_type: str) -> list[float]:
    """The library's standard-coal coefficients of a fuel in kgce per basis unit (every
    variant: natural gas has a range)."""
    at = library.type_rows[activity_type]
    rows = library.tce[library.tce["key"] == at["energy_key"]]
    out = []
    for value, unit in zip(rows["value"], rows["unit"], strict=True):
        per, _, denominator = str(unit).partition("/")
        out.append(
            float(value)
            * conversion_factor(per, "kgce")
            * conversion_factor(str(at["basis_unit"]), denominator)
        )
    return out


@dataclass(frozen=True, slots=True)
class Measured:
    """One stored property as the calculation uses it."""

    row_id: int
    value: float  # in the canonical unit
    entered: str  # the value and unit as entered
    source: str
    entity_id: str | None
    year: int | None

    @property
    def scope(self) -> str:
        who = self.entity_id or "group"
        return f"{who} {'every year' if self.year is None else self.year}"


class FuelProperties:
    """The measured properties of a ledger, looked up by fuel, entity and year."""

    def __init__(self, frame: pd.DataFrame | None, library: FactorLibrary) -> None:
        self._rows: dict[tuple[str, str, str | None, int | None], Measured] = {}
        self._entity_rows: set[tuple[str, str, int | None]] = set()
        if frame is None or frame.empty:
            return
        for row in frame.to_dict("records"):
            self._add(row, library)

    def _add(self, row: Mapping[Any, Any], library: FactorLibrary) -> None:
        name = str(row["activity_type"])
        basis = str(library.type_rows[name]["basis_unit"])
        entity = None if blank(row["entity_id"]) else str(row["entity_id"])
        year = None if blank(row["year"]) else int(row["year"])
        value = canonical(str(row["property"]), float(row["value"]), str(row["unit"]), basis)
        text = row.get("value_text")
        entered = text if isinstance(text, str) and text else format(row["value"], "g")
        self._rows[(name, str(row["property"]), entity, year)] = Measured(
            int(row["id"]),
            value,
            f"{entered} {row['unit']}",
            str(row["source"]),
            entity,
            year,
        )
        if entity is not None:
            self._entity_rows.add((name, entity, year))

    def __bool__(self) -> bool:
        return bool(self._rows)

    def entity_keys(self) -> list[tuple[str, str, int | None]]:
        """(activity type, entity, year or None) of every entity-specific row."""
        return sorted(self._entity_rows, key=lambda k: (k[0], k[1], k[2] or 0))

    def get(
        self, activity_type: str, entity_id: str | None, year: int, prop: str
    ) -> Measured | None:
        """The most specific stored value of a property (None: the library's default)."""
        order: list[tuple[str | None, int | None]] = [(None, year), (None, None)]
        if entity_id is not None:
            order = [(entity_id, year), (entity_id, None), *order]
        for entity, when in order:
            found = self._rows.get((activity_type, prop, entity, when))
            if found is not None:
                return found
        return None

    def specificity(self, found: Measured) -> int:
        return (2 if found.entity_id is not None else 0) + (1 if found.year is not None else 0)

    def combustion(
        self, activity_type: str, entity_id: str | None, year: int, defaults: Mapping[str, float]
    ) -> tuple[dict[str, float], dict[str, Measured]]:
        """NCV, carbon content and oxidation rate of a fuel for an entity and year: the
        measured ones where stored, the defaults otherwise; and the measured rows used."""
        values = dict(defaults)
        used = {}
        for prop in ("ncv", "carbon_content", "oxidation_rate"):
            found = self.get(activity_type, entity_id, year, prop)
            if found is not None:
                values[prop] = found.value
                used[prop] = found
        return values, used

    def tce(
        self, activity_type: str, entity_id: str | None, year: int
    ) -> tuple[float, Measured] | None:
        """kgce per basis unit from a stated coefficient or a measured NCV (the more specific;
        the coefficient on a tie), None when neither is stored."""
        stated = self.get(activity_type, entity_id, year, "tce")
        ncv = self.get(activity_type, entity_id, year, "ncv")
        if stated is not None and (
            ncv is None or self.specificity(stated) >= self.specificity(ncv)
        ):
            return stated.value, stated
        if ncv is not None:
            return ncv.value * conversion_factor("GJ", "kgce"), ncv
        return None


def measured_id(used: list[Measured]) -> str:
    """The factor id of a calculation on measured properties: ``fuelprop:`` and the ids of the
    stored rows (``esgledger fuel list``)."""
    return "fuelprop:" + "+".join(str(m.row_id) for m in sorted(used, key=lambda m: m.row_id))
