"""Backups of a ledger as one SQLite file, and restores of such a file into an empty ledger.

The backup format is the same for every source: an SQLite database with the ledger's tables and
their rows, ``alembic_version``, and ``backup_meta`` (key, value) holding ``format_version``,
``created_at``, ``source_dialect``, ``alembic_revision`` and ``tables``: a JSON object giving
for each table its row count and the SHA-256 of its rows (``table_digest``: canonical JSON, one
line per row, in primary-key order), so that a restore can prove it put back what was saved.

- An SQLite ledger is copied page by page with SQLite's online backup API, in one step and so
  from one read snapshot, while a server may keep writing (WAL mode); the copy is then switched
  to a rollback journal (one self-contained file) and checked (``PRAGMA integrity_check``).
- Any other database (PostgreSQL) gets a logical dump: every table of ``Base.metadata`` (tables
  added by later migrations included, nothing is listed by hand), read in primary-key order
  inside one REPEATABLE READ, read-only transaction, i.e. one consistent snapshot.

A backup file is created with mode 0600 (owner only), like a new SQLite ledger
(``engine.private_file``), so is a new SQLite file a backup is restored into.

``restore`` refuses a target holding rows unless ``force`` (which drops the ledger's tables),
creates the schema with the migrations up to the backup's revision, inserts every table in
foreign-key order in one transaction, moves PostgreSQL sequences past the restored keys and
compares every table's digest with the backup's before it commits.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from alembic import command
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import (
    URL,
    Boolean,
    Column,
    Connection,
    Engine,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    delete,
    func,
    insert,
    inspect,
    select,
    text,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from esgledger.store.engine import alembic_config, make_engine, private_file
from esgledger.store.ledger import Ledger
from esgledger.store.models import Base

FORMAT_VERSION = 1
META_TABLE = "backup_meta"
VERSION_TABLE = "alembic_version"
CHUNK = 10_000
DATA_VERSION = "data_version"  # the database's own bookkeeping (store/version.py), never copied
_SKIP = frozenset({META_TABLE, VERSION_TABLE, DATA_VERSION})


class BackupError(Exception):
    """A backup or restore that cannot be made or would not be faithful."""


@dataclass(frozen=True)
class TableDigest:
    """Row count and SHA-256 of a table's rows (see ``table_digest``)."""

    rows: int
    sha256: str


@dataclass(frozen=True)
class BackupInfo:
    """What a backup file holds (``backup_meta``)."""

    path: Path
    format_version: int
    created_at: str
    source_dialect: str
    revision: str
    tables: dict[str, TableDigest] = field(default_factory=dict)

    @property
    def rows(self) -> dict[str, int]:
        return {name: digest.rows for name, digest in self.tables.items()}


@dataclass(frozen=True)
class RestoreInfo:
    """What a restore wrote: the target (password hidden), the revision, the tables' rows and
    whether an existing schema was dropped first."""

    target: str
    revision: str
    tables: dict[str, TableDigest] = field(default_factory=dict)
    replaced: bool = False

    @property
    def rows(self) -> dict[str, int]:
        return {name: digest.rows for name, digest in self.tables.items()}


# -- canonical rows -----------------------------------------------------------------------------


def _canonical(value: Any, column_type: Any) -> Any:
    """A JSON value that is equal for equal values whatever database they were read from."""
    out: Any
    if value is None or isinstance(value, str):
        out = value
    elif isinstance(value, bool) or isinstance(column_type, Boolean):
        out = bool(value)
    elif isinstance(column_type, Float) and isinstance(value, int | float | Decimal):
        out = float(value)
    elif isinstance(value, int | float):
        out = value
    elif isinstance(value, bytes | bytearray | memoryview):
        out = {"bytes": base64.b64encode(bytes(value)).decode("ascii")}
    elif isinstance(value, datetime | date | time):
        out = value.isoformat()
    elif isinstance(value, Decimal | timedelta):
        out = str(value)
    else:
        raise BackupError(f"cannot canonicalise a {type(value).__name__} value")
    return out


def _ordered(conn: Connection, table: Table) -> Any:
    """``SELECT`` of every column (by name) in primary-key order, text compared by code point
    on every dialect (PostgreSQL: collation "C"; SQLite compares bytes already)."""
    columns = sorted(table.columns, key=lambda c: c.name)
    keys = list(table.primary_key.columns) or columns
    order = [
        c.collate("C")
        if conn.dialect.name == "postgresql" and isinstance(c.type, String | Text)
        else c
        for c in keys
    ]
    return select(*columns).order_by(*order)


class _Digest:
    """Running SHA-256 over a table's header (its column names) and canonical rows."""

    def __init__(self, table: Table) -> None:
        self.columns = sorted(table.columns, key=lambda c: c.name)
        self.sha = hashlib.sha256()
        self.rows = 0
        header = json.dumps([c.name for c in self.columns], separators=(",", ":"))
        self.sha.update(header.encode("utf-8") + b"\n")

    def add(self, rows: Iterable[Sequence[Any]]) -> None:
        for row in rows:
            line = json.dumps(
                [_canonical(v, c.type) for v, c in zip(row, self.columns, strict=True)],
                separators=(",", ":"),
                ensure_ascii=False,
            )
            self.sha.update(line.encode("utf-8") + b"\n")
            self.rows += 1

    def result(self) -> TableDigest:
        return TableDigest(self.rows, self.sha.hexdigest())


def _chunks(conn: Connection, table: Table) -> Iterator[Sequence[Sequence[Any]]]:
    result = conn.execute(_ordered(conn, table).execution_options(yield_per=CHUNK))
    yield from result.partitions()


def table_digest(conn: Connection, table: Table) -> TableDigest:
    """Row count and SHA-256 of ``table``: its sorted column names, then one line of canonical
    JSON per row in primary-key order (dates and times in ISO format, bytes in base64)."""
    digest = _Digest(table)
    for part in _chunks(conn, table):
        digest.add(part)
    return digest.result()


# -- helpers ----------------------------------------------------------------------------------


def _shown(url: URL) -> str:
    if url.get_backend_name() == "sqlite":
        return str(url.database or ":memory:")
    return url.render_as_string(hide_password=True)


def _sqlite_file(url: URL) -> Path | None:
    """The file of an SQLite URL, or None for any other database (or an in-memory one)."""
    database = url.database
    if url.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return None
    if database.startswith("file:"):
        return None
    return Path(database)


def _revision(conn: Connection) -> str | None:
    heads = MigrationContext.configure(conn).get_current_heads()
    if len(heads) > 1:
        raise BackupError(f"the ledger has several Alembic heads: {', '.join(heads)}")
    return heads[0] if heads else None


def _known_revision(revision: str) -> None:
    scripts = ScriptDirectory.from_config(alembic_config())
    try:
        found = scripts.get_revision(revision)
    except CommandError as exc:
        found = None
        cause: Exception | None = exc
    else:
        cause = None
    if found is None:
        raise BackupError(
            f"the backup is at schema revision {revision}, which this esgledger does not know "
            f"(it knows {', '.join(sorted(s.revision for s in scripts.walk_revisions()))}); "
            "restore it with the esgledger version that wrote it"
        ) from cause


def _head() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - the package always has migrations
        raise BackupError("no migrations found")
    return head


def _integrity(conn: sqlite3.Connection, path: Path) -> None:
    found = [str(r[0]) for r in conn.execute("PRAGMA integrity_check")]
    if found != ["ok"]:
        raise BackupError(f"{path}: integrity check failed: {'; '.join(found[:5])}")


def _write_meta(
    conn: Connection, dialect: str, revision: str, digests: Mapping[str, TableDigest]
) -> str:
    created_at = datetime.now(UTC).isoformat(timespec="seconds")
    meta = Table(
        META_TABLE,
        MetaData(),
        Column("key", Text, primary_key=True),
        Column("value", Text, nullable=False),
    )
    meta.drop(conn, checkfirst=True)  # a backup of a ledger restored from... a backup file
    meta.create(conn)
    tables = {name: {"rows": d.rows, "sha256": d.sha256} for name, d in digests.items()}
    values = {
        "format_version": str(FORMAT_VERSION),
        "created_at": created_at,
        "source_dialect": dialect,
        "alembic_revision": revision,
        "tables": json.dumps(tables, sort_keys=True, indent=1),
    }
    conn.execute(insert(meta), [{"key": k, "value": v} for k, v in values.items()])
    return created_at


def _sqlite_engine(path: Path) -> Engine:
    return create_engine(URL.create("sqlite", database=str(path)))


def _read_only(path: Path) -> sqlite3.Connection:
    """A read-only connection to a backup file (never creates it)."""
    return sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)


def _read_only_engine(path: Path) -> Engine:
    return create_engine("sqlite://", creator=lambda: _read_only(path))


@contextmanager
def _new_file(destination: Path) -> Iterator[Path]:
    """A temporary file beside ``destination``, renamed to it when the block succeeds. It is
    created empty with mode 0600 before SQLite opens it (a backup holds the whole ledger: its
    owner only may read it; SQLite gives its journal the same mode), and keeps the mode when
    renamed."""
    destination = destination.expanduser()
    if destination.exists():
        raise BackupError(f"{destination} exists: a backup never overwrites a file")
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_name(f".{destination.name}.{os.getpid()}.partial")
    partial.unlink(missing_ok=True)
    private_file(partial)
    try:
        yield partial
        partial.rename(destination)
    finally:
        for leftover in (partial, Path(f"{partial}-journal"), Path(f"{partial}-wal")):
            leftover.unlink(missing_ok=True)


# -- backup ---------------------------------------------------------------------------------------


def backup(source: Ledger | str | Path, destination: Path) -> BackupInfo:
    """Write a backup of ``source`` (a ``Ledger``, an SQLite file or a database URL) to the new
    file ``destination`` and return what it holds."""
    if isinstance(source, Ledger):
        url = source.engine.url
    elif isinstance(source, str) and "://" in source:
        url = make_url(source)
    else:
        url = URL.create("sqlite", database=str(Path(source).expanduser()))
    path = _sqlite_file(url)
    with _new_file(destination) as partial:
        if path is not None:
            _backup_sqlite(path, partial)
        else:
            _backup_logical(url, partial)
        info = read_info(partial)
    return BackupInfo(
        destination,
        info.format_version,
        info.created_at,
        info.source_dialect,
        info.revision,
        info.tables,
    )


def _backup_sqlite(path: Path, partial: Path) -> None:
    if not path.is_file():
        raise BackupError(f"{path}: no ledger here")
    # a plain connection (a read-only one cannot always open a WAL database); it only reads
    try:
        with (
            closing(sqlite3.connect(path, timeout=30)) as src,
            closing(sqlite3.connect(partial)) as dst,
        ):
            src.backup(dst)  # pages=-1: the whole database in one step, one read snapshot
            dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            _integrity(dst, path)
    except sqlite3.Error as exc:
        raise BackupError(f"{path}: cannot be copied ({exc})") from exc
    engine = _sqlite_engine(partial)
    try:
        with engine.begin() as conn:
            revision = _revision(conn)
            if revision is None:
                raise BackupError(f"{path}: not an esgledger ledger (no schema revision)")
            reflected = MetaData()
            reflected.reflect(conn)
            digests = {
                t.name: table_digest(conn, t)
                for t in reflected.sorted_tables
                if t.name not in _SKIP and not t.name.startswith("sqlite_")
            }
            _write_meta(conn, "sqlite", revision, digests)
    finally:
        engine.dispose()


def _backup_logical(url: URL, partial: Path) -> None:
    source = make_engine(url.render_as_string(hide_password=False))
    target = _sqlite_engine(partial)
    try:
        with source.connect() as conn, target.begin() as out:
            if source.dialect.name == "postgresql":
                conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
            with conn.begin():
                revision = _revision(conn)
                head = _head()
                if revision != head:
                    raise BackupError(
                        f"{_shown(url)} is at schema revision {revision or 'none'}, not "
                        f"{head}: run `esgledger init` on it first"
                    )
                Base.metadata.create_all(out)
                version = Table(
                    VERSION_TABLE,
                    MetaData(),
                    Column("version_num", String(32), primary_key=True),
                )
                version.create(out)
                out.execute(insert(version).values(version_num=revision))
                digests: dict[str, TableDigest] = {}
                for table in Base.metadata.sorted_tables:
                    digest = _Digest(table)
                    names = [c.name for c in digest.columns]
                    for part in _chunks(conn, table):
                        digest.add(part)
                        out.execute(insert(table), [dict(zip(names, r, strict=True)) for r in part])
                    digests[table.name] = digest.result()
            _write_meta(out, source.dialect.name, revision, digests)
        with closing(sqlite3.connect(partial)) as check:
            _integrity(check, partial)
    finally:
        source.dispose()
        target.dispose()


# -- reading a backup -----------------------------------------------------------------------------


def read_info(path: Path) -> BackupInfo:
    """The ``backup_meta`` of a backup file (not verified: see ``verify``)."""
    if not Path(path).is_file():
        raise BackupError(f"{path}: no such backup file")
    try:
        with closing(_read_only(path)) as conn:
            values = dict(conn.execute(f"SELECT key, value FROM {META_TABLE}").fetchall())
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path}: not an esgledger backup ({exc})") from exc
    try:
        version = int(values["format_version"])
        if version != FORMAT_VERSION:
            raise BackupError(
                f"{path}: backup format {version}; this esgledger reads format {FORMAT_VERSION}"
            )
        tables = {
            name: TableDigest(int(d["rows"]), str(d["sha256"]))
            for name, d in json.loads(values["tables"]).items()
        }
        return BackupInfo(
            Path(path),
            version,
            str(values["created_at"]),
            str(values["source_dialect"]),
            str(values["alembic_revision"]),
            tables,
        )
    except (KeyError, ValueError, TypeError, AttributeError) as exc:
        raise BackupError(f"{path}: damaged backup_meta ({exc!r})") from exc


def _compare(
    expected: Mapping[str, TableDigest], found: Mapping[str, TableDigest], where: str
) -> None:
    problems = []
    for name, want in expected.items():
        got = found.get(name)
        if got is None:
            problems.append(f"{name}: missing")
        elif got.rows != want.rows:
            problems.append(f"{name}: {got.rows} rows, the backup says {want.rows}")
        elif got.sha256 != want.sha256:
            problems.append(f"{name}: rows differ from the backup (SHA-256 {got.sha256[:12]}…)")
    if problems:
        raise BackupError(f"{where}: verification failed: " + "; ".join(problems))


def verify(path: Path) -> BackupInfo:
    """Check a backup file: SQLite integrity, then every table's rows against its digest."""
    info = read_info(path)
    with closing(_read_only(path)) as conn:
        _integrity(conn, Path(path))
    engine = _read_only_engine(path)
    try:
        with engine.connect() as conn:
            reflected = MetaData()
            reflected.reflect(conn, only=[n for n in info.tables if _has(conn, n)])
            found = {name: table_digest(conn, t) for name, t in reflected.tables.items()}
    finally:
        engine.dispose()
    _compare(info.tables, found, str(path))
    return info


def _has(conn: Connection, name: str) -> bool:
    return inspect(conn).has_table(name)


# -- restore --------------------------------------------------------------------------------------


def restore(source: Path, target: Ledger | str | Path, *, force: bool = False) -> RestoreInfo:
    """Restore the backup file ``source`` into ``target`` (a ``Ledger``, an SQLite file or a
    database URL), which must hold no rows unless ``force``; all in one transaction."""
    info = verify(source)
    _known_revision(info.revision)
    owned = not isinstance(target, Ledger)
    engine = make_engine(target) if not isinstance(target, Ledger) else target.engine
    shown = _shown(engine.url)
    source_engine = _read_only_engine(source)
    try:
        with engine.connect() as conn, conn.begin():
            replaced = _clear(conn, shown, force=force, also=info.tables)
            command.upgrade(
                alembic_config(engine.url.render_as_string(hide_password=False), conn),
                info.revision,
            )
            found = _copy_rows(source_engine, conn, info, shown)
            _reset_sequences(conn, found.values())
            digests = {name: table_digest(conn, t) for name, t in found.items()}
            _compare(info.tables, digests, f"restore into {shown}")
            if _revision(conn) != info.revision:  # pragma: no cover - alembic did it
                raise BackupError(f"{shown}: not at revision {info.revision} after restore")
    except (SQLAlchemyError, CommandError) as exc:
        raise BackupError(f"restore into {shown} failed: {exc}") from exc
    finally:
        source_engine.dispose()
        if owned:
            engine.dispose()
    return RestoreInfo(shown, info.revision, dict(sorted(digests.items())), replaced)


def _clear(conn: Connection, shown: str, *, force: bool, also: Iterable[str]) -> bool:
    """Drop the ledger's tables of the target when it holds none of their rows, or when
    ``force``; refuse otherwise. True when something was dropped."""
    ours = set(Base.metadata.tables) | set(also) | {VERSION_TABLE, DATA_VERSION}
    reflected = MetaData()
    reflected.reflect(conn, only=lambda name, _meta: name in ours)
    if not reflected.tables:
        return False
    holding = {
        name: n
        for name, table in reflected.tables.items()
        if name not in (VERSION_TABLE, DATA_VERSION)
        and (n := int(conn.scalar(select(func.count()).select_from(table)) or 0))
    }
    if holding and not force:
        listed = ", ".join(f"{name} ({n} rows)" for name, n in sorted(holding.items()))
        raise BackupError(
            f"{shown} is not empty ({listed}): restore into an empty database, or use --force "
            "to drop its ledger tables first"
        )
    reflected.drop_all(conn)
    return True


def _copy_rows(source: Engine, conn: Connection, info: BackupInfo, shown: str) -> dict[str, Table]:
    """Insert the backup's rows into the freshly migrated target, parents before children;
    returns the target's tables by name."""
    target = MetaData()
    target.reflect(conn)
    missing = sorted(set(info.tables) - set(target.tables))
    if missing:
        raise BackupError(
            f"{shown}: tables {', '.join(missing)} of the backup are not in the schema at "
            f"revision {info.revision}"
        )
    order = [t for t in target.sorted_tables if t.name in info.tables]
    for table in reversed(order):  # rows a migration may have seeded
        conn.execute(delete(table))
    with source.connect() as src:
        saved = MetaData()
        saved.reflect(src, only=list(info.tables))
        for table in order:
            kept = saved.tables[table.name]
            extra = sorted(set(kept.columns.keys()) - set(table.columns.keys()))
            if extra:
                raise BackupError(
                    f"{shown}: columns {', '.join(extra)} of {table.name} are not in the schema"
                )
            names = [c.name for c in sorted(kept.columns, key=lambda c: c.name)]
            for part in _chunks(src, kept):
                conn.execute(insert(table), [dict(zip(names, r, strict=True)) for r in part])
    return {t.name: t for t in order}


def _reset_sequences(conn: Connection, tables: Iterable[Table]) -> None:
    """PostgreSQL: move each serial/identity key's sequence past the largest restored key."""
    if conn.dialect.name != "postgresql":
        return
    quote = conn.dialect.identifier_preparer.quote
    for table in tables:
        for column in table.primary_key.columns:
            if not isinstance(column.type, Integer):
                continue
            sequence = conn.scalar(
                text("SELECT pg_get_serial_sequence(:t, :c)"),
                {"t": quote(table.name), "c": column.name},
            )
            if sequence is None:
                continue
            top = conn.scalar(select(func.max(column)))
            conn.execute(
                text("SELECT setval(CAST(:s AS regclass), :v, false)"),
                {"s": sequence, "v": int(top or 0) + 1},
            )
