"""``esgledger materiality topics``: the company's material-topic lists, one per year, kept in
its ledger (:mod:`esgledger.usecases.topic_lists`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from esgledger.cli.admin import ActorOption, _print, import_upload, print_replaced, write_export
from esgledger.cli.app import DEFAULT_LEDGER, LedgerOption, _open, console

topics_app = typer.Typer(
    help="The company's material-topic lists, one per year (import, export, list).",
    no_args_is_help=True,
)
YearArgument = Annotated[int, typer.Argument(help="the year of the list", min=1901, max=2199)]


@topics_app.command("import")
def topics_import(
    year: YearArgument,
    file: Annotated[Path, typer.Argument(help="topic list CSV (UTF-8), the columns of `export`")],
    ledger: LedgerOption = DEFAULT_LEDGER,
    actor: ActorOption = "cli",
) -> None:
    """Replace the ledger's topic list of a year with a file's: all or nothing, every problem
    located."""
    from esgledger.usecases.topic_lists import import_topic_list

    done = import_upload(
        "materiality topics import",
        file,
        ledger,
        actor,
        lambda engine, who, text, name: import_topic_list(engine, who, year, text, name),
    )
    print_replaced(done, "topics", f"topics in the {year} list")


@topics_app.command("export")
def topics_export(
    year: YearArgument,
    out: Annotated[Path, typer.Argument(help="CSV file to write")],
    ledger: LedgerOption = DEFAULT_LEDGER,
    actor: ActorOption = "cli",
) -> None:
    """Write the ledger's topic list of a year as a topic-list file (the cells as entered)."""
    from esgledger.usecases.topic_lists import ledger_topic_rows, topic_list_csv

    store = _open(ledger)
    text = topic_list_csv(ledger_topic_rows(store, year))
    write_export(store.engine, actor, "topic_list", text, out, "topics")


@topics_app.command("list")
def topics_list(
    year: Annotated[int | None, typer.Option(help="the year (default: every year)")] = None,
    ledger: LedgerOption = DEFAULT_LEDGER,
) -> None:
    """The ledger's topic lists: year, id, dimension and names."""
    import pandas as pd

    from esgledger.store.topic_lists import topic_years
    from esgledger.usecases.topic_lists import ledger_topics

    store = _open(ledger)
    years = topic_years(store.engine) if year is None else [year]
    rows = [
        {"year": y, "topic_id": t.topic_id, "dimension": t.dimension, "name_en": t.name_en,
         "name_zh": t.name_zh}
        for y in years
        for t in ledger_topics(store, y)
    ]  # fmt: skip
    if not rows:
        console.print("no topic list in this ledger (esgledger materiality topics import)")
        return
    _print(pd.DataFrame(rows), "topic lists")


def register(app: typer.Typer) -> None:
    """Add ``topics`` under ``app`` (the ``materiality`` group)."""
    app.add_typer(topics_app, name="topics")
