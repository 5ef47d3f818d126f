"""The double-materiality library: arithmetic by hand, thresholds, the seed's tiers from the
synthetic demo, topic changes 2023 -> 2024, monotone tiers, the matrix chart."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from esgledger.assess.demo import DEMO_WEIGHTS, demo_responses
from esgledger.assess.materiality import (
    TIERS,
    Response,
    Scales,
    assessments,
    load_scales,
    response_scores,
    responses_frame,
    score_responses,
    tiers,
    topic_changes,
)
from esgledger.assess.topics import read_data_csv
from esgledger.demo.assess import demo_topics
from esgledger.report import charts
from esgledger.report.materiality_chart import matrix_chart

SEED = Path(__file__).resolve().parents[2].parent / "shared" / "seed"
needs_seed = pytest.mark.skipif(not SEED.exists(), reason="../shared is not beside the project")

WEIGHTS = {"A": 0.6, "B": 0.4}


def impact(group: str, topic: str, scale: float, scope: float, irr: float, lik: float) -> Response:
    return Response(
        f"{group}-{scale}{scope}{irr}{lik}", group, topic, "impact", scale, scope, irr, lik
    )


def financial(group: str, topic: str, lik: float, magnitude: float) -> Response:
    return Response(
        f"{group}-f{lik}{magnitude}", group, topic, "financial", likelihood=lik, magnitude=magnitude
    )


def score(*responses: Response, weights: dict[str, float] | None = None) -> pd.DataFrame:
    return tiers(score_responses(responses_frame(responses), weights or WEIGHTS))


def test_the_packaged_scales_are_the_documented_defaults() -> None:
    assert load_scales() == Scales()
    table = read_data_csv("materiality_scales.csv")
    assert (table["source"].str.len() > 0).all()


def test_two_groups_weighted_by_hand() -> None:
    # A: (4+4+1)/3 x 5 / 5 = 3.0 and (5+5+5)/3 x 4 / 5 = 4.0 -> mean 3.5
    # B: (2+3+4)/3 x 5 / 5 = 3.0; impact = 0.6 x 3.5 + 0.4 x 3.0 = 3.3
    # financial: A 3 x 5 / 5 = 3.0, B 2 x 5 / 5 = 2.0 -> 0.6 x 3.0 + 0.4 x 2.0 = 2.6
    result = score(
        impact("A", "t", 4, 4, 1, 5),
        impact("A", "t", 5, 5, 5, 4),
        impact("B", "t", 2, 3, 4, 5),
        financial("A", "t", 3, 5),
        financial("B", "t", 2, 5),
    )
    row = result.loc["t"]
    assert row["impact"] == pytest.approx(3.3)
    assert row["financial"] == pytest.approx(2.6)
    assert (row["impact_n"], row["financial_n"]) == (3, 2)
    assert row["tier"] == "high"
    assert bool(row["impact_high"]) and not bool(row["financial_high"])
    assert row["arithmetic"] == (
        "impact = 0.600×3.500 (A n=2) + 0.400×3.000 (B n=1) = 3.300; "
        "financial = 0.600×3.000 (A n=1) + 0.400×2.000 (B n=1) = 2.600"
    )
    (record,) = assessments(result)
    assert (record.topic_id, record.tier) == ("t", "high")


def test_irremediability_is_ignored_for_a_positive_impact() -> None:
    positive = Response("p", "A", "t", "impact", 4, 2, 1, 5, positive=True)
    negative = Response("n", "A", "t", "impact", 4, 2, 1, 5, positive=False)
    frame = responses_frame([positive, negative])
    scores = response_scores(frame, load_scales()).tolist()
    assert scores == pytest.approx([3.0, 7 / 3])
    no_irr = Response("p", "A", "t", "impact", 4, 2, likelihood=5, positive=True)
    assert score(no_irr).loc["t", "impact"] == pytest.approx(3.0)


def test_weights_are_renormalised_over_the_groups_that_answered() -> None:
    weights = {"A": 0.6, "B": 0.4, "C": 1.0}  # C answered nothing
    result = score(
        impact("A", "t", 5, 5, 5, 5),
        impact("B", "t", 1, 1, 1, 5),
        impact("B", "u", 2, 2, 2, 5),  # only B answered u
        weights=weights,
    )
    assert result.loc["t", "impact"] == pytest.approx(0.6 * 5 + 0.4 * 1)
    assert result.loc["u", "impact"] == pytest.approx(2.0)
    assert math.isnan(result.loc["u", "financial"])
    assert result.loc["u", "financial_n"] == 0
    assert result.loc["u", "arithmetic"] == "impact = 1.000×2.000 (B n=1) = 2.000"


@pytest.mark.parametrize(
    ("impact_score", "financial_score", "tier"),
    [
        (3.0, 3.0, "very high"),  # a score equal to its threshold is high (>=)
        (3.0, 2.9999, "high"),
        (2.9999, 3.0, "high"),
        (2.9999, 2.9999, "relatively high"),
        (1.5, 0.0, "relatively high"),  # equal to the floor: still material
        (1.4999, 1.4999, "not material"),
        (float("nan"), 1.5, "relatively high"),  # an axis nobody scored counts as 0
    ],
)
def test_tier_boundaries(impact_score: float, financial_score: float, tier: str) -> None:
    frame = pd.DataFrame({"impact": [impact_score], "financial": [financial_score]}, index=["t"])
    assert tiers(frame).loc["t", "tier"] == tier


def test_threshold_reached_through_floating_point_weights_is_high() -> None:
    weights = {"A": 0.1, "B": 0.2, "C": 0.7}
    # each group scores exactly 3.0 (3 x 5 / 5); 0.1 x 3 + 0.2 x 3 + 0.7 x 3 is not 3.0 in floats
    result = score(
        *(financial(g, "t", 3, 5) for g in weights),
        *(impact(g, "t", 3, 3, 3, 5) for g in weights),
        weights=weights,
    )
    assert result.loc["t", "tier"] == "very high"


def test_invalid_responses_are_reported_together() -> None:
    frame = responses_frame(
        [
            Response("x", "A", "t", "impact", 4, 4, likelihood=5),  # negative, no irremediability
            Response("y", "Z", "t", "financial", likelihood=6, magnitude=3),
        ]
    )
    with pytest.raises(ValueError, match="irremediability") as error:
        score_responses(frame, WEIGHTS)
    message = str(error.value)
    assert "groups without a weight: ['Z']" in message
    assert "likelihood: 1 scores missing or outside 1-5" in message
    with pytest.raises(ValueError, match="must be > 0"):
        score_responses(frame, {"A": 0.0, "Z": 1.0})


def _seed_tiers() -> dict[str, str]:
    seed = pd.read_csv(SEED / "materiality.csv", dtype=str)
    by_name = {t.name_en: t.topic_id for t in demo_topics()}
    tier = seed["tier"].str.replace(" (inferred from layout)", "", regex=False)
    return dict(zip(seed["topic_en"].map(by_name), tier, strict=True))


@needs_seed
def test_topic_list_is_the_seed() -> None:
    seed = pd.read_csv(SEED / "materiality.csv", dtype=str, keep_default_na=False)
    topics = demo_topics()
    assert [t.name_en for t in topics] == seed["topic_en"].tolist()
    assert [t.name_zh for t in topics] == seed["topic_zh"].tolist()
    assert [t.dimension for t in topics] == seed["dimension"].tolist()
    assert [t.time_horizon for t in topics] == seed["time_horizon"].tolist()
    assert len({t.topic_id for t in topics}) == len(topics) == 19


@needs_seed
def test_demo_responses_reproduce_the_seed_tiers() -> None:
    responses = demo_responses(demo_topics(), seed=2024)
    assert (responses["note"] == "synthetic").all()
    assert responses["respondent"].str.startswith("syn-").all()
    result = tiers(score_responses(responses, DEMO_WEIGHTS))
    expected = _seed_tiers()
    assert set(result.index) == set(expected)
    assert result["tier"].to_dict() == expected
    assert demo_responses(demo_topics(), seed=2024).equals(responses)


def test_topic_changes_2023_to_2024() -> None:
    changes = topic_changes(demo_topics(2023), demo_topics(2024))
    assert {(c.kind, c.previous_id, c.topic_id, c.detail) for c in changes} == {
        ("merged", "green_operations", "climate_change", ""),
        ("renamed", "clean_tech_opportunities", "clean_tech_green_products", ""),
        ("renamed", "innovative_digital_services", "service_product_quality", ""),
        ("added", "", "emissions_waste", ""),
        ("moved", "supply_chain", "supply_chain", "G -> S"),
    }
    # the published change column agrees with the computed changes
    changed = {c.topic_id: c.kind for c in changes}
    for topic in demo_topics(2024):
        published = {"new": "added"}.get(topic.change, topic.change)
        assert changed.get(topic.topic_id, "unchanged") == published, topic.topic_id


def test_a_removed_topic_is_reported() -> None:
    previous = demo_topics(2023)
    current = tuple(t for t in demo_topics(2024) if t.topic_id != "compliance")
    removed = [c for c in topic_changes(previous, current) if c.kind == "removed"]
    assert [c.topic_id for c in removed] == ["compliance"]


SCORE = st.integers(min_value=1, max_value=5).map(float)
RESPONSE = st.tuples(
    st.sampled_from(["A", "B", "C"]),
    st.sampled_from(["t", "u"]),
    st.sampled_from(["impact", "financial"]),
    st.tuples(SCORE, SCORE, SCORE, SCORE, SCORE),
    st.booleans(),
)


def _frame(rows: list[tuple[str, str, str, tuple[float, ...], bool]]) -> pd.DataFrame:
    responses = []
    for i, (group, topic, axis, (a, b, c, lik, mag), positive) in enumerate(rows):
        if axis == "impact":
            responses.append(
                Response(str(i), group, topic, "impact", a, b, c, lik, positive=positive)
            )
        else:
            responses.append(
                Response(str(i), group, topic, "financial", likelihood=lik, magnitude=mag)
            )
    return responses_frame(responses)


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(RESPONSE, min_size=1, max_size=25),
    pick=st.integers(min_value=0),
    column=st.sampled_from(["scale", "scope", "irremediability", "likelihood", "magnitude"]),
    weights=st.tuples(*(st.floats(min_value=0.05, max_value=1.0) for _ in range(3))),
)
def test_raising_a_score_never_lowers_a_tier(
    rows: list[tuple[str, str, str, tuple[float, ...], bool]],
    pick: int,
    column: str,
    weights: tuple[float, float, float],
) -> None:
    groups = dict(zip("ABC", weights, strict=True))
    frame = _frame(rows)
    before = tiers(score_responses(frame, groups))
    raised = frame.copy()
    row = pick % len(frame)
    raised.loc[row, column] = min(raised.loc[row, column] + 1, 5.0)  # NaN stays NaN
    after = tiers(score_responses(raised, groups))
    assert (after["tier_rank"] >= before["tier_rank"]).all()
    # a weighted mean stays within the scores it averages
    scores = response_scores(frame, load_scales())
    for (topic, axis), part in scores.groupby([frame["topic_id"], frame["axis"]]):
        value = before.loc[topic, axis]
        assert part.min() - 1e-9 <= value <= part.max() + 1e-9


def test_ten_thousand_responses_aggregate() -> None:
    rng = np.random.default_rng(7)
    n = 10_000
    groups = {f"g{i}": float(i + 1) for i in range(8)}
    scores = rng.integers(1, 6, size=(n, 5)).astype(float)
    axis = rng.choice(["impact", "financial"], size=n)
    is_fin = axis == "financial"
    frame = pd.DataFrame(
        {
            "respondent": np.arange(n).astype(str),
            "group": rng.choice(list(groups), size=n),
            "topic_id": rng.choice([t.topic_id for t in demo_topics()], size=n),
            "axis": axis,
            "scale": np.where(is_fin, np.nan, scores[:, 0]),
            "scope": np.where(is_fin, np.nan, scores[:, 1]),
            "irremediability": np.where(is_fin, np.nan, scores[:, 2]),
            "likelihood": scores[:, 3],
            "magnitude": np.where(is_fin, scores[:, 4], np.nan),
            "positive": False,
        }
    )
    result = tiers(score_responses(frame, groups))
    assert len(result) == 19
    assert int(result["impact_n"].sum() + result["financial_n"].sum()) == n
    assert set(result["tier"]) <= set(TIERS)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_matrix_chart(lang: str) -> None:
    if lang == "zh" and charts.cjk_font() is None:
        pytest.skip("no CJK font installed")
    scored = tiers(score_responses(demo_responses(demo_topics()), DEMO_WEIGHTS))
    chart = matrix_chart(scored, lang, year=2024, topics=demo_topics())
    topics = demo_topics()
    assert chart.kind == "matrix"
    assert len(chart.categories) == len(topics) == 19
    assert [len(s.figures) for s in chart.series] == [19, 19]
    x, y = chart.series
    assert x.figures[0].lineage == "materiality:2024:climate_change:financial"
    assert y.figures[0].lineage == "materiality:2024:climate_change:impact"
    # printed to two decimals, as the report rounds every figure to its precision
    assert x.figures[0].value == round(scored.loc["climate_change", "financial"], 2)
    assert x.figures[0].precision == 2
    assert chart.categories[0] == topics[0].name(lang)
    svg = charts.svg(chart, lang)
    assert svg.lstrip().startswith("<svg")


@settings(max_examples=60, deadline=None)
@given(
    answered=st.sets(
        st.tuples(st.sampled_from(["a", "b", "c"]), st.sampled_from(["t1", "t2", "t3"])),
        max_size=9,
    )
)
def test_coverage_names_every_unanswered_topic_axis_and_only_those(
    answered: set[tuple[str, str]],
) -> None:
    """A topic is named as unanswered on an axis exactly when no group of that axis answered
    it (groups a and b score impact, c financial); a group is silent exactly when it gave no
    answer at all (issue 17: unanswered axes were read as 0)."""
    from esgledger.assess.materiality import coverage  # noqa: PLC0415

    axes = {"a": "impact", "b": "impact", "c": "financial"}
    rows = [
        {"respondent": f"{g}{i}", "group": g, "topic_id": t, "axis": axes[g]}
        for g, t in sorted(answered)
        for i in range(3)
    ]
    frame = pd.DataFrame(rows, columns=["respondent", "group", "topic_id", "axis"])
    found = coverage(frame, axes, ["t1", "t2", "t3"])
    for topic in ("t1", "t2", "t3"):
        for axis in ("impact", "financial"):
            unanswered = not any(axes[g] == axis and t == topic for g, t in answered)
            named = f"topic {topic} has no {axis} answer" in " | ".join(found)
            assert named == unanswered
    for group, axis in axes.items():
        silent = not any(g == group for g, _ in answered)
        assert any(m.startswith(f"group {group} ({axis}) gave no answer") for m in found) == silent
