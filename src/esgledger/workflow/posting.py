"""Posting collected values to the ledger, and reading a stored figure back.

:func:`post_records` writes the values of an approved request (or the difference of an
approved adjustment, :mod:`esgledger.workflow.periods`) as one ledger batch inside the
caller's transaction: metrics measured by activity records (``ledger_sources.csv``) become
activity records that the inventory reads, the others metric values in the metric's unit, so
that the calculation and lineage see them like any imported record.
:func:`current_figure` reads an input metric's stored figure of an entity and year (the sum
of its activity records, or its current reported value).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

from esgledger.metrics import ledger_sources
from esgledger.metrics.catalogue import load_catalogue
from esgledger.store import records
from esgledger.store.engine import LedgerConnection as Connection
from esgledger.store.engine import LedgerEngine as Engine
from esgledger.store.ledger import Ledger
from esgledger.units import conversion_factor


def _sources() -> dict[str, str]:
    """Catalogue metrics stored as activity records (``ledger_sources.csv``, source activity)."""
    return {s["metric_id"]: s["key"] for s in ledger_sources() if s["source"] == "activity"}


def is_activity_metric(metric_id: str) -> bool:
    """Whether a metric is stored as activity records (which add up) rather than as reported
    figures (one current value per entity and period, restated by new versions)."""
    return metric_id in _sources()


def post_records(
    conn: Connection,
    *,
    kind: str,
    label: str,
    entity_id: str,
    year: int,
    region: str | None,
    values: Sequence[Mapping[str, Any]],
    user: str,
    record_prefix: str,
    stamp: str,
    notes: Iterable[str | None] | None = None,
) -> int:
    """Write values (columns metric_id, value, value_text, unit) as ledger records of one batch
    inside the caller's transaction: metrics measured by activity records become activity
    records (the inventory reads them), the others metric values in the metric's unit."""
    catalogue = load_catalogue()
    activity_keys = _sources()
    activity_rows, metric_rows = [], []
    note_list = list(notes) if notes is not None else [None] * len(values)
    for row, note in zip(values, note_list, strict=True):
        metric = catalogue.get(str(row["metric_id"]))
        common = {
            "record_id": f"{record_prefix}-{metric.metric_id}",
            "entity_id": entity_id,
            "year": year,
            "month": None,
            "data_quality": "reported",
            "source_kind": kind,
            "source_file": label,
            "source_row": None,
            "source_user": user,
        }
        if metric.metric_id in activity_keys:
            activity_rows.append(
                {
                    **common,
                    "activity_type": activity_keys[metric.metric_id],
                    "quantity": float(row["value"]),
                    "quantity_text": str(row["value_text"]),
                    "unit": str(row["unit"]),
                    "region": region,
                    "region_text": region,
                    "note": note,
                }
            )
        else:
            factor = conversion_factor(str(row["unit"]), metric.unit)
            metric_rows.append(
                {
                    **common,
                    "metric_id": metric.metric_id,
                    "value": float(row["value"]) * factor,
                    "value_text": f"{row['value_text']} {row['unit']}",
                    "unit": metric.unit,
                    "provenance": label,
                    "note": note,
                }
            )
    digest = hashlib.sha256(f"{label}@{stamp}".encode()).hexdigest()
    return Ledger.post_batch(
        conn,
        kind,
        label,
        digest,
        activity=pd.DataFrame(activity_rows) if activity_rows else None,
        metrics=pd.DataFrame(metric_rows) if metric_rows else None,
        imported_by=user,
    )


def current_figure(engine: Engine | Connection, entity_id: str, year: int, metric_id: str) -> float:
    """An input metric's stored figure of an entity and year, in the metric's unit (the sum of
    its records: activity records or metric values)."""
    metric = load_catalogue().get(metric_id)
    activity_type = _sources().get(metric_id)
    rows = records.quantities(
        engine,
        entity_id,
        year,
        activity_type=activity_type,
        metric_id=None if activity_type else metric_id,
    )
    return float(sum(q * conversion_factor(u, metric.unit) for q, u in rows))
