"""The carbon ledger: hash-chained postings of verified emissions, allowances and offsets.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "carbon_posting",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("entity_id", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("unit_type", sa.Text(), nullable=False),
        sa.Column("vintage", sa.Integer(), nullable=True),
        sa.Column("compliance_year", sa.Integer(), nullable=True),
        sa.Column("quantity", sa.Float(), nullable=False),
        sa.Column("price_cny", sa.Float(), nullable=True),
        sa.Column("lineage", sa.Text(), nullable=False),
        sa.Column("reference", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("posted_by", sa.Text(), nullable=False),
        sa.Column("posted_at", sa.DateTime(), nullable=False),
        sa.Column("prev_hash", sa.Text(), nullable=False),
        sa.Column("hash", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["entity_id"], ["entity.entity_id"], name=op.f("fk_carbon_posting_entity_id_entity")
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_carbon_posting")),
        sa.UniqueConstraint("hash", name=op.f("uq_carbon_posting_hash")),
    )
    op.create_index(
        "ix_carbon_posting_entity_id", "carbon_posting", ["entity_id", "compliance_year"]
    )


def downgrade() -> None:
    op.drop_index("ix_carbon_posting_entity_id", table_name="carbon_posting")
    op.drop_table("carbon_posting")
