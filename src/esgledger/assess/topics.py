"""Material topics as data, and what changed between two years' topic lists.

A topic list is a packaged CSV (``data/topics_seed.csv`` for 2024, ``data/topics_2023.csv``
for the 2023 list reconstructed from the 2024 report's change notes). Each current topic
names the previous year's topic ids it came from (``previous``, ``|``-separated); an empty
``previous`` means "the topic of the same id, if the previous list has one".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from io import StringIO
from typing import Literal

import pandas as pd

from esgledger.metrics.frameworks import load_frameworks

Dimension = Literal["E", "S", "G"]
ChangeKind = Literal["added", "removed", "merged", "renamed", "moved"]

TOPIC_FILES = {2024: "topics_seed.csv", 2023: "topics_2023.csv"}
LIBRARIES = {
    "seed-2024": "topics_seed.csv",
    "seed-2023": "topics_2023.csv",
    "esrs": "topics_esrs.csv",
}
"""Packaged topic libraries: the seed's lists and the ESRS topical list (ESRS 1 AR 16, its
sub-topics as topics)."""
LIBRARIES_BY_FILE = {file: name for name, file in LIBRARIES.items()}


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


def load_topics(year: int = 2024) -> tuple[Topic, ...]:
    """The packaged topic list of ``year`` (2024: the seed report; 2023: reconstructed)."""
    return _load(TOPIC_FILES[year])


def load_library(name: str) -> tuple[Topic, ...]:
    """A packaged topic library by name (:data:`LIBRARIES`)."""
    if name not in LIBRARIES:
        raise ValueError(f"no topic library {name!r}: expected one of {', '.join(LIBRARIES)}")
    return _load(LIBRARIES[name])


def topics_for(year: int, library: str | None = None) -> tuple[tuple[Topic, ...], str]:
    """The topics a campaign of ``year`` starts from, and where they come from: the named
    library, else the year's packaged list, else the latest packaged list before the year
    (the previous assessment's topics carried forward). ValueError when there is none."""
    if library is not None:
        return load_library(library), library
    earlier = [y for y in TOPIC_FILES if y <= year]
    if not earlier:
        raise ValueError(
            f"no topic list for {year} or before (packaged: {sorted(TOPIC_FILES)}); "
            f"name a library ({', '.join(LIBRARIES)})"
        )
    chosen = max(earlier)
    return load_topics(chosen), LIBRARIES_BY_FILE[TOPIC_FILES[chosen]]


def _load(name: str) -> tuple[Topic, ...]:
    frame = read_data_csv(name)
    topics = []
    for row in frame.to_dict("records"):
        dimension = row["dimension"]
        if dimension not in ("E", "S", "G"):
            raise ValueError(f"{name}: topic {row['topic_id']}: dimension {dimension}")
        topics.append(
            Topic(
                topic_id=row["topic_id"],
                name_zh=row["name_zh"],
                name_en=row["name_en"],
                dimension=dimension,
                time_horizon=row.get("time_horizon", ""),
                previous=tuple(p for p in row.get("previous", "").split("|") if p),
                change=row.get("change", ""),
                published_tier=row.get("tier_2024", ""),
                source=row["source"],
            )
        )
    return tuple(topics)


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


def framework_groups() -> dict[str, dict[str, tuple[str, ...]]]:
    """Framework id -> topic id -> the framework's topics (its table's group column: SZSE
    guideline No. 17 topics 1-21) the topic maps to (``data/topic_frameworks.csv``: topic_id,
    framework_id, groups ``;``-separated, source; an analyst mapping: its ``source`` column
    says so). A framework the registry does not declare, or a group its table does not
    have, is a :class:`ValueError`."""
    declared = load_frameworks()
    frame = read_data_csv("topic_frameworks.csv")
    out: dict[str, dict[str, tuple[str, ...]]] = {}
    for number, row in enumerate(frame.to_dict("records"), start=2):
        fid = str(row["framework_id"])
        if fid not in declared or not declared[fid].group_column:
            raise ValueError(f"topic_frameworks.csv:{number}: {fid!r} is no framework with topics")
        framework = declared[fid]
        known = {framework.value(c, framework.group_column) for c in framework.rows}
        groups = tuple(g.strip() for g in str(row["groups"]).split(";") if g.strip())
        if any(g not in known for g in groups):
            raise ValueError(f"topic_frameworks.csv:{number}: topic {row['topic_id']}: {groups}")
        out.setdefault(fid, {})[str(row["topic_id"])] = groups
    return out
