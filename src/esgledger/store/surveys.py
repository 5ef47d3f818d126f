"""The double-materiality survey as stored (tables ``materiality_campaign``,
``materiality_topic``, ``stakeholder_group``, ``survey_token`` and ``survey_response``,
migration 0006): reads, and writes inside the caller's transaction. The rules (permissions,
validation of answers, the anonymity of responses, scoring, the audit entries) are
:mod:`esgledger.usecases.survey` and :mod:`esgledger.usecases.survey_results`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, Select, Table, func, insert, select, update

from esgledger.store.engine import TABLES, WRITE_OPTION, for_update

__all__ = [
    "campaign_groups",
    "campaign_topics",
    "campaigns_with_counts",
    "close_campaign",
    "find_campaign",
    "group_axis",
    "has_group",
    "insert_campaign",
    "insert_groups",
    "insert_responses",
    "insert_tokens",
    "insert_topics",
    "latest_closed",
    "response_rows",
    "shared_campaign",
    "token_by_hash",
    "token_counts",
    "topic_ids",
    "use_token",
    "used_count",
]

CAMPAIGN, TOPIC = TABLES["materiality_campaign"], TABLES["materiality_topic"]
GROUP, TOKEN = TABLES["stakeholder_group"], TABLES["survey_token"]
RESPONSE = TABLES["survey_response"]


def _shared_lock(conn: Connection, stmt: Select[Any], table: Table) -> Select[Any]:
    """``SELECT ... FOR SHARE`` in a write transaction (no-op on SQLite, which serialises
    writers): a submission keeps the campaign from being signed off under it."""
    if conn.get_execution_options().get(WRITE_OPTION):
        return stmt.with_for_update(read=True, of=table)
    return stmt


# -- campaigns ----------------------------------------------------------------------------


def find_campaign(
    conn: Connection, campaign_id: int, *, lock: bool = False
) -> dict[str, Any] | None:
    """The campaign's row (locked for update with ``lock``); None when there is none."""
    stmt = select(CAMPAIGN).where(CAMPAIGN.c.campaign_id == campaign_id)
    if lock:
        stmt = for_update(conn, stmt, CAMPAIGN)
    row = conn.execute(stmt).mappings().first()
    return None if row is None else dict(row)


def shared_campaign(conn: Connection, campaign_id: int) -> dict[str, Any]:
    """The campaign's row, locked for share in a write transaction (see :func:`_shared_lock`);
    it must exist."""
    stmt = select(CAMPAIGN).where(CAMPAIGN.c.campaign_id == campaign_id)
    return dict(conn.execute(_shared_lock(conn, stmt, CAMPAIGN)).mappings().one())


def insert_campaign(conn: Connection, **fields: Any) -> int:
    """Store a campaign (``year``, ``title``, ``closes_at``, ``status``, ``created_by``,
    ``created_at``, ``scales``); its id."""
    stmt = insert(CAMPAIGN).values(**fields).returning(CAMPAIGN.c.campaign_id)
    return int(conn.execute(stmt).scalar_one())


def close_campaign(
    conn: Connection, campaign_id: int, signed_off_by: str, signed_off_at: datetime
) -> None:
    """Mark the campaign ``closed``, signed off by ``signed_off_by`` at ``signed_off_at``."""
    conn.execute(
        update(CAMPAIGN)
        .where(CAMPAIGN.c.campaign_id == campaign_id)
        .values(status="closed", signed_off_by=signed_off_by, signed_off_at=signed_off_at)
    )


def latest_closed(engine: Engine, year: int) -> dict[str, Any] | None:
    """The closed campaign of ``year`` signed off last (the highest id on a tie), or None."""
    stmt = (
        select(CAMPAIGN)
        .where(CAMPAIGN.c.year == year, CAMPAIGN.c.status == "closed")
        .order_by(CAMPAIGN.c.signed_off_at.desc(), CAMPAIGN.c.campaign_id.desc())
        .limit(1)
    )
    with engine.connect() as conn:
        row = conn.execute(stmt).mappings().first()
    return None if row is None else dict(row)


def campaigns_with_counts(engine: Engine) -> list[dict[str, Any]]:
    """Every campaign, newest first, with its tokens ``issued`` and ``used`` (None for a
    campaign without tokens)."""
    used = (
        select(
            TOKEN.c.campaign_id,
            func.count().label("issued"),
            func.count(TOKEN.c.used_at).label("used"),
        )
        .group_by(TOKEN.c.campaign_id)
        .subquery()
    )
    stmt = (
        select(CAMPAIGN, used.c.issued, used.c.used)
        .outerjoin(used, used.c.campaign_id == CAMPAIGN.c.campaign_id)
        .order_by(CAMPAIGN.c.campaign_id.desc())
    )
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(stmt).mappings()]


# -- topics and groups --------------------------------------------------------------------


def campaign_groups(conn: Connection, campaign_id: int) -> list[dict[str, Any]]:
    """The campaign's stakeholder groups, by group id."""
    stmt = select(GROUP).where(GROUP.c.campaign_id == campaign_id).order_by(GROUP.c.group_id)
    return [dict(r) for r in conn.execute(stmt).mappings()]


def campaign_topics(conn: Connection, campaign_id: int) -> list[dict[str, Any]]:
    """The campaign's copy of its topic list, in its order."""
    stmt = select(TOPIC).where(TOPIC.c.campaign_id == campaign_id).order_by(TOPIC.c.position)
    return [dict(r) for r in conn.execute(stmt).mappings()]


def topic_ids(conn: Connection, campaign_id: int) -> frozenset[str]:
    """The ids of the campaign's topics."""
    return frozenset(
        conn.scalars(select(TOPIC.c.topic_id).where(TOPIC.c.campaign_id == campaign_id))
    )


def has_group(conn: Connection, campaign_id: int, group_id: str) -> bool:
    """Whether the campaign has the stakeholder group ``group_id``."""
    known = conn.scalar(
        select(GROUP.c.group_id).where(
            GROUP.c.campaign_id == campaign_id, GROUP.c.group_id == group_id
        )
    )
    return known is not None


def group_axis(conn: Connection, campaign_id: int, group_id: str) -> Any:
    """The axis (``impact`` or ``financial``) the campaign's group scores (None when the
    campaign has no such group)."""
    return conn.scalar(
        select(GROUP.c.axis).where(GROUP.c.campaign_id == campaign_id, GROUP.c.group_id == group_id)
    )


def insert_topics(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Store topic rows (``campaign_id``, ``topic_id``, ``position``, ``name_en``,
    ``name_zh``, ``dimension``)."""
    conn.execute(insert(TOPIC), list(rows))


def insert_groups(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Store stakeholder group rows (``campaign_id``, ``group_id``, ``name_en``, ``name_zh``,
    ``weight``, ``axis``, ``internal``)."""
    conn.execute(insert(GROUP), list(rows))


# -- tokens and responses -----------------------------------------------------------------


def insert_tokens(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Store token rows (``campaign_id``, ``group_id``, ``token_hash``, ``created_at``)."""
    conn.execute(insert(TOKEN), list(rows))


def token_by_hash(
    conn: Connection, token_hash: str, *, lock: bool = False
) -> dict[str, Any] | None:
    """The token whose secret hashes to ``token_hash`` (locked for update with ``lock``), or
    None."""
    stmt = select(TOKEN).where(TOKEN.c.token_hash == token_hash)
    if lock:
        stmt = for_update(conn, stmt, TOKEN)
    row = conn.execute(stmt).mappings().first()
    return None if row is None else dict(row)


def use_token(conn: Connection, token_id: int, used_at: datetime) -> int:
    """Set ``used_at`` of the token if it is still unused; the number of rows changed."""
    used = conn.execute(
        update(TOKEN)
        .where(TOKEN.c.token_id == token_id, TOKEN.c.used_at.is_(None))
        .values(used_at=used_at)
    )
    return int(used.rowcount)


def token_counts(conn: Connection, campaign_id: int) -> dict[str, tuple[int, int]]:
    """Per group of the campaign: its tokens ``(issued, used)`` (groups without tokens are
    absent)."""
    stmt = (
        select(
            TOKEN.c.group_id,
            func.count().label("issued"),
            func.count(TOKEN.c.used_at).label("used"),
        )
        .where(TOKEN.c.campaign_id == campaign_id)
        .group_by(TOKEN.c.group_id)
    )
    return {r.group_id: (int(r.issued), int(r.used)) for r in conn.execute(stmt)}


def used_count(conn: Connection, campaign_id: int) -> int:
    """How many of the campaign's tokens were used."""
    stmt = select(func.count(TOKEN.c.used_at)).where(TOKEN.c.campaign_id == campaign_id)
    return int(conn.scalar(stmt) or 0)


def insert_responses(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Store response rows (``campaign_id``, ``group_id``, ``topic_id``, ``axis``, the
    scores, ``positive``, ``submitted_at``)."""
    conn.execute(insert(RESPONSE), list(rows))


def response_rows(
    conn: Connection, campaign_id: int, scores: Sequence[str]
) -> list[tuple[Any, ...]]:
    """The campaign's responses in the order stored, as ``(group_id, topic_id, axis,
    *scores, positive)`` with the score columns named in ``scores``."""
    stmt = (
        select(
            RESPONSE.c.group_id,
            RESPONSE.c.topic_id,
            RESPONSE.c.axis,
            *(RESPONSE.c[name] for name in scores),
            RESPONSE.c.positive,
        )
        .where(RESPONSE.c.campaign_id == campaign_id)
        .order_by(RESPONSE.c.response_id)
    )
    return [tuple(r) for r in conn.execute(stmt)]
