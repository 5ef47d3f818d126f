"""Lineage of the assessment figures a report or a page prints: what ``esgledger explain``
shows for

- ``materiality:<year>:<topic_id>:<impact|financial>``: the topic's score on one axis in the
  campaign of the year the committee signed off last: the weighted mean of the stakeholder
  groups' mean scores, each group with its weight (normalised over the groups that answered),
  its number of responses and its mean; the rule's formula and the campaign's sign-off;
- ``climate:<year>:<entry_id>:<likelihood|impact>``: a score of the climate register of the
  year as imported: the import (file, SHA-256, author, time) and the file's row;
- ``supplier:<year>:<supplier_id>``: a supplier's weighted evaluation score with its
  arithmetic, level and follow-up; ``bcm:<year>:<risk_id>``: a business-continuity risk's
  score (likelihood × impact) and grade; ``infosec:<year>:<risk_id>``: an
  information-security risk value (GB/T 20984 multiplication method) and level;
- ``register:<suppliers|bcm|infosec>:<year>:<class>``: the number of rated suppliers of a
  level, of risks of a grade or of a level, with the rows counted.

A register figure names the rules its year is graded with (each table's origin and SHA-256,
frozen when and by whom), or says that the year has none frozen and is graded with the rules
in force.

The values are the Book's assessment results (:mod:`esgledger.usecases.assessment_results`),
the frames the report and the pages print, so a report's figure and its explanation agree. This is
the implementation of the figure registry's assessment provider
(:mod:`esgledger.figures.assessments`).
"""

from __future__ import annotations

import json

import pandas as pd

from esgledger.assess.materiality import Scales, response_scores
from esgledger.book.book import Book
from esgledger.calc.explain import Node
from esgledger.domain.figure_id import FigureId
from esgledger.store import registers as stored
from esgledger.store.engine import LedgerEngine as Engine
from esgledger.usecases.assessment_results import graded, materiality, rules_of

__all__ = ["FORMS", "KINDS", "assessment_value", "explain_assessment"]

KINDS = ("materiality", "climate", "supplier", "bcm", "infosec", "register")
FORMS = (
    "materiality:<year>:<topic_id>:<impact|financial>, "
    "climate:<year>:<entry_id>:<likelihood|impact>, supplier:<year>:<supplier_id>, "
    "bcm:<year>:<risk_id>, infosec:<year>:<risk_id>, "
    "register:<suppliers|bcm|infosec>:<year>:<class>"
)
COUNTED = {"suppliers": "level", "bcm": "grade", "infosec": "risk_level"}
"""The class column of each counted register."""
_REGISTER = {"supplier": "supplier_evaluations", "suppliers": "supplier_evaluations"} | {
    k: k for k in ("bcm", "infosec")
}
"""The register whose results a figure kind (or a counted register) reads."""


def _parse(figure: str) -> tuple[str, int, str, str]:
    """(kind, year, key, axis or class) of an assessment figure id (the one grammar,
    :class:`~esgledger.domain.figure_id.FigureId`)."""
    fid = FigureId.parse(figure)
    if fid.kind not in KINDS:
        raise ValueError(f"figure id {figure!r} is not one of {FORMS}")
    if fid.kind == "register":
        return "register", fid.year, str(fid.get("register")), str(fid.get("class"))
    axis = fid.get("axis") if fid.kind in ("materiality", "climate") else ""
    return fid.kind, fid.year, str(fid.values[1]), str(axis)


def _formula(scales: Scales, axis: str) -> str:
    if axis == "impact":
        return (
            f"per response: mean({', '.join(scales.severity_components)}) × likelihood / "
            f"{scales.impact_divisor:g} (irremediability left out for a positive impact); per "
            "group: the mean; the topic: Σ weight × group mean, weights normalised"
        )
    return (
        f"per response: likelihood × magnitude / {scales.financial_divisor:g}; per group: "
        "the mean; the topic: Σ weight × group mean, weights normalised"
    )


def _materiality(book: Book, year: int, topic_id: str, axis: str) -> Node:
    signed = materiality(book, year)
    if signed is None:
        raise ValueError(f"no materiality campaign of {year} was signed off by the committee")
    cid, found = signed.campaign_id, signed.campaign
    responses, weights, scales = signed.responses, signed.weights, signed.scales
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
            "formula": _formula(scales, axis),
            "high at": threshold,
            "campaign": f"{cid} {found['title']}",
            "signed off": f"{found['signed_off_by']} {found['signed_off_at']:%Y-%m-%d %H:%M} UTC",
            "responses": len(picked),
        },
        children,
    )


def _climate(book: Book, year: int, entry_id: str, axis: str) -> Node:
    engine = book.ledger.engine
    frame = graded(book, "climate", year)
    if frame.empty or entry_id not in set(frame["entry_id"].str.strip()):
        raise ValueError(f"the climate register of {year} has no entry {entry_id!r}")
    row = frame[frame["entry_id"].str.strip() == entry_id].iloc[0]
    text = str(row[axis]).strip()
    imported = stored.import_row(engine, int(row["_import_id"]))
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


def _origin(engine: Engine, import_id: int, line: int) -> dict[str, object]:
    imported = stored.import_row(engine, import_id)
    return {
        "file": f"{imported['file_name']} row {line}",
        "sha256": imported["sha256"],
        "imported": f"{imported['imported_by']} {imported['imported_at']:%Y-%m-%d %H:%M} UTC",
    }


def _rules(book: Book, register: str, year: int) -> dict[str, object]:
    """The rules the year's register is graded with (frozen, or the rules in force: then the
    note saying so)."""
    found = rules_of(book, register, year)
    note = found.note()
    return {"rules": found.describe(), **({} if note is None else {"note": note.message})}


def _row(book: Book, kind: str, year: int, key: str) -> Node:
    engine = book.ledger.engine
    frame = graded(book, _REGISTER[kind], year)
    column = "supplier_id" if kind == "supplier" else "risk_id"
    picked = frame[frame[column].astype(str) == key] if not frame.empty else frame
    if picked.empty:
        raise ValueError(f"the {kind} register of {year} has no row {key!r}")
    row = picked.iloc[0]
    origin = _origin(engine, int(row["_import_id"]), int(row["_line"]))
    origin |= _rules(book, _REGISTER[kind], year)
    if kind == "supplier":
        return Node(
            f"supplier {key}, evaluation {year}",
            float(row["score"]),
            "points",
            {
                "formula": "Σ weight × dimension score / Σ weight (the year's supplier_dimensions)",
                "arithmetic": row["arithmetic"],
                "level": row["level"],
                "follow-up": row["follow_up"],
                **origin,
            },
        )
    if kind == "bcm":
        return Node(
            f"business-continuity risk {key}, {year}",
            float(row["score"]),
            "",
            {
                "formula": "likelihood × impact (1-5 each); grade by the year's bcm_grades",
                "arithmetic": f"{int(row['likelihood'])}×{int(row['impact'])}={int(row['score'])}",
                "grade": row["grade"],
                "treatment": row["treatment"],
                **origin,
            },
        )
    return Node(
        f"information-security risk {key}, {year}",
        float(row["risk_value"]),
        "",
        {
            "formula": "GB/T 20984 multiplication method: L=√(T×V), F=√(A×V), R=L×F "
            "(the year's infosec_method and infosec_levels)",
            "arithmetic": row["arithmetic"],
            "level": f"{int(row['risk_level'])} {row['risk_level_name']}",
            **origin,
        },
    )


def _count(book: Book, kind: str, year: int, cls: str) -> Node:
    frame = graded(book, _REGISTER[kind], year)
    if frame.empty:
        raise ValueError(f"no {kind} register of {year} in the ledger")
    column = COUNTED[kind]
    picked = frame[frame[column].astype(str) == cls]
    key = "supplier_id" if kind == "suppliers" else "risk_id"
    ids = picked[key].astype(str).tolist()
    return Node(
        f"{kind} {year}: rows of {column} {cls}",
        float(len(picked)),
        "rows",
        {
            "of rows": len(frame),
            "counted": ", ".join(ids[:50]) + (" ..." if len(ids) > 50 else ""),
            **_rules(book, _REGISTER[kind], year),
        },
    )


def explain_assessment(book: Book, figure: str) -> Node:
    """The derivation tree of an assessment figure id (module doc); ValueError when the id is
    malformed or the ledger has no such figure."""
    kind, year, key, axis = _parse(figure)
    if kind == "materiality":
        return _materiality(book, year, key, axis)
    if kind == "climate":
        return _climate(book, year, key, axis)
    if kind == "register":
        return _count(book, key, year, axis)
    return _row(book, kind, year, key)


def assessment_value(book: Book, figure: str) -> float | None:
    """The value at the root of :func:`explain_assessment`; None when the ledger has no such
    figure (no signed-off campaign, no such entry, a score not assessed). ValueError on a
    malformed id."""
    _parse(figure)
    try:
        return explain_assessment(book, figure).value
    except ValueError:
        return None
