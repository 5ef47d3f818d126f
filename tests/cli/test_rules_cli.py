"""`esgledger rules ...` and `esgledger register regrade` on a small ledger (S1 scored
basic_info 80, technical 65, S2 90 and 88: with weights 0.5 / 0.5, 72.5 B and 89 A; with
0.2 / 0.8, 0.2×80 + 0.8×65 = 68 C and 0.2×90 + 0.8×88 = 88.4 A)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import delete
from typer.testing import CliRunner

from esgledger import audit
from esgledger.assess import suppliers
from esgledger.auth.accounts import operator
from esgledger.cli import app
from esgledger.domain.model import Entity, EntityKind
from esgledger.store.engine import TABLES
from esgledger.store.ledger import Ledger
from esgledger.usecases import registers

DIMENSIONS = "dimension,name_en,name_zh,weight,source\n"
HALF = DIMENSIONS + "basic_info,basic,基本,0.5,test\ntechnical,technical,技术,0.5,test\n"
TILTED = DIMENSIONS + "basic_info,basic,基本,0.2,test\ntechnical,technical,技术,0.8,test\n"
SUPPLIERS = (
    ",".join(suppliers.SUPPLIER_COLUMNS) + "\n"
    "S1,One,S01,mainland,CN,IT,2020-01-01,,active,test\n"
    "S2,Two,S01,mainland,CN,IT,2020-01-01,,active,test\n"
)
EVALUATIONS = (
    ",".join(suppliers.EVALUATION_COLUMNS) + "\n"
    "S1,2024,80,65,50,50,50,proc,2024-05-01,,\nS2,2024,90,88,50,50,50,proc,2024-05-01,,\n"
)


def put(ledger: Ledger, kind: str, text: str) -> None:
    frame = registers.read_table_file(text.encode("utf-8"), f"{kind}.csv")
    registers.import_frame(ledger.engine, operator("t"), kind, 2024, frame, "f.csv", "0" * 64)


runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), terminal_width=200)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def db(tmp_path: Path) -> str:
    path = tmp_path / "l.db"
    with Ledger.open(path) as ledger:
        ledger.init()
        ledger.upsert_entities(
            [Entity("G00", "Group", None, EntityKind.GROUP), Entity("S01", "Sub", "G00")]
        )
        put(ledger, "suppliers", SUPPLIERS)
    return str(path)


def test_rules_import_list_export_remove_and_regrade(db: str, tmp_path: Path) -> None:
    half, tilted = tmp_path / "half.csv", tmp_path / "tilted.csv"
    half.write_text(HALF, encoding="utf-8")
    tilted.write_text(TILTED, encoding="utf-8")
    code, out, _ = run("rules", "import", "supplier_dimensions", str(half), "--ledger", db)
    assert code == 0 and out.startswith("supplier_dimensions: the company's table (2 rows, sha256")
    with Ledger.open(db) as ledger:
        put(ledger, "supplier_evaluations", EVALUATIONS)
    code, out, _ = run("register", "show", "supplier_evaluations", "--year", "2024",
                       "--ledger", db, "--json")  # fmt: skip
    shown = json.loads(out)
    assert code == 0 and shown["diagnostics"] == []
    assert [(r["score"], r["level"]) for r in shown["rows"]] == [(72.5, "B"), (89.0, "A")]

    code, out, _ = run("rules", "import", "supplier_dimensions", str(tilted), "--ledger", db)
    assert code == 0 and "instead of the company's table" in out
    code, out, _ = run("rules", "list", "--ledger", db)
    assert code == 0 and "supplier_dimensions" in out and "supplier_evaluations" in out
    exported = tmp_path / "out.csv"
    code, out, _ = run("rules", "export", "supplier_dimensions", str(exported), "--year", "2024",
                       "--ledger", db)  # fmt: skip
    assert code == 0 and ",0.5," in exported.read_text(encoding="utf-8")

    code, out, _ = run("register", "regrade", "supplier_evaluations", "2024", "--ledger", db)
    # 0.2×80 + 0.8×65 = 68: C
    assert code == 0 and "2 rows, 1 change class, 2 change value" in out and "S1: B -> C" in out
    code, out, _ = run("register", "regrade", "supplier_evaluations", "2024", "--ledger", db)
    assert code == 0 and "nothing changed" in out

    code, out, _ = run("rules", "remove", "supplier_dimensions", "--ledger", db)
    assert code == 0 and "the packaged default" in out
    code, _, _err = run("register", "regrade", "climate", "2024", "--ledger", db)
    assert code == 2  # not a rated register: refused by the command's choices


def test_an_unfrozen_year_says_so_and_a_locked_one_is_not_regraded(db: str, tmp_path: Path) -> None:
    with Ledger.open(db) as ledger:
        put(ledger, "supplier_evaluations", EVALUATIONS)
        table = TABLES["register_rules"]
        with ledger.engine.begin() as conn:
            conn.execute(delete(table))
    code, out, err = run("register", "show", "supplier_evaluations", "--year", "2024",
                         "--ledger", db, "--json")  # fmt: skip
    (note,) = json.loads(out)["diagnostics"]
    assert code == 0 and note["severity"] == "warning" and note["code"] == "rules-not-frozen"
    code, out, err = run("register", "show", "supplier_evaluations", "--year", "2024",
                         "--ledger", db)  # fmt: skip
    assert "has no rules of its own" in out + err
    with Ledger.open(db) as ledger:
        with ledger.engine.begin() as conn:
            conn.execute(
                TABLES["period_lock"]
                .insert()
                .values(year=2024, locked_by="c", locked_at=datetime(2026, 1, 1))
            )
        start = audit.verify(ledger.engine).entries
    code, _, err = run("register", "regrade", "supplier_evaluations", "2024", "--ledger", db)
    assert code == 1 and "period 2024 is locked by the ESG committee" in err
    bad = tmp_path / "bad.csv"
    bad.write_text("dimension,weight\nbasic_info,-1\n", encoding="utf-8")
    code, _, err = run("rules", "import", "supplier_dimensions", str(bad), "--ledger", db)
    assert code == 2 and "bad.csv:1:name_en: expected a column 'name_en'" in err
    with Ledger.open(db) as ledger:
        assert audit.verify(ledger.engine).entries == start
