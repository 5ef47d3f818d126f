"""Company-measured fuel properties: entered one at a time or from a file, all or nothing.

A row names a fuel (a combustion activity type), a property (``ncv``, ``carbon_content``,
``oxidation_rate``, ``tce``), its value and unit as measured, the entity it was measured for
(blank: the group) and the year (blank: every year), and its source (a laboratory report, the
supplier's certificate). Every row is checked before anything is written, with the same rule
for the CLI, a file and a test (:func:`check_row`):

* the fuel is a known combustion type and the property one of the four;
* the unit is of the property's kind (an NCV is heat per quantity, a carbon content carbon
  per heat, an oxidation rate a fraction or a percentage, a tce coefficient standard coal per
  quantity) and the value a positive number;
* the value, converted, lies within 0.5-2 times the library's default of the fuel
  (:data:`esgledger.factors.fuel_properties.PLAUSIBLE`); an oxidation rate within (0, 1]:
  outside, it is a unit slip, not a measurement;
* the entity exists, the year is a year, the source is given.

The change of a property alters the figures of its year (every year with data when it has
none): refused when one of them is locked. Each row written has its audit entry (the cells
before and after), in the transaction that writes it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from esgledger.auth.accounts import Principal
from esgledger.domain.diagnostics import Diagnostic
from esgledger.domain.errors import Invalid, Rejected
from esgledger.factors import load_library
from esgledger.factors.fuel_properties import (
    EXAMPLE_UNITS,
    PLAUSIBLE,
    PROPERTIES,
    canonical,
    library_defaults,
    library_tce,
)
from esgledger.factors.library import FactorLibrary
from esgledger.store import ledger as records
from esgledger.store import reference as stored
from esgledger.store.engine import LedgerConnection as Connection
from esgledger.store.engine import LedgerEngine as Engine
from esgledger.store.engine import entity_ids, write_transaction
from esgledger.tables import blank
from esgledger.units import UnitError
from esgledger.usecases.csv_files import positive_number, read_rows
from esgledger.usecases.reference import (
    EVERY_YEAR,
    ITS_YEAR,
    Change,
    _apply,
    _Plan,
    require_group_editor,
)

COLUMNS = ("activity_type", "property", "value", "unit", "entity_id", "year", "source")
"""The columns of a fuel-properties file, in the order an export writes them."""
REQUIRED = ("activity_type", "property", "value", "unit", "source")


class FuelPropertiesRejected(Rejected):
    """A fuel-properties file with problems: nothing of it was written."""

    def __init__(self, problems: Sequence[Diagnostic]) -> None:
        super().__init__("fuel properties", problems)


@dataclass(frozen=True, slots=True)
class FuelImport:
    """What an import wrote: the rows read and the changes made (unchanged rows: none)."""

    count: int
    changes: tuple[Change, ...]


def _plausible(library: FactorLibrary, name: str, prop: str, value: float, unit: str) -> str | None:
    """Why a converted value cannot be a measurement of the fuel (None: it can)."""
    basis = str(library.type_rows[name]["basis_unit"])
    if prop == "oxidation_rate":
        return None if 0 < value <= 1 else f"oxidation_rate {value:g} is not within (0, 1]"
    defaults = (
        library_tce(library, name) if prop == "tce" else [library_defaults(library, name)[prop]]
    )
    if not defaults:
        return None
    low, high = min(defaults) * PLAUSIBLE[0], max(defaults) * PLAUSIBLE[1]
    if low <= value <= high:
        return None
    shown = {"ncv": f"GJ/{basis}", "carbon_content": "tC/GJ", "tce": f"kgce/{basis}"}[prop]
    return (
        f"{prop} {value:g} {shown} (as entered in {unit}) is outside {low:g}-{high:g} {shown}, "
        f"{PLAUSIBLE[0]:g}-{PLAUSIBLE[1]:g} times the library's default of {name}: check the unit"
    )


def _check_fuel(library: FactorLibrary, name: str) -> str | None:
    if name not in library.known_activity_types():
        return f"unknown activity type {name!r}"
    if library.type_rows[name]["method"] != "combustion":
        fuels = sorted(k for k, r in library.type_rows.items() if r["method"] == "combustion")
        return f"{name} is not a fuel burnt: fuel properties apply to {', '.join(fuels)}"
    return None


def check_row(
    cells: Mapping[str, str], library: FactorLibrary, entities: Iterable[str]
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The row to store (key, value, value as entered, unit, source) and its problems as
    (column, message); nothing to store when there is a problem."""
    text = {c: str(cells.get(c) or "").strip() for c in COLUMNS}
    problems = [(c, f"{c} is empty") for c in REQUIRED if not text[c]]
    name, prop = text["activity_type"], text["property"]
    if name and (found := _check_fuel(library, name)):
        problems.append(("activity_type", found))
    if prop and prop not in PROPERTIES:
        problems.append(("property", f"unknown property {prop!r}: one of {', '.join(PROPERTIES)}"))
    value = positive_number(text["value"]) if text["value"] else None
    if text["value"] and value is None:
        problems.append(("value", f"value {text['value']!r} is not a positive number"))
    entity = text["entity_id"] or None
    if entity is not None and entity not in set(entities):
        problems.append(("entity_id", f"unknown entity {entity!r} (esgledger entities list)"))
    year = int(text["year"]) if text["year"].isdigit() and len(text["year"]) == 4 else None
    if text["year"] and year is None:
        problems.append(("year", f"year {text['year']!r} is not a year (YYYY); blank: every year"))
    if problems or value is None:
        return {}, problems
    basis = str(library.type_rows[name]["basis_unit"])
    try:
        converted = canonical(prop, value, text["unit"], basis)
    except UnitError as exc:
        return {}, [("unit", f"unit {text['unit']!r}: {exc} (e.g. {EXAMPLE_UNITS[prop]})")]
    if why := _plausible(library, name, prop, converted, text["unit"]):
        return {}, [("value", why)]
    row = {
        "activity_type": name,
        "entity_id": entity,
        "year": year,
        "property": prop,
        "value": value,
        "value_text": text["value"],
        "unit": text["unit"],
        "source": text["source"],
    }
    return row, []


def _object_id(key: Mapping[str, Any]) -> str:
    """``diesel_stationary.ncv@E01@2024`` (``group``, ``all``: blank entity, year)."""
    year = "all" if key["year"] is None else key["year"]
    return f"{key['activity_type']}.{key['property']}@{key['entity_id'] or 'group'}@{year}"


def _write(conn: Connection, who: Principal, row: Mapping[str, Any]) -> Change:
    key = {k: row[k] for k in stored.FUEL_PROPERTY_KEY}
    before = stored.fuel_property_row(conn, key)
    after = {k: row[k] for k in stored.FUEL_PROPERTY_SHOWN}
    year = row["year"]
    where = f"{row['entity_id'] or 'group'} {'every year' if year is None else year}"
    plan = _Plan(
        what=f"fuel property {row['activity_type']} {row['property']} ({where})",
        why=EVERY_YEAR if year is None else ITS_YEAR.format(year=year),
        action="set",
        object_type="fuel_property",
        object_id=_object_id(row),
        before=before,
        after=after,
        years=records.data_years(conn) if year is None else frozenset({int(year)}),
    )
    fields = {**row, "entered_by": who.username}
    return _apply(conn, who, plan, lambda: stored.write_fuel_property(conn, **fields))


def set_fuel_property(engine: Engine, who: Principal, cells: Mapping[str, str]) -> Change:
    """Set (or replace) one measured property (cells by :data:`COLUMNS`)."""
    library = load_library()
    with write_transaction(engine) as conn:
        require_group_editor(conn, who, "a fuel property")
        row, problems = check_row(cells, library, entity_ids(conn))
        if problems:
            raise Invalid("; ".join(f"{column}: {message}" for column, message in problems))
        return _write(conn, who, row)


def import_fuel_properties(engine: Engine, who: Principal, text: str, name: str) -> FuelImport:
    """Set every row of a fuel-properties CSV, all or nothing; every problem located
    ``file:row:column`` (:class:`FuelPropertiesRejected`)."""
    library = load_library()
    lines, problems = read_rows(text, name, COLUMNS, REQUIRED, "fuel-property")
    if problems:
        raise FuelPropertiesRejected(problems)
    with write_transaction(engine) as conn:
        require_group_editor(conn, who, "the fuel properties")
        entities = entity_ids(conn)
        rows: list[dict[str, Any]] = []
        seen: dict[tuple[Any, ...], int] = {}
        for number, cells in lines:
            row, found = check_row(cells, library, entities)
            problems += [
                Diagnostic("fuel-property", m, file=name, row=number, column=c) for c, m in found
            ]
            if row:
                key = tuple(row[k] for k in stored.FUEL_PROPERTY_KEY)
                if key in seen:
                    problems.append(
                        Diagnostic(
                            "fuel-property",
                            f"the same fuel, property, entity and year as row {seen[key]}",
                            file=name,
                            row=number,
                        )
                    )
                seen[key] = number
                rows.append(row)
        if problems:
            raise FuelPropertiesRejected(problems)
        changes = [_write(conn, who, row) for row in rows]
    return FuelImport(len(rows), tuple(c for c in changes if c.seq is not None))


def remove_fuel_property(engine: Engine, who: Principal, key: Mapping[str, Any]) -> Change:
    """Remove one stored property (the library's default applies again)."""
    with write_transaction(engine) as conn:
        require_group_editor(conn, who, "a fuel property")
        found = dict(key)
        before = stored.fuel_property_row(conn, found)
        if before is None:
            raise Invalid(
                f"no fuel property {found['activity_type']} {found['property']} "
                f"for {found['entity_id'] or 'the group'} "
                f"{'every year' if found['year'] is None else found['year']}"
            )
        year = found["year"]
        plan = _Plan(
            what=f"removing fuel property {found['activity_type']} {found['property']}",
            why=EVERY_YEAR if year is None else ITS_YEAR.format(year=year),
            action="delete",
            object_type="fuel_property",
            object_id=_object_id(found),
            before=before,
            after={},
            years=records.data_years(conn) if year is None else frozenset({int(year)}),
        )
        return _apply(conn, who, plan, lambda: stored.delete_fuel_property(conn, found))


def fuel_properties_csv(rows: Iterable[Mapping[str, Any]]) -> str:
    """The stored properties as a fuel-properties file (the values as entered)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow(
            [
                row["activity_type"],
                row["property"],
                row["value_text"],
                row["unit"],
                "" if blank(row["entity_id"]) else row["entity_id"],
                "" if blank(row["year"]) else int(row["year"]),
                row["source"],
            ]
        )
    return out.getvalue()
