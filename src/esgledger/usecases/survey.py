"""The double-materiality survey in the ledger: campaigns, one-time tokens, anonymous responses.

This module creates campaigns, issues tokens and takes responses; reading a campaign, its
response rates and scores, and the committee's sign-off are
:mod:`esgledger.usecases.survey_results`.

A reviewer (``manage_campaigns``, group-wide) creates a campaign for a year, which copies that
year's topic list (:func:`~esgledger.assess.topics.load_topics`) and the stakeholder groups
with their axis (impact or financial) and weight, then issues one-time tokens per group. A
respondent submits all their answers at once with a token's secret; the ESG committee
(``lock``, group-wide, like period locks) signs the campaign off, which closes it.

Anonymity and secrets:

- only the SHA-256 of a token's secret is stored; the secret is returned once by
  :func:`issue_tokens` and never written to the audit log;
- a response row carries its group, topic and axis but no token id: the token row only gets
  ``used_at``, and ``submitted_at`` of the responses is kept to the day;
- the audit log records counts (tokens issued, answers submitted, tiers at sign-off), never a
  respondent's scores;
- a respondent cannot read responses back: no function returns the answers of a token, and
  the only readers (:func:`~esgledger.usecases.survey_results.response_rate`,
  :func:`~esgledger.usecases.survey_results.score_campaign`) aggregate over groups.

Refusals (:mod:`esgledger.domain.errors`): an unknown secret, or one of another campaign
than the one named, is :class:`NotFound` (the two are not told apart); a used token, a
campaign past its ``closes_at`` and a signed-off campaign are :class:`Conflict`, each with its
own message; wrong answers are :class:`Invalid` naming every ``answer N: field`` at fault;
a role without the permission or a user limited to some entities is :class:`Forbidden`.
Every write is one transaction with its audit entry.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import pandas as pd

from esgledger import audit
from esgledger.assess.demo import FINANCIAL_GROUPS, IMPACT_GROUPS
from esgledger.assess.materiality import Scales, StakeholderGroup, load_scales
from esgledger.assess.topics import Topic
from esgledger.auth import access
from esgledger.auth.access import require
from esgledger.auth.accounts import Principal
from esgledger.auth.roles import Permission
from esgledger.domain.errors import Conflict, Forbidden, Invalid, NotFound
from esgledger.store import surveys as store
from esgledger.store.engine import LedgerConnection as Connection
from esgledger.store.engine import LedgerEngine as Engine
from esgledger.store.engine import now as utc_now
from esgledger.store.engine import write_transaction
from esgledger.store.surveys import campaign_groups
from esgledger.usecases.topic_lists import campaign_topics_for

__all__ = [
    "Answer",
    "SurveyGroup",
    "answers_of",
    "campaign_groups",
    "campaign_row",
    "create_campaign",
    "demo_groups",
    "issue_tokens",
    "require_group_wide",
    "submit_response",
    "survey_form",
]

Axis = Literal["impact", "financial"]
AXES = ("impact", "financial")
SCORES = ("scale", "scope", "irremediability", "likelihood", "magnitude")
ASKED: dict[str, tuple[str, ...]] = {
    "impact": ("scale", "scope", "irremediability", "likelihood"),
    "financial": ("likelihood", "magnitude"),
}
"""The scores each axis asks for (irremediability only of a negative impact)."""
MINIMUM, MAXIMUM = 1, 5
MAX_TOKENS = 10_000
AUDIT_TYPE = "materiality_campaign"


@dataclass(frozen=True, slots=True)
class SurveyGroup:
    """A stakeholder group of a campaign: the axis its members score and its weight."""

    group_id: str
    axis: Axis
    weight: float
    name_en: str = ""
    name_zh: str = ""
    internal: bool = False

    @classmethod
    def of(cls, group: StakeholderGroup, axis: Axis) -> SurveyGroup:
        return cls(group.group_id, axis, group.weight, group.name_en, group.name_zh, group.internal)


def demo_groups() -> tuple[SurveyGroup, ...]:
    """The synthetic groups of :mod:`esgledger.assess.demo` with their axes."""
    return tuple(SurveyGroup.of(g, "impact") for g in IMPACT_GROUPS) + tuple(
        SurveyGroup.of(g, "financial") for g in FINANCIAL_GROUPS
    )


@dataclass(frozen=True, slots=True)
class Answer:
    """A respondent's scores of one topic on their group's axis (integers 1-5; None where
    the axis does not ask: an impact has scale, scope, likelihood and, when negative,
    irremediability; a financial effect has likelihood and magnitude)."""

    topic_id: str
    axis: Axis
    scale: int | None = None
    scope: int | None = None
    irremediability: int | None = None
    likelihood: int | None = None
    magnitude: int | None = None
    positive: bool = False


def answers_of(rows: pd.DataFrame) -> list[Answer]:
    """One respondent's rows of a responses frame (the columns of
    :data:`~esgledger.assess.materiality.RESPONSE_COLUMNS`, NaN where not asked) as answers."""

    def score(value: Any) -> int | None:
        return None if pd.isna(value) else int(float(value))

    return [
        Answer(
            str(r["topic_id"]),
            "financial" if r["axis"] == "financial" else "impact",
            scale=score(r["scale"]),
            scope=score(r["scope"]),
            irremediability=score(r["irremediability"]),
            likelihood=score(r["likelihood"]),
            magnitude=score(r["magnitude"]),
            positive=bool(r["positive"]),
        )
        for r in rows.to_dict("records")
    ]


# -- helpers ------------------------------------------------------------------------------


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _naive_utc(moment: datetime, what: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise Invalid(f"{what} must be a timezone-aware datetime")
    return moment.astimezone(UTC).replace(tzinfo=None)


def require_group_wide(conn: Connection, who: Principal, permission: Permission) -> None:
    """Refuse unless ``who`` has ``permission`` and sees every entity of the ledger."""
    require(who, permission)
    if not access.is_group_wide(conn, who):
        raise Forbidden("a materiality survey covers the whole group: only a group-wide user may")


def campaign_row(conn: Connection, campaign_id: int, *, lock: bool = False) -> dict[str, Any]:
    """The campaign's row (locked for update with ``lock``); NotFound when there is none."""
    row = store.find_campaign(conn, campaign_id, lock=lock)
    if row is None:
        raise NotFound(f"no materiality campaign {campaign_id}")
    return row


def _accepting(campaign: dict[str, Any], moment: datetime) -> None:
    """Refuse when the campaign no longer takes responses or tokens."""
    if campaign["status"] != "open":
        raise Conflict(
            f"materiality campaign {campaign['campaign_id']} was signed off "
            f"by {campaign['signed_off_by']}: it accepts no more responses"
        )
    if moment >= campaign["closes_at"]:
        raise Conflict(
            f"materiality campaign {campaign['campaign_id']} closed at "
            f"{campaign['closes_at'].isoformat(timespec='minutes')} UTC: the token has expired"
        )


# -- campaign -----------------------------------------------------------------------------


def _check_groups(groups: Sequence[SurveyGroup]) -> None:
    if not groups:
        raise Invalid("a materiality campaign needs at least one stakeholder group")
    problems: list[str] = []
    seen: set[str] = set()
    for i, group in enumerate(groups):
        where = f"group {i} ({group.group_id!r})"
        if not group.group_id.strip():
            problems.append(f"group {i}: empty group id")
        if group.group_id in seen:
            problems.append(f"{where}: listed twice")
        seen.add(group.group_id)
        if group.axis not in AXES:
            problems.append(f"{where}: axis {group.axis!r} is neither impact nor financial")
        if not (math.isfinite(group.weight) and group.weight > 0):
            problems.append(f"{where}: weight {group.weight!r} must be > 0")
    if problems:
        raise Invalid("; ".join(problems))


def _insert_topics_and_groups(
    conn: Connection, campaign_id: int, topics: Sequence[Topic], groups: Sequence[SurveyGroup]
) -> None:
    """The campaign's copy of its topic list (in order) and its stakeholder groups."""
    store.insert_topics(
        conn,
        [
            {
                "campaign_id": campaign_id,
                "topic_id": t.topic_id,
                "position": i,
                "name_en": t.name_en,
                "name_zh": t.name_zh,
                "dimension": t.dimension,
            }
            for i, t in enumerate(topics)
        ],
    )
    store.insert_groups(
        conn,
        [
            {
                "campaign_id": campaign_id,
                "group_id": g.group_id,
                "name_en": g.name_en,
                "name_zh": g.name_zh,
                "weight": float(g.weight),
                "axis": g.axis,
                "internal": bool(g.internal),
            }
            for g in groups
        ],
    )


def _created(
    rule: Scales, topics: Sequence[Topic], groups: Sequence[SurveyGroup]
) -> dict[str, Any]:
    """The rule's thresholds, the topics and the groups of a new campaign (its audit entry)."""
    return {
        "thresholds": {
            "impact_high": rule.impact_high,
            "financial_high": rule.financial_high,
            "floor": rule.floor,
        },
        "topics": [t.topic_id for t in topics],
        "groups": {
            g.group_id: {"axis": g.axis, "weight": g.weight, "internal": g.internal} for g in groups
        },
    }


def create_campaign(
    engine: Engine,
    who: Principal,
    year: int,
    title: str,
    closes_at: datetime,
    groups: Sequence[SurveyGroup],
    *,
    library: str | None = None,
    scales: Scales | None = None,
) -> int:
    """A new open campaign with its topics and ``groups``; returns its id.

    The topics are copied from ``library`` (:data:`~esgledger.assess.topics.LIBRARIES`: the
    ESRS topical list), by default from the ledger's topic list of the year or the latest one
    before it (:func:`esgledger.usecases.topic_lists.campaign_topics_for`). ``closes_at`` must
    be timezone-aware and in the future (stored as naive UTC)."""
    require(who, Permission.MANAGE_CAMPAIGNS)
    if not title.strip():
        raise Invalid("a materiality campaign needs a title")
    topics, source = campaign_topics_for(engine, year, library)
    rule = scales or load_scales()
    wrong = rule.problems()
    if wrong:
        raise Invalid("scoring rule: " + "; ".join(wrong))
    closes = _naive_utc(closes_at, "closes_at")
    stamp = utc_now()
    if closes <= stamp:
        raise Invalid(f"closes_at {closes_at.isoformat()} is not in the future")
    _check_groups(groups)
    with write_transaction(engine) as conn:
        require_group_wide(conn, who, Permission.MANAGE_CAMPAIGNS)
        campaign_id = store.insert_campaign(
            conn,
            year=year,
            title=title.strip(),
            closes_at=closes,
            status="open",
            created_by=who.username,
            created_at=stamp,
            scales=rule.to_json(),
        )
        _insert_topics_and_groups(conn, campaign_id, topics, groups)
        audit.append(
            conn,
            who.username,
            "create",
            AUDIT_TYPE,
            campaign_id,
            after={
                "year": year,
                "title": title.strip(),
                "closes_at": closes,
                "library": source,
                **_created(rule, topics, groups),
            },
        )
    return campaign_id


def issue_tokens(
    engine: Engine, who: Principal, campaign_id: int, group_id: str, count: int
) -> list[str]:
    """``count`` one-time secrets for respondents of ``group_id``; only their hashes are
    stored, so the secrets must be handed out now (they cannot be shown again)."""
    require(who, Permission.MANAGE_CAMPAIGNS)
    if not 1 <= count <= MAX_TOKENS:
        raise Invalid(f"count {count} is outside 1-{MAX_TOKENS}")
    issued = [secrets.token_urlsafe(24) for _ in range(count)]
    with write_transaction(engine) as conn:
        require_group_wide(conn, who, Permission.MANAGE_CAMPAIGNS)
        campaign = campaign_row(conn, campaign_id, lock=True)
        stamp = utc_now()
        _accepting(campaign, stamp)
        if not store.has_group(conn, campaign_id, group_id):
            raise NotFound(f"materiality campaign {campaign_id} has no group {group_id!r}")
        store.insert_tokens(
            conn,
            [
                {
                    "campaign_id": campaign_id,
                    "group_id": group_id,
                    "token_hash": _digest(s),
                    "created_at": stamp,
                }
                for s in issued
            ],
        )
        audit.append(
            conn,
            who.username,
            "issue_tokens",
            AUDIT_TYPE,
            campaign_id,
            after={"group": group_id, "count": count},
        )
    return issued


# -- responses ----------------------------------------------------------------------------


def _score_problem(value: object) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return f"{value!r} is not an integer score"
    if not MINIMUM <= value <= MAXIMUM:
        return f"{value} is outside {MINIMUM}-{MAXIMUM}"
    return None


def validate_answers(answers: Sequence[Answer], axis: str, topics: frozenset[str]) -> list[str]:
    """Every problem of ``answers`` for a group scoring ``axis``, as ``answer N: field: ...``."""
    if not answers:
        return ["no answers"]
    problems: list[str] = []
    seen: set[str] = set()
    for i, answer in enumerate(answers):
        where = f"answer {i}"
        if answer.topic_id not in topics:
            problems.append(f"{where}: topic_id: {answer.topic_id!r} is not a topic of the survey")
        elif answer.topic_id in seen:
            problems.append(f"{where}: topic_id: {answer.topic_id!r} is answered twice")
        seen.add(answer.topic_id)
        if answer.axis != axis:
            problems.append(f"{where}: axis: {answer.axis!r}, but the token's group scores {axis}")
            continue
        if answer.positive and axis != "impact":
            problems.append(f"{where}: positive: only an impact can be positive")
        asked = set(ASKED[axis])
        if answer.positive:
            asked.discard("irremediability")
        for name in SCORES:
            value = getattr(answer, name)
            if name not in asked:
                if value is not None:
                    reason = (
                        "must be empty for a positive impact"
                        if name == "irremediability" and answer.positive
                        else f"is not asked on the {axis} axis"
                    )
                    problems.append(f"{where}: {name}: {reason}")
                continue
            if value is None:
                problems.append(f"{where}: {name}: missing")
                continue
            problem = _score_problem(value)
            if problem:
                problems.append(f"{where}: {name}: {problem}")
    return problems


def _check_answers(conn: Connection, token: Mapping[str, Any], answers: Sequence[Answer]) -> None:
    """Refuse (Invalid) the answers that are wrong for the token's group and campaign."""
    axis = store.group_axis(conn, token["campaign_id"], token["group_id"])
    topics = store.topic_ids(conn, token["campaign_id"])
    problems = validate_answers(answers, str(axis), topics)
    if problems:
        raise Invalid("; ".join(problems))


def _use_token(
    conn: Connection, token: Mapping[str, Any], answers: Sequence[Answer], moment: datetime
) -> None:
    """Mark the token used and store the answers under its group, dated to the day."""
    used = store.use_token(conn, token["token_id"], moment)
    if used != 1:  # pragma: no cover - the row lock makes this unreachable
        raise Conflict("this survey token has already been used: a token answers once")
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    store.insert_responses(
        conn,
        [
            {
                "campaign_id": token["campaign_id"],
                "group_id": token["group_id"],
                "topic_id": a.topic_id,
                "axis": a.axis,
                **{name: getattr(a, name) for name in SCORES},
                "positive": bool(a.positive),
                "submitted_at": day,
            }
            for a in answers
        ],
    )


def submit_response(
    engine: Engine,
    secret: str,
    answers: Sequence[Answer],
    now: datetime | None = None,
    *,
    campaign_id: int | None = None,
) -> None:
    """Store one respondent's ``answers`` with a token's ``secret`` and use the token up,
    all or nothing. ``now`` (timezone-aware; default the clock) is checked against the
    campaign's ``closes_at``; ``campaign_id``, when given (the campaign of the survey page),
    must be the token's. The token row is locked (``SELECT ... FOR UPDATE``) so that one
    token cannot be used by two concurrent submissions."""
    moment = _naive_utc(now or datetime.now(UTC), "now")
    with write_transaction(engine) as conn:
        token = store.token_by_hash(conn, _digest(secret), lock=True)
        if token is None or (campaign_id is not None and token["campaign_id"] != campaign_id):
            raise NotFound("unknown survey token")
        campaign = store.shared_campaign(conn, token["campaign_id"])
        if token["used_at"] is not None:
            raise Conflict("this survey token has already been used: a token answers once")
        _accepting(campaign, moment)
        _check_answers(conn, token, answers)
        _use_token(conn, token, answers, moment)
        audit.append(
            conn,
            "survey",
            "respond",
            AUDIT_TYPE,
            int(token["campaign_id"]),
            after={"group": token["group_id"], "answers": len(answers)},
        )


# -- the respondent's page ----------------------------------------------------------------


def survey_form(engine: Engine, secret: str, campaign_id: int) -> dict[str, Any]:
    """What a respondent's page shows for a token: the campaign's title and closing time, the
    group's axis and the topics; refused like :func:`submit_response` (unknown, used,
    expired or closed) so that a dead link says why at once."""
    moment = utc_now()
    with engine.connect() as conn:
        token = store.token_by_hash(conn, _digest(secret))
        if token is None or token["campaign_id"] != campaign_id:
            raise NotFound("unknown survey token")
        found = campaign_row(conn, campaign_id)
        if token["used_at"] is not None:
            raise Conflict("this survey token has already been used: a token answers once")
        _accepting(found, moment)
        group = next(
            g for g in campaign_groups(conn, campaign_id) if g["group_id"] == token["group_id"]
        )
        topics = store.campaign_topics(conn, campaign_id)
    return {
        "campaign_id": campaign_id,
        "title": found["title"],
        "year": found["year"],
        "closes_at": found["closes_at"],
        "group": group,
        "axis": group["axis"],
        "asked": ASKED[group["axis"]],
        "topics": topics,
    }
