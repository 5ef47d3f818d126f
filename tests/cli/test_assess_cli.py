"""`esgledger materiality ...` and `esgledger register ...` on a copy of the demo ledger."""

from __future__ import annotations

import csv
import io
import json
import shutil
import stat
from datetime import date
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pandas as pd
import pytest
from typer.testing import CliRunner

from esgledger.assess import risks
from esgledger.cli import app
from esgledger.store.ledger import Ledger
from esgledger.usecases import survey

runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), terminal_width=200)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def db(demo_ledger_path: Path, tmp_path: Path) -> str:
    path = tmp_path / "demo.db"
    shutil.copy(demo_ledger_path, path)
    return str(path)


def test_a_survey_from_the_command_line(db: str, tmp_path: Path) -> None:
    groups = tmp_path / "groups.csv"
    groups.write_text(
        "group_id,axis,weight,name_en,name_zh,internal\n"
        "staff,impact,0.5,staff,员工,yes\n"
        "clients,impact,x,clients,客户,no\n",
        encoding="utf-8",
    )
    code, _, err = run(
        "materiality", "create", "--year", "2024", "--title", "t", "--closes", "2099-01-31",
        "--groups", str(groups), "--ledger", db,
    )  # fmt: skip
    assert code == 1 and "groups.csv:3:weight: expected a number, got 'x'" in err
    groups.write_text(
        "group_id,axis,weight,name_en,name_zh,internal\n"
        "staff,impact,0.5,staff,员工,yes\n"
        "board,financial,1,board,董事会,yes\n",
        encoding="utf-8",
    )
    code, out, _ = run(
        "materiality", "create", "--year", "2024", "--title", "2024 bis", "--closes",
        "2099-01-31", "--groups", str(groups), "--ledger", db, "--actor", "alice",
    )  # fmt: skip
    assert code == 0 and out.startswith("campaign 2 of 2024 open until 2099-01-31 23:59 UTC")

    links = tmp_path / "links.csv"
    code, out, _ = run(
        "materiality", "links", "--campaign", "2", "--group", "staff", "--count", "2",
        "--out", str(links), "--base-url", "https://esg.example", "--ledger", db,
    )  # fmt: skip
    assert code == 0, out
    assert stat.S_IMODE(links.stat().st_mode) == 0o600
    rows = list(csv.DictReader(links.open(encoding="utf-8-sig")))  # with a BOM, for Excel
    assert [r["group"] for r in rows] == ["staff", "staff"]
    url = urlparse(rows[0]["link"])
    assert (url.scheme, url.netloc, url.path) == ("https", "esg.example", "/survey/2")
    code, _, err = run(
        "materiality", "links", "--campaign", "2", "--group", "staff", "--count", "1",
        "--out", str(links), "--ledger", db,
    )  # fmt: skip
    assert code == 1 and "exists" in err

    secret = parse_qs(url.query)["token"][0]
    with Ledger.open(Path(db)) as ledger:
        survey.submit_response(
            ledger.engine,
            secret,
            [
                survey.Answer(
                    "climate_change", "impact", scale=4, scope=4, irremediability=2, likelihood=5
                )
            ],
        )
    code, out, _ = run("materiality", "rate", "--campaign", "2", "--json", "--ledger", db)
    rates = {r["group_id"]: r for r in json.loads(out)["rows"]}
    assert (rates["staff"]["issued"], rates["staff"]["used"], rates["staff"]["rate"]) == (2, 1, 0.5)
    assert rates["total"]["rate"] == 0.5

    code, out, _ = run("materiality", "results", "--campaign", "2", "--csv", "--ledger", db)
    frame = list(csv.DictReader(io.StringIO(out)))
    assert [r["topic_id"] for r in frame] == ["climate_change"]
    # (4 + 4 + 2) / 3 x 5 / 5 = 3.333...: high impact, no financial answer
    assert float(frame[0]["impact"]) == pytest.approx(10 / 3)
    assert frame[0]["tier"] == "high"
    assert "impact = 1.000×3.333 (staff n=1) = 3.333" in frame[0]["arithmetic"]

    # the warnings say what the scores rest on (issue 17: a silent group was re-weighted
    # without a word, an unanswered axis read as 0)
    code, out, _ = run("materiality", "results", "--campaign", "2", "--json", "--ledger", db)
    said = [d["message"] for d in json.loads(out)["diagnostics"]]
    assert "group board (financial) gave no answer: its weight is spread over the other " \
        "financial groups on every topic" in said  # fmt: skip
    assert any(m.startswith("topic climate_change has no financial answer") for m in said)
    code, out, err = run(
        "materiality", "sign-off", "--campaign", "2", "--ledger", db, "--actor", "committee"
    )
    assert code == 1 and "cannot be signed off" in err
    code, out, _ = run("materiality", "list", "--json", "--ledger", db)
    listed = {r["campaign_id"]: r for r in json.loads(out)["rows"]}
    assert listed[2]["status"] == "open"


def test_topic_changes(demo_ledger_path: Path) -> None:
    """The demo ledger's 2023 and 2024 lists (the seed's); a year without a list exits 1."""
    db = str(demo_ledger_path)
    code, out, _ = run("materiality", "changes", "--year", "2024", "--csv", "--ledger", db)
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0
    assert ("merged", "climate_change", "green_operations") in {
        (r["change"], r["topic_id"], r["previous"]) for r in rows
    }
    assert run("materiality", "changes", "--year", "2020", "--ledger", db)[0] == 1


def test_register_import_show_history(db: str, tmp_path: Path) -> None:
    bad = tmp_path / "bcm.csv"
    bad.write_text(
        ",".join(risks.BCM_COLUMNS) + "\nR1,S01,flood,facilities,3,9,,,,,,,test\n",
        encoding="utf-8",
    )
    code, _, err = run("register", "import", "bcm", str(bad), "--year", "2025", "--ledger", db)
    assert code == 1
    assert "bcm.csv:2:impact: expected an integer 1-5, got '9'" in err
    assert "nothing imported" in err
    bad.write_text(
        ",".join(risks.BCM_COLUMNS) + "\nR1,S01,flood,facilities,3,5,,,,,,,test\n",
        encoding="utf-8",
    )
    code, out, _ = run("register", "import", "bcm", str(bad), "--year", "2025", "--ledger", db)
    assert code == 0 and "imported as bcm 2025" in out
    code, out, _ = run("register", "show", "bcm", "--year", "2025", "--csv", "--ledger", db)
    (row,) = csv.DictReader(io.StringIO(out))
    assert (row["score"], row["grade"]) == ("15", "significant")
    code, out, _ = run("register", "history", "bcm", "--year", "2025", "--json", "--ledger", db)
    (imported,) = json.loads(out)["rows"]
    assert (imported["file_name"], imported["rows"], imported["imported_by"]) == (
        "bcm.csv",
        1,
        "cli",
    )
    code, _, err = run("register", "show", "bcm", "--year", "2031", "--ledger", db)
    assert code == 1 and "no bcm register of 2031" in err
    code, out, _ = run("register", "show", "infosec", "--year", "2024", "--json", "--ledger", db)
    shown = json.loads(out)["rows"]
    assert len(shown) == 20 and all(r["arithmetic"].startswith(("L=", "V=")) for r in shown)
    code, out, _ = run("explain", "register:bcm:2024:major", "--json", "--ledger", db)
    assert code == 0 and json.loads(out)["value"] == 14


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_a_template_filled_in_imports(db: str, tmp_path: Path, suffix: str) -> None:
    from openpyxl import load_workbook  # noqa: PLC0415

    path = tmp_path / f"bcm{suffix}"
    assert run("register", "template", "bcm", str(path))[0] == 0
    assert run("register", "template", "bcm", str(path))[0] == 1  # never overwrites
    row = ["R007", "S01", "flood", "facilities", "2", "2", "", "", "", "", "", "", "test"]
    if suffix == ".xlsx":
        book = load_workbook(path)
        sheet = book.active
        assert sheet is not None
        assert [c.value for c in sheet[1]] == list(risks.BCM_COLUMNS)
        sheet.append(row)
        book.save(path)
    else:
        text = path.read_text(encoding="utf-8-sig")
        assert text.splitlines() == [",".join(risks.BCM_COLUMNS)]
        path.write_text(text + ",".join(row) + "\n", encoding="utf-8-sig")
    code, out, err = run("register", "import", "bcm", str(path), "--year", "2026", "--ledger", db)
    assert code == 0, err
    code, out, _ = run("register", "show", "bcm", "--year", "2026", "--json", "--ledger", db)
    (shown,) = json.loads(out)["rows"]
    assert (shown["risk_id"], shown["grade"]) == ("R007", "low")


def test_a_groups_file_saved_by_a_chinese_excel_is_read(db: str, tmp_path: Path) -> None:
    """The groups file goes through the shared reader: GB18030 as well as UTF-8."""
    groups = tmp_path / "groups.csv"

    def create(internal: str) -> tuple[int, str, str]:
        header = "group_id,axis,weight,name_en,name_zh,internal\r\n"
        groups.write_bytes(
            (header + f"staff,impact,0.5,staff,员工,{internal}\r\n").encode("gb18030")
        )
        return run(
            "materiality", "create", "--year", "2024", "--title", "t", "--closes", "2099-01-31",
            "--groups", str(groups), "--ledger", db,
        )  # fmt: skip

    code, _, err = create("是")
    assert code == 1 and "groups.csv:2:internal: expected yes or no, got '是'" in err
    code, out, _ = create("yes")
    assert code == 0, out


def test_overdue_drills_are_said(demo_ledger_path: Path) -> None:
    """Issue 17: the BCM drill rule of methodology §16 (a drill in the 12 months before, the
    planned drill not passed) appeared nowhere. The demo has 3 risks with a missed drill."""
    db = str(demo_ledger_path)
    code, out, err = run("register", "show", "bcm", "--year", "2024", "--json", "--ledger", db)
    assert code == 0, err
    late = [d for d in json.loads(out)["diagnostics"] if d["code"] == "drill-overdue"]
    assert len(late) == 3 and all(d["severity"] == "warning" for d in late)
    rows = pd.DataFrame(json.loads(out)["rows"])
    expected = risks.overdue_drills(rows, date(2024, 12, 31))
    assert [d["message"].split(" (")[0] for d in late] == expected["risk_id"].tolist()
