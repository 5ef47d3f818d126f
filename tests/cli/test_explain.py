"""`esgledger explain` traces a 2024 demo scope total to its rows and factors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from esgledger.cli import app
from esgledger.domain import Entity
from esgledger.figures import explain
from esgledger.ingest.importer import import_file
from esgledger.store.ledger import Ledger

runner = CliRunner()


def test_scope2_total_traces_to_every_row_and_the_factor(demo_ledger_path: Path) -> None:
    result = runner.invoke(
        app,
        ["explain", "ghg:2024:S2L", "--ledger", str(demo_ledger_path), "--rows", "1000", "--json"],
    )
    assert result.exit_code == 0, result.output
    tree = json.loads(result.output)
    assert tree["value"] == pytest.approx(45074.37 * 0.5366, rel=1e-9)
    lines = [line for entity in tree["children"] for line in entity["children"]]
    assert {line["detail"]["factor"].split()[0] for line in lines} == {"cn_2022_national"}
    records = [r for line in lines for r in line["children"]]
    # every stored electricity row of 2024 appears once, with its file and row
    assert len(records) == 17 * 12
    assert all("activity_2024.csv:" in r["label"] for r in records)
    quantities = sum(float(r["label"].split("] ")[1].split()[1]) for r in records)
    assert quantities == pytest.approx(45074.37, abs=1e-6)
    # each line's value is its records' quantity x the factor
    assert sum(line["value"] for line in lines) == pytest.approx(tree["value"], rel=1e-12)


def test_scope1_tree_shows_formula_source_and_direct_provenance(demo_ledger_path: Path) -> None:
    ledger = Ledger.open(demo_ledger_path)
    node = explain(ledger, "ghg:2024:S1", rows=3)
    assert node.value == pytest.approx(4472.70, abs=0.005)
    labels = [line.label for entity in node.children for line in entity.children]
    assert any(label.startswith("natural_gas CO2") for label in labels)
    gas = next(
        line
        for entity in node.children
        for line in entity.children
        if line.label.startswith("natural_gas CO2")
    )
    assert gas.detail["formula"] == (
        "AD[10^4 Nm3] x NCV 389.31 GJ/10^4 Nm3 x CC 0.0153 tC/GJ x OF 0.99 x 44/12"
    )
    assert gas.detail["factor"].startswith("cn_ng ")
    fugitive = next(e for e in node.children if e.label == "G00 / fugitive")
    record = fugitive.children[0].children[0]
    assert "direct.csv:2" in record.label and "derived" in record.detail["note"]


def test_text_output_and_bad_figure_id(demo_ledger_path: Path) -> None:
    result = runner.invoke(
        app, ["explain", "energy:2024", "--ledger", str(demo_ledger_path)], terminal_width=200
    )
    assert result.exit_code == 0
    assert "energy:2024 = 5,580.8706 tce" in result.output
    assert "gb2589_elec_equiv" in result.output
    bad = runner.invoke(app, ["explain", "ghg:2024:S9", "--ledger", str(demo_ledger_path)])
    assert bad.exit_code == 2


def test_lines_without_a_region_list_only_their_own_records(tmp_path: Path) -> None:
    ledger = Ledger.open(tmp_path / "l.db")
    ledger.init()
    ledger.upsert_entities([Entity("G", "Group", None, region=None)])
    csv = tmp_path / "a.csv"
    csv.write_text(
        "record_id,entity_id,period,activity_type,quantity,unit,region\n"
        "A1,G,2024,refrigerant_r134a,2,kg,\n"
        "A2,G,2024,refrigerant_r134a,3,kg,CN-SH\n",
        encoding="utf-8",
    )
    assert import_file(ledger, csv).ok
    node = explain(ledger, "ghg:2024:S1", rows=10)
    lines = [line for entity in node.children for line in entity.children]
    # one line per region (none, CN-SH), each listing only its own record
    assert sorted(line.children[0].label.split()[1] for line in lines) == ["A1", "A2"]
    assert all(len(line.children) == 1 for line in lines)
