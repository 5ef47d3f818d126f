"""The registers' rules in the ledger (``rule_table``: a company's own rule tables;
``register_rules``: the rules a register year is graded with), both moving the data version.

A company's supplier dimensions and levels, BCM grades and information-security levels and
method (``esgledger rules import``) replace the packaged defaults for new gradings; a rated
register year keeps the rules it was first imported (or last re-graded) with. Years imported
before this migration have no frozen rules: they are graded with the rules in force, and say
so, until re-graded (``esgledger register regrade``).

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-09
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VERSIONED = ("rule_table", "register_rules")
"""Tables of this migration whose writes move the data version (migration 0010's rule)."""
BUMP = "UPDATE data_version SET counter = counter + 1 WHERE id = 1"


def upgrade() -> None:
    op.create_table(
        "rule_table",
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("cells", sa.Text(), nullable=False),
        sa.Column("sha256", sa.Text(), nullable=False),
        sa.Column("file_name", sa.Text(), nullable=False),
        sa.Column("entered_by", sa.Text(), nullable=False),
        sa.Column("entered_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_rule_table")),
    )
    op.create_table(
        "register_rules",
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("rules", sa.Text(), nullable=False),
        sa.Column("frozen_by", sa.Text(), nullable=False),
        sa.Column("frozen_at", sa.DateTime(), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["register_import.import_id"],
            name=op.f("fk_register_rules_import_id_register_import"),
        ),
        sa.PrimaryKeyConstraint("kind", "year", name=op.f("pk_register_rules")),
    )
    for table in VERSIONED:
        if op.get_bind().dialect.name == "postgresql":
            op.execute(
                f"CREATE TRIGGER dv_{table} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
                f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION esgl_bump_data_version()"
            )
            continue
        for event in ("INSERT", "UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER dv_{table}_{event.lower()} AFTER {event} ON {table} "
                f"BEGIN {BUMP}; END"
            )


def downgrade() -> None:
    op.drop_table("register_rules")
    op.drop_table("rule_table")
