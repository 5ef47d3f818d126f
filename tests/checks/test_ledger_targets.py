"""The company's targets live in its ledger (issue 16): none ship with the product, a ledger
without targets says so, a targets file is entered all or nothing with located problems, and
the pathway's milestones are the ones the company marked.

The new ledger: one entity ``A`` (Guangdong) with 1,000 MWh of purchased electricity in 2024.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from esgledger import audit, service
from esgledger.auth.accounts import Principal, operator
from esgledger.auth.roles import Role
from esgledger.book import current_book
from esgledger.cli import app
from esgledger.domain.errors import Forbidden
from esgledger.domain.model import Entity, EntityKind
from esgledger.ingest.importer import import_file
from esgledger.store.ledger import Ledger
from esgledger.usecases.reference import LockedPeriodChange
from esgledger.usecases.strategy import ledger_pathway
from esgledger.usecases.targets import (
    MilestonesMissingError,
    TargetsRejected,
    import_targets,
    ledger_milestones,
    targets_csv,
)
from esgledger.workflow.periods import lock_period

HEADER = (
    "target_id,metric_id,entity_id,kind,direction,value,unit,baseline_year,baseline_value,"
    "start_year,deadline_year,name_en,name_zh,source,note,milestone\n"
)
OWN = HEADER + (
    "elec.cut,energy.electricity_purchased,*,reduction,>=,10,%,2024,,2025,2030,"
    "electricity -10 %,外购电力下降10%,Board resolution 2025-03,,\n"
    "peak,ghg.total,*,qualitative,,,,,,2025,2032,carbon peak,碳达峰,"
    "Board resolution 2025-03,,peak\n"
    "neutral,ghg.total,*,qualitative,,,,,,2025,2055,carbon neutrality,碳中和,"
    "Board resolution 2025-03,,neutrality\n"
    "netzero,ghg.total,*,qualitative,,,,,,2025,2060,net zero,净零,Board resolution 2025-03,,"
    "net_zero\n"
)
ADMIN = operator("admin")
runner = CliRunner()


@pytest.fixture
def new_ledger(tmp_path: Path) -> Iterator[Ledger]:
    ledger = Ledger.open(tmp_path / "new.db")
    ledger.init()
    ledger.upsert_entities([Entity("A", "Acme", kind=EntityKind.GROUP, region="CN-GD")])
    records = tmp_path / "a.csv"
    records.write_text(
        "record_id,entity_id,period,activity_type,quantity,unit\nr1,A,2024,electricity,1000,MWh\n",
        encoding="utf-8",
    )
    assert import_file(ledger, records, kind="activity", user="t").ok
    yield ledger
    ledger.close()


def _cli(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), terminal_width=200)
    return result.exit_code, result.stdout, " ".join(result.stderr.split())


def test_a_new_ledger_has_no_targets_and_says_so(new_ledger: Ledger) -> None:
    statuses, problems = service.targets(new_ledger, 2024)
    assert statuses == []
    assert [p.code for p in problems] == ["targets-none"]
    assert "esgledger targets import FILE" in problems[0].message
    with pytest.raises(MilestonesMissingError, match="no targets entered in this ledger"):
        ledger_milestones(new_ledger)
    with pytest.raises(MilestonesMissingError):
        ledger_pathway(new_ledger, 2024)
    url = str(new_ledger.engine.url.database)
    code, out, err = _cli("targets", "--year", "2024", "--ledger", url)
    assert (code, out) == (0, "")
    assert "no targets entered in this ledger" in err
    code, _, err = _cli("strategy", "pathway", "--ledger", url)
    assert code == 1
    assert "the group's pathway needs its climate milestones: no targets entered" in err


def test_the_companys_targets_and_milestones_are_its_own(new_ledger: Ledger) -> None:
    done = import_targets(new_ledger.engine, ADMIN, OWN, "own.csv")
    assert (done.count, done.added, done.seq is not None) == (
        4,
        ("elec.cut", "peak", "neutral", "netzero"),
        True,
    )
    marks = ledger_milestones(new_ledger)
    assert (marks.peak, marks.neutrality, marks.net_zero, marks.set_in) == (2032, 2055, 2060, 2025)
    frame, notes = ledger_pathway(new_ledger, 2024, growth=0.0)
    assert int(frame["year"].max()) == 2060  # to the company's net zero, not another's
    assert any("peak: Board resolution 2025-03" in n for n in notes)
    # 1,000 MWh x 0.4403 tCO2/MWh (Guangdong grid): the base of the pathway
    assert frame.set_index("year")["pathway_tco2e"][2024] == pytest.approx(440.3, abs=0.05)
    # the export gives back the file as entered
    assert targets_csv(new_ledger) == OWN
    # the same file again: nothing written, nothing audited
    again = import_targets(new_ledger.engine, ADMIN, OWN, "own.csv")
    assert again.seq is None
    entries = [
        e for e in audit.entries(new_ledger.engine, limit=50) if e["object_type"] == "targets"
    ]
    assert len(entries) == 1 and entries[0]["action"] == "import"


def test_a_bad_targets_file_is_refused_whole_and_located(new_ledger: Ledger) -> None:
    import_targets(new_ledger.engine, ADMIN, OWN, "own.csv")
    version = new_ledger.data_version()
    bad = OWN.replace(",net_zero\n", ",peak\n").replace("reduction,>=", "reduce,>=")
    bad = bad.replace("milestone\n", "milestone,milstone\n").replace("\n", ",x\n")
    bad = bad.replace("milstone,x\n", "milstone\n", 1)
    with pytest.raises(TargetsRejected) as refused:
        import_targets(new_ledger.engine, ADMIN, bad, "bad.csv")
    located = {(d.row, d.column, d.code) for d in refused.value.diagnostics}
    assert (1, "milstone", "target.unknown_column") in located
    assert (2, "kind", "target.unknown_kind") in located
    assert (5, "milestone", "target.duplicate_milestone") in located
    # nothing changed: the ledger keeps the targets it had, at the same data version
    assert new_ledger.data_version() == version
    assert targets_csv(new_ledger) == OWN


def test_only_a_group_wide_editor_enters_targets(new_ledger: Ledger) -> None:
    owner = Principal(7, "owner", "o", Role.OWNER, "en", False, frozenset({"X"}), frozenset({"X"}))
    new_ledger.upsert_entities([Entity("X", "Other", parent_id="A", kind=EntityKind.SUBSIDIARY)])
    with pytest.raises(Forbidden):
        import_targets(new_ledger.engine, owner, OWN, "own.csv")
    viewer = Principal(8, "viewer", "v", Role.VIEWER, "en", False, frozenset(), None)
    with pytest.raises(Forbidden):
        import_targets(new_ledger.engine, viewer, OWN, "own.csv")


def test_targets_in_force_in_a_locked_year_change_only_by_adjustment(new_ledger: Ledger) -> None:
    import_targets(new_ledger.engine, ADMIN, OWN, "own.csv")
    lock_period(new_ledger.engine, operator("committee"), 2025, force=True)
    tighter = OWN.replace("reduction,>=,10,%", "reduction,>=,15,%")
    with pytest.raises(LockedPeriodChange, match="2025"):
        import_targets(new_ledger.engine, ADMIN, tighter, "own.csv")
    # a new target from 2026 changes nothing the locked year reported
    later = OWN + "later,energy.total_tce,*,absolute,<=,100,tce,,,2026,2027,energy cap,,Board,,\n"
    done = import_targets(new_ledger.engine, ADMIN, later, "own.csv")
    assert done.added == ("later",)
    assert [t.target_id for t in current_book(new_ledger).targets()[0]][-1] == "later"


def test_cli_import_export_and_list(new_ledger: Ledger, tmp_path: Path) -> None:
    url = str(new_ledger.engine.url.database)
    own = tmp_path / "own.csv"
    own.write_text(OWN, encoding="utf-8")
    code, out, _ = _cli("targets", "import", str(own), "--ledger", url)
    assert (code, out.strip()) == (0, "4 targets entered (4 new, 0 changed, 0 removed)")
    code, out, _ = _cli("targets", "list", "--ledger", url)
    assert code == 0 and "netzero" in out and "net_zero" in out
    back = tmp_path / "back.csv"
    code, _, _ = _cli("targets", "export", str(back), "--ledger", url)
    assert code == 0 and back.read_text(encoding="utf-8") == OWN
    exports = [e for e in audit.entries(new_ledger.engine, limit=50) if e["action"] == "export"]
    assert exports and exports[0]["object_type"] == "targets"
    broken = tmp_path / "broken.csv"
    broken.write_text(OWN.replace("2032", "20x2"), encoding="utf-8")
    code, _, err = _cli("targets", "import", str(broken), "--ledger", url)
    assert code == 2
    assert "broken.csv:3:deadline_year" in err and "nothing entered" in err
