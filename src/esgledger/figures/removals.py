"""Provider of ``removals:`` figures: GHG removals, apart from every scope (ISO 14064-1
5.2.4; the GHG Protocol reports removals separately and never nets them).

The tree of ``removals:<year>[:<entity>]`` lists each entity's removal lines (activity type
and effective region) with the records they add up; the value is the consolidated tCO2
removed, None when no removal is recorded for the year.
"""

from __future__ import annotations

from typing import Any

from esgledger.book.book import Book
from esgledger.calc.explain import Node, record_nodes
from esgledger.domain.figure_id import FigureId
from esgledger.figures.inventory import record_lookup
from esgledger.tables import rows as rows_of


def _removals(book: Book, fid: FigureId) -> tuple[float | None, list[dict[str, Any]]]:
    result = book.inventory_of(fid.year)
    entity = fid.get("entity")
    found = result.removals[result.removals["year"] == fid.year]
    if entity is not None:
        found = found[found["entity_id"] == str(entity)]
    keys = ["entity_id", "activity_type", "region", "share"]
    lines = found.groupby(keys, as_index=False, dropna=False)[
        ["n_records", "tco2_gross", "tco2"]
    ].sum()
    value = result.removal_total(fid.year, None if entity is None else str(entity))
    return value, rows_of(lines)


def explain(book: Book, fid: FigureId, rows: int) -> Node:
    """The tree of a removals figure down to its records."""
    value, lines = _removals(book, fid)
    root = Node(
        str(fid),
        value,
        "tCO2",
        {
            "formula": "sum of removal records in tCO2 x consolidation share; reported apart "
            "from scopes 1-3 and never netted against them (ISO 14064-1 5.2.4)"
        },
        kind="figure",
    )
    lookup = record_lookup(book)
    for line in lines:
        node = Node(
            f"{line['entity_id']} / {line['activity_type']}: {float(line['tco2_gross']):,.6g} tCO2 "
            f"x share {float(line['share']):g}",
            float(line["tco2"]),
            "tCO2",
            {"records": int(line["n_records"])},
            kind="line",
        )
        region = line["region"]
        region_code = str(region) if isinstance(region, str) else None
        sample, count = lookup(
            str(line["entity_id"]),
            fid.year,
            str(line["activity_type"]),
            region_code,
            rows,
            False,
            None,
        )
        node.children.extend(record_nodes(sample, count, rows))
        root.children.append(node)
    return root


def value(book: Book, fid: FigureId) -> float | None:
    """The consolidated tCO2 removed; None when no removal is recorded for the year."""
    found, _ = _removals(book, fid)
    return found
