"""What the use cases that import a small CSV file (fuel properties, factor packs) read the
same way: its rows numbered as a spreadsheet shows them, the problems of its header, and the
positive numbers of its cells."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence

from esgledger.domain.diagnostics import Diagnostic

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


def positive_number(text: str) -> float | None:
    """The number a cell holds (``1,250.5`` read as 1250.5) when it is finite and above 0."""
    try:
        number = float(text.strip().replace(",", ""))
    except ValueError:
        return None
    return number if math.isfinite(number) and number > 0 else None
