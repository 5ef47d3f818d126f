"""`esgledger carbon ...` on a copy of the demo ledger."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from esgledger.cli import app
from esgledger.store.engine import TABLES
from esgledger.store.ledger import Ledger

runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), terminal_width=200)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def db(demo_ledger_path: Path, tmp_path: Path) -> str:
    path = tmp_path / "demo.db"
    shutil.copy(demo_ledger_path, path)
    return str(path)


def test_a_compliance_year_from_the_command_line(db: str) -> None:
    code, out, err = run(
        "carbon", "post-emissions", "--entity", "S01", "--year", "2024", "--ledger", db
    )
    assert code == 0, err
    code, out, _ = run("carbon", "postings", "--json", "--ledger", db)
    (posted,) = json.loads(out)["rows"]
    emissions = posted["quantity"]
    assert posted["lineage"] == "ghg:2024:S1:S01;ghg:2024:S2L:S01" and emissions > 0
    allocation = round(emissions * 0.9)
    code, _, err = run(
        "carbon", "record", "allocation", "--entity", "S01", "--quantity", str(allocation),
        "--unit", "CEA", "--vintage", "2024", "--ledger", db,
    )  # fmt: skip
    assert code == 0, err
    code, _, err = run(
        "carbon", "record", "surrender", "--entity", "S01", "--quantity", str(allocation + 1),
        "--unit", "CEA", "--vintage", "2024", "--year", "2024", "--ledger", db,
    )  # fmt: skip
    assert code == 1 and "cannot surrender" in err
    code, _, err = run(
        "carbon", "record", "surrender", "--entity", "S01", "--quantity", str(allocation),
        "--unit", "CEA", "--vintage", "2024", "--year", "2024", "--ledger", db,
    )  # fmt: skip
    assert code == 0, err
    code, out, _ = run("carbon", "position", "--year", "2024", "--json", "--ledger", db)
    (position,) = json.loads(out)["rows"]
    assert position["gap"] == pytest.approx(emissions - allocation)
    assert position["cea_held"] == 0
    assert run("carbon", "verify", "--ledger", db)[0] == 0
    with Ledger.open(Path(db)) as ledger, ledger.engine.begin() as conn:
        posting = TABLES["carbon_posting"]
        conn.execute(update(posting).where(posting.c.seq == 2).values(quantity=1e9))
    code, _, err = run("carbon", "verify", "--ledger", db)
    assert code == 1 and "carbon posting 2: content does not match its hash: modified" in err
