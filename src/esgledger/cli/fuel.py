"""``esgledger fuel``: company-measured fuel properties (NCV, carbon content, oxidation rate,
standard-coal coefficient) per fuel, entity and year (:mod:`esgledger.usecases.fuel_properties`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from esgledger.cli.admin import (
    ActorOption,
    _change,
    _print,
    import_upload,
    write_export,
)
from esgledger.cli.app import DEFAULT_LEDGER, LedgerOption, _open, console

fuel_app = typer.Typer(
    help="Company-measured fuel properties (NCV, carbon content, oxidation rate, tce "
    "coefficient) per fuel, entity and year.",
    no_args_is_help=True,
)

EntityOption = Annotated[
    str | None, typer.Option("--entity", help="the entity measured (default: the group)")
]
YearOption = Annotated[int | None, typer.Option("--year", help="the year (default: every year)")]


@fuel_app.command("set")
def fuel_set(
    activity_type: Annotated[
        str, typer.Argument(help="the fuel, e.g. raw_coal, diesel_stationary")
    ],
    prop: Annotated[
        str, typer.Argument(metavar="PROPERTY", help="ncv, carbon_content, oxidation_rate or tce")
    ],
    value: Annotated[str, typer.Argument(help="the value as measured")],
    unit: Annotated[str, typer.Argument(help="e.g. GJ/t, kJ/kg, tC/GJ, %, kgce/kg")],
    source: Annotated[str, typer.Option(help="where the value comes from (lab report...)")],
    entity: EntityOption = None,
    year: YearOption = None,
    ledger: LedgerOption = DEFAULT_LEDGER,
    actor: ActorOption = "cli",
) -> None:
    """Set a measured property, e.g. raw_coal ncv 21.5 GJ/t --entity F01 --year 2024."""
    from esgledger.usecases.fuel_properties import set_fuel_property

    cells = {
        "activity_type": activity_type,
        "property": prop,
        "value": value,
        "unit": unit,
        "entity_id": entity or "",
        "year": "" if year is None else str(year),
        "source": source,
    }
    engine = _open(ledger).engine
    change = _change(
        f"fuel set {activity_type} {prop}", lambda who: set_fuel_property(engine, who, cells), actor
    )
    said = "stored" if change.seq is not None else "unchanged (the same value is stored)"
    console.print(f"fuel property {change.object_id} {said}", markup=False)


@fuel_app.command("remove")
def fuel_remove(
    activity_type: str,
    prop: Annotated[str, typer.Argument(metavar="PROPERTY")],
    entity: EntityOption = None,
    year: YearOption = None,
    ledger: LedgerOption = DEFAULT_LEDGER,
    actor: ActorOption = "cli",
) -> None:
    """Remove a measured property: the library's default applies again."""
    from esgledger.usecases.fuel_properties import remove_fuel_property

    key = {"activity_type": activity_type, "entity_id": entity, "year": year, "property": prop}
    engine = _open(ledger).engine
    change = _change(
        f"fuel remove {activity_type} {prop}",
        lambda who: remove_fuel_property(engine, who, key),
        actor,
    )
    console.print(f"fuel property {change.object_id} removed", markup=False)


@fuel_app.command("list")
def fuel_list(ledger: LedgerOption = DEFAULT_LEDGER) -> None:
    """The measured properties stored, with their ids (the ``fuelprop:`` ids of the lines)."""
    frame = _open(ledger).fuel_properties()
    if frame.empty:
        console.print("no measured fuel property: the library's defaults apply", markup=False)
        return
    columns = ["id", "activity_type", "property", "value_text", "unit", "entity_id", "year"]
    _print(frame[[*columns, "source"]].rename(columns={"value_text": "value"}), "fuel properties")


@fuel_app.command("import")
def fuel_import(
    file: Annotated[Path, typer.Argument(help="CSV (UTF-8) with the columns of `export`")],
    ledger: LedgerOption = DEFAULT_LEDGER,
    actor: ActorOption = "cli",
) -> None:
    """Set every row of a fuel-properties file: all or nothing, every problem located."""
    from esgledger.usecases.fuel_properties import import_fuel_properties

    done = import_upload("fuel import", file, ledger, actor, import_fuel_properties)
    console.print(f"{done.count} fuel properties read, {len(done.changes)} changed", markup=False)


@fuel_app.command("export")
def fuel_export(
    out: Annotated[Path, typer.Argument(help="CSV file to write")],
    ledger: LedgerOption = DEFAULT_LEDGER,
    actor: ActorOption = "cli",
) -> None:
    """Write the measured properties as a fuel-properties file (the values as entered)."""
    from esgledger.usecases.fuel_properties import fuel_properties_csv

    store = _open(ledger)
    text = fuel_properties_csv(store.fuel_properties().to_dict("records"))
    write_export(store.engine, actor, "fuel_properties", text, out, "fuel properties")


def register(app: typer.Typer) -> None:
    app.add_typer(fuel_app, name="fuel")
