"""The documented import templates: one column list per kind of file."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    required: bool
    description: str
    example: str


ACTIVITY = (
    Column(
        "record_id", True, "your unique id of the row (unique across the ledger)", "BJ-2024-0001"
    ),
    Column("entity_id", True, "entity of the organisation tree the activity belongs to", "G00"),
    Column("period", True, "year (YYYY) or month (YYYY-MM) of the activity", "2024-03"),
    Column(
        "activity_type",
        True,
        "activity type id (sheet 'lists' / esgledger factors types)",
        "electricity",
    ),
    Column("quantity", True, "amount, a number >= 0 (no formulas)", "3815.2"),
    Column("unit", True, "unit of the amount; must match the activity type's dimension", "MWh"),
    Column(
        "region", False, "province or grid region (code or name); default: the entity's", "CN-BJ"
    ),
    Column(
        "data_quality",
        False,
        "measured | calculated | estimated | reported (default measured)",
        "measured",
    ),
    Column("activity_date", False, "date of a single event (YYYY-MM-DD)", "2024-03-31"),
    Column(
        "instrument_id",
        False,
        "certificate serial or contract id; required for gec, green_power, supplier_electricity",
        "GEC-2024-000123",
    ),
    Column("ef_value", False, "supplier-specific factor value (supplier_electricity only)", "0.42"),
    Column("ef_unit", False, "unit of ef_value, e.g. tCO2/MWh", "tCO2/MWh"),
    Column("note", False, "free text kept with the record", "meter 12 main building"),
)

DIRECT = (
    Column("record_id", True, "your unique id of the row (unique across the ledger)", "D-2024-01"),
    Column("entity_id", True, "entity of the organisation tree", "G00"),
    Column("period", True, "year (YYYY) or month (YYYY-MM)", "2024"),
    Column("scope", True, "1, 2 or 3", "3"),
    Column(
        "category",
        True,
        "category, e.g. fugitive, purchased_electricity, s3_04_upstream_transport",
        "s3_04_upstream_transport",
    ),
    Column("tco2e", True, "emissions already in tCO2e, a number >= 0", "3265.40"),
    Column("gas", False, "gas the figure is for (default CO2e)", "CO2e"),
    Column(
        "scope2_basis", False, "scope 2 only: location | market | both (default both)", "location"
    ),
    Column(
        "data_quality",
        False,
        "measured | calculated | estimated | reported (default reported)",
        "reported",
    ),
    Column(
        "provenance",
        True,
        "where the figure comes from (verifier statement, supplier report, published report)",
        "2024 ESG report, KPI table",
    ),
)

METRICS = (
    Column("record_id", True, "your unique id of the row (unique across the ledger)", "HR-2024-01"),
    Column("entity_id", True, "entity of the organisation tree", "S01"),
    Column("period", True, "year (YYYY) or month (YYYY-MM)", "2024"),
    Column(
        "metric_id",
        True,
        "a metric of the catalogue (src/esgledger/metrics/data)",
        "customer.satisfaction_rate",
    ),
    Column(
        "value",
        True,
        "the figure, a number >= 0; a trailing + marks a published lower bound (kept as written)",
        "99.11",
    ),
    Column("unit", True, "unit of the value; must fit the metric's unit", "%"),
    Column(
        "numerator",
        False,
        "for ratios: the numerator the value was computed from, so "
        "group figures are recomputed, not averaged",
        "1983",
    ),
    Column("denominator", False, "for ratios: the denominator (give both or neither)", "2001"),
    Column(
        "data_quality",
        False,
        "measured | calculated | estimated | reported (default reported)",
        "reported",
    ),
    Column("provenance", False, "where the figure comes from", "CSS survey 2024"),
    Column("note", False, "free text kept with the figure", "half-year and annual surveys"),
)

TEMPLATES: dict[str, tuple[Column, ...]] = {
    "activity": ACTIVITY,
    "direct": DIRECT,
    "metrics": METRICS,
}
DATA_QUALITY = ("measured", "calculated", "estimated", "reported")
INSTRUMENT_TYPES = ("gec", "green_power", "supplier_electricity")
