"""Derivation trees of reported figures, down to factors and source rows.

A figure id names a figure: ``ghg:<year>:<scope>[:<entity>]`` with scope one of S1, S2L, S2M,
S3, TOTAL; or ``energy:<year>[:<entity>]``. The tree is re-derived from the stored records and
the pinned factor data, which is exact because the calculation is deterministic.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from esgledger.calc.engine import InventoryResult

SCOPES = {"S1": (1, "both"), "S2L": (2, "location"), "S2M": (2, "market"), "S3": (3, "both")}


@dataclass
class Node:
    label: str
    value: float | None = None
    unit: str = ""
    detail: dict[str, Any] = field(default_factory=dict)
    children: list[Node] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "value": self.value,
            "unit": self.unit,
            "detail": self.detail,
            "children": [c.to_dict() for c in self.children],
        }


def parse_figure(figure: str) -> tuple[str, int, str | None, str | None]:
    parts = figure.split(":")
    if len(parts) < 2 or parts[0] not in ("ghg", "energy"):
        raise ValueError(
            f"figure id {figure!r} is not ghg:<year>:<scope>[:<entity>] or energy:<year>[:<entity>]"
        )
    kind, year = parts[0], int(parts[1])
    if kind == "ghg":
        if len(parts) < 3 or parts[2].upper() not in (*SCOPES, "TOTAL"):
            raise ValueError(f"scope in {figure!r} must be S1, S2L, S2M, S3 or TOTAL")
        return kind, year, parts[2].upper(), parts[3] if len(parts) > 3 else None
    return kind, year, None, parts[2] if len(parts) > 2 else None


def _lines_for(result: InventoryResult, year: int, scope: str, entity: str | None) -> pd.DataFrame:
    lines = result.lines[result.lines["year"] == year]
    if entity:
        lines = lines[lines["entity_id"] == entity]
    if scope == "TOTAL":
        return lines[lines["basis"].isin(("both", result.settings.scope2_total_basis))]
    number, basis = SCOPES[scope]
    lines = lines[lines["scope"] == number]
    return lines[lines["basis"].isin(("both", basis) if basis != "both" else ("both",))]


def explain_figure(
    result: InventoryResult, figure: str, records: Any = None, max_rows: int = 5
) -> Node:
    """Tree for ``figure``; ``records(entity, year, activity_type, region, limit)`` returns
    (sample frame, count) of the stored source rows of a line."""
    kind, year, scope, entity = parse_figure(figure)
    if kind == "energy":
        return _explain_energy(result, year, entity, records, max_rows)
    assert scope is not None
    lines = _lines_for(result, year, scope, entity)
    root = Node(
        figure,
        float(lines["tco2e"].sum()),
        "tCO2e",
        {
            "settings": {
                "gwp_set": result.settings.gwp_set,
                "approach": result.settings.approach.value,
                "grid_level": result.settings.grid_level,
                "factor_as_of": str(result.settings.factor_as_of or "latest"),
                "factor_library": result.library_version,
            },
            "formula": "sum of lines: quantity x factor x GWP x consolidation share",
        },
    )
    resolved = result.resolved
    for (ent, category), group in lines.groupby(["entity_id", "category"], sort=True):
        cat = Node(f"{ent} / {category}", float(group["tco2e"].sum()), "tCO2e")
        for line in group.itertuples(index=False):
            factor = resolved[
                (resolved["factor_id"] == line.factor_id)
                & (resolved["activity_type"] == line.activity_type)
            ]
            detail: dict[str, Any] = {
                "activity_type": line.activity_type,
                "region": line.region,
                "gas": line.gas,
                "quantity": line.quantity_basis,
                "quantity_unit": line.basis_unit,
                "factor_id": line.factor_id,
                "t_gas": line.t_gas,
                "gwp": line.gwp,
                "share": line.share,
                "records": int(line.n_records),
                "basis": line.basis,
            }
            if not factor.empty:
                f = factor.iloc[0]
                detail.update(
                    {
                        "factor_t_per_unit": float(f["ef"]),
                        "formula": f["formula"],
                        "source": f["source"],
                        "edition": f["edition"],
                        "verification": f["verification"],
                        "fallback": f["fallback"] or "none",
                    }
                )
            elif line.method == "direct":
                detail["formula"] = "direct CO2e entry with provenance"
            node = Node(
                f"{line.activity_type} {line.gas} [{line.factor_id}]",
                float(line.tco2e),
                "tCO2e",
                detail,
            )
            if records is not None:
                sample, count = records(
                    ent,
                    year,
                    line.activity_type,
                    line.region,
                    max_rows,
                    line.method == "direct",
                    line.category,
                )
                node.children.extend(_record_nodes(sample, count, max_rows))
            cat.children.append(node)
        root.children.append(cat)
    return root


def _record_nodes(sample: pd.DataFrame, count: int, max_rows: int) -> list[Node]:
    nodes = []
    for row in sample.to_dict("records"):
        where = f"{row.get('source_file')}:{row.get('source_row')}"
        value = row.get("quantity", row.get("tco2e"))
        nodes.append(
            Node(
                f"record {row.get('record_id')} ({where})",
                None if value is None else float(value),
                str(row.get("unit", "tCO2e")),
                {
                    k: (None if pd.isna(v) else v)
                    for k, v in row.items()
                    if k
                    in (
                        "period",
                        "year",
                        "month",
                        "entity_id",
                        "data_quality",
                        "provenance",
                        "note",
                        "quantity_text",
                        "tco2e_text",
                    )
                },
            )
        )
    if count > max_rows:
        nodes.append(Node(f"... and {count - max_rows} more records (esgledger explain --rows N)"))
    return nodes


def _explain_energy(
    result: InventoryResult, year: int, entity: str | None, records: Any, max_rows: int
) -> Node:
    energy = result.energy[result.energy["year"] == year]
    if entity:
        energy = energy[energy["entity_id"] == entity]
    root = Node(
        f"energy:{year}" + (f":{entity}" if entity else ""),
        float(energy["tce"].sum()),
        "tce",
        {"formula": "sum of quantity x GB/T 2589 coefficient (当量值) x share"},
    )
    for line in energy.itertuples(index=False):
        node = Node(
            f"{line.entity_id} / {line.activity_type} [{line.coef_id}]",
            float(line.tce),
            "tce",
            {
                "quantity": line.quantity_basis,
                "unit": line.basis_unit,
                "kgce_per_unit": line.coef_kgce_per_basis,
                "share": line.share,
                "records": int(line.n_records),
            },
        )
        if records is not None:
            sample, count = records(
                line.entity_id, year, line.activity_type, line.region, max_rows, False, None
            )
            node.children.extend(_record_nodes(sample, count, max_rows))
        root.children.append(node)
    return root
