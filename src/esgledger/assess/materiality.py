"""Double materiality: stakeholder scores -> impact and financial scores -> tiers -> matrix.

The rule is data (``data/materiality_scales.csv``, every number with its source):

- a response's **impact** score is ``severity x likelihood / 5`` (0-5), severity being the
  mean of its scale, scope and irremediability scores, irremediability left out for a
  positive impact (ESRS 1 §45-46, AR 10; GRI 3); an actual impact is scored likelihood 5;
- a response's **financial** score is ``likelihood x magnitude / 5`` (ESRS 1 §49), given by
  management (board, senior management, finance) as in the seed's process;
- per topic and axis, the scores are averaged within each stakeholder group, then across the
  groups by the groups' weights, normalised over the groups that answered;
- a score ``>=`` its threshold is high; the tier is ``very high`` (both high), ``high`` (one),
  ``relatively high`` (neither, the larger score ``>=`` the floor) or ``not material``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, fields
from typing import Literal

import numpy as np
import pandas as pd

from esgledger.assess.topics import (
    Change,
    Topic,
    read_data_csv,
    topic_changes,
)
from esgledger.domain.figure_id import FigureId

__all__ = [
    "TIERS",
    "Assessment",
    "Change",
    "Response",
    "Scales",
    "StakeholderGroup",
    "Topic",
    "assessments",
    "coverage",
    "load_scales",
    "responses_frame",
    "score_responses",
    "tiers",
    "topic_changes",
]

Axis = Literal["impact", "financial"]
TIERS = ("not material", "relatively high", "high", "very high")
"""Tiers, lowest first (the index is the tier's rank)."""

RESPONSE_COLUMNS = (
    "respondent",
    "group",
    "topic_id",
    "axis",
    "scale",
    "scope",
    "irremediability",
    "likelihood",
    "magnitude",
    "positive",
)


@dataclass(frozen=True, slots=True)
class Scales:
    """The scoring rule of ``materiality_scales.csv``."""

    minimum: float = 1.0
    maximum: float = 5.0
    severity_components: tuple[str, ...] = ("scale", "scope", "irremediability")
    negative_only: tuple[str, ...] = ("irremediability",)
    impact_divisor: float = 5.0
    financial_divisor: float = 5.0
    impact_high: float = 3.0
    financial_high: float = 3.0
    floor: float = 1.5
    tolerance: float = 1e-9
    min_respondents: int = 3
    """A group with fewer respondents on an axis is flagged as thin (:func:`coverage`)."""

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Scales:
        data = json.loads(text)
        for name in ("severity_components", "negative_only"):
            data[name] = tuple(data[name])
        return cls(**data)

    def problems(self) -> list[str]:
        """What is wrong with a rule (thresholds within the score range, floor below them)."""
        top = self.maximum * self.maximum / min(self.impact_divisor, self.financial_divisor)
        out = []
        for name in ("impact_high", "financial_high", "floor"):
            value = getattr(self, name)
            if not (math.isfinite(value) and 0 < value <= top):
                out.append(f"{name} {value!r}: expected a score in (0, {top:g}]")
        if not out and self.floor > min(self.impact_high, self.financial_high):
            out.append(f"floor {self.floor:g}: expected at most the thresholds")
        return out


def load_scales(table: pd.DataFrame | None = None) -> Scales:
    """The scales of ``table`` (default: the packaged ``materiality_scales.csv``)."""
    frame = read_data_csv("materiality_scales.csv") if table is None else table
    value = dict(zip(frame["parameter"], frame["value"].astype(str), strict=True))
    return Scales(
        minimum=float(value["scale.min"]),
        maximum=float(value["scale.max"]),
        severity_components=tuple(value["impact.severity.components"].split(";")),
        negative_only=tuple(value["impact.severity.negative_only"].split(";")),
        impact_divisor=float(value["impact.divisor"]),
        financial_divisor=float(value["financial.divisor"]),
        impact_high=float(value["threshold.impact.high"]),
        financial_high=float(value["threshold.financial.high"]),
        floor=float(value["threshold.material.floor"]),
        min_respondents=int(value.get("warning.min_respondents", "3")),
        tolerance=float(value["tolerance"]),
    )


@dataclass(frozen=True, slots=True)
class StakeholderGroup:
    """A group of respondents and its weight in the topic scores (normalised on use)."""

    group_id: str
    weight: float
    name_en: str = ""
    name_zh: str = ""
    internal: bool = False


@dataclass(frozen=True, slots=True)
class Response:
    """One respondent's scores of one topic on one axis (1-5; NaN where not asked)."""

    respondent: str
    group: str
    topic_id: str
    axis: Axis
    scale: float = float("nan")
    scope: float = float("nan")
    irremediability: float = float("nan")
    likelihood: float = float("nan")
    magnitude: float = float("nan")
    positive: bool = False


@dataclass(frozen=True, slots=True)
class Assessment:
    """The result of one topic."""

    topic_id: str
    impact: float
    financial: float
    arithmetic: str
    tier: str


def responses_frame(responses: Iterable[Response]) -> pd.DataFrame:
    """Responses as the frame :func:`score_responses` takes."""
    rows = [asdict(r) for r in responses]
    return pd.DataFrame(rows, columns=[f.name for f in fields(Response)])


def group_weights(groups: Iterable[StakeholderGroup]) -> dict[str, float]:
    return {g.group_id: g.weight for g in groups}


def _validate(frame: pd.DataFrame, groups: Mapping[str, float], scales: Scales) -> None:
    missing = [c for c in RESPONSE_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"responses: missing columns {missing}")
    bad_weights = {g: w for g, w in groups.items() if not w > 0}
    if bad_weights:
        raise ValueError(f"group weights must be > 0: {bad_weights}")
    problems: list[str] = []
    unknown = sorted(set(frame["group"]) - set(groups))
    if unknown:
        problems.append(f"groups without a weight: {unknown}")
    axes = sorted(set(frame["axis"]) - {"impact", "financial"})
    if axes:
        problems.append(f"unknown axes: {axes}")
    impact = frame["axis"] == "impact"
    negative = impact & ~frame["positive"].astype(bool)
    needed: dict[str, pd.Series] = dict.fromkeys(scales.severity_components, impact)
    needed.update(dict.fromkeys(scales.negative_only, negative))
    needed.update(likelihood=pd.Series(True, index=frame.index), magnitude=~impact)
    for column, rows in needed.items():
        values = frame.loc[rows, column]
        out = values.isna() | (values < scales.minimum) | (values > scales.maximum)
        if out.any():
            first = values.index[out.to_numpy()][:5].tolist()
            problems.append(
                f"{column}: {int(out.sum())} scores missing or outside "
                f"{scales.minimum:g}-{scales.maximum:g} (rows {first})"
            )
    if problems:
        raise ValueError("responses: " + "; ".join(problems))


def response_scores(responses: pd.DataFrame, scales: Scales) -> pd.Series:
    """Each response's score on its axis (vectorised)."""
    components = responses[list(scales.severity_components)].astype(float)
    positive = responses["positive"].astype(bool).to_numpy()
    for column in scales.negative_only:
        components.loc[positive, column] = np.nan
    severity = components.mean(axis=1, skipna=True)
    likelihood = responses["likelihood"].astype(float)
    impact = severity * likelihood / scales.impact_divisor
    financial = likelihood * responses["magnitude"].astype(float) / scales.financial_divisor
    return impact.where(responses["axis"] == "impact", financial)


def score_responses(
    responses: pd.DataFrame, groups: Mapping[str, float], scales: Scales | None = None
) -> pd.DataFrame:
    """Per topic: the group-weighted impact and financial scores and their arithmetic.

    One row per topic (``topic_id`` index, sorted) with ``impact``, ``financial`` (NaN when
    no group answered that axis), ``impact_n``, ``financial_n`` (responses) and
    ``arithmetic``. Raises ``ValueError`` naming every problem of the responses.
    """
    scales = scales or load_scales()
    _validate(responses, groups, scales)
    frame = pd.DataFrame(
        {
            "topic_id": responses["topic_id"].to_numpy(),
            "axis": responses["axis"].to_numpy(),
            "group": responses["group"].to_numpy(),
            "score": response_scores(responses, scales).to_numpy(),
        }
    )
    by_group = (
        frame.groupby(["topic_id", "axis", "group"], sort=True)["score"]
        .agg(["mean", "count"])
        .reset_index()
    )
    weight = by_group["group"].map(dict(groups)).astype(float)
    by_group["weight"] = weight / weight.groupby(
        [by_group["topic_id"], by_group["axis"]]
    ).transform("sum")
    by_group["part"] = by_group["weight"] * by_group["mean"]
    by_group["term"] = (
        by_group["weight"].map("{:.3f}".format)
        + "×"
        + by_group["mean"].map("{:.3f}".format)
        + " ("
        + by_group["group"]
        + " n="
        + by_group["count"].astype(str)
        + ")"
    )
    keys = ["topic_id", "axis"]
    per_axis = by_group.groupby(keys, sort=True).agg(
        score=("part", "sum"), n=("count", "sum"), terms=("term", " + ".join)
    )
    per_axis["text"] = (
        per_axis.index.get_level_values("axis")
        + " = "
        + per_axis["terms"]
        + " = "
        + per_axis["score"].map("{:.3f}".format)
    )
    wide = per_axis.unstack("axis")
    out = pd.DataFrame(index=wide.index.rename("topic_id"))
    for axis in ("impact", "financial"):
        present = ("score", axis) in wide.columns
        out[axis] = wide[("score", axis)] if present else np.nan
        out[f"{axis}_n"] = wide[("n", axis)].fillna(0).astype(int) if present else 0
    texts = [wide[("text", a)] for a in ("impact", "financial") if ("text", a) in wide.columns]
    arithmetic = pd.concat(texts, axis=1).apply(lambda r: "; ".join(r.dropna()), axis=1)
    out["arithmetic"] = arithmetic.reindex(out.index).fillna("")
    return out


def coverage(
    responses: pd.DataFrame,
    group_axes: Mapping[str, str],
    topic_ids: Iterable[str],
    scales: Scales | None = None,
) -> list[str]:
    """What the scores rest on that a reader must know, as sentences: a group of an axis that
    gave no answer at all (its weight is spread over the groups that answered), a topic and
    axis some groups did not answer (the same, for that topic), a topic with no answer on an
    axis (its score on it is unknown, not 0: it cannot be tiered), and a group with fewer
    respondents than ``min_respondents`` (its mean is fragile). ``group_axes``: each group's
    axis (``impact`` or ``financial``)."""
    scales = scales or load_scales()
    answered = responses.groupby(["topic_id", "axis"])["group"].agg(set).to_dict()
    respondents = responses.groupby("group")["respondent"].nunique().to_dict()
    silent = sorted(g for g in group_axes if g not in respondents)
    out = [
        f"group {g} ({group_axes[g]}) gave no answer: its weight is spread over the other "
        f"{group_axes[g]} groups on every topic"
        for g in silent
    ]
    out += [
        f"group {g}: {n} respondent{'s' if n != 1 else ''}, under {scales.min_respondents}: "
        "its mean is fragile"
        for g, n in sorted(respondents.items())
        if n < scales.min_respondents
    ]
    for topic in topic_ids:
        for axis in ("impact", "financial"):
            of_axis = {g for g, a in group_axes.items() if a == axis}
            expected = of_axis - set(silent)
            got = answered.get((topic, axis), set())
            if of_axis and not got:
                out.append(
                    f"topic {topic} has no {axis} answer: its {axis} score is unknown, not 0, "
                    "and it cannot be tiered until it is answered"
                )
            elif expected - got:
                missing = ", ".join(sorted(expected - got))
                out.append(
                    f"topic {topic}, {axis}: no answer from {missing}; the weights of the "
                    "groups that answered are rescaled to 1"
                )
    return out


def tier_rank(impact: pd.Series, financial: pd.Series, scales: Scales) -> pd.Series:
    """The rank in :data:`TIERS` of each topic (vectorised; NaN scores count as 0)."""
    tol = scales.tolerance
    i = impact.fillna(0.0)
    f = financial.fillna(0.0)
    highs = (i >= scales.impact_high - tol).astype(int) + (f >= scales.financial_high - tol)
    floor = (np.maximum(i, f) >= scales.floor - tol).astype(int)
    return (highs + 1).where(highs > 0, floor)


def tiers(scored: pd.DataFrame, scales: Scales | None = None) -> pd.DataFrame:
    """``scored`` with ``impact_high``, ``financial_high``, ``tier`` and ``tier_rank``."""
    scales = scales or load_scales()
    out = scored.copy()
    tol = scales.tolerance
    out["impact_high"] = out["impact"].fillna(0.0) >= scales.impact_high - tol
    out["financial_high"] = out["financial"].fillna(0.0) >= scales.financial_high - tol
    out["tier_rank"] = tier_rank(out["impact"], out["financial"], scales)
    out["tier"] = out["tier_rank"].map(dict(enumerate(TIERS)))
    return out


def assessments(tiered: pd.DataFrame) -> tuple[Assessment, ...]:
    """The rows of :func:`tiers` as frozen records."""
    columns = zip(
        tiered.index.astype(str).tolist(),
        tiered["impact"].to_numpy(dtype=float).tolist(),
        tiered["financial"].to_numpy(dtype=float).tolist(),
        tiered["arithmetic"].astype(str).tolist(),
        tiered["tier"].astype(str).tolist(),
        strict=True,
    )
    return tuple(Assessment(*row) for row in columns)


def lineage(year: int, topic_id: str, axis: Axis) -> str:
    return str(FigureId.of("materiality", year, topic_id, axis))


AXIS_LABEL = {
    "zh": {"financial": "财务重要性", "impact": "影响重要性", "title": "双重重要性矩阵"},
    "en": {
        "financial": "financial materiality",
        "impact": "impact materiality",
        "title": "double materiality matrix",
    },
}
