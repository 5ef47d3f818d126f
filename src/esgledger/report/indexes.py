"""The content indexes of a report, one per framework the registry declares one for, and its
gap list.

Which frameworks have an index is data: the registry ``metrics/data/frameworks/registry.csv``
(:mod:`esgledger.metrics.frameworks`) names each framework's table, its style and its words;
the sections' references are ``data/section_refs.csv`` (:mod:`.coverage`); the metrics'
references are the catalogue's framework columns. Packaged: GRI 2021 (style ``disclosures``)
and SZSE guideline No. 17 (style ``obligations``). Every fixed word comes from
``data/index_labels.csv`` in the report's language, the framework's own words from its
registry row.

**What discloses an item.** A section discloses what it cites only when it has content: a
narrative with text, or a figure with a value, in itself or in a sub-section. A figure with a
value of a catalogue metric discloses the metric's references in its section. Only the figures
of the report year count (the latest year in the figures' lineage ids,
``metric:<year>:<id>``): the previous-year column of a table neither discloses nor leaves a
gap. A metric is *missing* when the report shows it for the report year and never with a
value.

**Disclosures index** (GRI). One row per clause a section cites or a shown metric references,
in numeric order (``2-1 < 2-10 < 3-1 < 201-1``). Titles come from the framework's table
(``gri_2021.csv`` is English only: a Chinese report keeps the English title, there is no
sourced Chinese title to print). A clause without location is omitted for *information
unavailable* (GRI 1 reasons for omission), naming the missing metrics or the empty sections
that cite it; a located clause with missing metrics is *information incomplete*.

**Obligations index** (SZSE No. 17, :mod:`.obligations`). The table's level column decides
the obligation: ``mandatory...`` is *mandatory*, ``mandatory if ...`` *mandatory where it
applies* (pollutants, waste, biodiversity, science ethics, SME payments, assurance; the
condition is printed), any other level mentioning ``encouraged`` is *encouraged*, ``n/a``
(purpose, principles) none. Every mandatory and conditional clause has a row, an encouraged
one only where the report discloses it. References match by clause: ``23(1)`` cites article
23. Status:

- ``not applicable``: the clause, or its topic, is in the per-report settings with a reason
  (a topic the group assessed as not material, art. 7);
- ``disclosed``: located, every metric referencing it has a figure, and for the head clause
  of a topic that needs the four elements, all four are present;
- ``partly``: located, but a referencing metric has no figure or an element is missing;
- ``gap``: not located (for a conditional clause the reason asks to disclose it or declare
  it not applicable).

**Four elements** (art. 11: governance; strategy; impact, risk and opportunity management;
metrics and targets). They are required for financially material topics: by default the
topics whose clauses the table marks ``EXPLICIT`` (climate, art. 21), plus the topics the
report names (``financially_material``). They are shown on the topic's first clause (art. 21
for climate). Which references evidence an element is data, ``data/four_elements.csv``
(framework_id, element, kind, ref, scope, source), written from the articles table's
``four_element_framework`` column (art. 12 governance; 13-17, 22, 23, 28 strategy; 18 IRO
management; 19, 24-27 metrics and targets), art. 11's clauses (1)-(4), a few GRI disclosures
(esgledger's judgement, said so per row) and figures (art. 19: indicators). An element is
present when a section with content that belongs to the topic (it cites one of the topic's
clauses or shows a figure of a metric referencing one) cites an evidencing reference;
references of scope ``report`` (art. 12: governance may be disclosed once for the entity)
count from any section with content.

**Gap list.** The clauses of obligations indexes with status ``gap``, then the clauses of
disclosures indexes without location (mandatory obligations first); every missing catalogue
metric with a reference to a framework with an index; every section with neither text nor
data.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from types import MappingProxyType

from esgledger.metrics import load_catalogue, load_frameworks
from esgledger.metrics.catalogue import Catalogue
from esgledger.metrics.frameworks import Framework
from esgledger.report import coverage, obligations
from esgledger.report.coverage import (
    Facts,
    add,
    check_lang,
    index_labels,
    join,
    label,
    metric_text,
    section_refs,
    sort_key,
)
from esgledger.report.model import ContentIndex, Gap, IndexRow, Section
from esgledger.report.obligations import ELEMENTS, four_element_refs, obligation

__all__ = [
    "COLUMNS",
    "ELEMENTS",
    "content_index",
    "content_indexes",
    "four_element_refs",
    "gaps",
    "index_labels",
    "label",
    "new_index",
    "obligation",
    "section_refs",
    "sort_key",
]

DISCLOSURE_COLUMNS = (
    ("disclosure", "clause"),
    ("title", "title"),
    ("location", "locations"),
    ("omission", "omission"),
    ("reason", "reason"),
)
"""(label key, :class:`IndexRow` field) of the columns of a disclosures index."""
COLUMNS = {"disclosures": DISCLOSURE_COLUMNS, "obligations": obligations.COLUMNS}
"""The columns of each style of index."""

_NONE: Mapping[str, str] = MappingProxyType({})


def new_index(framework_id: str, lang: str, rows: Sequence[IndexRow] = ()) -> ContentIndex:
    """A content index of a declared framework with its registry words in ``lang``."""
    framework = load_frameworks()[framework_id]
    return ContentIndex(
        framework_id,
        framework.title(lang),
        framework.name(lang),
        framework.anchor,
        COLUMNS[framework.style],
        tuple(rows),
    )


def _disclosures(
    framework: Framework, found: Sequence[Facts], catalogue: Catalogue, lang: str
) -> tuple[IndexRow, ...]:
    """One row per clause cited or referenced by a shown metric, in numeric order."""
    fid = framework.framework_id
    located: dict[str, list[str]] = {}
    empty: dict[str, list[str]] = {}
    for f in found:
        for code in f.section.cites(fid):
            add(located if f.content else empty, code, f.location)
        for m in f.present:
            for code in catalogue.get(m).cites(fid):
                add(located, code, f.location)
    unsupported: dict[str, list[str]] = {}
    for m in coverage.missing(found):
        for code in catalogue.get(m).cites(fid):
            unsupported.setdefault(code, []).append(metric_text(catalogue.get(m), lang))
    rows = []
    for code in sorted({*located, *empty, *unsupported}, key=sort_key):
        locations = tuple(located.get(code, ()))
        reasons = []
        if code in unsupported:
            reasons.append(label("reason_no_figure", lang, metrics=join(unsupported[code], lang)))
        if not locations and code in empty:
            reasons.append(label("reason_empty_sections", lang, sections=join(empty[code], lang)))
        omission = ""
        if not locations:
            omission = label("omission_unavailable", lang)
        elif reasons:
            omission = label("omission_incomplete", lang)
        title = framework.clause_title(code, lang)
        reason = label("reason_sep", lang).join(reasons)
        rows.append(IndexRow(code, title, locations, omission, reason))
    return tuple(rows)


def content_index(
    framework_id: str,
    sections: Sequence[Section],
    lang: str,
    *,
    not_applicable: Mapping[str, str] = _NONE,
    groups_not_applicable: Mapping[str, str] = _NONE,
    financially_material: Collection[str] = (),
) -> ContentIndex:
    """The content index of one declared framework (see the module doc).

    For an obligations index: ``not_applicable``: clause -> reason; ``groups_not_applicable``:
    topic -> reason (a topic assessed as not material), for every clause of the topic;
    ``financially_material``: the topics that need the four elements besides those the table
    marks explicit (climate). A disclosures index ignores them."""
    lang = check_lang(lang)
    framework = load_frameworks()[framework_id]
    catalogue = load_catalogue()
    found = coverage.facts(sections, lang, catalogue)
    if framework.style == "obligations":
        rows = obligations.obligations_rows(
            framework,
            found,
            catalogue,
            lang,
            not_applicable=not_applicable,
            groups_not_applicable=groups_not_applicable,
            financially_material=financially_material,
        )
    elif framework.style == "disclosures":
        rows = _disclosures(framework, found, catalogue, lang)
    else:
        raise ValueError(f"framework {framework_id!r} has no content index (registry style)")
    return new_index(framework_id, lang, rows)


def content_indexes(
    sections: Sequence[Section],
    lang: str,
    *,
    not_applicable: Mapping[str, Mapping[str, str]] = MappingProxyType({}),
    groups_not_applicable: Mapping[str, Mapping[str, str]] = MappingProxyType({}),
    financially_material: Mapping[str, Collection[str]] = MappingProxyType({}),
) -> tuple[ContentIndex, ...]:
    """The content index of every framework with one, in registry order; the settings are
    keyed by framework id (see :func:`content_index`)."""
    return tuple(
        content_index(
            f.framework_id,
            sections,
            lang,
            not_applicable=not_applicable.get(f.framework_id, _NONE),
            groups_not_applicable=groups_not_applicable.get(f.framework_id, _NONE),
            financially_material=financially_material.get(f.framework_id, ()),
        )
        for f in load_frameworks().indexes()
    )


# -- gaps -------------------------------------------------------------------------------------


def _index_gaps(indexes: Sequence[ContentIndex], lang: str) -> list[Gap]:
    """Obligations with status gap, then disclosures without location, in registry order."""
    frameworks = load_frameworks()
    gap = label("status_gap", lang)
    out: list[Gap] = []
    for style in ("obligations", "disclosures"):
        for index in indexes:
            framework = frameworks[index.framework_id]
            if framework.style != style:
                continue
            out.extend(
                Gap(
                    index.name,
                    f"{framework.clause_text(row.clause, lang)} {row.title}".strip(),
                    row.reason,
                    framework_ids=(index.framework_id,),
                )
                for row in index.rows
                if (row.status == gap if style == "obligations" else not row.locations)
            )
    return out


def gaps(
    sections: Sequence[Section], indexes: Sequence[ContentIndex], lang: str
) -> tuple[Gap, ...]:
    """The gap list (see the module doc) of a report with these content indexes."""
    lang = check_lang(lang)
    catalogue = load_catalogue()
    found = coverage.facts(sections, lang, catalogue)
    out = _index_gaps(indexes, lang)
    indexed = load_frameworks().indexes()
    for metric_id, where in coverage.missing(found).items():
        m = catalogue.get(metric_id)
        cited = [(f, m.cites(f.framework_id)) for f in indexed if m.cites(f.framework_id)]
        if not cited:
            continue
        refs = [f.clause_text(c, lang) for f, clauses in cited for c in clauses]
        what = label(
            "gap_metric", lang, name=m.name(lang), metric_id=metric_id, sections=join(where, lang)
        )
        out.append(
            Gap(
                " / ".join(f.name(lang) for f, _ in cited),
                label("reason_sep", lang).join(refs),
                what,
                metric_id,
                tuple(f.framework_id for f, _ in cited),
            )
        )
    report = label("framework_report", lang)
    out.extend(Gap(report, f.location, label("gap_section", lang)) for f in found if not f.content)
    return tuple(out)
