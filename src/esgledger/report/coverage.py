"""What the sections of a report disclose, as the content indexes (:mod:`.indexes`) read it.

- **references**: ``data/section_refs.csv`` (section_id, framework_id, clause_id, source), one
  row per clause a section answers, for any framework of the registry
  (:mod:`esgledger.metrics.frameworks`); extra framework folders may add their own
  ``section_refs.csv``. A reference is written as the framework writes it: ``305-1``, ``23(1)``
  (clause (1) of article 23).
- **facts**: per section, its location (number and title), whether it has content (text, or
  a figure with a value, in itself or a sub-section) and the catalogue metrics of its
  report-year figures (with a value, and shown at all).
- **labels**: the fixed words of the indexes, ``data/index_labels.csv``.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import TypeVar

from esgledger.metrics.catalogue import Catalogue, Metric
from esgledger.metrics.frameworks import (
    FrameworkError,
    extra_folders,
    load_frameworks,
    read_rows,
)
from esgledger.report.model import Figure, Narrative, Section, block_figures

SECTION_REFS = "section_refs.csv"
SECTION_REF_COLUMNS = ("section_id", "framework_id", "clause_id", "source")

_NUMBER = re.compile(r"\d+")
_SUBCLAUSES = re.compile(r"(?:\([^()]*\))+$")
K = TypeVar("K")
Refs = Mapping[str, tuple[tuple[str, str], ...]]


# -- labels -----------------------------------------------------------------------------------


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


def check_lang(lang: str) -> str:
    if lang not in ("zh", "en"):
        raise ValueError(f"language {lang!r}: expected zh or en")
    return lang


# -- references -------------------------------------------------------------------------------


def _packaged_refs() -> tuple[str, str]:
    text = resources.files("esgledger.report").joinpath("data", SECTION_REFS)
    return f"report/data/{SECTION_REFS}", text.read_text("utf-8-sig")


def _ref_files(sections_path: Path | None) -> list[tuple[str, str]]:
    """(where, text) of the reference files: the packaged one, or the one beside a section
    file given instead of the packaged tree; then those of the extra framework folders."""
    files = []
    if sections_path is None:
        files.append(_packaged_refs())
    elif (beside := sections_path.with_name(SECTION_REFS)).is_file():
        files.append((str(beside), beside.read_text("utf-8-sig")))
    for folder in extra_folders():
        if (extra := folder / SECTION_REFS).is_file():
            files.append((str(extra), extra.read_text("utf-8-sig")))
    return files


def section_refs(sections_path: Path | None, section_ids: Collection[str]) -> Refs:
    """Section id -> its (framework id, clause) references, in file order (see the module
    doc); :class:`FrameworkError` on an unknown section or framework, located."""
    declared = load_frameworks()
    found: dict[str, list[tuple[str, str]]] = {}
    for where, text in _ref_files(sections_path):
        header, rows = read_rows(text)
        missing = [c for c in SECTION_REF_COLUMNS if c not in header]
        if missing:
            raise FrameworkError(f"{where}:1: missing column(s) {', '.join(missing)}")
        for number, row in enumerate(rows, start=2):
            sid, fid, clause = row["section_id"], row["framework_id"], row["clause_id"]
            if sid not in section_ids:
                raise FrameworkError(f"{where}:{number}:section_id: no section {sid!r}")
            if fid not in declared:
                known = ", ".join(declared.ids())
                raise FrameworkError(f"{where}:{number}:framework_id: {fid!r} (declared: {known})")
            if not clause:
                raise FrameworkError(f"{where}:{number}:clause_id: empty")
            if (fid, clause) not in found.setdefault(sid, []):
                found[sid].append((fid, clause))
    return MappingProxyType({sid: tuple(refs) for sid, refs in found.items()})


def normalise(ref: str) -> str:
    """A reference as written, normalised: no spaces, ASCII parentheses (``23(1)``)."""
    return "".join(ref.split()).replace("（", "(").replace("）", ")")


def clause_of(ref: str) -> str:
    """The clause a reference names, without its sub-clauses: ``23(1)`` -> ``23``."""
    return _SUBCLAUSES.sub("", normalise(ref))


def matches(cited: str, evidence: str) -> bool:
    """A cited reference matches an evidencing one: same clause, and the same sub-clause when
    both name one (citing ``12(2)`` evidences ``12``; citing ``11`` evidences ``11(3)``)."""
    if not clause_of(cited) or clause_of(cited) != clause_of(evidence):
        return False
    a, b = normalise(cited), normalise(evidence)
    return a == b or "(" not in a or "(" not in b


def sort_key(clause: str) -> tuple[tuple[int, ...], str]:
    """``2-10`` -> ((2, 10), ``2-10``): clauses in numeric order (``2-9 < 2-10 < 3-1``)."""
    return tuple(int(n) for n in _NUMBER.findall(clause)), clause


# -- what the sections hold -------------------------------------------------------------------


def _figure_year(figure: Figure) -> int | None:
    parts = figure.lineage.split(":")
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None


@dataclass(frozen=True, slots=True)
class Facts:
    """What one section holds, as the indexes need it."""

    section: Section
    location: str
    content: bool
    """Narrative text or a figure with a value, in itself or a sub-section."""
    present: tuple[str, ...]
    """Catalogue metrics with a report-year figure with a value in its own blocks."""
    shown: tuple[str, ...]
    """Catalogue metrics with a report-year figure in its own blocks (with or without value)."""


def facts(sections: Sequence[Section], lang: str, catalogue: Catalogue) -> tuple[Facts, ...]:
    """The facts of every section, in report order. Only the figures of the report year count
    (the latest year in the figures' lineage ids, ``metric:<year>:<id>``)."""
    walked = [w for s in sections for w in s.walk()]
    years = [_figure_year(f) for s in walked for b in s.blocks for f in block_figures(b)]
    year = max((y for y in years if y is not None), default=None)
    content: dict[int, bool] = {}

    def has_content(section: Section) -> bool:
        if id(section) not in content:
            own = any(
                (isinstance(b, Narrative) and b.origin != "prompt" and bool(b.paragraphs()))
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
            Facts(
                section,
                label("location", lang, number=section.number, title=section.title),
                has_content(section),
                tuple(dict.fromkeys(str(f.metric_id) for f in figures if not f.missing)),
                tuple(dict.fromkeys(str(f.metric_id) for f in figures)),
            )
        )
    return tuple(out)


def missing(found: Sequence[Facts]) -> dict[str, list[str]]:
    """Metric id -> the locations where it is shown without a value, for every metric that
    has no value anywhere in the report."""
    present = {m for f in found for m in f.present}
    out: dict[str, list[str]] = {}
    for f in found:
        for m in f.shown:
            if m not in present:
                out.setdefault(m, []).append(f.location)
    return out


def metric_text(metric: Metric, lang: str) -> str:
    return label("metric", lang, name=metric.name(lang), metric_id=metric.metric_id)


def join(items: Sequence[str], lang: str, sep: str = "sep") -> str:
    return label(sep, lang).join(dict.fromkeys(items))


def add(found: dict[K, list[str]], key: K, location: str) -> None:
    locations = found.setdefault(key, [])
    if location not in locations:
        locations.append(location)
