"""Campaigns, data requests, their values and comments: the rows, read and written inside the
caller's transaction (the workflow, :mod:`esgledger.workflow.collection`, checks the
permission, the entity scope, the status and the versions first, and audits)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from esgledger.store.engine import TABLES, for_update, now

CAMPAIGN, CAMPAIGN_METRIC = TABLES["campaign"], TABLES["campaign_metric"]
REQUEST, VALUE = TABLES["data_request"], TABLES["request_value"]
COMMENT, EVIDENCE = TABLES["request_comment"], TABLES["evidence"]
ENTITY, USER = TABLES["entity"], TABLES["app_user"]


# -- campaigns ----------------------------------------------------------------------------


def campaign_row(conn: Connection, campaign_id: int) -> dict[str, Any] | None:
    """The campaign row of ``campaign_id`` (None when there is none)."""
    row = conn.execute(select(CAMPAIGN).where(CAMPAIGN.c.campaign_id == campaign_id)).first()
    return None if row is None else dict(row._mapping)


def campaign_metric_ids(conn: Connection, campaign_id: int) -> list[str]:
    """The metric ids a campaign asks for, in the campaign's order."""
    stmt = (
        select(CAMPAIGN_METRIC.c.metric_id)
        .where(CAMPAIGN_METRIC.c.campaign_id == campaign_id)
        .order_by(CAMPAIGN_METRIC.c.position)
    )
    return list(conn.scalars(stmt))


def campaign_rows(conn: Connection) -> list[dict[str, Any]]:
    """Every campaign row, newest first."""
    stmt = select(CAMPAIGN).order_by(CAMPAIGN.c.campaign_id.desc())
    return [dict(r) for r in conn.execute(stmt).mappings()]


def request_statuses(conn: Connection) -> list[dict[str, Any]]:
    """``campaign_id``, ``entity_id`` and ``status`` of every data request."""
    stmt = select(REQUEST.c.campaign_id, REQUEST.c.entity_id, REQUEST.c.status)
    return [dict(r) for r in conn.execute(stmt).mappings()]


def campaign_requests(conn: Connection, campaign_id: int) -> list[dict[str, Any]]:
    """The requests of a campaign by entity, with ``entity_name``, ``entity_name_zh`` and the
    ``assignee``'s username (None when unassigned)."""
    stmt = (
        select(
            REQUEST,
            ENTITY.c.name.label("entity_name"),
            ENTITY.c.name_zh.label("entity_name_zh"),
            USER.c.username.label("assignee"),
        )
        .join(ENTITY, ENTITY.c.entity_id == REQUEST.c.entity_id)
        .outerjoin(USER, USER.c.user_id == REQUEST.c.assignee_id)
        .where(REQUEST.c.campaign_id == campaign_id)
        .order_by(REQUEST.c.entity_id)
    )
    return [dict(r) for r in conn.execute(stmt).mappings()]


def filled_counts(conn: Connection, request_ids: list[int]) -> dict[int, int]:
    """The number of values entered (not NULL) of each request that has any."""
    stmt = (
        select(VALUE.c.request_id, func.count())
        .where(VALUE.c.request_id.in_(request_ids), VALUE.c.value.is_not(None))
        .group_by(VALUE.c.request_id)
    )
    return {int(request_id): int(n) for request_id, n in conn.execute(stmt)}


def overdue_requests(
    conn: Connection, statuses: Iterable[str], today: date
) -> list[dict[str, Any]]:
    """The requests in one of ``statuses`` due before ``today``, by due date, with the
    ``campaign_name``, the ``year`` and the ``assignee``'s username."""
    stmt = (
        select(
            REQUEST,
            CAMPAIGN.c.name.label("campaign_name"),
            CAMPAIGN.c.year,
            USER.c.username.label("assignee"),
        )
        .join(CAMPAIGN, CAMPAIGN.c.campaign_id == REQUEST.c.campaign_id)
        .outerjoin(USER, USER.c.user_id == REQUEST.c.assignee_id)
        .where(REQUEST.c.status.in_(sorted(statuses)), REQUEST.c.due_date < today)
        .order_by(REQUEST.c.due_date)
    )
    return [dict(r) for r in conn.execute(stmt).mappings()]


def existing_entities(conn: Connection, entity_ids: Iterable[str]) -> set[str]:
    """Those of ``entity_ids`` that are entities of the ledger."""
    stmt = select(ENTITY.c.entity_id).where(ENTITY.c.entity_id.in_(list(entity_ids)))
    return set(conn.scalars(stmt))


def entity_name(conn: Connection, entity_id: str) -> dict[str, Any] | None:
    """``name`` and ``name_zh`` of an entity (None when there is none)."""
    stmt = select(ENTITY.c.name, ENTITY.c.name_zh).where(ENTITY.c.entity_id == entity_id)
    row = conn.execute(stmt).mappings().first()
    return None if row is None else dict(row)


def entity_region(conn: Connection, entity_id: str) -> str | None:
    """The region of an entity (None when it has none or there is no such entity)."""
    return conn.scalar(select(ENTITY.c.region).where(ENTITY.c.entity_id == entity_id))


def insert_campaign(conn: Connection, metric_ids: Iterable[str], **fields: Any) -> int:
    """Store a campaign (``name``, ``year``, ``due_date``, ``status``, ``instructions``,
    ``created_by``, ``created_at``) and the metrics it asks for, in order; its id."""
    stmt = insert(CAMPAIGN).values(**fields).returning(CAMPAIGN.c.campaign_id)
    campaign_id = int(conn.execute(stmt).scalar_one())
    conn.execute(
        insert(CAMPAIGN_METRIC),
        [
            {"campaign_id": campaign_id, "metric_id": m, "position": i}
            for i, m in enumerate(metric_ids)
        ],
    )
    return campaign_id


def insert_request(conn: Connection, **fields: Any) -> None:
    """Store one data request (``campaign_id``, ``entity_id``, ``assignee_id``, ``status``,
    ``version``, ``due_date``)."""
    conn.execute(insert(REQUEST).values(**fields))


def collecting_requests(
    conn: Connection,
    year: int,
    entity_ids: Iterable[str],
    metric_ids: Iterable[str],
    *,
    statuses: Iterable[str] | None = None,
    exclude_request: int | None = None,
) -> list[dict[str, Any]]:
    """The requests of ``year``'s campaigns that ask one of ``entity_ids`` for one of
    ``metric_ids`` (with ``statuses``: only those), one row per (request, metric):
    ``request_id``, ``status``, ``entity_id``, ``metric_id``, ``campaign_id``,
    ``campaign_name``; by entity, metric and request."""
    stmt = (
        select(
            REQUEST.c.request_id,
            REQUEST.c.status,
            REQUEST.c.entity_id,
            CAMPAIGN_METRIC.c.metric_id,
            CAMPAIGN.c.campaign_id,
            CAMPAIGN.c.name.label("campaign_name"),
        )
        .join(CAMPAIGN, CAMPAIGN.c.campaign_id == REQUEST.c.campaign_id)
        .join(CAMPAIGN_METRIC, CAMPAIGN_METRIC.c.campaign_id == CAMPAIGN.c.campaign_id)
        .where(
            CAMPAIGN.c.year == year,
            REQUEST.c.entity_id.in_(sorted(set(entity_ids))),
            CAMPAIGN_METRIC.c.metric_id.in_(sorted(set(metric_ids))),
        )
        .order_by(REQUEST.c.entity_id, CAMPAIGN_METRIC.c.metric_id, REQUEST.c.request_id)
    )
    if statuses is not None:
        stmt = stmt.where(REQUEST.c.status.in_(sorted(set(statuses))))
    if exclude_request is not None:
        stmt = stmt.where(REQUEST.c.request_id != exclude_request)
    return [dict(r) for r in conn.execute(stmt).mappings()]


# -- requests -----------------------------------------------------------------------------


def request_for_update(conn: Connection, request_id: int) -> dict[str, Any] | None:
    """The request row of ``request_id`` with its campaign's ``year`` and ``campaign_name``,
    locked in a write transaction (None when there is none)."""
    stmt = (
        select(REQUEST, CAMPAIGN.c.year, CAMPAIGN.c.name.label("campaign_name"))
        .join(CAMPAIGN, CAMPAIGN.c.campaign_id == REQUEST.c.campaign_id)
        .where(REQUEST.c.request_id == request_id)
    )
    row = conn.execute(for_update(conn, stmt, REQUEST)).mappings().first()
    return None if row is None else dict(row)


def bump_request(conn: Connection, request_id: int) -> None:
    """Add one to the request's version."""
    conn.execute(
        update(REQUEST)
        .where(REQUEST.c.request_id == request_id)
        .values(version=REQUEST.c.version + 1)
    )


def set_request_status(
    conn: Connection, request_id: int, version: int, status: str, **fields: Any
) -> None:
    """Move the request at ``version`` to ``status`` (with the other ``fields``) and add one
    to its version."""
    conn.execute(
        update(REQUEST)
        .where(REQUEST.c.request_id == request_id, REQUEST.c.version == version)
        .values(status=status, version=REQUEST.c.version + 1, **fields)
    )


def request_comments(conn: Connection, request_id: int) -> list[dict[str, Any]]:
    """The comments of a request, oldest first."""
    stmt = select(COMMENT).where(COMMENT.c.request_id == request_id).order_by(COMMENT.c.comment_id)
    return [dict(r) for r in conn.execute(stmt).mappings()]


def request_evidence(conn: Connection, request_id: int) -> list[dict[str, Any]]:
    """The evidence files of a request without their content, oldest first."""
    stmt = (
        select(*[c for c in EVIDENCE.columns if c.name != "content"])
        .where(EVIDENCE.c.request_id == request_id)
        .order_by(EVIDENCE.c.evidence_id)
    )
    return [dict(r) for r in conn.execute(stmt).mappings()]


def insert_comment(
    conn: Connection,
    request_id: int,
    author: str,
    body: str,
    kind: str,
    metric_id: str | None = None,
) -> int:
    """Store a comment of ``kind`` (``comment``, ``return``, ``approve``) written now; its id."""
    stmt = (
        insert(COMMENT)
        .values(
            request_id=request_id,
            metric_id=metric_id,
            kind=kind,
            author=author,
            at=now(),
            body=body,
        )
        .returning(COMMENT.c.comment_id)
    )
    return int(conn.execute(stmt).scalar_one())


# -- values -------------------------------------------------------------------------------


def request_values(conn: Connection, request_id: int) -> dict[str, dict[str, Any]]:
    """The value rows of a request by metric id."""
    stmt = select(VALUE).where(VALUE.c.request_id == request_id)
    return {r["metric_id"]: dict(r) for r in conn.execute(stmt).mappings()}


def value_row(conn: Connection, request_id: int, metric_id: str) -> dict[str, Any] | None:
    """The value row of one metric of a request (None when not entered yet)."""
    stmt = select(VALUE).where(VALUE.c.request_id == request_id, VALUE.c.metric_id == metric_id)
    row = conn.execute(stmt).mappings().first()
    return None if row is None else dict(row)


def value_states(conn: Connection, request_id: int) -> dict[str, dict[str, Any]]:
    """``value`` and ``note`` of each metric entered in a request, by metric id."""
    stmt = select(VALUE.c.metric_id, VALUE.c.value, VALUE.c.note).where(
        VALUE.c.request_id == request_id
    )
    return {r["metric_id"]: dict(r) for r in conn.execute(stmt).mappings()}


def posted_values(conn: Connection, request_id: int) -> list[dict[str, Any]]:
    """The value rows of a request that hold a number (what approval posts)."""
    stmt = select(VALUE).where(VALUE.c.request_id == request_id, VALUE.c.value.is_not(None))
    return [dict(r) for r in conn.execute(stmt).mappings()]


def insert_value(
    conn: Connection, request_id: int, metric_id: str, fields: Mapping[str, Any]
) -> None:
    """Store the first value of one metric of a request."""
    conn.execute(insert(VALUE).values(request_id=request_id, metric_id=metric_id, **fields))


def update_value(
    conn: Connection, value_id: int, fields: Mapping[str, Any], *, version: int | None = None
) -> int:
    """Change a value row (only while it is at ``version`` when given); the rows changed."""
    stmt = update(VALUE).where(VALUE.c.value_id == value_id)
    if version is not None:
        stmt = stmt.where(VALUE.c.version == version)
    return int(conn.execute(stmt.values(**fields)).rowcount)
