"""The climate risk and opportunity register: seed, validation, heat map, changes, table."""

from __future__ import annotations

import csv
import re
from importlib import resources
from pathlib import Path

import pytest
from lxml import html as lxml_html

from esgledger.assess.climate import (
    REGISTER_COLUMNS,
    Change,
    RegisterEntry,
    heat_map,
    load_horizons,
    read_register,
    register_changes,
    register_labels,
    unscored,
)
from esgledger.assess.topics import read_data_csv
from esgledger.report.climate_tables import register_table
from esgledger.report.html import render_html
from esgledger.report.model import Figure, Report, Section

DEMO_REGISTER = Path(str(resources.files("esgledger.demo") / "data" / "climate_register_seed.csv"))


def _write(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=REGISTER_COLUMNS)
        writer.writeheader()
        writer.writerows({c: row.get(c, "") for c in REGISTER_COLUMNS} for row in rows)
    return path


def _row(entry_id: str, **cells: str) -> dict[str, str]:
    row = {
        "entry_id": entry_id,
        "year": "2024",
        "type": "risk",
        "class": "physical",
        "category": "acute",
        "title": f"title {entry_id}",
        "horizons": "short",
        "source": "test",
    }
    row.update(cells)
    return row


def _entry(
    entry_id: str,
    likelihood: int | None = None,
    impact: int | None = None,
    horizons: tuple[str, ...] = ("short",),
) -> RegisterEntry:
    return RegisterEntry(
        entry_id=entry_id,
        year=2024,
        type="risk",
        class_="transition",
        category="market",
        title=entry_id,
        horizons=horizons,
        likelihood=likelihood,
        impact=impact,
    )


def test_seed_register_loads_with_every_kind() -> None:
    entries, problems = read_register(DEMO_REGISTER)
    assert problems == []
    assert len(entries) == 9
    kinds = {(e.type, e.class_, e.category) for e in entries}
    assert {
        ("risk", "physical", "acute"),
        ("risk", "physical", "chronic"),
        ("risk", "transition", "policy and legal"),
        ("risk", "transition", "market"),
        ("risk", "transition", "technology"),
        ("risk", "transition", "reputation"),
    } <= kinds
    opportunities = {e.category for e in entries if e.type == "opportunity"}
    assert opportunities == {"products and services", "resource efficiency", "markets"}
    assert all(e.year == 2024 and e.file == "climate_register_seed.csv" for e in entries)
    assert [e.row for e in entries] == list(range(2, 11))
    # the seed publishes no scores, amounts, owners or review dates: none is invented
    assert all(e.likelihood is None and e.impact is None for e in entries)
    assert all(e.financial_low_cny is None and e.financial_high_cny is None for e in entries)
    assert all(not e.owner and e.review_date is None for e in entries)
    assert all(e.financial_effect and e.responses and e.source for e in entries)
    acute = next(e for e in entries if e.category == "acute")
    assert acute.horizons == ("short", "medium", "long")
    assert acute.value_chain == ("upstream", "operations")


def test_horizons_are_the_seeds() -> None:
    assert load_horizons() == ("short", "medium", "long")
    frame = read_data_csv("climate_horizons.csv")
    assert frame["max_years"].tolist() == ["1", "5", ""]
    assert all("systems.md" in s for s in frame["source"])


@pytest.mark.parametrize(
    ("cells", "column", "expected"),
    [
        ({"category": "flood"}, "category", "expected a category of risk/physical"),
        ({"horizons": "short;eternal"}, "horizons", "expected a time horizon"),
        ({"likelihood": "6", "impact": "3"}, "likelihood", "expected an integer score 1-5"),
        ({"class": "transition", "category": "acute"}, "category", "transition"),
        ({"value_chain": "midstream"}, "value_chain", "expected a value-chain stage"),
        ({"impact": "3"}, "likelihood", "likelihood and impact go together"),
    ],
)
def test_a_bad_cell_is_located_and_nothing_is_returned(
    tmp_path: Path, cells: dict[str, str], column: str, expected: str
) -> None:
    path = _write(tmp_path / "register.csv", [_row("a"), _row("b", **cells), _row("c")])
    entries, problems = read_register(path)
    assert entries == ()
    assert len(problems) == 1
    problem = problems[0]
    assert (problem.file, problem.row, problem.column) == ("register.csv", 3, column)
    assert str(problem).startswith(f"register.csv:3:{column}: expected")
    assert expected in problem.message


def test_every_problem_is_reported_and_duplicates_too(tmp_path: Path) -> None:
    rows = [_row("a", category="flood"), _row("a", horizons=""), _row("b", impact="0")]
    entries, problems = read_register(_write(tmp_path / "r.csv", rows))
    assert entries == ()
    located = [(p.row, p.column) for p in problems]
    assert (2, "category") in located
    assert (3, "entry_id") in located
    assert (3, "horizons") in located
    assert (4, "impact") in located


def test_a_missing_column_is_located(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("entry_id,year\na,2024\n", encoding="utf-8")
    entries, problems = read_register(path)
    assert entries == ()
    assert {p.column for p in problems} == set(REGISTER_COLUMNS) - {"entry_id", "year"}
    assert all(p.row == 1 for p in problems)


def test_a_scored_register_reads(tmp_path: Path) -> None:
    rows = [
        _row(
            "a",
            likelihood="4",
            impact="2",
            financial_low_cny="1000",
            financial_high_cny="5000",
            review_date="2025-06-30",
        )
    ]
    (entry,), problems = read_register(_write(tmp_path / "r.csv", rows))
    assert problems == []
    assert (entry.likelihood, entry.impact) == (4, 2)
    assert (entry.financial_low_cny, entry.financial_high_cny) == (1000.0, 5000.0)
    assert str(entry.review_date) == "2025-06-30"


def test_heat_map_counts_by_hand() -> None:
    entries = [
        _entry("a", 4, 2),
        _entry("b", 4, 2),
        _entry("c", 1, 5),
        _entry("d", 5, 5),
        _entry("e"),  # not assessed: listed apart
    ]
    frame = heat_map(entries)
    assert frame.shape == (5, 5)
    assert frame.index.name == "likelihood" and frame.columns.name == "impact"
    assert frame.loc[4, 2] == 2
    assert frame.loc[1, 5] == 1
    assert frame.loc[5, 5] == 1
    assert int(frame.to_numpy().sum()) == 4
    assert frame.attrs["unscored"] == ("e",) == unscored(entries)


def test_heat_map_of_the_seed_has_every_entry_apart() -> None:
    entries, _ = read_register(DEMO_REGISTER)
    frame = heat_map(entries)
    assert int(frame.to_numpy().sum()) == 0
    assert len(frame.attrs["unscored"]) == 9


def test_register_changes() -> None:
    previous = [
        _entry("kept", 2, 3),
        _entry("rescored", 2, 3),
        _entry("moved", horizons=("short",)),
        _entry("gone"),
    ]
    current = [
        _entry("kept", 2, 3),
        _entry("rescored", 4, 3),
        _entry("moved", horizons=("medium", "long")),
        _entry("new"),
    ]
    assert register_changes(previous, current) == [
        Change("rescored", "rescored", "likelihood 2, impact 3", "likelihood 4, impact 3"),
        Change("horizons", "moved", "short", "medium;long"),
        Change("added", "new"),
        Change("removed", "gone"),
    ]
    assert register_changes(current, current) == []


def test_labels_have_no_digits_and_both_languages() -> None:
    labels = register_labels()
    for key, words in labels.items():
        assert words["en"] and words["zh"], key
        assert not re.search(r"\d", words["en"] + words["zh"]), key
    taxonomy = read_data_csv("climate_taxonomy.csv")
    needed = set(taxonomy["type"]) | set(taxonomy["class"]) | set(taxonomy["category"])
    assert needed | set(load_horizons()) | {"upstream", "operations", "downstream"} <= set(labels)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_register_table_renders(lang: str) -> None:
    entries, _ = read_register(DEMO_REGISTER)
    table = register_table(entries, lang)
    assert len(table.rows) == 9
    assert all(len(row) == len(table.columns) for row in table.rows)
    figures = [c for row in table.rows for c in row if isinstance(c, Figure)]
    assert len(figures) == 18
    assert all(f.missing for f in figures)
    assert "climate:2024:physical_acute:likelihood" in {f.lineage for f in figures}
    words = {"zh": "急性", "en": "acute"}[lang]
    assert words in table.rows[0][1]
    report = Report(
        year=2024,
        lang="zh" if lang == "zh" else "en",
        title="climate",
        organisation="test",
        sections=(Section("climate", "1", table.title, 1, blocks=(table,)),),
    )
    page = render_html(report)
    tree = lxml_html.document_fromstring(page)
    text = "".join(tree.itertext())
    assert table.title in text
    assert entries[0].title in text
    assert words in text
