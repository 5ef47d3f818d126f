"""The ledger repository: returns domain dataclasses and DataFrames, never ORM objects."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import pandas as pd
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import ColumnElement, Connection, any_, bindparam, func, insert, select, update
from sqlalchemy.dialects.postgresql import ARRAY

from esgledger.domain.model import Entity, EntityKind
from esgledger.domain.organisation import Organisation
from esgledger.store import audit_log as audit
from esgledger.store import (
    batches,
    frames,
    measures,
    metric_definitions,
    records,
    targets,
    user_factors,
)
from esgledger.store.engine import (
    ACTIVITY,
    BATCH,
    CHUNK,
    DIRECT,
    ENTITY,
    METRIC,
    ROSTER,
    TABLES,
    alembic_config,
    chunks,
    make_engine,
    new_id,
    now,
    write_transaction,
)
from esgledger.store.periods import guard_years
from esgledger.store.reference import ReferenceData, replace_context
from esgledger.store.version import DataVersion, read_version

BATCH_KINDS = frozenset(
    {"activity", "direct", "metrics", "roster", "entities", "context", "form", "adjustment"}
)
LOCK = TABLES["period_lock"]


class PeriodLockedError(ValueError):
    """Records of a locked year may only be written by an approved adjustment."""

    def __init__(self, years: Sequence[int]) -> None:
        self.years = sorted(set(years))
        listed = ", ".join(map(str, self.years))
        super().__init__(
            f"period {listed} is locked by the ESG committee: figures of a locked year change "
            "only through an approved adjustment (esgledger adjustment propose)"
        )


ROSTER_COLUMNS = [c.name for c in ROSTER.columns if c.name not in ("rid", "batch_id")]
_RECORD_TABLES = {"activity": ACTIVITY, "direct": DIRECT, "metrics": METRIC}
_ACTIVITY_BY_RID = select(*(ACTIVITY.c[n] for n in frames.ACTIVITY_FRAME)).order_by(ACTIVITY.c.rid)
"""The columns of ``Ledger.activity_frame``, ordered by ``rid`` (narrowed by its callers)."""


# -- entities and the years with data, in the caller's transaction ---------------------------

ENTITY_COLUMNS = (
    "entity_id",
    "name",
    "name_zh",
    "parent_id",
    "kind",
    "equity_share",
    "operational_control",
    "financial_control",
    "region",
    "acquired_on",
    "divested_on",
)


def entity_row(entity: Entity) -> dict[str, Any]:
    """The stored row of an entity (the columns ``ENTITY_COLUMNS``, typed as stored)."""
    return {
        "entity_id": entity.entity_id,
        "name": entity.name,
        "name_zh": entity.name_zh,
        "parent_id": entity.parent_id,
        "kind": EntityKind(entity.kind).value,
        "equity_share": float(entity.equity_share),
        "operational_control": bool(entity.operational_control),
        "financial_control": bool(entity.financial_control),
        "region": entity.region,
        "acquired_on": entity.acquired_on,
        "divested_on": entity.divested_on,
    }


def entity_rows(conn: Connection, entity_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The stored rows of the entities of ``entity_ids`` that exist, by id (typed like
    :func:`entity_row`, so that a row read and a row to write compare equal when equal)."""
    found: dict[str, dict[str, Any]] = {}
    cols = [ENTITY.c[n] for n in ENTITY_COLUMNS]
    for chunk in chunks(sorted(set(entity_ids))):
        for r in conn.execute(select(*cols).where(ENTITY.c.entity_id.in_(chunk))).mappings():
            row = dict(r)
            row["equity_share"] = float(row["equity_share"])
            row["operational_control"] = bool(row["operational_control"])
            row["financial_control"] = bool(row["financial_control"])
            found[str(row["entity_id"])] = row
    return found


def write_entities(conn: Connection, entities: Sequence[Entity]) -> None:
    """Insert new entities and replace the attributes of known ones, in the caller's
    transaction."""
    rows = [entity_row(e) for e in entities]
    existing = set(entity_rows(conn, (r["entity_id"] for r in rows)))
    updates = [{**r, "b_entity_id": r["entity_id"]} for r in rows if r["entity_id"] in existing]
    inserts = [r for r in rows if r["entity_id"] not in existing]
    if updates:
        stmt = update(ENTITY).where(ENTITY.c.entity_id == bindparam("b_entity_id"))
        conn.execute(stmt, updates)
    if inserts:
        conn.execute(insert(ENTITY), inserts)


def data_years(conn: Connection, entity_ids: Iterable[str] | None = None) -> frozenset[int]:
    """The years with records (activity, direct emissions, reported metric figures), of the
    entities of ``entity_ids`` only when given."""
    wanted = None if entity_ids is None else sorted(set(entity_ids))
    years: set[int] = set()
    for table in (ACTIVITY, DIRECT, METRIC):
        if wanted is None:
            years.update(int(y) for y in conn.scalars(select(table.c.year).distinct()))
            continue
        for chunk in chunks(wanted):
            stmt = select(table.c.year).where(table.c.entity_id.in_(chunk)).distinct()
            years.update(int(y) for y in conn.scalars(stmt))
    return frozenset(years)


def _insert_batch(
    conn: Connection, kind: str, file_name: str, sha256: str, rows: int, imported_by: str | None
) -> int:
    """The ``import_batch`` row of an import (its trigger moves the data version); its id."""
    stmt = insert(BATCH).values(
        kind=kind,
        file_name=file_name,
        sha256=sha256,
        rows=rows,
        imported_at=now(),
        imported_by=imported_by,
    )
    return new_id(conn.execute(stmt))


def _audit_batch(
    conn: Connection,
    batch_id: int,
    kind: str,
    file_name: str,
    sha256: str,
    rows: int,
    imported_by: str | None,
) -> None:
    """The audit entry of an import, in its transaction."""
    after = {"kind": kind, "file": file_name, "sha256": sha256, "rows": rows}
    audit.append(conn, imported_by or "cli", "import", "batch", batch_id, after=after)


class Ledger(ReferenceData):
    """Repository over one database (SQLite file or any SQLAlchemy URL)."""

    @classmethod
    def open(cls, target: str | Path) -> Ledger:
        """A ``Path`` or plain string is a SQLite file; a string with ``://`` is a URL."""
        return cls(make_engine(target))

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- schema ---------------------------------------------------------------------------

    def _config(self, connection: Connection | None = None) -> Config:
        return alembic_config(self.engine.url.render_as_string(hide_password=False), connection)

    def init(self) -> None:
        """Upgrade the schema to the newest Alembic revision (a no-op when already there)."""
        with self.engine.begin() as conn:
            command.upgrade(self._config(conn), "head")

    def data_version(self) -> DataVersion:
        """The committed data version: it changes with every committed write a figure can
        depend on (migration 0010), and only then."""
        return read_version(self.engine)

    def is_initialised(self) -> bool:
        """True when the database is at the newest Alembic revision."""
        heads = set(ScriptDirectory.from_config(self._config()).get_heads())
        with self.engine.connect() as conn:
            current = set(MigrationContext.configure(conn).get_current_heads())
        return current == heads

    # -- entities -------------------------------------------------------------------------

    def upsert_entities(self, entities: Sequence[Entity]) -> None:
        """Insert new entities and replace the attributes of known ones."""
        with write_transaction(self.engine) as conn:
            write_entities(conn, entities)

    def metric_definition_rows(self) -> list[dict[str, str]]:
        """The company's own metrics as entered (:mod:`esgledger.store.metric_definitions`)."""
        return metric_definitions.metric_rows(self.engine)

    def measure_rows(self) -> list[dict[str, str]]:
        """The company's measure catalogue as entered (:mod:`esgledger.store.measures`)."""
        return measures.measure_rows(self.engine)

    def user_factors(self) -> pd.DataFrame:
        """The factors of the ledger's factor packs (:mod:`esgledger.store.user_factors`)."""
        return user_factors.user_factors(self.engine)

    def target_rows(self) -> list[dict[str, str]]:
        """The company's targets as entered (:func:`esgledger.store.targets.target_rows`)."""
        return targets.target_rows(self.engine)

    def organisation(self) -> Organisation:
        with self.engine.connect() as conn:
            rows = conn.execute(select(ENTITY)).mappings().all()
        return Organisation.of(
            Entity(
                entity_id=r["entity_id"],
                name=r["name"],
                parent_id=r["parent_id"],
                kind=EntityKind(r["kind"]),
                equity_share=float(r["equity_share"]),
                operational_control=bool(r["operational_control"]),
                financial_control=bool(r["financial_control"]),
                region=r["region"],
                name_zh=r["name_zh"],
                acquired_on=r["acquired_on"],
                divested_on=r["divested_on"],
            )
            for r in rows
        )

    # -- imports --------------------------------------------------------------------------

    def has_batch(self, sha256: str) -> int | None:
        """Id of an earlier batch with the same file hash, if any."""
        with self.engine.connect() as conn:
            found = conn.scalar(select(BATCH.c.batch_id).where(BATCH.c.sha256 == sha256))
        return None if found is None else int(found)

    def write_batch(
        self,
        kind: str,
        file_name: str,
        sha256: str,
        *,
        activity: pd.DataFrame | None = None,
        direct: pd.DataFrame | None = None,
        metrics: pd.DataFrame | None = None,
        entities: Sequence[Entity] = (),
        context: pd.DataFrame | None = None,
        imported_by: str | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> int:
        """Store one import in a single transaction and return its ``batch_id``.

        Frame columns are the table's columns without ``rid``/``batch_id``; a missing
        ``source_kind`` defaults to ``'file'`` and ``source_file`` to ``file_name``.
        ``progress`` receives the running count of record rows after each chunk.
        Any error rolls back the batch row and every row written with it.
        """
        if kind not in BATCH_KINDS:
            raise ValueError(f"batch kind {kind!r} is not one of {sorted(BATCH_KINDS)}")
        staged = batches.stage(  # before the transaction: on SQLite it holds the write lock
            self.engine.dialect,
            file_name,
            activity=activity,
            direct=direct,
            metrics=metrics,
            context=context,
        )
        with write_transaction(self.engine) as conn:
            return self.post_staged(
                conn, kind, file_name, sha256, staged, entities, imported_by, progress
            )

    @classmethod
    def post_batch(
        cls,
        conn: Connection,
        kind: str,
        file_name: str,
        sha256: str,
        *,
        activity: pd.DataFrame | None = None,
        direct: pd.DataFrame | None = None,
        metrics: pd.DataFrame | None = None,
        entities: Sequence[Entity] = (),
        context: pd.DataFrame | None = None,
        imported_by: str | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> int:
        """:meth:`write_batch` inside the caller's transaction (the workflow posts approved
        forms and adjustments together with their own state change). Records and context
        figures of a locked year are refused unless the batch is an ``adjustment``."""
        staged = batches.stage(
            conn.dialect,
            file_name,
            activity=activity,
            direct=direct,
            metrics=metrics,
            context=context,
        )
        return cls.post_staged(
            conn, kind, file_name, sha256, staged, entities, imported_by, progress
        )

    @classmethod
    def post_staged(
        cls,
        conn: Connection,
        kind: str,
        file_name: str,
        sha256: str,
        staged: batches.Staged,
        entities: Sequence[Entity] = (),
        imported_by: str | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> int:
        """Write a batch made ready by :func:`esgledger.store.batches.stage`."""
        if kind not in BATCH_KINDS:
            raise ValueError(f"batch kind {kind!r} is not one of {sorted(BATCH_KINDS)}")
        total = staged.rows + len(entities)
        locked = cls._locked(conn, staged.years)
        if locked and kind != "adjustment":
            raise PeriodLockedError(locked)
        batch_id = _insert_batch(conn, kind, file_name, sha256, total, imported_by)
        if entities:
            write_entities(conn, entities)
        batches.insert_rows(conn, staged, batch_id, progress)
        if staged.context is not None:
            replace_context(conn, staged.context)
        _audit_batch(conn, batch_id, kind, file_name, sha256, total, imported_by)
        return batch_id

    # -- period locks ---------------------------------------------------------------------

    @staticmethod
    def _locked(conn: Connection, years: Iterable[int]) -> list[int]:
        wanted = sorted(set(years))
        if not wanted:
            return []
        guard_years(conn, wanted)
        stmt = select(LOCK.c.year).where(LOCK.c.year.in_(wanted))
        return sorted(int(y) for y in conn.scalars(stmt))

    def locked_years(self) -> list[int]:
        with self.engine.connect() as conn:
            return sorted(int(y) for y in conn.scalars(select(LOCK.c.year)))

    def locked_at(self, year: int) -> datetime | None:
        """When the committee locked ``year`` (None: it is open)."""
        with self.engine.connect() as conn:
            found = conn.scalar(select(LOCK.c.locked_at).where(LOCK.c.year == year))
        return None if found is None else found

    def existing_record_ids(self, ids: Iterable[str], table: str = "activity") -> set[str]:
        """Which of ``ids`` are already stored in ``table`` ('activity' or 'direct')."""
        if table not in _RECORD_TABLES:
            raise ValueError(f"table {table!r} is not one of {sorted(_RECORD_TABLES)}")
        target = _RECORD_TABLES[table]
        return self._existing(target.c.record_id, ids)

    def existing_instrument_ids(self, ids: Iterable[str]) -> set[str]:
        return self._existing(ACTIVITY.c.instrument_id, ids)

    def _existing(self, column: ColumnElement[Any], ids: Iterable[str]) -> set[str]:
        found: set[str] = set()
        with self.engine.connect() as conn:
            if conn.dialect.name == "postgresql":  # one statement with the ids as one array
                wanted = bindparam("ids", list(dict.fromkeys(ids)), type_=ARRAY(column.type))
                return set(conn.scalars(select(column).where(column == any_(wanted))))
            for chunk in chunks(ids):
                found.update(conn.scalars(select(column).where(column.in_(chunk))))
        return found

    # -- reading records ------------------------------------------------------------------

    def activity_frame(self, years: Sequence[int] | None = None) -> pd.DataFrame:
        """Activity records (columns ``frames.ACTIVITY_FRAME``) ordered by ``rid``."""
        stmt = _ACTIVITY_BY_RID
        if years is not None:
            stmt = stmt.where(ACTIVITY.c.year.in_([int(y) for y in years]))
        return self._records(stmt, frames.ACTIVITY_FRAME)

    def activity_after(self, rid: int) -> pd.DataFrame:
        """The activity records whose ``rid`` is above ``rid`` (columns
        ``frames.ACTIVITY_FRAME``), ordered by ``rid``: what an import appended."""
        stmt = _ACTIVITY_BY_RID.where(ACTIVITY.c.rid > int(rid))
        return self._records(stmt, frames.ACTIVITY_FRAME)

    def activity_sums(
        self, entity_ids: Sequence[str] | None = None, activity_types: Sequence[str] | None = None
    ) -> pd.DataFrame:
        """``entity_id, year, month, activity_type, unit, quantity``: the stored activity summed
        per key and unit (``month`` empty for yearly records), of the entities and activity
        types given (None: all)."""
        names = ("entity_id", "year", "month", "activity_type", "unit")
        columns = [ACTIVITY.c[c] for c in names]
        stmt = select(*columns, func.sum(ACTIVITY.c.quantity).label("quantity"))
        if entity_ids is not None:
            stmt = stmt.where(ACTIVITY.c.entity_id.in_(list(entity_ids)))
        if activity_types is not None:
            stmt = stmt.where(ACTIVITY.c.activity_type.in_(list(activity_types)))
        stmt = stmt.group_by(*columns)
        with self.engine.connect() as conn:
            rows = conn.execute(stmt).all()
        frame = pd.DataFrame(rows, columns=[*names, "quantity"])
        return frame.astype({"month": "Int64"})

    def activity_upto(self, rid: int) -> tuple[int, int]:
        """(how many, the sum of their batch ids) of the activity records whose ``rid`` is at
        most ``rid``: a frame read earlier still holds them when both are its own."""
        stmt = select(func.count(), func.coalesce(func.sum(ACTIVITY.c.batch_id), 0)).where(
            ACTIVITY.c.rid <= int(rid)
        )
        with self.engine.connect() as conn:
            count, batches = conn.execute(stmt).one()
        return int(count), int(batches)

    def write_roster(
        self, file_name: str, sha256: str, roster: pd.DataFrame, imported_by: str | None = None
    ) -> int:
        """Store a validated roster snapshot (``ingest.roster``) as one batch, all or nothing."""
        rows = roster.rename(columns={"row": "source_row"}).assign(source_file=file_name)
        records = []
        for row in rows.to_dict("records"):
            record = {c: row.get(c) for c in ROSTER_COLUMNS}
            for column in ("hire_date", "leave_date"):
                value = record[column]
                record[column] = None if value is None or pd.isna(value) else value.date()
            for column in ("birth_year", "source_row"):
                value = record[column]
                record[column] = None if value is None or pd.isna(value) else int(value)
            for column, value in record.items():
                if isinstance(value, float) and pd.isna(value):
                    record[column] = None
            records.append(record)
        with write_transaction(self.engine) as conn:
            batch_id = _insert_batch(conn, "roster", file_name, sha256, len(records), imported_by)
            for start in range(0, len(records), CHUNK):
                chunk = records[start : start + CHUNK]
                conn.execute(insert(ROSTER), [{**r, "batch_id": batch_id} for r in chunk])
            _audit_batch(conn, batch_id, "roster", file_name, sha256, len(records), imported_by)
        return batch_id

    def roster_frame(self, before: datetime | None = None) -> pd.DataFrame:
        """The latest roster snapshot (imported before ``before`` when given: the roster a year
        locked then was computed from), typed as ``ingest.roster.validate_roster`` returns it;
        empty when there is none."""
        with self.engine.connect() as conn:
            stmt = select(func.max(BATCH.c.batch_id)).where(BATCH.c.kind == "roster")
            if before is not None:
                stmt = stmt.where(BATCH.c.imported_at <= before)
            latest = conn.scalar(stmt)
            rows = conn.execute(
                select(*(ROSTER.c[n] for n in ROSTER_COLUMNS))
                .where(ROSTER.c.batch_id == latest)
                .order_by(ROSTER.c.rid)
            ).all()
        frame = pd.DataFrame(rows, columns=ROSTER_COLUMNS)
        for column in ("hire_date", "leave_date"):
            frame[column] = pd.to_datetime(frame[column])
        frame["birth_year"] = frame["birth_year"].astype("Int64")
        frame["training_hours"] = frame["training_hours"].astype("float64")
        for column in (
            "parental_leave_taken",
            "parental_leave_returned",
            "disability",
            "ethnic_minority",
            "veteran",
        ):
            frame[column] = frame[column].astype(bool)
        return frame

    def metric_frame(self, years: Sequence[int] | None = None) -> pd.DataFrame:
        """The current reported metric figures (columns ``frames.METRIC_FRAME``), one per
        metric, entity, year and month, ordered by ``rid``; earlier versions are in
        :meth:`metric_history`."""
        stmt = (
            select(*(METRIC.c[n] for n in frames.METRIC_FRAME))
            .where(METRIC.c.superseded_by.is_(None))
            .order_by(METRIC.c.rid)
        )
        if years is not None:
            stmt = stmt.where(METRIC.c.year.in_([int(y) for y in years]))
        return self._records(stmt, frames.METRIC_FRAME)

    def metric_history(
        self, metric_id: str, entity_id: str, year: int, month: int | None = None
    ) -> pd.DataFrame:
        """Every version of one reported figure, oldest first: the columns of
        :meth:`metric_frame` and ``superseded_by`` (the batch that restated it; NA on the
        current one), ``imported_at``, ``imported_by`` and ``batch_kind``."""
        return records.metric_history(self.engine, metric_id, entity_id, year, month)

    def entered_records(self) -> frozenset[tuple[str, int]]:
        """(table, rid) of the records not imported from a file (forms, adjustments)."""
        with self.engine.connect() as conn:
            activity = conn.scalars(select(ACTIVITY.c.rid).where(ACTIVITY.c.source_kind != "file"))
            found = {("activity", int(r)) for r in activity}
            direct = conn.scalars(select(DIRECT.c.rid).where(DIRECT.c.source_kind != "file"))
            found.update(("direct", int(r)) for r in direct)
        return frozenset(found)

    def batch_summary(self) -> tuple[int, int | None]:
        """(number of import batches, the newest batch id or None)."""
        with self.engine.connect() as conn:
            count, newest = conn.execute(
                select(func.count(BATCH.c.batch_id), func.max(BATCH.c.batch_id))
            ).one()
        return int(count), None if newest is None else int(newest)

    def direct_frame(self, years: Sequence[int] | None = None) -> pd.DataFrame:
        """Direct emissions (columns ``frames.DIRECT_FRAME``) ordered by ``rid``."""
        stmt = select(*(DIRECT.c[n] for n in frames.DIRECT_FRAME)).order_by(DIRECT.c.rid)
        if years is not None:
            stmt = stmt.where(DIRECT.c.year.in_([int(y) for y in years]))
        return self._records(stmt, frames.DIRECT_FRAME)

    def records_by_rid(self, rids: Sequence[int]) -> pd.DataFrame:
        """Every column of the activity records with these ``rid``s, ordered by ``rid``."""
        cols = [ACTIVITY.c[n] for n in frames.ACTIVITY_FULL]
        parts = [
            self._frame(select(*cols).where(ACTIVITY.c.rid.in_(chunk)), frames.ACTIVITY_FULL)
            for chunk in chunks(int(r) for r in rids)
        ]
        if not parts:
            return frames.typed_frame(None, frames.ACTIVITY_FULL)
        out = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
        return out.sort_values("rid", ignore_index=True)

    @staticmethod
    def _record_filter(
        entity_id: str | None, year: int, activity_type: str, region: str | None
    ) -> list[ColumnElement[bool]]:
        """``None`` for entity or region means any entity or region."""
        conds = [ACTIVITY.c.year == int(year), ACTIVITY.c.activity_type == activity_type]
        if entity_id is not None:
            conds.append(ACTIVITY.c.entity_id == entity_id)
        if region is not None:
            conds.append(ACTIVITY.c.region == region)
        return conds

    def records_for(
        self,
        entity_id: str | None,
        year: int,
        activity_type: str,
        region: str | None,
        limit: int,
    ) -> pd.DataFrame:
        """The first ``limit`` matching activity records (all columns), by ``rid``."""
        stmt = (
            select(*(ACTIVITY.c[n] for n in frames.ACTIVITY_FULL))
            .where(*self._record_filter(entity_id, year, activity_type, region))
            .order_by(ACTIVITY.c.rid)
            .limit(int(limit))
        )
        return self._frame(stmt, frames.ACTIVITY_FULL)

    def count_records(
        self, entity_id: str | None, year: int, activity_type: str, region: str | None
    ) -> int:
        stmt = (
            select(func.count())
            .select_from(ACTIVITY)
            .where(*self._record_filter(entity_id, year, activity_type, region))
        )
        with self.engine.connect() as conn:
            return int(conn.scalar(stmt) or 0)

    def batches(self) -> pd.DataFrame:
        """Import batches ordered by id."""
        stmt = select(*(BATCH.c[n] for n in frames.BATCH_FRAME)).order_by(BATCH.c.batch_id)
        return self._frame(stmt, frames.BATCH_FRAME)

    def counts(self) -> dict[str, int]:
        """Rows per ledger table."""
        with self.engine.connect() as conn:
            return {
                name: int(conn.scalar(select(func.count()).select_from(table)) or 0)
                for name, table in TABLES.items()
            }
