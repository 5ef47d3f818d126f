"""Load test of the web platform: virtual users against a server this script starts.

    .venv/bin/python bench/load.py                      # SQLite, 50 users, 120 s
    .venv/bin/python bench/load.py --duration 30 --users 20 --think 0
    scripts/ci_postgres.sh .venv/bin/python bench/load.py --db postgresql
    .venv/bin/python bench/load.py --db postgresql --pg-url postgresql+psycopg://u@host/db

Setup (not timed): the demo ledger is built in a temporary folder (for ``--db postgresql`` it
is backed up and restored into a new database of the server named by ``--pg-url`` or
``ESGLEDGER_TEST_PG_URL``, dropped at the end); a 2025 data request campaign asks S01..S16
for their purchased electricity; ``--users`` owners are created (user i owns entity
S{i mod 16 + 1}, so about three users share each request and their edits collide). The server
is ``esgledger serve --no-demo`` on that ledger in a subprocess (one uvicorn process).

Each virtual user signs in once (``POST /api/login``: Argon2, reported on its own row and
left out of the overall figures; sign-ins are spread over ``--ramp`` seconds and the timed
part starts when all are done). Then each user starts after a random delay within one think
cycle, reads its request's JSON for the value's version, and loops until the end: the
dashboard page, its JSON, the request page, a ``PUT`` of the value with the version it knows
(a 409 is a *conflict*, counted apart: the user re-reads the request and retries, up to three
times), and one time in ten a comment. Between two requests a user thinks for a uniform
random time in [0.5, 1.5] x ``--think`` seconds (0: no pause).

Latency is measured by the client from sending a request to reading its whole response.
Errors are transport failures, 5xx, and any status other than the one expected (200, 201 for
a comment; 409 for a ``PUT`` is a conflict, not an error). Printed: per endpoint and overall,
the count, p50/p95/p99 and max in ms, errors and conflicts, and the request rate.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from esgledger.auth import accounts
from esgledger.demo import build_demo
from esgledger.store.backup import backup, restore
from esgledger.store.ledger import Ledger
from esgledger.workflow import collection

YEAR = 2025
METRIC = "energy.electricity_purchased"
ENTITIES = [f"S{i:02d}" for i in range(1, 17)]
PASSWORD = "load-test-password-1"
PG_VARIABLE = "ESGLEDGER_TEST_PG_URL"
OUT = Path(__file__).resolve().parent / "out"
LOGIN = "POST /api/login"
ENDPOINTS = (
    LOGIN,
    "GET /",
    "GET /api/dashboard",
    "GET /requests/{id}",
    "GET /api/requests/{id}",
    "PUT /api/requests/{id}/values/{metric}",
    "POST /api/requests/{id}/comments",
)


# -- statistics -----------------------------------------------------------------------------


@dataclass
class Endpoint:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    conflicts: int = 0
    statuses: Counter[str] = field(default_factory=Counter)


@dataclass
class Stats:
    endpoints: dict[str, Endpoint] = field(
        default_factory=lambda: {e: Endpoint() for e in ENDPOINTS}
    )
    samples: list[str] = field(default_factory=list)

    def add(self, name: str, ms: float, status: str, ok: bool, conflict: bool = False) -> None:
        found = self.endpoints[name]
        found.latencies.append(ms)
        found.statuses[status] += 1
        if conflict:
            found.conflicts += 1
        elif not ok:
            found.errors += 1
            if len(self.samples) < 20:
                self.samples.append(f"{name}: {status}")


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile of ``values`` (sorted here)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def summary(name: str, latencies: list[float], errors: int, conflicts: int) -> dict[str, Any]:
    return {
        "endpoint": name,
        "count": len(latencies),
        "p50_ms": percentile(latencies, 50),
        "p95_ms": percentile(latencies, 95),
        "p99_ms": percentile(latencies, 99),
        "max_ms": max(latencies) if latencies else math.nan,
        "errors": errors,
        "conflicts": conflicts,
    }


def report(stats: Stats, seconds: float) -> list[dict[str, Any]]:
    rows = [
        summary(n, e.latencies, e.errors, e.conflicts)
        for n, e in stats.endpoints.items()
        if e.latencies or e.errors
    ]
    steady = [e for n, e in stats.endpoints.items() if n != LOGIN]
    overall = summary(
        "overall (without sign-in)",
        [ms for e in steady for ms in e.latencies],
        sum(e.errors for e in steady),
        sum(e.conflicts for e in steady),
    )
    overall["requests_per_s"] = overall["count"] / seconds if seconds else math.nan
    return [*rows, overall]


def print_table(rows: list[dict[str, Any]]) -> None:
    print("| endpoint | requests | p50 ms | p95 ms | p99 ms | max ms | errors | conflicts |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| `{r['endpoint']}` | {r['count']:,} | {r['p50_ms']:.1f} | {r['p95_ms']:.1f} | "
            f"{r['p99_ms']:.1f} | {r['max_ms']:.1f} | {r['errors']} | {r['conflicts']} |"
        )


# -- the ledger and the server --------------------------------------------------------------


def build_sqlite(folder: Path) -> Path:
    path = folder / "demo.db"
    ledger, reports = build_demo(path)
    ledger.close()
    if not all(r.ok for r in reports):
        raise SystemExit("the demo ledger did not build")
    return path


def pg_admin_url(given: str | None) -> str:
    url = given or os.environ.get(PG_VARIABLE, "")
    if not url:
        raise SystemExit(f"--db postgresql needs --pg-url or {PG_VARIABLE}")
    scheme, rest = url.split("://", 1)
    return f"postgresql+psycopg://{rest}" if scheme in ("postgresql", "postgres") else url


def create_pg_database(admin_url: str) -> str:
    name = f"esgl_load_{uuid.uuid4().hex[:12]}"
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with engine.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    engine.dispose()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def drop_pg_database(admin_url: str, url: str) -> None:
    name = make_url(url).database
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with engine.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    engine.dispose()


def copy_to_postgresql(sqlite_path: Path, url: str, folder: Path) -> None:
    """The demo ledger into the new database, with the backup module (verified digests)."""
    saved = folder / "demo.backup.sqlite"
    backup(sqlite_path, saved)
    restore(saved, url)


def seed(target: str, users: int) -> dict[str, int]:
    """A 2025 campaign over S01..S16 and ``users`` owners; returns user -> request id."""
    ledger = Ledger.open(target)
    try:
        engine = ledger.engine
        admin_id = accounts.create_user(engine, "bench", "load-admin", PASSWORD, "admin")
        admin = accounts.get_principal(engine, admin_id)
        assert admin is not None
        campaign_id = collection.create_campaign(
            engine, admin, "Load test", YEAR, date(YEAR + 1, 3, 31), [METRIC], ENTITIES
        )
        detail = collection.campaign_detail(engine, admin, campaign_id)
        request_of = {r["entity_id"]: int(r["request_id"]) for r in detail["requests"]}
        out = {}
        for i in range(users):
            entity = ENTITIES[i % len(ENTITIES)]
            username = f"load{i:03d}"
            accounts.create_user(engine, "bench", username, PASSWORD, "owner", entities=[entity])
            out[username] = request_of[entity]
        return out
    finally:
        ledger.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def start_server(target: str, port: int, log: Path) -> subprocess.Popen[bytes]:
    """``esgledger serve`` on the ledger, in its own process."""
    command = [
        sys.executable,
        "-c",
        "from esgledger.cli import main; main()",
        "serve",
        "--ledger",
        target,
        "--port",
        str(port),
        "--no-demo",
    ]
    with log.open("wb") as out:
        return subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)


def wait_ready(base: str, server: subprocess.Popen[bytes], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited with {server.returncode}")
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit("the server did not start in time")


def stop_server(server: subprocess.Popen[bytes]) -> None:
    server.terminate()
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


# -- virtual users --------------------------------------------------------------------------


@dataclass
class User:
    client: httpx.AsyncClient
    stats: Stats
    request_id: int
    think: float
    rng: random.Random
    version: int = 0

    async def call(
        self, name: str, method: str, url: str, expected: int = 200, **kwargs: Any
    ) -> httpx.Response | None:
        start = time.perf_counter()
        try:
            response = await self.client.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            ms = (time.perf_counter() - start) * 1000
            self.stats.add(name, ms, type(exc).__name__, ok=False)
            return None
        ms = (time.perf_counter() - start) * 1000
        status = response.status_code
        conflict = status == 409 and method == "PUT"
        self.stats.add(name, ms, str(status), ok=status == expected, conflict=conflict)
        return response

    async def pause(self) -> None:
        if self.think > 0:
            await asyncio.sleep(self.think * self.rng.uniform(0.5, 1.5))

    async def login(self, username: str) -> bool:
        body = {"username": username, "password": PASSWORD}
        response = await self.call(LOGIN, "POST", "/api/login", json=body)
        if response is None or response.status_code != 200:
            return False
        self.client.headers["X-CSRF-Token"] = response.json()["csrf_token"]
        return True

    async def read_version(self) -> None:
        response = await self.call(
            "GET /api/requests/{id}", "GET", f"/api/requests/{self.request_id}"
        )
        if response is not None and response.status_code == 200:
            item = next(i for i in response.json()["items"] if i["metric_id"] == METRIC)
            self.version = int(item["value"]["version"]) if item["value"] else 0

    async def put_value(self) -> None:
        url = f"/api/requests/{self.request_id}/values/{METRIC}"
        for _attempt in range(3):
            body = {"value_text": str(self.rng.randint(1000, 9999)), "base_version": self.version}
            response = await self.call(
                "PUT /api/requests/{id}/values/{metric}", "PUT", url, json=body
            )
            if response is None:
                return
            if response.status_code == 200:
                self.version = int(response.json()["version"])
                return
            if response.status_code != 409:
                return
            await self.read_version()

    async def loop(self, deadline: float) -> None:
        while time.monotonic() < deadline:
            await self.call("GET /", "GET", "/", headers={"accept": "text/html"})
            await self.pause()
            await self.call("GET /api/dashboard", "GET", "/api/dashboard")
            await self.pause()
            await self.call(
                "GET /requests/{id}",
                "GET",
                f"/requests/{self.request_id}",
                headers={"accept": "text/html"},
            )
            await self.pause()
            await self.put_value()
            await self.pause()
            if self.rng.random() < 0.1:
                await self.call(
                    "POST /api/requests/{id}/comments",
                    "POST",
                    f"/api/requests/{self.request_id}/comments",
                    expected=201,
                    json={"body": "checked against the meter readings"},
                )
                await self.pause()


async def virtual_user(
    base: str,
    username: str,
    request_id: int,
    stats: Stats,
    args: argparse.Namespace,
    seed_value: int,
    start: asyncio.Event,
    deadline: list[float],
) -> None:
    # one connection per user, dropped after 3 s idle: before uvicorn's 5 s keep-alive
    # timeout closes it (httpx's default expiry is also 5 s, a race on a reused connection)
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1, keepalive_expiry=3.0)
    async with httpx.AsyncClient(base_url=base, timeout=args.timeout, limits=limits) as client:
        user = User(client, stats, request_id, args.think, random.Random(seed_value))
        await asyncio.sleep(user.rng.uniform(0, args.ramp))
        if not await user.login(username):
            return
        await start.wait()
        # users arrive spread over one think cycle, not all in the same millisecond
        await asyncio.sleep(user.rng.uniform(0, 2 * args.think if args.think > 0 else 0.5))
        await user.read_version()
        await user.loop(deadline[0])


async def run_users(
    base: str, users: dict[str, int], args: argparse.Namespace
) -> tuple[Stats, float]:
    stats = Stats()
    start, deadline = asyncio.Event(), [0.0]
    tasks = [
        asyncio.create_task(virtual_user(base, name, rid, stats, args, i, start, deadline))
        for i, (name, rid) in enumerate(users.items())
    ]
    # the timed loop starts once every user has signed in (Argon2 is slow on purpose)
    while len(stats.endpoints[LOGIN].latencies) < len(users) and not all(t.done() for t in tasks):
        await asyncio.sleep(0.1)
    begin = time.monotonic()
    deadline[0] = begin + args.duration
    start.set()
    await asyncio.gather(*tasks)
    return stats, time.monotonic() - begin


# -- main -----------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--pg-url", help=f"PostgreSQL server URL (default: ${PG_VARIABLE})")
    parser.add_argument("--users", type=int, default=50, help="virtual users (default 50)")
    parser.add_argument("--duration", type=float, default=120, help="seconds (default 120)")
    parser.add_argument(
        "--think", type=float, default=1.0, help="mean think time in s between requests (0: none)"
    )
    parser.add_argument("--ramp", type=float, default=5.0, help="sign-ins spread over s")
    parser.add_argument("--timeout", type=float, default=30.0, help="per-request timeout in s")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="esgledger-load-"))
    admin_url = pg_admin_url(args.pg_url) if args.db == "postgresql" else ""
    pg_database = ""
    server: subprocess.Popen[bytes] | None = None
    try:
        began = time.monotonic()
        sqlite_path = build_sqlite(folder)
        target = str(sqlite_path)
        if args.db == "postgresql":
            pg_database = create_pg_database(admin_url)
            copy_to_postgresql(sqlite_path, pg_database, folder)
            target = pg_database
        users = seed(target, args.users)
        print(
            f"setup: {time.monotonic() - began:.1f} s ({args.db}, {len(users)} users)", flush=True
        )
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = start_server(target, port, folder / "server.log")
        wait_ready(base, server)
        stats, seconds = asyncio.run(run_users(base, users, args))
        stop_server(server)
        server = None
        rows = report(stats, seconds)
        print(
            f"\n{args.db}: {len(users)} users, {seconds:.0f} s, think {args.think:g} s, "
            f"{rows[-1]['requests_per_s']:.1f} requests/s (without sign-in)\n"
        )
        print_table(rows)
        if stats.samples:
            print("\nfirst errors:", "; ".join(stats.samples))
        if args.json:
            meta = {
                "db": args.db,
                "users": len(users),
                "duration_s": seconds,
                "think_s": args.think,
                "cpus": os.cpu_count(),
            }
            args.json.write_text(json.dumps({**meta, "rows": rows}, indent=2), "utf-8")
        errors = sum(r["errors"] for r in rows[:-1])
        if errors:  # keep the server's log (its tracebacks) next to the other bench output
            saved = OUT / f"load-server-{args.db}.log"
            saved.parent.mkdir(exist_ok=True)
            shutil.copy(folder / "server.log", saved)
            print(f"the server's log: {saved}")
        return 1 if errors else 0
    finally:
        if server is not None:
            stop_server(server)
        if pg_database:
            drop_pg_database(admin_url, pg_database)
        if args.keep:
            print(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
