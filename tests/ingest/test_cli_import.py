"""`esgledger import` and `esgledger template` through the real command line."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner, Result

from esgledger.cli import app
from esgledger.factors.library import FactorLibrary
from esgledger.ingest.importer import import_file
from esgledger.ingest.schema import TEMPLATES
from esgledger.store.ledger import Ledger

CORPUS = Path(__file__).resolve().parent / "corpus"
State = Callable[[Ledger], tuple[dict[str, int], list[dict[str, Any]]]]
runner = CliRunner()


def _import(*args: str) -> Result:
    return runner.invoke(app, ["import", *args])


# -- diagnostics as text and as JSON -------------------------------------------------------


def test_errors_print_located_lines_and_exit_1(
    seeded: Ledger, ledger_path: Path, state: State
) -> None:
    before = state(seeded)
    result = _import(str(CORPUS / "quantity_text.csv"), "--ledger", str(ledger_path))
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert any(
        line.startswith("quantity_text.csv:3:quantity: quantity 'about 100' is not a number")
        for line in lines
    ), result.stderr
    assert "quantity_text.csv: 1 errors; nothing imported" in result.stdout
    assert state(seeded) == before


def test_every_error_line_has_the_file_row_column_message_shape(
    ledger_path: Path, seeded: Ledger
) -> None:
    files = ["gbk_defect.csv", "record_id_duplicate.csv", "direct_scope4.csv", "column_missing.csv"]
    result = _import(*(str(CORPUS / f) for f in files), "--ledger", str(ledger_path))
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert len(lines) == len(files)
    shape = re.compile(r"^[^:]+:\d+:[a-z_0-9]+: .+$")
    assert all(shape.match(line) for line in lines), lines
    assert lines[0].startswith("gbk_defect.csv:4:quantity: quantity '一百' is not a number")


def test_error_lines_are_exactly_str_of_the_diagnostics(
    seeded: Ledger, ledger_path: Path, library: FactorLibrary
) -> None:
    files = [CORPUS / "quantity_text.csv", CORPUS / "xlsx_quantity_text.xlsx"]
    expected = [str(d) for f in files for d in import_file(seeded, f, library=library).diagnostics]
    result = _import(*(str(f) for f in files), "--ledger", str(ledger_path))
    assert result.stderr.splitlines() == expected


def test_a_value_with_brackets_is_printed_not_interpreted(
    seeded: Ledger, ledger_path: Path, tmp_path: Path
) -> None:
    header = (CORPUS / "valid" / "base.csv").read_text(encoding="utf-8").splitlines()[0]
    path = tmp_path / "brackets.csv"
    path.write_text(header + "\nB-1,G00,2024-01,electricity,[/x],MWh,,,,,,,\n", encoding="utf-8")
    result = _import(str(path), "--ledger", str(ledger_path))
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.exit_code == 1
    assert "brackets.csv:2:quantity: quantity '[/x]' is not a number [number]" in result.stderr


def test_json_prints_the_same_diagnostics(
    seeded: Ledger, ledger_path: Path, library: FactorLibrary, state: State
) -> None:
    before = state(seeded)
    files = [CORPUS / "gbk_defect.csv", CORPUS / "formula.xlsx", CORPUS / "valid" / "gbk.csv"]
    result = _import(*(str(f) for f in files), "--ledger", str(ledger_path), "--json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)  # stdout is JSON only
    assert [f["file"] for f in data["files"]] == ["gbk_defect.csv", "formula.xlsx", "gbk.csv"]
    bad, formula, good = data["files"]
    assert bad["ok"] is False and bad["batch_id"] is None and bad["kind"] == "activity"
    assert bad["diagnostics"] == [
        {
            "code": "number",
            "message": "quantity '一百' is not a number",
            "severity": "error",
            "file": "gbk_defect.csv",
            "row": 4,
            "column": "quantity",
        }
    ]
    assert formula["diagnostics"][0]["file"] == "formula.xlsx[activity]"
    assert (formula["diagnostics"][0]["row"], formula["diagnostics"][0]["column"]) == (
        3,
        "quantity",
    )
    # each file is all-or-nothing on its own: the valid one was imported
    assert good["ok"] is True and good["batch_id"] == 2 and good["rows"] == 3
    assert seeded.counts()["activity_record"] == before[0]["activity_record"] + 3
    # the same diagnostics as the library and as the text output
    for entry, path in zip(data["files"][:2], files[:2], strict=True):
        report = import_file(seeded, path, library=library, dry_run=True)
        assert entry["diagnostics"] == [d.to_dict() for d in report.diagnostics]
    text = _import(*(str(f) for f in files[:2]), "--ledger", str(ledger_path))
    for entry in data["files"][:2]:
        for d in entry["diagnostics"]:
            where = f"{d['file']}:{d['row']}:{d['column']}"
            assert any(
                line.startswith(where) and d["message"] in line for line in text.stderr.splitlines()
            ), (where, text.stderr)


def test_dry_run_writes_nothing(seeded: Ledger, ledger_path: Path, state: State) -> None:
    before = state(seeded)
    good = CORPUS / "valid" / "gbk.csv"
    result = _import(str(good), "--ledger", str(ledger_path), "--dry-run")
    assert result.exit_code == 0, result.output
    assert "gbk.csv: 3 rows valid (dry run, nothing written)" in result.stdout
    assert state(seeded) == before

    result = _import(str(CORPUS / "entity_unknown.csv"), "--ledger", str(ledger_path), "--dry-run")
    assert result.exit_code == 1
    assert "entity_unknown.csv:3:entity_id: entity 'S99'" in result.stderr
    assert state(seeded) == before

    result = _import(str(good), "--ledger", str(ledger_path), "--dry-run", "--json")
    assert result.exit_code == 0
    entry = json.loads(result.stdout)["files"][0]
    assert (entry["ok"], entry["batch_id"], entry["rows"]) == (True, None, 3)
    assert state(seeded) == before

    # and the dry run did not mark the file as imported: the real import still happens
    result = _import(str(good), "--ledger", str(ledger_path))
    assert result.exit_code == 0
    assert "gbk.csv: imported 3 activity rows as batch 2" in result.stdout


def test_kind_option_reads_the_named_sheet(seeded: Ledger, ledger_path: Path) -> None:
    path = CORPUS / "xlsx_two_sheets.xlsx"
    result = _import(str(path), "--ledger", str(ledger_path), "--kind", "direct")
    assert result.exit_code == 0, result.output
    assert seeded.direct_frame()["record_id"].tolist() == ["CD-001"]


def test_real_process_exit_code_and_stderr(
    seeded: Ledger, ledger_path: Path, tmp_path: Path
) -> None:
    exe = Path(sys.executable).with_name("esgledger")
    done = subprocess.run(
        [str(exe), "import", str(CORPUS / "period_month13.csv"), "--ledger", str(ledger_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert "period_month13.csv:3:period: period '2024-13' is not YYYY or YYYY-MM" in done.stderr
    assert "Traceback" not in done.stderr
    missing = _import(str(CORPUS / "valid" / "gbk.csv"), "--ledger", str(tmp_path / "no.db"))
    assert missing.exit_code == 2 and "no ledger here" in missing.stderr
    assert not (tmp_path / "no.db").exists()


# -- the XLSX template ------------------------------------------------------------------------


@pytest.fixture
def template(tmp_path: Path) -> Path:
    path = tmp_path / "out" / "template.xlsx"
    result = runner.invoke(app, ["template", str(path)])
    assert result.exit_code == 0, result.output
    assert path.is_file()
    return path


def _list_values(book: Any, formula: str) -> list[str]:
    match = re.fullmatch(r"=?(\w+)!\$([A-Z]+)\$(\d+):\$([A-Z]+)\$(\d+)", formula)
    assert match, formula
    sheet, col, first, col2, last = match.groups()
    assert col == col2
    cells = book[sheet][f"{col}{first}:{col}{last}"]
    return [row[0].value for row in cells]


def test_template_sheets_headers_and_drop_downs(template: Path, library: FactorLibrary) -> None:
    book = load_workbook(template)
    assert book.sheetnames == ["instructions", "lists", "activity", "direct", "metrics"]
    for kind, columns in TEMPLATES.items():
        header = [c.value for c in book[kind][1]]
        assert header == [c.name for c in columns]

    activity = book["activity"]
    names = [c.name for c in TEMPLATES["activity"]]
    rules = {}
    for rule in activity.data_validations.dataValidation:
        assert rule.type == "list"
        for cell_range in rule.sqref.ranges:
            assert cell_range.min_col == cell_range.max_col
            assert cell_range.min_row == 2 and cell_range.max_row >= 10_000
            rules[names[cell_range.min_col - 1]] = rule
    assert {"activity_type", "unit"} <= rules.keys()

    types = _list_values(book, rules["activity_type"].formula1)
    assert types == list(library.activity_types.index)
    units = _list_values(book, rules["unit"].formula1)
    assert {"MWh", "kWh", "m3", "L", "t", "kg", "GJ"} <= set(units)
    # every activity type's own basis unit can be chosen from the drop-down
    assert set(library.activity_types["basis_unit"]) <= set(units)
    quality = _list_values(book, rules["data_quality"].formula1)
    assert quality == ["measured", "calculated", "estimated", "reported"]


def test_a_filled_template_row_imports(
    template: Path, seeded: Ledger, ledger_path: Path, tmp_path: Path, state: State
) -> None:
    book = load_workbook(template)
    values = {
        "record_id": "T-0001",
        "entity_id": "S02",
        "period": "2024-03",
        "activity_type": "electricity",
        "quantity": 3815.2,
        "unit": "MWh",
        "region": "CN-JS",
        "data_quality": "measured",
        "note": "meter 12 main building / 一号电表",
    }
    book["activity"].append([values.get(c.name) for c in TEMPLATES["activity"]])
    filled = tmp_path / "filled.xlsx"
    book.save(filled)
    before = state(seeded)

    result = _import(str(filled), "--ledger", str(ledger_path))

    assert result.exit_code == 0, result.output
    # (the line should start "filled.xlsx[activity]:"; rich markup eats "[activity]", the bug
    # of test_error_lines_are_exactly_str_of_the_diagnostics)
    assert ": imported 1 activity rows as batch 2" in result.stdout
    assert seeded.counts()["activity_record"] == before[0]["activity_record"] + 1
    row = seeded.activity_frame().iloc[-1]
    assert (row["record_id"], row["entity_id"], row["year"], row["month"]) == (
        "T-0001",
        "S02",
        2024,
        3,
    )
    assert (row["quantity"], row["quantity_text"], row["unit"]) == (3815.2, "3815.2", "MWh")
    assert row["note"] == "meter 12 main building / 一号电表"
    assert row["source_file"] == "filled.xlsx[activity]" and row["source_row"] == 2


def test_a_filled_template_direct_row_imports(
    template: Path, seeded: Ledger, ledger_path: Path, tmp_path: Path
) -> None:
    book = load_workbook(template)
    values = {
        "record_id": "D-2024-01",
        "entity_id": "G00",
        "period": "2024",
        "scope": 3,
        "category": "s3_04_upstream_transport",
        "tco2e": 3265.4,
        "gas": "CO2e",
        "data_quality": "reported",
        "provenance": "2024 ESG report, KPI table",
    }
    book["direct"].append([values.get(c.name) for c in TEMPLATES["direct"]])
    filled = tmp_path / "filled_direct.xlsx"
    book.save(filled)
    result = _import(str(filled), "--ledger", str(ledger_path))
    assert result.exit_code == 0, result.output
    stored = seeded.direct_frame()
    assert stored["record_id"].tolist() == ["D-2024-01"]
    assert stored["tco2e"].tolist() == [3265.4]
