"""The double-materiality survey in the ledger, read: campaigns with their topics and groups,
response rates, the anonymous responses scored with the groups' weights, and the ESG
committee's sign-off (``lock``, group-wide), which closes a campaign.

Campaigns, tokens and responses are written by :mod:`esgledger.usecases.survey` (its text
states the anonymity rules). The readers here aggregate over groups: none returns the answers
of a token. Refusals are those of :mod:`esgledger.usecases.survey`; a campaign without
responses cannot be scored (:class:`~esgledger.domain.errors.Conflict`).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from esgledger import audit
from esgledger.assess.materiality import (
    RESPONSE_COLUMNS,
    Scales,
    coverage,
    load_scales,
    score_responses,
    tiers,
)
from esgledger.assess.topics import Topic
from esgledger.auth.access import require
from esgledger.auth.accounts import Principal
from esgledger.auth.roles import Permission
from esgledger.domain.errors import Conflict, Invalid
from esgledger.store import surveys as store
from esgledger.store.engine import LedgerConnection as Connection
from esgledger.store.engine import LedgerEngine as Engine
from esgledger.store.engine import now as utc_now
from esgledger.store.engine import write_transaction
from esgledger.usecases.survey import (
    AUDIT_TYPE,
    SCORES,
    campaign_groups,
    campaign_row,
    require_group_wide,
)

__all__ = [
    "campaign",
    "campaign_responses",
    "campaign_results",
    "campaign_scales",
    "campaign_topics",
    "campaign_warnings",
    "campaigns",
    "response_rate",
    "score_campaign",
    "sign_off",
    "signed_off",
]


# -- reading ------------------------------------------------------------------------------


def response_rate(engine: Engine, who: Principal, campaign_id: int) -> dict[str, Any]:
    """Per group: tokens ``issued``, ``used`` and ``rate`` (None before any is issued); in
    total the same, and ``external_share``: the share of the returned surveys (used tokens)
    from external groups (None before any is returned)."""
    require(who, Permission.VIEW)
    with engine.connect() as conn:
        campaign = campaign_row(conn, campaign_id)
        counts = store.token_counts(conn, campaign_id)
        groups = campaign_groups(conn, campaign_id)
    rows = []
    for group in groups:
        issued, used = counts.get(group["group_id"], (0, 0))
        rows.append(
            {
                "group_id": group["group_id"],
                "axis": group["axis"],
                "internal": bool(group["internal"]),
                "issued": issued,
                "used": used,
                "rate": used / issued if issued else None,
            }
        )
    issued = sum(r["issued"] for r in rows)
    used = sum(r["used"] for r in rows)
    external = sum(r["used"] for r in rows if not r["internal"])
    return {
        "campaign_id": campaign_id,
        "status": campaign["status"],
        "groups": rows,
        "issued": issued,
        "used": used,
        "rate": used / issued if issued else None,
        "external_used": external,
        "external_share": external / used if used else None,
    }


def _responses(conn: Connection, campaign_id: int) -> pd.DataFrame:
    rows = store.response_rows(conn, campaign_id, SCORES)
    frame = pd.DataFrame(
        rows, columns=["group", "topic_id", "axis", *SCORES, "positive"], dtype=object
    )
    frame["respondent"] = ""  # anonymous: the scoring does not need it
    for name in SCORES:
        frame[name] = pd.to_numeric(frame[name], errors="coerce").astype(float)
    frame["positive"] = frame["positive"].astype(bool)
    return frame[list(RESPONSE_COLUMNS)]


def _scales(campaign: dict[str, Any]) -> Scales:
    text = campaign.get("scales")
    return load_scales() if not text else Scales.from_json(str(text))


def campaign_scales(engine: Engine, campaign_id: int) -> Scales:
    """The scoring rule a campaign keeps (the packaged one for a campaign without its own)."""
    with engine.connect() as conn:
        return _scales(campaign_row(conn, campaign_id))


def _score(conn: Connection, campaign_id: int) -> tuple[pd.DataFrame, int]:
    rule = _scales(campaign_row(conn, campaign_id))
    frame = _responses(conn, campaign_id)
    if frame.empty:
        raise Conflict(f"materiality campaign {campaign_id} has no responses yet")
    weights = {g["group_id"]: float(g["weight"]) for g in campaign_groups(conn, campaign_id)}
    try:
        return tiers(score_responses(frame, weights, rule), rule), len(frame)
    except ValueError as exc:  # pragma: no cover - answers are validated on the way in
        raise Invalid(str(exc)) from exc


def signed_off(engine: Engine, year: int) -> dict[str, Any] | None:
    """The campaign of ``year`` the committee signed off last (what the report uses), or
    None: a campaign still open is a draft and feeds nothing."""
    return store.latest_closed(engine, year)


def campaigns(engine: Engine, who: Principal) -> list[dict[str, Any]]:
    """Every campaign, newest first, with its response counts (the survey list page)."""
    require(who, Permission.VIEW)
    rows = store.campaigns_with_counts(engine)
    for row in rows:
        row["issued"], row["used"] = int(row["issued"] or 0), int(row["used"] or 0)
    return rows


def campaign(engine: Engine, who: Principal, campaign_id: int) -> dict[str, Any]:
    """A campaign with its topics and groups."""
    require(who, Permission.VIEW)
    with engine.connect() as conn:
        found = campaign_row(conn, campaign_id)
        found["groups"] = campaign_groups(conn, campaign_id)
        found["topics"] = store.campaign_topics(conn, campaign_id)
    return found


def campaign_topics(engine: Engine, campaign_id: int) -> tuple[Topic, ...]:
    """The topics a campaign copied, in their order (names as copied)."""
    with engine.connect() as conn:
        rows = store.campaign_topics(conn, campaign_id)
    return tuple(
        Topic(r["topic_id"], r["name_zh"], r["name_en"], r["dimension"], source="campaign")
        for r in rows
    )


def campaign_responses(engine: Engine, campaign_id: int) -> tuple[pd.DataFrame, dict[str, float]]:
    """The anonymous responses of a campaign (the scoring frame) and its group weights."""
    with engine.connect() as conn:
        campaign_row(conn, campaign_id)
        weights = {g["group_id"]: float(g["weight"]) for g in campaign_groups(conn, campaign_id)}
        return _responses(conn, campaign_id), weights


def campaign_results(engine: Engine, campaign_id: int) -> pd.DataFrame:
    """:func:`score_campaign` without a user: for the report and lineage, which read the
    signed-off result of the whole group."""
    with engine.connect() as conn:
        campaign_row(conn, campaign_id)
        return _score(conn, campaign_id)[0]


def score_campaign(engine: Engine, who: Principal, campaign_id: int) -> pd.DataFrame:
    """The campaign's responses scored with its group weights, with their tiers: the frame of
    :func:`~esgledger.assess.materiality.tiers` (one row per answered topic)."""
    require(who, Permission.VIEW)
    with engine.connect() as conn:
        campaign_row(conn, campaign_id)
        return _score(conn, campaign_id)[0]


def _coverage(conn: Connection, campaign_id: int) -> list[str]:
    rule = _scales(campaign_row(conn, campaign_id))
    axes = {g["group_id"]: str(g["axis"]) for g in campaign_groups(conn, campaign_id)}
    topics = [str(t["topic_id"]) for t in store.campaign_topics(conn, campaign_id)]
    return coverage(_responses(conn, campaign_id), axes, topics, rule)


def campaign_warnings(engine: Engine, who: Principal, campaign_id: int) -> list[str]:
    """What the campaign's scores rest on that a reader must know
    (:func:`esgledger.assess.materiality.coverage`): silent or thin groups, topics some
    groups or every group left unanswered on an axis."""
    require(who, Permission.VIEW)
    with engine.connect() as conn:
        campaign_row(conn, campaign_id)
        return _coverage(conn, campaign_id)


def sign_off(engine: Engine, who: Principal, campaign_id: int) -> None:
    """The committee's sign-off: closes the campaign (no response is accepted after it) and
    records who signed; the audit entry holds the number of topics per tier and the
    campaign's warnings. Refused while a topic has no answer on an axis (its score there is
    unknown, and a tier would read it as 0)."""
    require(who, Permission.LOCK)
    with write_transaction(engine) as conn:
        require_group_wide(conn, who, Permission.LOCK)
        campaign = campaign_row(conn, campaign_id, lock=True)
        if campaign["status"] != "open":
            raise Conflict(
                f"materiality campaign {campaign_id} was already signed off "
                f"by {campaign['signed_off_by']}"
            )
        tiered, answers = _score(conn, campaign_id)
        warnings = _coverage(conn, campaign_id)
        unanswered = [w for w in warnings if w.startswith("topic ") and "has no " in w]
        if unanswered:
            raise Conflict(
                f"materiality campaign {campaign_id} cannot be signed off: " + "; ".join(unanswered)
            )
        respondents = store.used_count(conn, campaign_id)
        stamp = utc_now()
        store.close_campaign(conn, campaign_id, who.username, stamp)
        counts = tiered["tier"].value_counts()
        audit.append(
            conn,
            who.username,
            "sign_off",
            AUDIT_TYPE,
            campaign_id,
            before={"status": "open"},
            after={
                "status": "closed",
                "respondents": respondents,
                "answers": answers,
                "tiers": {str(k): int(v) for k, v in counts.items()},
                "warnings": warnings,
            },
        )
