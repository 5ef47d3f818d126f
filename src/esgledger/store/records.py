"""Small reads of stored records that the workflow needs inside its own transactions."""

from __future__ import annotations

from sqlalchemy import Connection, Engine, select

from esgledger.store.engine import TABLES

ACTIVITY, METRIC = TABLES["activity_record"], TABLES["metric_value"]


def quantities(
    bind: Engine | Connection,
    entity_id: str,
    year: int,
    *,
    activity_type: str | None = None,
    metric_id: str | None = None,
) -> list[tuple[float, str]]:
    """(quantity, unit) of every stored record of an entity and year: the activity records of
    ``activity_type``, or else the metric values of ``metric_id``."""
    if activity_type is not None:
        stmt = select(ACTIVITY.c.quantity, ACTIVITY.c.unit).where(
            ACTIVITY.c.entity_id == entity_id,
            ACTIVITY.c.year == year,
            ACTIVITY.c.activity_type == activity_type,
        )
    else:
        stmt = select(METRIC.c.value, METRIC.c.unit).where(
            METRIC.c.entity_id == entity_id, METRIC.c.year == year, METRIC.c.metric_id == metric_id
        )
    if isinstance(bind, Connection):
        rows = bind.execute(stmt).all()
    else:
        with bind.connect() as conn:
            rows = conn.execute(stmt).all()
    return [(float(q), str(u)) for q, u in rows]
