"""Tables of the multi-user platform: users and access, data collection workflow, period locks,
restatement adjustments and the hash-chained audit log (migration 0004).

Figures entered in forms stay in ``request_value`` (what the user typed, with its version);
approval posts them to the ledger's record tables as one batch, so the calculation reads one
kind of record whatever door it came through.
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
    LargeBinary,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from esgledger.store.base import Base


class UserRow(Base):
    """A person who signs in; ``role`` is one of ``auth.roles.Role``."""

    __tablename__ = "app_user"

    user_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(Text, unique=True)
    display_name: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(Text)
    password_hash: Mapped[str] = mapped_column(Text)
    locale: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean)
    must_change_password: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    password_changed_at: Mapped[datetime] = mapped_column(DateTime)


class UserEntityRow(Base):
    """An entity granted to a user (the grant covers the entity's descendants)."""

    __tablename__ = "user_entity"

    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.user_id"), primary_key=True)
    entity_id: Mapped[str] = mapped_column(ForeignKey("entity.entity_id"), primary_key=True)
    granted_by: Mapped[str] = mapped_column(Text)
    granted_at: Mapped[datetime] = mapped_column(DateTime)


class ApiTokenRow(Base):
    """A bearer token for scripts; only its SHA-256 is stored."""

    __tablename__ = "api_token"

    token_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.user_id"))
    name: Mapped[str] = mapped_column(Text)
    token_hash: Mapped[str] = mapped_column(Text, unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)


class WebSessionRow(Base):
    """A signed-in browser session; the cookie holds a random secret, the table its hash."""

    __tablename__ = "web_session"

    session_hash: Mapped[str] = mapped_column(Text, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.user_id"))
    csrf_token: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime)


class LoginAttemptRow(Base):
    """One sign-in attempt, for rate limiting by user name and by address."""

    __tablename__ = "login_attempt"
    __table_args__ = (
        Index("ix_login_attempt_username_at", "username", "at"),
        Index("ix_login_attempt_address_at", "address", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(Text)
    address: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime)
    success: Mapped[bool] = mapped_column(Boolean)


class CampaignRow(Base):
    """A data collection for one reporting year: which metrics, due date, status."""

    __tablename__ = "campaign"

    campaign_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(Text)
    year: Mapped[int] = mapped_column(Integer)
    due_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(Text)
    instructions: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class CampaignMetricRow(Base):
    """A catalogue metric asked for in a campaign (``position`` orders the form)."""

    __tablename__ = "campaign_metric"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.campaign_id"), primary_key=True)
    metric_id: Mapped[str] = mapped_column(Text, primary_key=True)
    position: Mapped[int] = mapped_column(Integer)


class DataRequestRow(Base):
    """What one entity owes a campaign; ``version`` increases with every change of the request
    or its values (optimistic locking)."""

    __tablename__ = "data_request"
    __table_args__ = (UniqueConstraint("campaign_id", "entity_id"),)

    request_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.campaign_id"))
    entity_id: Mapped[str] = mapped_column(ForeignKey("entity.entity_id"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.user_id"))
    status: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer)
    due_date: Mapped[date] = mapped_column(Date)
    submitted_by: Mapped[str | None] = mapped_column(Text)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime)
    reviewed_by: Mapped[str | None] = mapped_column(Text)
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batch.batch_id"))


class RequestValueRow(Base):
    """A figure entered for a request: the text typed, its unit and the version it is at."""

    __tablename__ = "request_value"
    __table_args__ = (UniqueConstraint("request_id", "metric_id"),)

    value_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("data_request.request_id"))
    metric_id: Mapped[str] = mapped_column(Text)
    value: Mapped[float | None] = mapped_column(Float)
    value_text: Mapped[str] = mapped_column(Text)
    unit: Mapped[str] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer)
    updated_by: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class RequestCommentRow(Base):
    """A comment on a request or one of its metrics (``kind``: comment, return, approve)."""

    __tablename__ = "request_comment"

    comment_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("data_request.request_id"))
    metric_id: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime)
    body: Mapped[str] = mapped_column(Text)


class EvidenceRow(Base):
    """An attached file, stored in the database with its SHA-256, size and type."""

    __tablename__ = "evidence"

    evidence_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("data_request.request_id"))
    metric_id: Mapped[str | None] = mapped_column(Text)
    file_name: Mapped[str] = mapped_column(Text)
    content_type: Mapped[str] = mapped_column(Text)
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(Text)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_by: Mapped[str] = mapped_column(Text)
    uploaded_at: Mapped[datetime] = mapped_column(DateTime)


class PeriodLockRow(Base):
    """A reporting year locked by the ESG committee: its records change only by adjustment."""

    __tablename__ = "period_lock"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    locked_by: Mapped[str] = mapped_column(Text)
    locked_at: Mapped[datetime] = mapped_column(DateTime)
    note: Mapped[str | None] = mapped_column(Text)


class AdjustmentRow(Base):
    """A restatement of a locked figure: proposed with a reason, approved or rejected by the
    committee; approval posts the difference as a ledger record (``batch_id``)."""

    __tablename__ = "adjustment"

    adjustment_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    year: Mapped[int] = mapped_column(Integer)
    entity_id: Mapped[str] = mapped_column(ForeignKey("entity.entity_id"))
    metric_id: Mapped[str] = mapped_column(Text)
    before_value: Mapped[float] = mapped_column(Float)
    after_value: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text)
    proposed_by: Mapped[str] = mapped_column(Text)
    proposed_at: Mapped[datetime] = mapped_column(DateTime)
    decided_by: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    decision_note: Mapped[str | None] = mapped_column(Text)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batch.batch_id"))


class AuditEntryRow(Base):
    """One entry of the append-only audit log; ``hash`` covers the entry and ``prev_hash``:
    HMAC-SHA256 under the audit key named by ``key_id`` (migration 0011), or plain SHA-256
    for the entries written before the log had a key (``key_id`` NULL)."""

    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(DateTime)
    actor: Mapped[str] = mapped_column(Text)
    action: Mapped[str] = mapped_column(Text)
    object_type: Mapped[str] = mapped_column(Text)
    object_id: Mapped[str] = mapped_column(Text)
    entity_id: Mapped[str | None] = mapped_column(Text)
    before: Mapped[str | None] = mapped_column(Text)
    after: Mapped[str | None] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(Text)
    hash: Mapped[str] = mapped_column(Text, unique=True)
    key_id: Mapped[str | None] = mapped_column(Text)


class AuditHeadRow(Base):
    """The newest entry's sequence and hash, updated with every append: deleting the last
    entries of the log no longer goes unnoticed (see ``store.audit_log.verify``)."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(Text)
