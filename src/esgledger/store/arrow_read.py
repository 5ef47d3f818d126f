"""Bulk reads of the ledger's record tables from PostgreSQL as Arrow (ADBC), typed like the
pandas reader.

The inventory reads every activity, direct and metric record of a data version: hundreds of
thousands of rows. Read through the DB-API driver, each row becomes Python objects and each
text column is converted again into pandas' Arrow-backed strings, all holding the interpreter
lock: a server answering requests in other threads stalls 100-200 ms at a time while a build
reads (measured in BENCHMARKS.md). The ADBC PostgreSQL driver (Apache Arrow's database
connectivity) reads the rows in C (binary COPY) straight into Arrow columns, which pandas
takes without converting strings again. The result equals
:func:`esgledger.store.frames.typed_frame` of the pandas reader (``tests/store/
test_arrow_read.py`` compares them).

SQLite ledgers keep the pandas reader: the ADBC SQLite driver carries its own copy of SQLite,
and two copies of SQLite in one process release each other's POSIX file locks when one closes
the database (sqlite.org, "How To Corrupt An SQLite Database File", 2.2.1), which would let
another process's import or checkpoint change pages a server thread is reading.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import adbc_driver_postgresql.dbapi as adbc_postgresql
import pandas as pd
import pyarrow as pa
from sqlalchemy import Engine, Select

from esgledger.store import frames

PLAIN = frozenset({"int64", "Int64", "float64", "str"})
"""The dtypes (``typed_frame`` specs) Arrow's conversion gives as the pandas reader does."""


def readable(engine: Engine, spec: Mapping[str, str]) -> bool:
    """Whether :func:`read_records` reads this spec from this database: plain columns (whole
    numbers, numbers, text) from PostgreSQL."""
    return engine.dialect.name == "postgresql" and all(d in PLAIN for d in spec.values())


def read_records(engine: Engine, stmt: Select[Any], spec: Mapping[str, str]) -> pd.DataFrame:
    """The rows of ``stmt`` (selecting ``spec``'s columns) typed by ``spec``. Only for what
    :func:`readable` accepts."""
    table = _postgresql(engine, stmt)
    frame = table.to_pandas() if table.num_rows else None
    return frames.typed_frame(frame, spec)


def _sql(engine: Engine, stmt: Select[Any]) -> str:
    """``stmt`` as SQL text for the engine's dialect, its values written in (the reads take
    only numbers and identifiers the store made: years and record ids)."""
    return str(stmt.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True}))


def _postgresql(engine: Engine, stmt: Select[Any]) -> pa.Table:
    uri = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with adbc_postgresql.connect(uri) as conn, conn.cursor() as cur:
        cur.execute(_sql(engine, stmt))
        return cur.fetch_arrow_table()
