"""SYNTHETIC demo responses of the double-materiality survey.

The seed report publishes no scores, only three tiers (inferred from the matrix layout). The
responses made here are invented, deterministic (one ``numpy`` generator seeded with
``seed``) and labelled ``synthetic`` in their ``note`` column and their respondent ids
(``syn-...``); they are drawn so that :func:`~esgledger.assess.materiality.score_responses`
and :func:`~esgledger.assess.materiality.tiers` give every topic the tier of the seed
(``published_tier`` of the demo's ``demo/data/topics_2024.csv``). No real respondent is
behind any row.

Each axis of a topic is drawn at a "high" level (scores 3/4/5 with probabilities
0.1/0.3/0.6: expected score about 4.0) or a "low" one (2/3/4 with 0.2/0.5/0.3: about 1.9,
between the floor 1.5 and the threshold 3.0). A "high" topic of the seed has one high axis:
impact, except for the topics of :data:`FINANCIAL_HIGH` (a synthetic choice).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from esgledger.assess.materiality import RESPONSE_COLUMNS, StakeholderGroup, group_weights
from esgledger.assess.topics import Topic

IMPACT_GROUPS = (
    StakeholderGroup("employees", 0.25, "employees", "员工", internal=True),
    StakeholderGroup("customers", 0.20, "customers", "客户"),
    StakeholderGroup("regulators", 0.15, "regulators", "监管机构"),
    StakeholderGroup("esg_experts", 0.15, "ESG experts and academics", "ESG专家与学者"),
    StakeholderGroup("associations", 0.10, "industry associations", "行业协会"),
    StakeholderGroup("raters_media", 0.15, "raters and journalists", "评级机构与媒体"),
)
"""Impact materiality: internal and external stakeholders (synthetic weights)."""

FINANCIAL_GROUPS = (
    StakeholderGroup("board", 0.40, "board members", "董事会成员", internal=True),
    StakeholderGroup("senior_management", 0.35, "senior management", "高级管理层", internal=True),
    StakeholderGroup("finance", 0.25, "finance department", "财务部门", internal=True),
)
"""Financial materiality: management's internal assessment, as in the seed's process."""

DEMO_GROUPS = IMPACT_GROUPS + FINANCIAL_GROUPS
DEMO_WEIGHTS = group_weights(DEMO_GROUPS)

RESPONDENTS = {
    "employees": 40,
    "customers": 20,
    "regulators": 6,
    "esg_experts": 8,
    "associations": 5,
    "raters_media": 6,
    "board": 7,
    "senior_management": 10,
    "finance": 6,
}
"""Respondents per group (synthetic; external ones are over 20 % of the impact responses,
as the seed states of its survey)."""

POSITIVE = frozenset(
    {
        "clean_tech_green_products",
        "innovation_rd",
        "employee_development",
        "employee_care",
        "social_development",
        "charity_volunteering",
    }
)
"""Topics scored as positive impacts (no irremediability score): a synthetic choice."""

FINANCIAL_HIGH = frozenset({"clean_tech_green_products", "corporate_governance"})

LEVELS = {
    True: (np.array([3.0, 4.0, 5.0]), np.array([0.1, 0.3, 0.6])),
    False: (np.array([2.0, 3.0, 4.0]), np.array([0.2, 0.5, 0.3])),
}


def _levels(topic: Topic) -> tuple[bool, bool]:
    """(impact high, financial high) drawn for a topic of the seed's tier."""
    tier = topic.published_tier
    if tier == "very high":
        return True, True
    if tier == "high":
        financial = topic.topic_id in FINANCIAL_HIGH
        return not financial, financial
    return False, False


def demo_responses(topics: Sequence[Topic], seed: int = 2024) -> pd.DataFrame:
    """The synthetic responses to ``topics`` (the demo's 2024 list): one row per respondent,
    topic and axis (``note`` = ``synthetic``)."""
    rng = np.random.default_rng(seed)
    listed = tuple(topics)
    frames = []
    for topic in listed:
        impact_high, financial_high = _levels(topic)
        for group in DEMO_GROUPS:
            n = RESPONDENTS[group.group_id]
            financial = group in FINANCIAL_GROUPS
            values, p = LEVELS[financial_high if financial else impact_high]
            draw = rng.choice(values, size=(n, 4), p=p)
            positive = topic.topic_id in POSITIVE and not financial
            nan = np.full(n, np.nan)
            frames.append(
                pd.DataFrame(
                    {
                        "respondent": [f"syn-{group.group_id}-{i:03d}" for i in range(n)],
                        "group": group.group_id,
                        "topic_id": topic.topic_id,
                        "axis": "financial" if financial else "impact",
                        "scale": nan if financial else draw[:, 0],
                        "scope": nan if financial else draw[:, 1],
                        "irremediability": nan if financial or positive else draw[:, 2],
                        "likelihood": draw[:, 3],
                        "magnitude": draw[:, 0] if financial else nan,
                        "positive": positive,
                    }
                )
            )
    out = pd.concat(frames, ignore_index=True)[list(RESPONSE_COLUMNS)]
    out["note"] = "synthetic"
    return out
