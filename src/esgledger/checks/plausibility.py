"""Plausibility of activity data against the entity's own history: a warning where a year's
total of an activity type is far above every earlier year of the same entity (a unit typed
wrongly, MWh for kWh, is 1,000x), never a refusal.

Rules are data (``data/plausibility.csv``: ``activity_type`` or ``*``, ``max_ratio``, ``source``).
Quantities are compared in the activity type's basis unit (the factor library's), so 120,000
kWh and 120 MWh are the same year; rows whose unit does not convert to it without a density
(litres of a fuel accounted by mass) are left out of the comparison.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources

import pandas as pd

from esgledger.checks.consistency import Finding
from esgledger.domain.datafile import read_rows
from esgledger.domain.diagnostics import Diagnostic, Severity
from esgledger.factors.library import FactorLibrary
from esgledger.units import UnitError, conversion_factor

__all__ = [
    "Jump",
    "history_findings",
    "in_basis_units",
    "jumps",
    "load_plausibility",
    "plausibility",
]

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


SUM_KEYS = ["entity_id", "year", "activity_type", "unit"]


def activity_sums(records: pd.DataFrame) -> pd.DataFrame:
    """``entity_id, year, activity_type, unit, quantity``: activity records summed per key and
    unit, the history the rule reads (:meth:`esgledger.store.ledger.Ledger.activity_sums`
    answers the same from the database, for an import that holds no records in memory)."""
    if records.empty:
        return pd.DataFrame({k: pd.Series(dtype=object) for k in [*SUM_KEYS, "quantity"]})
    grouped = records.groupby(SUM_KEYS, as_index=False, sort=False, observed=True)
    summed: pd.DataFrame = grouped[["quantity"]].sum()
    return summed


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


@dataclass(frozen=True, slots=True)
class Jump:
    """An entity's year of an activity type far above its largest other year."""

    entity_id: str
    year: int
    activity_type: str
    total: float
    top: float
    top_year: int
    ratio: float
    limit: float
    unit: str

    def message(self) -> str:
        return (
            f"{self.entity_id} {self.activity_type} {self.year}: {self.total:,.6g} {self.unit} "
            f"is {self.ratio:,.0f} times its largest other year ({self.top:,.6g} {self.unit} in "
            f"{self.top_year}; over {self.limit:g} times is implausible): a unit typed wrongly? "
            "If the growth is real, say why in the records' note"
        )


def jumps(totals: pd.DataFrame, history: pd.DataFrame, library: FactorLibrary) -> list[Jump]:
    """The keys of ``totals`` (``entity_id, year, activity_type, quantity`` in basis units)
    above their rule's ratio times the largest other year of ``history`` (same columns).

    Vectorised: per entity and type, the two largest years of the history; a key's largest
    other year is the first of them unless that is its own year, then the second."""
    rules = load_plausibility()
    pair = ["entity_id", "activity_type"]
    ranked = history.sort_values(["quantity", "year"], ascending=[False, True], kind="stable")
    ranked = ranked.assign(rank=ranked.groupby(pair).cumcount())
    tops = [
        ranked.loc[ranked["rank"] == n, [*pair, "year", "quantity"]].rename(
            columns={"year": f"year{n}", "quantity": f"top{n}"}
        )
        for n in (0, 1)
    ]
    merged = totals.merge(tops[0], on=pair, how="left").merge(tops[1], on=pair, how="left")
    own = merged["year0"] == merged["year"]
    merged["top"] = merged["top1"].where(own, merged["top0"])
    merged["top_year"] = merged["year1"].where(own, merged["year0"])
    # a list, not Series.map: on Arrow-backed text (the stored frames) map keeps a text dtype
    merged["limit"] = [float(rules.get(str(k), rules["*"])) for k in merged["activity_type"]]
    valid = merged["top"].notna() & (merged["top"] > 0)
    merged = merged[valid]
    merged = merged[merged["quantity"] / merged["top"] > merged["limit"]]
    return [
        Jump(
            str(entity),
            int(year),
            str(kind),
            float(total),
            float(top),
            int(top_year),
            float(total) / float(top),
            float(limit),
            str(library.type_rows[str(kind)]["basis_unit"]),
        )
        for entity, year, kind, total, top, top_year, limit in zip(
            merged["entity_id"],
            merged["year"],
            merged["activity_type"],
            merged["quantity"],
            merged["top"],
            merged["top_year"],
            merged["limit"],
            strict=True,
        )
    ]


def plausibility(
    new: pd.DataFrame, stored: pd.DataFrame, library: FactorLibrary, file: str | None = None
) -> list[Diagnostic]:
    """Warnings (at the first row of the key in ``file``) for each entity, year and activity
    type whose total with ``new`` records (``entity_id, year, activity_type, quantity, unit``,
    and ``source_row`` when known) jumps above the entity's other years in ``stored`` (same
    columns): :func:`jumps`."""
    added = in_basis_units(new, library)
    before = in_basis_units(stored, library) if len(stored) else added.iloc[0:0]
    both = pd.concat([added, before], ignore_index=True).groupby(KEYS, as_index=False).sum()
    totals = added[KEYS].merge(both, on=KEYS)
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
    return [
        Diagnostic(
            "plausibility",
            jump.message(),
            Severity.WARNING,
            file=file,
            row=first_row.get((jump.entity_id, jump.year, jump.activity_type)),
            column="quantity",
        )
        for jump in jumps(totals, before, library)
    ]


def history_findings(
    stored: pd.DataFrame, library: FactorLibrary, years: Collection[int] | None = None
) -> list[Finding]:
    """The same rule over what a ledger holds (``esgledger check``): each year of ``years``
    (all when None) against the entity's other years, as findings (rule ``plausibility``)."""
    totals = in_basis_units(stored, library)
    wanted = totals if years is None else totals[totals["year"].isin(list(years))]
    return [
        Finding(
            rule="plausibility",
            severity=Severity.WARNING,
            metric_id=f"activity.{jump.activity_type}",
            entity_id=jump.entity_id,
            year=jump.year,
            message=jump.message(),
            figures=(
                (f"activity.{jump.activity_type}:{jump.year}", jump.total),
                (f"activity.{jump.activity_type}:{jump.top_year}", jump.top),
            ),
            difference=jump.total - jump.top,
            tolerance=jump.limit,
        )
        for jump in jumps(wanted, totals, library)
    ]
