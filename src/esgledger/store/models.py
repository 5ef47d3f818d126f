"""SQLAlchemy declarative models of the ledger tables (portable: SQLite and PostgreSQL).

The Alembic migration ``migrations/versions/0001_initial.py`` creates the same schema by hand;
``tests/store`` checks that the two agree.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from esgledger.store.base import NAMING_CONVENTION, Base

_CURRENT = "superseded_by IS NULL"
_ANNUAL, _MONTHLY = f"{_CURRENT} AND month IS NULL", f"{_CURRENT} AND month IS NOT NULL"


class EntityRow(Base):
    """A node of the organisation tree (``parent_id`` is not a foreign key on purpose:
    unknown parents are reported by ``Organisation.validate`` rather than refused)."""

    __tablename__ = "entity"

    entity_id: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    name_zh: Mapped[str | None] = mapped_column(Text)
    parent_id: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(Text)
    equity_share: Mapped[float] = mapped_column(Float)
    operational_control: Mapped[bool] = mapped_column(Boolean)
    financial_control: Mapped[bool] = mapped_column(Boolean)
    region: Mapped[str | None] = mapped_column(Text)
    acquired_on: Mapped[date | None] = mapped_column(Date)
    divested_on: Mapped[date | None] = mapped_column(Date)


class ImportBatchRow(Base):
    """One imported file; ``sha256`` of its bytes makes re-imports detectable."""

    __tablename__ = "import_batch"

    batch_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(Text)
    file_name: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(Text, unique=True)
    rows: Mapped[int] = mapped_column(Integer)
    imported_at: Mapped[datetime] = mapped_column(DateTime)
    imported_by: Mapped[str | None] = mapped_column(Text)


class SourceColumns:
    """Where a stored record came from: file and row, or form and user (migration 0001's
    ``_source_columns``)."""

    source_kind: Mapped[str] = mapped_column(Text)
    source_file: Mapped[str] = mapped_column(Text)
    source_row: Mapped[int | None] = mapped_column(Integer)
    source_user: Mapped[str | None] = mapped_column(Text)


class ActivityRow(SourceColumns, Base):
    """An activity figure with the text the user typed and where it came from."""

    __tablename__ = "activity_record"
    __table_args__ = (
        Index("ix_activity_record_year_activity_type", "year", "activity_type"),
        Index("ix_activity_record_entity_id_year", "entity_id", "year"),
    )

    rid: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    record_id: Mapped[str] = mapped_column(Text, unique=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("import_batch.batch_id"))
    entity_id: Mapped[str] = mapped_column(ForeignKey("entity.entity_id"))
    year: Mapped[int] = mapped_column(Integer)
    month: Mapped[int | None] = mapped_column(Integer)
    activity_type: Mapped[str] = mapped_column(Text)
    quantity: Mapped[float] = mapped_column(Float)
    quantity_text: Mapped[str] = mapped_column(Text)
    unit: Mapped[str] = mapped_column(Text)
    region: Mapped[str | None] = mapped_column(Text)
    region_text: Mapped[str | None] = mapped_column(Text)
    data_quality: Mapped[str] = mapped_column(Text)
    activity_date: Mapped[date | None] = mapped_column(Date)
    instrument_id: Mapped[str | None] = mapped_column(Text, unique=True)
    ef_value: Mapped[float | None] = mapped_column(Float)
    ef_unit: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)


class DirectEmissionRow(SourceColumns, Base):
    """A figure that arrives already in tCO2e."""

    __tablename__ = "direct_emission"

    rid: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    record_id: Mapped[str] = mapped_column(Text, unique=True)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batch.batch_id"))
    entity_id: Mapped[str] = mapped_column(ForeignKey("entity.entity_id"))
    year: Mapped[int] = mapped_column(Integer)
    month: Mapped[int | None] = mapped_column(Integer)
    scope: Mapped[int] = mapped_column(Integer)
    category: Mapped[str] = mapped_column(Text)
    gas: Mapped[str] = mapped_column(Text)
    tco2e: Mapped[float] = mapped_column(Float)
    tco2e_text: Mapped[str] = mapped_column(Text)
    scope2_basis: Mapped[str] = mapped_column(Text)
    data_quality: Mapped[str] = mapped_column(Text)
    provenance: Mapped[str] = mapped_column(Text)


class MetricValueRow(SourceColumns, Base):
    """A reported figure of a catalogue metric (an S&G input, or an entity-level total).

    Ratios may carry the numerator and denominator they were computed from, so that group
    figures are recomputed from parts rather than summed (migration 0002). A figure (metric,
    entity, year, month) has one current row (``superseded_by`` NULL); a later batch's row of
    the same figure supersedes it, and the superseded rows are its history (migration 0012)."""

    __tablename__ = "metric_value"
    __table_args__ = (
        Index("ix_metric_value_year_metric_id", "year", "metric_id"),
        Index(
            "ux_metric_value_current_annual",
            "metric_id",
            "entity_id",
            "year",
            unique=True,
            sqlite_where=text(_ANNUAL),
            postgresql_where=text(_ANNUAL),
        ),
        Index(
            "ux_metric_value_current_monthly",
            "metric_id",
            "entity_id",
            "year",
            "month",
            unique=True,
            sqlite_where=text(_MONTHLY),
            postgresql_where=text(_MONTHLY),
        ),
    )

    rid: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    record_id: Mapped[str] = mapped_column(Text, unique=True)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batch.batch_id"))
    entity_id: Mapped[str] = mapped_column(ForeignKey("entity.entity_id"))
    year: Mapped[int] = mapped_column(Integer)
    month: Mapped[int | None] = mapped_column(Integer)
    metric_id: Mapped[str] = mapped_column(Text)
    value: Mapped[float] = mapped_column(Float)
    value_text: Mapped[str] = mapped_column(Text)
    unit: Mapped[str] = mapped_column(Text)
    numerator: Mapped[float | None] = mapped_column(Float)
    denominator: Mapped[float | None] = mapped_column(Float)
    data_quality: Mapped[str] = mapped_column(Text)
    provenance: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
    superseded_by: Mapped[int | None] = mapped_column(ForeignKey("import_batch.batch_id"))


class RosterEmployeeRow(Base):
    """One employee of an imported roster snapshot (anonymised; migration 0003). The latest
    roster batch is the one workforce figures are computed from."""

    __tablename__ = "roster_employee"
    __table_args__ = (UniqueConstraint("batch_id", "employee_id"),)

    rid: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("import_batch.batch_id"))
    employee_id: Mapped[str] = mapped_column(Text)
    entity_id: Mapped[str] = mapped_column(ForeignKey("entity.entity_id"))
    gender: Mapped[str | None] = mapped_column(Text)
    age_band: Mapped[str | None] = mapped_column(Text)
    level: Mapped[str | None] = mapped_column(Text)
    tier: Mapped[str | None] = mapped_column(Text)
    education: Mapped[str | None] = mapped_column(Text)
    region: Mapped[str | None] = mapped_column(Text)
    birth_year: Mapped[int | None] = mapped_column(Integer)
    hire_date: Mapped[date] = mapped_column(Date)
    leave_date: Mapped[date | None] = mapped_column(Date)
    training_hours: Mapped[float] = mapped_column(Float)
    parental_leave_taken: Mapped[bool] = mapped_column(Boolean)
    parental_leave_returned: Mapped[bool] = mapped_column(Boolean)
    disability: Mapped[bool] = mapped_column(Boolean)
    ethnic_minority: Mapped[bool] = mapped_column(Boolean)
    veteran: Mapped[bool] = mapped_column(Boolean)
    source_file: Mapped[str] = mapped_column(Text)
    source_row: Mapped[int | None] = mapped_column(Integer)


class ContextMetricRow(Base):
    """A normalising figure (revenue, employees, floor area) of an entity and year."""

    __tablename__ = "context_metric"
    __table_args__ = (UniqueConstraint("entity_id", "year", "metric"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    entity_id: Mapped[str] = mapped_column(ForeignKey("entity.entity_id"))
    year: Mapped[int] = mapped_column(Integer)
    metric: Mapped[str] = mapped_column(Text)
    value: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text)


class ParameterRow(Base):
    """A named constant (density, exchange rate, coefficient); ``year`` NULL = all years."""

    __tablename__ = "parameter"
    __table_args__ = (UniqueConstraint("name", "year"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(Text)
    year: Mapped[int | None] = mapped_column(Integer)
    value: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text)


class FactorOverrideRow(Base):
    """An emission factor entered by the user that takes precedence over the packs."""

    __tablename__ = "factor_override"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    activity_type: Mapped[str] = mapped_column(Text)
    region: Mapped[str | None] = mapped_column(Text)
    year: Mapped[int | None] = mapped_column(Integer)
    gas: Mapped[str] = mapped_column(Text)
    value: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text)
    entered_by: Mapped[str | None] = mapped_column(Text)
    entered_at: Mapped[datetime] = mapped_column(DateTime)


class FuelPropertyRow(Base):
    """A company-measured property of a fuel (NCV, carbon content, oxidation rate, tce
    coefficient) of an entity (NULL: the group) and a year (NULL: every year), as entered:
    :mod:`esgledger.factors.fuel_properties` converts it when it is used."""

    __tablename__ = "fuel_property"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    activity_type: Mapped[str] = mapped_column(Text)
    entity_id: Mapped[str | None] = mapped_column(Text)
    year: Mapped[int | None] = mapped_column(Integer)
    property: Mapped[str] = mapped_column(Text)
    value: Mapped[float] = mapped_column(Float)
    value_text: Mapped[str] = mapped_column(Text)
    unit: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text)
    entered_by: Mapped[str | None] = mapped_column(Text)
    entered_at: Mapped[datetime] = mapped_column(DateTime)


class UserFactorRow(Base):
    """An emission factor of a factor pack the user imported (``esgledger factors import``):
    the cells as entered and the value read, with its own source; the calculation sees it
    beside the packaged factors of its key (:func:`esgledger.factors.library.with_user_factors`).
    """

    __tablename__ = "user_factor"

    factor_id: Mapped[str] = mapped_column(Text, primary_key=True)
    key: Mapped[str] = mapped_column(Text)
    geography: Mapped[str] = mapped_column(Text)
    year: Mapped[int] = mapped_column(Integer)
    published: Mapped[date | None] = mapped_column(Date)
    gas: Mapped[str] = mapped_column(Text)
    value: Mapped[float] = mapped_column(Float)
    value_text: Mapped[str] = mapped_column(Text)
    unit: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text)
    edition: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)
    entered_by: Mapped[str | None] = mapped_column(Text)
    entered_at: Mapped[datetime] = mapped_column(DateTime)


class MetricDefinitionRow(Base):
    """A metric of the company's own (``esgledger metrics import``): the cells of its
    catalogue row as entered (JSON), read by :mod:`esgledger.metrics.ledger_catalogue`;
    ``position`` keeps the order of the file it came from."""

    __tablename__ = "metric_definition"

    metric_id: Mapped[str] = mapped_column(Text, primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    cells: Mapped[str] = mapped_column(Text)


class MeasureRow(Base):
    """A measure of the company's catalogue (``esgledger strategy measures import``): the
    cells of its catalogue row as entered (JSON), read by
    :func:`esgledger.strategy.measures.catalogue_of_rows`; ``position`` keeps the order of
    the file it came from."""

    __tablename__ = "measure"

    measure_id: Mapped[str] = mapped_column(Text, primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    cells: Mapped[str] = mapped_column(Text)


class TopicListRow(Base):
    """A topic of the company's material-topic list of a year (``esgledger materiality
    topics import``): the cells of its row as entered (JSON); ``position`` keeps the order of
    the file it came from."""

    __tablename__ = "topic_list"

    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    topic_id: Mapped[str] = mapped_column(Text, primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    cells: Mapped[str] = mapped_column(Text)


class StructuralChangeRow(Base):
    """An event that may trigger base-year recalculation."""

    __tablename__ = "structural_change"

    change_id: Mapped[str] = mapped_column(Text, primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text)
    entity_id: Mapped[str | None] = mapped_column(Text)
    base_year_impact_tco2e: Mapped[float | None] = mapped_column(Float)


class SettingRow(Base):
    """An inventory default (base year, consolidation approach, ...)."""

    __tablename__ = "setting"

    key: Mapped[str] = mapped_column(Text, primary_key=True)
    value: Mapped[str] = mapped_column(Text)


# The platform's tables (users, workflow, audit) live in their own module; importing it here
# registers them on ``Base.metadata`` wherever the models are used.
from esgledger.store import assess_models as _assess_models  # noqa: E402, F401
from esgledger.store import platform_models as _platform_models  # noqa: E402
from esgledger.store import report_models as _report_models  # noqa: E402, F401
from esgledger.store import target_models as _target_models  # noqa: E402, F401
from esgledger.store import trading_models as _trading_models  # noqa: E402, F401

__all__ = ["NAMING_CONVENTION", "Base", "_platform_models"]
