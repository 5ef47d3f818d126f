"""``esgledger factors import``, ``export`` and ``remove``: the ledger's factor packs, the
emission factors of the user's own sources (:mod:`esgledger.usecases.factor_packs`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from esgledger.cli.admin import ActorOption, _change
from esgledger.cli.app import DEFAULT_LEDGER, LedgerOption, _open, console, errors, factors_app


@factors_app.command("import")
def factors_import(
    file: Annotated[Path, typer.Argument(help="factor pack CSV (UTF-8), the columns of `export`")],
    ledger: LedgerOption = DEFAULT_LEDGER,
    actor: ActorOption = "cli",
) -> None:
    """Import a factor pack into the ledger: all or nothing, every problem located."""
    from esgledger.ingest.limits import UPLOAD
    from esgledger.ingest.reader import ReadError, check_file_size
    from esgledger.usecases.factor_packs import import_factor_pack

    try:
        check_file_size(file, UPLOAD)
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError, ReadError) as exc:
        errors.print(f"{file}: cannot read: {exc}", markup=False, highlight=False)
        raise typer.Exit(2) from exc
    engine = _open(ledger).engine
    done = _change(
        f"factors import {file.name}",
        lambda who: import_factor_pack(engine, who, text, file.name),
        actor,
    )
    console.print(f"{done.count} factors read, {len(done.changes)} changed", markup=False)


@factors_app.command("export")
def factors_export(
    out: Annotated[Path, typer.Argument(help="CSV file to write")],
    ledger: LedgerOption = DEFAULT_LEDGER,
    actor: ActorOption = "cli",
) -> None:
    """Write the ledger's factor packs as a pack file (the values as entered)."""
    from esgledger.auth.accounts import operator
    from esgledger.usecases.exports import record_export
    from esgledger.usecases.factor_packs import factor_pack_csv

    store = _open(ledger)
    text = factor_pack_csv(store.user_factors().to_dict("records"))
    content = text.encode("utf-8")
    rows = text.count("\n") - 1
    record_export(
        store.engine, operator(actor), "user_factor", "all", content, fmt="csv", rows=rows
    )
    out.write_bytes(content)
    console.print(f"{rows} factors written to {out}", markup=False)


@factors_app.command("remove")
def factors_remove(
    factor_id: Annotated[str, typer.Argument(help="the id of a factor of the ledger's packs")],
    ledger: LedgerOption = DEFAULT_LEDGER,
    actor: ActorOption = "cli",
) -> None:
    """Remove a factor of the ledger's packs: the packaged factors apply again."""
    from esgledger.usecases.factor_packs import remove_user_factor

    engine = _open(ledger).engine
    _change(
        f"factors remove {factor_id}", lambda who: remove_user_factor(engine, who, factor_id), actor
    )
    console.print(f"factor {factor_id} removed", markup=False)


def register(app: typer.Typer) -> None:
    """The commands are on ``factors_app`` (importing this module adds them)."""
