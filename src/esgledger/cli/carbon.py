"""Commands of the carbon ledger: ``carbon post-emissions`` (verified emissions from the
inventory), ``carbon record`` (allocations, trades, surrenders, adjustments), ``carbon
postings``, ``carbon position`` and ``carbon verify`` (the hash chain against the audit log).

The command line acts as the ledger's operator, named by ``--actor`` in the audit log."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

import typer

from esgledger.cli.app import DEFAULT_LEDGER, LedgerOption, _emit, _open, console, errors

carbon_app = typer.Typer(
    help="The carbon ledger: verified emissions, allowances (CEA) and offsets (CCER).",
    no_args_is_help=True,
)

ActorOption = Annotated[str, typer.Option("--actor", help="who makes the change (audit log)")]
EntityOption = Annotated[str, typer.Option("--entity", help="entity id")]
JsonOption = Annotated[bool, typer.Option("--json", help="JSON output")]
CsvOption = Annotated[bool, typer.Option("--csv", help="CSV output")]


class Kind(StrEnum):
    emissions = "emissions"
    adjustment = "adjustment"
    allocation = "allocation"
    purchase = "purchase"
    sale = "sale"
    surrender = "surrender"
    retire = "retire"


class Unit(StrEnum):
    CEA = "CEA"
    CCER = "CCER"
    tCO2e = "tCO2e"  # noqa: N815 - the unit as written


def register(app: typer.Typer) -> None:
    app.add_typer(carbon_app, name="carbon")


def _fail(message: str) -> typer.Exit:
    errors.print(message, markup=False, highlight=False, soft_wrap=True)
    return typer.Exit(1)


def _operator(actor: str) -> Any:
    from esgledger.auth.accounts import operator

    return operator(actor)


@carbon_app.command("post-emissions")
def carbon_post_emissions(
    entity: EntityOption,
    year: Annotated[int, typer.Option(help="compliance year", min=1901, max=2199)],
    scopes: Annotated[
        str, typer.Option(help="scopes covered, comma-separated: S1, S2L, S2M, S3")
    ] = "S1,S2L",
    ledger: LedgerOption = DEFAULT_LEDGER,
    actor: ActorOption = "cli",
) -> None:
    """Post an entity's inventory emissions of a year as its verified emissions."""
    from esgledger.usecases.carbon_ledger import post_inventory_emissions
    from esgledger.workflow.errors import WorkflowError

    chosen = tuple(s.strip() for s in scopes.split(",") if s.strip())
    try:
        seq = post_inventory_emissions(_open(ledger), _operator(actor), entity, year, chosen)
    except WorkflowError as exc:
        raise _fail(f"carbon post-emissions: {exc}") from exc
    console.print(f"posting {seq}: {entity} {year} {'+'.join(chosen)} emissions", markup=False)


@carbon_app.command("record")
def carbon_record(
    kind: Annotated[Kind, typer.Argument(help="what happened")],
    entity: EntityOption,
    quantity: Annotated[float, typer.Option(help="tonnes (an adjustment may be negative)")],
    unit: Annotated[Unit, typer.Option(help="CEA, CCER or tCO2e (emissions)")] = Unit.tCO2e,
    vintage: Annotated[int | None, typer.Option(help="the units' vintage")] = None,
    year: Annotated[
        int | None, typer.Option(help="compliance year (emissions, adjustment, surrender)")
    ] = None,
    price: Annotated[float | None, typer.Option(help="price in CNY per unit")] = None,
    reference: Annotated[str, typer.Option(help="trade, registry or verification reference")] = "",
    note: Annotated[str, typer.Option(help="why (required for an adjustment)")] = "",
    ledger: LedgerOption = DEFAULT_LEDGER,
    actor: ActorOption = "cli",
) -> None:
    """Record a posting: emissions or an adjustment, or an allocation, purchase, sale,
    surrender or retirement of allowances or offsets; refused when the rules forbid it."""
    from esgledger.usecases.carbon_ledger import post
    from esgledger.workflow.errors import WorkflowError

    try:
        seq = post(
            _open(ledger).engine,
            _operator(actor),
            entity,
            kind.value,
            quantity,
            unit_type=unit.value,
            vintage=vintage,
            compliance_year=year,
            price_cny=price,
            reference=reference,
            note=note,
        )
    except WorkflowError as exc:
        raise _fail(f"carbon record: {exc}") from exc
    console.print(f"posting {seq}: {kind.value} {quantity:,.2f} {unit.value}", markup=False)


@carbon_app.command("postings")
def carbon_postings(
    entity: Annotated[str | None, typer.Option("--entity", help="only this entity")] = None,
    ledger: LedgerOption = DEFAULT_LEDGER,
    as_json: JsonOption = False,
    as_csv: CsvOption = False,
) -> None:
    """List the postings, oldest first."""
    from esgledger.usecases.carbon_ledger import postings
    from esgledger.workflow.errors import WorkflowError

    try:
        frame = postings(_open(ledger).engine, _operator("cli"), entity)
    except WorkflowError as exc:
        raise _fail(f"carbon postings: {exc}") from exc
    columns = [
        "seq",
        "entity_id",
        "kind",
        "unit_type",
        "vintage",
        "compliance_year",
        "quantity",
        "price_cny",
        "lineage",
        "posted_by",
    ]
    _emit(frame[columns], as_json, as_csv, "carbon ledger", [])


@carbon_app.command("position")
def carbon_position(
    year: Annotated[int, typer.Option(help="compliance year", min=1901, max=2199)],
    entity: Annotated[str | None, typer.Option("--entity", help="only this entity")] = None,
    ledger: LedgerOption = DEFAULT_LEDGER,
    as_json: JsonOption = False,
    as_csv: CsvOption = False,
) -> None:
    """Per entity: verified emissions, units surrendered, the compliance gap and holdings."""
    from esgledger.usecases.carbon_ledger import positions, postings
    from esgledger.workflow.errors import WorkflowError

    store = _open(ledger)
    who = _operator("cli")
    try:
        listed = [entity] if entity else sorted(set(postings(store.engine, who)["entity_id"]))
        frame = positions(store.engine, who, listed, year)
    except WorkflowError as exc:
        raise _fail(f"carbon position: {exc}") from exc
    if frame.empty:
        raise _fail(f"carbon position: no postings for {year}")
    _emit(frame, as_json, as_csv, f"carbon position {year}", [])


@carbon_app.command("verify")
def carbon_verify(ledger: LedgerOption = DEFAULT_LEDGER) -> None:
    """Recompute the postings' hash chain and compare it with the audit log; exit 1 on any
    problem."""
    from esgledger.usecases.carbon_ledger import verify

    problems = verify(_open(ledger).engine)
    for problem in problems:
        errors.print(str(problem), style="red", markup=False, highlight=False)
    if problems:
        raise typer.Exit(1)
    console.print("carbon ledger: the chain is intact and matches the audit log", markup=False)
