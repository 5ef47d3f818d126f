"""Period locks and adjustments: the rows, read and written inside the caller's transaction
(the workflow, :mod:`esgledger.workflow.periods`, checks the permission, the entity scope and
the decision rules first, and audits)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from esgledger.store.engine import TABLES, WRITE_OPTION, for_update, now

CAMPAIGN, REQUEST = TABLES["campaign"], TABLES["data_request"]
ENTITY, LOCK, ADJUSTMENT = TABLES["entity"], TABLES["period_lock"], TABLES["adjustment"]


# -- locks --------------------------------------------------------------------------------


PERIOD_LOCK_CLASS = 0x45534C  # 'ESL': the advisory lock class of a year's period lock


def guard_years(conn: Connection, years: Iterable[int], *, exclusive: bool = False) -> None:
    """On PostgreSQL, in a write transaction, hold each year's advisory lock until the
    transaction ends: shared by a writer that checked the year is open, exclusive by the
    committee locking it. A lock then waits for the writes that found the year open to commit,
    and a write that starts during a lock waits for it and then sees the year locked (READ
    COMMITTED would otherwise let a write checked just before the lock commit after it).
    SQLite's ``BEGIN IMMEDIATE`` already serialises writers."""
    if conn.dialect.name != "postgresql" or not conn.get_execution_options().get(WRITE_OPTION):
        return
    name = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
    for year in sorted(set(years)):
        conn.execute(select(getattr(func, name)(PERIOD_LOCK_CLASS, int(year))))


def year_locked(conn: Connection, year: int) -> bool:
    """Whether the committee locked ``year`` (in a write transaction on PostgreSQL, the year's
    advisory lock is held shared from here: :func:`guard_years`)."""
    guard_years(conn, [year])
    return conn.scalar(select(LOCK.c.year).where(LOCK.c.year == year)) is not None


def lock_rows(conn: Connection) -> dict[int, dict[str, Any]]:
    """Every period lock row, by year."""
    return {int(r["year"]): dict(r) for r in conn.execute(select(LOCK)).mappings()}


def request_years(conn: Connection) -> list[dict[str, Any]]:
    """``year`` (of its campaign), ``entity_id`` and ``status`` of every data request."""
    stmt = select(CAMPAIGN.c.year, REQUEST.c.entity_id, REQUEST.c.status).join(
        CAMPAIGN, CAMPAIGN.c.campaign_id == REQUEST.c.campaign_id
    )
    return [dict(r) for r in conn.execute(stmt).mappings()]


def requests_of_year(conn: Connection, year: int) -> list[dict[str, Any]]:
    """``request_id``, ``entity_id`` and ``status`` of the data requests of ``year``."""
    stmt = (
        select(REQUEST.c.request_id, REQUEST.c.entity_id, REQUEST.c.status)
        .join(CAMPAIGN, CAMPAIGN.c.campaign_id == REQUEST.c.campaign_id)
        .where(CAMPAIGN.c.year == year)
    )
    return [dict(r) for r in conn.execute(stmt).mappings()]


def insert_lock(conn: Connection, year: int, locked_by: str, note: str | None) -> None:
    """Lock ``year`` now, by ``locked_by`` (the caller holds the year exclusively first:
    :func:`guard_years`)."""
    conn.execute(insert(LOCK).values(year=year, locked_by=locked_by, locked_at=now(), note=note))


def lock_requests(conn: Connection, request_ids: list[int]) -> None:
    """Move the requests to ``locked`` and add one to their versions."""
    conn.execute(
        update(REQUEST)
        .where(REQUEST.c.request_id.in_(request_ids))
        .values(status="locked", version=REQUEST.c.version + 1)
    )


# -- adjustments --------------------------------------------------------------------------


def entity_exists(conn: Connection, entity_id: str) -> bool:
    """Whether ``entity_id`` is an entity of the ledger."""
    stmt = select(ENTITY.c.entity_id).where(ENTITY.c.entity_id == entity_id)
    return conn.scalar(stmt) is not None


def insert_adjustment(conn: Connection, **fields: Any) -> int:
    """Store a proposed adjustment (``year``, ``entity_id``, ``metric_id``, ``before_value``,
    ``after_value``, ``unit``, ``reason``, ``status``, ``proposed_by``, ``proposed_at``); its
    id."""
    stmt = insert(ADJUSTMENT).values(**fields).returning(ADJUSTMENT.c.adjustment_id)
    return int(conn.execute(stmt).scalar_one())


def adjustment_for_update(conn: Connection, adjustment_id: int) -> dict[str, Any] | None:
    """The adjustment row of ``adjustment_id``, locked in a write transaction (None when there
    is none)."""
    stmt = select(ADJUSTMENT).where(ADJUSTMENT.c.adjustment_id == adjustment_id)
    row = conn.execute(for_update(conn, stmt, ADJUSTMENT)).mappings().first()
    return None if row is None else dict(row)


def decide(conn: Connection, adjustment_id: int, **fields: Any) -> None:
    """Record the decision of an adjustment (``status``, ``decided_by``, ``decided_at``,
    ``decision_note``, ``batch_id``)."""
    conn.execute(
        update(ADJUSTMENT).where(ADJUSTMENT.c.adjustment_id == adjustment_id).values(**fields)
    )


def adjustment_rows(
    conn: Connection, *, year: int | None = None, entity_id: str | None = None
) -> list[dict[str, Any]]:
    """The adjustment rows (of ``year`` and ``entity_id`` when given), newest first."""
    stmt = select(ADJUSTMENT).order_by(ADJUSTMENT.c.adjustment_id.desc())
    if year is not None:
        stmt = stmt.where(ADJUSTMENT.c.year == year)
    if entity_id is not None:
        stmt = stmt.where(ADJUSTMENT.c.entity_id == entity_id)
    return [dict(r) for r in conn.execute(stmt).mappings()]
