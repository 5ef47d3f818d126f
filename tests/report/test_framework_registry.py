"""A content index is data: a framework added in an extra folder (``ESGLEDGER_FRAMEWORKS``:
its registry row, its clause table, its section references) gets its index in the built
report and in the HTML page, the gap list and the catalogue, with no change to the code; the
GRI and SZSE indexes stay as they were."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path

import pytest

from esgledger.metrics import COLUMNS, FrameworkError, load_frameworks, read_catalogue
from esgledger.metrics.frameworks import ENV, REGISTRY_COLUMNS
from esgledger.report import build_report, render
from esgledger.report.html import render_html
from esgledger.report.indexes import content_indexes, gaps
from esgledger.report.model import Figure, FigureList, Narrative, Report, Section
from esgledger.report.sections import load_sections
from esgledger.store.ledger import Ledger

BUILT = "2026-01-01T00:00:00Z"
ACME = {
    "framework_id": "acme",
    "file": "acme_clauses.csv",
    "id_column": "code",
    "style": "disclosures",
    "title_en": "ACME climate index",
    "title_zh": "ACME 气候索引",
    "name_en": "ACME",
    "name_zh": "ACME 准则",
    "clause_en": "ACME {id}",
    "clause_zh": "ACME {id}",
    "title_columns": "title",
    "title_columns_zh": "title_zh",
    "source": "a made-up framework of this test",
}


def _write(path: Path, header: Iterable[str], rows: Iterable[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, list(header), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def _folder(tmp_path: Path, *rows: dict[str, str], refs: Iterable[tuple[str, ...]] = ()) -> Path:
    """An extra framework folder: registry rows, the ACME table, section references."""
    folder = tmp_path / "frameworks"
    folder.mkdir(exist_ok=True)
    _write(
        folder / "registry.csv",
        REGISTRY_COLUMNS,
        ({**dict.fromkeys(REGISTRY_COLUMNS, ""), **r} for r in rows),
    )
    _write(
        folder / "acme_clauses.csv",
        ("code", "title", "title_zh", "source_ids"),
        (
            {"code": "A-1", "title": "Climate plan", "title_zh": "气候计划", "source_ids": "test"},
            {"code": "A-2", "title": "Boundary", "title_zh": "报告边界", "source_ids": "test"},
            {"code": "A-10", "title": "Water", "title_zh": "水", "source_ids": "test"},
        ),
    )
    _write(
        folder / "section_refs.csv",
        ("section_id", "framework_id", "clause_id", "source"),
        (
            {"section_id": s, "framework_id": f, "clause_id": c, "source": "test"}
            for s, f, c in refs
        ),
    )
    return folder


def _location(report: Report, section_id: str) -> str:
    section = next(s for s in report.walk() if s.section_id == section_id)
    return f"{section.number} {section.title}"


def test_a_third_framework_declared_as_data_gets_its_index_in_the_report_and_the_html(
    demo_ledger: Ledger, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = {lang: build_report(demo_ledger, 2024, lang, built_at=BUILT) for lang in ("en", "zh")}
    refs = [("climate", "acme", "A-1"), ("about", "acme", "A-2"), ("about", "acme", "A-10")]
    monkeypatch.setenv(ENV, str(_folder(tmp_path, ACME, refs=refs)))
    for lang, base in before.items():
        report = build_report(demo_ledger, 2024, lang, built_at=BUILT)
        assert [i.framework_id for i in report.indexes] == ["gri", "szse17", "acme"]
        # GRI and SZSE: the same index and gaps as without the extra framework
        assert report.indexes[:2] == base.indexes
        assert report.gaps == base.gaps
        acme = report.index("acme")
        assert (acme.title, acme.name, acme.anchor) == (
            (ACME["title_zh"], ACME["name_zh"], "acme-index")
            if lang == "zh"
            else (ACME["title_en"], ACME["name_en"], "acme-index")
        )
        assert [r.clause for r in acme.rows] == ["A-1", "A-2", "A-10"]  # numeric order
        assert acme.rows[0].locations == (_location(report, "climate"),)
        assert acme.rows[0].title == ("气候计划" if lang == "zh" else "Climate plan")
        assert all(r.locations and not r.omission for r in acme.rows)
        page = render(report, "html").decode("utf-8")
        assert f'<li class="toc-level-appendix"><a href="#acme-index">{acme.title}</a></li>' in page
        assert f'<section class="appendix" id="acme-index">\n<h2>{acme.title}</h2>' in page
        assert '<th scope="row">A-10</th>' in page
        # the page of the packaged frameworks is the same once the ACME part is taken out
        start = page.index('<section class="appendix" id="acme-index">')
        end = page.index('<section class="appendix" id="gap-list">')
        toc = f'<li class="toc-level-appendix"><a href="#acme-index">{acme.title}</a></li>\n'
        assert (page[:start] + page[end:]).replace(toc, "") == render(base, "html").decode()


def _tree() -> tuple[Section, ...]:
    text = (Narrative("climate.text", "We act."),)
    scope1 = Figure(None, "t", 0, "metric:2024:ghg.scope1", "scope 1", "ghg.scope1")
    return (
        Section("climate", "1", "Climate", 1, (("acme", "A-1"), ("sse14", "21")), text),
        Section("empty", "2", "Empty", 1, (("acme", "A-2"), ("sse14", "24"))),
        Section("energy", "3", "Energy", 1, (), (FigureList("f", "", (scope1,)),)),
    )


def test_an_obligations_index_and_the_gap_list_follow_the_registry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second obligations framework reusing the packaged SZSE articles table (the SSE
    guideline No. 14 has the same articles) and ESRS E1, packaged without an index, given one
    by an extra registry row: the catalogue's ``esrs`` references place the metrics."""
    sse = {
        "framework_id": "sse14",
        "file": "szse17_articles.csv",  # not in the folder: the packaged table
        "id_column": "article_no",
        "style": "obligations",
        "anchor": "sse-index",
        "title_en": "SSE guideline No. 14 index",
        "name_en": "SSE No. 14",
        "clause_en": "SSE art. {id}",
        "clause_zh": "上交所{article_cn}",
        "title_columns": "topic_en|role",
        "title_columns_zh": "topic_cn|section|chapter",
        "level_column": "disclosure_level",
        "group_column": "topic_index_no",
        "source": "test: the SSE guideline No. 14 shares the SZSE No. 17 articles",
    }
    esrs = {
        "framework_id": "esrs",
        "file": "esrs_e1.csv",
        "id_column": "disclosure_requirement",
        "style": "disclosures",
        "title_en": "ESRS E1 content index",
        "name_en": "ESRS E1",
        "title_columns": "title",
        "source": "test",
    }
    monkeypatch.setenv(ENV, str(_folder(tmp_path, ACME, sse, esrs)))
    frameworks = load_frameworks()
    assert [f.framework_id for f in frameworks.indexes()] == [
        "gri",
        "szse17",
        "esrs",
        "acme",
        "sse14",
    ]
    sections = _tree()
    indexes = content_indexes(sections, "en")
    by_id = {i.framework_id: i for i in indexes}
    rows = {r.clause: r for r in by_id["sse14"].rows}
    assert rows["21"].locations == ("1 Climate",) and rows["21"].four_elements == ""
    assert rows["24"].status == "gap" and rows["24"].level == "mandatory"
    assert [r.clause for r in by_id["esrs"].rows] == ["E1-6"]  # ghg.scope1 references E1-6
    assert by_id["esrs"].rows[0].omission == "information unavailable"
    found = gaps(sections, indexes, "en")
    items = [(g.framework, g.item) for g in found]
    assert ("SSE No. 14", "SSE art. 24 Climate change response") in items
    assert ("ACME", "ACME A-2 Boundary") in items
    (metric,) = [g for g in found if g.metric_id == "ghg.scope1"]
    assert metric.framework == "GRI / SZSE guideline No. 17 / ESRS E1"
    assert metric.framework_ids == ("gri", "szse17", "esrs")
    zh = {g.item for g in gaps(sections, content_indexes(sections, "zh"), "zh")}
    assert "上交所第二十四条 应对气候变化" in zh
    page = render_html(Report(2024, "en", "Report", "Org", sections, indexes, found))
    assert '<section class="appendix" id="sse-index">' in page
    assert '<section class="appendix" id="esrs-index">' in page


def test_the_catalogue_reads_the_column_of_a_declared_framework(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalogue_dir = tmp_path / "catalogue"
    catalogue_dir.mkdir()
    row = dict.fromkeys((*COLUMNS, "acme"), "")
    row.update(
        metric_id="workforce.headcount", name_en="headcount", name_zh="员工", pillar="S",
        unit="persons", unit_label="persons", kind="input", aggregation="sum", scale="1",
        period_rule="stock", precision="0", definition="test", acme="A-1",
    )  # fmt: skip
    _write(catalogue_dir / "catalogue_social.csv", row, [row])
    _, problems = read_catalogue(catalogue_dir)
    assert [p.code for p in problems] == ["catalogue.header"]  # acme is not declared
    monkeypatch.setenv(ENV, str(_folder(tmp_path, ACME)))
    catalogue, problems = read_catalogue(catalogue_dir)
    assert problems == ()
    assert catalogue.get("workforce.headcount").cites("acme") == ("A-1",)
    _write(catalogue_dir / "catalogue_social.csv", row, [{**row, "acme": "A-9"}])
    _, problems = read_catalogue(catalogue_dir)
    assert [(p.code, p.column) for p in problems] == [("catalogue.unknown_acme", "acme")]


def test_registry_and_reference_mistakes_are_located(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV, str(_folder(tmp_path, {**ACME, "style": "checklist"})))
    with pytest.raises(FrameworkError, match=r"registry.csv:2:style: 'checklist'"):
        load_frameworks()
    monkeypatch.setenv(ENV, str(_folder(tmp_path, {**ACME, "id_column": "nope"})))
    with pytest.raises(FrameworkError, match=r"acme_clauses.csv:1: no id column 'nope'"):
        load_frameworks()
    refs = [("climate", "nope", "1")]
    monkeypatch.setenv(ENV, str(_folder(tmp_path, ACME, refs=refs)))
    with pytest.raises(FrameworkError, match=r"section_refs.csv:2:framework_id: 'nope'"):
        load_sections()
    refs = [("nowhere", "acme", "A-1")]
    monkeypatch.setenv(ENV, str(_folder(tmp_path, ACME, refs=refs)))
    with pytest.raises(FrameworkError, match=r"section_refs.csv:2:section_id: no section"):
        load_sections()


def test_packaged_section_references_name_declared_frameworks_and_known_clauses() -> None:
    frameworks = load_frameworks()
    refs = [r for s in load_sections() for r in s.refs]
    assert {fid for fid, _ in refs} == {"gri", "szse17"}
    for fid, clause in refs:
        framework = frameworks[fid]
        known = framework.has(clause) if fid == "gri" else framework.has(clause.split("(")[0])
        assert known, (fid, clause)
