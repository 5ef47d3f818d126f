"""Tables of the sustainability report (migration 0005): the narrative text of each section,
per reporting year and language, as edited in the web app or imported from files.

Figures are never stored here: the report reads them from the ledger when it is built
(:mod:`esgledger.report.build`); a narrative is text only, with a version for optimistic
locking and who changed it last (every change is also in the audit log).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from esgledger.store.base import Base


class ReportNarrativeRow(Base):
    """The text of one report section for one year and language; ``version`` increases with
    every change (an edit based on an older version is refused)."""

    __tablename__ = "report_narrative"
    __table_args__ = (UniqueConstraint("year", "lang", "section_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    year: Mapped[int] = mapped_column(Integer)
    lang: Mapped[str] = mapped_column(Text)
    section_id: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer)
    updated_by: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
