"""``esgledger factors import``, ``export`` and ``remove``: the ledger's factor packs, the
emission factors of the user's own sources (:mod:`esgledger.usecases.factor_packs`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from esgledger.cli.admin import (
    ActorOption,
    _change,
    import_upload,
    write_export,
)
from esgledger.cli.app import DEFAULT_LEDGER, LedgerOption, _open, console, factors_app


@factors_app.command("import")
def factors_import(
    file: Annotated[Path, typer.Argument(help="factor pack CSV (UTF-8), the columns of `export`")],
    ledger: LedgerOption = DEFAULT_LEDGER,
    actor: ActorOption = "cli",
) -> None:
    """Import a factor pack into the ledger: all or nothing, every problem located."""
    from esgledger.usecases.factor_packs import import_factor_pack

    done = import_upload("factors import", file, ledger, actor, import_factor_pack)
    console.print(f"{done.count} factors read, {len(done.changes)} changed", markup=False)


@factors_app.command("export")
def factors_export(
    out: Annotated[Path, typer.Argument(help="CSV file to write")],
    ledger: LedgerOption = DEFAULT_LEDGER,
    actor: ActorOption = "cli",
) -> None:
    """Write the ledger's factor packs as a pack file (the values as entered)."""
    from esgledger.usecases.factor_packs import factor_pack_csv

    store = _open(ledger)
    text = factor_pack_csv(store.user_factors().to_dict("records"))
    write_export(store.engine, actor, "user_factor", text, out, "factors")


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
