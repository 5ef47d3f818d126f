"""Commands: backup and restore of a ledger (SQLite or PostgreSQL) through one SQLite file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from esgledger.cli.app import DEFAULT_LEDGER, LedgerOption, console, errors, is_url, ledger_target


def _rows_table(title: str, rows: dict[str, int]) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, n in sorted(rows.items()):
        table.add_row(name, f"{n:,}")
    table.add_row("total", f"{sum(rows.values()):,}", style="bold")
    return table


def _fail(message: str) -> typer.Exit:
    errors.print(message, markup=False, highlight=False, soft_wrap=True)
    return typer.Exit(1)


def backup(
    destination: Annotated[Path, typer.Argument(help="new backup file (SQLite)")],
    ledger: LedgerOption = DEFAULT_LEDGER,
) -> None:
    """Write a consistent copy of the ledger (SQLite or PostgreSQL) to a new SQLite file."""
    from esgledger.store.backup import BackupError
    from esgledger.store.backup import backup as write_backup
    from esgledger.store.engine import StoreError

    if not is_url(ledger) and not Path(ledger).is_file():
        raise _fail(f"{ledger}: no ledger here")
    try:
        info = write_backup(ledger_target(ledger), destination)
    except (BackupError, StoreError, OSError, ImportError) as exc:
        raise _fail(f"backup failed: {exc}") from exc
    console.print(_rows_table(f"backup {destination}", info.rows))
    console.print(
        f"{destination}: {info.source_dialect} ledger at schema revision {info.revision}, "
        f"{sum(info.rows.values()):,} rows in {len(info.rows)} tables, verified",
        markup=False,
        highlight=False,
    )


def restore(
    source: Annotated[Path, typer.Argument(help="backup file written by `esgledger backup`")],
    ledger: LedgerOption = DEFAULT_LEDGER,
    force: Annotated[
        bool, typer.Option("--force", help="replace the ledger tables of a non-empty target")
    ] = False,
) -> None:
    """Restore a backup into an empty ledger (SQLite file or database URL), verified."""
    from esgledger.store.backup import BackupError
    from esgledger.store.backup import restore as run_restore
    from esgledger.store.engine import StoreError

    try:
        info = run_restore(source, ledger_target(ledger), force=force)
    except (BackupError, StoreError, OSError, ImportError) as exc:
        raise _fail(f"restore failed: {exc}") from exc
    console.print(_rows_table(f"restored into {info.target}", info.rows))
    console.print(
        f"{info.target}: restored at schema revision {info.revision}"
        f"{' (its ledger tables were replaced)' if info.replaced else ''}, "
        f"{sum(info.rows.values()):,} rows in {len(info.rows)} tables, verified",
        markup=False,
        highlight=False,
    )


def register(app: typer.Typer) -> None:
    app.command("backup")(backup)
    app.command("restore")(restore)
