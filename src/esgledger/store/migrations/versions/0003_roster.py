"""Anonymised employee roster snapshots, one batch per import.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "roster_employee",
        sa.Column("rid", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("employee_id", sa.Text(), nullable=False),
        sa.Column("entity_id", sa.Text(), nullable=False),
        *(
            sa.Column(c, sa.Text(), nullable=True)
            for c in ("gender", "age_band", "level", "tier", "education", "region")
        ),
        sa.Column("birth_year", sa.Integer(), nullable=True),
        sa.Column("hire_date", sa.Date(), nullable=False),
        sa.Column("leave_date", sa.Date(), nullable=True),
        sa.Column("training_hours", sa.Float(), nullable=False),
        *(
            sa.Column(c, sa.Boolean(), nullable=False)
            for c in (
                "parental_leave_taken",
                "parental_leave_returned",
                "disability",
                "ethnic_minority",
                "veteran",
            )
        ),
        sa.Column("source_file", sa.Text(), nullable=False),
        sa.Column("source_row", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("rid", name="pk_roster_employee"),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["import_batch.batch_id"], name="fk_roster_employee_batch_id_import_batch"
        ),
        sa.ForeignKeyConstraint(
            ["entity_id"], ["entity.entity_id"], name="fk_roster_employee_entity_id_entity"
        ),
        sa.UniqueConstraint(
            "batch_id", "employee_id", name="uq_roster_employee_batch_id_employee_id"
        ),
    )


def downgrade() -> None:
    op.drop_table("roster_employee")
