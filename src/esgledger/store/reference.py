"""Reference data of the ledger: parameters, factor overrides, context metrics,
structural changes and settings (a base class of ``Ledger``)."""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy import Connection, Engine, Select, bindparam, delete, insert, select

from esgledger.domain.model import StructuralChange
from esgledger.store import frames
from esgledger.store.engine import (
    CHANGE,
    CHUNK,
    CONTEXT,
    OVERRIDE,
    PARAMETER,
    SETTING,
    new_id,
    now,
    write_transaction,
)


def replace_context(conn: Connection, cols: dict[str, list[Any]]) -> None:
    """Insert context rows, replacing stored rows with the same entity, year and metric."""
    keys = [
        {"b_entity_id": e, "b_year": y, "b_metric": m}
        for e, y, m in zip(cols["entity_id"], cols["year"], cols["metric"], strict=True)
    ]
    conn.execute(
        delete(CONTEXT).where(
            CONTEXT.c.entity_id == bindparam("b_entity_id"),
            CONTEXT.c.year == bindparam("b_year"),
            CONTEXT.c.metric == bindparam("b_metric"),
        ),
        keys,
    )
    for rows in frames.chunked_rows(cols, CHUNK):
        conn.execute(insert(CONTEXT), rows)


class ReferenceData:
    """Small tables edited one row at a time."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _frame(self, stmt: Select[Any], spec: dict[str, str]) -> pd.DataFrame:
        with self.engine.connect() as conn:
            frame = pd.read_sql_query(stmt, conn)
        return frames.typed_frame(frame, spec)

    # -- parameters, overrides, context ---------------------------------------------------

    def set_parameter(
        self, name: str, year: int | None, value: float, unit: str, source: str
    ) -> None:
        """Set (or replace) a parameter; ``year=None`` applies to every year."""
        year_cond = PARAMETER.c.year.is_(None) if year is None else PARAMETER.c.year == year
        with write_transaction(self.engine) as conn:
            conn.execute(delete(PARAMETER).where(PARAMETER.c.name == name, year_cond))
            conn.execute(
                insert(PARAMETER).values(
                    name=name, year=year, value=float(value), unit=unit, source=source
                )
            )

    def parameters(self) -> pd.DataFrame:
        stmt = select(*(PARAMETER.c[n] for n in frames.PARAMETER_FRAME)).order_by(
            PARAMETER.c.name, PARAMETER.c.year
        )
        return self._frame(stmt, frames.PARAMETER_FRAME)

    def add_override(
        self,
        activity_type: str,
        region: str | None,
        year: int | None,
        gas: str,
        value: float,
        unit: str,
        source: str,
        entered_by: str | None = None,
    ) -> int:
        """Record a user emission factor; returns its id (later ids win on ties)."""
        with write_transaction(self.engine) as conn:
            result = conn.execute(
                insert(OVERRIDE).values(
                    activity_type=activity_type,
                    region=region,
                    year=year,
                    gas=gas,
                    value=float(value),
                    unit=unit,
                    source=source,
                    entered_by=entered_by,
                    entered_at=now(),
                )
            )
            return new_id(result)

    def overrides(self) -> pd.DataFrame:
        stmt = select(*(OVERRIDE.c[n] for n in frames.OVERRIDE_FRAME)).order_by(OVERRIDE.c.id)
        return self._frame(stmt, frames.OVERRIDE_FRAME)

    def set_context(
        self, entity_id: str, year: int, metric: str, value: float, unit: str, source: str
    ) -> None:
        """Set (or replace) a context metric of an entity and year."""
        cols: dict[str, list[Any]] = {
            "entity_id": [entity_id],
            "year": [int(year)],
            "metric": [metric],
            "value": [float(value)],
            "unit": [unit],
            "source": [source],
        }
        with write_transaction(self.engine) as conn:
            replace_context(conn, cols)

    def context_frame(self) -> pd.DataFrame:
        stmt = select(*(CONTEXT.c[n] for n in frames.CONTEXT_FRAME)).order_by(
            CONTEXT.c.entity_id, CONTEXT.c.year, CONTEXT.c.metric
        )
        return self._frame(stmt, frames.CONTEXT_FRAME)

    # -- structural changes, settings, bookkeeping ----------------------------------------

    def add_structural_change(self, change: StructuralChange) -> None:
        """Add a change, replacing one with the same ``change_id``."""
        with write_transaction(self.engine) as conn:
            conn.execute(delete(CHANGE).where(CHANGE.c.change_id == change.change_id))
            conn.execute(
                insert(CHANGE).values(
                    change_id=change.change_id,
                    year=change.year,
                    kind=change.kind,
                    description=change.description,
                    entity_id=change.entity_id,
                    base_year_impact_tco2e=change.base_year_impact_tco2e,
                )
            )

    def structural_changes(self) -> list[StructuralChange]:
        """All changes ordered by year, then id."""
        with self.engine.connect() as conn:
            rows = (
                conn.execute(select(CHANGE).order_by(CHANGE.c.year, CHANGE.c.change_id))
                .mappings()
                .all()
            )
        return [
            StructuralChange(
                change_id=r["change_id"],
                year=int(r["year"]),
                kind=r["kind"],
                description=r["description"],
                entity_id=r["entity_id"],
                base_year_impact_tco2e=r["base_year_impact_tco2e"],
            )
            for r in rows
        ]

    def get_setting(self, key: str, default: str | None = None) -> str | None:
        with self.engine.connect() as conn:
            value = conn.scalar(select(SETTING.c["value"]).where(SETTING.c.key == key))
        return default if value is None else str(value)

    def set_setting(self, key: str, value: str) -> None:
        with write_transaction(self.engine) as conn:
            conn.execute(delete(SETTING).where(SETTING.c.key == key))
            conn.execute(insert(SETTING).values(key=key, value=str(value)))

    def delete_setting(self, key: str) -> None:
        with write_transaction(self.engine) as conn:
            conn.execute(delete(SETTING).where(SETTING.c.key == key))

    def settings(self) -> dict[str, str]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(SETTING.c.key, SETTING.c["value"]).order_by(SETTING.c.key))
            return {str(k): str(v) for k, v in rows}
