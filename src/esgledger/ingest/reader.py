"""Read a CSV or XLSX file from a user into rows of strings, remembering row numbers.

The one reader of every uploaded or imported table (bulk record imports, rosters, register
files, filled request templates). Before any cell is parsed the file is held to its
:class:`~esgledger.ingest.limits.Limits` (size; for an XLSX, the expanded size and the
compression ratio of its parts, from the zip directory), and rows and columns are counted while
reading: a file over a limit is refused with one diagnostic naming the file, the row or column
where there is one, and the limit.

CSV encodings: UTF-8 (with or without BOM), then GB18030 (a superset of GBK/GB2312, common in
files saved by Chinese Excel). XLSX: the sheet named after the kind (the first sheet for a
register); formula cells are refused where the caller asks (an import stores values a person
entered or confirmed, not a formula's cached result).
"""

from __future__ import annotations

import csv
import io
import warnings
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.workbook.workbook import Workbook

from esgledger.domain.diagnostics import Diagnostic
from esgledger.ingest import limits as _limits
from esgledger.ingest.limits import RATIO_FLOOR_BYTES, Limits

ENCODINGS = ("utf-8-sig", "gb18030")

__all__ = [
    "ENCODINGS",
    "UNREADABLE",
    "ReadError",
    "Table",
    "cap_problems",
    "check_archive",
    "check_file_size",
    "check_size",
    "csv_rows",
    "open_workbook",
    "read_csv",
    "read_rows",
    "read_xlsx",
    "sheet_names",
    "sheet_rows",
    "string_frame",
    "xlsx_rows",
]


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


# -- limits before parsing ----------------------------------------------------------------------


UNREADABLE = frozenset({"xlsx", "csv", "encoding", "empty", "sheet", "header"})
"""Codes of a file that cannot be read as a table at all (as opposed to one over a limit)."""


def check_size(data: bytes, name: str, limits: Limits) -> None:
    """Refuse a file larger than ``limits.max_bytes``."""
    _refuse_size(len(data), name, limits)


def check_file_size(path: Path, limits: Limits) -> None:
    """Refuse a file on disk larger than ``limits.max_bytes`` before a byte of it is read."""
    _refuse_size(path.stat().st_size, path.name, limits)


def _refuse_size(size: int, name: str, limits: Limits) -> None:
    if size > limits.max_bytes:
        raise ReadError(
            Diagnostic(
                "too-large",
                f"the file has {size:,} bytes, over the limit of {limits.max_bytes:,} "
                "bytes: nothing read",
                file=name,
            )
        )


def short_error(exc: BaseException) -> str:
    """An exception's message for a diagnostic: its text, at most 200 characters."""
    text = str(exc).strip() or type(exc).__name__
    return text if len(text) <= 200 else text[:200] + "..."


def check_archive(data: bytes, name: str, limits: Limits) -> None:
    """Refuse an XLSX whose parts expand beyond ``limits.max_expanded_bytes`` together, or
    one part of which expands more than ``limits.max_ratio`` times (a zip bomb), from the
    archive's directory alone (nothing is inflated). ``zipfile`` inflates a part to at most
    the size the directory declares, so a directory that lies cannot make the reader do
    more work than checked here."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            parts = archive.infolist()
    except Exception as exc:  # zipfile raises assorted errors on damaged archives
        raise ReadError(
            Diagnostic("xlsx", f"not a readable XLSX workbook: {short_error(exc)}", file=name)
        ) from exc
    expanded = sum(part.file_size for part in parts)
    if expanded > limits.max_expanded_bytes:
        raise ReadError(
            Diagnostic(
                "too-large",
                f"the workbook expands to {expanded:,} bytes, over the limit of "
                f"{limits.max_expanded_bytes:,} bytes: nothing read",
                file=name,
            )
        )
    for part in parts:
        if part.file_size < RATIO_FLOOR_BYTES:
            continue
        if part.file_size > limits.max_ratio * max(part.compress_size, 1):
            ratio = part.file_size // max(part.compress_size, 1)
            raise ReadError(
                Diagnostic(
                    "too-large",
                    f"part {part.filename} expands {ratio:,} times ({part.compress_size:,} to "
                    f"{part.file_size:,} bytes), over the limit of {limits.max_ratio:,} "
                    "times: not a spreadsheet's content; nothing read",
                    file=name,
                )
            )


def open_workbook(data: bytes, name: str, limits: Limits, *, data_only: bool = False) -> Workbook:
    """The workbook of ``data`` opened read-only (rows streamed, never all held), after
    :func:`check_size` and :func:`check_archive`."""
    check_size(data, name, limits)
    check_archive(data, name, limits)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about unsupported extensions
            return load_workbook(io.BytesIO(data), read_only=True, data_only=data_only)
    except Exception as exc:  # openpyxl raises assorted errors on damaged or foreign files
        raise ReadError(
            Diagnostic("xlsx", f"not a readable XLSX workbook: {short_error(exc)}", file=name)
        ) from exc


def cap_problems(
    problems: Sequence[Diagnostic], limit: int, file: str | None = None
) -> list[Diagnostic]:
    """The first ``limit`` problems, then one line saying how many more were found."""
    if len(problems) <= limit:
        return list(problems)
    more = len(problems) - limit
    return [
        *problems[:limit],
        Diagnostic(
            "more-problems",
            f"{more:,} more problems are not listed (the first {limit:,} are)",
            file=file if file is not None else problems[limit].file,
        ),
    ]


# -- rows -------------------------------------------------------------------------------------


def _blank(row: Sequence[Any], values_only: bool) -> bool:
    if values_only and row.count(None) == len(row):  # C speed: gaps, padding
        return True
    values = row if values_only else [cell.value for cell in row]
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in values)


def _too_many_rows(where: str, number: int, limits: Limits) -> ReadError:
    return ReadError(
        Diagnostic(
            "too-many-rows",
            f"more than {limits.max_rows:,} data rows below the header, over the limit: row "
            f"{number:,} holds a value; nothing read",
            file=where,
            row=number,
        )
    )


def _too_many_columns(where: str, number: int, limits: Limits) -> ReadError:
    return ReadError(
        Diagnostic(
            "too-many-columns",
            f"a value right of column {get_column_letter(limits.max_columns)}: more than "
            f"{limits.max_columns:,} columns, over the limit; nothing read",
            file=where,
            row=number,
            column=get_column_letter(limits.max_columns + 1),
        )
    )


def sheet_rows(
    sheet: Any,
    where: str,
    limits: Limits,
    *,
    values_only: bool = True,
    beyond: Literal["refuse", "ignore"] = "refuse",
) -> Iterator[tuple[int, tuple[Any, ...]]]:
    """(row number, values or read-only cells) of a worksheet opened read-only: row 1 and at
    most ``limits.max_rows`` rows below it, each at most ``limits.max_columns`` wide. A value
    right of that width refuses the file; past the last row, the first row that holds a value
    refuses it (``beyond="refuse"``) or reading stops (``"ignore"``). Blank rows past the
    limit are skipped (as many as the archive's expanded size can hold; the gap rows openpyxl
    fills in are recognised without looking at their cells)."""
    if not hasattr(sheet, "iter_rows"):
        raise ReadError(Diagnostic("sheet", "expected a sheet of cells, found a chart", file=where))
    last = limits.max_rows + 1
    wide = limits.max_columns
    stop = last if beyond == "ignore" else None
    # the sheet's declared dimension gives the width of its rows (openpyxl pads rows to it),
    # bounded by the limit; its row count is not trusted: the rows are counted here
    declared = sheet.max_column
    width = min(declared, wide + 1) if isinstance(declared, int) and declared > 0 else wide + 1
    sheet.reset_dimensions()
    rows = sheet.iter_rows(max_row=stop, max_col=width, values_only=values_only)
    known_blank: tuple[Any, ...] | None = None  # openpyxl yields one tuple for every gap row
    for number, cells in enumerate(rows, start=1):
        row = tuple(cells)
        if number > last:
            if row is known_blank or _blank(row, values_only):
                known_blank = row
                continue
            raise _too_many_rows(where, number, limits)
        if len(row) > wide:
            if not _blank(row[wide:], values_only):
                raise _too_many_columns(where, number, limits)
            row = row[:wide]
        yield number, row


def csv_rows(data: bytes, name: str, limits: Limits) -> tuple[list[tuple[str, ...]], str]:
    """The records of a CSV file as read (cells not stripped) and its encoding."""
    check_size(data, name, limits)
    text, encoding = _decode(data, name)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows: list[tuple[str, ...]] = []
    last = limits.max_rows + 1
    start = 1  # line where the row being read begins (a quoted cell may span lines)
    try:
        for number, row in enumerate(reader, start=1):
            if number > last:
                if any(row):
                    raise _too_many_rows(name, number, limits)
                continue
            if len(row) > limits.max_columns and any(row[limits.max_columns :]):
                raise _too_many_columns(name, number, limits)
            rows.append(tuple(row))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise ReadError(
            Diagnostic(
                "csv",
                f"malformed CSV in the row starting here: {exc} (expected every quoted cell "
                "to be closed on its row)",
                file=name,
                row=start,
            )
        ) from exc
    return rows, encoding


def _decode(data: bytes, name: str) -> tuple[str, str]:
    for encoding in ENCODINGS:
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise ReadError(
        Diagnostic("encoding", "cannot decode the file as UTF-8 or GBK/GB18030", file=name)
    )


def read_csv(path: Path, data: bytes, limits: Limits | None = None) -> Table:
    """A CSV file as a :class:`Table` (cells stripped; the header lower-cased), within
    ``limits`` (the bulk import's, :data:`~esgledger.ingest.limits.IMPORT`, by default)."""
    rows, encoding = csv_rows(data, path.name, limits or _limits.IMPORT)
    stripped = [tuple(cell.strip() for cell in row) for row in rows]
    return _table(path.name, None, stripped, encoding)


def _cell_text(value: object, strip: bool = True) -> str:
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
    return str(value).strip() if strip else str(value)


def sheet_names(path: Path, data: bytes, limits: Limits | None = None) -> list[str]:
    """The sheet names of an XLSX workbook, within ``limits``."""
    book = open_workbook(data, path.name, limits or _limits.IMPORT)
    try:
        return list(book.sheetnames)
    finally:
        book.close()


def xlsx_rows(
    data: bytes,
    name: str,
    sheet: str | None,
    limits: Limits,
    *,
    strip: bool = True,
    formulas: Literal["refuse", "values"] = "refuse",
) -> tuple[str, list[tuple[str, ...]]]:
    """(``name[sheet]``, the rows as text) of the sheet ``sheet`` (None: the first) of an
    XLSX workbook. ``formulas="refuse"``: a formula cell is a located error;
    ``"values"``: its cached value is read."""
    book = open_workbook(data, name, limits, data_only=formulas == "values")
    try:
        if sheet is not None and sheet not in book.sheetnames:
            raise ReadError(
                Diagnostic(
                    "sheet",
                    f"no sheet named {sheet!r}; the workbook has "
                    f"{', '.join(book.sheetnames)} (use the template from `esgledger template`)",
                    file=name,
                )
            )
        if sheet is None and not book.worksheets:
            raise ReadError(Diagnostic("sheet", "the workbook has no sheet", file=name))
        target = book[sheet] if sheet is not None else book.worksheets[0]
        where = f"{name}[{target.title}]"
        rows: list[tuple[str, ...]] = []
        for number, row in sheet_rows(target, where, limits):
            width = len(row)
            while width and row[width - 1] is None:  # padding to the sheet's width
                width -= 1
            if formulas == "refuse":
                _refuse_formula(row[:width], rows, where, number)
            rows.append(tuple(_cell_text(value, strip) for value in row[:width]))
    finally:
        book.close()
    return where, rows


def _refuse_formula(
    row: tuple[Any, ...], rows: list[tuple[str, ...]], where: str, number: int
) -> None:
    for col, value in enumerate(row):
        if isinstance(value, str) and value.startswith("="):
            raise ReadError(
                Diagnostic(
                    "formula",
                    f"formula cell {value!r}: enter the value, not a formula",
                    file=where,
                    row=number,
                    column=_column_name(rows, col),
                )
            )


def read_xlsx(path: Path, data: bytes, sheet: str, limits: Limits | None = None) -> Table:
    """The sheet ``sheet`` of an XLSX workbook as a :class:`Table` (formula cells refused),
    within ``limits`` (the bulk import's by default)."""
    where, rows = xlsx_rows(data, path.name, sheet, limits or _limits.IMPORT)
    return _table(where, sheet, rows, None)


def read_rows(
    data: bytes,
    name: str,
    limits: Limits,
    *,
    strip: bool = False,
    formulas: Literal["refuse", "values"] = "values",
) -> tuple[str, list[tuple[str, ...]]]:
    """(the file as diagnostics name it, its rows as text) of a CSV file, or of the first
    sheet of an XLSX workbook (a name ending in ``.xlsx``)."""
    if name.lower().endswith(".xlsx"):
        return xlsx_rows(data, name, None, limits, strip=strip, formulas=formulas)
    rows, _ = csv_rows(data, name, limits)
    if strip:
        rows = [tuple(cell.strip() for cell in row) for row in rows]
    return name, rows


def string_frame(rows: list[tuple[str, ...]], where: str) -> pd.DataFrame:
    """The rows below the header as a frame of strings, the header's cells naming the columns
    as pandas names them (an empty one ``Unnamed: <i>``, a repeated one ``<name>.1``).
    Blank rows after the last filled one are not rows (blank rows between filled ones stay:
    they keep the row numbers true); a value right of the header's last column is refused."""
    filled = [i for i, row in enumerate(rows) if any(cell.strip() for cell in row)]
    if not filled:
        raise ReadError(
            Diagnostic(
                "empty", "the file is empty: expected a header row and data rows", file=where, row=1
            )
        )
    header = rows[0]
    width = max((i + 1 for i, cell in enumerate(header) if cell.strip()), default=0)
    if width == 0:
        raise ReadError(
            Diagnostic(
                "header", "expected the header row in row 1, found an empty row", file=where, row=1
            )
        )
    body: list[tuple[str, ...]] = []
    for number, row in enumerate(rows[1 : filled[-1] + 1], start=2):
        extra = next((i for i, cell in enumerate(row[width:], start=width) if cell.strip()), None)
        if extra is not None:
            raise ReadError(
                Diagnostic(
                    "row-width",
                    f"a value in column {get_column_letter(extra + 1)}, right of the header's "
                    f"last column ({get_column_letter(width)}): give the column a "
                    "header, or clear the cell",
                    file=where,
                    row=number,
                    column=get_column_letter(extra + 1),
                )
            )
        body.append(tuple(row[:width]) + ("",) * (width - len(row)))
    return pd.DataFrame(body, columns=_pandas_names(header[:width]), dtype=object)


def _pandas_names(header: Sequence[str]) -> list[str]:
    names: list[str] = []
    seen: dict[str, int] = {}
    for index, cell in enumerate(header):
        name = cell if cell.strip() else f"Unnamed: {index}"
        if name in seen:
            seen[name] += 1
            name = f"{name}.{seen[name]}"
        else:
            seen[name] = 0
        names.append(name)
    return names


def _column_name(rows: list[tuple[str, ...]], index: int) -> str:
    """The header name of a column (the letter when the header row has none)."""
    header = rows[0] if rows else ()
    name = header[index].strip().lower() if index < len(header) else ""
    return name or get_column_letter(index + 1)


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
