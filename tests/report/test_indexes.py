"""The GRI and SZSE guideline No. 17 content indexes (declared in the framework registry) and
the gap list, on small section trees built here (and on the seed report's section tree)."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from esgledger.metrics import load_catalogue, load_frameworks
from esgledger.report import indexes
from esgledger.report.indexes import content_index, gaps, index_labels, sort_key
from esgledger.report.model import (
    ContentIndex,
    Figure,
    FigureList,
    Gap,
    IndexRow,
    Narrative,
    Section,
)
from esgledger.report.sections import load_sections

YEAR = 2024
CATALOGUE = load_catalogue()
REFERENCED = tuple(m.metric_id for m in CATALOGUE if m.cites("gri") or m.cites("szse17"))
DATA = Path(indexes.__file__).parent / "data"


def fig(metric_id: str, value: float | None = 1.0, year: int = YEAR) -> Figure:
    return Figure(value, "u", 0, f"metric:{year}:{metric_id}", metric_id, metric_id)


def sec(
    number: str,
    title: str,
    *,
    gri: Iterable[str] = (),
    szse: Iterable[str] = (),
    figures: Iterable[Figure] = (),
    text: str = "",
    children: Iterable[Section] = (),
) -> Section:
    blocks: list[Narrative | FigureList] = []
    if text:
        blocks.append(Narrative(f"{title}.text", text))
    shown = tuple(figures)
    if shown:
        blocks.append(FigureList(f"{title}.figures", title, shown))
    level = number.count(".") + 1
    refs = (*(("gri", c) for c in gri), *(("szse17", c) for c in szse))
    return Section(title, number, title, level, refs, tuple(blocks), tuple(children))


def loc(section: Section) -> str:
    return f"{section.number} {section.title}"


def gri_index(sections: Iterable[Section], lang: str) -> ContentIndex:
    return content_index("gri", tuple(sections), lang)


def szse_index(
    sections: Iterable[Section],
    lang: str,
    not_applicable: Mapping[str, str] | None = None,
    **settings: Any,
) -> ContentIndex:
    return content_index(
        "szse17", tuple(sections), lang, not_applicable=not_applicable or {}, **settings
    )


def gri_rows(index: ContentIndex) -> dict[str, IndexRow]:
    return {r.clause: r for r in index.rows}


def szse_rows(index: ContentIndex) -> dict[int, IndexRow]:
    return {int(r.clause): r for r in index.rows}


def words(key: str, lang: str = "en") -> str:
    return index_labels()[key][lang]


def seed_tree() -> tuple[Section, ...]:
    """The seed report's section tree (``data/sections.csv``), every section with text."""
    specs = load_sections()

    def make(spec_id: str, number: str) -> Section:
        spec = next(s for s in specs if s.section_id == spec_id)
        children = [s for s in specs if s.parent == spec_id]
        return sec(
            number,
            spec.title_en,
            gri=[c for f, c in spec.refs if f == "gri"],
            szse=[c for f, c in spec.refs if f == "szse17"],
            text="Text.",
            children=[make(c.section_id, f"{number}.{i}") for i, c in enumerate(children, 1)],
        )

    roots = [s for s in specs if s.parent is None]
    return tuple(make(s.section_id, str(i)) for i, s in enumerate(roots, 1))


# -- GRI --------------------------------------------------------------------------------------


def test_seed_sections_give_a_gri_row_per_code_in_numeric_order_with_table_titles() -> None:
    tree = seed_tree()
    named = {code for s in (w for t in tree for w in t.walk()) for code in s.cites("gri")}
    table = load_frameworks()["gri"].rows
    for lang in ("en", "zh"):
        rows = gri_index(tree, lang).rows
        codes = [r.clause for r in rows]
        assert set(codes) == named
        assert codes == sorted(codes, key=sort_key)
        # the GRI table is English only: both languages print its title
        assert all(r.title == table[r.clause]["title"] for r in rows)
        assert all(r.locations and not r.omission for r in rows)
    assert codes.index("2-9") < codes.index("2-10") < codes.index("3-1") < codes.index("201-2")
    assert sort_key("2-10") > sort_key("2-9")
    by_code = gri_rows(gri_index(tree, "en"))
    assert by_code["305-1"].locations == (
        "4 Our 2024",
        "7.1 Climate action",
        "13.2 Key performance table",
    )


def test_every_shown_catalogue_metric_is_located_in_its_gri_and_szse_rows() -> None:
    sections = tuple(
        sec(str(i), m.metric_id, figures=[fig(m.metric_id)]) for i, m in enumerate(CATALOGUE, 1)
    )
    indexes = (gri_index(sections, "en"), szse_index(sections, "en"))
    gri, szse = gri_rows(indexes[0]), szse_rows(indexes[1])
    for section, metric in zip(sections, CATALOGUE, strict=True):
        for code in metric.cites("gri"):
            assert loc(section) in gri[code].locations, (metric.metric_id, code)
        for article in metric.cites("szse17"):
            assert loc(section) in szse[int(article)].locations, (metric.metric_id, article)
    found = gaps(sections, indexes, "en")
    assert not [g for g in found if g.metric_id]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(REFERENCED), st.booleans(), min_size=1, max_size=40))
def test_each_referenced_metric_is_located_or_a_gap_never_both(shown: Mapping[str, bool]) -> None:
    """One section per metric, so that a section's location stands for its metric."""
    ids = list(shown)
    sections = tuple(
        sec(str(i), m, figures=[fig(m, 1.0 if shown[m] else None)]) for i, m in enumerate(ids, 1)
    )
    gri, szse = gri_index(sections, "en"), szse_index(sections, "en")
    gap_metrics = {g.metric_id for g in gaps(sections, (gri, szse), "en")}
    by_code, by_article = gri_rows(gri), szse_rows(szse)
    for section, metric_id in zip(sections, ids, strict=True):
        metric = CATALOGUE.get(metric_id)
        places = [by_code[c].locations for c in metric.cites("gri")]
        places += [
            by_article[int(a)].locations for a in metric.cites("szse17") if int(a) in by_article
        ]
        located = [loc(section) in p for p in places]
        if shown[metric_id]:
            assert places and all(located) and metric_id not in gap_metrics
        else:
            assert not any(located) and metric_id in gap_metrics


def test_a_disclosure_supported_only_by_missing_metrics_is_information_unavailable() -> None:
    sections = (sec("1", "Climate", figures=[fig("ghg.scope1", None), fig("ghg.total", None)]),)
    for lang in ("en", "zh"):
        row = gri_rows(gri_index(sections, lang))["305-1"]
        assert row.locations == ()
        assert row.omission == words("omission_unavailable", lang)
        assert "ghg.scope1" in row.reason and "ghg.total" in row.reason
        assert CATALOGUE.get("ghg.scope1").name(lang) in row.reason


def test_a_cited_disclosure_with_a_missing_metric_is_information_incomplete() -> None:
    sections = (
        sec("1", "Climate", gri=["305-1"], text="We count.", figures=[fig("ghg.scope1", None)]),
    )
    row = gri_rows(gri_index(sections, "en"))["305-1"]
    assert row.locations == ("1 Climate",)
    assert row.omission == words("omission_incomplete")
    assert "ghg.scope1" in row.reason


# -- SZSE -------------------------------------------------------------------------------------


def test_rows_follow_the_obligation_of_the_articles_table() -> None:
    rows = szse_rows(szse_index((), "en"))
    table = load_frameworks()["szse17"].rows
    for number, article in table.items():
        level = indexes.obligation(article["disclosure_level"])
        # mandatory and conditional articles always have a row; others only where disclosed
        assert (int(number) in rows) == (level in ("mandatory", "conditional")), number
    assert rows[24].level == words("level_mandatory")
    assert rows[30].level == words("level_conditional")
    assert "statutory" in rows[30].reason  # the condition is printed
    assert rows[24].status == words("status_gap")
    assert indexes.obligation("n/a") == "" and indexes.obligation("encouraged") == "encouraged"


def test_a_clause_reference_counts_for_its_article_and_encouraged_rows_appear_when_cited() -> None:
    sections = (sec("1", "Climate", szse=["23(1)", "25(3)"], text="Plan."),)
    rows = szse_rows(szse_index(sections, "en"))
    assert rows[23].locations == ("1 Climate",)
    assert rows[23].status == words("status_disclosed")
    assert rows[25].level == words("level_encouraged")
    assert 42 not in rows  # encouraged and not cited


def test_seed_sections_disclose_all_four_climate_elements() -> None:
    rows = szse_rows(szse_index(seed_tree(), "en"))
    climate = rows[21]
    assert climate.status == words("status_disclosed")
    for element in indexes.ELEMENTS:
        assert words(f"element_{element}") in climate.four_elements
    assert words("four_elements_not_material") == rows[50].four_elements
    assert rows[22].four_elements == ""  # shown on the topic's first article only


def test_missing_elements_make_the_topic_partly_disclosed() -> None:
    climate = sec("1", "Climate", szse=["21", "24"], text="Emissions.")
    row = szse_rows(szse_index((climate,), "en"))[21]
    assert row.status == words("status_partly")
    assert row.four_elements.startswith(words("element_metrics_targets"))
    assert words("element_governance") in row.reason
    # governance may be disclosed once for the entity (art. 12): a section citing it counts
    governance = sec("2", "Governance", szse=["12(2)"], text="The board.")
    row = szse_rows(szse_index((climate, governance), "en"))[21]
    assert words("element_governance") not in row.reason
    assert words("element_strategy") in row.reason
    # four elements for another topic when the report marks it financially material
    water = sec("3", "Water", szse=["36", "11(1)", "11(2)", "11(3)", "11(4)"], text="Water.")
    row = szse_rows(szse_index((water,), "en", financially_material={"7"}))[36]
    assert row.status == words("status_disclosed")
    assert row.four_elements.count(words("element_sep")) == 3


def test_not_applicable_articles_and_topics_carry_their_reason_and_leave_no_gap() -> None:
    rows = szse_index(
        (), "zh", {"58": "未进行第三方鉴证"}, groups_not_applicable={"2": "不涉及重点排污"}
    )
    by_article = szse_rows(rows)
    assert by_article[58].status == words("status_not_applicable", "zh")
    assert by_article[58].reason == "未进行第三方鉴证"
    assert by_article[30].reason == "不涉及重点排污"
    items = {g.item for g in gaps((), (rows,), "zh")}
    assert not any(i.startswith(("第五十八条", "第三十条")) for i in items)
    assert any(i.startswith("第二十四条") for i in items)


# -- gaps -------------------------------------------------------------------------------------


def test_a_metric_removed_from_the_data_moves_its_items_to_the_gap_list() -> None:
    def report(value: float | None) -> tuple[tuple[Gap, ...], dict[int, IndexRow]]:
        sections = (sec("1", "Emissions", figures=[fig("ghg.scope1", value)]),)
        szse, gri = szse_index(sections, "en"), gri_index(sections, "en")
        return gaps(sections, (gri, szse), "en"), szse_rows(szse)

    found, rows = report(4472.7)
    assert rows[24].status == words("status_disclosed") and rows[24].locations == ("1 Emissions",)
    assert not [g for g in found if "24" in g.item or g.metric_id or "305-1" in g.item]
    found, rows = report(None)
    assert rows[24].status == words("status_gap")
    assert "ghg.scope1" in rows[24].reason
    assert [g.metric_id for g in found if g.metric_id] == ["ghg.scope1"]
    assert any(g.item.startswith("art. 24") for g in found)
    assert any(g.item.startswith("305-1") for g in found)  # the GRI disclosure lost its place
    assert Gap("report", "1 Emissions", words("gap_section")) in found


def test_sections_with_neither_text_nor_data_are_gaps_but_parents_of_content_are_not() -> None:
    child = sec("1.1", "Child", text="Some text.")
    sections = (
        sec("1", "Chapter", children=[child]),
        sec("2", "Awards"),
        sec("3", "Numbers", figures=[fig("workforce.headcount", None)]),
    )
    found = gaps(sections, (), "en")
    empty = [g.item for g in found if g.framework == words("framework_report")]
    assert empty == ["2 Awards", "3 Numbers"]


def test_only_report_year_figures_decide_presence() -> None:
    """The previous-year column of a table neither discloses nor leaves a gap."""
    sections = (
        sec(
            "1",
            "People",
            figures=[fig("workforce.headcount", None, YEAR - 1), fig("workforce.headcount", 10.0)],
        ),
        sec(
            "2",
            "Water",
            figures=[fig("water.withdrawal", 5.0, YEAR - 1), fig("water.withdrawal", None)],
        ),
    )
    found = {g.metric_id for g in gaps(sections, (), "en")}
    assert found == {"water.withdrawal"}


def test_labels_follow_the_report_language_and_unknown_languages_fail() -> None:
    rows = szse_index(seed_tree(), "zh")
    statuses = {r.status for r in rows.rows}
    zh = {index_labels()[k]["zh"] for k in index_labels() if k.startswith("status_")}
    assert statuses <= zh
    assert szse_rows(rows)[24].title == "应对气候变化"
    for key, text in index_labels().items():
        assert text["en"] and text["zh"], key
    with pytest.raises(ValueError, match="language"):
        gri_index((), "fr")


def test_four_elements_file_agrees_with_the_articles_table() -> None:
    names = {
        "governance": "governance",
        "strategy": "strategy",
        "iro management": "iro_management",
        "metrics & targets": "metrics_targets",
    }
    with (DATA / "four_elements.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert {r["framework_id"] for r in rows} == {"szse17"}
    declared = {
        (r["element"], r["ref"]) for r in rows if r["kind"] == "szse17" and r["ref"].isdigit()
    }
    table = load_frameworks()["szse17"].rows
    expected = {
        (names[row["four_element_framework"].lower()], number)
        for number, row in table.items()
        if row["four_element_framework"].lower() in names
    }
    assert declared == expected
    assert all(r["source"] for r in rows)
    assert {r.element for r in indexes.four_element_refs()} == set(indexes.ELEMENTS)
    gri = load_frameworks()["gri"]
    assert all(gri.has(r["ref"]) for r in rows if r["kind"] == "gri")
