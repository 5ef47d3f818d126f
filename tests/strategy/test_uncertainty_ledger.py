"""Declared error sources through the use case and ``esgledger strategy uncertainty --sources``
on the demo ledger."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from esgledger.book.book import current_book
from esgledger.cli import app
from esgledger.store.ledger import Ledger
from esgledger.strategy.uncertainty import load_error_sources, uncertainty_from_inventory
from esgledger.usecases.strategy import uncertainty_from_ledger


def meters_by_entity(ledger: Ledger, path: Path) -> Path:
    """Every 2024 electricity record on one meter per entity (its months share one error)."""
    records = ledger.activity_frame([2024])
    power = records[records["activity_type"] == "electricity"]
    pd.DataFrame(
        {"record_id": power["record_id"], "error_source": "meter-" + power["entity_id"]}
    ).to_csv(path, index=False)
    return path


def test_declared_meters_widen_the_scope2_interval(demo_ledger: Ledger, tmp_path: Path) -> None:
    path = meters_by_entity(demo_ledger, tmp_path / "meters.csv")
    plain = uncertainty_from_ledger(demo_ledger, 2024, iterations=4_000, seed=1)
    metered = uncertainty_from_ledger(demo_ledger, 2024, iterations=4_000, seed=1, sources=path)
    a, b = plain.row("scope2_location"), metered.row("scope2_location")
    assert b["deterministic"] == pytest.approx(a["deterministic"], rel=1e-12)
    # the months of an entity no longer average their +/-2 % meter error out
    assert b["correlated_rel_half_width"] > a["correlated_rel_half_width"]
    # Approach 1 (rows independent) cannot see the meters
    assert b["approach1_rel_half_width"] == pytest.approx(a["approach1_rel_half_width"])
    # the use case is the library on the Book's data
    book = current_book(demo_ledger)
    data = book.inventory_input((2024,))
    library = uncertainty_from_inventory(
        book.inventory(), 2024, data.records, data.direct, 4_000, 1,
        sources=load_error_sources(path),
    )  # fmt: skip
    pd.testing.assert_frame_equal(library.summary, metered.summary)


def test_the_cli_reads_an_error_source_file(demo_ledger_path: Path, tmp_path: Path) -> None:
    with Ledger.open(demo_ledger_path) as ledger:
        path = meters_by_entity(ledger, tmp_path / "meters.csv")
    with path.open("a", encoding="utf-8") as file:
        file.write("no-such-record,meter-X\n")
    runner = CliRunner()
    args = ["strategy", "uncertainty", "--year", "2024", "--iterations", "500", "--json"]
    args += ["--ledger", str(demo_ledger_path)]
    done = runner.invoke(app, [*args, "--sources", str(path)])
    assert done.exit_code == 0, done.stderr
    out = json.loads(done.stdout)
    assert any("no-such-record" in d["message"] for d in out["diagnostics"])
    missing = runner.invoke(app, [*args, "--sources", str(tmp_path / "none.csv")])
    assert missing.exit_code == 1 and "cannot read the error sources" in missing.stderr
