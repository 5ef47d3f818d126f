"""The data version: one counter that every committed write moves, read by the Book.

A trigger on each table that figures depend on adds one to ``data_version.counter`` inside
the writing transaction, so the counter changes exactly when such a write commits, whichever
module or process writes. The record tables (``activity_record``, ``direct_emission``,
``metric_value``, ``roster_employee``) are written only together with their ``import_batch``
row, whose trigger moves the counter; they carry none, so a bulk import pays one update per
batch, not per row. Sign-ins, sessions, tokens, users and the audit log do not change a
figure and carry none. ``epoch`` is random per database: a restored or re-created ledger never
repeats a version seen before.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VERSIONED = (
    "entity",
    "import_batch",
    "context_metric",
    "parameter",
    "factor_override",
    "structural_change",
    "setting",
    "period_lock",
    "adjustment",
    "campaign",
    "campaign_metric",
    "data_request",
    "request_value",
    "request_comment",
    "evidence",
    "report_narrative",
    "materiality_campaign",
    "materiality_topic",
    "stakeholder_group",
    "survey_response",
    "register_import",
    "register_entry",
    "carbon_posting",
)
"""Tables whose committed writes move the data version (tests/store check the list is whole)."""

BUMP = "UPDATE data_version SET counter = counter + 1 WHERE id = 1"


def upgrade() -> None:
    op.create_table(
        "data_version",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("epoch", sa.Text(), nullable=False),
        sa.Column("counter", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_version")),
    )
    op.execute(
        sa.text("INSERT INTO data_version (id, epoch, counter) VALUES (1, :epoch, 0)").bindparams(
            epoch=uuid.uuid4().hex
        )
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE OR REPLACE FUNCTION esgl_bump_data_version() RETURNS trigger "
            f"LANGUAGE plpgsql AS $$ BEGIN {BUMP}; RETURN NULL; END $$"
        )
        for table in VERSIONED:
            op.execute(
                f"CREATE TRIGGER dv_{table} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
                f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION esgl_bump_data_version()"
            )
        return
    for table in VERSIONED:
        for event in ("INSERT", "UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER dv_{table}_{event.lower()} AFTER {event} ON {table} "
                f"BEGIN {BUMP}; END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in VERSIONED:
            op.execute(f"DROP TRIGGER dv_{table} ON {table}")
        op.execute("DROP FUNCTION esgl_bump_data_version()")
    else:
        for table in VERSIONED:
            for event in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER dv_{table}_{event}")
    op.drop_table("data_version")
