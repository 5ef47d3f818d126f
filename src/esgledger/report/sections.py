"""The report's section tree (``data/sections.csv`` and the framework references of each
section, ``data/section_refs.csv``) and the helpers that read the report's data files, with
located errors."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from esgledger.report import indexes

__all__ = ["ReportConfigError", "SectionSpec", "data_rows", "data_text", "load_sections"]


class ReportConfigError(ValueError):
    """A section or block file that does not describe a report (located: file, row, column)."""


def data_text(name: str) -> str:
    return resources.files("esgledger.report").joinpath("data", name).read_text("utf-8-sig")


def data_rows(text: str, name: str, required: tuple[str, ...]) -> list[dict[str, str]]:
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in required if c not in (reader.fieldnames or ())]
    if missing:
        raise ReportConfigError(f"{name}:1: missing column(s) {', '.join(missing)}")
    return [{k: (v or "").strip() for k, v in row.items() if k} for row in reader]


@dataclass(frozen=True, slots=True)
class SectionSpec:
    section_id: str
    parent: str | None
    title_en: str
    title_zh: str
    refs: tuple[tuple[str, str], ...]
    pillar: str


def load_sections(path: Path | None = None) -> tuple[SectionSpec, ...]:
    """The section tree, in file order (children after their parent)."""
    name = str(path) if path else "sections.csv"
    text = path.read_text("utf-8-sig") if path else data_text("sections.csv")
    rows = data_rows(text, name, ("section_id", "parent", "title_en", "title_zh"))
    refs = indexes.section_refs(path, {row["section_id"] for row in rows})
    specs: list[SectionSpec] = []
    seen: set[str] = set()
    for number, row in enumerate(rows, start=2):
        sid, parent = row["section_id"], row["parent"] or None
        if not sid or sid in seen:
            raise ReportConfigError(f"{name}:{number}:section_id: empty or repeated {sid!r}")
        if parent is not None and parent not in seen:
            raise ReportConfigError(
                f"{name}:{number}:parent: {parent!r} is not a section listed above"
            )
        seen.add(sid)
        specs.append(
            SectionSpec(
                sid,
                parent,
                row["title_en"],
                row["title_zh"],
                refs.get(sid, ()),
                row.get("pillar", ""),
            )
        )
    return tuple(specs)
