"""Plausibility of activity data against the entity's own history: a warning where a year's
total of an activity type is far above every earlier year of the same entity (a unit typed
wrongly, MWh for kWh, is 1,000x), never a refusal.

Rules are data (``data/plausibility.csv``: ``activity_type`` or ``*``, ``max_ratio``, ``source``).
Quantities are compared in the activity type's basis unit (the factor library's), so 120,000
kWh and 120 MWh are the same year; rows whose unit does not convert to it without a density
(litres of a fuel accounted by mass) are left out of the comparison.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from importlib import resources

import pandas as pd

from esgledger.domain.datafile import read_rows
from esgledger.domain.diagnostics import Diagnostic, Severity
from esgledger.factors.library import FactorLibrary
from esgledger.units import UnitError, conversion_factor

__all__ = ["in_basis_units", "load_plausibility", "plausibility"]

RULES_FILE = "plausibility.csv"
KEYS = ["entity_id", "year", "activity_type"]


@cache
def load_plausibility() -> Mapping[str, float]:
    """activity_type (or ``*``, the default) -> the largest plausible ratio of a year's total
    to the entity's largest earlier year."""
    text = resources.files("esgledger.checks").joinpath("data", RULES_FILE).read_text("utf-8")
    rows, problems = read_rows(
        text, RULES_FILE, ("activity_type", "max_ratio", "source"), "rules", "rules"
    )
    if problems:
        raise ValueError("; ".join(str(p) for p in problems))
    return {r["activity_type"].strip(): float(r["max_ratio"]) for _, r in rows}


def in_basis_units(frame: pd.DataFrame, library: FactorLibrary) -> pd.DataFrame:
    """``entity_id, year, activity_type, quantity`` summed per key in each type's basis unit
    (rows of ``quantity`` and ``unit``; units that need a density are left out)."""
    factors: dict[tuple[str, str], float | None] = {}
    scale = []
    for kind, unit in zip(frame["activity_type"], frame["unit"], strict=True):
        key = (str(kind), str(unit))
        if key not in factors:
            basis = library.type_rows.get(key[0], {}).get("basis_unit")
            try:
                factors[key] = None if basis is None else conversion_factor(key[1], str(basis))
            except (UnitError, ValueError):
                factors[key] = None
        scale.append(factors[key])
    converted = frame.assign(
        quantity=frame["quantity"].astype(float) * pd.Series(scale, index=frame.index, dtype=float)
    )
    converted = converted.dropna(subset=["quantity"])
    summed: pd.DataFrame = converted.groupby(KEYS, as_index=False)[["quantity"]].sum()
    return summed


def plausibility(
    new: pd.DataFrame, stored: pd.DataFrame, library: FactorLibrary, file: str | None = None
) -> list[Diagnostic]:
    """Warnings (at the first row of the key in ``file``) for each entity, year and activity
    type whose total with ``new`` records (``entity_id, year, activity_type, quantity, unit``,
    and ``source_row`` when known) exceeds the rule's ratio times the
    entity's largest total of that type in any other year of ``stored`` (same columns)."""
    rules = load_plausibility()
    added = in_basis_units(new, library)
    first_row: dict[tuple[str, int, str], int] = {}
    if "source_row" in new.columns:
        rows = new.dropna(subset=["source_row"]).groupby(KEYS, as_index=False)["source_row"].min()
        first_row = {
            (str(e), int(y), str(k)): int(r)
            for e, y, k, r in zip(
                rows["entity_id"],
                rows["year"],
                rows["activity_type"],
                rows["source_row"],
                strict=True,
            )
        }
    before = in_basis_units(stored, library) if len(stored) else added.iloc[0:0]
    found = []
    for entity, year, kind, quantity in zip(
        added["entity_id"].astype(str),
        added["year"].astype(int),
        added["activity_type"].astype(str),
        added["quantity"].to_numpy(dtype=float),
        strict=True,
    ):
        same = before[(before["entity_id"] == entity) & (before["activity_type"] == kind)]
        others = same[same["year"] != year]
        if others.empty or float(others["quantity"].max()) <= 0:
            continue
        ordered = others.sort_values("quantity", ascending=False, kind="stable")
        top_quantity, top_year = float(ordered["quantity"].iloc[0]), int(ordered["year"].iloc[0])
        already = same.loc[same["year"] == year, "quantity"].to_numpy(dtype=float).sum()
        total = float(quantity) + float(already)
        ratio = total / top_quantity
        limit = rules.get(kind, rules["*"])
        if ratio > limit:
            unit = library.type_rows[kind]["basis_unit"]
            found.append(
                Diagnostic(
                    "plausibility",
                    f"{entity} {kind} {year}: {total:,.6g} {unit} is "
                    f"{ratio:,.0f} times its largest other year ({top_quantity:,.6g} "
                    f"{unit} in {top_year}; over {limit:g} times is implausible): a unit "
                    "typed wrongly? If the growth is real, say why in the records' note",
                    Severity.WARNING,
                    file=file,
                    row=first_row.get((entity, year, kind)),
                    column="quantity",
                )
            )
    return found
