"""The registers' rules in the ledger (migration 0020): the company's own rule tables
(``rule_table``) and the rules each rated register year is graded with (``register_rules``),
read and written as stored (JSON text) inside the caller's transaction. Validation, access,
period locks and the audit entries are :mod:`esgledger.usecases.rules`'."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine, delete, insert, select

from esgledger.store.engine import TABLES, now, reading

__all__ = [
    "delete_table",
    "freeze",
    "frozen",
    "frozen_years",
    "put_table",
    "tables",
]

RULE_TABLE, REGISTER_RULES = TABLES["rule_table"], TABLES["register_rules"]


def tables(bind: Engine | Connection) -> dict[str, dict[str, Any]]:
    """The company's rule tables by name: ``cells`` (JSON text), ``sha256``, ``file_name``,
    ``entered_by``, ``entered_at``."""
    stmt = select(RULE_TABLE).order_by(RULE_TABLE.c.name)
    return reading(
        bind, lambda conn: {str(r["name"]): dict(r) for r in conn.execute(stmt).mappings()}
    )


def put_table(
    conn: Connection, name: str, cells: str, sha256: str, file_name: str, entered_by: str
) -> None:
    """The company's table ``name`` becomes ``cells`` (entered now by ``entered_by``)."""
    conn.execute(delete(RULE_TABLE).where(RULE_TABLE.c.name == name))
    conn.execute(
        insert(RULE_TABLE).values(
            name=name,
            cells=cells,
            sha256=sha256,
            file_name=file_name,
            entered_by=entered_by,
            entered_at=now(),
        )
    )


def delete_table(conn: Connection, name: str) -> bool:
    """Remove the company's table ``name``; whether there was one."""
    removed = conn.execute(delete(RULE_TABLE).where(RULE_TABLE.c.name == name)).rowcount
    return bool(removed)


def frozen(bind: Engine | Connection, kind: str, year: int) -> dict[str, Any] | None:
    """The frozen rules of a register kind and year (``rules`` JSON text, ``frozen_by``,
    ``frozen_at``, ``import_id``), None when the year has none."""
    stmt = select(REGISTER_RULES).where(
        REGISTER_RULES.c.kind == kind, REGISTER_RULES.c.year == year
    )

    def read(conn: Connection) -> dict[str, Any] | None:
        row = conn.execute(stmt).mappings().first()
        return None if row is None else dict(row)

    return reading(bind, read)


def frozen_years(bind: Engine | Connection) -> list[dict[str, Any]]:
    """Every frozen (kind, year) with its rules, by kind then year."""
    stmt = select(REGISTER_RULES).order_by(REGISTER_RULES.c.kind, REGISTER_RULES.c.year)
    return reading(bind, lambda conn: [dict(r) for r in conn.execute(stmt).mappings()])


def freeze(
    conn: Connection, kind: str, year: int, rules: str, frozen_by: str, import_id: int | None
) -> None:
    """The rules of a register kind and year become ``rules`` (JSON text), frozen now by
    ``frozen_by`` (``import_id``: the import that froze them; None: a re-grade)."""
    conn.execute(
        delete(REGISTER_RULES).where(REGISTER_RULES.c.kind == kind, REGISTER_RULES.c.year == year)
    )
    conn.execute(
        insert(REGISTER_RULES).values(
            kind=kind,
            year=year,
            rules=rules,
            frozen_by=frozen_by,
            frozen_at=now(),
            import_id=import_id,
        )
    )
