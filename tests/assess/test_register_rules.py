"""The registers' rules in the ledger: a company's own rule tables (checked like the packaged
ones, located problems, all or nothing, group-wide editors, audited), the rules frozen per
register year at its first import, what a change of the company's or the packaged rules does
to a graded year (nothing), and the audited re-grade (refused for a locked year).

The hand arithmetic: supplier S1 is scored basic_info 80, technical 65, S2 90 and 88 (the
other dimensions 50, unweighted). With the company's weights basic_info 0.5, technical 0.5:
S1 0.5×80 + 0.5×65 = 40 + 32.5 = 72.5, level B (70 ≤ 72.5 < 85, packaged thresholds); S2
0.5×90 + 0.5×88 = 45 + 44 = 89, level A. With weights 0.2 / 0.8 and B from 75: S1 0.2×80 +
0.8×65 = 16 + 52 = 68, level C (60 ≤ 68 < 75); S2 0.2×90 + 0.8×88 = 18 + 70.4 = 88.4, A.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select

from esgledger import audit
from esgledger.assess import rule_tables, suppliers
from esgledger.assess.rule_tables import RuleRows
from esgledger.auth import accounts
from esgledger.auth.accounts import Principal
from esgledger.book import Book, current_book
from esgledger.domain.errors import Conflict, Forbidden, NotFound
from esgledger.domain.model import Entity, EntityKind
from esgledger.figures.assessment_lineage import explain_assessment
from esgledger.report.assessments import register_counts
from esgledger.report.model import Figure, Table
from esgledger.store.engine import TABLES
from esgledger.store.ledger import Ledger
from esgledger.usecases import assessment_results as found
from esgledger.usecases import registers, rules
from esgledger.usecases.regrade import regrade
from esgledger.usecases.rules import RulesRejected

ADMIN = accounts.operator("admin")
DIMENSIONS = "dimension,name_en,name_zh,weight,source\n"
HALF = DIMENSIONS + "basic_info,basic,基本,0.5,test\ntechnical,technical,技术,0.5,test\n"
TILTED = DIMENSIONS + "basic_info,basic,基本,0.2,test\ntechnical,technical,技术,0.8,test\n"
LEVELS = "level,name_en,name_zh,min_score,follow_up,follow_up_en,follow_up_zh,source\n"
B_FROM_75 = LEVELS + (
    "A,preferred,优先,85,none,none,无,test\n"
    "B,selective,择优,75,none,none,无,test\n"
    "C,as needed,按需,60,monitor,monitor,关注,test\n"
    "D,unqualified,不合格,0,improvement_plan_or_freeze,improve,整改,test\n"
)
SUPPLIERS = (
    ",".join(suppliers.SUPPLIER_COLUMNS) + "\n"
    "S1,One,S01,mainland,CN,IT,2020-01-01,,active,test\n"
    "S2,Two,S01,mainland,CN,IT,2020-01-01,,active,test\n"
)
BCM = (
    "risk_id,entity_id,title,category,likelihood,impact,plan,plan_updated_on,last_drill_on,"
    "next_drill_on,owner,notes,source\n"
    "R1,S01,flood,facilities,3,4,BCP-1,2024-03-01,2024-06-01,2025-06-01,ops,,test\n"
)


def evaluations(year: int, technical: int = 65) -> str:
    header = ",".join(suppliers.EVALUATION_COLUMNS)
    return (
        f"{header}\nS1,{year},80,{technical},50,50,50,proc,{year}-05-01,,\n"
        f"S2,{year},90,88,50,50,50,proc,{year}-05-01,,\n"
    )


def put(ledger: Ledger, kind: str, year: int, text: str, name: str = "f.csv") -> int:
    frame = registers.read_table_file(text.encode("utf-8"), name)
    return registers.import_frame(ledger.engine, ADMIN, kind, year, frame, name, "0" * 64)


def entered(ledger: Ledger, name: str, text: str, file: str = "rules.csv") -> rules.RulesChange:
    return rules.import_rules(ledger.engine, ADMIN, name, text, file)


def graded(ledger: Ledger, kind: str, year: int) -> pd.DataFrame:
    """A fresh Book's results (a monkeypatched packaged table moves no data version)."""
    return found.graded(Book(ledger), kind, year)


def scores(ledger: Ledger, year: int) -> list[tuple[str, float, str]]:
    frame = graded(ledger, "supplier_evaluations", year)
    return [(r.supplier_id, round(r.score, 9), r.level) for r in frame.itertuples()]


def entries(ledger: Ledger) -> int:
    return audit.verify(ledger.engine).entries


def count(ledger: Ledger, table: str) -> int:
    with ledger.engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(TABLES[table])) or 0)


def unfreeze(ledger: Ledger, kind: str, year: int) -> None:
    """A year imported before the rules were kept per year: no frozen rules."""
    table = TABLES["register_rules"]
    with ledger.engine.begin() as conn:
        conn.execute(delete(table).where(table.c.kind == kind, table.c.year == year))


def lock(ledger: Ledger, year: int) -> None:
    with ledger.engine.begin() as conn:
        conn.execute(
            TABLES["period_lock"]
            .insert()
            .values(year=year, locked_by="com", locked_at=pd.Timestamp("2026-01-01"))
        )


def new_ledger(path: Path) -> Ledger:
    ledger = Ledger.open(path)
    ledger.init()
    ledger.upsert_entities(
        [Entity("G00", "Group", None, EntityKind.GROUP), Entity("S01", "Sub", "G00")]
    )
    return ledger


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    """The company's weights 0.5 / 0.5 entered, then 2024's and 2025's suppliers and 2024's
    evaluations imported (2024 frozen with those weights and the packaged levels)."""
    opened = new_ledger(tmp_path / "l.db")
    entered(opened, "supplier_dimensions", HALF)
    put(opened, "suppliers", 2024, SUPPLIERS)
    put(opened, "suppliers", 2025, SUPPLIERS)
    put(opened, "supplier_evaluations", 2024, evaluations(2024))
    yield opened
    opened.close()


# -- the rules frozen per year ----------------------------------------------------------------


def test_a_graded_year_keeps_its_results_when_the_company_changes_its_rules(
    ledger: Ledger,
) -> None:
    assert scores(ledger, 2024) == [("S1", 72.5, "B"), ("S2", 89.0, "A")]
    frozen = found.rules_of(Book(ledger), "supplier_evaluations", 2024)
    assert frozen.frozen is not None and frozen.note() is None
    assert frozen.rules.table("supplier_dimensions").origin == "ledger"
    assert frozen.rules.table("supplier_levels").origin == "packaged"
    entered(ledger, "supplier_dimensions", TILTED)
    entered(ledger, "supplier_levels", B_FROM_75)
    assert scores(ledger, 2024) == [("S1", 72.5, "B"), ("S2", 89.0, "A")]
    # a later import of 2024 is graded with 2024's rules: 0.5×80 + 0.5×66 = 73, B
    put(ledger, "supplier_evaluations", 2024, evaluations(2024, technical=66))
    assert scores(ledger, 2024) == [("S1", 73.0, "B"), ("S2", 89.0, "A")]
    # a new year is graded with the rules in force: 0.2×80 + 0.8×65 = 68, C from 60 to 75
    put(ledger, "supplier_evaluations", 2025, evaluations(2025))
    assert scores(ledger, 2025) == [("S1", 68.0, "C"), ("S2", 88.4, "A")]


def test_a_new_packaged_rule_leaves_a_graded_year_unchanged_until_regraded(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """BCM R1: 3 × 4 = 12, significant under the packaged grades (10 ≤ 12 < 16). A packaged
    upgrade moving major down to 12 leaves 2023 (locked) and 2024 significant; the re-grade
    makes 2024 major with one audit entry and is refused for 2023; a new year is graded major;
    an unfrozen year follows the upgrade, saying so."""
    for year in (2023, 2024, 2025):
        put(ledger, "bcm", year, BCM)
    lock(ledger, 2023)
    unfreeze(ledger, "bcm", 2025)
    assert list(graded(ledger, "bcm", 2024)["grade"]) == ["significant"]
    packaged = rule_tables.packaged("bcm_grades")
    upgraded = RuleRows(
        "bcm_grades",
        tuple((*row[:3], "12", *row[4:]) if row[0] == "major" else row for row in packaged.rows),
    )
    real = rule_tables.packaged
    monkeypatch.setattr(
        rule_tables, "packaged", lambda name: upgraded if name == "bcm_grades" else real(name)
    )
    for year in (2023, 2024):
        assert list(graded(ledger, "bcm", year)["grade"]) == ["significant"]
        assert list(graded(ledger, "bcm", year)["score"]) == [12]
        assert found.rules_notes(Book(ledger), "bcm", year) == []
    assert list(graded(ledger, "bcm", 2025)["grade"]) == ["major"]
    (note,) = found.rules_notes(Book(ledger), "bcm", 2025)
    assert "has no rules of its own" in note.message and "regrade bcm 2025" in note.message
    put(ledger, "bcm", 2026, BCM)
    assert list(graded(ledger, "bcm", 2026)["grade"]) == ["major"]

    start = entries(ledger)
    done = regrade(ledger.engine, ADMIN, "bcm", 2024)
    assert done.class_changes == (("R1", "significant", "major"),) and done.value_changes == 0
    assert done.after == {"bcm_grades": upgraded.sha256} != done.before
    assert entries(ledger) == start + 1
    assert list(graded(ledger, "bcm", 2024)["grade"]) == ["major"]
    with pytest.raises(Conflict, match="period 2023 is locked"):
        regrade(ledger.engine, ADMIN, "bcm", 2023)
    assert list(graded(ledger, "bcm", 2023)["grade"]) == ["significant"]
    assert entries(ledger) == start + 1


def test_a_change_of_the_companys_rules_freezes_an_unfrozen_year_first(ledger: Ledger) -> None:
    unfreeze(ledger, "supplier_evaluations", 2024)
    assert found.rules_notes(Book(ledger), "supplier_evaluations", 2024)
    done = entered(ledger, "supplier_dimensions", TILTED)
    assert done.froze == (("supplier_evaluations", 2024),)
    assert scores(ledger, 2024) == [("S1", 72.5, "B"), ("S2", 89.0, "A")]
    assert found.rules_notes(Book(ledger), "supplier_evaluations", 2024) == []
    (entry,) = audit.entries(ledger.engine, object_type="rule_table", limit=1)
    assert entry["action"] == "import"
    after = json.loads(str(entry["after"]))
    assert after["froze"] == [{"kind": "supplier_evaluations", "year": 2024}]
    assert after["origin"] == "ledger" and after["sha256"] == done.sha256_after
    assert json.loads(str(entry["before"]))["rows"][1]["weight"] == "0.5"


# -- re-grading -------------------------------------------------------------------------------


def test_regrade_applies_the_rules_in_force_with_one_audit_entry(ledger: Ledger) -> None:
    before = found.rules_of(Book(ledger), "supplier_evaluations", 2024).rules.sha256s()
    entered(ledger, "supplier_dimensions", TILTED)
    entered(ledger, "supplier_levels", B_FROM_75)
    start, book = entries(ledger), current_book(ledger)
    assert list(found.graded(book, "supplier_evaluations", 2024)["level"]) == ["B", "A"]
    done = regrade(ledger.engine, ADMIN, "supplier_evaluations", 2024)
    assert entries(ledger) == start + 1
    # the new rules moved the data version: the ledger's Book reads the re-graded results
    assert current_book(ledger) is not book
    assert list(found.graded(ledger, "supplier_evaluations", 2024)["level"]) == ["C", "A"]
    assert done.before == before and done.after != before
    assert done.class_changes == (("S1", "B", "C"),)
    assert (done.rows, done.value_changes, done.was_frozen) == (2, 2, True)
    assert scores(ledger, 2024) == [("S1", 68.0, "C"), ("S2", 88.4, "A")]
    (entry,) = audit.entries(ledger.engine, object_type="register_rules", limit=1)
    assert (entry["action"], entry["object_id"]) == ("regrade", "supplier_evaluations:2024")
    assert json.loads(str(entry["before"])) == {"frozen": True, "rules": before}
    after = json.loads(str(entry["after"]))
    assert after["rules"] == done.after and after["rows"] == 2
    assert (after["class_changes"], after["value_changes"]) == (1, 2)
    assert after["changed"] == [{"id": "S1", "before": "B", "after": "C"}]
    again = regrade(ledger.engine, ADMIN, "supplier_evaluations", 2024)
    assert again.same and again.class_changes == () and entries(ledger) == start + 1


def test_regrade_of_a_locked_year_is_refused(ledger: Ledger) -> None:
    entered(ledger, "supplier_dimensions", TILTED)
    lock(ledger, 2024)
    start = entries(ledger)
    with pytest.raises(Conflict, match="period 2024 is locked"):
        regrade(ledger.engine, ADMIN, "supplier_evaluations", 2024)
    assert entries(ledger) == start
    assert scores(ledger, 2024) == [("S1", 72.5, "B"), ("S2", 89.0, "A")]


def test_regrade_of_an_unfrozen_year_keeps_its_rules(ledger: Ledger) -> None:
    unfreeze(ledger, "supplier_evaluations", 2024)
    done = regrade(ledger.engine, ADMIN, "supplier_evaluations", 2024)
    assert not done.was_frozen and done.seq is not None and done.class_changes == ()
    assert found.rules_notes(Book(ledger), "supplier_evaluations", 2024) == []
    with pytest.raises(NotFound, match="no bcm register of 2024"):
        regrade(ledger.engine, ADMIN, "bcm", 2024)


def test_only_a_group_wide_editor_changes_the_rules(ledger: Ledger) -> None:
    accounts.create_user(ledger.engine, "t", "own", "own-password-1", "owner", entities=["S01"])
    user_id = accounts.user_id_of(ledger.engine, "own")
    assert user_id is not None
    owner = accounts.get_principal(ledger.engine, user_id)
    assert isinstance(owner, Principal)
    with pytest.raises(Forbidden, match="whole group"):
        rules.import_rules(ledger.engine, owner, "supplier_dimensions", TILTED, "w.csv")
    with pytest.raises(Forbidden, match="whole group"):
        regrade(ledger.engine, owner, "supplier_evaluations", 2024)


def test_a_register_file_without_its_entity_column_is_a_located_problem(ledger: Ledger) -> None:
    """(Found rebasing on main: the entity check read the missing column, a KeyError.)"""
    without = "\n".join(
        ",".join(line.split(",")[:1] + line.split(",")[2:]) for line in BCM.split("\n")
    )
    with pytest.raises(registers.RegisterRejected) as rejected:
        put(ledger, "bcm", 2024, without, "bcm.csv")
    texts = [str(d) for d in rejected.value.diagnostics]
    assert texts == ["bcm.csv:1:entity_id: expected a column 'entity_id' [column-missing]"]


# -- the company's tables ---------------------------------------------------------------------


def test_a_bad_rules_file_is_located_and_nothing_written(ledger: Ledger) -> None:
    start, tables = entries(ledger), count(ledger, "rule_table")
    bad = LEVELS + (
        "A,preferred,优先,85,none,none,无,test\n"
        "B,selective,择优,90,none,none,无,test\n"
        "C,as needed,按需,x,monitor,monitor,关注,test\n"
        "D,unqualified,不合格,0,improvement_plan_or_freeze,improve,整改,test\n"
    )
    with pytest.raises(RulesRejected) as rejected:
        entered(ledger, "supplier_levels", bad, "lv.csv")
    texts = [str(p) for p in rejected.value.problems]
    assert texts == [
        "lv.csv:3:min_score: expected strictly decreasing thresholds, B 90 is not below A 85"
        " [supplier_levels]",
        "lv.csv:4:min_score: expected min_score of C within 0-100, got nan [supplier_levels]",
    ]
    with pytest.raises(RulesRejected) as rejected:
        entered(ledger, "bcm_grades", "grade,min_score\nlow,2\n", "g.csv")
    texts = [str(p) for p in rejected.value.problems]
    assert texts[0].startswith("g.csv:1:name_en: expected a column 'name_en'")
    header = ",".join(rule_tables.TABLES["bcm_grades"].columns)
    with pytest.raises(RulesRejected) as rejected:
        entered(ledger, "bcm_grades", f"{header}\nlow,l,低,2,t,t,s\nlow,g,一般,1,t,t,s\n", "g.csv")
    assert [str(p) for p in rejected.value.problems] == [
        "g.csv:2:min_score: expected the lowest row (low) to start at 1 so that every value "
        "1-25 has one, got 2 [bcm_grades]",
        "g.csv:3:grade: expected a unique grade, 'low' is on row 2 [bcm_grades]",
        "g.csv:3:min_score: expected a min_score above the previous row's (low 2): thresholds "
        "rise strictly, lowest first; got 1 [bcm_grades]",
    ]
    assert (entries(ledger), count(ledger, "rule_table")) == (start, tables)
    assert rules.table_in_force(ledger.engine, "supplier_levels").origin == "packaged"


def test_import_list_export_and_remove(ledger: Ledger) -> None:
    packaged = rule_tables.packaged("bcm_grades")
    version = ledger.data_version()
    same = entered(ledger, "supplier_dimensions", HALF)
    assert same.seq is None and ledger.data_version() == version  # the same table: nothing
    listed = {t["name"]: t for t in rules.table_list(ledger.engine)}
    assert listed["supplier_dimensions"]["origin"] == "ledger"
    assert listed["bcm_grades"]["sha256"] == packaged.sha256
    assert listed["bcm_grades"]["packaged_sha256"] == packaged.sha256
    exported = rules.table_in_force(ledger.engine, "supplier_dimensions").csv()
    assert list(csv.DictReader(io.StringIO(exported)))[1]["weight"] == "0.5"
    # the packaged table exported and entered unchanged has the packaged digest
    done = entered(ledger, "bcm_grades", packaged.csv())
    assert done.origin_after == "ledger" and done.sha256_after == packaged.sha256
    assert ledger.data_version() > version  # a rule table moves the data version
    removed = rules.remove_rules(ledger.engine, ADMIN, "supplier_dimensions")
    assert removed.origin_after == "packaged" and removed.seq is not None
    assert rules.remove_rules(ledger.engine, ADMIN, "supplier_dimensions").seq is None
    years = {(y["kind"], y["year"]): y for y in rules.year_list(ledger.engine)}
    assert years["supplier_evaluations", 2024]["frozen"]
    # 2024 keeps the company's 0.5 / 0.5: the year's table, not the one in force
    table = rules.year_table(ledger.engine, "supplier_dimensions", 2024)
    assert table.origin == "ledger" and len(table.rows) == 2


# -- readers of the results -------------------------------------------------------------------


def test_lineage_and_report_read_the_years_rules(ledger: Ledger) -> None:
    entered(ledger, "supplier_levels", B_FROM_75)
    tree = explain_assessment(Book(ledger), "supplier:2024:S1")
    assert tree.value == 72.5 and tree.detail["level"] == "B"
    assert str(tree.detail["rules"]).startswith("frozen ")
    assert "note" not in tree.detail
    block = register_counts(Book(ledger), 2024, "en", "b", "t", "S", lambda k, _: k, "suppliers")
    assert isinstance(block, Table) and block.notes == ()
    counts = {str(row[0]): row[1].value for row in block.rows if isinstance(row[1], Figure)}
    # the packaged levels 2024 was graded with, their names included
    assert counts == {"A preferred": 1.0, "B selectively recommended": 1.0, "C as needed": 0.0,
                      "D unqualified": 0.0}  # fmt: skip
    unfreeze(ledger, "supplier_evaluations", 2024)
    tree = explain_assessment(Book(ledger), "supplier:2024:S1")
    assert tree.detail["level"] == "C" and "has no rules of its own" in str(tree.detail["note"])
    block = register_counts(Book(ledger), 2024, "en", "b", "t", "S", lambda k, _: k, "suppliers")
    assert isinstance(block, Table) and block.notes == ("register_rules_not_frozen",)


# -- property ---------------------------------------------------------------------------------

_weight = st.floats(min_value=0.01, max_value=100, allow_nan=False, allow_infinity=False)


@st.composite
def _rules(draw: st.DrawFn) -> tuple[dict[str, float], list[float]]:
    chosen = draw(st.sets(st.sampled_from(suppliers.DIMENSION_IDS), min_size=1))
    weights = {d: draw(_weight) for d in sorted(chosen)}
    cuts = draw(
        st.lists(st.integers(min_value=1, max_value=100), min_size=1, max_size=4, unique=True)
    )
    return weights, sorted(cuts, reverse=True)


def test_no_rules_entered_after_the_freeze_change_the_frozen_years_grades(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """For any weights and thresholds the company enters after 2024 was imported, 2024's
    scores and levels are those it was graded with, and the new rules are the ones in force."""
    ledger = new_ledger(tmp_path_factory.mktemp("prop") / "p.db")
    put(ledger, "suppliers", 2024, SUPPLIERS)
    put(ledger, "supplier_evaluations", 2024, evaluations(2024))
    frozen = scores(ledger, 2024)
    # packaged equal weights 0.20: S1 (80 + 65 + 3 × 50) / 5 = 59, D; S2 (90 + 88 + 150) / 5
    # = 65.6, C
    assert frozen == [("S1", 59.0, "D"), ("S2", 65.6, "C")]

    @settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(_rules())
    def check(drawn: tuple[dict[str, float], list[float]]) -> None:
        weights, cuts = drawn
        dims = DIMENSIONS + "".join(f"{d},{d},{d},{w!r},p\n" for d, w in weights.items())
        names = "ABCDE"
        levels = LEVELS + "".join(
            f"{names[i]},{names[i]},{names[i]},{c},none,,,p\n" for i, c in enumerate([*cuts, 0])
        )
        entered(ledger, "supplier_dimensions", dims)
        entered(ledger, "supplier_levels", levels)
        assert scores(ledger, 2024) == frozen
        in_force = rules.in_force(ledger.engine, "supplier_evaluations")
        assert {d.dimension: d.weight for d in in_force.dimensions()} == weights
        assert [lv.min_score for lv in in_force.levels()] == [*map(float, cuts), 0.0]
        assert all(math.isfinite(s) for _, s, _ in scores(ledger, 2024))

    try:
        check()
    finally:
        ledger.close()


_cell = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r"), max_size=12
)
"""Cells as an import keeps them: line ends ``\n``."""


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(_cell, _cell, _cell, _cell, _cell), min_size=1, max_size=6))
def test_a_table_kept_in_the_ledger_is_the_table_entered(
    rows: list[tuple[str, str, str, str, str]],
) -> None:
    """What a year keeps (JSON) reads back as the same cells with the same SHA-256."""
    table = RuleRows("supplier_dimensions", tuple(rows), rule_tables.LEDGER)
    back = RuleRows.from_dict("supplier_dimensions", json.loads(json.dumps(table.to_dict())))
    assert back == table and back.sha256 == table.sha256
    parsed = list(csv.reader(io.StringIO(table.csv(), newline="")))
    assert parsed[0] == list(rule_tables.TABLES["supplier_dimensions"].columns)
    assert [tuple(r) for r in parsed[1:]] == rows
