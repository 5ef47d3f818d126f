"""The load cases of BENCHMARKS.md, one after the other, as Markdown tables on stdout.

    bash scripts/ci_postgres.sh .venv/bin/python bench/load_matrix.py   # all eight cases
    .venv/bin/python bench/load_matrix.py --stores sqlite                # the four on SQLite
    .venv/bin/python bench/load_matrix.py --duration 8 --users 10 --grow 20000 --imports 5000

Cases: ledger (the demo, or the demo grown by ``--grow`` records) x load (the users alone, or
during back-to-back imports of ``--imports`` records) x store (SQLite, PostgreSQL from
``--pg-url`` or ``ESGLEDGER_TEST_PG_URL``). Each case is one run of ``bench/load.py`` in its
own process (a new ledger, server and users; ``--settle`` seconds of pause before it), whose
output goes to ``<out>/<case>.log`` and figures to ``<out>/<case>.json``. Progress goes to
stderr; the tables (overall figures per case, then p95 / max per endpoint) to stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from load_ledger import PG_VARIABLE, pg_admin_url
from load_users import ENDPOINTS, LOGIN

HERE = Path(__file__).resolve().parent
STORES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
P95_TARGET_MS = 200.0
MAX_TARGET_MS = 2000.0


def cases(args: argparse.Namespace) -> list[dict[str, Any]]:
    return [
        {"store": store, "ledger": ledger, "load": load, "label": f"{store}-{ledger}-{load}"}
        for store in args.stores
        for ledger in args.ledgers
        for load in args.loads
    ]


def command(case: dict[str, Any], args: argparse.Namespace, out: Path) -> list[str]:
    found = [
        sys.executable,
        str(HERE / "load.py"),
        "--db",
        case["store"],
        "--users",
        str(args.users),
        "--duration",
        str(args.duration),
        "--think",
        str(args.think),
        "--label",
        case["label"],
        "--json",
        str(out / f"{case['label']}.json"),
    ]
    if args.pg_url and case["store"] == "postgresql":
        found += ["--pg-url", args.pg_url]
    if case["ledger"] == "grown":
        found += ["--grow", str(args.grow)]
    if case["load"] == "imports":
        found += ["--imports", str(args.imports)]
    return found


def pg_version(url: str) -> str:
    engine = create_engine(pg_admin_url(url), poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return str(conn.exec_driver_sql("SHOW server_version").scalar()).split()[0]
    finally:
        engine.dispose()


# -- the tables -----------------------------------------------------------------------------


def _ms(value: float) -> str:
    return f"{value:,.1f}"


def _bold_if(text: str, missed: bool) -> str:
    return f"**{text}**" if missed else text


def overall_row(case: dict[str, Any], found: dict[str, Any] | None, store: str) -> str:
    ledger = "demo" if case["ledger"] == "demo" else f"demo + {found_grow(found)}"
    if found is None:
        return f"| {ledger} | {case['load']} | {store} | failed: see {case['label']}.log |"
    o = found["overall"]
    ledger = f"{ledger} ({found['activity_rows_before']:,} records)"
    imports = found.get("imports")
    if imports is None:
        load = "alone"
        done = "–"
    else:
        load = f"{found['import_rows'] // 1000} k imports"
        done = f"{imports['done_in_window']} ({imports['p50_s']:.0f} s each)"
        if imports["failed"]:
            done += f", **{imports['failed']} failed**"
    errors = str(o["errors"])
    if o["unexpected"]:
        errors += f" (+{o['unexpected']} unexpected)"
    met = (
        o["p95_ms"] < P95_TARGET_MS
        and o["max_ms"] < MAX_TARGET_MS
        and o["errors"] == 0
        and o["unexpected"] == 0
    )
    cells = [
        ledger,
        load,
        store,
        f"{o['count']:,}",
        f"{o['requests_per_s']:.1f}",
        _ms(o["p50_ms"]),
        _bold_if(_ms(o["p95_ms"]), o["p95_ms"] >= P95_TARGET_MS),
        _ms(o["p99_ms"]),
        _bold_if(_ms(o["max_ms"]), o["max_ms"] >= MAX_TARGET_MS),
        _bold_if(errors, o["errors"] + o["unexpected"] > 0),
        str(o["conflicts"]),
        done,
        "yes" if met else "**no**",
    ]
    return "| " + " | ".join(cells) + " |"


def found_grow(found: dict[str, Any] | None) -> str:
    rows = int(found["grow_rows"]) if found else 0
    return f"{rows // 1000:,} k" if rows else "grown"


def print_tables(
    all_cases: list[dict[str, Any]],
    results: dict[str, dict[str, Any] | None],
    names: dict[str, str],
) -> None:
    print(
        "| ledger | load | store | requests | req/s | p50 ms | p95 ms | p99 ms | max ms "
        "| errors | conflicts | imports done | targets met |"
    )
    print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|")
    for case in all_cases:
        print(overall_row(case, results[case["label"]], names[case["store"]]))
    shown = [c for c in all_cases if results[c["label"]] is not None]
    if not shown:
        return
    print("\np95 / max ms per endpoint (the sign-ins are not in the figures above):\n")
    print("| endpoint | " + " | ".join(c["label"] for c in shown) + " |")
    print("|---|" + "---:|" * len(shown))
    for endpoint in ENDPOINTS:
        cells = []
        for case in shown:
            found = results[case["label"]]
            assert found is not None
            row = next((r for r in found["rows"] if r["endpoint"] == endpoint), None)
            if row is None:
                cells.append("–")
                continue
            text = f"{row['p95_ms']:,.0f} / {row['max_ms']:,.0f}"
            if row["errors"] or row["unexpected"]:
                text += f" ({row['errors'] + row['unexpected']} err)"
            missed = endpoint != LOGIN and (
                row["p95_ms"] >= P95_TARGET_MS or row["max_ms"] >= MAX_TARGET_MS
            )
            cells.append(_bold_if(text, missed))
        print(f"| `{endpoint}` | " + " | ".join(cells) + " |")
    print("\nfirst requests after the start (untimed admin, ms), load average before the run:\n")
    for case in shown:
        found = results[case["label"]]
        assert found is not None
        cold = ", ".join(f"`{k}` {v}" for k, v in found["cold_ms"].items())
        print(f"- {case['label']}: {cold}; load {found['load_before']}")


# -- main -----------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--stores", nargs="+", choices=tuple(STORES), default=list(STORES), help="stores"
    )
    parser.add_argument(
        "--ledgers", nargs="+", choices=("demo", "grown"), default=["demo", "grown"]
    )
    parser.add_argument(
        "--loads", nargs="+", choices=("alone", "imports"), default=["alone", "imports"]
    )
    parser.add_argument("--pg-url", help=f"PostgreSQL server URL (default: ${PG_VARIABLE})")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--think", type=float, default=1.0)
    parser.add_argument("--grow", type=int, default=350_000, help="records the grown ledger adds")
    parser.add_argument("--imports", type=int, default=50_000, help="records per import")
    parser.add_argument("--settle", type=float, default=15, help="pause before each case, s")
    parser.add_argument("--out", type=Path, default=HERE / "out" / "load-matrix")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    names = dict(STORES)
    if "postgresql" in args.stores:
        url = args.pg_url or os.environ.get(PG_VARIABLE, "")
        if not url:
            raise SystemExit(
                f"PostgreSQL needs --pg-url or {PG_VARIABLE}: run under "
                "scripts/ci_postgres.sh, or pass --stores sqlite"
            )
        names["postgresql"] = f"PostgreSQL {pg_version(url)}"
    args.out.mkdir(parents=True, exist_ok=True)
    all_cases = cases(args)
    results: dict[str, dict[str, Any] | None] = {}
    began = time.monotonic()
    for number, case in enumerate(all_cases, 1):
        time.sleep(args.settle)
        result = args.out / f"{case['label']}.json"
        result.unlink(missing_ok=True)
        print(
            f"[{number}/{len(all_cases)}] {case['label']} "
            f"(load {os.getloadavg()[0]:.2f}, {time.monotonic() - began:.0f} s so far)",
            file=sys.stderr,
            flush=True,
        )
        with (args.out / f"{case['label']}.log").open("w") as log:
            done = subprocess.run(
                command(case, args, args.out), stdout=log, stderr=subprocess.STDOUT, check=False
            )
        results[case["label"]] = json.loads(result.read_text("utf-8")) if result.exists() else None
        print(f"    exit status {done.returncode}", file=sys.stderr, flush=True)
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
        cwd=HERE,
    ).stdout.strip()
    print(
        f"{len(all_cases)} cases, {args.users} users for {args.duration:g} s each, think "
        f"{args.think:g} s; commit `{commit or '?'}`, "
        f"{datetime.now(UTC):%Y-%m-%d}, {os.cpu_count()} CPUs ({platform.machine()}), "
        f"{(time.monotonic() - began) / 60:.0f} min in all\n"
    )
    print_tables(all_cases, results, names)
    return 0 if all(results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
