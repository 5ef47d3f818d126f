"""Assessment registers: imports of register files and their rows.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "register_import",
        sa.Column("import_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("file_name", sa.Text(), nullable=False),
        sa.Column("sha256", sa.Text(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("entities", sa.Text(), nullable=True),
        sa.Column("imported_by", sa.Text(), nullable=False),
        sa.Column("imported_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("import_id", name=op.f("pk_register_import")),
    )
    op.create_table(
        "register_entry",
        sa.Column("row_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("row_key", sa.Text(), nullable=False),
        sa.Column("entity_id", sa.Text(), nullable=True),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("superseded_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["entity_id"],
            ["entity.entity_id"],
            name=op.f("fk_register_entry_entity_id_entity"),
        ),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["register_import.import_id"],
            name=op.f("fk_register_entry_import_id_register_import"),
        ),
        sa.ForeignKeyConstraint(
            ["superseded_by"],
            ["register_import.import_id"],
            name=op.f("fk_register_entry_superseded_by_register_import"),
        ),
        sa.PrimaryKeyConstraint("row_id", name=op.f("pk_register_entry")),
    )
    op.create_index(
        "ix_register_entry_kind_year", "register_entry", ["kind", "year", "superseded_by"]
    )


def downgrade() -> None:
    op.drop_index("ix_register_entry_kind_year", table_name="register_entry")
    op.drop_table("register_entry")
    op.drop_table("register_import")
