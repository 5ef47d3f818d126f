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

DEMO_SOURCE = "synthetic (demo)"
DEMO_ENTITIES = ("G00", "S01", "S02", "S03", "S15", "S16")
"""Entities of the demo group (``esgledger/demo/data/entities.csv``) the demo suppliers
serve: the parent, three subsidiaries and the two acquired in 2024."""


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


def _check_weights(weights: Mapping[str, float]) -> dict[str, float]:
    """The weights as floats; :class:`ValueError` listing every problem."""
    problems: list[str] = []
    checked: dict[str, float] = {}
    if not weights:
        problems.append("expected at least one dimension weight")
    for dimension, weight in weights.items():
        if dimension not in DIMENSION_IDS:
            problems.append(
                f"expected a dimension of ({', '.join(DIMENSION_IDS)}), got {dimension!r}"
            )
            continue
        try:
            value = float(weight)
        except (TypeError, ValueError):
            value = math.nan
        if isinstance(weight, bool) or not (math.isfinite(value) and value > 0):
            problems.append(f"expected a positive finite weight of {dimension}, got {weight!r}")
            continue
        checked[dimension] = value
    if not problems and not math.fsum(checked.values()) > 0:
        problems.append("expected weights summing to more than 0")
    if problems:
        raise ValueError("supplier dimension weights: " + "; ".join(problems))
    return checked


def _check_levels(levels: Sequence[Level]) -> tuple[Level, ...]:
    """The levels, highest first; :class:`ValueError` listing every problem."""
    problems: list[str] = []
    if not levels:
        problems.append("expected at least one level")
    seen: set[str] = set()
    for level in levels:
        if not level.level or level.level in seen:
            problems.append(f"expected a unique non-empty level id, got {level.level!r}")
        seen.add(level.level)
        if not (math.isfinite(level.min_score) and SCORE_MIN <= level.min_score <= SCORE_MAX):
            problems.append(
                f"expected min_score of {level.level} within 0-100, got {level.min_score!r}"
            )
    for higher, lower in itertools.pairwise(levels):
        if not lower.min_score < higher.min_score:
            problems.append(
                f"expected strictly decreasing thresholds, {lower.level} {lower.min_score:g}"
                f" is not below {higher.level} {higher.min_score:g}"
            )
    if levels and levels[-1].min_score != SCORE_MIN:
        problems.append(
            f"expected the lowest level ({levels[-1].level}) to start at 0 so that every score"
            f" has a level, got {levels[-1].min_score:g}"
        )
    if problems:
        raise ValueError("supplier levels: " + "; ".join(problems))
    return tuple(levels)


def load_dimensions(table: pd.DataFrame | None = None) -> tuple[Dimension, ...]:
    """The dimensions of ``table`` (default: the packaged ``supplier_dimensions.csv``).

    Weights are validated (positive, finite; dimensions among :data:`DIMENSION_IDS`):
    :class:`ValueError` otherwise.
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
        raise ValueError(f"supplier dimension weights: expected unique dimensions: {duplicates}")
    _check_weights({d.dimension: d.weight for d in dimensions})
    return dimensions


@cache
def _packaged_dimensions() -> tuple[Dimension, ...]:
    return load_dimensions(read_data_csv("supplier_dimensions.csv"))


def load_levels(table: pd.DataFrame | None = None) -> tuple[Level, ...]:
    """The levels of ``table`` (default: the packaged ``supplier_levels.csv``), highest first.

    Thresholds must be strictly decreasing, within 0-100, the last one 0:
    :class:`ValueError` otherwise.
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
        raise ValueError(f"supplier dimension weights: expected unique dimensions: {duplicates}")
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


# ------------------------------------------------------------------------------- demo

DEMO_COUNTS = {"active": 2605, "mainland": 2405, "other": 200, "new_2024": 652}
"""The seed's 2024 supplier counts (systems.md §9) that the demo reproduces."""
_DEMO_INACTIVE = {"ended": 30, "frozen": 15}
_DEMO_COUNTRIES = ("HK", "MO", "TW", "SG", "US", "JP", "DE", "GB", "MY", "IN")
_DEMO_CATEGORIES = (
    "IT hardware",
    "software licences",
    "IT services subcontracting",
    "professional services",
    "facilities and office",
    "logistics",
    "training",
)
_DEMO_CERTIFICATIONS = {
    "ISO9001": 0.7,
    "ISO14001": 0.4,
    "ISO27001": 0.35,
    "ISO45001": 0.25,
    "ISO22301": 0.1,
}
_DEMO_BANDS = {"A": (85, 97), "B": (70, 84), "C": (60, 69), "D": (35, 59)}
"""Integer ranges of the synthetic evaluations' mean score per level (packaged thresholds)."""


def _dates_between(rng: np.random.Generator, first: str, last: str, size: int) -> pd.DatetimeIndex:
    start = pd.Timestamp(first)
    days = (pd.Timestamp(last) - start).days
    return pd.DatetimeIndex(start + pd.to_timedelta(rng.integers(0, days + 1, size), unit="D"))


def demo_suppliers(seed: int = 2024) -> pd.DataFrame:
    """SYNTHETIC supplier records reproducing the seed's 2024 counts (systems.md §9).

    2,605 active suppliers (2,405 mainland, 200 elsewhere), 652 of them certified in 2024,
    the others earlier (about 4 % without a recorded date), plus 45 frozen or ended ones
    certified before 2024; spread over :data:`DEMO_ENTITIES`. Ids ``syn-S00001``...,
    ``source`` ``synthetic (demo)``. Deterministic: one ``numpy`` generator seeded ``seed``.
    Same columns and types as :func:`read_suppliers`.
    """
    rng = np.random.default_rng(seed)
    n_active = DEMO_COUNTS["active"]
    n = n_active + sum(_DEMO_INACTIVE.values())
    status = np.array(
        ["active"] * n_active + [s for s, k in _DEMO_INACTIVE.items() for _ in range(k)],
        dtype=object,
    )
    status = status[rng.permutation(n)]
    active = np.flatnonzero(status == "active")
    inactive = np.flatnonzero(status != "active")

    region = np.full(n, "mainland", dtype=object)
    region[rng.choice(active, DEMO_COUNTS["other"], replace=False)] = "other"
    region[inactive[rng.random(len(inactive)) < 0.08]] = "other"
    country = np.where(
        region == "mainland", "CN", rng.choice(np.array(_DEMO_COUNTRIES, dtype=object), n)
    )

    certified = pd.Series(pd.NaT, index=range(n), dtype="datetime64[ns]")
    new = rng.choice(active, DEMO_COUNTS["new_2024"], replace=False)
    older = np.setdiff1d(active, new)
    older = older[rng.random(len(older)) >= 0.04]
    certified.iloc[new] = _dates_between(rng, "2024-01-01", "2024-12-31", len(new))
    certified.iloc[older] = _dates_between(rng, "2015-01-01", "2023-12-31", len(older))
    certified.iloc[inactive] = _dates_between(rng, "2015-01-01", "2022-12-31", len(inactive))

    certifications = np.full(n, "", dtype=object)
    for standard, share in _DEMO_CERTIFICATIONS.items():
        has = rng.random(n) < share
        sep = np.where(certifications == "", "", "|")
        certifications = np.where(has, certifications + sep + standard, certifications)

    ids = np.char.mod("syn-S%05d", np.arange(1, n + 1)).astype(object)
    frame = pd.DataFrame(
        {
            "supplier_id": ids,
            "name": np.char.mod("Synthetic supplier %05d", np.arange(1, n + 1)).astype(object),
            "entity_id": rng.choice(
                np.array(DEMO_ENTITIES, dtype=object), n, p=[0.3, 0.2, 0.15, 0.1, 0.15, 0.1]
            ),
            "region": region,
            "country": country,
            "category": rng.choice(np.array(_DEMO_CATEGORIES, dtype=object), n),
            "certified_on": certified,
            "certifications": certifications,
            "status": status,
            "source": DEMO_SOURCE,
        }
    )
    for column in SUPPLIER_COLUMNS:
        if column != "certified_on":
            frame[column] = frame[column].astype("str")
    return frame


def _demo_rows(
    rng: np.random.Generator, suppliers: np.ndarray, bands: Sequence[tuple[int, int]], year: int
) -> pd.DataFrame:
    """Evaluations whose equal-weight mean is an integer of the row's band, exactly."""
    n = len(suppliers)
    low = np.array([b[0] for b in bands])
    high = np.array([b[1] for b in bands])
    centre = rng.integers(low, high + 1)
    room = np.minimum(np.minimum(centre, 100 - centre), 8)
    first = np.floor(rng.random(n) * (2 * room + 1)).astype("int64") - room
    second = np.floor(rng.random(n) * (2 * room + 1)).astype("int64") - room
    noise = np.stack([first, -first, second, -second, np.zeros(n, dtype="int64")], axis=1)
    noise = np.take_along_axis(noise, rng.random((n, 5)).argsort(axis=1), axis=1)
    scores = (centre[:, None] + noise).astype("float64")
    esg = np.clip(np.round(centre + rng.normal(0, 8, n), 1), 0, 100)
    esg[rng.random(n) < 0.3] = np.nan
    frame = pd.DataFrame({"supplier_id": suppliers.astype(object), "year": year})
    for position, dimension in enumerate(DIMENSION_IDS):
        frame[dimension] = scores[:, position]
    frame["evaluator"] = rng.choice(
        np.array(["procurement", "quality", "bcm office"], dtype=object), n
    )
    frame["evaluated_on"] = _dates_between(rng, f"{year}-11-01", f"{year + 1}-01-31", n)
    frame["esg_questionnaire_score"] = esg
    frame["notes"] = DEMO_SOURCE
    return frame


def demo_evaluations(seed: int = 2024, suppliers: pd.DataFrame | None = None) -> pd.DataFrame:
    """SYNTHETIC evaluations of :func:`demo_suppliers` (``seed``), every level represented.

    2024: 600 active suppliers, levels drawn A 35 % / B 40 % / C 17 % / D 8 % (at least five
    of each), each row's dimension scores integers whose mean is an integer of the level's
    band (:data:`_DEMO_BANDS`: boundary scores 85, 70, 60 included). 2023: the frozen
    suppliers, rated D (why they were frozen). ``notes`` ``synthetic (demo)``; ~70 % have an
    ESG questionnaire score. Same columns and types as :func:`read_evaluations`.
    """
    frame = demo_suppliers(seed) if suppliers is None else suppliers
    rng = np.random.default_rng([seed, 1])
    active = frame.loc[frame["status"] == "active", "supplier_id"].to_numpy(dtype=object)
    chosen = np.sort(rng.choice(active, 600, replace=False))
    names = np.array(list(_DEMO_BANDS), dtype=object)
    drawn = rng.choice(names, len(chosen), p=[0.35, 0.40, 0.17, 0.08])
    drawn[: 5 * len(names)] = np.repeat(names, 5)
    drawn = drawn[rng.permutation(len(drawn))]
    current = _demo_rows(rng, chosen, [_DEMO_BANDS[str(d)] for d in drawn], 2024)
    frozen = np.sort(frame.loc[frame["status"] == "frozen", "supplier_id"].to_numpy(dtype=object))
    earlier = _demo_rows(rng, frozen, [_DEMO_BANDS["D"]] * len(frozen), 2023)
    evaluations = pd.concat([earlier, current], ignore_index=True)
    evaluations = evaluations.sort_values(["supplier_id", "year"], ignore_index=True)
    for column in ("supplier_id", "evaluator", "notes"):
        evaluations[column] = evaluations[column].astype("str")
    evaluations["year"] = evaluations["year"].astype("int64")
    evaluations["evaluated_on"] = evaluations["evaluated_on"].astype("datetime64[ns]")
    return evaluations.loc[:, list(EVALUATION_COLUMNS)]
