"""The company's targets in its ledger (``target``), which move the data version.

Targets were a file packaged with the product (the reference company's); a ledger now holds
its own, entered with ``esgledger targets import`` (the demo build enters the demo group's).
A ledger written before holds none: its ``targets`` command says so until they are imported.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VERSIONED = ("target",)
"""Tables of this migration whose writes move the data version (migration 0010's rule)."""
BUMP = "UPDATE data_version SET counter = counter + 1 WHERE id = 1"
TEXT = (
    "metric_id",
    "entity_id",
    "kind",
    "direction",
    "value",
    "unit",
    "baseline_year",
    "baseline_value",
    "start_year",
    "deadline_year",
    "name_en",
    "name_zh",
    "source",
    "note",
    "milestone",
)
REQUIRED = ("entity_id", "kind", "start_year", "deadline_year", "source")


def upgrade() -> None:
    op.create_table(
        "target",
        sa.Column("target_id", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        *(sa.Column(name, sa.Text(), nullable=name not in REQUIRED) for name in TEXT),
        sa.PrimaryKeyConstraint("target_id", name=op.f("pk_target")),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE TRIGGER dv_target AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
            "ON target FOR EACH STATEMENT EXECUTE FUNCTION esgl_bump_data_version()"
        )
        return
    for event in ("INSERT", "UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER dv_target_{event.lower()} AFTER {event} ON target BEGIN {BUMP}; END"
        )


def downgrade() -> None:
    op.drop_table("target")
