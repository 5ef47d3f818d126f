"""One current value per figure: reported metric values as versions, register row ids unique.

- ``metric_value.superseded_by`` (an ``import_batch`` id) is NULL on the current value of a
  figure (metric, entity, year and month); a later batch giving the same figure (a restatement:
  an approved adjustment, a re-import) supersedes it, and the superseded rows stay as the
  figure's history. Two partial unique indexes keep one current row per figure (annual and
  monthly figures apart, a NULL month being no value for a unique index).
- ``register_entry``: one current row per register, year and row id, whatever the entity.

A ledger written before holds figures with several rows where an approved adjustment posted
the difference (the earlier rule) or where two requests or files gave the figure. Each such
figure becomes a chain of versions in the order of its rows: a row of an adjustment batch
becomes the restated figure (the version before plus its difference; the difference is kept
in its note), every row but the last is superseded by the next one. A register holding one
row id twice (what the old import let through) stops the upgrade with the list of the rows:
nothing is dropped; re-import one of the files without the row with the earlier version.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CURRENT = "superseded_by IS NULL"
ANNUAL, MONTHLY = f"{CURRENT} AND month IS NULL", f"{CURRENT} AND month IS NOT NULL"


def upgrade() -> None:
    _refuse_register_duplicates()
    with op.batch_alter_table("metric_value") as batch:
        batch.add_column(sa.Column("superseded_by", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_metric_value_superseded_by_import_batch"),
            "import_batch",
            ["superseded_by"],
            ["batch_id"],
        )
    _versions()
    op.create_index(
        "ux_metric_value_current_annual",
        "metric_value",
        ["metric_id", "entity_id", "year"],
        unique=True,
        sqlite_where=sa.text(ANNUAL),
        postgresql_where=sa.text(ANNUAL),
    )
    op.create_index(
        "ux_metric_value_current_monthly",
        "metric_value",
        ["metric_id", "entity_id", "year", "month"],
        unique=True,
        sqlite_where=sa.text(MONTHLY),
        postgresql_where=sa.text(MONTHLY),
    )
    op.create_index(
        "ux_register_entry_current_key",
        "register_entry",
        ["kind", "year", "row_key"],
        unique=True,
        sqlite_where=sa.text(CURRENT),
        postgresql_where=sa.text(CURRENT),
    )


def downgrade() -> None:
    op.drop_index("ux_register_entry_current_key", table_name="register_entry")
    op.drop_index("ux_metric_value_current_monthly", table_name="metric_value")
    op.drop_index("ux_metric_value_current_annual", table_name="metric_value")
    with op.batch_alter_table("metric_value") as batch:
        batch.drop_constraint(op.f("fk_metric_value_superseded_by_import_batch"), "foreignkey")
        batch.drop_column("superseded_by")


def _refuse_register_duplicates() -> None:
    rows = (
        op.get_bind()
        .execute(
            sa.text(
                "SELECT kind, year, row_key, entity_id, import_id, line FROM register_entry "
                "WHERE superseded_by IS NULL AND (kind, year, row_key) IN ("
                "  SELECT kind, year, row_key FROM register_entry WHERE superseded_by IS NULL"
                "  GROUP BY kind, year, row_key HAVING COUNT(*) > 1) "
                "ORDER BY kind, year, row_key, import_id, line"
            )
        )
        .all()
    )
    if rows:
        listed = "; ".join(
            f"{r.kind} {r.year} {r.row_key!r}: {r.entity_id or 'group'} import {r.import_id} "
            f"line {r.line}"
            for r in rows[:20]
        )
        raise RuntimeError(
            "a register row id is used twice in one register and year, which the upgrade "
            f"cannot decide for you: {listed}. Re-import one of the files without the row, "
            "with the version you upgrade from, then upgrade again; nothing was changed"
        )


def _versions() -> None:
    """Chain the rows of each figure given more than once into versions (module text)."""
    conn = op.get_bind()
    rows = conn.execute(
        sa.text(
            "SELECT m.rid, m.batch_id, m.metric_id, m.entity_id, m.year, m.month, m.value, "
            "m.value_text, m.unit, m.note, b.kind AS batch_kind FROM metric_value m "
            "LEFT JOIN import_batch b ON b.batch_id = m.batch_id ORDER BY m.rid"
        )
    ).mappings()
    figures: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for row in rows:
        key = (row["metric_id"], row["entity_id"], row["year"], row["month"])
        figures.setdefault(key, []).append(dict(row))
    for chain in figures.values():
        if len(chain) > 1:
            _chain(conn, chain)


def _chain(conn: sa.Connection, chain: list[dict[str, Any]]) -> None:
    previous: float | None = None
    for row, after in zip(chain, [*chain[1:], None], strict=True):
        values: dict[str, Any] = {}
        if row["batch_kind"] == "adjustment" and previous is not None:
            full = previous + float(row["value"])
            values = {
                "value": full,
                "value_text": f"{full:.10g} {row['unit']}",
                "note": "; ".join(
                    t for t in (row["note"], f"posted as the difference {row['value_text']}") if t
                ),
            }
        if after is not None:
            values["superseded_by"] = after["batch_id"]
        if values:
            conn.execute(
                sa.text(
                    "UPDATE metric_value SET "
                    + ", ".join(f"{k} = :{k}" for k in values)
                    + " WHERE rid = :rid"
                ),
                {**values, "rid": row["rid"]},
            )
        previous = float(values.get("value", row["value"]))
