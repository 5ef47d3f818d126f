"""Read a CSV or XLSX sheet into header + string rows, remembering row numbers.

CSV encodings: UTF-8 (with or without BOM), then GB18030 (a superset of GBK/GB2312, common in
files saved by Chinese Excel). XLSX: the sheet named after the kind; formula cells are refused
(an import stores values a person entered or confirmed, not a formula's cached result).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from openpyxl import load_workbook

from esgledger.domain.diagnostics import Diagnostic

ENCODINGS = ("utf-8-sig", "gb18030")


@dataclass(frozen=True)
class Table:
    file: str
    sheet: str | None
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]  # row i is spreadsheet row i + 2
    encoding: str | None = None


class ReadError(Exception):
    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(str(diagnostic))
        self.diagnostic = diagnostic


def _decode(data: bytes, name: str) -> tuple[str, str]:
    for encoding in ENCODINGS:
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise ReadError(
        Diagnostic("encoding", "cannot decode the file as UTF-8 or GBK/GB18030", file=name)
    )


def read_csv(path: Path, data: bytes) -> Table:
    text, encoding = _decode(data, path.name)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows: list[tuple[str, ...]] = []
    start = 1  # line where the row being read begins (a quoted cell may span lines)
    try:
        for row in reader:
            rows.append(tuple(cell.strip() for cell in row))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise ReadError(
            Diagnostic(
                "csv",
                f"malformed CSV in the row starting here: {exc} (expected every quoted cell "
                "to be closed on its row)",
                file=path.name,
                row=start,
            )
        ) from exc
    return _table(path.name, None, rows, encoding)


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return (
            value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
        )
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def read_xlsx(path: Path, data: bytes, sheet: str) -> Table:
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises assorted errors on damaged files
        raise ReadError(
            Diagnostic("xlsx", f"not a readable XLSX workbook: {exc}", file=path.name)
        ) from exc
    try:
        if sheet not in book.sheetnames:
            raise ReadError(
                Diagnostic(
                    "sheet",
                    f"no sheet named {sheet!r}; the workbook has "
                    f"{', '.join(book.sheetnames)} (use the template from `esgledger template`)",
                    file=path.name,
                )
            )
        rows: list[tuple[str, ...]] = []
        for number, row in enumerate(book[sheet].iter_rows(values_only=True), start=1):
            cells = []
            for col, value in enumerate(row):
                if isinstance(value, str) and value.startswith("="):
                    raise ReadError(
                        Diagnostic(
                            "formula",
                            f"formula cell {value!r}: enter the value, not a formula",
                            file=f"{path.name}[{sheet}]",
                            row=number,
                            column=_column_name(rows, col),
                        )
                    )
                cells.append(_cell_text(value))
            rows.append(tuple(cells))
    finally:
        book.close()
    return _table(f"{path.name}[{sheet}]", sheet, rows, None)


def _column_name(rows: list[tuple[str, ...]], index: int) -> str:
    """The header name of a column (the letter when the header row has none)."""
    header = rows[0] if rows else ()
    name = header[index].strip().lower() if index < len(header) else ""
    return name or _col_letter(index)


def _col_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _table(
    name: str, sheet: str | None, rows: list[tuple[str, ...]], encoding: str | None
) -> Table:
    while rows and not any(rows[-1]):
        rows.pop()
    if not rows:
        raise ReadError(
            Diagnostic(
                "empty", "the file is empty: expected a header row and data rows", file=name, row=1
            )
        )
    header = tuple(h.strip().lower() for h in rows[0])
    body = tuple(rows[1:])
    return Table(name, sheet, header, body, encoding)
