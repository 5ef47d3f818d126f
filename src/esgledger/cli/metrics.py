"""``esgledger metrics``: the metric catalogue of a ledger, the packaged metrics and the
company's own (:mod:`esgledger.usecases.metric_definitions`)."""

from __future__ import annotations

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
from esgledger.cli.app import DEFAULT_LEDGER, LedgerOption, _open, console, errors

metrics_app = typer.Typer(
    help="The metric catalogue: the packaged metrics and the company's own (import, export, list).",
    no_args_is_help=True,
)


@metrics_app.command("import")
def metrics_import(
    file: Annotated[Path, typer.Argument(help="metrics CSV (UTF-8), the catalogue's columns")],
    ledger: LedgerOption = DEFAULT_LEDGER,
    actor: ActorOption = "cli",
) -> None:
    """Replace the company's own metrics with a file's: all or nothing, every problem located."""
    from esgledger.usecases.metric_definitions import import_metrics

    done = import_upload("metrics import", file, ledger, actor, import_metrics)
    print_replaced(done, "metrics", "metrics of the company's own")


@metrics_app.command("export")
def metrics_export(
    out: Annotated[Path, typer.Argument(help="CSV file to write")],
    ledger: LedgerOption = DEFAULT_LEDGER,
    actor: ActorOption = "cli",
) -> None:
    """Write the company's own metrics as a metrics file (the cells as entered)."""
    from esgledger.usecases.metric_definitions import metrics_csv

    store = _open(ledger)
    text = metrics_csv(store.metric_definition_rows())
    write_export(store.engine, actor, "metric_definitions", text, out, "metrics")


@metrics_app.command("list")
def metrics_list(
    own: Annotated[bool, typer.Option("--own", help="only the company's own metrics")] = False,
    ledger: LedgerOption = DEFAULT_LEDGER,
) -> None:
    """The ledger's metric catalogue: id, pillar, unit, kind, aggregation and origin."""
    import pandas as pd

    from esgledger.book import book_of
    from esgledger.metrics.ledger_catalogue import LEDGER_FILE

    book = book_of(_open(ledger))
    rows = [
        {
            "metric_id": m.metric_id,
            "pillar": m.pillar.value,
            "unit": m.unit,
            "kind": m.kind.value,
            "aggregation": m.aggregation.value,
            "origin": "ledger" if m.file == LEDGER_FILE else "packaged",
        }
        for m in book.catalogue()
        if not own or m.file == LEDGER_FILE
    ]
    for problem in book.catalogue_problems():
        errors.print(str(problem), markup=False, highlight=False)
    if not rows:
        console.print("no metric of the company's own (esgledger metrics import)", markup=False)
        return
    _print(pd.DataFrame(rows), "metric catalogue")


def register(app: typer.Typer) -> None:
    app.add_typer(metrics_app, name="metrics")
