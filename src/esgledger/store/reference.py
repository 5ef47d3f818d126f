"""Reference data of the ledger: parameters, factor overrides, context metrics,
structural changes and settings (a base class of ``Ledger``).

Each write is a function of the caller's connection (``write_parameter``, ``insert_override``,
``write_context``, ``write_change``, ``write_setting``) with a reader of the row it replaces,
so that a use case (:mod:`esgledger.usecases.reference`) checks the period lock, writes the
change and its audit entry in one transaction; the ``ReferenceData`` methods are the same
writes in a transaction of their own (the demo build and the store tests)."""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy import Connection, Engine, Select, bindparam, delete, insert, select

from esgledger.domain.model import StructuralChange
from esgledger.store import arrow_read, frames
from esgledger.store.engine import (
    CHANGE,
    CHUNK,
    CONTEXT,
    FUEL_PROPERTY,
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


def _one(conn: Connection, stmt: Select[Any]) -> dict[str, Any] | None:
    row = conn.execute(stmt).mappings().first()
    return None if row is None else dict(row)


# -- parameters ---------------------------------------------------------------------------


def _parameter_key(name: str, year: int | None) -> list[Any]:
    year_cond = PARAMETER.c.year.is_(None) if year is None else PARAMETER.c.year == int(year)
    return [PARAMETER.c.name == name, year_cond]


def parameter_row(conn: Connection, name: str, year: int | None) -> dict[str, Any] | None:
    """The stored parameter ``name`` of ``year`` (None: of every year): ``name``, ``year``,
    ``value``, ``unit``, ``source``; None when there is none."""
    cols = [PARAMETER.c[n] for n in ("name", "year", "value", "unit", "source")]
    return _one(conn, select(*cols).where(*_parameter_key(name, year)))


def write_parameter(
    conn: Connection, name: str, year: int | None, value: float, unit: str, source: str
) -> None:
    """Set (or replace) a parameter in the caller's transaction."""
    conn.execute(delete(PARAMETER).where(*_parameter_key(name, year)))
    conn.execute(
        insert(PARAMETER).values(
            name=name,
            year=None if year is None else int(year),
            value=float(value),
            unit=unit,
            source=source,
        )
    )


# -- factor overrides ---------------------------------------------------------------------


def insert_override(conn: Connection, **fields: Any) -> int:
    """Store a factor override (``activity_type``, ``region``, ``year``, ``gas``, ``value``,
    ``unit``, ``source``, ``entered_by``) entered now, in the caller's transaction; its id."""
    return new_id(conn.execute(insert(OVERRIDE).values(**fields, entered_at=now())))


# -- measured fuel properties -------------------------------------------------------------

FUEL_PROPERTY_KEY = ("activity_type", "entity_id", "year", "property")
FUEL_PROPERTY_SHOWN = (*FUEL_PROPERTY_KEY, "value_text", "unit", "source")


def _fuel_key(key: dict[str, Any]) -> list[Any]:
    c = FUEL_PROPERTY.c
    return [c[k].is_(None) if key[k] is None else c[k] == key[k] for k in FUEL_PROPERTY_KEY]


def fuel_property_row(conn: Connection, key: dict[str, Any]) -> dict[str, Any] | None:
    """The stored fuel property of a key (activity type, entity or None, year or None,
    property): its cells as entered, None when there is none."""
    cols = [FUEL_PROPERTY.c[n] for n in FUEL_PROPERTY_SHOWN]
    return _one(conn, select(*cols).where(*_fuel_key(key)))


def write_fuel_property(conn: Connection, **fields: Any) -> int:
    """Set (or replace) the fuel property of a key in the caller's transaction; its id."""
    conn.execute(delete(FUEL_PROPERTY).where(*_fuel_key(fields)))
    return new_id(conn.execute(insert(FUEL_PROPERTY).values(**fields, entered_at=now())))


def delete_fuel_property(conn: Connection, key: dict[str, Any]) -> None:
    conn.execute(delete(FUEL_PROPERTY).where(*_fuel_key(key)))


# -- context metrics ----------------------------------------------------------------------


def context_row(conn: Connection, entity_id: str, year: int, metric: str) -> dict[str, Any] | None:
    """The stored context figure of an entity, year and metric (``value``, ``unit``,
    ``source``), None when there is none."""
    stmt = select(CONTEXT.c["value"], CONTEXT.c.unit, CONTEXT.c.source).where(
        CONTEXT.c.entity_id == entity_id, CONTEXT.c.year == int(year), CONTEXT.c.metric == metric
    )
    return _one(conn, stmt)


def write_context(
    conn: Connection, entity_id: str, year: int, metric: str, value: float, unit: str, source: str
) -> None:
    """Set (or replace) a context metric of an entity and year in the caller's transaction."""
    cols: dict[str, list[Any]] = {
        "entity_id": [entity_id],
        "year": [int(year)],
        "metric": [metric],
        "value": [float(value)],
        "unit": [unit],
        "source": [source],
    }
    replace_context(conn, cols)


# -- structural changes -------------------------------------------------------------------


def change_row(conn: Connection, change_id: str) -> dict[str, Any] | None:
    """The stored structural change ``change_id`` (every column), None when there is none."""
    return _one(conn, select(CHANGE).where(CHANGE.c.change_id == change_id))


def write_change(conn: Connection, change: StructuralChange) -> None:
    """Add a change, replacing one with the same ``change_id``, in the caller's transaction."""
    conn.execute(delete(CHANGE).where(CHANGE.c.change_id == change.change_id))
    conn.execute(
        insert(CHANGE).values(
            change_id=change.change_id,
            year=int(change.year),
            kind=change.kind,
            description=change.description,
            entity_id=change.entity_id,
            base_year_impact_tco2e=change.base_year_impact_tco2e,
        )
    )


# -- settings -----------------------------------------------------------------------------


def stored_settings(conn: Connection) -> dict[str, str]:
    """Every stored setting, by key."""
    rows = conn.execute(select(SETTING.c.key, SETTING.c["value"]).order_by(SETTING.c.key))
    return {str(k): str(v) for k, v in rows}


def write_setting(conn: Connection, key: str, value: str) -> None:
    """Set (or replace) a setting in the caller's transaction."""
    conn.execute(delete(SETTING).where(SETTING.c.key == key))
    conn.execute(insert(SETTING).values(key=key, value=str(value)))


READ_CHUNK = 50_000
"""Rows read into one table at a time (:meth:`_frame`)."""


class ReferenceData:
    """Small tables edited one row at a time."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _frame(self, stmt: Select[Any], spec: dict[str, str]) -> pd.DataFrame:
        """The rows of ``stmt`` typed by ``spec``, read in chunks: building one table of a
        million rows holds the interpreter for seconds in one call, during which a server's
        other threads answer nothing; chunks let them in between."""
        with self.engine.connect() as conn:
            parts = [
                frames.typed_frame(part, spec)
                for part in pd.read_sql_query(stmt, conn, chunksize=READ_CHUNK)
            ]
        if not parts:
            return frames.typed_frame(None, spec)
        if len(parts) == 1:
            return parts[0]
        return pd.concat(parts, ignore_index=True)  # typed alike: the dtypes stay

    def _records(self, stmt: Select[Any], spec: dict[str, str]) -> pd.DataFrame:
        """The record rows of ``stmt`` (ordered by ``rid``) typed by ``spec``: the bulk reads
        of a build, read in C into Arrow where the database allows
        (:mod:`esgledger.store.arrow_read`), else as :meth:`_frame`."""
        if arrow_read.readable(self.engine, spec):
            return arrow_read.read_records(self.engine, stmt, spec)
        return self._frame(stmt, spec)

    # -- parameters, overrides, context ---------------------------------------------------

    def set_parameter(
        self, name: str, year: int | None, value: float, unit: str, source: str
    ) -> None:
        """Set (or replace) a parameter; ``year=None`` applies to every year."""
        with write_transaction(self.engine) as conn:
            write_parameter(conn, name, year, value, unit, source)

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
            return insert_override(
                conn,
                activity_type=activity_type,
                region=region,
                year=year,
                gas=gas,
                value=float(value),
                unit=unit,
                source=source,
                entered_by=entered_by,
            )

    def overrides(self) -> pd.DataFrame:
        stmt = select(*(OVERRIDE.c[n] for n in frames.OVERRIDE_FRAME)).order_by(OVERRIDE.c.id)
        return self._frame(stmt, frames.OVERRIDE_FRAME)

    def fuel_properties(self) -> pd.DataFrame:
        """The measured fuel properties (:data:`frames.FUEL_PROPERTY_FRAME`), by fuel."""
        c = FUEL_PROPERTY.c
        stmt = select(*(c[n] for n in frames.FUEL_PROPERTY_FRAME)).order_by(
            c.activity_type, c.property, c.entity_id, c.year, c.id
        )
        return self._frame(stmt, frames.FUEL_PROPERTY_FRAME)

    def set_context(
        self, entity_id: str, year: int, metric: str, value: float, unit: str, source: str
    ) -> None:
        """Set (or replace) a context metric of an entity and year."""
        with write_transaction(self.engine) as conn:
            write_context(conn, entity_id, year, metric, value, unit, source)

    def context_frame(self) -> pd.DataFrame:
        stmt = select(*(CONTEXT.c[n] for n in frames.CONTEXT_FRAME)).order_by(
            CONTEXT.c.entity_id, CONTEXT.c.year, CONTEXT.c.metric
        )
        return self._frame(stmt, frames.CONTEXT_FRAME)

    # -- structural changes, settings, bookkeeping ----------------------------------------

    def add_structural_change(self, change: StructuralChange) -> None:
        """Add a change, replacing one with the same ``change_id``."""
        with write_transaction(self.engine) as conn:
            write_change(conn, change)

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
            write_setting(conn, key, value)

    def delete_setting(self, key: str) -> None:
        with write_transaction(self.engine) as conn:
            conn.execute(delete(SETTING).where(SETTING.c.key == key))

    def settings(self) -> dict[str, str]:
        with self.engine.connect() as conn:
            return stored_settings(conn)
