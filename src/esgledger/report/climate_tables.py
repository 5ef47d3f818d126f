"""The climate register's tables in the report (rows of :mod:`esgledger.assess.climate`
entries, scores as figures with their ``climate:`` lineage ids)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from esgledger.assess.climate import (
    RegisterEntry,
    register_changes,
    register_labels,
    score_lineage,
    unscored,
)
from esgledger.report.model import Figure, Table

__all__ = ["changes_table", "register_table"]

Axis = Literal["likelihood", "impact"]


def _word(key: str, language: str) -> str:
    """A fixed word of the register in ``language`` (the key itself when it has none)."""
    labels = register_labels()
    return labels[key][language] if key in labels else key


def _score(entry: RegisterEntry, axis: Axis, language: str) -> Figure:
    """A score of an entry as a figure with its ``climate:`` lineage id (missing: not assessed)."""
    value = entry.likelihood if axis == "likelihood" else entry.impact
    return Figure(
        value=None if value is None else float(value),
        unit="",
        precision=0,
        lineage=score_lineage(entry, axis),
        label=_word(f"col.{axis}", language),
        source="missing" if value is None else "reported",
    )


def register_table(entries: Sequence[RegisterEntry], lang: str) -> Table:
    """The register as a report table in ``lang`` (``zh`` or ``en``).

    Fixed words (headers, taxonomy and horizon words) come from ``data/climate_labels.csv``;
    the entries' own text (title, financial effect, responses) is printed as written. The
    scores are figures with their lineage (``climate:<year>:<entry_id>:likelihood``), a dash
    when not assessed.
    """
    language = "zh" if lang == "zh" else "en"

    def word(key: str) -> str:
        return _word(key, language)

    def words(keys: Sequence[str]) -> str:
        return word("sep").join(word(k) for k in keys)

    def score(entry: RegisterEntry, axis: Axis) -> Figure:
        return _score(entry, axis, language)

    keys = (
        "type",
        "category",
        "title",
        "horizons",
        "value_chain",
        "likelihood",
        "impact",
        "financial_effect",
        "responses",
    )
    rows = tuple(
        (
            word(e.type),
            word(e.category) if e.class_ == e.type else words((e.class_, e.category)),
            e.title,
            words(e.horizons),
            words(e.value_chain),
            score(e, "likelihood"),
            score(e, "impact"),
            e.financial_effect,
            e.responses,
        )
        for e in entries
    )
    notes = (word("note.unscored"),) if unscored(entries) else ()
    return Table(
        block_id="climate.register",
        title=word("title"),
        columns=tuple(word(f"col.{k}") for k in keys),
        rows=rows,
        notes=notes,
        sheet="E",
    )


def changes_table(
    previous: Sequence[RegisterEntry], current: Sequence[RegisterEntry], lang: str
) -> Table:
    """:func:`register_changes` as a report table: the change, the entry, and for a rescored
    entry its likelihood and impact of both years as figures (with their lineage ids), for a
    changed horizon both years' horizons."""
    language = "zh" if lang == "zh" else "en"

    def word(key: str) -> str:
        return _word(key, language)

    def horizons(entry: RegisterEntry) -> str:
        return word("sep").join(word(h) for h in entry.horizons)

    def score(entry: RegisterEntry, axis: Axis) -> Figure:
        return _score(entry, axis, language)

    before = {e.entry_id: e for e in previous}
    after = {e.entry_id: e for e in current}
    rows: list[tuple[str | Figure, ...]] = []
    for change in register_changes(previous, current):
        entry = after.get(change.entry_id) or before[change.entry_id]
        old = before.get(change.entry_id)
        cells: tuple[str | Figure, ...] = ("", "", "", "", "", "")
        if change.kind == "rescored" and old is not None:
            cells = (
                score(old, "likelihood"),
                score(old, "impact"),
                score(entry, "likelihood"),
                score(entry, "impact"),
                "",
                "",
            )
        elif change.kind == "horizons" and old is not None:
            cells = ("", "", "", "", horizons(old), horizons(entry))
        rows.append((word(f"change.{change.kind}"), entry.title, *cells))
    columns = (
        word("col.change"),
        word("col.title"),
        f"{word('col.likelihood')} ({word('col.before')})",
        f"{word('col.impact')} ({word('col.before')})",
        f"{word('col.likelihood')} ({word('col.after')})",
        f"{word('col.impact')} ({word('col.after')})",
        f"{word('col.horizons')} ({word('col.before')})",
        f"{word('col.horizons')} ({word('col.after')})",
    )
    return Table(
        block_id="climate.changes",
        title=word("changes.title"),
        columns=columns,
        rows=tuple(rows),
        sheet="E",
    )
