"""Evidence files attached to data requests: the rows, written and read inside the caller's
transaction (the workflow checks the permission, the type and the scope first)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert, select

from esgledger.store.engine import TABLES, now

EVIDENCE = TABLES["evidence"]


def insert_evidence(conn: Connection, uploaded_by: str, **fields: Any) -> int:
    """Store one evidence file (``request_id``, ``metric_id``, ``file_name``, ``content_type``,
    ``size``, ``sha256``, ``content``) uploaded now by ``uploaded_by``; its id."""
    stmt = (
        insert(EVIDENCE)
        .values(uploaded_by=uploaded_by, uploaded_at=now(), **fields)
        .returning(EVIDENCE.c.evidence_id)
    )
    return int(conn.execute(stmt).scalar_one())


def evidence_row(conn: Connection, evidence_id: int) -> dict[str, Any] | None:
    """The evidence row of ``evidence_id`` (None when there is none)."""
    stmt = select(EVIDENCE).where(EVIDENCE.c.evidence_id == evidence_id)
    row = conn.execute(stmt).mappings().first()
    return None if row is None else dict(row)
