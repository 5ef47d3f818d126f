"""The derivation tree of a ``ghg:`` or ``energy:`` figure one level at a time, for pages.

:func:`esgledger.calc.explain.explain_figure` gives the whole tree (every line with its
source rows), which a verifier asks for on the command line. A page shows what a reader can
take in and opens the rest on demand, so that a group figure of a ledger of millions of
records answers as fast as one of a few hundred:

- a **group figure** (no entity): the figure, then one node per entity (``kind`` entity,
  ``figure`` its own figure id, whose tree shows the rest), then that entity's categories
  (GHG) or carriers (energy) with their values; no lines;
- an **entity's figure**: the figure, its categories (GHG), then each category's lines, the
  largest ``max_lines`` by absolute value first, each with its first ``max_rows`` source rows;
  a ``more`` node (``detail["lines"]``) counts the lines not shown.

Every value is the same sum of the same inventory lines as in the whole tree: only what is
listed differs.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from esgledger.calc.explain import (
    FactorDetails,
    Node,
    RecordLookup,
    energy_line_node,
    energy_lines,
    energy_root,
    ghg_line_node,
    ghg_lines,
    ghg_root,
    over_months,
    parse_figure,
    select_ghg,
)
from esgledger.calc.result import InventoryResult
from esgledger.domain.figure_id import FigureId
from esgledger.tables import rows

MAX_LINES = 25
"""Lines of a category (or of an entity's energy) listed before the ``more`` node."""


GHG_PARTS = ["year", "entity_id", "category", "scope", "basis"]
ENERGY_PARTS = ["year", "entity_id", "activity_type"]


@dataclass(frozen=True)
class Parts:
    """The inventory's sums by (year, entity, category, scope, basis) of tCO2e and by (year,
    entity, carrier) of tce: what a group figure's tree lists, summed once per inventory
    instead of once per figure."""

    ghg: pd.DataFrame
    energy: pd.DataFrame


def parts_of(result: InventoryResult) -> Parts:
    """The :class:`Parts` of an inventory."""
    ghg = result.lines.groupby(GHG_PARTS, as_index=False, dropna=False, sort=True)["tco2e"].sum()
    energy = result.energy.groupby(ENERGY_PARTS, as_index=False, dropna=False, sort=True)
    return Parts(pd.DataFrame(ghg), pd.DataFrame(energy["tce"].sum()))


def outline_figure(
    result: InventoryResult,
    figure: str,
    records: RecordLookup | None = None,
    max_rows: int = 10,
    max_lines: int = MAX_LINES,
    parts: Parts | None = None,
) -> Node:
    """The tree of ``figure`` as a page lists it (see the module text); ``parts`` (of the
    same inventory) spares a group figure summing the lines again."""
    kind, year, scope, entity = parse_figure(figure)
    if kind == "energy" or scope is None:
        return _energy(result, figure, year, entity, records, max_rows, max_lines, parts)
    if entity is None:
        found = parts_of(result) if parts is None else parts
        lines = select_ghg(found.ghg, result.settings.scope2_total_basis, year, scope, None)
        root = ghg_root(result, figure, float(lines["tco2e"].sum()))
        for ent, of_entity in lines.groupby("entity_id", sort=True):
            node = _entity_node(str(ent), of_entity, "tco2e", "tCO2e")
            node.figure = str(FigureId.of("ghg", year, scope, str(ent)))
            for category, part in of_entity.groupby("category", sort=True):
                node.children.append(_part(f"{ent} / {category}", part, "tco2e", "tCO2e"))
            root.children.append(node)
        return root
    lines = ghg_lines(result, year, scope, entity)
    root = ghg_root(result, figure, float(lines["tco2e"].sum()))
    seen: FactorDetails = {}
    for key, group in over_months(lines).groupby(["entity_id", "category"], sort=True):
        branch = _part(" / ".join(str(k) for k in key), group, "tco2e", "tCO2e")
        for line in rows(largest(group, "tco2e", max_lines)):
            branch.children.append(ghg_line_node(result, line, records, max_rows, seen))
        branch.children.extend(_more_lines(len(group), max_lines))
        root.children.append(branch)
    return root


def largest(lines: pd.DataFrame, column: str, limit: int) -> pd.DataFrame:
    """The ``limit`` lines of largest absolute ``column``, largest first (ties in the
    lines' order)."""
    order = lines[column].astype("float64").abs().sort_values(ascending=False, kind="stable")
    return lines.loc[order.index[:limit]]


def _entity_node(entity: str, part: pd.DataFrame, column: str, unit: str) -> Node:
    return Node(entity, float(part[column].sum()), unit, kind="entity")


def _part(label: str, part: pd.DataFrame, column: str, unit: str) -> Node:
    return Node(label, float(part[column].sum()), unit, kind="group")


def _more_lines(count: int, shown: int) -> list[Node]:
    if count <= shown:
        return []
    hidden = count - shown
    return [Node(f"... {hidden} more lines", kind="more", detail={"lines": hidden})]


def _energy(
    result: InventoryResult,
    figure: str,
    year: int,
    entity: str | None,
    records: RecordLookup | None,
    max_rows: int,
    max_lines: int,
    parts: Parts | None,
) -> Node:
    if entity is None:
        found = parts_of(result) if parts is None else parts
        energy = found.energy[found.energy["year"] == year]
        root = energy_root(figure, float(energy["tce"].sum()))
        for ent, of_entity in energy.groupby("entity_id", sort=True):
            node = _entity_node(str(ent), of_entity, "tce", "tce")
            node.figure = str(FigureId.of("energy", year, str(ent)))
            for carrier, part in of_entity.groupby("activity_type", sort=True):
                node.children.append(_part(f"{ent} / {carrier}", part, "tce", "tce"))
            root.children.append(node)
        return root
    lines = energy_lines(result, year, entity)
    root = energy_root(figure, float(lines["tce"].sum()))
    for line in rows(largest(lines, "tce", max_lines)):
        root.children.append(energy_line_node(line, records, max_rows))
    root.children.extend(_more_lines(len(lines), max_lines))
    return root
