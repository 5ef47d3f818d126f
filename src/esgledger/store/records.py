"""Small reads of stored records that the workflow needs inside its own transactions, and the
versions of reported figures (one current value per metric, entity, year and month)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Engine, and_, bindparam, select, update

from esgledger.store import frames
from esgledger.store.engine import TABLES, reading

ACTIVITY, METRIC = TABLES["activity_record"], TABLES["metric_value"]
BATCH = TABLES["import_batch"]


def quantities(
    bind: Engine | Connection,
    entity_id: str,
    year: int,
    *,
    activity_type: str | None = None,
    metric_id: str | None = None,
) -> list[tuple[float, str]]:
    """(quantity, unit) of every stored record of an entity and year: the activity records of
    ``activity_type``, or else the current metric values of ``metric_id`` (the annual one, or
    the months')."""
    if activity_type is not None:
        stmt = select(ACTIVITY.c.quantity, ACTIVITY.c.unit).where(
            ACTIVITY.c.entity_id == entity_id,
            ACTIVITY.c.year == year,
            ACTIVITY.c.activity_type == activity_type,
        )
    else:
        stmt = select(METRIC.c.value, METRIC.c.unit).where(
            METRIC.c.entity_id == entity_id,
            METRIC.c.year == year,
            METRIC.c.metric_id == metric_id,
            METRIC.c.superseded_by.is_(None),
        )
    rows = reading(bind, lambda conn: conn.execute(stmt).all())
    return [(float(q), str(u)) for q, u in rows]


def supersede_metric_values(
    conn: Connection, columns: Mapping[str, Sequence[Any]], batch_id: int
) -> int:
    """Mark the current values of the figures a batch gives (``columns``: the batch's metric
    rows by column: ``metric_id``, ``entity_id``, ``year``, ``month``) as superseded by
    ``batch_id``, before its rows are written: the batch restates them. The number of values
    superseded."""
    keys = {
        (str(m), str(e), int(y), None if pd.isna(mo) else int(mo))
        for m, e, y, mo in zip(
            columns["metric_id"],
            columns["entity_id"],
            columns["year"],
            columns["month"],
            strict=True,
        )
    }
    same = and_(
        METRIC.c.metric_id == bindparam("m"),
        METRIC.c.entity_id == bindparam("e"),
        METRIC.c.year == bindparam("y"),
        METRIC.c.superseded_by.is_(None),
    )
    changed = 0
    for monthly in (False, True):
        rows = [
            {"m": m, "e": e, "y": y, "mo": mo, "batch": batch_id}
            for m, e, y, mo in keys
            if (mo is not None) == monthly
        ]
        if not rows:
            continue
        month = METRIC.c.month == bindparam("mo") if monthly else METRIC.c.month.is_(None)
        stmt = update(METRIC).where(same, month).values(superseded_by=bindparam("batch"))
        result = conn.execute(stmt.execution_options(synchronize_session=False), rows)
        changed += int(result.rowcount or 0)
    return changed


def metric_history(
    engine: Engine, metric_id: str, entity_id: str, year: int, month: int | None = None
) -> pd.DataFrame:
    """Every version of a reported figure, oldest first (see ``Ledger.metric_history``)."""
    columns = [METRIC.c[n] for n in frames.METRIC_FRAME]
    stmt = (
        select(
            *columns,
            METRIC.c.superseded_by,
            BATCH.c.imported_at,
            BATCH.c.imported_by,
            BATCH.c.kind.label("batch_kind"),
        )
        .select_from(METRIC.outerjoin(BATCH, BATCH.c.batch_id == METRIC.c.batch_id))
        .where(
            METRIC.c.metric_id == metric_id,
            METRIC.c.entity_id == entity_id,
            METRIC.c.year == year,
            METRIC.c.month.is_(None) if month is None else METRIC.c.month == month,
        )
        .order_by(METRIC.c.rid)
    )
    with engine.connect() as conn:
        frame = pd.DataFrame(conn.execute(stmt).mappings().all())
    names = [*frames.METRIC_FRAME, "superseded_by", "imported_at", "imported_by", "batch_kind"]
    if frame.empty:
        return pd.DataFrame(columns=names)
    frame["superseded_by"] = frame["superseded_by"].astype("Int64")
    return frame[names]
