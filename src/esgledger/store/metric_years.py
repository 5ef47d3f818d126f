"""The years of the reported metric figures (table ``metric_value``)."""

from __future__ import annotations

from sqlalchemy import Engine, select

from esgledger.store.engine import METRIC

__all__ = ["reported_years"]


def reported_years(engine: Engine) -> set[int]:
    """Every year the ledger holds a reported metric figure of (whatever the entity)."""
    with engine.connect() as conn:
        return {int(y) for y in conn.scalars(select(METRIC.c.year).distinct())}
