"""Material topics as data, and what changed between two years' topic lists.

A company's topic list of a year is a CSV it enters into its ledger (:func:`check_topics`
reads and checks one, every problem located ``file:row:column``;
:mod:`esgledger.usecases.topic_lists` keeps it); the only packaged list is a neutral library,
the ESRS topical list (``data/topics_esrs.csv``, ESRS 1 AR 16). Each topic names the previous
year's topic ids it came from (``previous``, ``|``-separated); an empty ``previous`` means
"the topic of the same id, if the previous list has one". A framework column (the id of a
framework whose table has topics, e.g. ``szse17``) maps a topic to that framework's topics
(``;``-separated), for the check of financially material topics (:func:`framework_groups`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from io import StringIO
from typing import Literal

import pandas as pd

from esgledger.domain.diagnostics import Diagnostic
from esgledger.metrics.frameworks import load_frameworks

Dimension = Literal["E", "S", "G"]
ChangeKind = Literal["added", "removed", "merged", "renamed", "moved"]

LIBRARIES = {"esrs": "topics_esrs.csv"}
"""Packaged topic libraries: the ESRS topical list (ESRS 1 AR 16, its sub-topics as topics),
a neutral starting point; a company's own lists are in its ledger."""
TOPIC_COLUMNS = ("topic_id", "name_zh", "name_en", "dimension")
"""The columns a topic list must have (each cell filled)."""
OPTIONAL_TOPIC_COLUMNS = ("time_horizon", "previous", "change", "published_tier", "source")


@dataclass(frozen=True, slots=True)
class Topic:
    """One material topic of a year's list, with the file row it was read from."""

    topic_id: str
    name_zh: str
    name_en: str
    dimension: Dimension
    time_horizon: str = ""
    previous: tuple[str, ...] = ()
    """Previous-year topic ids it came from (empty: the same id, when it existed)."""
    change: str = ""
    """As published: ``merged``, ``renamed``, ``new``, ``moved`` or ``unchanged``."""
    published_tier: str = ""
    source: str = ""

    def name(self, lang: str) -> str:
        return self.name_zh if lang == "zh" else self.name_en


@dataclass(frozen=True, slots=True)
class Change:
    """One difference between two topic lists."""

    kind: ChangeKind
    topic_id: str
    """The current topic (for ``removed``: the previous one)."""
    previous_id: str = ""
    detail: str = ""

    def text(self) -> str:
        if self.kind == "added":
            return f"added {self.topic_id}"
        if self.kind == "removed":
            return f"removed {self.topic_id}"
        if self.kind == "moved":
            return f"moved {self.topic_id} {self.detail}"
        return f"{self.kind} {self.previous_id} -> {self.topic_id}"


def _data_text(name: str) -> str:
    return resources.files("esgledger.assess").joinpath("data", name).read_text(encoding="utf-8")


def read_data_csv(name: str) -> pd.DataFrame:
    """A packaged CSV of ``esgledger.assess.data`` as strings (empty cells as ``""``)."""
    return pd.read_csv(StringIO(_data_text(name)), dtype=str, keep_default_na=False)


def load_library(name: str) -> tuple[Topic, ...]:
    """A packaged topic library by name (:data:`LIBRARIES`)."""
    if name not in LIBRARIES:
        raise ValueError(f"no topic library {name!r}: expected one of {', '.join(LIBRARIES)}")
    frame = read_data_csv(LIBRARIES[name])
    return topics_of_rows(
        [{str(k): str(v) for k, v in r.items()} for r in frame.to_dict("records")]
    )


def _topic(row: Mapping[str, str]) -> Topic:
    return Topic(
        topic_id=str(row["topic_id"]).strip(),
        name_zh=str(row["name_zh"]).strip(),
        name_en=str(row["name_en"]).strip(),
        dimension=str(row["dimension"]).strip(),  # type: ignore[arg-type]
        time_horizon=str(row.get("time_horizon", "") or "").strip(),
        previous=tuple(
            p.strip() for p in str(row.get("previous", "") or "").split("|") if p.strip()
        ),
        change=str(row.get("change", "") or "").strip(),
        published_tier=str(row.get("published_tier", "") or "").strip(),
        source=str(row.get("source", "") or "").strip(),
    )


def topics_of_rows(rows: Sequence[Mapping[str, str]]) -> tuple[Topic, ...]:
    """The topics of rows of cells already checked (:func:`check_topics`)."""
    return tuple(_topic(row) for row in rows)


def _framework_columns() -> dict[str, frozenset[str]]:
    """Framework id -> its topics, for the frameworks whose table has a topic column."""
    out = {}
    for framework in load_frameworks():
        if framework.group_column:
            out[framework.framework_id] = frozenset(
                framework.value(c, framework.group_column) for c in framework.rows
            )
    return out


def check_topics(
    rows: Sequence[Mapping[str, str]], name: str
) -> tuple[tuple[Topic, ...] | None, list[Diagnostic]]:
    """The topics of a topic-list file's rows (cells by column; the header is row 1), or
    every problem located ``file:row:column`` and no topics: a missing or empty required
    cell, a dimension other than E, S or G, a repeated topic id, an unknown column, a
    framework topic the framework does not have."""
    problems: list[Diagnostic] = []
    frameworks = _framework_columns()
    known = {*TOPIC_COLUMNS, *OPTIONAL_TOPIC_COLUMNS, *frameworks}
    columns = list(rows[0]) if rows else []
    for column in columns:
        if column not in known:
            what = f"unknown column {column!r}: expected {', '.join(sorted(known))}"
            problems.append(Diagnostic("topics", what, file=name, row=1, column=column))
    for column in TOPIC_COLUMNS:
        if rows and column not in columns:
            problems.append(
                Diagnostic("topics", "expected this column", file=name, row=1, column=column)
            )
    if problems:
        return None, problems
    seen: dict[str, int] = {}
    for number, row in enumerate(rows, start=2):
        problems += _row_problems(row, number, name, seen, frameworks)
    if not rows:
        problems.append(Diagnostic("topics", "expected at least one topic", file=name, row=2))
    return (None, problems) if problems else (topics_of_rows(rows), [])


def _row_problems(
    row: Mapping[str, str],
    number: int,
    name: str,
    seen: dict[str, int],
    frameworks: Mapping[str, frozenset[str]],
) -> list[Diagnostic]:
    def at(column: str, message: str) -> Diagnostic:
        return Diagnostic("topics", message, file=name, row=number, column=column)

    found = [at(c, "expected a value, got an empty cell") for c in TOPIC_COLUMNS if not row[c]]
    topic_id = str(row["topic_id"]).strip()
    if topic_id in seen:
        found.append(at("topic_id", f"topic {topic_id!r} is also on row {seen[topic_id]}"))
    seen.setdefault(topic_id, number)
    if row["dimension"] and row["dimension"] not in ("E", "S", "G"):
        found.append(at("dimension", f"expected E, S or G, got {row['dimension']!r}"))
    for fid, groups in frameworks.items():
        for group in _groups(row.get(fid, "")):
            if group not in groups:
                found.append(at(fid, f"{fid} has no topic {group!r}"))
    return found


def _groups(cell: str | None) -> tuple[str, ...]:
    return tuple(g.strip() for g in str(cell or "").split(";") if g.strip())


def framework_groups(rows: Sequence[Mapping[str, str]]) -> dict[str, dict[str, tuple[str, ...]]]:
    """Framework id -> topic id -> the framework's topics a topic list's rows map each topic
    to (its framework columns, ``;``-separated)."""
    out: dict[str, dict[str, tuple[str, ...]]] = {}
    for fid in _framework_columns():
        for row in rows:
            groups = _groups(row.get(fid, ""))
            if groups:
                out.setdefault(fid, {})[str(row["topic_id"]).strip()] = groups
    return out


def topic_changes(previous: Sequence[Topic], current: Sequence[Topic]) -> list[Change]:
    """The changes from ``previous`` to ``current``, in the order of ``current`` then removals.

    A current topic with no ancestor is ``added``; an ancestor of another id is ``merged``
    into it when the topic has several ancestors (or keeps its own id among them), else
    ``renamed``; a topic whose dimension differs from its single ancestor's is ``moved``;
    a previous topic that is no current topic's ancestor is ``removed``.
    """
    before = {t.topic_id: t for t in previous}
    changes: list[Change] = []
    used: set[str] = set()
    for topic in current:
        ancestors = topic.previous or ((topic.topic_id,) if topic.topic_id in before else ())
        unknown = [a for a in ancestors if a not in before]
        if unknown:
            raise ValueError(f"topic {topic.topic_id}: unknown previous topics {unknown}")
        used.update(ancestors)
        if not ancestors:
            changes.append(Change("added", topic.topic_id))
            continue
        merged = len(ancestors) > 1 or topic.topic_id in ancestors
        for ancestor in ancestors:
            if ancestor != topic.topic_id:
                kind: ChangeKind = "merged" if merged else "renamed"
                changes.append(Change(kind, topic.topic_id, ancestor))
        if len(ancestors) == 1 and before[ancestors[0]].dimension != topic.dimension:
            detail = f"{before[ancestors[0]].dimension} -> {topic.dimension}"
            changes.append(Change("moved", topic.topic_id, ancestors[0], detail))
    changes.extend(Change("removed", t.topic_id) for t in previous if t.topic_id not in used)
    return changes
