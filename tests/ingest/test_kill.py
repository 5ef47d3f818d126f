"""SIGKILL during the write of a large import leaves the ledger exactly as it was before.

A driver process imports a 150k-row CSV into a ledger that already holds one batch; its progress
callback prints a line after every chunk written inside the import transaction, and the test
kills it with SIGKILL on the first such line (so the kill lands mid-transaction, chunks before
the commit). Afterwards the ledger must be intact and the same file must import cleanly.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pandas.testing import assert_frame_equal
from sqlalchemy import text

from esgledger.factors.library import FactorLibrary
from esgledger.ingest.importer import import_file
from esgledger.store.engine import CHUNK
from esgledger.store.ledger import Ledger

State = Callable[[Ledger], tuple[dict[str, int], list[dict[str, Any]]]]
ROWS = 150_000

DRIVER = """\
import sys
from pathlib import Path

from esgledger.ingest.importer import import_file
from esgledger.store.ledger import Ledger


def progress(done):
    print("chunk", done, flush=True)


ledger = Ledger.open(Path(sys.argv[1]))
print("start", flush=True)
report = import_file(ledger, Path(sys.argv[2]), progress=progress)
print("done", report.ok, report.batch_id, flush=True)
"""


@pytest.fixture
def large_csv(tmp_path: Path) -> Path:
    path = tmp_path / "large.csv"
    ids = ("G00", "S01", "S02", "S03", "S04", "S05", "S06", "S07")
    lines = [
        "record_id,entity_id,period,activity_type,quantity,unit,region,data_quality,"
        "activity_date,instrument_id,ef_value,ef_unit,note"
    ]
    lines += [
        f"K-{i:07d},{ids[i % 8]},2024-{i % 12 + 1:02d},electricity,{i % 997}.{i % 100:02d},"
        f"MWh,,measured,,,,,meter {i % 53}"
        for i in range(ROWS)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _integrity(store: Ledger) -> str:
    with store.engine.connect() as conn:
        return str(conn.execute(text("PRAGMA integrity_check")).scalar())


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL (POSIX)")
def test_sigkill_during_the_write_leaves_the_ledger_unchanged(
    seeded: Ledger,
    ledger_path: Path,
    large_csv: Path,
    tmp_path: Path,
    library: FactorLibrary,
    state: State,
) -> None:
    assert ROWS // CHUNK >= 10, "the write must take many chunks for the kill to land inside"
    before = state(seeded)
    records_before = seeded.activity_frame()
    assert len(records_before) == 3 and before[0]["import_batch"] == 1
    seeded.close()

    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER, encoding="utf-8")
    process = subprocess.Popen(
        [sys.executable, str(driver), str(ledger_path), str(large_csv)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    guard = threading.Timer(120, process.kill)  # never hang the suite
    guard.start()
    try:
        assert process.stdout is not None
        seen = []
        for line in process.stdout:
            seen.append(line.strip())
            if line.startswith("chunk"):
                wal = ledger_path.with_name(ledger_path.name + "-wal")
                os.kill(process.pid, signal.SIGKILL)
                break
        process.wait(timeout=30)
        seen += [line.strip() for line in process.stdout]
        stderr = process.stderr.read() if process.stderr else ""
    finally:
        guard.cancel()
        if process.poll() is None:
            process.kill()
            process.wait()

    assert process.returncode == -signal.SIGKILL, (seen, stderr)
    chunks = [int(line.split()[1]) for line in seen if line.startswith("chunk")]
    assert chunks, f"the driver never reached the write: {seen} {stderr}"
    assert not any(line.startswith("done") for line in seen)
    assert chunks[-1] < ROWS, f"the kill landed after the last chunk: {chunks}"
    assert wal.exists()  # the WAL held the open transaction when the process died

    reopened = Ledger.open(ledger_path)
    try:
        assert _integrity(reopened) == "ok"
        assert state(reopened) == before
        assert_frame_equal(reopened.activity_frame(), records_before)
        assert reopened.has_batch(reopened.batches()["sha256"].iloc[0]) == 1

        report = import_file(reopened, large_csv, library=library)
        assert report.ok and report.rows == ROWS, [str(d) for d in report.diagnostics]
        assert report.batch_id is not None and report.duplicate_of is None
        counts = reopened.counts()
        assert counts["activity_record"] == before[0]["activity_record"] + ROWS
        assert counts["import_batch"] == 2
        assert _integrity(reopened) == "ok"
        assert_frame_equal(reopened.activity_frame().head(3).reset_index(drop=True), records_before)
    finally:
        reopened.close()
