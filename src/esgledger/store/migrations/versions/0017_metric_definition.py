"""A company's own metrics (``metric_definition``), which move the data version.

Catalogue rows a ledger adds to the packaged catalogue, stored as the cells entered (JSON)
in the order of the file they came from; ``esgledger metrics import`` enters them.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VERSIONED = ("metric_definition",)
"""Tables of this migration whose writes move the data version (migration 0010's rule)."""
BUMP = "UPDATE data_version SET counter = counter + 1 WHERE id = 1"


def upgrade() -> None:
    op.create_table(
        "metric_definition",
        sa.Column("metric_id", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("cells", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("metric_id", name=op.f("pk_metric_definition")),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE TRIGGER dv_metric_definition AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
            "ON metric_definition FOR EACH STATEMENT EXECUTE FUNCTION esgl_bump_data_version()"
        )
        return
    for event in ("INSERT", "UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER dv_metric_definition_{event.lower()} AFTER {event} "
            f"ON metric_definition BEGIN {BUMP}; END"
        )


def downgrade() -> None:
    op.drop_table("metric_definition")
