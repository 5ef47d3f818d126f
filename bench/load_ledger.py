"""The ledger of the load test (``bench/load.py``): the demo group, its users, synthetic
activity records to grow it, the PostgreSQL copy and the server process.

Synthetic records come from ``bench/generate.py`` (one seeded generator, whole columns at
once), fitted to the demo ledger: the demo's 17 entities (G00, S01..S16) drawn uniformly, a
month of the given years, and only units the demo ledger can convert without a parameter it
lacks (litres of fuel other than gasoline become tonnes, CNY and 万元 become USD, the few
certificate rows become electricity). Gasoline stays in litres, as the demo records it: in
tonnes, its basis unit, the group's computed KPI ``energy.gasoline`` (L) fails (``UnitError:
unit 't' is a mass, expected a volume``) and with it ``esgledger kpi``, ``targets`` and the
group dashboard. The records are written as the documented activity template (CSV) and
imported with the product's importer, as an operator would.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from datetime import date
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from esgledger.auth import accounts
from esgledger.demo import build_demo
from esgledger.ingest.importer import import_file
from esgledger.store.backup import backup, restore
from esgledger.store.ledger import Ledger
from esgledger.workflow import collection
from generate import INSTRUMENT_TYPES, generate

YEAR = 2025
METRIC = "energy.electricity_purchased"
DEMO_ENTITIES = ("G00", *(f"S{i:02d}" for i in range(1, 17)))
REQUEST_ENTITIES = DEMO_ENTITIES[1:]  # the campaign asks S01..S16
GROUP_ROLES = ("admin", "reviewer", "approver", "verifier")
PASSWORD = "load-test-password-1"
PG_VARIABLE = "ESGLEDGER_TEST_PG_URL"
KEY_VARIABLE = "ESGLEDGER_AUDIT_KEY_FILE"
BATCH_ROWS = 50_000
GROW_YEARS = (2022, 2023, 2024, 2025)
IMPORT_YEARS = (2024, 2025)
COLUMNS = (
    "record_id",
    "entity_id",
    "period",
    "activity_type",
    "quantity",
    "unit",
    "region",
    "data_quality",
)
# unit -> (factor to the replacement unit, replacement): bridges the demo has no parameter for
_REPLACED_UNITS = {"L": (0.8 / 1000, "t"), "CNY": (1 / 7.2, "USD"), "万元": (10_000 / 7.2, "USD")}


# -- synthetic activity records -------------------------------------------------------------


def activity_records(
    n: int, *, seed: int, prefix: str, years: tuple[int, ...] = IMPORT_YEARS
) -> pd.DataFrame:
    """``n`` activity rows of the demo's entities in the template's columns; record ids are
    ``{prefix}-{i}`` (so a new prefix gives new records)."""
    data = generate(n, seed=seed).records
    rng = np.random.default_rng(seed + 1)
    entity = np.asarray(DEMO_ENTITIES, dtype=object)[rng.integers(0, len(DEMO_ENTITIES), n)]
    year = np.asarray(years)[rng.integers(0, len(years), n)]
    month = rng.integers(1, 13, n)
    activity = data["activity_type"].to_numpy(object).copy()
    unit = data["unit"].to_numpy(object).copy()
    quantity = data["quantity"].to_numpy("float64").copy()
    certificate = np.isin(activity, INSTRUMENT_TYPES)  # would need a certificate id
    activity[certificate], unit[certificate] = "electricity", "MWh"
    for old, (factor, new) in _REPLACED_UNITS.items():
        found = (unit == old) & (activity != "gasoline_vehicle")
        quantity[found] *= factor
        unit[found] = new
    # gasoline stays in litres, as the demo records it: the KPI energy.gasoline (L) is summed
    # from these records by unit conversion alone, and a mass there fails the group figures
    for old, factor in (("t", 1000 / 0.73), ("kg", 1 / 0.73)):
        found = (unit == old) & (activity == "gasoline_vehicle")
        quantity[found] *= factor
        unit[found] = "L"
    period = pd.Series(year).astype(str) + "-" + pd.Series(month).map("{:02d}".format)
    return pd.DataFrame(
        {
            "record_id": prefix + "-" + pd.Series(np.arange(n)).astype(str),
            "entity_id": entity,
            "period": period,
            "activity_type": activity,
            "quantity": np.round(quantity, 3) + 0.001,
            "unit": unit,
            "region": data["region"].fillna("").to_numpy(object),
            "data_quality": "measured",
        },
        columns=list(COLUMNS),
    )


def write_activity_csv(
    path: Path, n: int, *, seed: int, prefix: str, years: tuple[int, ...]
) -> Path:
    activity_records(n, seed=seed, prefix=prefix, years=years).to_csv(path, index=False)
    return path


def grow(target: str, rows: int, folder: Path) -> list[float]:
    """Add ``rows`` synthetic records (years :data:`GROW_YEARS`) to the ledger in imports of
    at most :data:`BATCH_ROWS`, through the importer ``esgledger import`` runs; returns the
    seconds of each import."""
    seconds: list[float] = []
    ledger = Ledger.open(target)
    try:
        done, batch = 0, 0
        while done < rows:
            n = min(BATCH_ROWS, rows - done)
            path = write_activity_csv(
                folder / f"grow-{batch:03d}.csv",
                n,
                seed=1_000 + batch,
                prefix=f"GROW{batch:03d}",
                years=GROW_YEARS,
            )
            start = time.perf_counter()
            found = import_file(ledger, path, kind="activity", user="bench-grow")
            seconds.append(time.perf_counter() - start)
            if not found.ok or found.batch_id is None:
                shown = "; ".join(str(d) for d in found.diagnostics[:5])
                raise SystemExit(f"growing the ledger failed at batch {batch}: {shown}")
            path.unlink()
            done += n
            batch += 1
    finally:
        ledger.close()
    return seconds


def activity_rows(target: str) -> int:
    ledger = Ledger.open(target)
    try:
        return ledger.counts()["activity_record"]
    finally:
        ledger.close()


# -- the ledger -----------------------------------------------------------------------------


def use_audit_key(folder: Path) -> None:
    """One audit key for this process and its children (the server, the importer): a server
    ledger needs one named by the environment, and the copy to PostgreSQL keeps the demo's
    entries, signed with it."""
    os.environ[KEY_VARIABLE] = str(folder / "audit.key")


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
    saved.unlink()


def seed(target: str, owners: int, group_users: int) -> dict[str, dict[str, object]]:
    """A 2025 campaign over S01..S16, ``owners`` data owners (owner i owns
    S{i mod 16 + 1}) and ``group_users`` group-wide users (roles in turn admin, reviewer,
    approver, verifier; all but the admin granted every entity). Returns user name ->
    ``{"kind": "group" | "owner", "role": ..., "request_id": ... (owners)}``."""
    ledger = Ledger.open(target)
    try:
        engine = ledger.engine
        admin_id = accounts.create_user(engine, "bench", "load-admin", PASSWORD, "admin")
        admin = accounts.get_principal(engine, admin_id)
        assert admin is not None
        campaign_id = collection.create_campaign(
            engine, admin, "Load test", YEAR, date(YEAR + 1, 3, 31), [METRIC], REQUEST_ENTITIES
        )
        detail = collection.campaign_detail(engine, admin, campaign_id)
        request_of = {r["entity_id"]: int(r["request_id"]) for r in detail["requests"]}
        everything = sorted(ledger.organisation().ids())
        out: dict[str, dict[str, object]] = {}
        for i in range(group_users):
            role = GROUP_ROLES[i % len(GROUP_ROLES)]
            username = f"group{i:03d}"
            grants = () if role == "admin" else everything
            accounts.create_user(engine, "bench", username, PASSWORD, role, entities=grants)
            out[username] = {"kind": "group", "role": role}
        for i in range(owners):
            entity = REQUEST_ENTITIES[i % len(REQUEST_ENTITIES)]
            username = f"load{i:03d}"
            accounts.create_user(engine, "bench", username, PASSWORD, "owner", entities=[entity])
            out[username] = {"kind": "owner", "role": "owner", "request_id": request_of[entity]}
        return out
    finally:
        ledger.close()


# -- processes ------------------------------------------------------------------------------


def esgledger_command() -> list[str]:
    """The ``esgledger`` command of this environment."""
    script = Path(sys.executable).with_name("esgledger")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from esgledger.cli import main; main()"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def start_server(target: str, port: int, log: Path) -> subprocess.Popen[bytes]:
    """``esgledger serve --no-demo`` on the ledger, in its own process (``--fresh-wait`` left
    at its default)."""
    command = [
        *esgledger_command(),
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


def stop_process(process: subprocess.Popen[bytes], seconds: float = 15) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
