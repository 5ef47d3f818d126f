"""`esgledger roster import` stores a snapshot; `esgledger kpi` computes workforce figures."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from typer.testing import CliRunner

from esgledger.cli import app
from esgledger.domain import Entity
from esgledger.store.ledger import Ledger

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "workforce"))
from workforce_data import HEADER, ROWS, roster_csv

runner = CliRunner()


def _ledger(tmp_path: Path) -> Path:
    path = tmp_path / "l.db"
    store = Ledger.open(path)
    store.init()
    store.upsert_entities([Entity("G01", "Group", None), Entity("G02", "Sub", "G01")])
    store.close()
    return path


def test_roster_round_trip_and_workforce_kpis(tmp_path: Path) -> None:
    ledger = _ledger(tmp_path)
    roster = tmp_path / "roster.csv"
    roster.write_bytes(roster_csv())
    result = runner.invoke(
        app, ["roster", "import", str(roster), "--as-of", "2024-12-31", "--ledger", str(ledger)]
    )
    assert result.exit_code == 0, result.output
    assert "17 employees stored" in result.output
    again = runner.invoke(
        app, ["roster", "import", str(roster), "--as-of", "2024-12-31", "--ledger", str(ledger)]
    )
    assert "already imported" in again.output
    store = Ledger.open(ledger)
    assert store.counts()["roster_employee"] == 17
    assert len(store.roster_frame()) == 17
    out = runner.invoke(app, ["kpi", "--year", "2024", "--ledger", str(ledger), "--json"])
    rows = {r["metric_id"]: r for r in json.loads(out.stdout)["rows"]}
    # closing headcount: 7 in G01 + 4 in G02 (see tests/workforce/workforce_data.py)
    assert rows["workforce.headcount"]["computed"] == 11
    assert rows["workforce.headcount"]["source"] == "computed"
    assert rows["workforce.new_hires"]["computed"] == 4  # E04, E06, E10, F04


def test_a_bad_roster_is_located_and_stores_nothing(tmp_path: Path) -> None:
    ledger = _ledger(tmp_path)
    roster = tmp_path / "bad.csv"
    roster.write_bytes(roster_csv((*ROWS, ROWS[0]), HEADER))  # E01 twice
    result = runner.invoke(
        app, ["roster", "import", str(roster), "--as-of", "2024-12-31", "--ledger", str(ledger)]
    )
    assert result.exit_code == 1
    assert "bad.csv:19:employee_id" in result.stderr
    assert Ledger.open(ledger).counts()["roster_employee"] == 0


def test_the_turnover_basis_is_a_report_setting(tmp_path: Path) -> None:
    ledger = _ledger(tmp_path)
    roster = tmp_path / "roster.csv"
    roster.write_bytes(roster_csv())
    runner.invoke(
        app, ["roster", "import", str(roster), "--as-of", "2024-12-31", "--ledger", str(ledger)]
    )

    def turnover() -> float:
        out = runner.invoke(app, ["kpi", "--year", "2024", "--ledger", str(ledger), "--json"])
        rows = {r["metric_id"]: r for r in json.loads(out.stdout)["rows"]}
        return float(rows["workforce.turnover_rate"]["computed"])

    # 5 leavers in 2024 (E05, E06, F02, F05, F07); closing 11, opening 12
    assert turnover() == round(5 / 11 * 100, 2)
    assert (
        runner.invoke(
            app, ["setting", "set", "turnover_basis", "average", "--ledger", str(ledger)]
        ).exit_code
        == 0
    )
    assert turnover() == round(5 / 11.5 * 100, 2)
    refused = runner.invoke(
        app, ["setting", "set", "turnover_basis", "median", "--ledger", str(ledger)]
    )
    assert refused.exit_code == 2


def test_subsidiary_totals_combine_with_the_roster(tmp_path: Path) -> None:
    ledger = _ledger(tmp_path)
    roster = tmp_path / "roster.csv"
    roster.write_bytes(roster_csv(tuple(r for r in ROWS if r.startswith("E"))))  # G01 only
    runner.invoke(
        app, ["roster", "import", str(roster), "--as-of", "2024-12-31", "--ledger", str(ledger)]
    )
    totals = tmp_path / "g02.csv"
    totals.write_text(
        "record_id,entity_id,period,metric_id,value,unit,numerator,denominator\n"
        "T1,G02,2024,workforce.headcount,4,persons,,\n"
        "T2,G02,2024,workforce.leavers,3,persons,,\n"
        "T3,G02,2024,workforce.turnover_rate,75,%,3,4\n",
        encoding="utf-8",
    )
    assert runner.invoke(app, ["import", str(totals), "--ledger", str(ledger)]).exit_code == 0
    out = runner.invoke(app, ["kpi", "--year", "2024", "--ledger", str(ledger), "--json"])
    rows = {r["metric_id"]: r for r in json.loads(out.stdout)["rows"]}
    # G01 from its roster: 7 employees at year end, 2 leavers; G02 reports 4 and 3 (75 %)
    assert rows["workforce.headcount"]["computed"] == 11
    # the group rate is recomputed from the parts, (2 + 3) / (7 + 4), not averaged
    assert rows["workforce.turnover_rate"]["computed"] == round(5 / 11 * 100, 2)


def test_a_later_roster_leaves_a_locked_year_and_is_audited(tmp_path: Path) -> None:
    """A new roster snapshot changed every year's workforce figures, a locked year's too, with
    no audit entry. A locked year keeps the roster that was current when it was locked."""
    from esgledger import audit  # noqa: PLC0415
    from esgledger.auth import accounts  # noqa: PLC0415
    from esgledger.workflow import periods  # noqa: PLC0415

    ledger = _ledger(tmp_path)
    first, later = tmp_path / "roster.csv", tmp_path / "later.csv"
    first.write_bytes(roster_csv())
    later.write_bytes(roster_csv(ROWS[:5], HEADER))  # five employees left in the file

    def headcount(year: int) -> float:
        out = runner.invoke(app, ["kpi", "--year", str(year), "--ledger", str(ledger), "--json"])
        rows = {r["metric_id"]: r for r in json.loads(out.stdout)["rows"]}
        return float(rows["workforce.headcount"]["computed"])

    args = ["roster", "import", "--as-of", "2024-12-31", "--ledger", str(ledger)]
    assert runner.invoke(app, [*args[:2], str(first), *args[2:]]).exit_code == 0
    assert headcount(2024) == 11  # 7 in G01 + 4 in G02
    with Ledger.open(ledger) as store:
        periods.lock_period(store.engine, accounts.operator("admin"), 2024, force=True)
    assert runner.invoke(app, [*args[:2], str(later), *args[2:]]).exit_code == 0
    assert headcount(2024) == 11  # locked: the roster of the lock
    assert headcount(2025) <= 5  # open: the later snapshot
    with Ledger.open(ledger) as store:
        imports = [
            e for e in audit.entries(store.engine, object_type="batch") if '"roster"' in e["after"]
        ]
        assert len(imports) == 2 and audit.verify(store.engine).ok
