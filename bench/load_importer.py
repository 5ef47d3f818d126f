"""The operator of the load test: back-to-back imports into the ledger the server serves.

    .venv/bin/python bench/load_importer.py --ledger LEDGER --rows 50000 --out imports.json

Until it receives SIGTERM, it runs ``esgledger import --ledger LEDGER --kind activity`` on a
new CSV of ``--rows`` synthetic activity records (``load_ledger.activity_records``: new
record ids each time, years 2024 and 2025, the demo's 17 entities), one after the other;
while an import runs it writes the next file, so the imports follow each other with no gap.
SIGTERM lets the running import finish, then the process writes ``--out`` (one entry per
import: start and end wall-clock time, seconds, rows, ok, the command's exit status and, on
failure, the end of its output) and exits. ``bench/load.py --imports ROWS`` starts it when the
timed part begins and stops it at the end.
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from types import FrameType
from typing import Any

from load_ledger import IMPORT_YEARS, esgledger_command, write_activity_csv

STOP = [False]


def _stop(signum: int, frame: FrameType | None) -> None:
    del signum, frame
    STOP[0] = True


def prepare(folder: Path, tag: str, number: int, rows: int, seed: int) -> Path:
    return write_activity_csv(
        folder / f"import-{number:04d}.csv",
        rows,
        seed=seed + number,
        prefix=f"IMP{tag}-{number:04d}",
        years=IMPORT_YEARS,
    )


def run(ledger: str, rows: int, folder: Path, seed: int) -> list[dict[str, Any]]:
    tag = uuid.uuid4().hex[:6]
    done: list[dict[str, Any]] = []
    number = 0
    path = prepare(folder, tag, number, rows, seed)
    while not STOP[0]:
        command = [
            *esgledger_command(),
            "import",
            "--ledger",
            ledger,
            "--kind",
            "activity",
            "--user",
            "bench-importer",
            "--json",
            str(path),
        ]
        started = time.time()
        begin = time.perf_counter()
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        following = prepare(folder, tag, number + 1, rows, seed)  # while the import runs
        output, _ = process.communicate()
        seconds = time.perf_counter() - begin
        entry: dict[str, Any] = {
            "number": number,
            "started": started,
            "ended": time.time(),
            "seconds": round(seconds, 3),
            "returncode": process.returncode,
            "rows": 0,
            "ok": False,
        }
        try:
            files = json.loads(output[output.index("{") :])["files"]
            entry["rows"] = sum(int(f["rows"]) for f in files if f["batch_id"] is not None)
            entry["ok"] = process.returncode == 0 and all(f["ok"] for f in files)
        except (ValueError, KeyError):
            pass
        if not entry["ok"]:
            entry["output"] = output[-2000:]
        done.append(entry)
        print(
            f"import {number}: {entry['rows']} rows in {seconds:.1f} s, ok={entry['ok']}",
            file=sys.stderr,
            flush=True,
        )
        path.unlink(missing_ok=True)
        path, number = following, number + 1
    path.unlink(missing_ok=True)
    return done


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ledger", required=True, help="SQLite file or database URL")
    parser.add_argument("--rows", type=int, default=50_000, help="rows per import")
    parser.add_argument("--out", type=Path, required=True, help="JSON file of the imports")
    parser.add_argument("--seed", type=int, default=50_000)
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    with tempfile.TemporaryDirectory(prefix="esgledger-importer-") as folder:
        done = run(args.ledger, args.rows, Path(folder), args.seed)
    args.out.write_text(json.dumps({"rows_per_import": args.rows, "imports": done}), "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
