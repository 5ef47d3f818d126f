"""Supplier rating: supplier records, yearly evaluations, weighted scores, levels A-D, KPIs.

The seed's supplier lifecycle (systems.md §9) is investigation, certification (cooperation
commitment, integrity letter), cooperation, then a yearly evaluation on five dimensions
(basic information, technical / professional capability, service capability, price and
business support, BCM maturity) into four levels: A preferred, B selectively recommended,
C as needed, D unqualified (improvement measures, then kept or frozen).

The rule is data, each row with its source:

- ``data/supplier_dimensions.csv``: the five dimensions and their weights (equal 0.20: the
  seed publishes no weights, an esgledger default);
- ``data/supplier_levels.csv``: the levels, their lowest score and their follow-up (85 / 70 /
  60 / 0: the seed publishes no thresholds, esgledger defaults).

Every dimension is scored 0-100. The weighted score is ``sum(w_d x s_d) / sum(w_d)``, kept at
full precision (rounded only in the ``arithmetic`` text); a score at a level's ``min_score``
is in that level (85 is A, 84.999 is B), within :data:`TOLERANCE` for floating point.

Supplier and evaluation CSVs are read all or nothing: every problem is returned as a located
diagnostic (``file:row:column: expected ...``, the header is row 1) and then no row is (the
columns and row checks are :mod:`esgledger.assess.supplier_rows`, re-exported here).
:func:`demo_suppliers` and :func:`demo_evaluations` make SYNTHETIC frames that reproduce the
seed's supplier counts.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd

from esgledger.assess.rule_problems import RuleProblem, RuleTableError
from esgledger.assess.supplier_demo import (
    DEMO_ENTITIES,
    DEMO_SOURCE,
    demo_evaluations,
    demo_suppliers,
)
from esgledger.assess.supplier_rows import (
    DIMENSION_IDS,
    EVALUATION_COLUMNS,
    REGIONS,
    SCORE_MAX,
    SCORE_MIN,
    STATUSES,
    SUPPLIER_COLUMNS,
    check_evaluations,
    check_suppliers,
    float_or_nan,
    read_evaluations,
    read_suppliers,
)
from esgledger.assess.topics import read_data_csv

__all__ = [
    "DEMO_ENTITIES",
    "DEMO_SOURCE",
    "DIMENSION_IDS",
    "EVALUATION_COLUMNS",
    "KPI_NEW_CERTIFIED",
    "KPI_REGIONS",
    "KPI_TOTAL",
    "REGIONS",
    "STATUSES",
    "SUPPLIER_COLUMNS",
    "TOLERANCE",
    "Dimension",
    "Level",
    "check_evaluations",
    "check_suppliers",
    "demo_evaluations",
    "demo_suppliers",
    "dimension_weights",
    "follow_ups",
    "kpi_counts",
    "level_counts",
    "load_dimensions",
    "load_levels",
    "rate",
    "read_evaluations",
    "read_suppliers",
]

TOLERANCE = 1e-9
"""A weighted score within this of a level's ``min_score`` counts as at it (weighted means
are floating point: 0.2 x 85 x 5 is not exactly 85)."""

KPI_TOTAL = "supply.suppliers"
KPI_REGIONS = {
    "mainland": "supply.suppliers.region_mainland",
    "other": "supply.suppliers.region_other",
}
KPI_NEW_CERTIFIED = "supply.suppliers_new_certified"


# ------------------------------------------------------------------------------- the rule


@dataclass(frozen=True, slots=True)
class Dimension:
    """One evaluation dimension and its weight (normalised on use)."""

    dimension: str
    weight: float
    name_en: str = ""
    name_zh: str = ""
    source: str = ""


@dataclass(frozen=True, slots=True)
class Level:
    """One rating level: a weighted score ``>= min_score`` (and below the next level's)."""

    level: str
    min_score: float
    follow_up: str = "none"
    """``none``, ``monitor`` or ``improvement_plan_or_freeze`` (the packaged ones)."""
    name_en: str = ""
    name_zh: str = ""
    follow_up_en: str = ""
    follow_up_zh: str = ""
    source: str = ""


def _weight_problems(
    weights: Mapping[str, float],
) -> tuple[dict[str, float], list[tuple[str | None, str, str]]]:
    """The weights as floats and the problems, each ``(dimension or None, column, message)``."""
    problems: list[tuple[str | None, str, str]] = []
    checked: dict[str, float] = {}
    if not weights:
        problems.append((None, "dimension", "expected at least one dimension weight"))
    for dimension, weight in weights.items():
        if dimension not in DIMENSION_IDS:
            problems.append(
                (
                    dimension,
                    "dimension",
                    f"expected a dimension of ({', '.join(DIMENSION_IDS)}), got {dimension!r}",
                )
            )
            continue
        try:
            value = float(weight)
        except (TypeError, ValueError):
            value = math.nan
        if isinstance(weight, bool) or not (math.isfinite(value) and value > 0):
            problems.append(
                (
                    dimension,
                    "weight",
                    f"expected a positive finite weight of {dimension}, got {weight!r}",
                )
            )
            continue
        checked[dimension] = value
    if not problems and not math.fsum(checked.values()) > 0:
        problems.append((None, "weight", "expected weights summing to more than 0"))
    return checked, problems


def _check_weights(weights: Mapping[str, float]) -> dict[str, float]:
    """The weights as floats; :class:`RuleTableError` (a ValueError) listing every problem."""
    checked, problems = _weight_problems(weights)
    if problems:
        raise RuleTableError(
            "supplier dimension weights", [RuleProblem(m, None, c) for _, c, m in problems]
        )
    return checked


def _level_problems(levels: Sequence[Level]) -> list[RuleProblem]:
    """The problems of levels (highest first), each on the index of its level."""
    problems: list[RuleProblem] = []
    if not levels:
        problems.append(RuleProblem("expected at least one level"))
    seen: set[str] = set()
    for i, level in enumerate(levels):
        if not level.level or level.level in seen:
            problems.append(
                RuleProblem(
                    f"expected a unique non-empty level id, got {level.level!r}", i, "level"
                )
            )
        seen.add(level.level)
        if not (math.isfinite(level.min_score) and SCORE_MIN <= level.min_score <= SCORE_MAX):
            problems.append(
                RuleProblem(
                    f"expected min_score of {level.level} within 0-100, got {level.min_score!r}",
                    i,
                    "min_score",
                )
            )
    for i, (higher, lower) in enumerate(itertools.pairwise(levels), start=1):
        finite = math.isfinite(lower.min_score) and math.isfinite(higher.min_score)
        if finite and not lower.min_score < higher.min_score:
            problems.append(
                RuleProblem(
                    f"expected strictly decreasing thresholds, {lower.level} {lower.min_score:g}"
                    f" is not below {higher.level} {higher.min_score:g}",
                    i,
                    "min_score",
                )
            )
    if levels and levels[-1].min_score != SCORE_MIN:
        problems.append(
            RuleProblem(
                f"expected the lowest level ({levels[-1].level}) to start at 0 so that every"
                f" score has a level, got {levels[-1].min_score:g}",
                len(levels) - 1,
                "min_score",
            )
        )
    return problems


def _check_levels(levels: Sequence[Level]) -> tuple[Level, ...]:
    """The levels, highest first; :class:`RuleTableError` (a ValueError) listing every
    problem."""
    problems = _level_problems(levels)
    if problems:
        raise RuleTableError("supplier levels", problems)
    return tuple(levels)


def load_dimensions(table: pd.DataFrame | None = None) -> tuple[Dimension, ...]:
    """The dimensions of ``table`` (default: the packaged ``supplier_dimensions.csv``).

    Weights are validated (positive, finite; dimensions among :data:`DIMENSION_IDS`, each
    once): :class:`RuleTableError` (a ValueError) listing every problem on its row otherwise.
    """
    if table is None:
        return _packaged_dimensions()
    frame = table.astype(str)
    dimensions = tuple(
        Dimension(
            dimension=str(row["dimension"]).strip(),
            weight=float_or_nan(str(row["weight"])),
            name_en=str(row.get("name_en", "")),
            name_zh=str(row.get("name_zh", "")),
            source=str(row.get("source", "")),
        )
        for row in frame.to_dict("records")
    )
    ids = [d.dimension for d in dimensions]
    duplicates = sorted({d for d in ids if ids.count(d) > 1})
    if duplicates:
        raise RuleTableError(
            "supplier dimension weights",
            [
                RuleProblem(f"expected unique dimensions: {duplicates}", i, "dimension")
                for i, d in enumerate(ids)
                if d in duplicates and ids.index(d) != i
            ],
        )
    _, problems = _weight_problems({d.dimension: d.weight for d in dimensions})
    if problems:
        raise RuleTableError(
            "supplier dimension weights",
            [RuleProblem(m, None if d is None else ids.index(d), c) for d, c, m in problems],
        )
    return dimensions


@cache
def _packaged_dimensions() -> tuple[Dimension, ...]:
    return load_dimensions(read_data_csv("supplier_dimensions.csv"))


def load_levels(table: pd.DataFrame | None = None) -> tuple[Level, ...]:
    """The levels of ``table`` (default: the packaged ``supplier_levels.csv``), highest first.

    Thresholds must be strictly decreasing, within 0-100, the last one 0, level ids unique:
    :class:`RuleTableError` (a ValueError) listing every problem on its row otherwise.
    """
    if table is None:
        return _packaged_levels()
    frame = table.astype(str)
    return _check_levels(
        tuple(
            Level(
                level=str(row["level"]).strip(),
                min_score=float_or_nan(str(row["min_score"])),
                follow_up=str(row.get("follow_up", "none")),
                name_en=str(row.get("name_en", "")),
                name_zh=str(row.get("name_zh", "")),
                follow_up_en=str(row.get("follow_up_en", "")),
                follow_up_zh=str(row.get("follow_up_zh", "")),
                source=str(row.get("source", "")),
            )
            for row in frame.to_dict("records")
        )
    )


@cache
def _packaged_levels() -> tuple[Level, ...]:
    return load_levels(read_data_csv("supplier_levels.csv"))


def dimension_weights(
    dimensions: Mapping[str, float] | Iterable[Dimension] | None = None,
) -> dict[str, float]:
    """Validated weights by dimension id (default: the packaged ones)."""
    if dimensions is None:
        dimensions = load_dimensions()
    if isinstance(dimensions, Mapping):
        return _check_weights(dimensions)
    listed = list(dimensions)
    ids = [d.dimension for d in listed]
    duplicates = sorted({d for d in ids if ids.count(d) > 1})
    if duplicates:
        raise RuleTableError(
            "supplier dimension weights", [RuleProblem(f"expected unique dimensions: {duplicates}")]
        )
    return _check_weights({d.dimension: d.weight for d in listed})


# ------------------------------------------------------------------------------- rating


def _weight_text(weight: float) -> str:
    cents = weight * 100
    if abs(cents - round(cents)) < TOLERANCE:
        return f"{weight:.2f}"
    return f"{weight:.10g}"


def _level_index(scores: np.ndarray, ascending: np.ndarray) -> np.ndarray:
    """Index (into the levels lowest first) of each score; a min_score is in its level."""
    return np.searchsorted(ascending, scores + TOLERANCE, side="right") - 1


def rate(
    evaluations: pd.DataFrame,
    dimensions: Mapping[str, float] | Iterable[Dimension] | None = None,
    levels: Sequence[Level] | None = None,
) -> pd.DataFrame:
    """The evaluations with their weighted ``score``, ``level``, ``follow_up``, ``arithmetic``.

    ``score = sum(w_d x s_d) / sum(w_d)`` over the dimensions of ``dimensions`` (weights by
    id, default the packaged ones), at full precision; the level is the highest whose
    ``min_score`` the score reaches (inclusive, within :data:`TOLERANCE`). ``arithmetic`` shows
    the computation, the result to two decimals (more when two decimals would look like
    another level). Vectorised over the rows. :class:`ValueError` on bad weights or levels
    (see :func:`load_dimensions`, :func:`load_levels`), a missing dimension column, or a
    dimension score that is not a number 0-100.
    """
    weights = dimension_weights(dimensions)
    table = _check_levels(load_levels() if levels is None else levels)
    ids = list(weights)
    missing = [d for d in ids if d not in evaluations.columns]
    if missing:
        raise ValueError(f"supplier evaluations: expected dimension columns {missing}")
    values = (
        evaluations[ids].apply(pd.to_numeric, errors="coerce").to_numpy(dtype="float64")
        if len(evaluations)
        else np.empty((0, len(ids)), dtype="float64")
    )
    bad = ~np.isfinite(values) | (values < SCORE_MIN) | (values > SCORE_MAX)
    if bad.any():
        rows = list(evaluations.index[bad.any(axis=1)])
        shown = ", ".join(str(r) for r in rows[:10]) + (" ..." if len(rows) > 10 else "")
        raise ValueError(
            f"supplier evaluations: expected dimension scores 0-100 on rows (index) {shown}"
        )
    w = np.array([weights[d] for d in ids], dtype="float64")
    total = math.fsum(weights.values())
    scores = (values * w).sum(axis=1) / total

    lowest_first = table[::-1]
    ascending = np.array([level.min_score for level in lowest_first], dtype="float64")
    index = _level_index(scores, ascending)
    level_ids = np.array([level.level for level in lowest_first], dtype=object)
    follow = np.array([level.follow_up for level in lowest_first], dtype=object)

    shown_scores = np.char.mod("%.2f", scores)
    misleading = _level_index(np.round(scores, 2), ascending) != index
    shown_scores = np.where(misleading, np.char.mod("%.10g", scores), shown_scores)
    terms = np.full(len(scores), "", dtype=object)
    for position, dimension in enumerate(ids):
        plus = "" if position == 0 else " + "
        term = np.char.mod("%.10g", values[:, position]).astype(object)
        terms = terms + (plus + _weight_text(weights[dimension]) + "×") + term
    if abs(total - 1) <= TOLERANCE:
        arithmetic = terms + " = " + shown_scores.astype(object)
    else:
        arithmetic = "(" + terms + f") / {_weight_text(total)} = " + shown_scores.astype(object)

    rated = evaluations.copy()
    rated["score"] = scores
    rated["level"] = pd.Series(level_ids[index], index=evaluations.index, dtype="str")
    rated["follow_up"] = pd.Series(follow[index], index=evaluations.index, dtype="str")
    rated["arithmetic"] = pd.Series(arithmetic, index=evaluations.index, dtype="str")
    return rated


def level_counts(rated: pd.DataFrame, levels: Sequence[Level] | None = None) -> dict[str, int]:
    """Rated rows per level, every level listed (highest first), zero included."""
    table = load_levels() if levels is None else _check_levels(levels)
    counts = rated["level"].value_counts()
    return {level.level: int(counts.get(level.level, 0)) for level in table}


FOLLOW_UP_COLUMNS = (
    "supplier_id",
    "year",
    "score",
    "level",
    "follow_up",
    "follow_up_en",
    "follow_up_zh",
)


def follow_ups(
    rated: pd.DataFrame,
    suppliers: pd.DataFrame | None = None,
    levels: Sequence[Level] | None = None,
) -> pd.DataFrame:
    """The rows rated at the lowest level (D: unqualified) with their required follow-up.

    Columns :data:`FOLLOW_UP_COLUMNS` (the follow-up words of ``supplier_levels.csv``), plus
    ``name``, ``entity_id`` and ``status`` when ``suppliers`` is given; lowest score first.
    A C supplier's ``monitor`` is no required action and is not listed.
    """
    table = load_levels() if levels is None else _check_levels(levels)
    lowest = table[-1]
    found = rated.loc[rated["level"] == lowest.level, ["supplier_id", "year", "score", "level"]]
    found = found.assign(
        follow_up=lowest.follow_up,
        follow_up_en=lowest.follow_up_en,
        follow_up_zh=lowest.follow_up_zh,
    )
    if suppliers is not None:
        found = found.merge(
            suppliers[["supplier_id", "name", "entity_id", "status"]],
            on="supplier_id",
            how="left",
        )
    return found.sort_values(["score", "supplier_id", "year"]).reset_index(drop=True)


# ------------------------------------------------------------------------------- KPIs


def kpi_counts(suppliers: pd.DataFrame, year: int) -> dict[str, int]:
    """The supplier counts of ``year`` keyed by catalogue metric id.

    ``supply.suppliers`` (a stock): the suppliers with status ``active`` certified on or
    before 31 December of ``year`` (or without a certification date), each counted once; its
    region members ``supply.suppliers.region_mainland`` and ``...region_other``;
    ``supply.suppliers_new_certified`` (a flow): the suppliers certified within ``year``,
    whatever their status now.
    """
    certified = pd.to_datetime(suppliers["certified_on"].replace("", None))
    year_end = pd.Timestamp(year=year, month=12, day=31)
    year_start = pd.Timestamp(year=year, month=1, day=1)
    stock = (suppliers["status"] == "active") & (certified.isna() | (certified <= year_end))
    active = suppliers.loc[stock]
    counts = {KPI_TOTAL: int(active["supplier_id"].nunique())}
    for region, metric_id in KPI_REGIONS.items():
        counts[metric_id] = int(active.loc[active["region"] == region, "supplier_id"].nunique())
    new = (certified >= year_start) & (certified <= year_end)
    counts[KPI_NEW_CERTIFIED] = int(suppliers.loc[new, "supplier_id"].nunique())
    return counts
