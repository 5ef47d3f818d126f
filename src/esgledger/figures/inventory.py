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
from esgledger.calc.explain import Node, explain_figure
from esgledger.domain.figure_id import FigureId


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


def _take(frame: pd.DataFrame, groups: Groups, key: tuple[object, ...]) -> pd.DataFrame:
    positions = groups.get(key)
    return frame.take([] if positions is None else list(positions))


def line_records(
    records: pd.DataFrame,
    direct_records: pd.DataFrame,
    entity: str,
    year: int,
    activity_type: str,
    region: str | None,
    direct: bool,
    category: str | None,
    groups: tuple[Groups, Groups] | None = None,
) -> pd.DataFrame:
    """The records an inventory line aggregated: direct records of its entity, year and
    category, or activity records of its entity, year, activity type and effective region
    (``eff_region``: the record's region, else its entity's; none when neither had one).
    ``groups`` (:func:`record_groups` of the same frames) finds them without a scan."""
    if direct:
        d = direct_records
        if groups is not None:
            return _take(d, groups[1], (entity, year, category))
        return d[(d["entity_id"] == entity) & (d["year"] == year) & (d["category"] == category)]
    r = records
    if groups is not None:
        match = _take(r, groups[0], (entity, year, activity_type))
    else:
        match = r[
            (r["entity_id"] == entity) & (r["year"] == year) & (r["activity_type"] == activity_type)
        ]
    if region is None or pd.isna(region):
        return match[match["eff_region"].isna()]
    return match[match["eff_region"] == region]


def _entered_first(
    match: pd.DataFrame, table: str, entered: frozenset[tuple[str, int]]
) -> pd.DataFrame:
    if not entered or match.empty:
        return match
    later = pd.Series([(table, int(r)) not in entered for r in match["rid"]], index=match.index)
    ordered = match.assign(_later=later).sort_values(["_later", "rid"], kind="stable")
    return ordered.drop(columns="_later")


def explain(book: Book, fid: FigureId, rows: int) -> Node:
    """The tree of a ``ghg:`` or ``energy:`` figure with the source rows of each line."""
    result = book.inventory_of(fid.year)
    direct = book.inventory_input().direct
    records = effective_records(book)
    groups = record_groups(book)
    entered = book.memo(("entered_records",), book.ledger.entered_records)

    def lineage(
        entity: str,
        year: int,
        activity_type: str,
        region: str | None,
        limit: int,
        is_direct: bool,
        category: str | None,
    ) -> tuple[pd.DataFrame, int]:
        match = line_records(
            records, direct, entity, year, activity_type, region, is_direct, category, groups
        )
        ordered = _entered_first(match, "direct" if is_direct else "activity", entered)
        return ordered.head(limit), len(match)

    return explain_figure(result, str(fid), records=lineage, max_rows=rows)


def value(book: Book, fid: FigureId) -> float | None:
    """The figure's value; None when the inventory has no line for it (not 0)."""
    node = explain_figure(book.inventory_of(fid.year), str(fid))
    return node.value if node.children else None
