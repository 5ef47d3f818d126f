"""Core records of the ledger."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum


class ConsolidationApproach(StrEnum):
    """GHG Protocol Corporate Standard chapter 3 approaches, chosen per inventory."""

    OPERATIONAL_CONTROL = "operational_control"
    FINANCIAL_CONTROL = "financial_control"
    EQUITY_SHARE = "equity_share"


class DataQuality(StrEnum):
    """How an activity figure was obtained (drives uncertainty defaults later)."""

    MEASURED = "measured"  # meter readings, invoices
    CALCULATED = "calculated"  # derived from other measured data
    ESTIMATED = "estimated"  # estimates, proxies, extrapolation
    REPORTED = "reported"  # taken from a published or third-party report


class EntityKind(StrEnum):
    GROUP = "group"
    SUBSIDIARY = "subsidiary"
    SITE = "site"


_PERIOD = re.compile(r"^(?P<year>\d{4})(?:-(?P<month>\d{1,2}))?$")


@dataclass(frozen=True, slots=True, order=True)
class Period:
    """A reporting period: a year, or a month of a year."""

    year: int
    month: int | None = None

    def __post_init__(self) -> None:
        if not 1900 <= self.year <= 2200:
            raise ValueError(f"year {self.year} out of range")
        if self.month is not None and not 1 <= self.month <= 12:
            raise ValueError(f"month {self.month} out of range 1-12")

    @classmethod
    def parse(cls, text: str) -> Period:
        """Read ``2024`` or ``2024-03`` (also ``2024-3``)."""
        match = _PERIOD.match(text.strip())
        if not match:
            raise ValueError(f"period {text!r} is not YYYY or YYYY-MM")
        month = match.group("month")
        return cls(int(match.group("year")), int(month) if month else None)

    def __str__(self) -> str:
        return f"{self.year}" if self.month is None else f"{self.year}-{self.month:02d}"


@dataclass(frozen=True, slots=True)
class Source:
    """Where a record came from: a file and row, a form and user, or a publication."""

    kind: str  # "file", "form", "api", "publication", "synthetic"
    reference: str  # file name, form id, document title
    row: int | None = None
    user: str | None = None

    def __str__(self) -> str:
        text = self.reference if self.row is None else f"{self.reference}:{self.row}"
        return text if self.user is None else f"{text} ({self.user})"


@dataclass(frozen=True, slots=True)
class Entity:
    """A node of the organisation tree (group, subsidiary or site)."""

    entity_id: str
    name: str
    parent_id: str | None = None
    kind: EntityKind = EntityKind.SUBSIDIARY
    equity_share: float = 1.0  # the parent's share in this entity, 0..1
    operational_control: bool = True  # the parent has operational control over it
    financial_control: bool = True  # the parent has financial control over it
    region: str | None = None  # default province code of its activity
    name_zh: str | None = None
    acquired_on: date | None = None
    divested_on: date | None = None


@dataclass(frozen=True, slots=True)
class ActivityRecord:
    """An activity figure: quantity and unit of an activity type, for an entity and period."""

    record_id: str
    entity_id: str
    period: Period
    activity_type: str
    quantity: float
    unit: str
    source: Source
    region: str | None = None
    data_quality: DataQuality = DataQuality.MEASURED
    activity_date: date | None = None
    instrument_id: str | None = None  # certificate serial or contract id for instruments
    ef_value: float | None = None  # supplier-specific factor of an instrument
    ef_unit: str | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class DirectEmission:
    """A figure that arrives already in CO2e (a verified figure, a supplier's figure)."""

    record_id: str
    entity_id: str
    period: Period
    scope: int
    category: str
    tco2e: float
    source: Source
    gas: str = "CO2e"
    scope2_basis: str = "both"  # for scope 2: "location", "market" or "both"
    data_quality: DataQuality = DataQuality.REPORTED
    provenance: str = ""


@dataclass(frozen=True, slots=True)
class StructuralChange:
    """An event that may trigger base-year recalculation (GHG Protocol chapter 5)."""

    change_id: str
    year: int
    kind: str  # acquisition, divestment, boundary, methodology, error
    description: str
    entity_id: str | None = None
    base_year_impact_tco2e: float | None = None  # emissions the change moves into/out of base
