"""Base-year recalculation (GHG Protocol Corporate Standard chapter 5; ISO 14064-1 6.4.1).

A structural change (acquisition, divestment, outsourcing or insourcing, boundary change) or a
change in methodology or a discovered error triggers recalculation of the base year when its
cumulative effect on base-year emissions reaches the significance threshold (default 5 %).
Two outcomes are recorded with their reason:

* ``recalculate``: the base-year total is adjusted by the impacts (acquired emissions added,
  divested emissions removed, methodology deltas applied), when every impact is known;
* ``reset``: the base year moves to the year of the change, when a significant change has an
  unknown base-year impact (no base-year data for an acquired company), which is what the seed
  group did in 2024 (base year 2020 -> 2024).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from esgledger.domain.model import StructuralChange

ADDS = frozenset({"acquisition", "insourcing", "boundary", "methodology", "error"})
REMOVES = frozenset({"divestment", "outsourcing"})


@dataclass(frozen=True, slots=True)
class BaseYearDecision:
    base_year: int
    original_total: float
    threshold: float
    significance: float | None  # |sum of impacts| / original total; None when an impact is unknown
    action: str  # "keep", "recalculate" or "reset"
    new_base_year: int
    recalculated_total: float | None
    changes: tuple[str, ...]
    reason: str


def signed_impact(change: StructuralChange) -> float:
    """Impact on base-year emissions: positive adds to the base year, negative removes."""
    if change.base_year_impact_tco2e is None:
        raise ValueError(f"change {change.change_id} has no base-year impact")
    if change.kind in REMOVES:
        return -abs(change.base_year_impact_tco2e)
    if change.kind in ADDS:
        return change.base_year_impact_tco2e
    raise ValueError(f"unknown change kind {change.kind!r}")


def assess_base_year(
    base_year: int,
    base_total: float,
    changes: Sequence[StructuralChange],
    threshold: float = 0.05,
    reference_total: float | None = None,
) -> BaseYearDecision:
    """Decide whether the changes after ``base_year`` trigger a recalculation.

    ``reference_total`` is the emissions the unknown-impact test compares with: when an impact
    is unknown but the changed entities' current emissions are known as a share of the current
    inventory, pass it to make the test explicit; otherwise an unknown impact counts as
    significant (conservative, and recorded as such).
    """
    if base_total <= 0:
        raise ValueError("base-year total must be positive")
    relevant = [c for c in changes if c.year > base_year]
    ids = tuple(c.change_id for c in relevant)
    if not relevant:
        return BaseYearDecision(
            base_year,
            base_total,
            threshold,
            0.0,
            "keep",
            base_year,
            None,
            ids,
            "no structural or methodology change after the base year",
        )
    unknown = [c for c in relevant if c.base_year_impact_tco2e is None]
    if unknown:
        year = max(c.year for c in unknown)
        names = ", ".join(c.description for c in unknown)
        detail = "" if reference_total is None else f" (compared with {reference_total:,.2f})"
        return BaseYearDecision(
            base_year,
            base_total,
            threshold,
            None,
            "reset",
            year,
            None,
            ids,
            f"base-year emissions of the change(s) are not known ({names}){detail}; the effect "
            f"is treated as significant and the base year is reset to {year} (GHG Protocol "
            "ch. 5: recalculate, or choose a new base year when base-year data is unavailable)",
        )
    impact = sum(signed_impact(c) for c in relevant)
    significance = abs(impact) / base_total
    if significance < threshold:
        return BaseYearDecision(
            base_year,
            base_total,
            threshold,
            significance,
            "keep",
            base_year,
            None,
            ids,
            f"cumulative impact {impact:+,.2f} tCO2e is {significance:.2%} of the base year, "
            f"below the {threshold:.0%} significance threshold: no recalculation",
        )
    return BaseYearDecision(
        base_year,
        base_total,
        threshold,
        significance,
        "recalculate",
        base_year,
        base_total + impact,
        ids,
        f"cumulative impact {impact:+,.2f} tCO2e is {significance:.2%} of the base year, at or "
        f"above the {threshold:.0%} threshold: base year {base_year} recalculated to "
        f"{base_total + impact:,.2f} tCO2e",
    )
