"""Narratives in the ledger: versions and conflicts, the text kept as typed, locked years,
permissions and scope, the audit trail, file import (all or nothing, located errors) and
export, the prompts of sections not written and the demo's texts. On SQLite and, with
ESGLEDGER_TEST_PG_URL, PostgreSQL."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from esgledger import audit
from esgledger.auth import access
from esgledger.auth.accounts import Principal
from esgledger.auth.roles import Role
from esgledger.demo.build import DEMO_DATA
from esgledger.domain.model import Entity, EntityKind
from esgledger.report import narrative
from esgledger.report.narrative import (
    MAX_TEXT,
    NarrativeFileError,
    export_narratives,
    import_narratives,
    narrative_for,
    narratives,
    prompts,
    read_narrative_file,
    section_ids,
    set_narrative,
)
from esgledger.store.engine import TABLES
from esgledger.store.ledger import Ledger
from esgledger.workflow import periods
from esgledger.workflow.errors import Conflict, Forbidden, Invalid

YEAR = 2024
ENTITIES = (
    Entity("G", "Group Co", kind=EntityKind.GROUP, name_zh="集团"),
    Entity("S1", "Sub One", parent_id="G", region="CN-BJ"),
    Entity("S2", "Sub Two", parent_id="G", region="CN-SH"),
)
EVERYONE = frozenset(e.entity_id for e in ENTITIES)


def principal(role: Role, scope: frozenset[str] | None = EVERYONE, name: str = "") -> Principal:
    return Principal(
        user_id=1,
        username=name or role.value,
        display_name=name or role.value,
        role=role,
        locale="en",
        must_change_password=False,
        grants=frozenset({"G"}),
        scope=scope,
    )


REVIEWER = principal(Role.REVIEWER)
ADMIN = principal(Role.ADMIN, None)


@pytest.fixture
def engine(store_url: str) -> Iterator[Engine]:
    with Ledger.open(store_url) as ledger:
        ledger.init()
        ledger.upsert_entities(ENTITIES)
        yield ledger.engine


def _rows(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(TABLES["report_narrative"])) or 0)


def _narrative_entries(engine: Engine) -> list[dict[str, object]]:
    return audit.entries(engine, object_type="report_narrative")


# -- versions and conflicts -----------------------------------------------------------------


def test_versions_increase_and_the_ledger_text_replaces_the_prompt(engine: Engine) -> None:
    before = narrative_for(engine, YEAR, "en")
    assert before["climate"] == (prompts("en")["climate"], "prompt")
    assert set(before) == set(section_ids())

    assert set_narrative(engine, REVIEWER, YEAR, "en", "climate", "First draft.", 0) == 1
    assert set_narrative(engine, REVIEWER, YEAR, "en", "climate", "Second draft.", 1) == 2
    stored = narratives(engine, YEAR, "en")["climate"]
    assert (stored.text, stored.version, stored.updated_by) == ("Second draft.", 2, "reviewer")
    assert narrative_for(engine, YEAR, "en")["climate"] == ("Second draft.", "ledger")
    # the other language and year are untouched
    assert narrative_for(engine, YEAR, "zh")["climate"][1] == "prompt"
    assert narratives(engine, YEAR - 1, "en") == {}


def test_a_stale_version_is_a_conflict_with_the_current_version(engine: Engine) -> None:
    set_narrative(engine, REVIEWER, YEAR, "en", "tax", "Mine.", 0)
    with pytest.raises(Conflict) as stale:
        set_narrative(engine, ADMIN, YEAR, "en", "tax", "Theirs.", 0)
    assert stale.value.current_version == 1
    assert "reviewer" in str(stale.value)
    set_narrative(engine, ADMIN, YEAR, "en", "tax", "Theirs.", 1)
    with pytest.raises(Conflict) as again:
        set_narrative(engine, REVIEWER, YEAR, "en", "tax", "Mine again.", 1)
    assert again.value.current_version == 2
    assert narratives(engine, YEAR, "en")["tax"].text == "Theirs."


def test_the_text_is_kept_as_typed_but_for_line_endings(engine: Engine) -> None:
    typed = "  Indented **bold** line.  \r\n\r\nSecond paragraph\rwith a CR.\n\n"
    set_narrative(engine, REVIEWER, YEAR, "zh", "ethics", typed, 0)
    stored = narratives(engine, YEAR, "zh")["ethics"].text
    assert stored == "  Indented **bold** line.  \n\nSecond paragraph\nwith a CR.\n\n"


def test_an_unchanged_text_writes_no_version_and_no_audit_entry(engine: Engine) -> None:
    set_narrative(engine, REVIEWER, YEAR, "en", "care", "Same.", 0)
    entries = len(_narrative_entries(engine))
    assert set_narrative(engine, REVIEWER, YEAR, "en", "care", "Same.", 1) == 1
    assert set_narrative(engine, REVIEWER, YEAR, "en", "care", "Same.\r\n", 1) == 2  # a change
    assert len(_narrative_entries(engine)) == entries + 1


@pytest.mark.parametrize(
    ("section", "lang", "text", "match"),
    [
        ("climate", "en", "   \n ", "empty"),
        ("climate", "en", "x" * (MAX_TEXT + 1), "at most"),
        ("climate", "en", "nul\x00here", "NUL"),
        ("nowhere", "en", "Text.", "no report section"),
        ("climate", "fr", "Text.", "language"),
    ],
)
def test_invalid_edits_are_refused_and_write_nothing(
    engine: Engine, section: str, lang: str, text: str, match: str
) -> None:
    with pytest.raises(Invalid, match=match):
        set_narrative(engine, REVIEWER, YEAR, lang, section, text, 0)
    assert _rows(engine) == 0
    assert _narrative_entries(engine) == []


def test_the_longest_text_allowed_is_stored(engine: Engine) -> None:
    set_narrative(engine, REVIEWER, YEAR, "en", "kpi", "x" * MAX_TEXT, 0)
    assert len(narratives(engine, YEAR, "en")["kpi"].text) == MAX_TEXT


# -- locks, permissions, scope --------------------------------------------------------------


def test_a_locked_year_refuses_edits_and_imports(engine: Engine, tmp_path: Path) -> None:
    set_narrative(engine, REVIEWER, YEAR, "en", "outlook", "Before the lock.", 0)
    periods.lock_period(engine, principal(Role.APPROVER), YEAR)
    with pytest.raises(Conflict, match="locked"):
        set_narrative(engine, REVIEWER, YEAR, "en", "outlook", "After the lock.", 1)
    with pytest.raises(Conflict, match="locked"):
        set_narrative(engine, None, YEAR, "en", "outlook", "From the command line.", None)
    file = tmp_path / "n.csv"
    file.write_text("section_id,lang,text\noutlook,en,Imported.\n", encoding="utf-8")
    with pytest.raises(Conflict, match="locked"):
        import_narratives(engine, None, file, YEAR)
    assert narratives(engine, YEAR, "en")["outlook"].text == "Before the lock."
    # other years stay open
    assert set_narrative(engine, REVIEWER, YEAR + 1, "en", "outlook", "Next year.", 0) == 1


@pytest.mark.parametrize(
    "who",
    [
        principal(Role.APPROVER),  # the committee approves by locking; it does not draft
        principal(Role.OWNER, frozenset({"S1"})),
        principal(Role.VIEWER),
        principal(Role.VERIFIER),
        principal(Role.REVIEWER, frozenset({"S1"})),  # the right role, not group-wide
    ],
    ids=["approver", "owner", "viewer", "verifier", "reviewer-of-one-entity"],
)
def test_only_group_wide_report_editors_may_edit(engine: Engine, who: Principal) -> None:
    with pytest.raises(Forbidden):
        set_narrative(engine, who, YEAR, "en", "climate", "Text.", 0)
    assert _rows(engine) == 0


def test_a_grant_of_the_root_covers_the_group(engine: Engine) -> None:
    assert access.is_group_wide(engine, REVIEWER)
    assert not access.is_group_wide(engine, principal(Role.REVIEWER, frozenset({"G", "S1"})))
    assert set_narrative(engine, ADMIN, YEAR, "en", "climate", "Text.", 0) == 1


def test_every_change_is_audited_with_before_and_after(engine: Engine) -> None:
    set_narrative(engine, REVIEWER, YEAR, "en", "privacy", "One.", 0)
    set_narrative(engine, None, YEAR, "en", "privacy", "Two.", 1, actor="ops")
    found = _narrative_entries(engine)
    assert [e["actor"] for e in found] == ["ops", "reviewer"]
    assert found[0]["object_id"] == f"{YEAR}/en/privacy"
    assert '"text":"One."' in str(found[0]["before"]) and '"version":1' in str(found[0]["before"])
    assert '"text":"Two."' in str(found[0]["after"]) and '"version":2' in str(found[0]["after"])
    assert found[1]["before"] is None
    assert audit.verify(engine).ok


# -- files ----------------------------------------------------------------------------------


def _csv(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(("section_id", "lang", "text"))
        writer.writerows(rows)
    return path


def test_a_csv_with_any_error_imports_nothing_and_locates_every_error(
    engine: Engine, tmp_path: Path
) -> None:
    file = _csv(
        tmp_path / "narratives.csv",
        [
            ("climate", "en", "Good text.\n\nTwo paragraphs."),
            ("nowhere", "en", "Unknown section."),
            ("tax", "fr", "Wrong language."),
            ("ethics", "zh", "  "),
            ("climate", "en", "Again."),
        ],
    )
    with pytest.raises(NarrativeFileError) as failed:
        import_narratives(engine, REVIEWER, file, YEAR)
    where = {(d.row, d.column, d.code) for d in failed.value.diagnostics}
    assert where == {
        (3, "section_id", "narrative.section"),
        (4, "lang", "narrative.lang"),
        (5, "text", "narrative.text"),
        (6, "section_id", "narrative.duplicate"),
    }
    assert all(d.file == "narratives.csv" for d in failed.value.diagnostics)
    assert "narratives.csv:3:section_id: no report section 'nowhere'" in str(failed.value)
    assert _rows(engine) == 0
    assert _narrative_entries(engine) == []


def test_a_csv_without_its_columns_is_refused_at_its_header(engine: Engine, tmp_path: Path) -> None:
    file = tmp_path / "n.csv"
    file.write_text("section,text\nclimate,Text.\n", encoding="utf-8")
    with pytest.raises(NarrativeFileError) as failed:
        import_narratives(engine, None, file, YEAR)
    assert {(d.row, d.column) for d in failed.value.diagnostics} == {(1, "section_id"), (1, "lang")}


def test_a_folder_of_markdown_files_is_imported_and_stray_files_are_located(
    engine: Engine, tmp_path: Path
) -> None:
    folder = tmp_path / "texts"
    (folder / "en").mkdir(parents=True)
    (folder / "zh").mkdir()
    (folder / "en" / "climate.md").write_text("Climate text.\r\n", encoding="utf-8")
    (folder / "zh" / "climate.md").write_text("气候行动的文字。\n", encoding="utf-8")
    (folder / "fr").mkdir()
    (folder / "fr" / "climate.md").write_text("Texte.", encoding="utf-8")
    (folder / "notes.txt").write_text("not a narrative", encoding="utf-8")
    with pytest.raises(NarrativeFileError) as failed:
        import_narratives(engine, ADMIN, folder, YEAR)
    assert {(d.file, d.code) for d in failed.value.diagnostics} == {
        ("fr/climate.md", "narrative.lang"),
        ("notes.txt", "narrative.file"),
    }
    assert _rows(engine) == 0
    (folder / "fr" / "climate.md").unlink()
    (folder / "notes.txt").unlink()
    assert import_narratives(engine, ADMIN, folder, YEAR) == 2
    assert narratives(engine, YEAR, "en")["climate"].text == "Climate text.\n"
    assert narratives(engine, YEAR, "zh")["climate"].text == "气候行动的文字。\n"
    assert import_narratives(engine, ADMIN, folder, YEAR) == 0  # nothing new


def test_import_overwrites_stored_text_and_skips_text_equal_to_the_prompt(
    engine: Engine, tmp_path: Path
) -> None:
    set_narrative(engine, REVIEWER, YEAR, "en", "tax", "Edited in the app.", 0)
    prompt = prompts("en")["climate"]
    file = _csv(tmp_path / "n.csv", [("tax", "en", "From the file."), ("climate", "en", prompt)])
    assert import_narratives(engine, None, file, YEAR, actor="ops") == 1
    stored = narratives(engine, YEAR, "en")
    assert (stored["tax"].text, stored["tax"].version, stored["tax"].updated_by) == (
        "From the file.",
        2,
        "ops",
    )
    assert "climate" not in stored


@pytest.mark.parametrize("target", ["narratives.csv", "narratives"])
def test_export_and_import_round_trip(engine: Engine, tmp_path: Path, target: str) -> None:
    set_narrative(engine, REVIEWER, YEAR, "zh", "rural", "乡村振兴：\n\n第二段，带 **粗体**。", 0)
    path = tmp_path / target
    assert export_narratives(engine, YEAR, path) == 2 * len(section_ids())
    with pytest.raises(Invalid, match="exists"):
        export_narratives(engine, YEAR, path)
    # a copy of the ledger in another year: importing the export reproduces the texts
    assert import_narratives(engine, REVIEWER, path, YEAR + 1) == 1
    assert narrative_for(engine, YEAR + 1, "zh") == narrative_for(engine, YEAR, "zh")
    assert narrative_for(engine, YEAR + 1, "en") == narrative_for(engine, YEAR, "en")


# -- prompts and the demo's texts ----------------------------------------------------------


def test_every_section_not_written_shows_its_prompt_in_both_languages() -> None:
    """A section without text says it is to be written and what its disclosures ask, with
    each clause's title (a sub-clause under its article); nothing of any company."""
    for lang, head in (("zh", "【待撰写】"), ("en", "[To be written]")):
        asked = prompts(lang)
        assert set(asked) == set(section_ids())
        assert all(text.startswith(head) for text in asked.values())
    climate = prompts("zh")["climate"].split("\n\n")
    assert climate[1].startswith("GRI：2-12 Role of the highest governance body")
    assert "305-1 Direct (Scope 1) GHG emissions" in climate[1]
    assert climate[2].startswith("深交所自律监管指引第17号：第十一条")  # 11(1)..11(4)
    assert climate[2].count("第十一条") == 1
    assert "第二十一条 应对气候变化" in climate[2]
    en = prompts("en")["about"]
    assert en.startswith(
        "[To be written] The company has not written this section yet. Write it to what these "
        "disclosures ask.\n\nGRI: 2-2 Entities included in the organization's sustainability "
        "reporting; "
    )


def test_the_prompt_is_not_a_text_of_the_company(engine: Engine) -> None:
    with pytest.raises(Invalid, match="the section's prompt"):
        set_narrative(engine, REVIEWER, YEAR, "en", "climate", prompts("en")["climate"], 0)
    assert _rows(engine) == 0


def _demo_texts() -> dict[tuple[str, str], str]:
    entries, problems = read_narrative_file(DEMO_DATA / "narratives.csv")
    assert not problems
    return {(e.section_id, e.lang): e.text for e in entries}


def test_the_demo_has_a_text_for_every_section_in_both_languages() -> None:
    texts = _demo_texts()
    missing = [(s, lang) for s in section_ids() for lang in ("zh", "en") if (s, lang) not in texts]
    assert not missing
    assert len(texts) == 2 * len(section_ids())


def test_demo_texts_hold_no_digit_numbers_come_only_from_the_ledger() -> None:
    with_digits = {k: text for k, text in _demo_texts().items() if any(c.isdigit() for c in text)}
    assert not with_digits


def test_demo_texts_are_short_paragraphs_of_plain_text() -> None:
    for (section, lang), text in _demo_texts().items():
        assert narrative.text_problem(text) is None, (section, lang)
        assert len(text) < 2000, (section, lang)
        assert text == text.strip(), (section, lang)
