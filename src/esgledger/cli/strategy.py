"""Commands of the carbon strategy: ``strategy decompose`` (Kaya-LMDI of the change between
two years) and ``strategy pathway`` (the pathways to the group's targets, with the gap to a
forecast)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import pandas as pd
import typer

from esgledger.cli.app import DEFAULT_LEDGER, LedgerOption, _emit, _open, console, errors

strategy_app = typer.Typer(
    help="Carbon strategy: decomposition, pathways, forecasts, abatement, uncertainty.",
    no_args_is_help=True,
)

JsonOption = Annotated[bool, typer.Option("--json", help="JSON output")]
CsvOption = Annotated[bool, typer.Option("--csv", help="CSV output")]


class Activity(StrEnum):
    revenue = "revenue"
    headcount = "headcount"


class By(StrEnum):
    entity = "entity"
    scope = "scope"


class Shape(StrEnum):
    linear = "linear"
    rate = "rate"


class Ambition(StrEnum):
    one_point_five = "1.5C"
    well_below_two = "wb2c"


def register(app: typer.Typer) -> None:
    app.add_typer(strategy_app, name="strategy")


def _fail(message: str) -> typer.Exit:
    errors.print(message, markup=False, highlight=False, soft_wrap=True)
    return typer.Exit(1)


def _notes(notes: object) -> None:
    for note in notes:  # type: ignore[attr-defined]
        console.print(f"note: {note}", markup=False, highlight=False, soft_wrap=True)


@strategy_app.command("decompose")
def strategy_decompose(
    year_from: Annotated[int, typer.Option("--from", help="first year", min=1901, max=2199)],
    year_to: Annotated[int, typer.Option("--to", help="second year", min=1901, max=2199)],
    activity: Annotated[Activity, typer.Option(help="activity driver")] = Activity.revenue,
    by: Annotated[
        By, typer.Option(help="subsectors: entities, or scopes when entities cannot be compared")
    ] = By.entity,
    ledger: LedgerOption = DEFAULT_LEDGER,
    as_json: JsonOption = False,
    as_csv: CsvOption = False,
) -> None:
    """Kaya-LMDI-I decomposition of the change in emissions between two years: activity,
    structure, energy intensity and carbon intensity of energy (additive effects in tCO2e that
    sum to the change, and multiplicative indices)."""
    from esgledger.strategy.lmdi import kaya_decomposition

    try:
        result, _ = kaya_decomposition(
            _open(ledger), year_from, year_to, activity=activity.value, by=by.value
        )
    except (ValueError, ArithmeticError) as exc:
        raise _fail(f"strategy decompose: {exc}") from exc
    table = result.table()
    total = {
        "factor": "total change",
        "unit": "tCO2e",
        "effect_tco2e": result.change,
        "share_of_change_pct": 100.0 if result.change else float("nan"),
        "index": result.ratio,
    }
    frame = pd.concat([table, pd.DataFrame([total])], ignore_index=True)
    _emit(
        frame,
        as_json,
        as_csv,
        f"LMDI {year_from} -> {year_to}: {result.total0:,.2f} -> {result.total1:,.2f} tCO2e",
        list(result.notes),
    )


@strategy_app.command("pathway")
def strategy_pathway(
    base_year: Annotated[int, typer.Option(help="base year (its inventory total)")] = 2024,
    growth: Annotated[
        float | None,
        typer.Option(
            help="yearly growth to the peak, e.g. 0.03; default: the compound growth of the "
            "ledger's totals up to the base year"
        ),
    ] = None,
    shape: Annotated[Shape, typer.Option(help="decline after the peak")] = Shape.linear,
    ambition: Annotated[
        Ambition, typer.Option(help="the absolute-contraction pathway shown beside it")
    ] = Ambition.one_point_five,
    ledger: LedgerOption = DEFAULT_LEDGER,
    as_json: JsonOption = False,
    as_csv: CsvOption = False,
) -> None:
    """The pathway to the group's carbon peak, neutrality and net zero from the base year's
    inventory total, beside an SBTi-style absolute contraction."""
    from esgledger.strategy.pathways import absolute_contraction, ledger_pathway

    try:
        frame, notes = ledger_pathway(
            _open(ledger), base_year=base_year, growth=growth, shape=shape.value
        )
    except ValueError as exc:
        raise _fail(f"strategy pathway: {exc}") from exc
    base = float(frame.loc[frame["year"] == base_year, "pathway_tco2e"].iloc[0])
    contraction = absolute_contraction(
        base_year, base, int(frame["year"].max()), ambition=ambition.value
    )
    merged = frame.merge(
        contraction[["year", "pathway_tco2e"]].rename(
            columns={"pathway_tco2e": f"contraction_{ambition.value}_tco2e"}
        ),
        on="year",
        how="left",
    )
    _emit(merged, as_json, as_csv, "pathway to the group's targets", [])
    if not (as_json or as_csv):
        _notes(notes)
