"""Derivation trees of reported figures, down to factors and source rows.

A figure id names a figure: ``ghg:<year>:<scope>[:<entity>]`` with scope one of S1, S2L, S2M,
S3, TOTAL; or ``energy:<year>[:<entity>]``. The tree is re-derived from the stored records and
the pinned factor data, which is exact because the calculation is deterministic.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from esgledger.calc.result import InventoryResult
from esgledger.domain.figure_id import FigureId
from esgledger.tables import rows

SCOPES = {"S1": (1, "both"), "S2L": (2, "location"), "S2M": (2, "market"), "S3": (3, "both")}
# (entity, year, activity_type, region, limit, is_direct, category) -> (sample rows, count)
RecordLookup = Callable[[str, int, str, Any, int, bool, Any], tuple[list[dict[str, Any]], int]]


@dataclass
class Node:
    label: str
    value: float | None = None
    unit: str = ""
    detail: dict[str, Any] = field(default_factory=dict)
    children: list[Node] = field(default_factory=list)
    record: str | None = None
    """The ``record_id`` of the source row a leaf stands for (data, never read from labels)."""
    kind: str = ""
    """What the node is: figure, entity, group (a category or carrier), line, record, more
    (the rows or lines not shown); empty when not said."""
    figure: str | None = None
    """The figure id this node is on its own (an entity's part of a group figure), whose tree
    shows what is below it."""

    def to_dict(self) -> dict[str, Any]:
        out = {
            "label": self.label,
            "value": None if self.value is None or math.isnan(self.value) else self.value,
            "unit": self.unit,
            "detail": self.detail,
            "children": [c.to_dict() for c in self.children],
        }
        if self.record is not None:
            out["record"] = self.record
        return out

    def records(self) -> set[str]:
        """The record ids of this node and every node below it."""
        found = {self.record} if self.record is not None else set()
        for child in self.children:
            found |= child.records()
        return found


def parse_figure(figure: str) -> tuple[str, int, str | None, str | None]:
    """Split a ``ghg:`` or ``energy:`` figure id into (kind, year, scope, entity), by the
    figure-id grammar (:class:`~esgledger.domain.figure_id.FigureId`)."""
    fid = FigureId.parse(figure)
    if fid.kind not in ("ghg", "energy"):
        raise ValueError(
            f"figure id {figure!r} is not ghg:<year>:<scope>[:<entity>] or energy:<year>[:<entity>]"
        )
    scope = fid.get("scope") if fid.kind == "ghg" else None
    entity = fid.get("entity")
    return (
        fid.kind,
        fid.year,
        None if scope is None else str(scope),
        None if entity is None else str(entity),
    )


def ghg_lines(result: InventoryResult, year: int, scope: str, entity: str | None) -> pd.DataFrame:
    """The inventory lines of a GHG figure (:func:`select_ghg` of the result's lines)."""
    return select_ghg(result.lines, result.settings.scope2_total_basis, year, scope, entity)


def select_ghg(
    lines: pd.DataFrame, total_basis: str, year: int, scope: str, entity: str | None
) -> pd.DataFrame:
    """The rows of a frame of lines (or of their sums by year, entity, scope and basis) that
    a GHG figure adds up: its year, its entity when it names one, its scope, and of scope 2
    the basis it names (``TOTAL``: the total's basis, ``total_basis``)."""
    lines = lines[lines["year"] == year]
    if entity:
        lines = lines[lines["entity_id"] == entity]
    if scope == "TOTAL":
        return lines[lines["basis"].isin(("both", total_basis))]
    number, basis = SCOPES[scope]
    lines = lines[lines["scope"] == number]
    return lines[lines["basis"].isin(("both", basis))]


SUMMED = ["quantity_basis", "quantity_gross", "n_records", "t_gas", "tco2e_gross", "tco2e"]


def over_months(lines: pd.DataFrame) -> pd.DataFrame:
    """Lines of a year with their months added up (the tree lists a line once per year)."""
    keys = [c for c in lines.columns if c not in (*SUMMED, "month")]
    return pd.DataFrame(lines.groupby(keys, as_index=False, dropna=False, sort=True)[SUMMED].sum())


FactorDetails = dict[tuple[Any, Any, Any], dict[str, Any]]
"""Factor details already looked up in one tree, by (method, factor id, activity type)."""


def _factor_detail(
    result: InventoryResult, line: dict[str, Any], seen: FactorDetails | None = None
) -> dict[str, Any]:
    key = (line["method"], line["factor_id"], line["activity_type"])
    if seen is not None and key in seen:
        return dict(seen[key])
    detail = _factor_detail_of(result, line)
    if seen is not None:
        seen[key] = detail
    return dict(detail)


def _factor_detail_of(result: InventoryResult, line: dict[str, Any]) -> dict[str, Any]:
    if line["method"] == "direct":
        return {"formula": "direct CO2e entry: the figure as provided, with its provenance"}
    if line["method"] == "instrument":
        return {
            "formula": "contractual instrument MWh x its factor (0 for GEC / green power, "
            "the supplier's factor for supplier contracts)"
        }
    resolved = result.resolved
    match = resolved[
        (resolved["factor_id"] == line["factor_id"])
        & (resolved["activity_type"] == line["activity_type"])
    ]
    if match.empty:  # market-based residual lines resolve outside the location table
        return {"formula": "residual MWh x grid.residual factor", "factor": line["factor_id"]}
    f: dict[str, Any] = match.iloc[0].to_dict()
    detail = {
        "factor": f"{f['factor_id']} ({f['edition']}; {f['verification']})",
        "formula": f["formula"],
        "source": f["source"],
    }
    if f["fallback"]:
        detail["fallback"] = f["fallback"]
    return detail


def ghg_line_node(
    result: InventoryResult,
    line: dict[str, Any],
    records: RecordLookup | None,
    max_rows: int,
    seen: FactorDetails | None = None,
) -> Node:
    """The node of one inventory line (its months added up), with its source rows."""
    label = (
        f"{line['activity_type']} {line['gas']}: {line['quantity_gross']:,.6g} "
        f"{line['basis_unit']} -> {line['t_gas']:,.6g} t x GWP {line['gwp']:g} "
        f"x share {line['share']:g}"
    )
    node = Node(label, float(line["tco2e"]), "tCO2e", _factor_detail(result, line, seen))
    node.detail["records"] = int(line["n_records"])
    node.kind = "line"
    if records is not None:
        sample, count = records(
            str(line["entity_id"]),
            int(line["year"]),
            line["activity_type"],
            line["region"],
            max_rows,
            line["method"] == "direct",
            line["category"],
        )
        node.children.extend(record_nodes(sample, count, max_rows))
    return node


def energy_line_node(line: dict[str, Any], records: RecordLookup | None, max_rows: int) -> Node:
    """The node of one energy line (its months added up), with its source rows."""
    node = Node(
        f"{line['entity_id']} / {line['activity_type']}: {line['quantity_gross']:,.6g} "
        f"{line['basis_unit']} x {line['coef_kgce_per_basis']:g} kgce [{line['coef_id']}] "
        f"x share {line['share']:g}",
        float(line["tce"]),
        "tce",
        {"records": int(line["n_records"])},
        kind="line",
    )
    if records is not None:
        sample, count = records(
            str(line["entity_id"]),
            int(line["year"]),
            line["activity_type"],
            line["region"],
            max_rows,
            False,
            None,
        )
        node.children.extend(record_nodes(sample, count, max_rows))
    return node


def ghg_root(result: InventoryResult, figure: str, value: float) -> Node:
    """The root of a GHG figure's tree: its value with the settings it was computed in."""
    s = result.settings
    return Node(
        figure,
        value,
        "tCO2e",
        {
            "settings": f"GWP {s.gwp_set}, {s.approach.value}, grid factor {s.grid_level}, "
            f"factors as of {s.factor_as_of or 'latest'}, library {result.library_version}",
            "formula": "sum of lines; line = quantity x factor x GWP x consolidation share",
        },
        kind="figure",
    )


def energy_root(figure: str, value: float) -> Node:
    """The root of an energy figure's tree."""
    return Node(
        figure,
        value,
        "tce",
        {
            "formula": "sum of quantity x GB/T 2589 coefficient (当量值, kgce per unit) / 1000 "
            "x share"
        },
        kind="figure",
    )


def explain_figure(
    result: InventoryResult, figure: str, records: RecordLookup | None = None, max_rows: int = 5
) -> Node:
    """Tree for ``figure``: figure -> entity/category -> line (factor) -> source rows.
    ``carrier:<year>:<activity_type>[:<entity>]`` is the energy tree of one carrier."""
    fid = FigureId.parse(figure)
    if fid.kind == "carrier":
        entity_id = fid.get("entity")
        return _explain_energy(
            result,
            fid.year,
            None if entity_id is None else str(entity_id),
            records,
            max_rows,
            str(fid),
            str(fid.get("activity_type")),
        )
    kind, year, scope, entity = parse_figure(figure)
    if kind == "energy" or scope is None:
        return _explain_energy(result, year, entity, records, max_rows, str(fid))
    lines = over_months(ghg_lines(result, year, scope, entity))
    root = ghg_root(result, figure, float(lines["tco2e"].sum()))
    seen: FactorDetails = {}
    for (ent, category), group in lines.groupby(["entity_id", "category"], sort=True):
        branch = Node(f"{ent} / {category}", float(group["tco2e"].sum()), "tCO2e", kind="group")
        for line in rows(group):
            branch.children.append(ghg_line_node(result, line, records, max_rows, seen))
        root.children.append(branch)
    return root


def record_nodes(sample: list[dict[str, Any]], count: int, max_rows: int) -> list[Node]:
    nodes = []
    for row in sample:
        period = f"{row['year']}" + ("" if pd.isna(row.get("month")) else f"-{row['month']:02d}")
        if "quantity_text" in row:
            amount = f"{row['quantity_text']} {row['unit']}"
        else:
            amount = f"{row['tco2e_text']} tCO2e"
        note = row.get("provenance") if "provenance" in row else row.get("note")
        detail = {"note": note} if isinstance(note, str) and note else {}
        nodes.append(
            Node(
                f"record {row['record_id']} [{row['source_file']}:{row['source_row']}] {period} "
                f"{amount} ({row['data_quality']})",
                None,
                "",
                detail,
                record=str(row["record_id"]),
                kind="record",
            )
        )
    if count > max_rows:
        nodes.append(
            Node(f"... {count - max_rows} more records (--rows N shows more)", kind="more")
        )
    return nodes


ENERGY_SUMMED = [
    "quantity_basis",
    "quantity_gross",
    "n_records",
    "tce_gross",
    "tce_primary_gross",
    "tce",
    "tce_primary",
    "mwh",
]


def energy_lines(
    result: InventoryResult, year: int, entity: str | None, carrier: str | None = None
) -> pd.DataFrame:
    """The energy lines of a year (of an entity, of a carrier), their months added up."""
    energy = result.energy[result.energy["year"] == year]
    if entity:
        energy = energy[energy["entity_id"] == entity]
    if carrier is not None:
        energy = energy[energy["activity_type"] == carrier]
    keys = [c for c in energy.columns if c not in (*ENERGY_SUMMED, "month")]
    return pd.DataFrame(energy.groupby(keys, as_index=False, dropna=False)[ENERGY_SUMMED].sum())


def _explain_energy(
    result: InventoryResult,
    year: int,
    entity: str | None,
    records: RecordLookup | None,
    max_rows: int,
    figure: str,
    carrier: str | None = None,
) -> Node:
    energy = energy_lines(result, year, entity, carrier)
    root = energy_root(figure, float(energy["tce"].sum()))
    for line in rows(energy):
        root.children.append(energy_line_node(line, records, max_rows))
    return root
