"""An import batch's rows, made ready before its write transaction and written inside it.

A batch is written in one transaction (all or nothing). On SQLite that transaction holds the
database's one write lock, so every other writer (a data owner saving a value, a comment)
waits for it: what can be done before it begins is done before. :func:`stage` turns the
frames into the values of each column (and, on SQLite, into the rows the driver takes, with
each column type's conversion applied), and :func:`insert_rows` writes them in chunks; on
SQLite straight through the driver's ``executemany``, which is what remains under the lock,
and on PostgreSQL (psycopg) by ``COPY``, about as fast as the server can take rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Dialect, Table, insert
from sqlalchemy.exc import DBAPIError

from esgledger.store import frames, records
from esgledger.store.engine import ACTIVITY, CHUNK, CONTEXT, DIRECT, METRIC

__all__ = ["Staged", "insert_rows", "stage"]


@dataclass(frozen=True)
class Staged:
    """The rows of one batch, ready to write."""

    columns: list[tuple[Table, dict[str, list[Any]]]]
    """Per record table, the values of each column (``batch_id`` not yet known)."""
    driver_rows: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)
    """On SQLite, per table name, the rows as the driver takes them (columns in the order of
    :attr:`columns`, each value converted by its column type)."""
    context: dict[str, list[Any]] | None = None
    years: frozenset[int] = frozenset()
    """The years of the records and context figures (a locked one refuses the batch)."""
    rows: int = 0
    """Record rows and context figures."""


def stage(
    dialect: Dialect,
    file_name: str,
    *,
    activity: pd.DataFrame | None = None,
    direct: pd.DataFrame | None = None,
    metrics: pd.DataFrame | None = None,
    context: pd.DataFrame | None = None,
) -> Staged:
    """The batch's frames as :class:`Staged` rows (a missing ``source_kind`` is ``'file'``,
    a missing ``source_file`` ``file_name``)."""
    defaults = {"source_kind": "file", "source_file": file_name}
    given = ((ACTIVITY, activity), (DIRECT, direct), (METRIC, metrics))
    columns = [(t, frames.bind_columns(f, t, defaults)) for t, f in given if f is not None]
    years = {int(y) for t, f in given if f is not None for y in pd.unique(f["year"])}
    context_columns = None
    if context is not None and len(context):
        years |= {int(y) for y in pd.unique(context["year"])}  # the year's intensities
        context_columns = frames.bind_columns(context, CONTEXT, {})
    driver_rows = {}
    if dialect.name == "sqlite":
        driver_rows = {t.name: _driver_rows(dialect, t, cols) for t, cols in columns}
    count = sum(len(next(iter(c.values()), [])) for _, c in columns)
    count += 0 if context is None else len(context)
    return Staged(columns, driver_rows, context_columns, frozenset(years), count)


def _driver_rows(
    dialect: Dialect, table: Table, cols: dict[str, list[Any]]
) -> list[tuple[Any, ...]]:
    converted = []
    for name, values in cols.items():
        process = table.c[name].type.bind_processor(dialect)
        converted.append(values if process is None else [process(v) for v in values])
    return list(zip(*converted, strict=True))


def insert_rows(
    conn: Connection,
    staged: Staged,
    batch_id: int,
    progress: Callable[[int], None] | None = None,
) -> None:
    """Write the staged record rows of ``batch_id`` (a metric batch first marks the values it
    restates as superseded); ``progress`` gets the running count after each chunk."""
    done = 0
    for table, cols in staged.columns:
        n = len(next(iter(cols.values()), []))
        if table is METRIC:
            records.supersede_metric_values(conn, cols, batch_id)
        ready = staged.driver_rows.get(table.name)
        chunks: Iterable[Sequence[Any]]
        write: Callable[[Sequence[Any]], object]
        if ready is not None:  # SQLite: the driver's executemany, no per-row binding
            sql = _insert_sql(conn.dialect, table, list(cols), batch_id)
            chunks = (ready[i : i + CHUNK] for i in range(0, n, CHUNK))
            write = partial(conn.exec_driver_sql, sql)
        elif _copies(conn):  # PostgreSQL with psycopg: COPY, no statement per row
            values = [*cols.values(), [batch_id] * n]
            chunks = (
                list(zip(*(v[i : i + CHUNK] for v in values), strict=True))
                for i in range(0, n, CHUNK)
            )
            write = partial(_copy_rows, conn, table, [*cols, "batch_id"])
        else:
            chunks = frames.chunked_rows({**cols, "batch_id": [batch_id] * n}, CHUNK)
            write = partial(conn.execute, insert(table))
        for chunk in chunks:
            write(chunk)
            done += len(chunk)
            if progress is not None:
                progress(done)


def _copies(conn: Connection) -> bool:
    """Whether rows are written with PostgreSQL's ``COPY`` (the psycopg driver)."""
    return conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg"


def _copy_rows(conn: Connection, table: Table, names: list[str], rows: Sequence[Any]) -> None:
    """``rows`` (tuples in the order of ``names``) into ``table`` by one ``COPY`` on the
    connection's own transaction; psycopg converts each value by its Python type. A refusal
    is raised as SQLAlchemy raises the driver's errors (a duplicate key: ``IntegrityError``)."""
    quote = conn.dialect.identifier_preparer.quote
    sql = f"COPY {quote(table.name)} ({', '.join(map(quote, names))}) FROM STDIN"
    driver = conn.connection.driver_connection
    assert driver is not None  # an open connection
    dbapi = conn.dialect.loaded_dbapi
    try:
        with driver.cursor() as cursor, cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)
    except dbapi.Error as error:
        raise DBAPIError.instance(sql, None, error, dbapi.Error, dialect=conn.dialect) from error


def _insert_sql(dialect: Dialect, table: Table, names: list[str], batch_id: int) -> str:
    """``INSERT`` of one row of ``names`` with ``?`` placeholders (SQLite's parameter style)
    and the batch's id as a literal (an integer the ledger made)."""
    quote = dialect.identifier_preparer.quote
    listed = ", ".join([*map(quote, names), "batch_id"])
    marks = ", ".join(["?"] * len(names) + [str(int(batch_id))])
    return f"INSERT INTO {quote(table.name)} ({listed}) VALUES ({marks})"
