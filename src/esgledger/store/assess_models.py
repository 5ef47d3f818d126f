"""Tables of the double-materiality survey (migration 0006): campaigns, their topic lists and
stakeholder groups, one-time survey tokens and the anonymous responses; of the assessment
registers (migration 0007) and of the rules that grade them (migration 0020).

A response row names its campaign, group, topic and axis, never its token: the token row only
records that it was used (``used_at``), so scores cannot be traced back to a token. Scores are
the integers 1-5 the respondent chose (NULL where the axis does not ask for them).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from esgledger.store.base import Base


class MaterialityCampaignRow(Base):
    """A materiality survey of one reporting year; ``status`` is ``open`` or ``closed``
    (closed by the committee's sign-off). Timestamps are naive UTC like the whole ledger."""

    __tablename__ = "materiality_campaign"

    campaign_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    year: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text)
    closes_at: Mapped[datetime] = mapped_column(DateTime)
    status: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    signed_off_by: Mapped[str | None] = mapped_column(Text)
    signed_off_at: Mapped[datetime | None] = mapped_column(DateTime)
    scales: Mapped[str | None] = mapped_column(Text)
    """The scoring rule the campaign was created with (JSON of ``materiality.Scales``), so its
    results never change with the packaged rule; NULL: the packaged rule (migration 0008)."""


class MaterialityTopicRow(Base):
    """A topic of a campaign's list, copied from the packaged list of its year."""

    __tablename__ = "materiality_topic"

    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("materiality_campaign.campaign_id"), primary_key=True
    )
    topic_id: Mapped[str] = mapped_column(Text, primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    name_en: Mapped[str] = mapped_column(Text)
    name_zh: Mapped[str] = mapped_column(Text)
    dimension: Mapped[str] = mapped_column(Text)


class StakeholderGroupRow(Base):
    """A group of respondents of a campaign, the axis it scores and its weight."""

    __tablename__ = "stakeholder_group"

    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("materiality_campaign.campaign_id"), primary_key=True
    )
    group_id: Mapped[str] = mapped_column(Text, primary_key=True)
    name_en: Mapped[str] = mapped_column(Text)
    name_zh: Mapped[str] = mapped_column(Text)
    weight: Mapped[float] = mapped_column(Float)
    axis: Mapped[str] = mapped_column(Text)
    internal: Mapped[bool] = mapped_column(Boolean)


class SurveyTokenRow(Base):
    """A one-time survey link for one respondent of a group; only the secret's SHA-256 is
    stored (the secret is shown once, when issued)."""

    __tablename__ = "survey_token"
    __table_args__ = (
        ForeignKeyConstraint(
            ["campaign_id", "group_id"],
            ["stakeholder_group.campaign_id", "stakeholder_group.group_id"],
        ),
        Index("ix_survey_token_campaign_id_group_id", "campaign_id", "group_id"),
    )

    token_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    campaign_id: Mapped[int] = mapped_column(Integer)
    group_id: Mapped[str] = mapped_column(Text)
    token_hash: Mapped[str] = mapped_column(Text, unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    used_at: Mapped[datetime | None] = mapped_column(DateTime)


class SurveyResponseRow(Base):
    """One anonymous answer: a group's scores of one topic on one axis (no token, no person;
    ``submitted_at`` is kept to the day)."""

    __tablename__ = "survey_response"
    __table_args__ = (
        ForeignKeyConstraint(
            ["campaign_id", "group_id"],
            ["stakeholder_group.campaign_id", "stakeholder_group.group_id"],
        ),
        ForeignKeyConstraint(
            ["campaign_id", "topic_id"],
            ["materiality_topic.campaign_id", "materiality_topic.topic_id"],
        ),
        Index("ix_survey_response_campaign_id", "campaign_id"),
    )

    response_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    campaign_id: Mapped[int] = mapped_column(Integer)
    group_id: Mapped[str] = mapped_column(Text)
    topic_id: Mapped[str] = mapped_column(Text)
    axis: Mapped[str] = mapped_column(Text)
    scale: Mapped[int | None] = mapped_column(Integer)
    scope: Mapped[int | None] = mapped_column(Integer)
    irremediability: Mapped[int | None] = mapped_column(Integer)
    likelihood: Mapped[int | None] = mapped_column(Integer)
    magnitude: Mapped[int | None] = mapped_column(Integer)
    positive: Mapped[bool] = mapped_column(Boolean)
    submitted_at: Mapped[datetime] = mapped_column(DateTime)


class RegisterImportRow(Base):
    """One import of an assessment register file (climate, suppliers, supplier evaluations,
    business continuity, information security) for a year: who, when, the file and its
    SHA-256, and the entities whose earlier rows it replaced (JSON list; ``null`` = the
    register is group-level and the import replaced the whole year)."""

    __tablename__ = "register_import"

    import_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(Text)
    year: Mapped[int] = mapped_column(Integer)
    file_name: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(Text)
    rows: Mapped[int] = mapped_column(Integer)
    entities: Mapped[str | None] = mapped_column(Text)
    imported_by: Mapped[str] = mapped_column(Text)
    imported_at: Mapped[datetime] = mapped_column(DateTime)


class RegisterEntryRow(Base):
    """A row of an imported register exactly as the file held it (``data``: JSON object of
    the file's columns, strings as written), so that nothing entered is changed; the
    register's library validates and computes from these rows. A later import of the same
    register, year and entity sets ``superseded_by`` instead of deleting the row."""

    __tablename__ = "register_entry"
    __table_args__ = (
        Index("ix_register_entry_kind_year", "kind", "year", "superseded_by"),
        Index(
            "ux_register_entry_current_key",
            "kind",
            "year",
            "row_key",
            unique=True,
            sqlite_where=text("superseded_by IS NULL"),
            postgresql_where=text("superseded_by IS NULL"),
        ),
    )

    row_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("register_import.import_id"))
    kind: Mapped[str] = mapped_column(Text)
    year: Mapped[int] = mapped_column(Integer)
    row_key: Mapped[str] = mapped_column(Text)
    entity_id: Mapped[str | None] = mapped_column(ForeignKey("entity.entity_id"))
    line: Mapped[int] = mapped_column(Integer)
    data: Mapped[str] = mapped_column(Text)
    superseded_by: Mapped[int | None] = mapped_column(ForeignKey("register_import.import_id"))


class RuleTableRow(Base):
    """A rule table of the company's own (``esgledger rules import``): supplier dimensions or
    levels, BCM grades, information-security levels or method, replacing the packaged default
    for new gradings. ``cells``: the rows as entered (JSON list of lists, in the table's
    columns, :class:`esgledger.assess.rule_tables.RuleRows`), ``sha256`` the table's."""

    __tablename__ = "rule_table"

    name: Mapped[str] = mapped_column(Text, primary_key=True)
    cells: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(Text)
    file_name: Mapped[str] = mapped_column(Text)
    entered_by: Mapped[str] = mapped_column(Text)
    entered_at: Mapped[datetime] = mapped_column(DateTime)


class RegisterRulesRow(Base):
    """The rules a rated register year (supplier evaluations, BCM, information security) is
    graded with, frozen when the year is first imported (``import_id``) or re-graded
    (``esgledger register regrade``; ``import_id`` NULL): every table of the kind as its
    cells (JSON, :meth:`esgledger.assess.rule_tables.RegisterRules.to_json`), so that its
    results change neither with the company's rules nor with the packaged ones."""

    __tablename__ = "register_rules"

    kind: Mapped[str] = mapped_column(Text, primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    rules: Mapped[str] = mapped_column(Text)
    frozen_by: Mapped[str] = mapped_column(Text)
    frozen_at: Mapped[datetime] = mapped_column(DateTime)
    import_id: Mapped[int | None] = mapped_column(ForeignKey("register_import.import_id"))
