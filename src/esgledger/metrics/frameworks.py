"""Framework reference tables and content indexes, declared as data.

``metrics/data/frameworks/registry.csv`` lists the reference tables packaged beside it, one
row per framework id: ``gri`` (GRI Standards 2021 disclosures), ``szse17`` (the SZSE
self-regulatory guideline No. 17 articles), ``issb_s2`` (IFRS S2 paragraphs), ``esrs`` (ESRS
E1 disclosure requirements) and the auxiliary tables ``szse17_topics`` and ``sources``. The
tables are unchanged copies of the research pack in ``../shared/reference/frameworks/`` (see
the README beside them); every row keeps its ``source_ids`` and ``verification`` columns, so a
content index built from them can say how far each reference was checked.

A registry row names the table's ``file`` and its key column (``id_column``). A row with a
``style`` gives the framework a content index in the report (:mod:`esgledger.report.indexes`):

- ``disclosures`` (GRI): a row per clause the report cites, with the reason for omission;
- ``obligations`` (SZSE No. 17): a row per clause with an obligation (``level_column``:
  ``mandatory...``, ``mandatory if ...``, ``encouraged``), its status, and the four elements
  of the topics (``group_column``) that need them (``elements_column`` ``EXPLICIT...``).

and the words the report prints: the index's title (``title_en``, ``title_zh``), the
framework's name in the gap list (``name_en``, ``name_zh``), how a clause is named
(``clause_en``, ``clause_zh``: ``{id}`` and the row's columns, ``art. {id}``,
``{article_cn}``), the columns giving a clause's title (``title_columns``, ``|``-separated
alternatives, the first non-empty wins; ``title_columns_zh`` likewise, default the English
ones) and its HTML ``anchor``. The framework id is what the catalogue's reference columns,
``report/data/section_refs.csv`` and ``report/data/four_elements.csv`` say.

Extra folders in the environment variable ``ESGLEDGER_FRAMEWORKS`` (separated like ``PATH``)
each hold a ``registry.csv`` of the same columns and their tables (a ``file`` not in the folder
is looked up among the packaged ones); their rows add frameworks, or replace a packaged row of
the same id, without a change to the code. A folder may also hold a ``section_refs.csv``.
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType

ENV = "ESGLEDGER_FRAMEWORKS"
"""Extra framework folders, separated by :data:`os.pathsep`."""
REGISTRY = "registry.csv"
REGISTRY_COLUMNS = (
    "framework_id",
    "file",
    "id_column",
    "style",
    "anchor",
    "title_en",
    "title_zh",
    "name_en",
    "name_zh",
    "clause_en",
    "clause_zh",
    "title_columns",
    "title_columns_zh",
    "level_column",
    "group_column",
    "elements_column",
    "source",
)
STYLES = ("disclosures", "obligations")
"""The kinds of content index (:mod:`esgledger.report.indexes`); empty: a reference table."""

Row = Mapping[str, str]

_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_MARKER = re.compile(r"^(?:Ch\d+|§\d+)\s+")
"""A chapter or section marker before a title in the SZSE table (``Ch2 ``, ``§1 ``)."""


class FrameworkError(ValueError):
    """A registry, table or reference file that does not describe frameworks (located)."""


class _Ids(dict[str, str]):
    """Placeholder values of a clause's name: a column the row lacks prints the clause id."""

    def __missing__(self, key: str) -> str:
        return self["id"]


@dataclass(frozen=True, slots=True)
class Framework:
    """One registry row with its table, rows keyed by the ``id_column`` (as text)."""

    framework_id: str
    file: str
    id_column: str
    rows: Mapping[str, Row]
    style: str = ""
    anchor: str = ""
    title_en: str = ""
    title_zh: str = ""
    name_en: str = ""
    name_zh: str = ""
    clause_en: str = "{id}"
    clause_zh: str = "{id}"
    title_columns: tuple[str, ...] = ()
    title_columns_zh: tuple[str, ...] = ()
    level_column: str = ""
    group_column: str = ""
    elements_column: str = ""
    source: str = ""
    _firsts: frozenset[str] = field(default=frozenset(), repr=False, compare=False)

    @property
    def is_index(self) -> bool:
        """The report has a content index of this framework."""
        return bool(self.style)

    def has(self, clause: str) -> bool:
        """A key of the table, or the first part of a listed one (``29(a)(i)(2)`` of
        ``29(a)(i)(2),(v)``)."""
        return clause in self.rows or clause in self._firsts

    def title(self, lang: str) -> str:
        """The content index's title."""
        return self.title_zh if lang == "zh" and self.title_zh else self.title_en

    def name(self, lang: str) -> str:
        """The framework's name (gap list, messages)."""
        return self.name_zh if lang == "zh" and self.name_zh else self.name_en

    def clause_title(self, clause: str, lang: str) -> str:
        """The title of a clause: the first non-empty title column of its row, without a
        chapter or section marker; ``""`` for a clause not in the table."""
        row = self.rows.get(clause)
        columns = (self.title_columns_zh if lang == "zh" else ()) or self.title_columns
        if row is None:
            return ""
        text = next((row[c] for c in columns if row.get(c)), "")
        return _MARKER.sub("", text)

    def clause_text(self, clause: str, lang: str) -> str:
        """How the gap list names a clause (``art. 24``, ``第二十四条``, ``305-1``)."""
        pattern = self.clause_zh if lang == "zh" else self.clause_en
        values = _Ids(self.rows.get(clause, {}))
        values["id"] = clause
        return (pattern or "{id}").format_map(values)

    def value(self, clause: str, column: str) -> str:
        """A column of a clause's row (``""`` when either is absent)."""
        return (self.rows.get(clause) or {}).get(column, "") if column else ""


@dataclass(frozen=True, slots=True)
class Frameworks:
    """The declared frameworks, in registry order (packaged first, then extra folders)."""

    by_id: Mapping[str, Framework]

    def __getitem__(self, framework_id: str) -> Framework:
        try:
            return self.by_id[framework_id]
        except KeyError:
            known = ", ".join(self.by_id)
            raise KeyError(f"unknown framework {framework_id!r} (declared: {known})") from None

    def __contains__(self, framework_id: object) -> bool:
        return framework_id in self.by_id

    def __iter__(self) -> Iterator[Framework]:
        return iter(self.by_id.values())

    def ids(self) -> tuple[str, ...]:
        return tuple(self.by_id)

    def indexes(self) -> tuple[Framework, ...]:
        """The frameworks with a content index, in registry order."""
        return tuple(f for f in self if f.is_index)

    def has(self, framework_id: str, clause: str) -> bool:
        return framework_id in self.by_id and self.by_id[framework_id].has(clause)


# -- reading ----------------------------------------------------------------------------------


def extra_folders() -> tuple[Path, ...]:
    """The folders of :data:`ENV`, in order."""
    value = os.environ.get(ENV, "")
    return tuple(Path(p) for p in value.split(os.pathsep) if p.strip())


def _packaged(name: str) -> str:
    return (
        resources.files("esgledger.metrics")
        .joinpath("data", "frameworks", name)
        .read_text(encoding="utf-8-sig")
    )


def read_text(folder: Path | None, name: str) -> tuple[str, str]:
    """(where, text) of a framework data file: in ``folder`` when it is there, else packaged."""
    if folder is not None and (folder / name).is_file():
        return str(folder / name), (folder / name).read_text(encoding="utf-8-sig")
    return f"metrics/data/frameworks/{name}", _packaged(name)


def read_rows(text: str) -> tuple[list[str], list[dict[str, str]]]:
    """(header, rows with cells stripped) of a CSV text."""
    reader = csv.DictReader(io.StringIO(text))
    rows = [{k: (v or "").strip() for k, v in row.items() if k} for row in reader]
    return [h.strip() for h in reader.fieldnames or ()], rows


def _alternatives(value: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in value.split("|") if p.strip())


def _table(where: str, text: str, id_column: str) -> tuple[list[str], Mapping[str, Row]]:
    header, rows = read_rows(text)
    if id_column not in header:
        raise FrameworkError(f"{where}:1: no id column {id_column!r}")
    keyed = {
        row[id_column]: MappingProxyType(row) for row in rows if row[id_column] not in {"", "-"}
    }
    return header, MappingProxyType(keyed)


def _framework(folder: Path | None, where: str, row: dict[str, str]) -> Framework:
    fid, style = row["framework_id"], row["style"]
    if not _ID.match(fid):
        raise FrameworkError(f"{where}:framework_id: {fid!r} is not lowercase letters, digits, _")
    if style and style not in STYLES:
        raise FrameworkError(f"{where}:style: {style!r}: expected one of {', '.join(STYLES)}")
    table_where, text = read_text(folder, row["file"])
    header, rows = _table(table_where, text, row["id_column"])
    titles, titles_zh = _alternatives(row["title_columns"]), _alternatives(row["title_columns_zh"])
    needed = [*titles, *titles_zh, row["level_column"], row["group_column"]]
    needed.append(row["elements_column"])
    if style == "obligations" and not (row["level_column"] and row["group_column"]):
        raise FrameworkError(f"{where}:level_column: an obligations index needs level and group")
    unknown = [c for c in needed if c and c not in header]
    if unknown:
        raise FrameworkError(f"{where}: {table_where} has no column(s) {', '.join(unknown)}")
    if style and not (row["title_en"] and row["name_en"]):
        raise FrameworkError(f"{where}:title_en: a content index needs a title and a name")
    return Framework(
        fid,
        row["file"],
        row["id_column"],
        rows,
        style,
        row["anchor"] or f"{fid}-index",
        row["title_en"],
        row["title_zh"],
        row["name_en"] or fid,
        row["name_zh"],
        row["clause_en"] or "{id}",
        row["clause_zh"] or row["clause_en"] or "{id}",
        titles,
        titles_zh,
        row["level_column"],
        row["group_column"],
        row["elements_column"],
        row["source"],
        frozenset(key.split(",")[0] for key in rows if "," in key),
    )


def _registry(folder: Path | None) -> list[Framework]:
    if folder is not None and not (folder / REGISTRY).is_file():
        raise FrameworkError(f"{folder}: no {REGISTRY} ({ENV})")
    where, text = read_text(folder, REGISTRY)
    header, rows = read_rows(text)
    missing = [c for c in REGISTRY_COLUMNS if c not in header]
    if missing:
        raise FrameworkError(f"{where}:1: missing column(s) {', '.join(missing)}")
    return [_framework(folder, f"{where}:{n}", row) for n, row in enumerate(rows, start=2)]


def load_frameworks() -> Frameworks:
    """The packaged frameworks and those of the extra folders (:data:`ENV`), read once per
    set of folders."""
    return _load(extra_folders())


@lru_cache(maxsize=4)
def _load(extra: tuple[Path, ...]) -> Frameworks:
    declared: dict[str, Framework] = {}
    for folder in (None, *extra):
        for framework in _registry(folder):
            declared[framework.framework_id] = framework
    return Frameworks(MappingProxyType(declared))
