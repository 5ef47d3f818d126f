"""Company-measured fuel properties (``fuel_property``), which move the data version.

NCV, carbon content per unit of heat, oxidation rate and standard-coal coefficient of a fuel,
of an entity (or the group) and a year (or every year), with the value as entered and its
source (GB/T 32150's measured tier); ``esgledger fuel`` enters them.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VERSIONED = ("fuel_property",)
"""Tables of this migration whose writes move the data version (migration 0010's rule)."""
BUMP = "UPDATE data_version SET counter = counter + 1 WHERE id = 1"


def upgrade() -> None:
    op.create_table(
        "fuel_property",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("activity_type", sa.Text(), nullable=False),
        sa.Column("entity_id", sa.Text(), nullable=True),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("property", sa.Text(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("value_text", sa.Text(), nullable=False),
        sa.Column("unit", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("entered_by", sa.Text(), nullable=True),
        sa.Column("entered_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fuel_property")),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE TRIGGER dv_fuel_property AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
            "ON fuel_property FOR EACH STATEMENT EXECUTE FUNCTION esgl_bump_data_version()"
        )
        return
    for event in ("INSERT", "UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER dv_fuel_property_{event.lower()} AFTER {event} ON fuel_property "
            f"BEGIN {BUMP}; END"
        )


def downgrade() -> None:
    op.drop_table("fuel_property")
