"""``esgledger rules``: the rules that grade the registers (supplier dimensions and levels, BCM
grades, information-security levels and method), the company's own or the packaged defaults,
and the rules each register year is graded with (:mod:`esgledger.usecases.rules`)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer

from esgledger.cli.admin import ActorOption, _change, _print, import_upload, write_export
from esgledger.cli.app import DEFAULT_LEDGER, LedgerOption, _open, console

rules_app = typer.Typer(
    help="The rules that grade the registers: the company's own or the packaged defaults.",
    no_args_is_help=True,
)


class RuleName(StrEnum):
    supplier_dimensions = "supplier_dimensions"
    supplier_levels = "supplier_levels"
    bcm_grades = "bcm_grades"
    infosec_levels = "infosec_levels"
    infosec_method = "infosec_method"


NameArgument = Annotated[RuleName, typer.Argument(help="which rule table")]


_WHOSE = {"ledger": "the company's table", "packaged": "the packaged default"}


def _short(digest: str) -> str:
    return digest[:12]


def _print_change(done: Any) -> None:
    """What an import or a removal did (``done``: a :class:`RulesChange`)."""
    if done.seq is None:
        console.print(
            f"{done.name}: the same as the table in force ({done.origin_before}, sha256 "
            f"{_short(done.sha256_before)}), nothing changed",
            markup=False,
            soft_wrap=True,
        )
        return
    console.print(
        f"{done.name}: {_WHOSE[done.origin_after]} ({done.rows} rows, sha256 "
        f"{_short(done.sha256_after)}) in force for new gradings, instead of "
        f"{_WHOSE[done.origin_before]} (sha256 {_short(done.sha256_before)})",
        markup=False,
        soft_wrap=True,
    )
    if done.froze:
        years = ", ".join(f"{kind} {year}" for kind, year in done.froze)
        console.print(
            f"frozen first with the rules they were graded with (their results unchanged): "
            f"{years}; `esgledger register regrade KIND YEAR` grades one with the new rules",
            markup=False,
            soft_wrap=True,
        )


@rules_app.command("list")
def rules_list(ledger: LedgerOption = DEFAULT_LEDGER) -> None:
    """Each rule table (packaged or the company's, its SHA-256) and the rules each register
    year is graded with."""
    from esgledger.usecases.rules import table_list, year_list

    store = _open(ledger)
    tables = pd.DataFrame(table_list(store.engine))
    tables["entered_at"] = tables["entered_at"].map(
        lambda t: "" if t is None or pd.isna(t) else f"{t:%Y-%m-%d %H:%M}"
    )
    columns = ["name", "register", "origin", "sha256", "rows", "file", "entered_by", "entered_at"]
    _print(tables[columns], "rule tables (origin ledger: the company's; packaged: the default)")
    years = year_list(store.engine)
    if not years:
        console.print("no rated register year in the ledger", markup=False, soft_wrap=True)
        return
    frame = pd.DataFrame(years)
    frame["frozen_at"] = frame["frozen_at"].map(
        lambda t: "" if t is None or pd.isna(t) else f"{t:%Y-%m-%d %H:%M}"
    )
    frame["import_id"] = frame["import_id"].map(lambda i: "" if i is None or pd.isna(i) else int(i))
    _print(
        frame[["kind", "year", "frozen", "frozen_by", "frozen_at", "import_id", "rules"]],
        "register years (frozen False: graded with the rules in force)",
    )


@rules_app.command("import")
def rules_import(
    name: NameArgument,
    file: Annotated[Path, typer.Argument(help="CSV (UTF-8) with the packaged table's columns")],
    ledger: LedgerOption = DEFAULT_LEDGER,
    actor: ActorOption = "cli",
) -> None:
    """Enter the company's own table NAME (it replaces the packaged default for new gradings):
    all or nothing, every problem located."""
    from esgledger.usecases.rules import import_rules

    done = import_upload(
        f"rules import {name.value}",
        file,
        ledger,
        actor,
        lambda engine, who, text, file_name: import_rules(engine, who, name.value, text, file_name),
    )
    _print_change(done)


@rules_app.command("export")
def rules_export(
    name: NameArgument,
    out: Annotated[Path, typer.Argument(help="CSV file to write")],
    year: Annotated[
        int | None,
        typer.Option(help="the table its register's YEAR is graded with", min=1901, max=2199),
    ] = None,
    ledger: LedgerOption = DEFAULT_LEDGER,
    actor: ActorOption = "cli",
) -> None:
    """Write the table NAME in force (the company's, else the packaged default), or with
    --year the one a register year is graded with, as a CSV to copy and edit (audited)."""
    from esgledger.usecases.rules import table_in_force, year_table

    store = _open(ledger)
    rows = (
        table_in_force(store.engine, name.value)
        if year is None
        else year_table(store.engine, name.value, year)
    )
    object_id = name.value if year is None else f"{name.value}:{year}"
    write_export(store.engine, actor, "rule_table", rows.csv(), out, "rows", object_id)
    console.print(
        f"{name.value}: {rows.origin}, sha256 {rows.sha256}", markup=False, soft_wrap=True
    )


@rules_app.command("remove")
def rules_remove(
    name: NameArgument,
    ledger: LedgerOption = DEFAULT_LEDGER,
    actor: ActorOption = "cli",
) -> None:
    """Remove the company's table NAME: the packaged default grades new gradings again."""
    from esgledger.usecases.rules import remove_rules

    engine = _open(ledger).engine
    done = _change(
        f"rules remove {name.value}", lambda who: remove_rules(engine, who, name.value), actor
    )
    _print_change(done)


def register(app: typer.Typer) -> None:
    app.add_typer(rules_app, name="rules")
