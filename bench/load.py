"""Load test of the web platform: virtual users against a server this script starts.

    .venv/bin/python bench/load.py                           # SQLite, 50 users, 60 s, demo
    .venv/bin/python bench/load.py --grow 350000             # the demo plus 350 k records
    .venv/bin/python bench/load.py --imports 50000           # during back-to-back imports
    .venv/bin/python bench/load.py --duration 30 --users 20 --think 0
    scripts/ci_postgres.sh .venv/bin/python bench/load.py --db postgresql
    .venv/bin/python bench/load.py --db postgresql --pg-url postgresql+psycopg://u@host/db
    .venv/bin/python bench/load_matrix.py                   # the eight cases of BENCHMARKS.md

Setup (not timed): the demo ledger is built in a temporary folder (for ``--db postgresql`` it
is backed up and restored into a new database of the server named by ``--pg-url`` or
``ESGLEDGER_TEST_PG_URL``, dropped at the end); with ``--grow ROWS``, ROWS synthetic activity
records (years 2022-2025, the demo's entities; ``bench/load_ledger.py``) are imported into it
in files of 50 k rows with the importer of ``esgledger import``. A 2025 data request campaign
asks S01..S16 for their purchased electricity; ``--users`` users are created: one in five
(``--group-users``) group-wide, their roles in turn admin, reviewer, approver and verifier,
the others data owners (owner i owns entity S{i mod 16 + 1}, so about three owners share
each request and their edits collide). The server is ``esgledger serve --no-demo`` on that
ledger in a subprocess (one uvicorn process, ``--fresh-wait`` at its default of 0.2 s). Once it
answers, an admin asks once for the dashboard, the report, a lineage and the registers
(reported as the first, cold, requests; not in the figures).

Each virtual user signs in once (``POST /api/login``: Argon2, reported on its own row and
left out of the overall figures; sign-ins are spread over ``--ramp`` seconds and the timed
part starts when all are done), then loops until the end (``bench/load_users.py``):
group-wide users read the dashboard page and JSON, ``/report``, ``/api/report``, the lineage
page of a group figure and ``/registers``; data owners read the dashboard page and JSON and
their request page, ``PUT`` the value with the version they know (409 is a conflict, counted
apart: re-read, retry) and one time in ten comment. They think 0.5-1.5 x ``--think`` seconds
between two requests.

With ``--imports ROWS``, when the timed part starts a separate process
(``bench/load_importer.py``) runs ``esgledger import --ledger ...`` on new files of ROWS
synthetic records (new record ids, years 2024 and 2025) one after the other until the end;
the import running then is let finish (outside the timed part).

Errors are failed requests (timeout, connection) and 5xx answers; 409 answers are
conflicts; any other status than the expected one is *unexpected* (reported apart, and it
fails the run like an error). Printed: per endpoint and overall, the count, p50/p95/p99 and
max in ms, errors, conflicts and unexpected answers, the request rate, the imports done and
their durations, the slowest requests with their time; ``--json PATH`` writes all of it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from load_ledger import (
    PASSWORD,
    PG_VARIABLE,
    activity_rows,
    build_sqlite,
    copy_to_postgresql,
    create_pg_database,
    drop_pg_database,
    free_port,
    grow,
    pg_admin_url,
    seed,
    start_server,
    stop_process,
    use_audit_key,
    wait_ready,
)
from load_users import Settings, Stats, percentile, report, run_users, slowest

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
IMPORTER_STOP_S = 600.0  # the import running at the end is let finish, at most this long
COLD = ("/api/dashboard", "/", "/api/report", "/report", "/explain/total", "/registers")


# -- the printout ---------------------------------------------------------------------------


def print_table(rows: list[dict[str, Any]]) -> None:
    print(
        "| endpoint | requests | p50 ms | p95 ms | p99 ms | max ms | errors | conflicts "
        "| unexpected |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| `{r['endpoint']}` | {r['count']:,} | {r['p50_ms']:.1f} | {r['p95_ms']:.1f} | "
            f"{r['p99_ms']:.1f} | {r['max_ms']:.1f} | {r['errors']} | {r['conflicts']} | "
            f"{r['unexpected']} |"
        )


def import_summary(found: list[dict[str, Any]], began: float, seconds: float) -> dict[str, Any]:
    """The imports of the run: done (succeeded), done within the timed part, failed, and
    the durations of the successful ones."""
    ok = [i for i in found if i["ok"]]
    durations = [float(i["seconds"]) for i in ok]
    return {
        "started": len(found),
        "done": len(ok),
        "done_in_window": sum(1 for i in ok if i["ended"] <= began + seconds),
        "failed": len(found) - len(ok),
        "rows": sum(int(i["rows"]) for i in ok),
        "p50_s": percentile(durations, 50),
        "max_s": max(durations) if durations else math.nan,
        "each": [
            {
                **{k: v for k, v in i.items() if k not in ("started", "ended")},
                "at_s": round(i["started"] - began, 2),
                "end_s": round(i["ended"] - began, 2),
            }
            for i in found
        ],
    }


# -- the run --------------------------------------------------------------------------------


def cold_requests(base: str, timeout: float) -> dict[str, Any]:
    """An admin's first requests after the start (untimed): ms per path, and the status of
    any answer other than 200."""
    out: dict[str, Any] = {}
    with httpx.Client(base_url=base, timeout=timeout) as client:
        body = {"username": "load-admin", "password": PASSWORD}
        client.post("/api/login", json=body).raise_for_status()
        for path in COLD:
            start = time.perf_counter()
            try:
                status = str(client.get(path, headers={"accept": "text/html"}).status_code)
            except httpx.HTTPError as exc:
                status = type(exc).__name__
            out[path] = round((time.perf_counter() - start) * 1000, 1)
            if status != "200":
                out[f"{path} status"] = status
    return out


def start_importer(target: str, rows: int, folder: Path) -> tuple[subprocess.Popen[bytes], Path]:
    result = folder / "imports.json"
    command = [
        sys.executable,
        str(HERE / "load_importer.py"),
        "--ledger",
        target,
        "--rows",
        str(rows),
        "--out",
        str(result),
    ]
    with (folder / "importer.log").open("wb") as log:
        # its own process group: a Ctrl-C of the run reaches it through ``finally`` only
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    return process, result


def stop_importer(process: subprocess.Popen[bytes], result: Path) -> list[dict[str, Any]]:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=IMPORTER_STOP_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    if not result.exists():
        return []
    found: list[dict[str, Any]] = json.loads(result.read_text("utf-8"))["imports"]
    return found


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--pg-url", help=f"PostgreSQL server URL (default: ${PG_VARIABLE})")
    parser.add_argument("--users", type=int, default=50, help="virtual users (default 50)")
    parser.add_argument(
        "--group-users", type=int, help="of which group-wide (default: one in five)"
    )
    parser.add_argument("--duration", type=float, default=60, help="seconds (default 60)")
    parser.add_argument(
        "--think", type=float, default=1.0, help="mean think time in s between requests (0: none)"
    )
    parser.add_argument("--ramp", type=float, default=5.0, help="sign-ins spread over s")
    parser.add_argument("--timeout", type=float, default=30.0, help="per-request timeout in s")
    parser.add_argument(
        "--grow", type=int, default=0, metavar="ROWS", help="add ROWS records before the run"
    )
    parser.add_argument(
        "--imports",
        type=int,
        default=0,
        metavar="ROWS",
        help="import files of ROWS records back to back during the run",
    )
    parser.add_argument("--label", default="", help="name of the case (in the JSON)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument(
        "--timeline",
        type=Path,
        help="also write every timed request (start s, endpoint, ms, status) to this JSON file",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args(argv)
    if args.group_users is None:
        args.group_users = args.users // 5
    if not 0 <= args.group_users <= args.users:
        parser.error("--group-users must be between 0 and --users")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="esgledger-load-"))
    use_audit_key(folder)
    admin_url = pg_admin_url(args.pg_url) if args.db == "postgresql" else ""
    pg_database = ""
    server: subprocess.Popen[bytes] | None = None
    importer: subprocess.Popen[bytes] | None = None
    try:
        began = time.monotonic()
        sqlite_path = build_sqlite(folder)
        target = str(sqlite_path)
        if args.db == "postgresql":
            pg_database = create_pg_database(admin_url)
            copy_to_postgresql(sqlite_path, pg_database, folder)
            target = pg_database
        grown = grow(target, args.grow, folder) if args.grow else []
        if grown:
            print(
                f"grown by {args.grow:,} records in {len(grown)} imports, {sum(grown):.1f} s "
                f"(slowest {max(grown):.1f} s)",
                flush=True,
            )
        users = seed(target, args.users - args.group_users, args.group_users)
        rows_before = activity_rows(target)
        setup_s = time.monotonic() - began
        print(
            f"setup: {setup_s:.1f} s ({args.db}, {rows_before:,} activity records, "
            f"{args.group_users} group-wide users and {args.users - args.group_users} owners)",
            flush=True,
        )
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = start_server(target, port, folder / "server.log")
        wait_ready(base, server)
        cold = cold_requests(base, args.timeout)
        print("first requests (ms, untimed):", json.dumps(cold), flush=True)
        load_before = os.getloadavg()[0]
        result_file = folder / "imports.json"

        def on_start() -> None:
            nonlocal importer, result_file
            if args.imports:
                importer, result_file = start_importer(target, args.imports, folder)

        settings = Settings(base, args.think, args.ramp, args.timeout, args.duration)
        stats, seconds, began_wall = asyncio.run(run_users(settings, users, on_start))
        found: list[dict[str, Any]] = []
        if importer is not None:
            found = stop_importer(importer, result_file)
            importer = None
        stop_process(server)
        server = None
        rows_after = activity_rows(target)
        return finish(
            args,
            stats,
            seconds,
            began_wall,
            found,
            folder,
            users,
            {
                "setup_s": round(setup_s, 1),
                "grow_import_s": [round(s, 2) for s in grown],
                "activity_rows_before": rows_before,
                "activity_rows_after": rows_after,
                "cold_ms": cold,
                "load_before": round(load_before, 2),
            },
        )
    finally:
        if importer is not None and importer.poll() is None:
            os.killpg(importer.pid, signal.SIGTERM)  # the importer and the running import
            stop_process(importer, 30)
        if server is not None:
            stop_process(server)
        if pg_database:
            drop_pg_database(admin_url, pg_database)
        if args.keep:
            print(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


def finish(
    args: argparse.Namespace,
    stats: Stats,
    seconds: float,
    began_wall: float,
    found: list[dict[str, Any]],
    folder: Path,
    users: dict[str, dict[str, Any]],
    setup: dict[str, Any],
) -> int:
    rows = report(stats, seconds)
    overall = rows[-1]
    imports = import_summary(found, began_wall, seconds) if args.imports else None
    owners = sum(1 for u in users.values() if u["kind"] == "owner")
    print(
        f"\n{args.db}: {len(users)} users ({len(users) - owners} group-wide, {owners} owners), "
        f"{seconds:.0f} s, think {args.think:g} s, {setup['activity_rows_before']:,} activity "
        f"records at the start, {overall['requests_per_s']:.1f} requests/s (without sign-in)"
    )
    if imports is not None:
        print(
            f"imports of {args.imports:,} rows: {imports['done']} done "
            f"({imports['done_in_window']} within the {seconds:.0f} s), {imports['failed']} "
            f"failed, p50 {imports['p50_s']:.1f} s, max {imports['max_s']:.1f} s; "
            f"{setup['activity_rows_after']:,} activity records at the end"
        )
    print(f"dashboard JSON answers with the previous figures (stale): {stats.stale_dashboards}\n")
    print_table(rows)
    worst = slowest(stats, began_wall)
    if args.timeline:
        every = [
            [round(at - began_wall, 3), n, round(ms, 1), st] for at, n, ms, st in stats.timeline
        ]
        args.timeline.write_text(json.dumps({"requests": every, "imports": imports}))
    if worst:
        shown = ", ".join(
            f"{w['endpoint']} {w['ms']:.0f} ms at {w['at_s']:.1f} s" for w in worst[:8]
        )
        print(f"\nslowest: {shown}")
    if stats.samples:
        print("\nfirst problems:", "; ".join(stats.samples))
    if imports is not None and imports["failed"]:
        first = next(i for i in imports["each"] if not i["ok"])
        print(f"\nfailed import {first['number']}: {first.get('output', '')[-500:]}")
    if args.json:
        meta = {
            "label": args.label,
            "db": args.db,
            "users": len(users),
            "group_users": len(users) - owners,
            "owners": owners,
            "duration_s": seconds,
            "think_s": args.think,
            "grow_rows": args.grow,
            "import_rows": args.imports,
            "cpus": os.cpu_count(),
            **setup,
        }
        document = {
            **meta,
            "rows": rows,
            "overall": overall,
            "imports": imports,
            "stale_dashboards": stats.stale_dashboards,
            "slowest": worst,
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(document, indent=2), "utf-8")
    failed = overall["errors"] + overall["unexpected"] + (imports["failed"] if imports else 0)
    if failed:  # keep the server's log (its tracebacks) next to the other bench output
        OUT.mkdir(exist_ok=True)
        name = args.label or args.db
        for log in ("server.log", "importer.log"):
            if (folder / log).exists():
                saved = OUT / f"load-{name}-{log}"
                shutil.copy(folder / log, saved)
                print(f"kept {saved}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
