"""The assessment blocks of the report: the double-materiality matrix, the material topics with
their tiers, the topic changes against the previous year, and the climate risk and
opportunity register.

Every block takes the ledger's :class:`~esgledger.book.Book` and reads the assessments' results
it memoises (:mod:`esgledger.usecases.assessment_results`): the materiality blocks the campaign
of the year the ESG committee signed off last (a campaign still open is a draft and feeds
nothing); the climate register and the count tables the year's registers with their results,
the same frames ``register show``, the web pages and lineage read.

Every score is a :class:`Figure` whose lineage id (``materiality:<year>:<topic>:<axis>``,
``climate:<year>:<entry>:<axis>``) ``esgledger explain`` accepts. When the ledger holds no
assessment, each block is a table with a note saying so (and the content index shows the gap),
never invented figures.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import TYPE_CHECKING

import pandas as pd

from esgledger.assess import results, risks
from esgledger.assess.materiality import TIERS, lineage
from esgledger.assess.rule_tables import RegisterRules
from esgledger.assess.topics import topic_changes
from esgledger.domain.figure_id import FigureId
from esgledger.report import climate_tables
from esgledger.report.materiality_chart import matrix_chart
from esgledger.report.model import Block, Cell, Chart, Figure, Lang, Table
from esgledger.usecases.assessment_results import graded, materiality, rules_of
from esgledger.usecases.topic_lists import ledger_framework_groups, ledger_topics

if TYPE_CHECKING:
    from esgledger.book import Book

__all__ = [
    "climate_changes",
    "climate_register",
    "financially_material",
    "material_topics",
    "materiality_changes",
    "materiality_matrix",
    "register_counts",
]

Label = Callable[[str, Lang], str]


def materiality_matrix(
    book: Book, year: int, lang: Lang, block_id: str, title: str, sheet: str, word: Label
) -> Block:
    found = materiality(book, year)
    if found is None:
        return Table.note_only(block_id, title, word("materiality_none", lang), sheet)
    chart = matrix_chart(
        found.results,
        lang,
        year=year,
        topics=found.topics,
        block_id=block_id,
        scales=found.scales,
    )
    return Chart(
        chart.block_id,
        chart.kind,
        title or chart.title,
        chart.categories,
        chart.series,
        y_label=chart.y_label,
        guides=chart.guides,
    )


def _score(value: float, year: int, topic_id: str, axis: str, name: str) -> Figure:
    missing = pd.isna(value)
    return Figure(
        value=None if missing else round(float(value), 2),
        unit="",
        precision=2,
        lineage=lineage(year, topic_id, axis),  # type: ignore[arg-type]
        label=name,
        source="missing" if missing else "computed",
    )


def material_topics(
    book: Book, year: int, lang: Lang, block_id: str, title: str, sheet: str, word: Label
) -> Block:
    """Topics from the highest tier down (then by list order), with both scores and tier."""
    found = materiality(book, year)
    if found is None:
        return Table.note_only(block_id, title, word("materiality_none", lang), sheet)
    results = found.results
    topics = [t for t in found.topics if t.topic_id in results.index]
    rank = results["tier_rank"].astype(int).to_dict()
    order = sorted(range(len(topics)), key=lambda i: (-rank[topics[i].topic_id], i))
    impact, financial = word("mat_impact", lang), word("mat_financial", lang)
    rows: list[tuple[Cell, ...]] = []
    for i in order:
        t = topics[i]
        row = results.loc[t.topic_id].to_dict()
        rows.append(
            (
                t.name(lang),
                word(f"dimension_{t.dimension}", lang),
                _score(float(row["impact"]), year, t.topic_id, "impact", impact),
                _score(float(row["financial"]), year, t.topic_id, "financial", financial),
                word(f"tier_{TIERS.index(str(row['tier']))}", lang),
            )
        )
    columns = (
        word("mat_topic", lang),
        word("mat_dimension", lang),
        impact,
        financial,
        word("mat_tier", lang),
    )
    return Table(
        block_id, title, columns, tuple(rows), notes=(word("mat_note", lang),), sheet=sheet
    )


def materiality_changes(
    book: Book,
    year: int,
    lang: Lang,
    block_id: str,
    title: str,
    sheet: str,
    word: Label,
) -> Block:
    """The changes of the ledger's topic list of ``year`` against the previous year's."""
    before, now = ledger_topics(book, year - 1), ledger_topics(book, year)
    if not before or not now:
        return Table.note_only(block_id, title, word("mat_changes_none", lang), sheet)
    names = {t.topic_id: t.name(lang) for t in (*before, *now)}
    rows: list[tuple[Cell, ...]] = [
        (
            word(f"change_{c.kind}", lang),
            names.get(c.topic_id, c.topic_id),
            names.get(c.previous_id, "") if c.previous_id else "",
        )
        for c in topic_changes(before, now)
    ]
    columns = (word("mat_change", lang), word("mat_topic", lang), word("mat_previous", lang))
    return Table(block_id, title, columns, tuple(rows), sheet=sheet)


def climate_register(
    book: Book, year: int, lang: Lang, block_id: str, title: str, sheet: str, word: Label
) -> Block:
    frame = graded(book, "climate", year)
    if frame.empty:
        return Table.note_only(block_id, title, word("climate_none", lang), sheet)
    table = climate_tables.register_table(results.climate_entries(frame, year), lang)
    return Table(
        block_id, title or table.title, table.columns, table.rows, table.notes, sheet or "E"
    )


def climate_changes(
    book: Book, year: int, lang: Lang, block_id: str, title: str, sheet: str, word: Label
) -> Block:
    """The changes of the climate register from the previous year's register."""
    current = graded(book, "climate", year)
    previous = graded(book, "climate", year - 1)
    if current.empty or previous.empty:
        return Table.note_only(block_id, title, word("climate_changes_none", lang), sheet)
    table = climate_tables.changes_table(
        results.climate_entries(previous, year - 1), results.climate_entries(current, year), lang
    )
    return Table(block_id, title or table.title, table.columns, table.rows, (), sheet or "E")


def financially_material(book: Book, year: int) -> Mapping[str, frozenset[str]]:
    """Framework id -> its topics (SZSE guideline No. 17: 1-21) of the topics assessed
    financially material (financial score at or over its threshold) in the signed-off
    campaign of ``year``, by the framework columns of the ledger's topic list of the year."""
    found = materiality(book, year)
    if found is None:
        return {}
    results = found.results
    high = results.index[results["financial_high"].astype(bool)]
    return {
        fid: frozenset(g for topic in high for g in mapping.get(str(topic), ()))
        for fid, mapping in ledger_framework_groups(book, year).items()
    }


_COUNTED = {"suppliers": "supplier_evaluations", "bcm": "bcm", "infosec": "infosec"}
"""The register each count table reads."""


def _classes(rules: RegisterRules, kind: str, lang: Lang) -> list[tuple[str, str, str]]:
    """(class id, name, treatment or follow-up) of a counted register, in the order of the
    year's rules (highest first)."""
    zh = lang == "zh"
    if kind == "suppliers":
        return [
            (
                lv.level,
                f"{lv.level} {lv.name_zh if zh else lv.name_en}",
                lv.follow_up_zh if zh else lv.follow_up_en,
            )
            for lv in rules.levels()
        ]
    if kind == "bcm":
        return [
            (g.grade, g.name_zh if zh else g.name_en, g.treatment_zh if zh else g.treatment_en)
            for g in reversed(rules.bcm_grades())
        ]
    return [
        (str(v.level), v.name_zh if zh else v.name_en, v.treatment_zh if zh else v.treatment_en)
        for v in reversed(rules.infosec_levels())
    ]


def register_counts(
    book: Book,
    year: int,
    lang: Lang,
    block_id: str,
    title: str,
    sheet: str,
    word: Label,
    kind: str,
) -> Block:
    """Rows of a register per class: suppliers rated per level (A-D), business-continuity
    risks per grade, information-security risks per level; each count a figure with the
    lineage ``register:<kind>:<year>:<class>``, with the treatment the class triggers."""
    column = {"suppliers": "level", "bcm": "grade"}.get(kind, "risk_level")
    frame = graded(book, _COUNTED[kind], year)
    if frame.empty:
        return Table.note_only(block_id, title, word(f"register_none_{kind}", lang), sheet)
    year_rules = rules_of(book, _COUNTED[kind], year)
    classes = _classes(year_rules.rules, kind, lang)
    counts = results.count_by(frame, column, [c for c, _, _ in classes])
    unit = word(f"register_unit_{kind}", lang)
    rows: tuple[tuple[Cell, ...], ...] = tuple(
        (
            name,
            Figure(
                value=float(counts[cls]),
                unit=unit,
                precision=0,
                lineage=str(FigureId.of("register", kind, year, cls)),
                label=name,
                source="computed",
            ),
            treatment,
        )
        for cls, name, treatment in classes
    )
    columns = (
        word(f"register_class_{kind}", lang),
        f"{word('register_count', lang)} ({unit})",
        word(f"register_treatment_{kind}", lang),
    )
    notes: tuple[str, ...] = ()
    if year_rules.frozen is None:
        notes = (word("register_rules_not_frozen", lang),)
    if kind == "bcm":
        notes += _overdue_drills(frame, year, lang, word)
    return Table(block_id, title, columns, rows, notes, sheet=sheet)


def _overdue_drills(frame: pd.DataFrame, year: int, lang: Lang, word: Label) -> tuple[str, ...]:
    """A note naming the business-continuity risks whose drill is overdue at the end of the
    year (:func:`esgledger.assess.risks.overdue_drills`; none: no note)."""
    end = date(year, 12, 31)
    late = risks.overdue_drills(frame, end)
    if late.empty:
        return ()
    ids = ", ".join(f"{r} ({e})" for r, e in zip(late["risk_id"], late["entity_id"], strict=True))
    text = word("bcm_drills_overdue", lang)
    return (text.format(date=end.isoformat(), count=len(late), ids=ids),)
