"""Ledger administration commands: entities, parameters, settings, overrides, context, base year."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.table import Table

from esgledger.calc.workforce import TURNOVER_BASES
from esgledger.cli.app import DEFAULT_LEDGER, LedgerOption, _open, console, errors
from esgledger.domain.model import StructuralChange

SETTINGS = {
    "gwp_set": "AR4, AR5 or AR6",
    "approach": "operational_control, financial_control or equity_share",
    "grid_level": "province, region or national: finest grid-factor geography tried first",
    "factor_as_of": "YYYY-MM-DD: only factors published by then are used (empty: latest)",
    "natural_gas_tce": "high (1.33), low (1.10), gasfield_2008 (1.2143) or oilfield_2008",
    "ch4_convention": "split (AR6 27.0 for combustion CH4) or generic (AR6 27.9)",
    "scope2_total_basis": "location or market: which scope 2 enters the total",
    "turnover_basis": "closing (GRI 401-1), average or closing_plus_leavers: turnover denominator",
    "base_year": "base year of the inventory (YYYY)",
    "base_year_threshold": "significance threshold of base-year recalculation (0.05 = 5 %)",
}

entities_app = typer.Typer(help="The organisation tree.", no_args_is_help=True)
parameter_app = typer.Typer(
    help="Year-keyed calculation parameters (densities, fx rates, 等价值).", no_args_is_help=True
)
setting_app = typer.Typer(help="Inventory settings stored in the ledger.", no_args_is_help=True)
override_app = typer.Typer(
    help="User factor overrides with their own provenance.", no_args_is_help=True
)
context_app = typer.Typer(
    help="Revenue, headcount and other denominators of intensities.", no_args_is_help=True
)
baseyear_app = typer.Typer(
    help="Structural changes and the base-year decision.", no_args_is_help=True
)


def _print(frame: pd.DataFrame, title: str) -> None:
    table = Table(title=title)
    for column in frame.columns:
        table.add_column(str(column))
    for row in frame.itertuples(index=False):
        table.add_row(*["" if pd.isna(v) else str(v) for v in row])
    console.print(table)


@entities_app.command("list")
def entities_list(ledger: LedgerOption = DEFAULT_LEDGER) -> None:
    """List the entities with their consolidation shares."""
    store = _open(ledger)
    org = store.organisation()
    rows = [
        {
            "entity_id": e.entity_id,
            "name": e.name,
            "parent": e.parent_id or "",
            "equity": e.equity_share,
            "op_control": e.operational_control,
            "fin_control": e.financial_control,
            "region": e.region or "",
        }
        for e in org
    ]
    _print(pd.DataFrame(rows), f"{len(rows)} entities")


@entities_app.command("import")
def entities_import(file: Path, ledger: LedgerOption = DEFAULT_LEDGER) -> None:
    """Add or update entities from a CSV (columns as in docs/user-guide.md)."""
    from esgledger.ingest.entities import read_entities

    store = _open(ledger)
    found, problems = read_entities(file, store.organisation())
    for d in problems:
        errors.print(str(d), highlight=False)
    if problems:
        raise typer.Exit(1)
    store.upsert_entities(found)
    console.print(f"{len(found)} entities stored")


@parameter_app.command("set")
def parameter_set(
    name: str,
    value: float,
    unit: str,
    source: Annotated[str, typer.Option(help="where the value comes from")],
    year: Annotated[int | None, typer.Option(help="year (default: all)")] = None,
    ledger: LedgerOption = DEFAULT_LEDGER,
) -> None:
    """Set a parameter, e.g. density.gasoline 0.73 kg/L or fx.CNY_per_USD 7.1 CNY/USD."""
    _open(ledger).set_parameter(name, year, value, unit, source)
    console.print(f"{name} = {value} {unit} ({'all years' if year is None else year})")


@parameter_app.command("list")
def parameter_list(ledger: LedgerOption = DEFAULT_LEDGER) -> None:
    """List the parameters."""
    _print(_open(ledger).parameters(), "parameters")


@setting_app.command("set")
def setting_set(key: str, value: str, ledger: LedgerOption = DEFAULT_LEDGER) -> None:
    """Set an inventory setting (see `esgledger setting list`)."""
    if key not in SETTINGS:
        errors.print(f"unknown setting {key!r}; known: {', '.join(SETTINGS)}")
        raise typer.Exit(2)
    from esgledger.factors import load_library
    from esgledger.service import settings_from_ledger

    store = _open(ledger)
    before = store.get_setting(key)
    store.set_setting(key, value)
    try:
        problems = [str(p) for p in settings_from_ledger(store).validate(load_library())]
    except ValueError as exc:
        problems = [str(exc)]
    if key == "turnover_basis" and value not in TURNOVER_BASES:
        problems.append(f"turnover_basis must be one of {', '.join(TURNOVER_BASES)}")
    if problems:
        if before is None:
            store.delete_setting(key)
        else:
            store.set_setting(key, before)
        errors.print(f"{key} = {value!r} refused: {'; '.join(problems)}")
        raise typer.Exit(2)
    console.print(f"{key} = {value}")


@setting_app.command("list")
def setting_list(ledger: LedgerOption = DEFAULT_LEDGER) -> None:
    """List the settings, their values and what they mean."""
    stored = _open(ledger).settings()
    frame = pd.DataFrame(
        [{"key": k, "value": stored.get(k, "(default)"), "meaning": v} for k, v in SETTINGS.items()]
    )
    _print(frame, "settings")


@override_app.command("add")
def override_add(
    activity_type: str,
    gas: str,
    value: float,
    unit: str,
    source: Annotated[str, typer.Option(help="provenance of the factor")],
    region: Annotated[str | None, typer.Option(help="region code")] = None,
    year: Annotated[int | None, typer.Option(help="year")] = None,
    user: Annotated[str | None, typer.Option(help="who enters it")] = None,
    ledger: LedgerOption = DEFAULT_LEDGER,
) -> None:
    """Add a factor override, e.g. electricity CO2 0.42 kgCO2/kWh --region CN-HK."""
    from esgledger.factors import load_library
    from esgledger.factors.library import ef_to_tonnes_per
    from esgledger.units import UnitError

    library = load_library()
    if activity_type not in library.known_activity_types():
        errors.print(f"unknown activity type {activity_type!r}")
        raise typer.Exit(2)
    try:
        ef_to_tonnes_per(unit, str(library.activity_types.at[activity_type, "basis_unit"]))
    except UnitError as exc:
        errors.print(f"unit {unit!r}: {exc}")
        raise typer.Exit(2) from exc
    oid = _open(ledger).add_override(activity_type, region, year, gas, value, unit, source, user)
    console.print(f"override {oid} stored")


@override_app.command("list")
def override_list(ledger: LedgerOption = DEFAULT_LEDGER) -> None:
    """List the factor overrides."""
    _print(_open(ledger).overrides(), "factor overrides")


@context_app.command("set")
def context_set(
    entity_id: str,
    year: int,
    metric: str,
    value: float,
    unit: str,
    source: Annotated[str, typer.Option(help="where the figure comes from")],
    ledger: LedgerOption = DEFAULT_LEDGER,
) -> None:
    """Set a denominator, e.g. G00 2024 revenue 313.16 亿元 or G00 2024 employees 90759 person."""
    _open(ledger).set_context(entity_id, year, metric, value, unit, source)
    console.print(f"{entity_id} {year} {metric} = {value} {unit}")


@context_app.command("list")
def context_list(ledger: LedgerOption = DEFAULT_LEDGER) -> None:
    """List the context figures."""
    _print(_open(ledger).context_frame(), "context")


@baseyear_app.command("add-change")
def baseyear_add_change(
    change_id: str,
    year: int,
    kind: str,
    description: str,
    impact: Annotated[
        float | None, typer.Option(help="base-year emissions moved by the change, tCO2e")
    ] = None,
    entity: Annotated[str | None, typer.Option()] = None,
    ledger: LedgerOption = DEFAULT_LEDGER,
) -> None:
    """Record a structural or methodology change (acquisition, divestment, methodology...)."""
    _open(ledger).add_structural_change(
        StructuralChange(change_id, year, kind, description, entity, impact)
    )
    console.print(f"change {change_id} recorded")


@baseyear_app.command("show")
def baseyear_show(ledger: LedgerOption = DEFAULT_LEDGER) -> None:
    """Assess the recorded changes against the base year and print the decision."""
    from esgledger.service import base_year_decision, run_inventory, settings_from_ledger

    store = _open(ledger)
    result = run_inventory(store, settings_from_ledger(store))
    decision = base_year_decision(store, result)
    if decision is None:
        errors.print("no base_year setting, or no emissions in the base year")
        raise typer.Exit(1)
    console.print(
        f"base year {decision.base_year}: {decision.original_total:,.2f} tCO2e; "
        f"action {decision.action} -> {decision.new_base_year}"
    )
    if decision.recalculated_total is not None:
        console.print(f"recalculated base-year total {decision.recalculated_total:,.2f} tCO2e")
    console.print(decision.reason)


roster_app = typer.Typer(help="Anonymised employee rosters (workforce KPIs).", no_args_is_help=True)


@roster_app.command("import")
def roster_import(
    file: Path,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="date the roster describes (YYYY-MM-DD; default today)"),
    ] = None,
    user: Annotated[str | None, typer.Option(help="who imports")] = None,
    ledger: LedgerOption = DEFAULT_LEDGER,
) -> None:
    """Validate a roster (CSV or XLSX sheet roster) and store it as a new snapshot."""
    import hashlib
    from datetime import date

    from esgledger.ingest.roster import read_roster

    store = _open(ledger)
    day = date.fromisoformat(as_of) if as_of else date.today()
    frame, problems = read_roster(file, store.organisation().ids(), day)
    for d in problems:
        errors.print(str(d), markup=False, highlight=False)
    if frame is None:
        console.print(f"{file.name}: nothing imported")
        raise typer.Exit(1)
    sha = hashlib.sha256(file.read_bytes()).hexdigest()
    earlier = store.has_batch(sha)
    if earlier is not None:
        console.print(f"{file.name}: already imported (batch {earlier}); nothing added")
        return
    batch = store.write_roster(file.name, sha, frame, user)
    console.print(f"{file.name}: {len(frame)} employees stored as roster batch {batch}")


def register(app: typer.Typer) -> None:
    app.add_typer(entities_app, name="entities")
    app.add_typer(parameter_app, name="parameter")
    app.add_typer(setting_app, name="setting")
    app.add_typer(override_app, name="override")
    app.add_typer(context_app, name="context")
    app.add_typer(baseyear_app, name="baseyear")
    app.add_typer(roster_app, name="roster")
