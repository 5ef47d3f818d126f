"""The scoring rule each materiality campaign keeps (``materiality_campaign.scales``).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("materiality_campaign") as batch:
        batch.add_column(sa.Column("scales", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("materiality_campaign") as batch:
        batch.drop_column("scales")
