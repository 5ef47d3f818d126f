"""A company's material-topic lists (``topic_list``), one per year, which move the data
version.

The topics its materiality campaigns start from and its report compares year on year
(``esgledger materiality topics import``), stored as the cells entered (JSON) in the order of
the file they came from. No list ships as a default: the seed's lists are the demo's.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-08
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VERSIONED = ("topic_list",)
"""Tables of this migration whose writes move the data version (migration 0010's rule)."""
BUMP = "UPDATE data_version SET counter = counter + 1 WHERE id = 1"


def upgrade() -> None:
    op.create_table(
        "topic_list",
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("topic_id", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("cells", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("year", "topic_id", name=op.f("pk_topic_list")),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE TRIGGER dv_topic_list AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
            "ON topic_list FOR EACH STATEMENT EXECUTE FUNCTION esgl_bump_data_version()"
        )
        return
    for event in ("INSERT", "UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER dv_topic_list_{event.lower()} AFTER {event} "
            f"ON topic_list BEGIN {BUMP}; END"
        )


def downgrade() -> None:
    op.drop_table("topic_list")
