"""The collection's working rows move the data version no more.

A campaign, its requests, a draft value, a comment or an evidence file changes no figure: a
figure changes when an approval or an adjustment posts an import batch, whose trigger moves
the version. With their triggers (migration 0010) every keystroke of a data owner in a form
made a new data version, so the Book (the report, the dashboard) was recomputed again and
again while data owners typed. ``VERSIONED`` of migration 0010 less these tables is the list
of tables whose writes move the version (``tests/store/test_data_version.py`` reads both).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNVERSIONED = (
    "campaign",
    "campaign_metric",
    "data_request",
    "request_value",
    "request_comment",
    "evidence",
)
"""Tables of the collection workflow that change no figure until a batch is posted."""

BUMP = "UPDATE data_version SET counter = counter + 1 WHERE id = 1"


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for table in UNVERSIONED:
        if postgresql:
            op.execute(f"DROP TRIGGER dv_{table} ON {table}")
        else:
            for event in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER dv_{table}_{event}")


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for table in UNVERSIONED:
        if postgresql:
            op.execute(
                f"CREATE TRIGGER dv_{table} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
                f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION esgl_bump_data_version()"
            )
        else:
            for event in ("INSERT", "UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER dv_{table}_{event.lower()} AFTER {event} ON {table} "
                    f"BEGIN {BUMP}; END"
                )
