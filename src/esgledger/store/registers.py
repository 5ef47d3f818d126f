"""The assessment registers as stored (tables ``register_import`` and ``register_entry``,
migration 0007): reading their rows and imports, and writing an import inside the caller's
transaction. Importing a register (validation, access, period locks, the audit entry) is
:mod:`esgledger.usecases.registers`.

A row is kept exactly as the file held it (``register_entry.data``: the file's columns as
strings, JSON); :func:`entry_frame` returns them with ``_import_id`` and ``_line``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Engine, func, insert, select, update

from esgledger.store.engine import ID_CHUNK, TABLES, now, reading

__all__ = [
    "current_keys",
    "entries",
    "entry_frame",
    "import_row",
    "imports_newest_first",
    "imports_of",
    "insert_entries",
    "insert_import",
    "register_years",
    "stored_frame",
    "supersede_entries",
]

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
    engine: Engine | Connection, kind: str, year: int, *, as_of_import: int | None = None
) -> list[tuple[Any, ...]]:
    """The current rows of a register and year as ``(import_id, line, entity_id, data)``, in
    import then file order; with ``as_of_import``, the rows current just after that import
    (``engine`` may be the caller's connection: read inside its transaction)."""
    stmt = _select(kind, year, as_of_import)
    return reading(engine, lambda conn: [tuple(r) for r in conn.execute(stmt)])


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
    engine: Engine | Connection, kind: str, year: int, *, as_of_import: int | None = None
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


def imports_newest_first(
    engine: Engine, kind: str | None = None, year: int | None = None
) -> list[dict[str, Any]]:
    """Every import (of ``kind`` and of ``year`` when given), newest first; ``entities`` is
    the stored JSON text (None for a group-level register)."""
    stmt = select(IMPORT).order_by(IMPORT.c.import_id.desc())
    if kind is not None:
        stmt = stmt.where(IMPORT.c.kind == kind)
    if year is not None:
        stmt = stmt.where(IMPORT.c.year == year)
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(stmt).mappings()]


def register_years(engine: Engine | Connection, kind: str) -> list[int]:
    """The years with a current row of the register ``kind``, in order."""
    stmt = (
        select(ENTRY.c.year, func.count())
        .where(ENTRY.c.kind == kind, ENTRY.c.superseded_by.is_(None))
        .group_by(ENTRY.c.year)
        .order_by(ENTRY.c.year)
    )
    return reading(engine, lambda conn: [int(y) for y, _ in conn.execute(stmt)])


# -- writing (inside the caller's transaction) --------------------------------------------


def insert_import(
    conn: Connection,
    kind: str,
    year: int,
    *,
    file_name: str,
    sha256: str,
    rows: int,
    entities: list[str] | None,
    imported_by: str,
) -> int:
    """Record an import made now by ``imported_by`` (``entities``: those it replaces, None for
    a group-level register); its id."""
    stmt = (
        insert(IMPORT)
        .values(
            kind=kind,
            year=year,
            file_name=file_name,
            sha256=sha256,
            rows=rows,
            entities=None if entities is None else json.dumps(entities),
            imported_by=imported_by,
            imported_at=now(),
        )
        .returning(IMPORT.c.import_id)
    )
    return int(conn.execute(stmt).scalar_one())


def supersede_entries(
    conn: Connection, kind: str, year: int, entities: Sequence[str] | None, import_id: int
) -> int:
    """Mark the current rows of a register and year as superseded by ``import_id``: the rows
    of ``entities`` (``""`` is the group: rows without an entity), or every row when None;
    the number of rows superseded."""
    current = (ENTRY.c.kind == kind) & (ENTRY.c.year == year) & ENTRY.c.superseded_by.is_(None)
    if entities is not None:
        named = [e for e in entities if e]
        held = ENTRY.c.entity_id.in_(named)
        current = current & (held | ENTRY.c.entity_id.is_(None) if "" in entities else held)
    replaced = conn.execute(update(ENTRY).where(current).values(superseded_by=import_id)).rowcount
    return int(replaced or 0)


def insert_entries(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Store the rows of an import (``import_id``, ``kind``, ``year``, ``row_key``,
    ``entity_id``, ``line`` and ``data``, the file's columns as JSON text) in one statement."""
    conn.execute(insert(ENTRY), list(rows))


def current_keys(
    conn: Connection, kind: str, year: int, keys: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """The current rows of a register and year among ``keys`` (row ids): key -> its
    ``entity_id``, ``import_id`` and ``line``."""
    found: dict[str, dict[str, Any]] = {}
    wanted = sorted(set(keys))
    for start in range(0, len(wanted), ID_CHUNK):
        stmt = select(ENTRY.c.row_key, ENTRY.c.entity_id, ENTRY.c.import_id, ENTRY.c.line).where(
            ENTRY.c.kind == kind,
            ENTRY.c.year == year,
            ENTRY.c.superseded_by.is_(None),
            ENTRY.c.row_key.in_(wanted[start : start + ID_CHUNK]),
        )
        for row in conn.execute(stmt).mappings():
            found[str(row["row_key"])] = dict(row)
    return found
