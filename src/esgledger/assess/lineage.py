"""Lineage of the assessment figures a report prints: what ``esgledger explain`` shows for

- ``materiality:<year>:<topic_id>:<impact|financial>``: the topic's score on one axis in the
  campaign of the year the committee signed off last: the weighted mean of the stakeholder
  groups' mean scores, each group with its weight (normalised over the groups that answered),
  its number of responses and its mean; the rule's formula and the campaign's sign-off;
- ``climate:<year>:<entry_id>:<likelihood|impact>``: a score of the climate register of the
  year as imported: the import (file, SHA-256, author, time) and the file's row.

The values are read from the ledger, so a report's figure and its explanation agree.
"""

from __future__ import annotations

import json

import pandas as pd
from sqlalchemy import Engine, select

from esgledger.assess import registers, survey
from esgledger.assess.materiality import load_scales, response_scores
from esgledger.calc.explain import Node
from esgledger.store.engine import TABLES

__all__ = ["FORMS", "KINDS", "assessment_value", "explain_assessment"]

KINDS = ("materiality", "climate")
FORMS = (
    "materiality:<year>:<topic_id>:<impact|financial>, "
    "climate:<year>:<entry_id>:<likelihood|impact>"
)
IMPORT = TABLES["register_import"]


def _parse(figure: str) -> tuple[str, int, str, str]:
    parts = figure.split(":")
    axes = {"materiality": ("impact", "financial"), "climate": ("likelihood", "impact")}
    if (
        len(parts) != 4
        or parts[0] not in axes
        or not parts[1].isdigit()
        or not parts[2]
        or parts[3] not in axes[parts[0]]
    ):
        raise ValueError(f"figure id {figure!r} is not one of {FORMS}")
    return parts[0], int(parts[1]), parts[2], parts[3]


def _materiality(engine: Engine, year: int, topic_id: str, axis: str) -> Node:
    found = survey.signed_off(engine, year)
    if found is None:
        raise ValueError(f"no materiality campaign of {year} was signed off by the committee")
    cid = int(found["campaign_id"])
    responses, weights = survey.campaign_responses(engine, cid)
    scales = load_scales()
    picked = responses[(responses["topic_id"] == topic_id) & (responses["axis"] == axis)]
    if picked.empty:
        raise ValueError(f"campaign {cid} has no {axis} responses on topic {topic_id!r}")
    scores = response_scores(picked, scales)
    groups = (
        pd.DataFrame({"group": picked["group"], "score": scores})
        .groupby("group", sort=True)["score"]
        .agg(["mean", "count"])
    )
    raw = pd.Series(groups.index.map(weights), index=groups.index, dtype=float)
    groups["weight"] = raw / float(raw.sum())
    value = float((groups["weight"] * groups["mean"]).sum())
    if axis == "impact":
        formula = (
            f"per response: mean({', '.join(scales.severity_components)}) × likelihood / "
            f"{scales.impact_divisor:g} (irremediability left out for a positive impact); per "
            "group: the mean; the topic: Σ weight × group mean, weights normalised"
        )
    else:
        formula = (
            f"per response: likelihood × magnitude / {scales.financial_divisor:g}; per group: "
            "the mean; the topic: Σ weight × group mean, weights normalised"
        )
    children = [
        Node(
            f"group {group}",
            float(row["mean"]),
            "",
            {"weight": round(float(row["weight"]), 6), "responses": int(row["count"])},
        )
        for group, row in groups.iterrows()
    ]
    threshold = scales.impact_high if axis == "impact" else scales.financial_high
    return Node(
        f"{axis} materiality of {topic_id}, {year}",
        value,
        "",
        {
            "formula": formula,
            "high at": threshold,
            "campaign": f"{cid} {found['title']}",
            "signed off": f"{found['signed_off_by']} {found['signed_off_at']:%Y-%m-%d %H:%M} UTC",
            "responses": len(picked),
        },
        children,
    )


def _climate(engine: Engine, year: int, entry_id: str, axis: str) -> Node:
    frame = registers.stored_frame(engine, "climate", year)
    if frame.empty or entry_id not in set(frame["entry_id"].str.strip()):
        raise ValueError(f"the climate register of {year} has no entry {entry_id!r}")
    row = frame[frame["entry_id"].str.strip() == entry_id].iloc[0]
    text = str(row[axis]).strip()
    with engine.connect() as conn:
        imported = (
            conn.execute(select(IMPORT).where(IMPORT.c.import_id == int(row["_import_id"])))
            .mappings()
            .one()
        )
    source = {k: v for k, v in row.items() if not str(k).startswith("_")}
    return Node(
        f"climate register {year}: {entry_id} {axis}",
        float(text) if text else None,
        "",
        {
            "scale": "1-5 (empty: not assessed)",
            "file": f"{imported['file_name']} row {int(row['_line'])}",
            "sha256": imported["sha256"],
            "imported": f"{imported['imported_by']} {imported['imported_at']:%Y-%m-%d %H:%M} UTC",
        },
        [
            Node(
                "register row as imported",
                None,
                "",
                {"row": json.dumps(source, ensure_ascii=False)},
            )
        ],
    )


def explain_assessment(engine: Engine, figure: str) -> Node:
    """The derivation tree of an assessment figure id (module doc); ValueError when the id is
    malformed or the ledger has no such figure."""
    kind, year, key, axis = _parse(figure)
    if kind == "materiality":
        return _materiality(engine, year, key, axis)
    return _climate(engine, year, key, axis)


def assessment_value(engine: Engine, figure: str) -> float | None:
    """The value at the root of :func:`explain_assessment`; None when the ledger has no such
    figure (no signed-off campaign, no such entry, a score not assessed). ValueError on a
    malformed id."""
    _parse(figure)
    try:
        return explain_assessment(engine, figure).value
    except ValueError:
        return None
