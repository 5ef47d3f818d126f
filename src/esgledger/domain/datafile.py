"""Rows of the small CSV data files the project ships (rules, targets, settings)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from esgledger.domain.diagnostics import Diagnostic


def read_rows(
    text: str,
    name: str,
    required: Sequence[str],
    missing_code: str,
    fields_code: str,
) -> tuple[list[tuple[int, dict[str, str]]], list[Diagnostic]]:
    """``(line, row)`` for every non-blank data row of a CSV text (the header is line 1), and
    the located problems of its shape: a missing required column (then no rows), a row whose
    number of fields differs from the header's (that row is left out). Cells keep their text;
    header names are stripped. A leading byte-order mark is ignored."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip() for h in next(reader, [])]
    missing = [
        Diagnostic(missing_code, f"required column {c!r} is missing", file=name, row=1, column=c)
        for c in required
        if c not in header
    ]
    if missing:
        return [], missing
    rows: list[tuple[int, dict[str, str]]] = []
    problems: list[Diagnostic] = []
    for line, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            problems.append(
                Diagnostic(
                    fields_code,
                    f"{len(cells)} fields, the header has {len(header)}",
                    file=name,
                    row=line,
                )
            )
            continue
        rows.append((line, dict(zip(header, cells, strict=True))))
    return rows, problems
