"""Reported figures of catalogue metrics (S&G inputs and entity-level totals).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "metric_value",
        sa.Column("rid", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("record_id", sa.Text(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.Column("entity_id", sa.Text(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("month", sa.Integer(), nullable=True),
        sa.Column("metric_id", sa.Text(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("value_text", sa.Text(), nullable=False),
        sa.Column("unit", sa.Text(), nullable=False),
        sa.Column("numerator", sa.Float(), nullable=True),
        sa.Column("denominator", sa.Float(), nullable=True),
        sa.Column("data_quality", sa.Text(), nullable=False),
        sa.Column("provenance", sa.Text(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("source_kind", sa.Text(), nullable=False),
        sa.Column("source_file", sa.Text(), nullable=False),
        sa.Column("source_row", sa.Integer(), nullable=True),
        sa.Column("source_user", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("rid", name="pk_metric_value"),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["import_batch.batch_id"], name="fk_metric_value_batch_id_import_batch"
        ),
        sa.ForeignKeyConstraint(
            ["entity_id"], ["entity.entity_id"], name="fk_metric_value_entity_id_entity"
        ),
        sa.UniqueConstraint("record_id", name="uq_metric_value_record_id"),
    )
    op.create_index("ix_metric_value_year_metric_id", "metric_value", ["year", "metric_id"])


def downgrade() -> None:
    op.drop_index("ix_metric_value_year_metric_id", table_name="metric_value")
    op.drop_table("metric_value")
