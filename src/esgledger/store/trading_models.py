"""Tables of the carbon ledger (migration 0009)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Float, ForeignKey, Index, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column

from esgledger.store.base import Base


class CarbonPostingRow(Base):
    """A posting of the carbon ledger (migration 0009): verified emissions, adjustments and
    the movements of an entity's allowance account (CEA) and offsets (CCER), hash-chained
    (``prev_hash``, ``hash``) so that an edited, deleted or reordered posting is detected."""

    __tablename__ = "carbon_posting"
    __table_args__ = (Index("ix_carbon_posting_entity_id", "entity_id", "compliance_year"),)

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    entity_id: Mapped[str] = mapped_column(ForeignKey("entity.entity_id"))
    kind: Mapped[str] = mapped_column(Text)
    unit_type: Mapped[str] = mapped_column(Text)
    vintage: Mapped[int | None] = mapped_column(Integer)
    compliance_year: Mapped[int | None] = mapped_column(Integer)
    quantity: Mapped[float] = mapped_column(Float)
    price_cny: Mapped[float | None] = mapped_column(Float)
    lineage: Mapped[str] = mapped_column(Text)
    reference: Mapped[str] = mapped_column(Text)
    note: Mapped[str] = mapped_column(Text)
    posted_by: Mapped[str] = mapped_column(Text)
    posted_at: Mapped[datetime] = mapped_column(DateTime)
    prev_hash: Mapped[str] = mapped_column(Text)
    hash: Mapped[str] = mapped_column(Text, unique=True)
