"""A company's measure catalogue (``measure``), which moves the data version.

The measures its abatement plans choose from (``esgledger strategy measures import``),
stored as the cells entered (JSON) in the order of the file they came from. A ledger without
one has no plan until it enters its own: the packaged catalogue is the demo's.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-08
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VERSIONED = ("measure",)
"""Tables of this migration whose writes move the data version (migration 0010's rule)."""
BUMP = "UPDATE data_version SET counter = counter + 1 WHERE id = 1"


def upgrade() -> None:
    op.create_table(
        "measure",
        sa.Column("measure_id", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("cells", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("measure_id", name=op.f("pk_measure")),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE TRIGGER dv_measure AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
            "ON measure FOR EACH STATEMENT EXECUTE FUNCTION esgl_bump_data_version()"
        )
        return
    for event in ("INSERT", "UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER dv_measure_{event.lower()} AFTER {event} ON measure BEGIN {BUMP}; END"
        )


def downgrade() -> None:
    op.drop_table("measure")
