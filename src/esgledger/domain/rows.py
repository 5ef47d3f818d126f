"""Located checks of one row of a CSV file a user supplies (a register, a measure catalogue:
``file:row:column: expected ...``), shared by the libraries that read such files; each adds
the checks of its own columns (the file itself is read by
:func:`esgledger.ingest.files.read_csv_strings`). (:mod:`esgledger.domain.datafile` reads
the data files the project ships, from text, with its own problem codes.)"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

import pandas as pd

from esgledger.domain.diagnostics import Diagnostic

__all__ = ["RowCheck", "missing_columns"]

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class RowCheck:
    """Collects the located diagnostics of one row (``line`` as a spreadsheet shows it)."""

    def __init__(self, file: str, line: int, problems: list[Diagnostic]) -> None:
        self.file = file
        self.line = line
        self.problems = problems

    def error(self, code: str, column: str, message: str) -> None:
        self.problems.append(
            Diagnostic(code, message, file=self.file, row=self.line, column=column)
        )

    def required(self, column: str, text: str, what: str) -> None:
        if not text:
            self.error(column, column, f"expected {what}, got an empty cell")

    def choice(self, column: str, value: str, allowed: Sequence[str], what: str) -> bool:
        if value in allowed:
            return True
        self.error(column, column, f"expected {what} ({', '.join(allowed)}), got {value!r}")
        return False

    def date(self, column: str, text: str) -> dt.date | None:
        """A ``YYYY-MM-DD`` date, or None when empty (an empty cell is allowed)."""
        if not text:
            return None
        try:
            if not _DATE.fullmatch(text):
                raise ValueError(text)
            return dt.date.fromisoformat(text)
        except ValueError:
            self.error("date", column, f"expected a date YYYY-MM-DD or empty, got {text!r}")
            return None


def missing_columns(frame: pd.DataFrame, name: str, columns: Sequence[str]) -> list[Diagnostic]:
    """A located diagnostic (row 1, the header) per expected column the frame lacks."""
    return [
        Diagnostic("column-missing", f"expected a column {c!r}", file=name, row=1, column=c)
        for c in columns
        if c not in frame.columns
    ]
