"""The audit key: ``audit_log.key_id`` names the key (kept outside the database, see
``store/audit_key.py``) whose HMAC-SHA256 an entry's ``hash`` is. Entries written before have
no key id and keep their plain SHA-256 hash; they still verify. The audit tables stay outside
the data version (they change no figure). Downgrading drops the key ids: the keyed entries
then no longer verify.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-08
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("audit_log") as batch:
        batch.add_column(sa.Column("key_id", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_column("key_id")
