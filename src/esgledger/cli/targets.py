"""``esgledger targets``: the company's targets, their status in a year, and their file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from esgledger.cli.admin import (
    ActorOption,
    _print,
    import_upload,
    print_replaced,
    write_export,
)
from esgledger.cli.app import (
    DEFAULT_LEDGER,
    LedgerOption,
    _open,
    _print_diagnostics,
    console,
    errors,
)
from esgledger.domain.diagnostics import Severity, exit_code

targets_app = typer.Typer(
    help="The company's targets: their status in a year (--year), and the targets file "
    "(import, export, list).",
    invoke_without_command=True,
)


@targets_app.callback()
def targets(
    ctx: typer.Context,
    year: Annotated[
        int | None, typer.Option("--year", "-y", help="reporting year of the status")
    ] = None,
    ledger: LedgerOption = DEFAULT_LEDGER,
    file: Annotated[
        Path | None,
        typer.Option("--file", help="a targets CSV to evaluate instead of the ledger's targets"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Status of each target in a year (achieved, on track, off track...) with the arithmetic."""
    if ctx.invoked_subcommand is not None:
        return
    if year is None:
        errors.print("targets: give --year YEAR for the status, or a command (see --help)")
        raise typer.Exit(2)
    from esgledger.service import targets as target_report

    store = _open(ledger)
    statuses, problems = target_report(store, year, file)
    # targets without a metric are reported in their status; the info lines would repeat it
    _print_diagnostics([d for d in problems if d.severity is not Severity.INFO])
    if as_json:
        print(
            json.dumps([s.to_dict() for s in statuses], ensure_ascii=False, indent=2, default=str)
        )
    else:
        for status in statuses:
            console.print(
                f"{status.target.target_id}: {status.status}: {status.reason}",
                markup=False,
                highlight=False,
                soft_wrap=True,
            )
    raise typer.Exit(exit_code(problems))


@targets_app.command("import")
def targets_import(
    file: Annotated[Path, typer.Argument(help="targets CSV (UTF-8), the columns of `export`")],
    ledger: LedgerOption = DEFAULT_LEDGER,
    actor: ActorOption = "cli",
) -> None:
    """Replace the ledger's targets with a file's: all or nothing, every problem located."""
    from esgledger.usecases.targets import import_targets

    done = import_upload("targets import", file, ledger, actor, import_targets)
    _print_diagnostics([d for d in done.diagnostics if d.severity is not Severity.INFO])
    print_replaced(done, "targets", "targets entered")


@targets_app.command("export")
def targets_export(
    out: Annotated[Path, typer.Argument(help="CSV file to write")],
    ledger: LedgerOption = DEFAULT_LEDGER,
    actor: ActorOption = "cli",
) -> None:
    """Write the ledger's targets as a targets file (the cells as entered)."""
    from esgledger.usecases.targets import targets_csv

    store = _open(ledger)
    text = targets_csv(store)
    write_export(store.engine, actor, "targets", text, out, "targets")


@targets_app.command("list")
def targets_list(ledger: LedgerOption = DEFAULT_LEDGER) -> None:
    """The ledger's targets (id, metric, entity, kind, deadline, milestone)."""
    import pandas as pd

    from esgledger.checks.targets import NO_TARGETS
    from esgledger.usecases.targets import ledger_targets

    found, problems = ledger_targets(_open(ledger))
    _print_diagnostics([d for d in problems if d.severity is not Severity.INFO])
    if not found:
        errors.print(NO_TARGETS, markup=False, highlight=False, soft_wrap=True)
        return
    columns = ["target_id", "metric_id", "entity_id", "kind", "deadline_year", "milestone"]
    _print(pd.DataFrame([{c: getattr(t, c) for c in columns} for t in found]), "targets")


def register(app: typer.Typer) -> None:
    app.add_typer(targets_app, name="targets")
