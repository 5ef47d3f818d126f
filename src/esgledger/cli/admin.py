"""Ledger administration commands: entities, parameters, settings, overrides, context, base year.

Every change goes through :mod:`esgledger.usecases.reference` as the operator (``--actor``,
default ``cli``): refused when it would alter a locked year's figures, written with its audit
entry in one transaction."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import pandas as pd
import typer
from rich.table import Table

from esgledger.cli.app import DEFAULT_LEDGER, LedgerOption, _open, console, errors
from esgledger.domain.model import StructuralChange
from esgledger.usecases.reference import SETTINGS

if TYPE_CHECKING:
    from esgledger.auth.accounts import Principal

T = TypeVar("T")

ActorOption = Annotated[str, typer.Option("--actor", help="who makes the change (audit log)")]

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


def _change(what: str, call: Callable[[Principal], T], actor: str) -> T:
    """Run a reference change as the operator ``actor``: a refusal is printed, exit 2 for
    input that is wrong, 1 for a change refused (a locked period, no permission)."""
    from esgledger.auth.accounts import operator
    from esgledger.domain.errors import Invalid, WorkflowError

    try:
        return call(operator(actor))
    except WorkflowError as exc:
        errors.print(f"{what}: {exc}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(2 if isinstance(exc, Invalid) else 1) from exc


def read_upload(file: Path) -> str:
    """The text of a file a user gives (UTF-8, within the upload size limit); its problem
    printed and exit 2 when it cannot be read."""
    from esgledger.ingest.limits import UPLOAD
    from esgledger.ingest.reader import ReadError, check_file_size

    try:
        check_file_size(file, UPLOAD)
        return file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError, ReadError) as exc:
        errors.print(f"{file}: cannot read: {exc}", markup=False, highlight=False)
        raise typer.Exit(2) from exc


def import_upload(
    command: str,
    file: Path,
    ledger: str,
    actor: str,
    use_case: Callable[[Any, Principal, str, str], T],
) -> T:
    """``esgledger COMMAND FILE``: the file read (:func:`read_upload`) and the import use case
    run on the ledger as the operator ``actor`` with its text and name (:func:`_change`)."""
    text = read_upload(file)
    engine = _open(ledger).engine
    return _change(
        f"{command} {file.name}", lambda who: use_case(engine, who, text, file.name), actor
    )


def print_replaced(done: Any, noun: str, described: str) -> None:
    """What an import that replaces a table of rows did (``done``: ``count``, ``seq`` and the
    ids ``added``, ``changed``, ``removed``): "N <noun>: the same ..." when nothing was
    written, else "N <described> (a new, c changed, r removed)"."""
    if done.seq is None:
        console.print(f"{done.count} {noun}: the same as the ledger's, nothing changed")
        return
    console.print(
        f"{done.count} {described} ({len(done.added)} new, {len(done.changed)} changed, "
        f"{len(done.removed)} removed)",
        markup=False,
    )


def write_export(
    engine: Any,
    actor: str,
    object_type: str,
    text: str,
    out: Path,
    what: str,
    object_id: str = "all",
) -> None:
    """Write a CSV export to ``out`` with its audit entry (rows and SHA-256) as ``actor``."""
    from esgledger.auth.accounts import operator
    from esgledger.usecases.exports import record_export

    content = text.encode("utf-8")
    rows = text.count("\n") - 1
    record_export(engine, operator(actor), object_type, object_id, content, fmt="csv", rows=rows)
    out.write_bytes(content)
    console.print(f"{rows} {what} written to {out}", markup=False)


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
def entities_import(
    file: Path, ledger: LedgerOption = DEFAULT_LEDGER, actor: ActorOption = "cli"
) -> None:
    """Add or update entities from a CSV (columns as in docs/user-guide.md)."""
    from esgledger.ingest.entities import read_entities
    from esgledger.usecases import reference

    store = _open(ledger)
    found, problems = read_entities(file, store.organisation())
    for d in problems:
        errors.print(str(d), highlight=False)
    if problems:
        raise typer.Exit(1)
    changes = _change(
        f"entities import {file.name}",
        lambda who: reference.import_entities(store.engine, who, found),
        actor,
    )
    changed = sum(c.seq is not None for c in changes)
    console.print(f"{len(found)} entities stored ({changed} added or changed)")


@parameter_app.command("set")
def parameter_set(
    name: str,
    value: float,
    unit: str,
    source: Annotated[str, typer.Option(help="where the value comes from")],
    year: Annotated[int | None, typer.Option(help="year (default: all)")] = None,
    ledger: LedgerOption = DEFAULT_LEDGER,
    actor: ActorOption = "cli",
) -> None:
    """Set a parameter, e.g. density.gasoline 0.73 kg/L or fx.CNY_per_USD 7.1 CNY/USD."""
    from esgledger.usecases import reference

    engine = _open(ledger).engine
    _change(
        f"parameter set {name}",
        lambda who: reference.set_parameter(engine, who, name, year, value, unit, source),
        actor,
    )
    console.print(f"{name} = {value} {unit} ({'all years' if year is None else year})")


@parameter_app.command("list")
def parameter_list(ledger: LedgerOption = DEFAULT_LEDGER) -> None:
    """List the parameters."""
    _print(_open(ledger).parameters(), "parameters")


@setting_app.command("set")
def setting_set(
    key: str, value: str, ledger: LedgerOption = DEFAULT_LEDGER, actor: ActorOption = "cli"
) -> None:
    """Set an inventory setting (see `esgledger setting list`)."""
    from esgledger.usecases import reference

    engine = _open(ledger).engine
    _change(
        f"setting set {key}",
        lambda who: reference.set_setting(engine, who, key, value),
        actor,
    )
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
    user: Annotated[str | None, typer.Option(help="who enters it (default: --actor)")] = None,
    ledger: LedgerOption = DEFAULT_LEDGER,
    actor: ActorOption = "cli",
) -> None:
    """Add a factor override, e.g. electricity CO2 0.42 kgCO2/kWh --region CN-HK."""
    from esgledger.usecases import reference

    engine = _open(ledger).engine
    change = _change(
        f"override add {activity_type} {gas}",
        lambda who: reference.add_override(
            engine,
            who,
            activity_type,
            gas,
            value,
            unit,
            source,
            region=region,
            year=year,
            entered_by=user,
        ),
        actor,
    )
    console.print(f"override {change.object_id} stored")


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
    actor: ActorOption = "cli",
) -> None:
    """Set a denominator, e.g. G00 2024 revenue 313.16 亿元 or G00 2024 employees 90759 person."""
    from esgledger.usecases import reference

    engine = _open(ledger).engine
    _change(
        f"context set {entity_id} {year} {metric}",
        lambda who: reference.set_context(
            engine, who, entity_id, year, metric, value, unit, source
        ),
        actor,
    )
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
    actor: ActorOption = "cli",
) -> None:
    """Record a structural or methodology change (acquisition, divestment, methodology...)."""
    from esgledger.usecases import reference

    engine = _open(ledger).engine
    change = StructuralChange(change_id, year, kind, description, entity, impact)
    _change(
        f"baseyear add-change {change_id}",
        lambda who: reference.add_structural_change(engine, who, change),
        actor,
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
