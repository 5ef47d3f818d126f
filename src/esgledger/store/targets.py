"""The company's targets in its ledger (``target``, :mod:`esgledger.store.target_models`):
read as the cells entered, replaced as a whole inside the caller's transaction (the use case
validates them and writes the audit entry with them)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import Connection, Engine, delete, insert, select

from esgledger.store.engine import TABLES, reading
from esgledger.store.target_models import TARGET_TEXT_COLUMNS

TARGET = TABLES["target"]
COLUMNS = ("target_id", *TARGET_TEXT_COLUMNS)
"""The cells of a stored target, in the order an export writes them."""


def _read(conn: Connection) -> list[dict[str, str]]:
    stmt = select(*(TARGET.c[c] for c in COLUMNS)).order_by(TARGET.c.position)
    return [{k: v or "" for k, v in row.items()} for row in conn.execute(stmt).mappings()]


def target_rows(bind: Engine | Connection) -> list[dict[str, str]]:
    """Every stored target as the cells entered (blank cells as ``''``), in file order."""
    return reading(bind, _read)


def replace_targets(conn: Connection, rows: Sequence[Mapping[str, str]]) -> None:
    """The ledger's targets become ``rows`` (cells by column name; blank cells stored NULL)."""
    conn.execute(delete(TARGET))
    if rows:
        conn.execute(
            insert(TARGET),
            [
                {"position": i, **{c: (row.get(c) or "").strip() or None for c in COLUMNS}}
                for i, row in enumerate(rows)
            ],
        )
