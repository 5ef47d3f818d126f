"""Provider of ``ghg:`` and ``energy:`` figures: the Book's inventory, its lines and records.

The rows of a line are the stored records with the line's entity, year, activity type and
effective region (the record's region, else its entity's), exactly those the calculation
aggregated; records entered in forms or posted by adjustments come first, so that a sample of
a few rows always shows them.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import pandas as pd

from esgledger.book.book import Book
from esgledger.calc.explain import Node, RecordLookup, explain_figure
from esgledger.calc.outline import MAX_LINES, Parts, outline_figure, parts_of
from esgledger.domain.figure_id import FigureId
from esgledger.tables import rows


def effective_records(book: Book) -> pd.DataFrame:
    """Every activity record with ``eff_region``, the region the calculation resolved its
    factors in (the record's own, else its entity's): what lineage matches lines against."""

    def compute() -> pd.DataFrame:
        data = book.inventory_input()
        regions = {e.entity_id: e.region for e in data.organisation}
        return data.records.assign(
            eff_region=data.records["region"].fillna(data.records["entity_id"].map(regions))
        )

    frame: pd.DataFrame = book.memo(("effective_records",), compute)
    return frame


Groups = dict[Hashable, Any]
"""Row positions of a frame by key (``DataFrame.groupby(keys).indices``)."""
ACTIVITY_KEYS = ["entity_id", "year", "activity_type"]
DIRECT_KEYS = ["entity_id", "year", "category"]


def record_groups(book: Book) -> tuple[Groups, Groups]:
    """The positions of the effective records by (entity, year, activity type) and of the
    direct records by (entity, year, category), computed once per Book: a group figure's
    tree looks up each of its lines' records instead of scanning every record per line
    (thousands of lines x hundreds of thousands of records)."""

    def compute() -> tuple[Groups, Groups]:
        records, direct = effective_records(book), book.inventory_input().direct
        return (
            dict(records.groupby(ACTIVITY_KEYS, sort=False).indices) if len(records) else {},
            dict(direct.groupby(DIRECT_KEYS, sort=False).indices) if len(direct) else {},
        )

    found: tuple[Groups, Groups] = book.memo(("effective_records.groups",), compute)
    return found


Rows = list[dict[str, Any]]
LineKey = tuple[object, ...]
"""A line's records by (activity type, effective region) or, for direct entries, (category,)."""
Entered = frozenset[tuple[str, int]]
"""Records entered in forms or posted by adjustments, by (table, row id)."""


def _region(value: object) -> str | None:
    return None if value is None or pd.isna(value) else str(value)  # type: ignore[call-overload]


def _of_entity_year(
    frame: pd.DataFrame, groups: Groups, entity: str, year: int, table: str, entered: Entered
) -> dict[LineKey, Rows]:
    """The records of one entity and year by line key, forms and adjustments first (then by
    row id) when there are any, else in the ledger's order: one read of the frame per tree
    instead of one per line."""
    wanted = (entity, year)
    positions = [
        p
        for key, found in groups.items()
        if isinstance(key, tuple) and key[:2] == wanted
        for p in found
    ]
    by_line: dict[LineKey, Rows] = {}
    if not positions:
        return by_line
    for row in rows(frame.take(sorted(positions))):
        if table == "direct":
            key: LineKey = (row["category"],)
        else:
            key = (row["activity_type"], _region(row["eff_region"]))
        by_line.setdefault(key, []).append(row)
    if entered:
        for found in by_line.values():
            found.sort(key=lambda r: ((table, int(r["rid"])) not in entered, int(r["rid"])))
    return by_line


def record_lookup(book: Book) -> RecordLookup:
    """How a tree of the Book's inventory finds a line's source rows and their number: the
    records it aggregated (direct entries of its entity, year and category; activity records
    of its entity, year, activity type and effective region, the record's region else its
    entity's), forms and adjustments first, so that a sample of a few rows shows them. What
    it reads is the Book's (memoised), at the first line looked up: a tree that lists no
    line reads no record."""
    seen: dict[tuple[str, int, bool], dict[LineKey, Rows]] = {}

    def lineage(
        entity: str,
        year: int,
        activity_type: str,
        region: str | None,
        limit: int,
        is_direct: bool,
        category: str | None,
    ) -> tuple[Rows, int]:
        part = seen.get((entity, year, is_direct))
        if part is None:
            entered: Entered = book.memo(("entered_records",), book.ledger.entered_records)
            activity, direct = record_groups(book)
            if is_direct:
                frame, groups, table = book.inventory_input().direct, direct, "direct"
            else:
                frame, groups, table = effective_records(book), activity, "activity"
            part = _of_entity_year(frame, groups, entity, year, table, entered)
            seen[(entity, year, is_direct)] = part
        key: LineKey = (category,) if is_direct else (activity_type, _region(region))
        match = part.get(key, [])
        return match[:limit], len(match)

    return lineage


def explain(book: Book, fid: FigureId, rows: int) -> Node:
    """The tree of a ``ghg:`` or ``energy:`` figure with the source rows of each line
    (:func:`record_lookup`)."""
    result = book.inventory_of(fid.year)
    return explain_figure(result, str(fid), records=record_lookup(book), max_rows=rows)


def outline(book: Book, fid: FigureId, rows: int, lines: int = MAX_LINES) -> Node:
    """The tree of a ``ghg:`` or ``energy:`` figure as a page lists it, one level at a time
    (:func:`esgledger.calc.outline.outline_figure`): a group figure's entities and their
    categories; an entity's largest ``lines`` lines of each category with their rows."""
    result = book.inventory_of(fid.year)
    return outline_figure(
        result, str(fid), record_lookup(book), rows, lines, outline_parts(book, fid.year)
    )


def outline_parts(book: Book, year: int) -> Parts:
    """The sums a group figure's tree lists (:func:`esgledger.calc.outline.parts_of`), once
    per Book."""
    result = book.inventory_of(year)
    found: Parts = book.memo(("outline.parts", result.settings), lambda: parts_of(result))
    return found


def value(book: Book, fid: FigureId) -> float | None:
    """The figure's value; None when the inventory has no line for it (not 0)."""
    node = explain_figure(book.inventory_of(fid.year), str(fid))
    return node.value if node.children else None
