"""The strategy figures a report prints, and their lineage.

- ``lmdi:<year0>:<year1>:<by>:<factor>`` (``by`` is ``scope`` or ``entity``; ``factor`` a
  Kaya factor or ``total``): the additive LMDI-I effect in tCO2e of a factor on the change of
  emissions between two years (:func:`esgledger.usecases.strategy.kaya_decomposition`, revenue
  as the activity), with each subsector's contribution;
- ``pathway:<base>:<series>:<year>``: a year of the pathway table of :func:`pathway_table`:
  ``bau`` (the business-as-usual forecast of the total), ``contraction`` (SBTi-style 1.5 °C
  absolute contraction from the base year), ``group`` (the group's pathway: the forecast to
  the peak year, then the decline to neutrality and net zero) and ``gap`` (bau − group: the
  abatement the pathway asks for beyond business as usual).

The values are recomputed from the ledger (deterministic: forecasts and pathways have no
randomness), so a report's figure and ``esgledger explain`` agree; each is computed once per
Book (the ledger's figures at one data version), whoever asks for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from esgledger.book import Source, book_of
from esgledger.calc import InventoryResult
from esgledger.calc.explain import Node
from esgledger.domain.figure_id import FigureId
from esgledger.strategy.lmdi import Decomposition
from esgledger.strategy.pathways import (
    absolute_contraction,
    load_pathway_parameters,
    peak_decline,
    progress,
)
from esgledger.usecases.strategy import forecast_from_ledger, kaya_decomposition
from esgledger.usecases.targets import ledger_milestones

__all__ = [
    "KINDS",
    "decomposition",
    "explain_strategy",
    "inventory",
    "pathway_progress",
    "pathway_table",
    "strategy_value",
]

KINDS = ("lmdi", "pathway")
FORMS = "lmdi:<year0>:<year1>:<scope|entity>:<factor|total>, pathway:<base>:<series>:<year>"
SERIES = ("bau", "contraction", "group", "gap")


def inventory(source: Source) -> InventoryResult:
    """The ledger's inventory in its stored settings (the Book's)."""
    return book_of(source).inventory()


def decomposition(
    source: Source, year0: int, year1: int, by: Literal["scope", "entity"] = "scope"
) -> Decomposition:
    """The LMDI-I decomposition of the report (revenue as the activity), once per Book."""
    book = book_of(source)

    def compute() -> Decomposition:
        found, _ = kaya_decomposition(book, year0, year1, activity="revenue", by=by)
        return found

    return book.memo(("strategy.lmdi", year0, year1, by), compute)


def pathway_table(source: Source, base_year: int) -> tuple[pd.DataFrame, list[str]]:
    """Per year from the base year to net zero: ``bau`` (business as usual: the forecast of
    the total from the history up to the base year, with ``bau_lower``/``bau_upper``, its
    95 % interval), ``contraction`` (1.5 °C absolute contraction), ``group`` (the forecast up
    to the peak year, then the linear decline to the net-zero residual) and ``gap`` (bau −
    group: the abatement the pathway asks for beyond business as usual; zero up to the
    peak); and the notes. Computed once per Book (callers get a copy of the table)."""
    book = book_of(source)
    frame, notes = book.memo(("strategy.pathway", base_year), lambda: _pathway(book, base_year))
    return frame.copy(), list(notes)


def _pathway(source: Source, base_year: int) -> tuple[pd.DataFrame, list[str]]:
    book = book_of(source)
    result = inventory(book)
    if base_year not in result.years():
        raise ValueError(f"no inventory for {base_year}: expected the base year in the ledger")
    base = float(result.scope_totals(base_year)["total"])
    marks = ledger_milestones(book)
    horizon = max(marks.net_zero - base_year, 1)
    predicted = forecast_from_ledger(book, horizon, through=base_year, result=result)
    total = predicted.forecasts[predicted.forecasts["series"] == "total"].set_index("year")
    bau = total["forecast"].astype(float)
    group = peak_decline(
        base_year, base, marks.peak, marks.neutrality, marks.net_zero, forecast=bau
    ).set_index("year")["pathway_tco2e"]
    contraction = absolute_contraction(base_year, base, marks.net_zero, ambition="1.5C")
    frame = pd.DataFrame({"year": group.index.astype(int)})
    frame["bau"] = frame["year"].map(bau).astype(float)
    frame.loc[frame["year"] == base_year, "bau"] = base
    frame["bau_lower"] = frame["year"].map(total["lower"].astype(float)).astype(float)
    frame["bau_upper"] = frame["year"].map(total["upper"].astype(float)).astype(float)
    frame["contraction"] = (
        frame["year"].map(contraction.set_index("year")["pathway_tco2e"]).astype(float)
    )
    frame["group"] = frame["year"].map(group).astype(float)
    frame["gap"] = frame["bau"] - frame["group"]
    models = sorted(set(total["model"].astype(str)))
    notes = [
        f"base: {base_year} inventory total {base:,.2f} tCO2e",
        f"business as usual: forecast of the total ({', '.join(models)}; esgledger strategy "
        "forecast)",
        f"milestones: peak {marks.peak}, neutrality {marks.neutrality}, net zero "
        f"{marks.net_zero} (the ledger's targets: " + "; ".join(marks.sources.values()) + ")",
    ]
    return frame, notes


@dataclass(frozen=True, slots=True)
class PathwayProgress:
    """The year's inventory total against the group's pathway from the year the milestones
    were set (``base_year``; the year itself when it is the first): lineage
    ``ghg:<year>:TOTAL`` and ``pathway:<base>:<group|contraction>:<year>``."""

    base_year: int
    year: int
    actual_tco2e: float | None
    group_tco2e: float
    contraction_tco2e: float
    status: str
    """``on track`` (at or below the group's pathway), ``off track``, ``no data``, or
    ``base year`` (the pathway starts at the year's own total)."""
    reason: str


def pathway_progress(source: Source, year: int, base_year: int | None = None) -> PathwayProgress:
    """Progress of ``year`` on the group's pathway from ``base_year`` (default: the year the
    milestones were set, or ``year`` when that is later; see :class:`PathwayProgress`)."""
    if base_year is None:
        marks = ledger_milestones(source)
        set_in = marks.set_in
        base = set_in if set_in is not None and set_in <= year else year
    elif base_year > year:
        raise ValueError(f"base year {base_year} is after {year}: expected it at or before")
    else:
        base = base_year
    frame, _ = pathway_table(source, base)
    row = frame.set_index("year")
    if year not in row.index:
        raise ValueError(f"{year} is past the pathway from {base} ({row.index.max()})")
    result = inventory(source)
    actual = float(result.scope_totals(year)["total"]) if year in result.years() else None
    found = progress(
        pd.Series({year: np.nan if actual is None else actual}),
        row["group"].rename("pathway_tco2e"),
        year,
    )
    status: str = found.status
    reason = found.reason
    if base == year and actual is not None:
        status = "base year"
        reason = f"{year} is the base year of the pathway (its total {actual:,.2f} tCO2e)"
    return PathwayProgress(
        base,
        year,
        actual,
        float(row["group"].loc[year]),
        float(row["contraction"].loc[year]),
        status,
        reason,
    )


def _parse(figure: str) -> tuple[str, tuple[Any, ...]]:
    """(kind, field values) of a strategy figure id (the one grammar,
    :class:`~esgledger.domain.figure_id.FigureId`)."""
    fid = FigureId.parse(figure)
    if fid.kind not in KINDS:
        raise ValueError(f"figure id {figure!r} is not one of {FORMS}")
    return fid.kind, fid.values


def explain_strategy(source: Source, figure: str) -> Node:
    """The derivation tree of a strategy figure id (module doc); ValueError when the id is
    malformed or the ledger has no such figure."""
    kind, key = _parse(figure)
    if kind == "lmdi":
        year0, year1, by, factor = key
        result = decomposition(source, year0, year1, by)
        notes = "; ".join(n.message for n in result.notes)
        if factor == "total":
            return Node(
                f"emissions change {year0} -> {year1}",
                result.change,
                "tCO2e",
                {"from": result.total0, "to": result.total1, "notes": notes},
                [Node(f"effect of {f}", float(v), "tCO2e") for f, v in result.additive.items()],
            )
        if factor not in result.factors:
            raise ValueError(f"{figure}: factor {factor!r} is not one of {result.factors}")
        parts = result.contributions[factor]
        return Node(
            f"LMDI-I effect of {factor}, {year0} -> {year1}",
            float(result.additive[factor]),
            "tCO2e",
            {
                "formula": "Σ_i L(C_i^T, C_i^0) · ln(x_i^T / x_i^0), L the logarithmic mean",
                "index": float(result.multiplicative[factor]),
                "notes": notes,
            },
            [Node(f"subsector {s}", float(v), "tCO2e") for s, v in parts.items()],
        )
    base, series, year = key
    frame, lines = pathway_table(source, base)
    row = frame[frame["year"] == year]
    if row.empty:
        raise ValueError(f"{figure}: the pathway runs {frame['year'].min()}-{frame['year'].max()}")
    value = float(row[series].iloc[0])
    params = load_pathway_parameters()
    lower, upper = float(row["bau_lower"].iloc[0]), float(row["bau_upper"].iloc[0])
    bau = (
        f"the {base} inventory total"
        if year == base
        else "forecast of the total from the history up to the base year (model chosen by "
        f"back-test), 95 % interval {lower:,.2f}-{upper:,.2f}"
    )
    formulas = {
        "bau": bau,
        "contraction": f"E_base × (1 − {params.rate('1.5C') * 100:g} % × (year − base)), "
        "floored at 0 (pathway_parameters.csv, aca.rate.1.5C)",
        "group": "forecast to the peak year, then linear to "
        f"{params.net_zero_residual * 100:g} % of the base at net zero "
        "(pathway_parameters.csv, netzero.residual.max)",
        "gap": "business as usual − the group's pathway (the abatement asked beyond business "
        "as usual)",
    }
    return Node(
        f"pathway {series} {year} (base {base})",
        None if np.isnan(value) else value,
        "tCO2e",
        {"formula": formulas[series], "notes": "; ".join(lines)},
    )


def strategy_value(source: Source, figure: str) -> float | None:
    """The value at the root of :func:`explain_strategy`; None when the ledger has no such
    figure; ValueError on a malformed id."""
    _parse(figure)
    try:
        return explain_strategy(source, figure).value
    except (ValueError, ArithmeticError):
        return None
