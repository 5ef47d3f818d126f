"""The ``obligations`` content index (SZSE guideline No. 17): a row per clause with an
obligation, its status and, for topics that need them, the four elements.

The framework's table (registry: :mod:`esgledger.metrics.frameworks`) gives each clause its
obligation in the ``level_column`` (:func:`obligation`), its topic in the ``group_column`` and,
in the ``elements_column``, ``EXPLICIT...`` for the topics that need the four elements by
default (climate, art. 21). Which references evidence an element is data,
``data/four_elements.csv`` (framework_id, element, kind, ref, scope, source); see
:mod:`esgledger.report.indexes` for the rules.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from functools import cache

from esgledger.metrics.catalogue import Catalogue
from esgledger.metrics.frameworks import Framework, FrameworkError, load_frameworks
from esgledger.report import coverage
from esgledger.report.coverage import Facts, add, clause_of, join, label, matches, sort_key
from esgledger.report.model import IndexRow

ELEMENTS = ("governance", "strategy", "iro_management", "metrics_targets")
"""The four core elements (SZSE No. 17 art. 11; the IFRS S2 pillars), in art. 11's order."""
COLUMNS = (
    ("article", "clause"),
    ("topic", "title"),
    ("location", "locations"),
    ("four_elements", "four_elements"),
    ("status", "status"),
    ("reason", "reason"),
)
"""(label key, :class:`IndexRow` field) of the columns of an obligations index."""


@dataclass(frozen=True, slots=True)
class ElementRef:
    """A row of ``data/four_elements.csv``: for the index ``framework_id``, kind a framework id
    (a clause, with or without its sub-clause: ``12``, ``11(1)``, ``2-12``) or ``figure`` (a
    figure with a value of a metric referencing the topic); scope ``topic`` or ``report``
    (cited by any section)."""

    framework_id: str
    element: str
    kind: str
    ref: str
    scope: str
    source: str


@cache
def four_element_refs() -> tuple[ElementRef, ...]:
    declared = load_frameworks()
    refs = []
    for number, row in enumerate(coverage._data_rows("four_elements.csv"), start=2):
        ref = ElementRef(**{**row, "ref": coverage.normalise(row["ref"])})
        known = (declared.ids(), ELEMENTS, (*declared.ids(), "figure"), ("topic", "report"))
        values = (ref.framework_id, ref.element, ref.kind, ref.scope)
        if any(v not in k for v, k in zip(values, known, strict=True)):
            raise FrameworkError(
                f"four_elements.csv:{number}: unknown framework, element, kind or scope"
            )
        refs.append(ref)
    return tuple(refs)


@dataclass(frozen=True, slots=True)
class Clause:
    """A clause of an obligations table with the obligation its level column gives it."""

    clause_id: str
    group: str | None
    """Its topic (``1``: climate change), None outside the topics."""
    level: str
    """``mandatory``, ``conditional``, ``encouraged`` or ``""`` (see :func:`obligation`)."""
    condition: str
    title_en: str
    title_zh: str
    explicit: bool
    """Its topic needs the four elements by default (elements column ``EXPLICIT...``)."""

    def title(self, lang: str) -> str:
        return self.title_zh if lang == "zh" else self.title_en


def obligation(level: str) -> str:
    """The rule: ``mandatory if ...`` -> conditional; ``mandatory...`` -> mandatory;
    otherwise ``encouraged`` when the level mentions it; ``""`` (none) for ``n/a``."""
    text = level.strip().lower()
    if text.startswith("mandatory if"):
        return "conditional"
    if text.startswith("mandatory"):
        return "mandatory"
    return "encouraged" if "encouraged" in text else ""


def clauses(framework: Framework) -> tuple[Clause, ...]:
    """Every clause of the table in numeric order, with its obligation and titles in both
    languages (:meth:`Framework.clause_title`)."""
    out = []
    for clause_id in sorted(framework.rows, key=sort_key):
        text = framework.value(clause_id, framework.level_column)
        level = obligation(text)
        group = framework.value(clause_id, framework.group_column)
        elements = framework.value(clause_id, framework.elements_column)
        out.append(
            Clause(
                clause_id,
                group or None,
                level,
                text if level == "conditional" else "",
                framework.clause_title(clause_id, "en"),
                framework.clause_title(clause_id, "zh"),
                elements.upper().startswith("EXPLICIT"),
            )
        )
    return tuple(out)


@dataclass(frozen=True, slots=True)
class _Context:
    framework: Framework
    facts: Sequence[Facts]
    catalogue: Catalogue
    lang: str

    def metric_cites(self, metric_id: str) -> set[str]:
        return set(self.catalogue.get(metric_id).cites(self.framework.framework_id))

    def section_cites(self, f: Facts) -> tuple[str, ...]:
        return f.section.cites(self.framework.framework_id)


def _elements(ctx: _Context, arts: frozenset[str]) -> tuple[list[str], list[str]]:
    """(present, missing) element labels of a topic whose clauses are ``arts``."""

    def cites(f: Facts) -> bool:
        return any(clause_of(r) in arts for r in ctx.section_cites(f)) or any(
            arts & ctx.metric_cites(m) for m in f.present
        )

    topic = [f for f in ctx.facts if f.content and cites(f)]
    everywhere = [f for f in ctx.facts if f.content]
    refs = [r for r in four_element_refs() if r.framework_id == ctx.framework.framework_id]
    present: list[str] = []
    absent: list[str] = []
    for element in ELEMENTS:
        found = False
        for ref in (r for r in refs if r.element == element):
            pool = everywhere if ref.scope == "report" else topic
            if ref.kind == "figure":
                found = any(arts & ctx.metric_cites(m) for f in pool for m in f.present)
            else:
                found = any(matches(c, ref.ref) for f in pool for c in f.section.cites(ref.kind))
            if found:
                break
        (present if found else absent).append(label(f"element_{element}", ctx.lang))
    return present, absent


def _located(ctx: _Context) -> dict[str, list[str]]:
    """Clause -> the sections with content citing it or showing a figure with a value of a
    metric that references it."""
    located: dict[str, list[str]] = {}
    for f in ctx.facts:
        if f.content:
            for ref in ctx.section_cites(f):
                if clause := clause_of(ref):
                    add(located, clause, f.location)
        for m in f.present:
            for clause in ctx.catalogue.get(m).cites(ctx.framework.framework_id):
                add(located, clause, f.location)
    return located


def _four(ctx: _Context, arts: frozenset[str], material: bool) -> tuple[str, list[str]]:
    """The four-elements cell of a topic's first clause, and the issue when one is missing."""
    lang = ctx.lang
    if not material:
        return label("four_elements_not_material", lang), []
    present, absent = _elements(ctx, arts)
    four = join(present, lang, "element_sep") or label("four_elements_none", lang)
    if not absent:
        return four, []
    gone = join(absent, lang, "element_sep")
    return (
        label("four_elements_missing", lang, present=four, missing=gone),
        [label("reason_elements_missing", lang, elements=gone)],
    )


def _unsupported(ctx: _Context, clause: Clause, missing: Collection[str]) -> list[str]:
    """The issue of a clause that missing metrics reference (none: empty)."""
    metrics = [
        coverage.metric_text(ctx.catalogue.get(m), ctx.lang)
        for m in missing
        if clause.clause_id in ctx.metric_cites(m)
    ]
    return [label("reason_no_figure", ctx.lang, metrics=join(metrics, ctx.lang))] if metrics else []


def obligations_rows(
    framework: Framework,
    found: Sequence[Facts],
    catalogue: Catalogue,
    lang: str,
    *,
    not_applicable: Mapping[str, str],
    groups_not_applicable: Mapping[str, str],
    financially_material: Collection[str],
) -> tuple[IndexRow, ...]:
    """One row per clause with an obligation (and per encouraged clause the report
    discloses), in clause order; see :func:`esgledger.report.indexes.content_index`."""
    ctx = _Context(framework, found, catalogue, lang)
    missing = coverage.missing(found)
    table = clauses(framework)
    elements = any(r.framework_id == framework.framework_id for r in four_element_refs())
    material = {c.group for c in table if c.explicit} | set(financially_material)
    located = _located(ctx)
    by_group: dict[str, frozenset[str]] = {}
    for c in table:
        if c.group is not None:
            by_group[c.group] = by_group.get(c.group, frozenset()) | {c.clause_id}
    rows = []
    for c in table:
        locations = tuple(located.get(c.clause_id, ()))
        if not c.level or (c.level == "encouraged" and not locations):
            continue
        level = label(f"level_{c.level}", lang)
        reason = not_applicable.get(c.clause_id) or (
            "" if c.group is None else groups_not_applicable.get(c.group, "")
        )
        if reason:
            status = label("status_not_applicable", lang)
            rows.append(
                IndexRow(c.clause_id, c.title(lang), locations, "", reason, "", status, level)
            )
            continue
        issues = _unsupported(ctx, c, missing)
        four = ""
        if elements and c.group is not None and c.clause_id == min(by_group[c.group], key=sort_key):
            four, missing_elements = _four(ctx, by_group[c.group], c.group in material)
            issues.extend(missing_elements)
        if locations:
            status = label("status_partly" if issues else "status_disclosed", lang)
        else:
            status = label("status_gap", lang)
            first = "reason_conditional" if c.level == "conditional" else "reason_not_located"
            issues.insert(0, label(first, lang, condition=c.condition))
        reason = label("reason_sep", lang).join(issues)
        rows.append(
            IndexRow(c.clause_id, c.title(lang), locations, "", reason, four, status, level)
        )
    return tuple(rows)
