"""The reading of a filled request template, all or nothing.

:func:`read_request_upload` reads back the workbook of
:mod:`esgledger.workflow.request_template`: either every value with no error, or no value and
every error found as a located :class:`~esgledger.domain.diagnostics.Diagnostic`
(``file[sheet]:row:column: cell D12: ...``). The file is read by the shared reader
(:mod:`esgledger.ingest.reader`) within the uploads' limits (:mod:`esgledger.ingest.limits`):
the bytes are checked before any parsing (size, zip signature, expanded size and compression
ratio of the parts), rows and columns are counted while reading, and at most
``max_problems`` located problems are listed; the hidden ``_meta`` sheet must name the
expected request;
formulas and text that a spreadsheet would run as a formula are refused; every value is a
number in a unit that converts to the metric's unit (:mod:`esgledger.units`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from decimal import Decimal
from typing import Literal

from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from esgledger.domain.diagnostics import Diagnostic, Severity, has_errors
from esgledger.ingest.limits import UPLOAD, Limits
from esgledger.ingest.reader import (
    ReadError,
    cap_problems,
    check_size,
    open_workbook,
    sheet_rows,
    short_error,
)
from esgledger.metrics.catalogue import Metric, load_catalogue
from esgledger.workflow.request_template import (
    COLUMNS,
    FORMAT_VERSION,
    FORMULA_PREFIXES,
    HEADERS,
    META_SHEET,
    REQUEST_SHEET,
    RequestSheet,
    allowed_units,
    metrics_digest,
    non_negative,
    resolve_unit,
)

MAX_EXPANDED_BYTES = UPLOAD.max_expanded_bytes
"""Refuse a workbook whose parts expand beyond this (a zip bomb), before opening it (the
uploads' limit of :mod:`esgledger.ingest.limits`)."""
MAX_ROWS = 10_000
"""Rows read below the table header; a request has one row per metric."""
META_ROWS = 100
"""Rows of the hidden ``_meta`` sheet read (the rest is not read)."""
HEADER_SEARCH_ROWS = 40
FORMULA_MESSAGE = "formulas are not accepted; type the value"
REQUIRED_COLUMNS: tuple[str, ...] = ("metric_id", "unit", "value", "note")
CHECKED_COLUMNS: tuple[str, ...] = ("metric_id", "unit", "value", "note")
"""Columns whose cells may not hold a formula."""

_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_GROUPED = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$")


@dataclass(frozen=True, slots=True)
class UploadedValue:
    """One figure read from an uploaded template."""

    metric_id: str
    value: float
    """The number in ``unit`` (not converted)."""
    value_text: str
    """The cell's text exactly as typed; for a number cell, the number written plainly."""
    unit: str
    """A unit that :func:`esgledger.units.conversion_factor` converts to the metric's unit."""
    note: str | None
    row: int
    """Row of sheet ``request`` (as the spreadsheet shows it)."""


# ------------------------------------------------------------------------------------ reading


@dataclass(frozen=True, slots=True)
class _Cell:
    value: object
    data_type: str
    address: str
    number_format: str

    @property
    def blank(self) -> bool:
        return self.value is None or (isinstance(self.value, str) and not self.value.strip())

    @property
    def is_formula(self) -> bool:
        if self.data_type == "f":
            return True
        return isinstance(self.value, str) and self.value.startswith(FORMULA_PREFIXES)

    def text(self) -> str:
        value = self.value
        if value is None:
            return ""
        if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return str(value).strip()


class _UploadError(Exception):
    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(str(diagnostic))
        self.diagnostic = diagnostic


_CODES: Mapping[str, str] = {
    "too-large": "upload.too_large",
    "too-many-rows": "upload.too_many_rows",
    "too-many-columns": "upload.too_many_columns",
    "xlsx": "upload.not_xlsx",
}


def _upload_error(exc: ReadError) -> _UploadError:
    """The shared reader's refusal as this upload's diagnostic."""
    found = exc.diagnostic
    code = _CODES.get(found.code, f"upload.{found.code}")
    message = found.message
    if code == "upload.not_xlsx":
        message += "; expected the request's template saved as Excel Workbook (.xlsx)"
    elif code == "upload.too_many_rows":
        message = (
            f"more than {MAX_ROWS:,} rows below the header: expected one row per metric of "
            "the request"
        )
    return _UploadError(replace(found, code=code, message=message))


def _limits(max_bytes: int) -> Limits:
    """The uploads' limits for a request template (read when called: tests change them)."""
    return UPLOAD.replace(
        max_bytes=max_bytes,
        max_expanded_bytes=MAX_EXPANDED_BYTES,
        max_rows=HEADER_SEARCH_ROWS + MAX_ROWS,
    )


def _check_bytes(data: bytes, file_name: str) -> None:
    if not data:
        raise _UploadError(
            Diagnostic(
                "upload.empty",
                "the file is empty: expected the request's XLSX template",
                file=file_name,
            )
        )
    if data.startswith(b"PK\x03\x04"):
        return
    if data.startswith(b"%PDF"):
        found = "a PDF document"
    elif data.startswith(b"\xd0\xcf\x11\xe0"):
        found = "an Excel 97-2003 (.xls) or other OLE file"
    else:
        found = "text or another format, not a zip archive"
    raise _UploadError(
        Diagnostic(
            "upload.not_xlsx",
            f"not an XLSX workbook: the file is {found}; expected the request's template saved "
            "as Excel Workbook (.xlsx)",
            file=file_name,
        )
    )


def _rows(
    book: Workbook, file_name: str, title: str, limits: Limits, *, ignore_beyond: bool = False
) -> Iterator[tuple[int, list[_Cell]]]:
    """(row number, cells) of a sheet, within ``limits`` (the shared reader: a value past
    the last row refuses the file, or is not read with ``ignore_beyond``)."""
    where = f"{file_name}[{title}]"
    beyond: Literal["refuse", "ignore"] = "ignore" if ignore_beyond else "refuse"
    for number, row in sheet_rows(book[title], where, limits, values_only=False, beyond=beyond):
        cells = []
        for col, cell in enumerate(row, start=1):
            cells.append(
                _Cell(
                    getattr(cell, "value", None),
                    str(getattr(cell, "data_type", "n") or "n"),
                    f"{get_column_letter(col)}{number}",
                    str(getattr(cell, "number_format", "General") or "General"),
                )
            )
        yield number, cells


def _check_sheets(book: Workbook, file_name: str, expected: RequestSheet) -> None:
    missing = [s for s in (REQUEST_SHEET, META_SHEET) if s not in book.sheetnames]
    if missing:
        raise _UploadError(
            Diagnostic(
                "upload.wrong_template",
                f"not a data request template: no sheet {' and no sheet '.join(map(repr, missing))}"
                f" (the workbook has {', '.join(map(repr, book.sheetnames)) or 'no sheet'}); "
                f"expected the template downloaded for request {expected.request_id}",
                file=file_name,
            )
        )


def _describe(request_id: object, entity: object, year: object) -> str:
    def shown(value: object) -> str:
        return "?" if value is None or value == "" else str(value)

    return f"request {shown(request_id)} (entity {shown(entity)}, {shown(year)})"


def _meta_int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _meta(book: Workbook, file_name: str, limits: Limits) -> dict[str, tuple[int, object]]:
    """(row, value) of each key of the first :data:`META_ROWS` rows of the ``_meta`` sheet."""
    meta: dict[str, tuple[int, object]] = {}
    first = limits.replace(max_rows=META_ROWS - 1)
    for number, cells in _rows(book, file_name, META_SHEET, first, ignore_beyond=True):
        if cells and isinstance(cells[0].value, str) and len(cells) > 1:
            meta.setdefault(cells[0].value.strip(), (number, cells[1].value))
    return meta


def _check_meta(
    book: Workbook, file_name: str, expected: RequestSheet, limits: Limits
) -> list[Diagnostic]:
    """Errors when the template is not the one of ``expected``; a warning when the request's
    metric list changed since the template was generated."""
    meta = _meta(book, file_name, limits)
    where = f"{file_name}[{META_SHEET}]"
    version = meta.get("format_version", (1, None))
    if version[1] != FORMAT_VERSION:
        raise _UploadError(
            Diagnostic(
                "upload.wrong_template",
                f"cell B{version[0]}: "
                + (
                    "no template format version"
                    if version[1] is None
                    else f"template format {version[1]!r} is not {FORMAT_VERSION!r}"
                )
                + f": expected the template downloaded for request {expected.request_id}",
                file=where,
                row=version[0],
                column="format_version",
            )
        )
    row_id, raw_id = meta.get("request_id", (2, None))
    row_entity, raw_entity = meta.get("entity_id", (3, None))
    row_year, raw_year = meta.get("year", (5, None))
    request_id, year = _meta_int(raw_id), _meta_int(raw_year)
    entity = None if raw_entity is None else str(raw_entity).strip()
    wanted = _describe(expected.request_id, expected.entity_id, expected.year)
    found = _describe(raw_id, entity, raw_year)
    checks = (
        ("request_id", row_id, request_id == expected.request_id, f"not {wanted}"),
        ("entity_id", row_entity, entity == expected.entity_id, f"not entity {expected.entity_id}"),
        ("year", row_year, year == expected.year, f"not year {expected.year}"),
    )
    for column, row, ok, message in checks:
        if not ok:
            raise _UploadError(
                Diagnostic(
                    "upload.wrong_template",
                    f"cell B{row}: this template is for {found}, {message}: download the "
                    f"template of request {expected.request_id}",
                    file=where,
                    row=row,
                    column=column,
                )
            )
    row_sha, digest = meta.get("metrics_sha256", (8, None))
    if digest != metrics_digest(expected.metric_ids):
        return [
            Diagnostic(
                "upload.metric_list_changed",
                f"cell B{row_sha}: the metric list of request {expected.request_id} changed "
                "since this template was downloaded; metrics added since are not in it "
                "(download the template again to fill them)",
                severity=Severity.WARNING,
                file=where,
                row=row_sha,
                column="metrics_sha256",
            )
        ]
    return []


_KNOWN_LABELS: Mapping[str, str] = {
    label.strip().lower(): key for headers in HEADERS.values() for key, label in headers.items()
}


def _find_header(rows: list[tuple[int, list[_Cell]]], file_name: str) -> dict[str, int]:
    """Column index (0-based) of every known column, from the header row."""
    where = f"{file_name}[{REQUEST_SHEET}]"
    for number, cells in rows[:HEADER_SEARCH_ROWS]:
        found: dict[str, int] = {}
        for index, cell in enumerate(cells):
            key = _KNOWN_LABELS.get(cell.text().lower()) if isinstance(cell.value, str) else None
            if key is not None:
                found.setdefault(key, index)
        if "metric_id" not in found:
            continue
        for key in REQUIRED_COLUMNS:
            if key not in found:
                raise _UploadError(
                    Diagnostic(
                        "upload.missing_column",
                        f"missing header column {key!r} ({HEADERS['zh'][key]}) in row {number}: "
                        f"expected the columns {', '.join(COLUMNS)} of the template",
                        file=where,
                        row=number,
                        column=key,
                    )
                )
        found["_row"] = number
        return found
    raise _UploadError(
        Diagnostic(
            "upload.missing_column",
            f"missing header column 'metric_id': no row of the first {HEADER_SEARCH_ROWS} has "
            f"the columns {', '.join(COLUMNS)} of the template",
            file=where,
            row=1,
            column="metric_id",
        )
    )


def _plain_number(value: object) -> str:
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    return str(value)


def _parse_numeric(cell: _Cell, number: float, percent_metric: bool) -> tuple[float, str] | str:
    """(value, value_text) of a number cell."""
    if not math.isfinite(number):
        return f"expected a finite number, found {cell.value!r}"
    if "%" not in cell.number_format:
        return number, _plain_number(cell.value)
    # typed as 12% in a percent-formatted cell: Excel stores 0.12
    if not percent_metric:
        return f"expected a number in the metric's unit, found a percentage ({cell.value!r})"
    percent = float(Decimal(repr(number)).scaleb(2))
    return percent, _plain_number(percent)


def _parse_number(cell: _Cell, percent_metric: bool) -> tuple[float, str] | str:
    """(value, value_text) of a value cell, or the message of why it is not a number."""
    value = cell.value
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return _parse_numeric(cell, float(value), percent_metric)
    if isinstance(value, str):
        raw = value.strip()
        plain = raw.replace(",", "") if _GROUPED.match(raw) else raw
        if _NUMBER.match(plain) and math.isfinite(float(plain)):
            return float(plain), value
        return f"expected a number, found {_quote(raw)}"
    if isinstance(value, bool):
        found = f"the logical value {str(value).upper()}"
    elif isinstance(value, datetime | date | time):
        found = f"the date or time {value.isoformat()}"
    elif cell.data_type == "e":
        found = f"the error value {value}"
    else:
        found = repr(value)
    return f"expected a number, found {found}"


def _quote(text: str) -> str:
    return repr(text if len(text) <= 60 else text[:60] + "...")


@dataclass
class _Reader:
    """Checks the data rows of sheet ``request``; collects diagnostics and values."""

    file_name: str
    expected: RequestSheet
    columns: Mapping[str, int]
    problems: list[Diagnostic] = field(default_factory=list)
    values: list[UploadedValue] = field(default_factory=list)
    seen: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.catalogue = load_catalogue()
        self.asked = frozenset(self.expected.metric_ids)

    def add(
        self, code: str, row: int, column: str, cell: str, message: str, warning: bool = False
    ) -> None:
        self.problems.append(
            Diagnostic(
                code,
                f"cell {cell}: {message}",
                severity=Severity.WARNING if warning else Severity.ERROR,
                file=f"{self.file_name}[{REQUEST_SHEET}]",
                row=row,
                column=column,
            )
        )

    def cell(self, cells: list[_Cell], key: str, row: int) -> _Cell:
        index = self.columns.get(key)
        if index is not None and index < len(cells):
            return cells[index]
        letter = get_column_letter((index or 0) + 1)
        return _Cell(None, "n", f"{letter}{row}", "General")

    def formulas(self, row: int, cells: Mapping[str, _Cell]) -> bool:
        found = False
        for key in CHECKED_COLUMNS:
            cell = cells[key]
            if not cell.is_formula:
                continue
            if key == "value" and cell.data_type != "f" and isinstance(cell.value, str):
                raw = cell.value.strip()
                if _NUMBER.match(raw) or _GROUPED.match(raw):
                    continue  # "-5" typed as text is a number, not a formula
            self.add(
                "upload.formula",
                row,
                key,
                cell.address,
                f"{FORMULA_MESSAGE} (found {_quote(str(cell.value))})",
            )
            found = True
        return found

    def metric(self, row: int, cell: _Cell) -> Metric | None:
        metric_id = cell.text()
        if not metric_id:
            self.add(
                "upload.no_metric",
                row,
                "metric_id",
                cell.address,
                "a value without a metric_id: expected the metric_id of the template's row",
            )
            return None
        if metric_id not in self.catalogue:
            self.add(
                "upload.unknown_metric",
                row,
                "metric_id",
                cell.address,
                f"unknown metric {_quote(metric_id)}: expected a metric_id of the template",
            )
            return None
        if metric_id not in self.asked:
            self.add(
                "upload.not_requested",
                row,
                "metric_id",
                cell.address,
                f"metric {metric_id} is not asked for in request {self.expected.request_id}",
            )
            return None
        if metric_id in self.seen:
            self.add(
                "upload.duplicate",
                row,
                "metric_id",
                cell.address,
                f"metric {metric_id} is already given in row {self.seen[metric_id]}: expected "
                "one row per metric",
            )
            return None
        self.seen[metric_id] = row
        return self.catalogue.get(metric_id)

    def unit(self, row: int, cell: _Cell, metric: Metric) -> str | None:
        typed = cell.text()
        if not typed:
            self.add(
                "upload.no_unit",
                row,
                "unit",
                cell.address,
                f"no unit: the value is read in the expected unit {metric.unit}",
                warning=True,
            )
            return metric.unit
        unit = resolve_unit(typed, metric)
        if unit is None:
            allowed = ", ".join(allowed_units(metric, "en"))
            self.add(
                "upload.unit",
                row,
                "unit",
                cell.address,
                f"unit {_quote(typed)} does not convert to {metric.unit} (the unit of "
                f"{metric.metric_id}): expected one of {allowed}",
            )
        return unit

    def figure(self, row: int, cells: Mapping[str, _Cell], metric: Metric) -> None:
        """Check the value and unit of a row of a requested metric; keep the figure."""
        parsed = _parse_number(cells["value"], metric.is_percentage)
        if isinstance(parsed, str):
            self.add("upload.not_a_number", row, "value", cells["value"].address, parsed)
            return
        number, text = parsed
        if number < 0 and non_negative(metric):
            self.add(
                "upload.negative",
                row,
                "value",
                cells["value"].address,
                f"{text.strip()} is negative: {metric.metric_id} is a quantity, expected zero "
                "or more",
            )
            return
        unit = self.unit(row, cells["unit"], metric)
        if unit is not None:
            note = cells["note"].text() or None
            self.values.append(UploadedValue(metric.metric_id, number, text, unit, note, row))

    def row(self, row: int, raw: list[_Cell]) -> None:
        cells = {key: self.cell(raw, key, row) for key in CHECKED_COLUMNS}
        if all(c.blank for c in cells.values()) or self.formulas(row, cells):
            return
        if cells["value"].blank:
            if not cells["note"].blank:
                self.add(
                    "upload.note_without_value",
                    row,
                    "note",
                    cells["note"].address,
                    "a note without a value is ignored: type the value, or clear the note",
                    warning=True,
                )
            return
        metric = self.metric(row, cells["metric_id"])
        if metric is not None:
            self.figure(row, cells, metric)


def read_request_upload(
    data: bytes, file_name: str, expected: RequestSheet, *, max_bytes: int = 5_000_000
) -> tuple[list[UploadedValue], list[Diagnostic]]:
    """The values of a filled request template, all or nothing.

    Returns ``(values, diagnostics)``; when any diagnostic is an error, ``values`` is empty.
    Blank value rows are skipped; warnings (a note without a value, a blank unit, a metric
    list changed since download) do not stop the values.
    """
    limits = _limits(max_bytes)
    try:
        check_size(data, file_name, limits)  # the size decides before anything is looked at
        _check_bytes(data, file_name)
        book = open_workbook(data, file_name, limits)
    except ReadError as exc:
        return [], [_upload_error(exc).diagnostic]
    except _UploadError as exc:
        return [], [exc.diagnostic]
    try:
        return _read_book(book, file_name, expected, limits)
    except ReadError as exc:
        return [], [_upload_error(exc).diagnostic]
    except _UploadError as exc:
        return [], [exc.diagnostic]
    except Exception as exc:  # a damaged part of the workbook found while reading it
        return [], [
            Diagnostic(
                "upload.not_xlsx",
                f"not a readable XLSX workbook ({short_error(exc)}); expected the request's "
                "template saved as Excel Workbook (.xlsx)",
                file=file_name,
            )
        ]
    finally:
        book.close()


def _read_book(
    book: Workbook, file_name: str, expected: RequestSheet, limits: Limits
) -> tuple[list[UploadedValue], list[Diagnostic]]:
    _check_sheets(book, file_name, expected)
    warnings_found = _check_meta(book, file_name, expected, limits)
    rows = list(_rows(book, file_name, REQUEST_SHEET, limits))
    columns = _find_header(rows, file_name)
    header_row = columns.pop("_row")
    reader = _Reader(file_name, expected, columns)
    for number, cells in rows:
        if number <= header_row:
            continue
        if number > header_row + MAX_ROWS:
            if any(not c.blank for c in cells):
                raise _UploadError(
                    Diagnostic(
                        "upload.too_many_rows",
                        f"more than {MAX_ROWS:,} rows below the header: expected one row per "
                        "metric of the request",
                        file=f"{file_name}[{REQUEST_SHEET}]",
                        row=number,
                    )
                )
            continue
        reader.row(number, cells)
    problems = cap_problems(
        warnings_found + reader.problems, limits.max_problems, f"{file_name}[{REQUEST_SHEET}]"
    )
    if has_errors(problems):
        return [], problems
    return reader.values, problems
