"""The carbon strategy blocks of the report: the Kaya-LMDI decomposition of the change in
emissions from the previous year, the pathway to the group's milestones beside business as
usual and a 1.5 °C absolute contraction, and the year's progress on that pathway.

Every number is a :class:`Figure` whose lineage id ``esgledger explain`` accepts
(``lmdi:<y0>:<y1>:<by>:<factor>``, ``pathway:<base>:<series>:<year>``, ``ghg:<year>:TOTAL``;
:mod:`esgledger.usecases.strategy_figures`), so the report and the explanation are one
computation.
When the ledger cannot give a block (no previous year, no inventory of the year), the block is
a table with a note saying so, never invented figures.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Literal

from esgledger.book import Source as Ledger
from esgledger.domain.figure_id import FigureId
from esgledger.report.model import Block, Cell, Figure, Lang, Table
from esgledger.strategy.pathways import Milestones
from esgledger.usecases import strategy_figures as figures
from esgledger.usecases.targets import MilestonesMissingError, ledger_milestones

__all__ = ["lmdi_effects", "pathway_progress", "pathway_years"]

Label = Callable[[str, Lang], str]


def _tonnes(value: float, lineage: str, name: str, word: Label, lang: Lang) -> Figure:
    return Figure(
        value=round(float(value), 2),
        unit=word("tco2e", lang),
        precision=2,
        lineage=lineage,
        label=name,
        source="computed",
    )


def lmdi_effects(
    ledger: Ledger,
    year: int,
    lang: Lang,
    block_id: str,
    title: str,
    sheet: str,
    word: Label,
    by: Literal["scope", "entity"] = "scope",
) -> Block:
    """The additive LMDI-I effects of the change from ``year - 1`` to ``year`` (revenue as
    the activity), each factor a row, then the total change they sum to."""
    before = year - 1
    try:
        found = figures.decomposition(ledger, before, year, by)
    except (ValueError, ArithmeticError):
        note = word("lmdi_none", lang).format(year0=before, year1=year)
        return Table.note_only(block_id, title, note, sheet)
    total_id = FigureId.of("lmdi", before, year, by, "total")
    rows: list[tuple[Cell, ...]] = []
    for factor in found.factors:
        name = word(f"lmdi_{factor}", lang)
        effect = float(found.additive[factor])
        rows.append(
            (
                name,
                _tonnes(
                    effect, str(FigureId.of("lmdi", before, year, by, factor)), name, word, lang
                ),
            )
        )
    total = word("lmdi_total", lang)
    rows.append((total, _tonnes(found.change, str(total_id), total, word, lang)))
    notes = [word("lmdi_note", lang).format(year0=before, year1=year)]
    codes = {n.code for n in found.notes}
    notes += [word(f"lmdi_{c}", lang) for c in ("no_energy", "scopes") if f"lmdi.{c}" in codes]
    columns = (word("lmdi_factor", lang), f"{word('lmdi_effect', lang)} ({word('tco2e', lang)})")
    return Table(block_id, title, columns, tuple(rows), notes=tuple(notes), sheet=sheet or "E")


def _no_pathway(
    exc: ValueError, block_id: str, title: str, sheet: str, word: Label, lang: Lang, year: int
) -> Block:
    """The note of a pathway block the ledger cannot give: no milestones among its targets,
    or no inventory of the year."""
    key = "pathway_no_milestones" if isinstance(exc, MilestonesMissingError) else "pathway_none"
    return Table.note_only(block_id, title, word(key, lang).format(year=year), sheet)


def _pathway_years(first: int, last: int, marks: Milestones) -> list[int]:
    """The years the table prints: the base year and the next, the milestones, and 2030-style
    round years in between (every fifth)."""
    wanted = {first, first + 1, marks.peak, marks.neutrality, marks.net_zero}
    wanted |= set(range(first - first % 5 + 5, last + 1, 5))
    return sorted(y for y in wanted if first <= y <= last)


def pathway_years(
    ledger: Ledger,
    year: int,
    lang: Lang,
    block_id: str,
    title: str,
    sheet: str,
    word: Label,
) -> Block:
    """From the year's inventory total: business as usual (the forecast to the peak year), the
    1.5 °C absolute contraction, the group's pathway and the gap, at the milestone years."""
    try:
        marks = ledger_milestones(ledger)
        frame, _ = figures.pathway_table(ledger, year)
    except ValueError as exc:
        return _no_pathway(exc, block_id, title, sheet, word, lang, year)
    series = ("bau", "contraction", "group", "gap")
    names = {s: word(f"pathway_{s}", lang) for s in series}
    rows: list[tuple[Cell, ...]] = []
    indexed = frame.set_index("year")
    for y in _pathway_years(year, int(frame["year"].max()), marks):
        cells: list[Cell] = [str(y)]
        for s in series:
            value = float(indexed[s].loc[y])
            lineage = str(FigureId.of("pathway", year, s, y))
            # a year without a figure of the series: nothing to print, not a missing figure
            cells.append("" if math.isnan(value) else _tonnes(value, lineage, names[s], word, lang))
        rows.append(tuple(cells))
    unit = word("tco2e", lang)
    columns = (word("year", lang), *(f"{names[s]} ({unit})" for s in series))
    notes = (
        word("pathway_note", lang).format(
            base=year, peak=marks.peak, neutrality=marks.neutrality, net_zero=marks.net_zero
        ),
    )
    return Table(block_id, title, columns, tuple(rows), notes=notes, sheet=sheet or "E")


def pathway_progress(
    ledger: Ledger,
    year: int,
    lang: Lang,
    block_id: str,
    title: str,
    sheet: str,
    word: Label,
) -> Block:
    """The year's total against the group's pathway and the 1.5 °C contraction from the year
    the milestones were set, with the status."""
    try:
        found = figures.pathway_progress(ledger, year)
    except ValueError as exc:
        return _no_pathway(exc, block_id, title, sheet, word, lang, year)
    base = found.base_year
    actual_name = word("progress_actual", lang)
    group_name = word("pathway_group", lang)
    contraction_name = word("pathway_contraction", lang)
    actual_id = str(FigureId.of("ghg", year, "TOTAL"))
    actual: Cell = (
        Figure(None, word("tco2e", lang), 2, actual_id, actual_name, source="missing")
        if found.actual_tco2e is None
        else _tonnes(found.actual_tco2e, actual_id, actual_name, word, lang)
    )
    status = word("progress_" + found.status.replace(" ", "_"), lang)
    rows: tuple[tuple[Cell, ...], ...] = (
        (actual_name, actual),
        (
            group_name,
            _tonnes(
                found.group_tco2e,
                str(FigureId.of("pathway", base, "group", year)),
                group_name,
                word,
                lang,
            ),
        ),
        (
            contraction_name,
            _tonnes(
                found.contraction_tco2e,
                str(FigureId.of("pathway", base, "contraction", year)),
                contraction_name,
                word,
                lang,
            ),
        ),
        (word("progress_status", lang), status),
    )
    columns = (word("indicator", lang), str(year))
    note = word("progress_note", lang).format(base=base, year=year)
    return Table(block_id, title, columns, rows, notes=(note,), sheet=sheet or "E")
