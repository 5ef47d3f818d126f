"""The company's material-topic lists in its ledger (issue 17: "materiality topics only come
from packaged lists"; the seed's 2024 list was the default of every ledger's campaign and
report). A list per year is entered from a file, all or nothing; campaigns start from it (or
carry the latest one forward); the report and `materiality changes` compare the ledger's
lists; no ledger but the demo's holds the seed's topics."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from esgledger import audit
from esgledger.auth.accounts import operator
from esgledger.cli import app
from esgledger.domain.errors import Conflict, Invalid
from esgledger.store.ledger import Ledger
from esgledger.usecases import survey, survey_results
from esgledger.usecases.topic_lists import import_topic_list, ledger_framework_groups

HEADER = "topic_id,name_zh,name_en,dimension,previous,source,szse17\n"
MINE_2024 = HEADER + (
    "emissions,排放管理,emissions management,E,,board 2024,1\n"
    "safety,安全生产,work safety,S,,board 2024,\n"
    "ethics,商业道德,business ethics,G,,board 2024,\n"
)
MINE_2025 = HEADER + (
    "climate,气候变化,climate change,E,emissions,board 2025,1;6\n"  # emissions renamed
    "safety,安全生产,work safety,S,,board 2025,\n"
    "ethics,商业道德,business ethics,G,,board 2025,\n"
    "water,水资源,water,E,,board 2025,\n"  # added
)


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), terminal_width=200)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def ledger(tmp_path: Path) -> str:
    org = tmp_path / "org.csv"
    org.write_text(
        "entity_id,name,parent_id,kind,equity_share,operational_control,financial_control,"
        "region\nG,Other Group,,group,1,true,true,CN-GD\n",
        encoding="utf-8",
    )
    db = str(tmp_path / "l.db")
    assert _run("init", "--entities", str(org), "--ledger", db)[0] == 0
    return db


def _file(folder: Path, name: str, text: str) -> str:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_a_new_ledger_has_no_topics_until_it_enters_its_own(ledger: str, tmp_path: Path) -> None:
    admin = operator("cli")
    with Ledger.open(ledger) as store:
        closes = datetime.now(UTC) + timedelta(days=9)
        with pytest.raises(Invalid, match="no topic list in this ledger for 2024 or before"):
            survey.create_campaign(store.engine, admin, 2024, "t", closes, survey.demo_groups())
    # a file with problems: each located, nothing entered
    bad = MINE_2024.replace(",E,,board", ",X,,board", 1).replace("ethics,商业", "safety,商业")
    bad = bad.replace("board 2024,1\n", "board 2024,99\n")
    code, _, err = _run("materiality", "topics", "import", "2024", _file(tmp_path, "b.csv", bad),
                        "--ledger", ledger)  # fmt: skip
    assert code == 2
    assert "b.csv:2:dimension: expected E, S or G, got 'X'" in err
    assert "b.csv:2:szse17: szse17 has no topic '99'" in err
    assert "b.csv:4:topic_id: topic 'safety' is also on row 3" in err
    assert _run("materiality", "topics", "list", "--ledger", ledger)[1].startswith("no topic list")
    code, out, err = _run("materiality", "topics", "import", "2024",
                          _file(tmp_path, "t.csv", MINE_2024), "--ledger", ledger)  # fmt: skip
    assert code == 0, err
    assert "3 topics in the 2024 list (3 new, 0 changed, 0 removed)" in out
    with Ledger.open(ledger) as store:
        cid = survey.create_campaign(store.engine, admin, 2025, "t", closes, survey.demo_groups())
        topics = survey_results.campaign_topics(store.engine, cid)
        assert [t.topic_id for t in topics] == ["emissions", "safety", "ethics"]  # carried
        [entry] = audit.entries(store.engine, object_type="topic_list", limit=5)
        assert (entry["action"], entry["object_id"]) == ("import", "2024")
        assert ledger_framework_groups(store, 2024) == {"szse17": {"emissions": ("1",)}}


def test_changes_compare_the_ledgers_lists(ledger: str, tmp_path: Path) -> None:
    for year, text in ((2024, MINE_2024), (2025, MINE_2025)):
        path = _file(tmp_path, f"t{year}.csv", text)
        assert _run("materiality", "topics", "import", str(year), path, "--ledger", ledger)[0] == 0
    code, out, err = _run("materiality", "changes", "--year", "2025", "--json", "--ledger", ledger)
    assert code == 0, err
    rows = [(r["change"], r["topic_id"], r["previous"]) for r in json.loads(out)["rows"]]
    assert rows == [("renamed", "climate", "emissions"), ("added", "water", "")]
    code, _, err = _run("materiality", "changes", "--year", "2024", "--ledger", ledger)
    assert code == 1 and "no topic list of 2023 in the ledger" in err
    exported = tmp_path / "back.csv"
    assert (
        _run("materiality", "topics", "export", "2025", str(exported), "--ledger", ledger)[0] == 0
    )
    assert (
        exported.read_text(encoding="utf-8")
        .splitlines()[1]
        .startswith("climate,气候变化,climate change,E,,emissions,,,board 2025,1;6")
    )


def test_a_locked_years_list_does_not_change(ledger: str) -> None:
    from esgledger.workflow.periods import lock_period  # noqa: PLC0415

    with Ledger.open(ledger) as store:
        import_topic_list(store.engine, operator("cli"), 2024, MINE_2024, "t.csv")
        lock_period(store.engine, operator("chair"), 2024, force=True)
        with pytest.raises(Conflict, match="period 2024 is locked"):
            import_topic_list(store.engine, operator("cli"), 2024, MINE_2025, "t.csv")
        assert [t["topic_id"] for t in store_rows(store)] == ["emissions", "safety", "ethics"]


def store_rows(store: Ledger) -> list[dict[str, str]]:
    from esgledger.store.topic_lists import topic_rows  # noqa: PLC0415

    return topic_rows(store.engine, 2024)
