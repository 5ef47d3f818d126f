"""`esgledger report build`, `report gaps` and `report narrative import/export` through the real
Typer app: the demo ledger's report written to files, the gap list and its exit codes, and the
narrative round trip (SQLite and, with ESGLEDGER_TEST_PG_URL, PostgreSQL)."""

from __future__ import annotations

import csv
import shutil
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from esgledger.cli import app
from esgledger.domain.model import Entity, EntityKind
from esgledger.report import narrative
from esgledger.store.ledger import Ledger

runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), terminal_width=200)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def ledger(demo_ledger_path: Path, tmp_path: Path) -> Path:
    path = tmp_path / "copy.db"
    shutil.copy(demo_ledger_path, path)
    return path


def test_build_writes_html_and_xlsx_of_the_demo_ledger(ledger: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    files = []
    for fmt in ("html", "xlsx"):
        code, stdout, stderr = run(
            "report", "build", "--year", "2024", "--lang", "all", "--format", fmt,
            "--out", str(out), "--ledger", str(ledger),
        )  # fmt: skip
        assert code == 0, stderr
        assert "gaps" in stdout
        files += [out / f"esgledger-report-2024-{lang}.{fmt}" for lang in ("zh", "en")]
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in files)
    html = (out / "esgledger-report-2024-en.html").read_text(encoding="utf-8")
    assert html.lstrip().lower().startswith("<!doctype html")
    assert "4,472.70" in html  # scope 1 of 2024, from the ledger
    zh = (out / "esgledger-report-2024-zh.html").read_text(encoding="utf-8")
    with Ledger.open(ledger) as opened:  # the demo group's text, entered by the demo build
        about = narrative.narratives(opened.engine, 2024, "zh")["about"].text
    assert about.split("\n")[0][:20] in zh
    with zipfile.ZipFile(out / "esgledger-report-2024-en.xlsx") as book:
        assert "xl/workbook.xml" in book.namelist()


def test_gaps_lists_and_exits_0_unless_strict(ledger: Path) -> None:
    code, out, _ = run("report", "gaps", "--year", "2024", "--lang", "en", "--ledger", str(ledger))
    assert code == 0
    assert "gaps" in out
    strict, _, _ = run("report", "gaps", "--year", "2024", "--strict", "--ledger", str(ledger))
    has_gaps = "0 gaps" not in out
    assert strict == (1 if has_gaps else 0)


def test_gaps_of_one_framework_and_unknown_framework_ids(ledger: Path) -> None:
    """``--framework`` takes any framework id with a content index in the registry."""
    base = ("report", "gaps", "--year", "2024", "--lang", "en", "--ledger", str(ledger))

    def title(out: str) -> str:
        return next(line.strip() for line in out.splitlines() if "gaps" in line)

    code, everything, _ = run(*base)
    assert code == 0
    code, szse, _ = run(*base, "--framework", "szse17")
    assert code == 0
    assert title(szse) == title(everything)  # the demo's gaps are all SZSE articles
    code, gri, _ = run(*base, "--framework", "gri", "--strict")
    assert (code, title(gri)) == (0, "report 2024 (en): 0 gaps")
    code, _, err = run(*base, "--framework", "hkex")
    assert code == 1
    assert "hkex" in err and "gri, szse17" in err


def test_a_missing_ledger_is_a_usage_error(tmp_path: Path) -> None:
    code, _, err = run("report", "build", "--year", "2024", "--ledger", str(tmp_path / "no.db"))
    assert code == 2 and "no ledger here" in err


ENTITIES = (
    Entity("G", "Group Co", kind=EntityKind.GROUP),
    Entity("S1", "Sub One", parent_id="G", region="CN-BJ"),
)


@pytest.fixture
def store(store_url: str) -> str:
    with Ledger.open(store_url) as opened:
        opened.init()
        opened.upsert_entities(ENTITIES)
    return store_url


def test_narrative_export_edit_import_round_trip(store: str, tmp_path: Path) -> None:
    exported = tmp_path / "texts.csv"
    code, out, err = run(
        "report", "narrative", "export", str(exported), "--year", "2024", "--ledger", store
    )
    assert code == 0, err
    rows = list(csv.DictReader(exported.open(encoding="utf-8-sig")))
    assert {r["origin"] for r in rows} == {"prompt"}
    assert len(rows) == 2 * len(narrative.section_ids())
    for row in rows:
        if (row["section_id"], row["lang"]) == ("climate", "en"):
            row["text"] = "Edited offline.\n\nSecond paragraph, with a comma."
    edited = tmp_path / "edited.csv"
    with edited.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    code, out, err = run(
        "report", "narrative", "import", str(edited), "--year", "2024", "--ledger", store,
        "--actor", "li.wei",
    )  # fmt: skip
    assert code == 0, err
    assert "1 narrative(s) of 2024 written" in out
    with Ledger.open(store) as opened:
        stored = narrative.narratives(opened.engine, 2024, "en")
    assert stored["climate"].text == "Edited offline.\n\nSecond paragraph, with a comma."
    assert stored["climate"].updated_by == "li.wei"

    folder = tmp_path / "md"
    code, _, err = run(
        "report", "narrative", "export", str(folder), "--year", "2024", "--ledger", store
    )
    assert code == 0, err
    assert (folder / "en" / "climate.md").read_text(encoding="utf-8") == stored["climate"].text
    again, _, err = run(
        "report", "narrative", "export", str(folder), "--year", "2024", "--ledger", store
    )
    assert again == 1 and "exists" in err


def test_a_bad_narrative_file_imports_nothing_and_says_where(store: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "section_id,lang,text\nclimate,en,Good.\nnowhere,en,Bad section.\ntax,de,Bad lang.\n",
        encoding="utf-8",
    )
    code, _, err = run(
        "report", "narrative", "import", str(bad), "--year", "2024", "--ledger", store
    )
    assert code == 1
    assert "bad.csv:3:section_id: no report section 'nowhere'" in err
    assert "bad.csv:4:lang:" in err
    assert "nothing imported" in err
    with Ledger.open(store) as opened:
        assert narrative.narratives(opened.engine, 2024, "en") == {}
