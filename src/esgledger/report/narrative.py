"""The narrative text of the report: stored in the ledger per (year, language, section), edited
in the web app or imported from files; a section without text shows a prompt.

The product holds no company's text. A section the company has not written is printed as a
visible prompt (origin ``prompt``): "to be written", and what the disclosures the section
answers ask for (its references in ``data/section_refs.csv``, titled from the framework
tables), so that an unedited report cannot be mistaken for a finished one and the gap list
does not count it as disclosed. The demo group's texts (from the seed group's published
report) are demo data, entered into the demo ledger by the demo build.

The report's numbers never come from here: a narrative is text; figures come only from the
ledger (:mod:`esgledger.report.build`).

Rules of an edit (:func:`set_narrative`, :func:`import_narratives`), whatever door it comes
through (web form, JSON API, command line):

- the text is kept exactly as entered; only line endings are normalised to ``\\n``. It must
  not be blank, hold a NUL character or exceed :data:`MAX_TEXT` characters;
- the section must be one of the section tree (``data/sections.csv``), the language ``zh`` or
  ``en``;
- optimistic locking: the caller sends the version it read (0: not stored yet); any other
  version is refused with :class:`Conflict` carrying the current version. File imports carry
  no version and replace what is stored (a row equal to what the report already shows writes
  nothing), and a row holding the section's prompt is not a text of the company: it is
  skipped (an exported report's sections that nobody wrote come back as prompts);
- a locked year (:mod:`esgledger.workflow.periods`) refuses any edit with :class:`Conflict`:
  the committee's lock freezes the report's text together with its figures;
- the report is the group's, so a signed-in caller needs the ``edit_report`` permission and
  a group-wide scope (:class:`Forbidden` otherwise); the command line (``who=None``) acts as
  the operator of the ledger, named in the audit log by ``actor``;
- every change is appended to the audit chain (before and after) in the transaction that
  writes it.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path

from esgledger import audit
from esgledger.auth import access
from esgledger.auth.accounts import Principal
from esgledger.auth.roles import Permission
from esgledger.domain.datafile import read_rows
from esgledger.domain.diagnostics import Diagnostic
from esgledger.ingest.limits import UPLOAD
from esgledger.ingest.reader import ReadError, check_file_size
from esgledger.metrics.frameworks import load_frameworks
from esgledger.report.model import LANGS, Lang
from esgledger.report.sections import SectionSpec, data_rows, data_text, load_sections
from esgledger.store import narratives as store_texts
from esgledger.store.engine import ConstraintError, now, write_transaction
from esgledger.store.engine import LedgerConnection as Connection
from esgledger.store.engine import LedgerEngine as Engine
from esgledger.store.periods import year_locked
from esgledger.workflow.collection import require
from esgledger.workflow.errors import Conflict, Forbidden, Invalid

_SUB_CLAUSE = re.compile(r"\(\d+\)$")
"""A numbered item of a clause (``11(1)``): the prompt names its clause."""
MAX_TEXT = 20_000
"""Characters of one section's text (the longest section of the seed report has about 4,000)."""
FILE_COLUMNS = ("section_id", "lang", "text")
PROMPT_ORIGIN, LEDGER_ORIGIN = "prompt", "ledger"


@dataclass(frozen=True, slots=True)
class StoredNarrative:
    """A section's text as stored in the ledger for a year and language."""

    section_id: str
    text: str
    version: int
    updated_by: str
    updated_at: datetime


class NarrativeFileError(Invalid):
    """A narrative file or folder that cannot be imported: every problem, located."""

    def __init__(self, diagnostics: Sequence[Diagnostic]) -> None:
        self.diagnostics = tuple(diagnostics)
        super().__init__("; ".join(str(d) for d in self.diagnostics))


# -- sections and prompts -------------------------------------------------------------------


def _sections() -> tuple[SectionSpec, ...]:
    return load_sections()


def section_ids() -> tuple[str, ...]:
    """The report's sections, in report order."""
    return tuple(s.section_id for s in _sections())


def normalise(text: str) -> str:
    """The text as stored: line endings as ``\\n``; nothing else changes."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def text_problem(text: str) -> str | None:
    """Why a (normalised) text cannot be a narrative, or None."""
    if not text.strip():
        return "the text is empty"
    if "\x00" in text:
        return "the text holds a NUL character"
    if len(text) > MAX_TEXT:
        return f"the text has {len(text):,} characters; at most {MAX_TEXT:,} are allowed"
    return None


@cache
def _prompt_words() -> Mapping[str, Mapping[str, str]]:
    rows = data_rows(data_text("build_labels.csv"), "build_labels.csv", ("key", "en", "zh"))
    return {r["key"]: {"en": r["en"], "zh": r["zh"]} for r in rows if r["key"].startswith("prompt")}


@cache
def prompts(lang: str) -> Mapping[str, str]:
    """section_id -> the prompt a section without text shows in ``lang``: "to be written",
    then a paragraph per framework listing the clauses the section answers (a sub-clause such
    as SZSE ``11(1)`` under its article), each with its title."""
    words = _prompt_words()
    frameworks = load_frameworks()
    out: dict[str, str] = {}
    for spec in _sections():
        asked: dict[str, dict[str, str]] = {}
        for framework_id, clause in spec.refs:
            if framework_id not in frameworks:
                continue
            framework = frameworks[framework_id]
            article = clause if framework.has(clause) else _SUB_CLAUSE.sub("", clause)
            shown = framework.clause_text(article, lang)
            title = framework.clause_title(article, lang)
            asked.setdefault(framework.name(lang), {})[shown] = f"{shown} {title}".strip()
        paragraphs = [words["prompt"][lang]]
        if asked:
            paragraphs[0] += ("" if lang == "zh" else " ") + words["prompt_asks"][lang]
            separator, colon, end = ("；", "：", "。") if lang == "zh" else ("; ", ": ", ".")
            paragraphs += [
                f"{name}{colon}{separator.join(items.values())}{end}"
                for name, items in asked.items()
            ]
        out[spec.section_id] = "\n\n".join(paragraphs)
    return out


# -- reading --------------------------------------------------------------------------------


def narratives(engine: Engine, year: int, lang: str) -> dict[str, StoredNarrative]:
    """section_id -> the text stored in the ledger for ``year`` and ``lang``."""
    return {
        str(r["section_id"]): StoredNarrative(
            str(r["section_id"]),
            str(r["text"]),
            int(r["version"]),
            str(r["updated_by"]),
            r["updated_at"],
        )
        for r in store_texts.rows(engine, year, lang)
    }


def narrative_for(engine: Engine, year: int, lang: Lang) -> dict[str, tuple[str, str]]:
    """section_id -> (text, origin) of every section of the tree: the ledger's text
    (``ledger``) where one is stored, else the section's prompt (``prompt``)."""
    stored = narratives(engine, year, lang)
    asked = prompts(lang)
    out: dict[str, tuple[str, str]] = {}
    for section_id in section_ids():
        if section_id in stored:
            out[section_id] = (stored[section_id].text, LEDGER_ORIGIN)
        else:
            out[section_id] = (asked[section_id], PROMPT_ORIGIN)
    return out


def narrative_version(engine: Engine, year: int, lang: str) -> tuple[int, int]:
    """(count, sum of versions) of the stored texts of a year and language: it changes with
    every edit, so a cache of built reports can key on it."""
    versions = store_texts.versions(engine, year, lang)
    return len(versions), sum(versions)


# -- writing --------------------------------------------------------------------------------


def _check_key(year: int, lang: str, section_id: str) -> None:
    if not 1900 < year < 2200:
        raise Invalid(f"year {year} is out of range")
    if lang not in LANGS:
        raise Invalid(f"language {lang!r}: expected zh or en")
    if section_id not in section_ids():
        raise Invalid(f"no report section {section_id!r} (see the report's section tree)")


def _may_edit(conn: Connection, who: Principal | None, year: int) -> None:
    if who is not None:
        require(who, Permission.EDIT_REPORT)
        if not access.is_group_wide(conn, who):
            raise Forbidden(
                "the report is the group's: only a user who sees every entity may edit it"
            )
    if year_locked(conn, year):
        raise Conflict(
            f"period {year} is locked: its report text is frozen with its figures",
        )


def _write(
    conn: Connection,
    actor: str,
    year: int,
    lang: str,
    section_id: str,
    text: str,
    base_version: int | None,
    via: str,
) -> int:
    """Store one text in the caller's transaction; returns its version (unchanged when the
    text is what is stored)."""
    current = store_texts.row_for_update(conn, year, lang, section_id)
    have = 0 if current is None else int(current["version"])
    if base_version is not None and base_version != have:
        who = f"by {current['updated_by']} " if current is not None else ""
        raise Conflict(
            f"the text of {section_id} ({year}, {lang}) was changed {who}(version {have}, you "
            f"edited version {base_version}): reload and merge your text",
            current_version=have,
        )
    if current is not None and current["text"] == text:
        return have
    fields = {"text": text, "version": have + 1, "updated_by": actor, "updated_at": now()}
    if current is None:
        store_texts.insert_row(conn, year, lang, section_id, **fields)
    else:
        store_texts.update_row(conn, int(current["id"]), have, fields)
    audit.append(
        conn,
        actor,
        "set_narrative",
        "report_narrative",
        f"{year}/{lang}/{section_id}",
        before=None if current is None else {"text": current["text"], "version": have},
        after={"text": text, "version": have + 1, "via": via},
    )
    return have + 1


def set_narrative(
    engine: Engine,
    who: Principal | None,
    year: int,
    lang: str,
    section_id: str,
    text: str,
    base_version: int | None,
    *,
    actor: str = "cli",
) -> int:
    """Store a section's text for a year and language; ``base_version`` is the version the
    editor read (0: none stored yet; None: no check). Returns the new version (the same
    version when the text is unchanged). ``actor`` names a command-line caller (``who`` None)
    in the audit log."""
    _check_key(year, lang, section_id)
    text = normalise(text)
    problem = text_problem(text)
    if problem:
        raise Invalid(f"{section_id}: {problem}")
    if text == prompts(lang).get(section_id):
        raise Invalid(f"{section_id}: this is the section's prompt; write the company's text")
    name = who.username if who is not None else actor
    try:
        with write_transaction(engine) as conn:
            _may_edit(conn, who, year)
            return _write(conn, name, year, lang, section_id, text, base_version, "edit")
    except ConstraintError as exc:  # two first saves of one section at the same moment
        raise Conflict(
            f"the text of {section_id} was saved by someone else at the same time: reload",
            current_version=None,
        ) from exc


# -- files ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Entry:
    section_id: str
    lang: str
    text: str
    file: str
    row: int | None


def _decode(data: bytes, name: str, problems: list[Diagnostic]) -> str | None:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        problems.append(Diagnostic("narrative.encoding", f"not UTF-8 text: {exc}", file=name))
        return None


def _read_csv(path: Path, problems: list[Diagnostic]) -> list[_Entry]:
    try:
        check_file_size(path, UPLOAD)  # the upload limit of every file a user gives
    except ReadError as exc:
        problems.append(exc.diagnostic)
        return []
    text = _decode(path.read_bytes(), path.name, problems)
    if text is None:
        return []
    rows, shape = read_rows(text, path.name, FILE_COLUMNS, "narrative.columns", "narrative.fields")
    problems.extend(shape)
    return [
        _Entry(r["section_id"].strip(), r["lang"].strip(), normalise(r["text"]), path.name, line)
        for line, r in rows
    ]


def _read_folder(path: Path, problems: list[Diagnostic]) -> list[_Entry]:
    entries = []
    for item in sorted(path.rglob("*")):
        relative = item.relative_to(path)
        if any(part.startswith(".") for part in relative.parts) or item.is_dir():
            continue
        shown = relative.as_posix()
        if len(relative.parts) != 2 or item.suffix != ".md":
            problems.append(
                Diagnostic(
                    "narrative.file",
                    "expected <lang>/<section_id>.md (lang zh or en)",
                    file=shown,
                )
            )
            continue
        text = _decode(item.read_bytes(), shown, problems)
        if text is not None:
            entries.append(_Entry(item.stem, relative.parts[0], normalise(text), shown, None))
    return entries


def _located(entry: _Entry, code: str, message: str, column: str = "section_id") -> Diagnostic:
    """A problem of an entry: file, row and column of a CSV row; the file of a Markdown one."""
    in_csv = entry.row is not None
    return Diagnostic(
        code, message, file=entry.file, row=entry.row, column=column if in_csv else None
    )


def _entry_problems(e: _Entry, known: set[str]) -> list[Diagnostic]:
    problems = []
    if e.section_id not in known:
        problems.append(_located(e, "narrative.section", f"no report section {e.section_id!r}"))
    if e.lang not in LANGS:
        message = f"language {e.lang!r}: expected zh or en"
        problems.append(_located(e, "narrative.lang", message, "lang"))
    problem = text_problem(e.text)
    if problem:
        problems.append(_located(e, "narrative.text", problem, "text"))
    return problems


def read_narrative_file(path: Path) -> tuple[list[_Entry], list[Diagnostic]]:
    """The narratives of a CSV file (``section_id``, ``lang``, ``text``) or of a folder of
    Markdown files ``<lang>/<section_id>.md``, and the located problems of every one."""
    problems: list[Diagnostic] = []
    if path.is_dir():
        entries = _read_folder(path, problems)
    elif path.is_file():
        entries = _read_csv(path, problems)
    else:
        return [], [Diagnostic("narrative.file", "no such file or folder", file=str(path))]
    known = set(section_ids())
    seen: dict[tuple[str, str], _Entry] = {}
    for e in entries:
        problems.extend(_entry_problems(e, known))
        first = seen.setdefault((e.section_id, e.lang), e)
        if first is not e:
            at = first.file + (f":{first.row}" if first.row is not None else "")
            problems.append(
                _located(e, "narrative.duplicate", f"{e.section_id} ({e.lang}) is also at {at}")
            )
    if not entries and not problems:
        problems.append(Diagnostic("narrative.file", "holds no narrative", file=path.name))
    return entries, problems


def import_narratives(
    engine: Engine, who: Principal | None, path: Path, year: int, *, actor: str = "cli"
) -> int:
    """Import the narratives of a file or folder (:func:`read_narrative_file`) into ``year``,
    all or nothing: any problem raises :class:`NarrativeFileError` with every problem located
    and nothing is written. A text equal to what is stored, or to the section's prompt, writes
    nothing. Returns the number written."""
    if not 1900 < year < 2200:
        raise Invalid(f"year {year} is out of range")
    entries, problems = read_narrative_file(path)
    if problems:
        raise NarrativeFileError(problems)
    name = who.username if who is not None else actor
    written = 0
    with write_transaction(engine) as conn:
        _may_edit(conn, who, year)
        for e in entries:
            if e.text == prompts(e.lang).get(e.section_id):
                continue
            before = _version(conn, year, e.lang, e.section_id)
            after = _write(conn, name, year, e.lang, e.section_id, e.text, None, f"import {e.file}")
            written += after != before
    return written


def _version(conn: Connection, year: int, lang: str, section_id: str) -> int:
    return store_texts.stored_version(conn, year, lang, section_id) or 0


def _export_rows(engine: Engine, year: int) -> list[tuple[str, str, str, str]]:
    rows: list[tuple[str, str, str, str]] = []
    for lang in LANGS:
        for section_id, (text, origin) in narrative_for(engine, year, lang).items():
            rows.append((section_id, lang, text, origin))
    return rows


def export_narratives(engine: Engine, year: int, path: Path) -> int:
    """Write the texts the report of ``year`` shows in both languages (the ledger's, else the
    prompts, which an import skips), to a new CSV file (``path`` ending in ``.csv``:
    ``section_id``, ``lang``, ``text``, ``origin``; UTF-8 with a byte-order mark) or to a new
    or empty folder of Markdown files ``<lang>/<section_id>.md``. Never overwrites. Returns
    the number of texts."""
    rows = _export_rows(engine, year)
    if path.suffix.lower() == ".csv":
        if path.exists():
            raise Invalid(f"{path}: exists; narratives are exported to a new file")
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow((*FILE_COLUMNS, "origin"))
        writer.writerows(rows)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(out.getvalue(), encoding="utf-8-sig", newline="")
        return len(rows)
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise Invalid(f"{path}: exists and is not an empty folder; export to a new folder")
    for section_id, lang, text, _ in rows:
        target = path / lang / f"{section_id}.md"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8", newline="")
    return len(rows)


def outline(lang: str) -> list[tuple[str, str, str, int]]:
    """(section_id, number, title, level) of every section in report order (numbers as the
    builder gives them: ``2``, ``2.1``), for editors."""
    specs = _sections()
    numbers: dict[str, str] = {}
    children: dict[str | None, int] = {}
    out = []
    for spec in specs:
        children[spec.parent] = children.get(spec.parent, 0) + 1
        prefix = "" if spec.parent is None else numbers[spec.parent] + "."
        numbers[spec.section_id] = f"{prefix}{children[spec.parent]}"
        title = spec.title_zh if lang == "zh" else spec.title_en
        level = numbers[spec.section_id].count(".") + 1
        out.append((spec.section_id, numbers[spec.section_id], title, level))
    return out
