"""Web fixtures: a fresh copy of the demo ledger with one user per role, and signed-in
clients. The users are created once per session (Argon2 is slow on purpose); each test gets
its own copy: of the SQLite file, and, when ``ESGLEDGER_TEST_PG_URL`` is set, also of a
PostgreSQL database (restored once per session from a backup of the SQLite template, then
cloned per test with ``CREATE DATABASE ... TEMPLATE``), so the API suites run on both."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, sync_playwright
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from esgledger.auth import accounts
from esgledger.store.backup import backup, restore
from esgledger.store.ledger import Ledger
from esgledger.web.app import create_app

#: username -> (role, granted entities)
USERS: dict[str, tuple[str, list[str]]] = {
    "admin": ("admin", []),
    "reviewer": ("reviewer", ["G00"]),
    "owner": ("owner", ["S01"]),
    "owner2": ("owner", ["S02"]),
    "approver": ("approver", ["G00"]),
    "verifier": ("verifier", ["G00"]),
    "viewer": ("viewer", ["S02"]),
}


def password(username: str) -> str:
    return f"{username}-password-1"


@pytest.fixture(scope="session")
def web_template(demo_ledger_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("web") / "web.db"
    shutil.copy(demo_ledger_path, path)
    with Ledger.open(path) as ledger:
        for username, (role, entities) in USERS.items():
            accounts.create_user(
                ledger.engine, "test", username, password(username), role, entities=entities
            )
    return path


PG_BASE = os.environ.get("ESGLEDGER_TEST_PG_URL", "")
BACKENDS = ["sqlite", "postgresql"] if PG_BASE else ["sqlite"]


def _admin_engine() -> Any:
    return create_engine(make_url(PG_BASE), isolation_level="AUTOCOMMIT", poolclass=NullPool)


@pytest.fixture(scope="session")
def pg_web_template(web_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Name of a PostgreSQL database holding the web template (only with a PG URL)."""
    name = f"esgl_webtpl_{uuid.uuid4().hex}"
    admin = _admin_engine()
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    dump = tmp_path_factory.mktemp("webpg") / "web.backup"
    backup(web_template, dump)
    url = make_url(PG_BASE).set(database=name).render_as_string(hide_password=False)
    restore(dump, url)
    try:
        yield name
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def web_ledger(
    request: pytest.FixtureRequest, web_template: Path, tmp_path: Path
) -> Iterator[Ledger]:
    if request.param == "sqlite":
        path = tmp_path / "ledger.db"
        shutil.copy(web_template, path)
        ledger = Ledger.open(path)
        yield ledger
        ledger.close()
        return
    template = request.getfixturevalue("pg_web_template")
    name = f"esgl_web_{uuid.uuid4().hex}"
    admin = _admin_engine()
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    ledger = Ledger.open(make_url(PG_BASE).set(database=name).render_as_string(hide_password=False))
    try:
        yield ledger
    finally:
        ledger.close()
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture
def app(web_ledger: Ledger) -> FastAPI:
    return create_app(web_ledger)


@pytest.fixture
def client_for(app: FastAPI) -> Iterator[Callable[[str], TestClient]]:
    """``client_for(username)``: a TestClient signed in as that user (cookie session), with
    the session's CSRF token sent as ``X-CSRF-Token`` by default."""
    clients: list[TestClient] = []

    def make(username: str) -> TestClient:
        client = TestClient(app)
        response = client.post(
            "/api/login", json={"username": username, "password": password(username)}
        )
        assert response.status_code == 200, response.text
        client.headers["X-CSRF-Token"] = response.json()["csrf_token"]
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def anonymous(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as client:
        yield client


# -- a real browser against the served app ---------------------------------------------------

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def served(app: FastAPI) -> Iterator[str]:
    """The app on a free localhost port (uvicorn in a background thread)."""
    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 15
    while True:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            server.should_exit = True
            pytest.fail("the app did not answer /healthz within 15 s")
        time.sleep(0.05)
    yield base
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def browser() -> Iterator[Browser]:
    """Debian's headless Chromium driven by Playwright (skips where it is not installed)."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing (CI installs chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()
