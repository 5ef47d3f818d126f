"""Diagnostics are data: every check returns them instead of raising at the first problem."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One finding with its location: ``file:row:column: message``.

    ``row`` counts lines as a spreadsheet shows them (the header is row 1).
    """

    code: str
    message: str
    severity: Severity = Severity.ERROR
    file: str | None = None
    row: int | None = None
    column: str | None = None

    def location(self) -> str:
        parts = [self.file or "<input>"]
        if self.row is not None:
            parts.append(str(self.row))
        if self.column is not None:
            parts.append(self.column)
        return ":".join(parts)

    def __str__(self) -> str:
        tag = "" if self.severity is Severity.ERROR else f"{self.severity.value}: "
        where = f"{self.location()}: " if self.file or self.row is not None else ""
        return f"{where}{tag}{self.message} [{self.code}]"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["severity"] = self.severity.value
        return data


def has_errors(diagnostics: Iterable[Diagnostic]) -> bool:
    return any(d.severity is Severity.ERROR for d in diagnostics)


def exit_code(diagnostics: Iterable[Diagnostic]) -> int:
    """CLI exit code that follows the diagnostics: 1 on any error, else 0."""
    return 1 if has_errors(diagnostics) else 0
