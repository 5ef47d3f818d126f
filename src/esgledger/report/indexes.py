"""The GRI and SZSE guideline No. 17 content indexes of a report, and its gap list.

Both are read off the built sections: the GRI disclosures and SZSE articles each section
cites (``data/sections.csv``) and the catalogue metrics of its figures. Every word comes from
``data/index_labels.csv`` in the report's language.

**What discloses an item.** A section discloses what it cites only when it has content: a
narrative with text, or a figure with a value, in itself or in a sub-section. A figure with a
value of a catalogue metric discloses the metric's GRI disclosures and SZSE articles in its
section. Only the figures of the report year count (the latest year in the figures'
lineage ids, ``metric:<year>:<id>``): the previous-year column of a table neither discloses
nor leaves a gap. A metric is *missing* when the report shows it for the report year and
never with a value.

**GRI index.** One row per disclosure a section cites or a shown metric references, ordered
by code numerically (``2-1 < 2-10 < 3-1 < 201-1``). Titles come from the GRI table
(``gri_2021.csv``), which is English only: a Chinese report keeps the English title (there is
no sourced Chinese title to print). A disclosure without location is omitted for *information
unavailable* (GRI 1 reasons for omission), naming the missing metrics or the empty sections
that cite it; a located disclosure with missing metrics is *information incomplete*.

**SZSE index.** The articles table's ``disclosure_level`` decides the obligation:
``mandatory...`` is *mandatory*, ``mandatory if ...`` *mandatory where it applies* (pollutants,
waste, biodiversity, science ethics, SME payments, assurance; the condition is printed), any
other level mentioning ``encouraged`` is *encouraged*, ``n/a`` (purpose, principles) none.
Every mandatory and conditional article has a row, an encouraged one only where the report
discloses it. References match by article: ``23(1)`` cites article 23. Status:

- ``not applicable``: the article, or its topic, is in the per-report settings with a reason
  (a topic the group assessed as not material, art. 7);
- ``disclosed``: located, every metric referencing it has a figure, and for the head article
  of a topic that needs the four elements, all four are present;
- ``partly``: located, but a referencing metric has no figure or an element is missing;
- ``gap``: not located (for a conditional article the reason asks to disclose it or declare
  it not applicable).

**Four elements** (art. 11: governance; strategy; impact, risk and opportunity management;
metrics and targets). They are required for financially material topics: by default the
topics whose articles the table marks ``EXPLICIT`` (climate, art. 21), plus the topics the
report names. They are shown on the topic's first article (art. 21 for climate). Which
references evidence an element is data, ``data/four_elements.csv`` (element, kind, ref, scope,
source), written from the articles table's ``four_element_framework`` column (art. 12
governance; 13-17, 22, 23, 28 strategy; 18 IRO management; 19, 24-27 metrics and targets),
art. 11's clauses (1)-(4), a few GRI disclosures (esgledger's judgement, said so per row) and
figures (art. 19: indicators). An element is present when a section with content that belongs
to the topic (it cites one of the topic's articles or shows a figure of a metric referencing
one) cites an evidencing reference; references of scope ``report`` (art. 12: governance may
be disclosed once for the entity) count from any section with content.

**Gap list.** SZSE articles with status ``gap``; GRI disclosures without location; every
missing catalogue metric with a GRI or SZSE reference; every section with neither text nor
data.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import TypeVar

from esgledger.metrics import load_catalogue, load_frameworks
from esgledger.metrics.catalogue import Catalogue, Metric
from esgledger.report.model import (
    Figure,
    Gap,
    GriRow,
    Narrative,
    Section,
    SzseRow,
    block_figures,
)

ELEMENTS = ("governance", "strategy", "iro_management", "metrics_targets")
"""The four core elements of art. 11, in its order."""

_NUMBER = re.compile(r"\d+")
_EMPTY: Mapping[int, str] = MappingProxyType({})
K = TypeVar("K")


# -- data files -------------------------------------------------------------------------------


def _data_rows(name: str, *, strip: bool = True) -> list[dict[str, str]]:
    text = resources.files("esgledger.report").joinpath("data", name).read_text("utf-8-sig")
    return [
        {k: (v or "").strip() if strip else (v or "") for k, v in row.items() if k}
        for row in csv.DictReader(io.StringIO(text))
    ]


@cache
def index_labels() -> Mapping[str, Mapping[str, str]]:
    """``data/index_labels.csv``: key -> language -> text (with ``{placeholders}``)."""
    return MappingProxyType(
        {
            r["key"]: MappingProxyType({"en": r["en"], "zh": r["zh"]})
            for r in _data_rows("index_labels.csv", strip=False)
        }
    )


def label(key: str, lang: str, **values: object) -> str:
    """A fixed text of the indexes in ``lang``, its placeholders filled."""
    return index_labels()[key][lang].format(**values)


@dataclass(frozen=True, slots=True)
class ElementRef:
    """A row of ``data/four_elements.csv``: kind ``szse17`` (an article, with or without its
    clause: ``12``, ``11(1)``), ``gri`` (a disclosure) or ``figure`` (a figure with a value of a
    metric referencing the topic); scope ``topic`` or ``report`` (cited by any section)."""

    element: str
    kind: str
    ref: str
    scope: str
    source: str


@cache
def four_element_refs() -> tuple[ElementRef, ...]:
    refs = []
    for number, row in enumerate(_data_rows("four_elements.csv"), start=2):
        ref = ElementRef(**{**row, "ref": _clause(row["ref"])})
        known = (ELEMENTS, ("szse17", "gri", "figure"), ("topic", "report"))
        if any(v not in k for v, k in zip((ref.element, ref.kind, ref.scope), known, strict=True)):
            raise ValueError(f"four_elements.csv:{number}: unknown element, kind or scope")
        refs.append(ref)
    return tuple(refs)


def _lang(lang: str) -> str:
    if lang not in ("zh", "en"):
        raise ValueError(f"language {lang!r}: expected zh or en")
    return lang


# -- references -------------------------------------------------------------------------------


def _clause(ref: str) -> str:
    """A reference as written, normalised: no spaces, ASCII parentheses (``23(1)``)."""
    return "".join(ref.split()).replace("（", "(").replace("）", ")")


def article_number(ref: str) -> int | None:
    """The article a reference names: ``23(1)`` -> 23; None when it names none."""
    found = _NUMBER.match(_clause(ref))
    return int(found.group()) if found else None


def _matches(cited: str, evidence: str) -> bool:
    """A cited reference matches an evidencing one: same article, and the same clause when
    both name one (citing ``12(2)`` evidences ``12``; citing ``11`` evidences ``11(3)``)."""
    if article_number(cited) != article_number(evidence) or article_number(cited) is None:
        return False
    a, b = _clause(cited), _clause(evidence)
    return a == b or "(" not in a or "(" not in b


def gri_sort_key(code: str) -> tuple[int, ...]:
    """``2-10`` -> (2, 10): disclosures in numeric order."""
    return tuple(int(n) for n in _NUMBER.findall(code))


# -- what the sections hold -------------------------------------------------------------------


def _figure_year(figure: Figure) -> int | None:
    parts = figure.lineage.split(":")
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None


@dataclass(frozen=True, slots=True)
class _Facts:
    """What one section holds, as the indexes need it."""

    section: Section
    location: str
    content: bool
    """Narrative text or a figure with a value, in itself or a sub-section."""
    present: tuple[str, ...]
    """Catalogue metrics with a report-year figure with a value in its own blocks."""
    shown: tuple[str, ...]
    """Catalogue metrics with a report-year figure in its own blocks (with or without value)."""


def _facts(sections: Sequence[Section], lang: str, catalogue: Catalogue) -> tuple[_Facts, ...]:
    walked = [w for s in sections for w in s.walk()]
    years = [_figure_year(f) for s in walked for b in s.blocks for f in block_figures(b)]
    year = max((y for y in years if y is not None), default=None)
    content: dict[int, bool] = {}

    def has_content(section: Section) -> bool:
        if id(section) not in content:
            own = any(
                (isinstance(b, Narrative) and bool(b.paragraphs()))
                or any(not f.missing for f in block_figures(b))
                for b in section.blocks
            )
            content[id(section)] = any([own, *(has_content(c) for c in section.children)])
        return content[id(section)]

    out = []
    for section in walked:
        figures = [
            f
            for b in section.blocks
            for f in block_figures(b)
            if f.metric_id in catalogue and _figure_year(f) in (year, None)
        ]
        out.append(
            _Facts(
                section,
                label("location", lang, number=section.number, title=section.title),
                has_content(section),
                tuple(dict.fromkeys(str(f.metric_id) for f in figures if not f.missing)),
                tuple(dict.fromkeys(str(f.metric_id) for f in figures)),
            )
        )
    return tuple(out)


def _missing(facts: Sequence[_Facts]) -> dict[str, list[str]]:
    """Metric id -> the locations where it is shown without a value, for every metric that
    has no value anywhere in the report."""
    present = {m for f in facts for m in f.present}
    missing: dict[str, list[str]] = {}
    for f in facts:
        for m in f.shown:
            if m not in present:
                missing.setdefault(m, []).append(f.location)
    return missing


def _metric_text(metric: Metric, lang: str) -> str:
    return label("metric", lang, name=metric.name(lang), metric_id=metric.metric_id)


def _join(items: Sequence[str], lang: str, sep: str = "sep") -> str:
    return label(sep, lang).join(dict.fromkeys(items))


def _add(found: dict[K, list[str]], key: K, location: str) -> None:
    locations = found.setdefault(key, [])
    if location not in locations:
        locations.append(location)


# -- GRI --------------------------------------------------------------------------------------


def gri_index(sections: Sequence[Section], lang: str) -> tuple[GriRow, ...]:
    """The GRI content index: disclosure, title, locations, omission and reason."""
    lang = _lang(lang)
    catalogue, table = load_catalogue(), load_frameworks().gri
    facts = _facts(sections, lang, catalogue)
    located: dict[str, list[str]] = {}
    empty: dict[str, list[str]] = {}
    for f in facts:
        for code in f.section.gri:
            _add(located if f.content else empty, code, f.location)
        for m in f.present:
            for code in catalogue.get(m).gri:
                _add(located, code, f.location)
    unsupported: dict[str, list[str]] = {}
    for m in _missing(facts):
        for code in catalogue.get(m).gri:
            unsupported.setdefault(code, []).append(_metric_text(catalogue.get(m), lang))
    rows = []
    for code in sorted({*located, *empty, *unsupported}, key=gri_sort_key):
        title = table[code]["title"] if code in table else ""
        locations = tuple(located.get(code, ()))
        reasons = []
        if code in unsupported:
            reasons.append(label("reason_no_figure", lang, metrics=_join(unsupported[code], lang)))
        if not locations and code in empty:
            reasons.append(label("reason_empty_sections", lang, sections=_join(empty[code], lang)))
        omission = ""
        if not locations:
            omission = label("omission_unavailable", lang)
        elif reasons:
            omission = label("omission_incomplete", lang)
        rows.append(
            GriRow(code, title, locations, omission, label("reason_sep", lang).join(reasons))
        )
    return tuple(rows)


# -- SZSE guideline No. 17 --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Article:
    """An article of guideline No. 17 with the obligation the articles table gives it."""

    number: int
    number_zh: str
    topic: int | None
    level: str
    """``mandatory``, ``conditional``, ``encouraged`` or ``""`` (see :func:`obligation`)."""
    condition: str
    topic_en: str
    topic_zh: str
    four_elements: str

    def topic_name(self, lang: str) -> str:
        return self.topic_zh if lang == "zh" else self.topic_en


def obligation(disclosure_level: str) -> str:
    """The rule: ``mandatory if ...`` -> conditional; ``mandatory...`` -> mandatory;
    otherwise ``encouraged`` when the level mentions it; ``""`` (none) for ``n/a``."""
    text = disclosure_level.strip().lower()
    if text.startswith("mandatory if"):
        return "conditional"
    if text.startswith("mandatory"):
        return "mandatory"
    return "encouraged" if "encouraged" in text else ""


def _strip_prefix(text: str) -> str:
    """``Ch2 可持续发展信息披露框架`` -> the name; ``§1 应对气候变化`` likewise."""
    head, _, rest = text.partition(" ")
    return rest if rest and (head.startswith("Ch") or head.startswith("§")) else text


@cache
def articles() -> tuple[Article, ...]:
    """Every article of the table, with its obligation and topic names in both languages
    (a topic article: the topic; otherwise the role in English and its section or chapter as
    titled in the guideline in Chinese)."""
    out = []
    for number, row in sorted(load_frameworks().szse17_articles.items()):
        level = obligation(row["disclosure_level"])
        topic = row["topic_index_no"]
        zh = row["topic_cn"] or _strip_prefix(row["section"] or row["chapter"])
        out.append(
            Article(
                number,
                row["article_cn"],
                int(topic) if topic.isdigit() else None,
                level,
                row["disclosure_level"] if level == "conditional" else "",
                row["topic_en"] or row["role"],
                zh,
                row["four_element_framework"],
            )
        )
    return tuple(out)


def _default_material() -> frozenset[int]:
    return frozenset(
        a.topic
        for a in articles()
        if a.topic is not None and a.four_elements.upper().startswith("EXPLICIT")
    )


def _elements(
    arts: frozenset[int], facts: Sequence[_Facts], catalogue: Catalogue, lang: str
) -> tuple[list[str], list[str]]:
    """(present, missing) element labels of a topic whose articles are ``arts``."""

    def cites(f: _Facts) -> bool:
        return any(article_number(r) in arts for r in f.section.szse17) or any(
            arts & set(catalogue.get(m).szse17) for m in f.present
        )

    topic = [f for f in facts if f.content and cites(f)]
    everywhere = [f for f in facts if f.content]
    present: list[str] = []
    missing: list[str] = []
    for element in ELEMENTS:
        found = False
        for ref in (r for r in four_element_refs() if r.element == element):
            pool = everywhere if ref.scope == "report" else topic
            if ref.kind == "szse17":
                found = any(_matches(c, ref.ref) for f in pool for c in f.section.szse17)
            elif ref.kind == "gri":
                found = any(ref.ref in f.section.gri for f in pool)
            else:
                found = any(arts & set(catalogue.get(m).szse17) for f in pool for m in f.present)
            if found:
                break
        (present if found else missing).append(label(f"element_{element}", lang))
    return present, missing


def _located_articles(facts: Sequence[_Facts], catalogue: Catalogue) -> dict[int, list[str]]:
    """Article -> the sections with content citing it or showing a figure with a value of a
    metric that references it."""
    located: dict[int, list[str]] = {}
    for f in facts:
        if f.content:
            for ref in f.section.szse17:
                if (n := article_number(ref)) is not None:
                    _add(located, n, f.location)
        for m in f.present:
            for n in catalogue.get(m).szse17:
                _add(located, n, f.location)
    return located


def _four(
    arts: frozenset[int],
    material: bool,
    facts: Sequence[_Facts],
    catalogue: Catalogue,
    lang: str,
) -> tuple[str, list[str]]:
    """The four-elements cell of a topic's first article, and the issue when one is missing."""
    if not material:
        return label("four_elements_not_material", lang), []
    present, absent = _elements(arts, facts, catalogue, lang)
    four = _join(present, lang, "element_sep") or label("four_elements_none", lang)
    if not absent:
        return four, []
    missing = _join(absent, lang, "element_sep")
    return (
        label("four_elements_missing", lang, present=four, missing=missing),
        [label("reason_elements_missing", lang, elements=missing)],
    )


def szse_index(
    sections: Sequence[Section],
    lang: str,
    not_applicable: Mapping[int, str] = _EMPTY,
    *,
    topics_not_applicable: Mapping[int, str] = _EMPTY,
    financially_material: Collection[int] | None = None,
) -> tuple[SzseRow, ...]:
    """The SZSE guideline No. 17 index: one row per article with an obligation (and per
    encouraged article the report discloses), in article order.

    ``not_applicable``: article number -> reason; ``topics_not_applicable``: topic number
    (1-21) -> reason (a topic assessed as not material), for every article of the topic.
    ``financially_material``: the topics that need the four elements besides those the table
    marks explicit (climate).
    """
    lang = _lang(lang)
    catalogue = load_catalogue()
    facts = _facts(sections, lang, catalogue)
    missing = _missing(facts)
    material = _default_material() | frozenset(financially_material or ())
    located = _located_articles(facts, catalogue)
    by_topic: dict[int, frozenset[int]] = {}
    for a in articles():
        if a.topic is not None:
            by_topic[a.topic] = by_topic.get(a.topic, frozenset()) | {a.number}
    rows = []
    for a in articles():
        locations = tuple(located.get(a.number, ()))
        if not a.level or (a.level == "encouraged" and not locations):
            continue
        level = label(f"level_{a.level}", lang)
        reason = not_applicable.get(a.number) or (
            "" if a.topic is None else topics_not_applicable.get(a.topic, "")
        )
        if reason:
            status = label("status_not_applicable", lang)
            rows.append(SzseRow(a.number, a.topic_name(lang), locations, "", status, reason, level))
            continue
        unsupported = [
            _metric_text(catalogue.get(m), lang)
            for m in missing
            if a.number in catalogue.get(m).szse17
        ]
        issues = (
            [label("reason_no_figure", lang, metrics=_join(unsupported, lang))]
            if unsupported
            else []
        )
        four = ""
        if a.topic is not None and a.number == min(by_topic[a.topic]):
            four, missing_elements = _four(
                by_topic[a.topic], a.topic in material, facts, catalogue, lang
            )
            issues.extend(missing_elements)
        if locations:
            status = label("status_partly" if issues else "status_disclosed", lang)
        else:
            status = label("status_gap", lang)
            first = "reason_conditional" if a.level == "conditional" else "reason_not_located"
            issues.insert(0, label(first, lang, condition=a.condition))
        reason = label("reason_sep", lang).join(issues)
        rows.append(SzseRow(a.number, a.topic_name(lang), locations, four, status, reason, level))
    return tuple(rows)


# -- gaps -------------------------------------------------------------------------------------


def gaps(
    sections: Sequence[Section],
    szse_rows: Sequence[SzseRow],
    gri_rows: Sequence[GriRow],
    lang: str,
) -> tuple[Gap, ...]:
    """The gap list: SZSE articles with status gap, GRI disclosures without location, missing
    catalogue metrics with a GRI or SZSE reference, and sections with neither text nor data."""
    lang = _lang(lang)
    catalogue = load_catalogue()
    facts = _facts(sections, lang, catalogue)
    by_number = {a.number: a for a in articles()}
    out: list[Gap] = []
    szse = label("framework_szse", lang)
    for row in szse_rows:
        if row.status == label("status_gap", lang):
            out.append(Gap(szse, _article(by_number, row.article, lang, row.topic), row.reason))
    gri = label("framework_gri", lang)
    out.extend(
        Gap(gri, f"{row.disclosure} {row.title}".strip(), row.reason)
        for row in gri_rows
        if not row.locations
    )
    for metric_id, where in _missing(facts).items():
        m = catalogue.get(metric_id)
        refs = [*m.gri, *(_article(by_number, n, lang) for n in m.szse17)]
        if refs:
            framework = " / ".join(n for n, has in ((gri, m.gri), (szse, m.szse17)) if has)
            what = label(
                "gap_metric",
                lang,
                name=m.name(lang),
                metric_id=metric_id,
                sections=_join(where, lang),
            )
            out.append(Gap(framework, label("reason_sep", lang).join(refs), what, metric_id))
    report = label("framework_report", lang)
    out.extend(Gap(report, f.location, label("gap_section", lang)) for f in facts if not f.content)
    return tuple(out)


def _article(by_number: Mapping[int, Article], number: int, lang: str, topic: str = "") -> str:
    found = by_number.get(number)
    text = label("article", lang, n=number, cn=found.number_zh if found else number)
    return f"{text} {topic}".strip()
