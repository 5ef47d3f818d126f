"""The company's targets (migration 0014): one row per target, the cells as the user wrote
them in the targets file (``esgledger targets import``), so that an export gives them back
unchanged; :mod:`esgledger.checks.targets` validates them when they are written and parses
them when they are read. No target ships with the product."""

from __future__ import annotations

from sqlalchemy import Integer, Text
from sqlalchemy.orm import Mapped, mapped_column

from esgledger.checks.targets import ALL_COLUMNS
from esgledger.store.base import Base

TARGET_TEXT_COLUMNS = tuple(c for c in ALL_COLUMNS if c != "target_id")
"""The cells of a target besides its id (text, as entered)."""


class TargetRow(Base):
    """One target of the company; ``position`` keeps the order of the file it came from."""

    __tablename__ = "target"

    target_id: Mapped[str] = mapped_column(Text, primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    metric_id: Mapped[str | None] = mapped_column(Text)
    entity_id: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(Text)
    direction: Mapped[str | None] = mapped_column(Text)
    value: Mapped[str | None] = mapped_column(Text)
    unit: Mapped[str | None] = mapped_column(Text)
    baseline_year: Mapped[str | None] = mapped_column(Text)
    baseline_value: Mapped[str | None] = mapped_column(Text)
    start_year: Mapped[str] = mapped_column(Text)
    deadline_year: Mapped[str] = mapped_column(Text)
    name_en: Mapped[str | None] = mapped_column(Text)
    name_zh: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
    milestone: Mapped[str | None] = mapped_column(Text)
