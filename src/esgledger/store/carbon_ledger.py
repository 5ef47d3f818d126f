"""The carbon ledger as stored (table ``carbon_posting``): reading postings, appending one, and
serialising appends. Checking a posting against the rules, the permission and the entity
scope, its hash and its audit entry are :mod:`esgledger.usecases.carbon_ledger`.

Writes run inside the caller's transaction (:func:`esgledger.store.engine.write_transaction`),
so a posting commits or rolls back with its audit entry.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, Engine, insert, select

from esgledger.store.engine import TABLES, reading

__all__ = [
    "COLUMNS",
    "audit_entries",
    "has_entity",
    "insert_posting",
    "last_posting",
    "lock_postings",
    "posting_rows",
]

POSTING, ENTITY, AUDIT = TABLES["carbon_posting"], TABLES["entity"], TABLES["audit_log"]
_PG_LOCK_KEY = 0x63_61_72_62  # 'carb': serialises postings on PostgreSQL

COLUMNS: tuple[str, ...] = tuple(c.name for c in POSTING.columns)
"""The columns of a posting, in table order."""


def posting_rows(bind: Engine | Connection, entity_id: str | None = None) -> list[dict[str, Any]]:
    """Every posting (of ``entity_id`` when given) as a dict of :data:`COLUMNS`, oldest
    first."""
    stmt = select(POSTING).order_by(POSTING.c.seq)
    if entity_id is not None:
        stmt = stmt.where(POSTING.c.entity_id == entity_id)
    return reading(bind, lambda conn: [dict(r) for r in conn.execute(stmt).mappings()])


def has_entity(bind: Engine | Connection, entity_id: str) -> bool:
    """Whether the ledger has the entity ``entity_id``."""
    stmt = select(ENTITY.c.entity_id).where(ENTITY.c.entity_id == entity_id)
    return reading(bind, lambda conn: conn.scalar(stmt) is not None)


def audit_entries(engine: Engine, object_type: str) -> list[dict[str, Any]]:
    """``object_id``, ``action`` and ``after`` (JSON text) of every audit entry of
    ``object_type``."""
    stmt = select(AUDIT.c.object_id, AUDIT.c.action, AUDIT.c.after).where(
        AUDIT.c.object_type == object_type
    )
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(stmt).mappings()]


def lock_postings(conn: Connection) -> None:
    """Serialise appends until the transaction ends (a transaction-level advisory lock on
    PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` already serialises writers)."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_LOCK_KEY})")


def last_posting(conn: Connection) -> tuple[int, str] | None:
    """``(seq, hash)`` of the newest posting (None when there is none)."""
    stmt = select(POSTING.c.seq, POSTING.c.hash).order_by(POSTING.c.seq.desc()).limit(1)
    last = conn.execute(stmt).first()
    return None if last is None else (int(last.seq), str(last.hash))


def insert_posting(conn: Connection, row: Mapping[str, Any]) -> None:
    """Store one posting (every column of :data:`COLUMNS`, its hash computed)."""
    conn.execute(insert(POSTING).values(**row))
