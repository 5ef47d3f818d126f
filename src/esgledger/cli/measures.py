"""``esgledger strategy measures``: the company's measure catalogue in its ledger, the one
its abatement plans choose from (:mod:`esgledger.usecases.measures`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from esgledger.cli.admin import ActorOption, import_upload, print_replaced, write_export
from esgledger.cli.app import DEFAULT_LEDGER, LedgerOption, _open, console

measures_app = typer.Typer(
    help="The company's measure catalogue (import, export, template): what plans choose from.",
    no_args_is_help=True,
)


@measures_app.command("import")
def measures_import(
    file: Annotated[Path, typer.Argument(help="catalogue CSV (UTF-8), the columns of `template`")],
    ledger: LedgerOption = DEFAULT_LEDGER,
    actor: ActorOption = "cli",
) -> None:
    """Replace the ledger's measure catalogue with a file's: all or nothing, every problem
    located."""
    from esgledger.usecases.measures import import_measures

    done = import_upload("strategy measures import", file, ledger, actor, import_measures)
    print_replaced(done, "measures", "measures in the catalogue")


@measures_app.command("export")
def measures_export(
    out: Annotated[Path, typer.Argument(help="CSV file to write")],
    ledger: LedgerOption = DEFAULT_LEDGER,
    actor: ActorOption = "cli",
) -> None:
    """Write the ledger's measure catalogue as a catalogue file (the cells as entered)."""
    from esgledger.usecases.measures import measures_csv

    store = _open(ledger)
    text = measures_csv(store.measure_rows())
    write_export(store.engine, actor, "measure_catalogue", text, out, "measures")


@measures_app.command("template")
def measures_template(
    out: Annotated[Path, typer.Argument(help="CSV file to write")],
) -> None:
    """Write the example catalogue (the demo group's measures, illustrative costs) to copy,
    size to the company and enter with `import`."""
    from esgledger.usecases.measures import example_catalogue

    out.write_text(example_catalogue(), encoding="utf-8")
    console.print(
        f"example catalogue written to {out}: the demo group's measures with illustrative "
        "costs; size them to the company before `esgledger strategy measures import`",
        markup=False,
    )


def register(app: typer.Typer) -> None:
    """Add ``measures`` under ``app`` (the ``strategy`` group)."""
    app.add_typer(measures_app, name="measures")
