"""Factor packs in the ledger (``user_factor``): read as a frame, written and removed one
factor at a time inside the caller's transaction (the use case validates them and writes the
audit entry with them)."""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy import Connection, Engine, delete, insert, select

from esgledger.store.engine import TABLES, now, reading

USER_FACTOR = TABLES["user_factor"]
SHOWN = (
    "factor_id",
    "key",
    "geography",
    "year",
    "published",
    "gas",
    "value_text",
    "unit",
    "source",
    "edition",
    "notes",
)
"""The cells of a factor as a pack file holds them (``value_text``: the value as entered)."""
COLUMNS = (*SHOWN, "value", "entered_by", "entered_at")


def user_factor_row(conn: Connection, factor_id: str) -> dict[str, Any] | None:
    """The stored cells of a factor (:data:`SHOWN`), None when there is none."""
    stmt = select(*(USER_FACTOR.c[c] for c in SHOWN)).where(USER_FACTOR.c.factor_id == factor_id)
    row = conn.execute(stmt).mappings().first()
    if row is None:
        return None
    return {k: (v.isoformat() if k == "published" and v is not None else v) for k, v in row.items()}


def write_user_factor(conn: Connection, **fields: Any) -> str:
    """Set (or replace) a factor of the ledger's packs; its id."""
    conn.execute(delete(USER_FACTOR).where(USER_FACTOR.c.factor_id == fields["factor_id"]))
    conn.execute(insert(USER_FACTOR).values(**fields, entered_at=now()))
    return str(fields["factor_id"])


def delete_user_factor(conn: Connection, factor_id: str) -> None:
    conn.execute(delete(USER_FACTOR).where(USER_FACTOR.c.factor_id == factor_id))


def user_factors(bind: Engine | Connection) -> pd.DataFrame:
    """Every factor of the ledger's packs (:data:`COLUMNS`), by id."""
    stmt = select(*(USER_FACTOR.c[c] for c in COLUMNS)).order_by(USER_FACTOR.c.factor_id)
    found = reading(bind, lambda conn: list(conn.execute(stmt).mappings()))
    return pd.DataFrame([dict(r) for r in found], columns=list(COLUMNS))
