"""Engines, Alembic configuration and small helpers shared by the repository modules."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from alembic.config import Config
from sqlalchemy import (
    URL,
    Connection,
    CursorResult,
    Engine,
    Select,
    Table,
    create_engine,
    event,
    select,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, IntegrityError, SQLAlchemyError

from esgledger.store.models import Base

StoreError = SQLAlchemyError
"""What a database refused (connection, constraint, statement): the store's error type."""
BadLedgerURL = ArgumentError
"""A database URL that names no known dialect or is malformed."""
ConstraintError = IntegrityError
"""A write the database refused for a key or constraint (a concurrent duplicate)."""
LedgerEngine = Engine
"""The handle of a ledger's database that the store's functions take (``Ledger.engine``)."""
LedgerConnection = Connection
"""A connection (inside a transaction) of a ledger's database."""

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
CHUNK = 10_000
SQLITE_BUSY_SECONDS = 30
ID_CHUNK = 500

TABLES = _T = Base.metadata.tables
ENTITY, BATCH, ACTIVITY, DIRECT = (
    _T["entity"],
    _T["import_batch"],
    _T["activity_record"],
    _T["direct_emission"],
)
CONTEXT, PARAMETER, OVERRIDE = _T["context_metric"], _T["parameter"], _T["factor_override"]
FUEL_PROPERTY = _T["fuel_property"]
CHANGE, SETTING = _T["structural_change"], _T["setting"]
METRIC, ROSTER = _T["metric_value"], _T["roster_employee"]


T = TypeVar("T")


def reading(bind: Engine | Connection, read: Callable[[Connection], T]) -> T:
    """``read`` on ``bind``: the caller's connection (what it reads is inside the caller's
    transaction), or a new connection of the engine, closed after."""
    if isinstance(bind, Connection):
        return read(bind)
    with bind.connect() as conn:
        return read(conn)


def entity_ids(bind: Engine | Connection) -> frozenset[str]:
    """Every entity id of the ledger (what "the whole group" is for an access check)."""
    stmt = select(ENTITY.c.entity_id)
    return reading(bind, lambda conn: frozenset(conn.scalars(stmt)))


def entity_names(
    bind: Engine | Connection, scope: frozenset[str] | None = None
) -> list[dict[str, Any]]:
    """``entity_id``, ``name``, ``name_zh`` of the entities in ``scope`` (all when None), by id:
    the scope is applied in the query."""
    stmt = select(ENTITY.c.entity_id, ENTITY.c.name, ENTITY.c.name_zh).order_by(ENTITY.c.entity_id)
    if scope is not None:
        stmt = stmt.where(ENTITY.c.entity_id.in_(sorted(scope)))
    return reading(bind, lambda conn: [dict(r) for r in conn.execute(stmt).mappings()])


def shown_url(url: str) -> str:
    """A database URL as printed: without its password (the text itself when malformed)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def make_engine(target: str | Path) -> Engine:
    """A ``Path`` or plain string is a SQLite file; a string with ``://`` is a URL. A new
    SQLite file is created readable and writable by its owner only (:func:`private_file`)."""
    if isinstance(target, str) and "://" in target:
        engine = create_engine(target)
        database = engine.url.database if engine.dialect.name == "sqlite" else None
        if database and database != ":memory:" and not database.startswith("file:"):
            private_file(Path(database).expanduser())
    else:
        path = Path(target).expanduser().resolve()
        path.parent.mkdir(parents=True, exist_ok=True)
        private_file(path)
        engine = create_engine(
            URL.create("sqlite", database=str(path)),
            connect_args={"timeout": SQLITE_BUSY_SECONDS, "check_same_thread": False},
        )
    if engine.dialect.name == "sqlite":
        _sqlite_pragmas(engine)
    return engine


def private_file(path: Path) -> None:
    """Create ``path`` empty with mode 0600 (owner only) unless it exists; an existing file
    keeps its mode (an administrator may have shared it on purpose).

    SQLite takes an empty file as an empty database, and creates the ``-wal``, ``-shm`` and
    ``-journal`` files of a database with the permission bits of the database file itself
    (its unix VFS, ``findCreateFileMode``, and it resets them past the umask), so creating
    the database file 0600 before SQLite first opens it makes all of them 0600. This is
    chosen over setting the process umask around the engine's creation: the umask is
    process-wide (a threaded server would create its other files under it meanwhile), and
    SQLite creates the ``-wal`` and ``-shm`` files later, at the first connection."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o600)
    except FileExistsError:
        return
    except OSError:
        return  # no such folder, no permission: SQLite reports it when it opens the file
    try:
        os.fchmod(fd, 0o600)  # exactly 0600, whatever the umask took away
    finally:
        os.close(fd)


_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


def alembic_config(url: str = "", connection: Connection | None = None) -> Config:
    """Alembic configuration built in code (no alembic.ini)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if url:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def _sqlite_pragmas(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN (see below)
        cursor = dbapi_connection.cursor()
        for pragma in ("foreign_keys=ON", "journal_mode=WAL", "synchronous=NORMAL"):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # transactional DDL and one-commit batches; writers take the write lock up front so
        # two of them queue on the busy timeout instead of failing on a stale read snapshot
        write = connection.get_execution_options().get(WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


WRITE_OPTION = "esgledger_write"


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A transaction that will write: on SQLite it begins IMMEDIATE (see ``_on_begin``); on
    other databases it is a plain transaction."""
    with engine.connect() as conn:
        conn.execution_options(**{WRITE_OPTION: True})
        with conn.begin():
            yield conn


def for_update(conn: Connection, stmt: Select[Any], table: Table) -> Select[Any]:
    """In a write transaction, lock the rows read (``SELECT ... FOR UPDATE`` on PostgreSQL;
    SQLite's ``BEGIN IMMEDIATE`` already serialises writers), so that two edits of the same
    request queue instead of both reading the old version."""
    if conn.get_execution_options().get(WRITE_OPTION):
        return stmt.with_for_update(of=table)
    return stmt


def now() -> datetime:
    """Naive UTC timestamp (portable DATETIME column)."""
    return datetime.now(UTC).replace(tzinfo=None)


def new_id(result: CursorResult[Any]) -> int:
    key = result.inserted_primary_key
    if key is None:  # pragma: no cover - only for multi-row inserts
        raise RuntimeError("insert returned no primary key")
    return int(key[0])


def chunks(values: Iterable[Any], size: int = ID_CHUNK) -> Iterator[list[Any]]:
    items = list(dict.fromkeys(values))
    for start in range(0, len(items), size):
        yield items[start : start + size]
