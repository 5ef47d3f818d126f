"""The report's narratives in the ledger (``report_narrative``, migration 0005): reads, and
writes inside the caller's transaction (the report package checks the rules and audits)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update

from esgledger.store.engine import TABLES, for_update

NARRATIVE = TABLES["report_narrative"]


def _key(year: int, lang: str, section_id: str) -> tuple[Any, ...]:
    return (
        NARRATIVE.c.year == year,
        NARRATIVE.c.lang == lang,
        NARRATIVE.c.section_id == section_id,
    )


def rows(engine: Engine, year: int, lang: str) -> list[dict[str, Any]]:
    """Every stored text of a year and language."""
    stmt = select(NARRATIVE).where(NARRATIVE.c.year == year, NARRATIVE.c.lang == lang)
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(stmt).mappings()]


def versions(engine: Engine, year: int, lang: str) -> list[int]:
    """The versions of the stored texts of a year and language."""
    stmt = select(NARRATIVE.c.version).where(NARRATIVE.c.year == year, NARRATIVE.c.lang == lang)
    with engine.connect() as conn:
        return [int(v) for v in conn.scalars(stmt)]


def row_for_update(
    conn: Connection, year: int, lang: str, section_id: str
) -> dict[str, Any] | None:
    """The stored text of a section, locked for the caller's transaction (None: none yet)."""
    stmt = for_update(conn, select(NARRATIVE).where(*_key(year, lang, section_id)), NARRATIVE)
    row = conn.execute(stmt).mappings().first()
    return None if row is None else dict(row)


def insert_row(conn: Connection, year: int, lang: str, section_id: str, **fields: Any) -> None:
    conn.execute(insert(NARRATIVE).values(year=year, lang=lang, section_id=section_id, **fields))


def update_row(conn: Connection, row_id: int, read: int, fields: dict[str, Any]) -> None:
    """Replace a stored text that is still at the version ``read`` with ``fields`` (which
    carry the new version)."""
    conn.execute(
        update(NARRATIVE)
        .where(NARRATIVE.c.id == row_id, NARRATIVE.c.version == read)
        .values(**fields)
    )


def stored_version(conn: Connection, year: int, lang: str, section_id: str) -> int | None:
    """The version of a section's stored text, None when none is stored."""
    found = conn.scalar(select(NARRATIVE.c.version).where(*_key(year, lang, section_id)))
    return None if found is None else int(found)
