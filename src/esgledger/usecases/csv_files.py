"""What the use cases that import a small CSV file (fuel properties, factor packs, targets,
the company's own metrics) do the same way: its rows numbered as a spreadsheet shows them, the
problems of its header, the positive numbers of its cells, and what a file that replaces a
table of rows changes."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from esgledger.domain.diagnostics import Diagnostic
from esgledger.ingest.limits import UPLOAD
from esgledger.ingest.reader import ReadError, string_frame
from esgledger.ingest.reader import read_rows as read_upload_rows

Rows = list[tuple[int, dict[str, str]]]
"""(row number, the header row being 1; cells by stripped column name)."""


def read_rows(
    text: str, name: str, columns: Sequence[str], required: Sequence[str], code: str
) -> tuple[Rows, list[Diagnostic]]:
    """The rows of the CSV ``text`` (file ``name``) and its header's problems: a ``required``
    column missing, a column not among ``columns``, each a diagnostic ``code`` of row 1."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip() for h in reader.fieldnames or []]
    problems = [
        Diagnostic(code, f"missing column {c!r}", file=name, row=1, column=c)
        for c in required
        if c not in header
    ]
    problems += [
        Diagnostic(code, f"unknown column {c!r}: {', '.join(columns)}", file=name, row=1, column=c)
        for c in header
        if c not in columns
    ]
    rows = [
        (number, {k.strip(): v for k, v in cells.items() if k})
        for number, cells in enumerate(reader, start=2)
    ]
    return rows, problems


def cell_frame(text: str, name: str) -> tuple[pd.DataFrame | None, Diagnostic | None]:
    """The CSV ``text`` (file ``name``) as a frame of strings, read by the shared upload
    reader (its limits, cells stripped, trailing blank rows dropped), or no frame and the
    located diagnostic of a file it cannot read."""
    try:
        where, lines = read_upload_rows(text.encode("utf-8"), name, UPLOAD, strip=True)
        return string_frame(lines, where), None
    except ReadError as exc:
        return None, exc.diagnostic


def cell_rows(text: str, name: str) -> tuple[list[dict[str, str]], Diagnostic | None]:
    """:func:`cell_frame` as rows of cells by column (no rows: the file's diagnostic)."""
    frame, unreadable = cell_frame(text, name)
    if frame is None:
        return [], unreadable
    return [{str(k): str(v) for k, v in r.items()} for r in frame.to_dict("records")], None


def positive_number(text: str) -> float | None:
    """The number a cell holds (``1,250.5`` read as 1250.5) when it is finite and above 0."""
    try:
        number = float(text.strip().replace(",", ""))
    except ValueError:
        return None
    return number if math.isfinite(number) and number > 0 else None


@dataclass(frozen=True, slots=True)
class RowChanges:
    """What replacing a table's rows with a file's does, by row id."""

    added: tuple[str, ...]
    changed: tuple[str, ...]
    removed: tuple[str, ...]
    same: bool
    """Nothing added, changed or removed, and the rows in the same order: nothing to write."""


@dataclass(frozen=True, slots=True)
class TableImport:
    """What an import that replaces a table of rows did: the rows of the file, the ids added,
    changed and removed, and its audit entry (None: the same rows again, nothing written)."""

    count: int
    added: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    seq: int | None = None


def row_changes(
    before: Sequence[Mapping[str, str]], after: Sequence[Mapping[str, str]], key: str
) -> RowChanges:
    """The rows of ``after`` against ``before`` by their id column ``key``: added, changed
    (any cell), removed, and whether the file changes nothing at all."""
    old = {r[key]: dict(r) for r in before}
    new = {r[key]: dict(r) for r in after}
    added = tuple(k for k in new if k not in old)
    changed = tuple(k for k in new if k in old and new[k] != old[k])
    removed = tuple(k for k in old if k not in new)
    order = [r[key] for r in before] == [r[key] for r in after]
    return RowChanges(added, changed, removed, not (added or changed or removed) and order)
