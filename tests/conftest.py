"""Shared fixtures: the demo ledger, built once per test session; PostgreSQL databases."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from esgledger.demo import build_demo
from esgledger.store.ledger import Ledger


@pytest.fixture(scope="session", autouse=True)
def audit_key_file(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One audit key for the session (``ESGLEDGER_AUDIT_KEY_FILE``, created on first use): the
    tests copy, back up and restore ledgers to new paths and use PostgreSQL databases, whose
    entries verify only with the key that wrote them. Tests of the default location (a key
    beside an SQLite ledger) unset it."""
    path = tmp_path_factory.mktemp("audit") / "audit-key"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ESGLEDGER_AUDIT_KEY_FILE", str(path))
        patch.delenv("ESGLEDGER_AUDIT_CHECKPOINTS", raising=False)
        yield path


@pytest.fixture(scope="session")
def demo_ledger_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    ledger, reports = build_demo(path)
    assert all(r.ok for r in reports), [str(d) for r in reports for d in r.diagnostics]
    ledger.close()
    return path


@pytest.fixture
def demo_ledger(demo_ledger_path: Path) -> Iterator[Ledger]:
    ledger = Ledger.open(demo_ledger_path)
    yield ledger
    ledger.close()


# -- PostgreSQL -------------------------------------------------------------------------------
# ESGLEDGER_TEST_PG_URL names a database of a PostgreSQL server where the tests may create
# databases (scripts/ci_postgres.sh starts a throwaway cluster and sets it). Each test gets
# databases of its own, so the tests run in parallel (pytest -n).

PG_URL_VARIABLE = "ESGLEDGER_TEST_PG_URL"


@pytest.fixture
def new_pg_database() -> Iterator[Callable[[], str]]:
    """A function returning the URL of a new, empty PostgreSQL database on each call; they are
    dropped after the test. Skips without ESGLEDGER_TEST_PG_URL."""
    base = os.environ.get(PG_URL_VARIABLE, "")
    if not base:
        pytest.skip(f"{PG_URL_VARIABLE} is not set (see scripts/ci_postgres.sh)")
    url = make_url(base)
    # connected to the given URL's database, never to template1 (CREATE DATABASE copies it)
    admin = create_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    created: list[str] = []

    def create() -> str:
        name = f"esgl_test_{uuid.uuid4().hex}"
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        created.append(name)
        return url.set(database=name).render_as_string(hide_password=False)

    try:
        yield create
    finally:
        with admin.connect() as conn:
            for name in created:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture
def pg_url(new_pg_database: Callable[[], str]) -> str:
    """URL of a new, empty PostgreSQL database, dropped after the test; skips without
    ESGLEDGER_TEST_PG_URL."""
    return new_pg_database()


@pytest.fixture(params=["sqlite", "postgresql"] if os.environ.get(PG_URL_VARIABLE) else ["sqlite"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A ledger location for `Ledger.open` and `--ledger`: a new SQLite file's path, and when
    ESGLEDGER_TEST_PG_URL is set, a new PostgreSQL database's URL (see `pg_url`)."""
    if request.param == "sqlite":
        return str(tmp_path / "ledger.db")
    return str(request.getfixturevalue("pg_url"))
