"""Initial ledger schema: entities, import batches, records, parameters, overrides, settings.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _source_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("source_kind", sa.Text(), nullable=False),
        sa.Column("source_file", sa.Text(), nullable=False),
        sa.Column("source_row", sa.Integer(), nullable=True),
        sa.Column("source_user", sa.Text(), nullable=True),
    ]


def upgrade() -> None:
    op.create_table(
        "entity",
        sa.Column("entity_id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("name_zh", sa.Text(), nullable=True),
        sa.Column("parent_id", sa.Text(), nullable=True),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("equity_share", sa.Float(), nullable=False),
        sa.Column("operational_control", sa.Boolean(), nullable=False),
        sa.Column("financial_control", sa.Boolean(), nullable=False),
        sa.Column("region", sa.Text(), nullable=True),
        sa.Column("acquired_on", sa.Date(), nullable=True),
        sa.Column("divested_on", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("entity_id", name="pk_entity"),
    )
    op.create_table(
        "import_batch",
        sa.Column("batch_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("file_name", sa.Text(), nullable=False),
        sa.Column("sha256", sa.Text(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("imported_at", sa.DateTime(), nullable=False),
        sa.Column("imported_by", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("batch_id", name="pk_import_batch"),
        sa.UniqueConstraint("sha256", name="uq_import_batch_sha256"),
    )
    op.create_table(
        "activity_record",
        sa.Column("rid", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("record_id", sa.Text(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("entity_id", sa.Text(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("month", sa.Integer(), nullable=True),
        sa.Column("activity_type", sa.Text(), nullable=False),
        sa.Column("quantity", sa.Float(), nullable=False),
        sa.Column("quantity_text", sa.Text(), nullable=False),
        sa.Column("unit", sa.Text(), nullable=False),
        sa.Column("region", sa.Text(), nullable=True),
        sa.Column("region_text", sa.Text(), nullable=True),
        sa.Column("data_quality", sa.Text(), nullable=False),
        sa.Column("activity_date", sa.Date(), nullable=True),
        sa.Column("instrument_id", sa.Text(), nullable=True),
        sa.Column("ef_value", sa.Float(), nullable=True),
        sa.Column("ef_unit", sa.Text(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        *_source_columns(),
        sa.PrimaryKeyConstraint("rid", name="pk_activity_record"),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["import_batch.batch_id"],
            name="fk_activity_record_batch_id_import_batch",
        ),
        sa.ForeignKeyConstraint(
            ["entity_id"], ["entity.entity_id"], name="fk_activity_record_entity_id_entity"
        ),
        sa.UniqueConstraint("record_id", name="uq_activity_record_record_id"),
        sa.UniqueConstraint("instrument_id", name="uq_activity_record_instrument_id"),
    )
    op.create_index(
        "ix_activity_record_year_activity_type", "activity_record", ["year", "activity_type"]
    )
    op.create_index("ix_activity_record_entity_id_year", "activity_record", ["entity_id", "year"])
    op.create_table(
        "direct_emission",
        sa.Column("rid", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("record_id", sa.Text(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.Column("entity_id", sa.Text(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("month", sa.Integer(), nullable=True),
        sa.Column("scope", sa.Integer(), nullable=False),
        sa.Column("category", sa.Text(), nullable=False),
        sa.Column("gas", sa.Text(), nullable=False),
        sa.Column("tco2e", sa.Float(), nullable=False),
        sa.Column("tco2e_text", sa.Text(), nullable=False),
        sa.Column("scope2_basis", sa.Text(), nullable=False),
        sa.Column("data_quality", sa.Text(), nullable=False),
        sa.Column("provenance", sa.Text(), nullable=False),
        *_source_columns(),
        sa.PrimaryKeyConstraint("rid", name="pk_direct_emission"),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["import_batch.batch_id"],
            name="fk_direct_emission_batch_id_import_batch",
        ),
        sa.ForeignKeyConstraint(
            ["entity_id"], ["entity.entity_id"], name="fk_direct_emission_entity_id_entity"
        ),
        sa.UniqueConstraint("record_id", name="uq_direct_emission_record_id"),
    )
    op.create_table(
        "context_metric",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("entity_id", sa.Text(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("metric", sa.Text(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("unit", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_context_metric"),
        sa.ForeignKeyConstraint(
            ["entity_id"], ["entity.entity_id"], name="fk_context_metric_entity_id_entity"
        ),
        sa.UniqueConstraint(
            "entity_id", "year", "metric", name="uq_context_metric_entity_id_year_metric"
        ),
    )
    op.create_table(
        "parameter",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("unit", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_parameter"),
        sa.UniqueConstraint("name", "year", name="uq_parameter_name_year"),
    )
    op.create_table(
        "factor_override",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("activity_type", sa.Text(), nullable=False),
        sa.Column("region", sa.Text(), nullable=True),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("gas", sa.Text(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("unit", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("entered_by", sa.Text(), nullable=True),
        sa.Column("entered_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_factor_override"),
    )
    op.create_table(
        "structural_change",
        sa.Column("change_id", sa.Text(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("entity_id", sa.Text(), nullable=True),
        sa.Column("base_year_impact_tco2e", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("change_id", name="pk_structural_change"),
    )
    op.create_table(
        "setting",
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_setting"),
    )


def downgrade() -> None:
    for table in (
        "setting",
        "structural_change",
        "factor_override",
        "parameter",
        "context_metric",
        "direct_emission",
        "activity_record",
        "import_batch",
        "entity",
    ):
        op.drop_table(table)
