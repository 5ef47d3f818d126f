"""The assessment registers as stored (tables ``register_import`` and ``register_entry``,
migration 0007): reading their rows and imports. Importing a register (validation, access,
period locks, the audit entry) is :mod:`esgledger.usecases.registers`.

A row is kept exactly as the file held it (``register_entry.data``: the file's columns as
strings, JSON); :func:`entry_frame` returns them with ``_import_id`` and ``_line``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pandas as pd
from sqlalchemy import Engine, select

from esgledger.store.engine import TABLES

__all__ = ["entries", "entry_frame", "import_row", "imports_of", "stored_frame"]

IMPORT, ENTRY = TABLES["register_import"], TABLES["register_entry"]


def _select(kind: str, year: int, as_of_import: int | None) -> Any:
    stmt = select(ENTRY.c.import_id, ENTRY.c.line, ENTRY.c.entity_id, ENTRY.c.data).where(
        ENTRY.c.kind == kind, ENTRY.c.year == year
    )
    if as_of_import is None:
        stmt = stmt.where(ENTRY.c.superseded_by.is_(None))
    else:
        stmt = stmt.where(
            ENTRY.c.import_id <= as_of_import,
            ENTRY.c.superseded_by.is_(None) | (ENTRY.c.superseded_by > as_of_import),
        )
    return stmt.order_by(ENTRY.c.import_id, ENTRY.c.line)


def entries(
    engine: Engine, kind: str, year: int, *, as_of_import: int | None = None
) -> list[tuple[Any, ...]]:
    """The current rows of a register and year as ``(import_id, line, entity_id, data)``, in
    import then file order; with ``as_of_import``, the rows current just after that import."""
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(_select(kind, year, as_of_import))]


def entry_frame(rows: Sequence[tuple[Any, ...]]) -> pd.DataFrame:
    """Rows of :func:`entries` as the file held them (strings), with ``_import_id`` and
    ``_line``."""
    records: list[dict[str, Any]] = []
    for import_id, line, _entity, data in rows:
        record = json.loads(data)
        record["_import_id"] = int(import_id)
        record["_line"] = int(line)
        records.append(record)
    return pd.DataFrame.from_records(records)


def stored_frame(
    engine: Engine, kind: str, year: int, *, as_of_import: int | None = None
) -> pd.DataFrame:
    """:func:`entry_frame` of :func:`entries`: every current row, whatever the entity."""
    return entry_frame(entries(engine, kind, year, as_of_import=as_of_import))


def imports_of(engine: Engine, kind: str, year: int) -> list[dict[str, Any]]:
    """Every import of a register and year, oldest first."""
    stmt = (
        select(IMPORT)
        .where(IMPORT.c.kind == kind, IMPORT.c.year == year)
        .order_by(IMPORT.c.import_id)
    )
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(stmt).mappings()]


def import_row(engine: Engine, import_id: int) -> dict[str, Any]:
    """The import ``import_id`` (file name, SHA-256, author, time); it must exist."""
    with engine.connect() as conn:
        return dict(
            conn.execute(select(IMPORT).where(IMPORT.c.import_id == import_id)).mappings().one()
        )
