"""The double-materiality survey: campaigns, topics, stakeholder groups, one-time tokens and
anonymous responses.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_GROUP = ["stakeholder_group.campaign_id", "stakeholder_group.group_id"]


def upgrade() -> None:
    op.create_table(
        "materiality_campaign",
        sa.Column("campaign_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("closes_at", sa.DateTime(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("signed_off_by", sa.Text(), nullable=True),
        sa.Column("signed_off_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("campaign_id", name=op.f("pk_materiality_campaign")),
    )
    op.create_table(
        "materiality_topic",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("topic_id", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name_en", sa.Text(), nullable=False),
        sa.Column("name_zh", sa.Text(), nullable=False),
        sa.Column("dimension", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["materiality_campaign.campaign_id"],
            name=op.f("fk_materiality_topic_campaign_id_materiality_campaign"),
        ),
        sa.PrimaryKeyConstraint("campaign_id", "topic_id", name=op.f("pk_materiality_topic")),
    )
    op.create_table(
        "stakeholder_group",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Text(), nullable=False),
        sa.Column("name_en", sa.Text(), nullable=False),
        sa.Column("name_zh", sa.Text(), nullable=False),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.Column("axis", sa.Text(), nullable=False),
        sa.Column("internal", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["materiality_campaign.campaign_id"],
            name=op.f("fk_stakeholder_group_campaign_id_materiality_campaign"),
        ),
        sa.PrimaryKeyConstraint("campaign_id", "group_id", name=op.f("pk_stakeholder_group")),
    )
    op.create_table(
        "survey_response",
        sa.Column("response_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Text(), nullable=False),
        sa.Column("topic_id", sa.Text(), nullable=False),
        sa.Column("axis", sa.Text(), nullable=False),
        sa.Column("scale", sa.Integer(), nullable=True),
        sa.Column("scope", sa.Integer(), nullable=True),
        sa.Column("irremediability", sa.Integer(), nullable=True),
        sa.Column("likelihood", sa.Integer(), nullable=True),
        sa.Column("magnitude", sa.Integer(), nullable=True),
        sa.Column("positive", sa.Boolean(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id", "group_id"],
            _GROUP,
            name=op.f("fk_survey_response_campaign_id_stakeholder_group"),
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id", "topic_id"],
            ["materiality_topic.campaign_id", "materiality_topic.topic_id"],
            name=op.f("fk_survey_response_campaign_id_materiality_topic"),
        ),
        sa.PrimaryKeyConstraint("response_id", name=op.f("pk_survey_response")),
    )
    op.create_index("ix_survey_response_campaign_id", "survey_response", ["campaign_id"])
    op.create_table(
        "survey_token",
        sa.Column("token_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Text(), nullable=False),
        sa.Column("token_hash", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_id", "group_id"],
            _GROUP,
            name=op.f("fk_survey_token_campaign_id_stakeholder_group"),
        ),
        sa.PrimaryKeyConstraint("token_id", name=op.f("pk_survey_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_survey_token_token_hash")),
    )
    op.create_index(
        "ix_survey_token_campaign_id_group_id", "survey_token", ["campaign_id", "group_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_survey_token_campaign_id_group_id", table_name="survey_token")
    op.drop_table("survey_token")
    op.drop_index("ix_survey_response_campaign_id", table_name="survey_response")
    op.drop_table("survey_response")
    op.drop_table("stakeholder_group")
    op.drop_table("materiality_topic")
    op.drop_table("materiality_campaign")
