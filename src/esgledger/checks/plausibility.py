"""Plausibility of activity data against the entity's own history: a warning where a year's
total of an activity type is far above every other year of the same entity (a unit typed
wrongly, MWh for kWh, is 1,000x), or a month's total far above the same month of every other
year (one monthly record with an extra zero, which a year's total hides: 11 months of 100 and
one of 1,000 is only 1.8x the year before); never a refusal. A month of a year already flagged
is not flagged again.

Rules are data (``data/plausibility.csv``: ``activity_type`` or ``*``, ``max_ratio``, ``source``).
Quantities are compared in the activity type's basis unit (the factor library's), so 120,000
kWh and 120 MWh are the same year; rows whose unit does not convert to it without a density
(litres of a fuel accounted by mass) are left out of the comparison.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
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
    "in_basis",
    "jumps",
    "load_plausibility",
    "plausibility",
    "summed",
]

RULES_FILE = "plausibility.csv"
KEYS = ["entity_id", "year", "activity_type"]
MONTH_KEYS = ["entity_id", "year", "month", "activity_type"]
#: What a period is compared within: the same entity and type (years), and the same calendar
#: month too (months: January with January, so a heating season is no jump).
YEARS_OF = ("entity_id", "activity_type")
MONTHS_OF = ("entity_id", "activity_type", "month")


@cache
def load_plausibility() -> Mapping[str, float]:
    """activity_type (or ``*``, the default) -> the largest plausible ratio of a period's total
    (a year; a month) to the entity's largest other year (of the same month)."""
    text = resources.files("esgledger.checks").joinpath("data", RULES_FILE).read_text("utf-8")
    rows, problems = read_rows(
        text, RULES_FILE, ("activity_type", "max_ratio", "source"), "rules", "rules"
    )
    if problems:
        raise ValueError("; ".join(str(p) for p in problems))
    return {r["activity_type"].strip(): float(r["max_ratio"]) for _, r in rows}


SUM_KEYS = ["entity_id", "year", "month", "activity_type", "unit"]


def activity_sums(records: pd.DataFrame) -> pd.DataFrame:
    """``entity_id, year, month, activity_type, unit, quantity``: activity records summed per
    key and unit (``month`` empty for yearly records), the history the rule reads
    (:meth:`esgledger.store.ledger.Ledger.activity_sums` answers the same from the database,
    for an import that holds no records in memory)."""
    if records.empty:
        return pd.DataFrame({k: pd.Series(dtype=object) for k in [*SUM_KEYS, "quantity"]})
    grouped = records.groupby(SUM_KEYS, as_index=False, sort=False, observed=True, dropna=False)
    summed: pd.DataFrame = grouped[["quantity"]].sum()
    return summed


def in_basis(frame: pd.DataFrame, library: FactorLibrary) -> pd.DataFrame:
    """The rows of ``frame`` (``quantity`` and ``unit``) with ``quantity`` in each activity
    type's basis unit; rows whose unit does not convert to it without a density (litres of a
    fuel accounted by mass) are left out. One conversion factor per distinct type and unit."""
    kinds, units = frame["activity_type"].astype(str), frame["unit"].astype(str)
    pairs = pd.DataFrame({"activity_type": kinds, "unit": units}).drop_duplicates()
    factors = {
        (kind, unit): _factor(library, kind, unit)
        for kind, unit in zip(pairs["activity_type"], pairs["unit"], strict=True)
    }
    scale = [factors[key] for key in zip(kinds, units, strict=True)]
    converted = frame.assign(
        quantity=frame["quantity"].astype(float) * pd.Series(scale, index=frame.index, dtype=float)
    )
    return converted.dropna(subset=["quantity"])


def _factor(library: FactorLibrary, kind: str, unit: str) -> float | None:
    basis = library.type_rows.get(kind, {}).get("basis_unit")
    try:
        return None if basis is None else conversion_factor(unit, str(basis))
    except (UnitError, ValueError):
        return None


def summed(converted: pd.DataFrame, keys: Sequence[str] = KEYS) -> pd.DataFrame:
    """``keys`` and ``quantity`` summed per key (rows already :func:`in_basis`). With
    ``month`` among the keys, only the rows of a month (yearly records have none)."""
    if "month" in keys:
        converted = converted[converted["month"].notna()]
        converted = converted.assign(month=converted["month"].astype("int64"))
    out: pd.DataFrame = converted.groupby(list(keys), as_index=False)[["quantity"]].sum()
    return out


@dataclass(frozen=True, slots=True)
class Jump:
    """An entity's year (or month) of an activity type far above its largest other year (the
    same month of its largest other year)."""

    entity_id: str
    year: int
    activity_type: str
    total: float
    top: float
    top_year: int
    ratio: float
    limit: float
    unit: str
    month: int | None = None

    @property
    def period(self) -> str:
        return str(self.year) if self.month is None else f"{self.year}-{self.month:02d}"

    @property
    def top_period(self) -> str:
        return str(self.top_year) if self.month is None else f"{self.top_year}-{self.month:02d}"

    def message(self) -> str:
        other = "year" if self.month is None else "year's same month"
        return (
            f"{self.entity_id} {self.activity_type} {self.period}: {self.total:,.6g} "
            f"{self.unit} is {self.ratio:,.0f} times its largest other {other} ({self.top:,.6g} "
            f"{self.unit} in {self.top_period}; over {self.limit:g} times is implausible): a "
            "unit typed wrongly? If the growth is real, say why in the records' note"
        )


def jumps(
    totals: pd.DataFrame,
    history: pd.DataFrame,
    library: FactorLibrary,
    within: Sequence[str] = YEARS_OF,
) -> list[Jump]:
    """The keys of ``totals`` (``entity_id, year, activity_type, quantity`` in basis units,
    and ``month`` when ``within`` names it) above their rule's ratio times the largest other
    year of ``history`` (same columns) with the same ``within`` values.

    Vectorised: per ``within`` group, the two largest years of the history; a key's largest
    other year is the first of them unless that is its own year, then the second."""
    rules = load_plausibility()
    pair = list(within)
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
    months = merged["month"] if "month" in pair else [None] * len(merged)
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
            None if month is None else int(month),
        )
        for entity, year, kind, total, top, top_year, limit, month in zip(
            merged["entity_id"],
            merged["year"],
            merged["activity_type"],
            merged["quantity"],
            merged["top"],
            merged["top_year"],
            merged["limit"],
            months,
            strict=True,
        )
    ]


def _with_stored(
    new: pd.DataFrame, stored: pd.DataFrame, keys: Sequence[str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(the totals of the keys ``new`` touches, with what ``stored`` holds of them; the stored
    totals), both frames already in basis units (:func:`in_basis`)."""
    added = summed(new, keys)
    before = summed(stored, keys) if len(stored) else added.iloc[0:0]
    both = pd.concat([added, before], ignore_index=True)
    both = both.groupby(list(keys), as_index=False).sum()
    return added[list(keys)].merge(both, on=list(keys)), before


def _all_jumps(
    totals: tuple[pd.DataFrame, pd.DataFrame],
    months: tuple[pd.DataFrame, pd.DataFrame],
    library: FactorLibrary,
) -> list[Jump]:
    """The jumps of years, then of the months of the years that do not jump themselves
    (``totals`` and ``months``: the totals judged and the history, each)."""
    years = jumps(*totals, library)
    flagged = {(j.entity_id, j.year, j.activity_type) for j in years}
    in_months = jumps(*months, library, MONTHS_OF)
    return years + [j for j in in_months if (j.entity_id, j.year, j.activity_type) not in flagged]


def plausibility(
    new: pd.DataFrame, stored: pd.DataFrame, library: FactorLibrary, file: str | None = None
) -> list[Diagnostic]:
    """Warnings (at the first row of the key in ``file``) for each entity, year and activity
    type whose total with ``new`` records (``entity_id, year, activity_type, quantity, unit``,
    and ``source_row`` when known) jumps above the entity's other years in ``stored`` (same
    columns): :func:`jumps`."""
    converted = in_basis(new, library)
    before = in_basis(stored, library) if len(stored) else stored
    found = _all_jumps(
        _with_stored(converted, before, KEYS),
        _with_stored(converted, before, MONTH_KEYS),
        library,
    )
    rows = new["source_row"] if "source_row" in new.columns else pd.Series(pd.NA, new.index)
    return [
        Diagnostic(
            "plausibility",
            jump.message(),
            Severity.WARNING,
            file=file,
            row=_first_row(new, rows, jump),
            column="quantity",
        )
        for jump in found
    ]


def _first_row(new: pd.DataFrame, rows: pd.Series, jump: Jump) -> int | None:
    """The first row of ``new`` (its ``source_row``) in the jump's period, entity and type."""
    mask = (
        (new["entity_id"] == jump.entity_id)
        & (new["year"] == jump.year)
        & (new["activity_type"] == jump.activity_type)
    )
    if jump.month is not None:
        mask &= new["month"].astype("Float64") == jump.month
    first = rows[mask.fillna(False).astype(bool)].dropna()
    return int(first.min()) if len(first) else None


def history_findings(
    stored: pd.DataFrame, library: FactorLibrary, years: Collection[int] | None = None
) -> list[Finding]:
    """The same rule over what a ledger holds (``esgledger check``): each year of ``years``
    (all when None), and each of its months, against the entity's other years, as findings
    (rule ``plausibility``)."""

    converted = in_basis(stored, library)

    def judged(keys: Sequence[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
        totals = summed(converted, keys)
        return (totals if years is None else totals[totals["year"].isin(list(years))]), totals

    return [
        Finding(
            rule="plausibility",
            severity=Severity.WARNING,
            metric_id=f"activity.{jump.activity_type}",
            entity_id=jump.entity_id,
            year=jump.year,
            message=jump.message(),
            figures=(
                (f"activity.{jump.activity_type}:{jump.period}", jump.total),
                (f"activity.{jump.activity_type}:{jump.top_period}", jump.top),
            ),
            difference=jump.total - jump.top,
            tolerance=jump.limit,
        )
        for jump in _all_jumps(judged(KEYS), judged(MONTH_KEYS), library)
    ]
