"""The XLSX template of one data request, and the reading of a filled one.

:func:`request_template` writes the workbook a data owner downloads for a request: a sheet
``request`` with a header block (request, entity, year, due date, instructions) and one row
per metric (``metric_id``, name, unit, value, note, definition; only the unit, value and note
cells are unlocked), an instructions sheet, and a hidden ``_meta`` sheet (format version,
request id, entity, year, SHA-256 of the metric list) that ties an upload to its request.

:func:`read_request_upload` reads a filled template back, all or nothing: either every value
with no error, or no value and every error found as a located
:class:`~esgledger.domain.diagnostics.Diagnostic` (``file[sheet]:row:column: cell D12: ...``).
The bytes are checked before any parsing (size, zip signature, expanded size); formulas and
text that a spreadsheet would run as a formula are refused; every value is a number in a unit
that converts to the metric's unit (:mod:`esgledger.units`).
"""

from __future__ import annotations

import hashlib
import io
import math
import re
import warnings
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from esgledger.domain.diagnostics import Diagnostic, Severity, has_errors
from esgledger.metrics.catalogue import Aggregation, Metric, PeriodRule, load_catalogue
from esgledger.units import UnitError, conversion_factor, parse_unit

FORMAT_VERSION = "esgledger.request/1"
REQUEST_SHEET = "request"
META_SHEET = "_meta"
MAX_EXPANDED_BYTES = 100_000_000
"""Refuse a workbook whose parts expand beyond this (a zip bomb), before opening it."""
MAX_ROWS = 10_000
"""Rows read below the table header; a request has one row per metric."""
HEADER_SEARCH_ROWS = 40
FORMULA_PREFIXES = ("=", "+", "-", "@")
FORMULA_MESSAGE = "formulas are not accepted; type the value"

COLUMNS: tuple[str, ...] = ("metric_id", "name", "unit", "value", "note", "definition")
"""Columns of the table of sheet ``request``, in order."""
REQUIRED_COLUMNS: tuple[str, ...] = ("metric_id", "unit", "value", "note")
CHECKED_COLUMNS: tuple[str, ...] = ("metric_id", "unit", "value", "note")
"""Columns whose cells may not hold a formula."""

HEADERS: Mapping[str, Mapping[str, str]] = {
    "en": {
        "metric_id": "metric_id",
        "name": "name",
        "unit": "unit",
        "value": "value",
        "note": "note",
        "definition": "definition",
    },
    "zh": {
        "metric_id": "指标代码",
        "name": "指标名称",
        "unit": "单位",
        "value": "数值",
        "note": "备注",
        "definition": "定义",
    },
}

# Common spellings offered as alternatives to a metric's unit when they convert to it by a
# power of ten (MWh -> kWh, GWh, 万千瓦时; t -> kg; 10k CNY -> CNY, 100M CNY; L <-> m3).
COMMON_UNITS: tuple[str, ...] = (
    "kWh",
    "MWh",
    "GWh",
    "万千瓦时",
    "MJ",
    "GJ",
    "TJ",
    "kg",
    "t",
    "L",
    "m3",
    "kgCO2e",
    "tCO2e",
    "kgce",
    "tce",
    "CNY",
    "10k CNY",
    "100M CNY",
)
_LIST_MAX = 255  # Excel's limit for an inline list of a data validation

_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_GROUPED = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$")

_TEXT: Mapping[str, Mapping[str, str]] = {
    "en": {
        "title": "Data request {request_id}: {entity_name} ({entity_id}), {year}",
        "request": "request",
        "entity": "entity",
        "year": "year",
        "due": "due date",
        "none": "none",
        "instructions": "instructions",
        "short": (
            "Type a number in 'value' for each metric (leave it blank when there is no "
            "figure); choose the unit from the list. No formulas. Upload this file on the "
            "request page."
        ),
        "sheet": "instructions",
        "unit_error": "Choose a unit from the list.",
        "value_error": "Type a number (no formula).",
        "value_error_positive": "Type a number, zero or more (no formula).",
    },
    "zh": {
        "title": "数据填报请求 {request_id}：{entity_name}（{entity_id}），{year} 年度",
        "request": "请求编号",
        "entity": "填报主体",
        "year": "年度",
        "due": "截止日期",
        "none": "无",
        "instructions": "填报说明",
        "short": (
            "请在“数值”列填写每项指标的数值（无数据请留空），并从下拉列表选择单位。"
            "不接受公式。填好后在请求页面上传本文件。"
        ),
        "sheet": "填报说明",
        "unit_error": "请从列表中选择单位。",
        "value_error": "请输入数字（不接受公式）。",
        "value_error_positive": "请输入大于或等于零的数字（不接受公式）。",
    },
}

_INSTRUCTIONS: Mapping[str, tuple[str, ...]] = {
    "en": (
        "How to fill this template",
        "1. Sheet 'request' lists the metrics asked for request {request_id} "
        "({entity_name}, {entity_id}, year {year}).",
        "2. Type each figure in column 'value' as a number. Leave the cell blank when you have "
        "no figure: blank rows are skipped.",
        "3. The expected unit is filled in; you may choose another unit from the list (it is "
        "converted). A unit that does not convert to the expected one is refused.",
        "4. Formulas are refused, and so is text starting with = + - or @. Type the value "
        "itself (a negative number such as -5 is a number).",
        "5. 'note' is optional (source, estimate method). A note without a value is ignored.",
        "6. Do not add or rename sheets, and do not change the metric_id column: the upload is "
        "matched to the request by them.",
        "7. Upload the file on the request page. It is accepted whole or not at all; each "
        "problem is reported with its cell (e.g. request!D12).",
    ),
    "zh": (
        "填写说明",
        "1. “request”工作表列出了请求 {request_id}（{entity_name}，{entity_id}，"
        "{year} 年度）所需的全部指标。",
        "2. 请在“数值”列以数字形式填写每项数据；没有数据的请留空，空行将被跳过。",
        "3. 单位已按要求预先填写，也可从下拉列表中选择其他单位（系统会自动换算），"
        "无法换算为所需单位的单位将被拒绝。",
        "4. 不接受公式，也不接受以 = + - @ 开头的文本。请直接输入数值（负数如 -5 视为数字）。",
        "5. “备注”为选填（数据来源、估算方法等）。只有备注而没有数值的行将被忽略。",
        "6. 请勿新增或重命名工作表，也不要修改指标代码列：上传时依据它们匹配请求。",
        "7. 请在请求页面上传本文件。文件将整体接受或整体拒绝，每个问题都会注明单元格"
        "（例如 request!D12）。",
    ),
}


# --------------------------------------------------------------------------------- data types


@dataclass(frozen=True)
class RequestSheet:
    """What a template is generated for, and what an upload is checked against."""

    request_id: int
    entity_id: str
    entity_name: str
    year: int
    due_date: date | None
    metric_ids: tuple[str, ...]
    values: Mapping[str, tuple[float | None, str, str | None]] = field(
        default_factory=dict, hash=False
    )
    """Values already entered: metric_id -> (value, unit, note), prefilled in the sheet (left
    out of the hash, so that a request is hashable)."""


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


# ------------------------------------------------------------------------------------- units


def metrics_digest(metric_ids: Iterable[str]) -> str:
    """SHA-256 (hex) of a request's metric list, independent of order and repeats."""
    text = "\n".join(sorted(set(metric_ids)))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _factor(unit: str, target: str) -> float | None:
    try:
        return conversion_factor(unit, target)
    except UnitError:
        return None


def _power_of_ten(factor: float) -> bool:
    if factor <= 0:
        return False
    exponent = math.log10(factor)
    return abs(exponent - round(exponent)) < 1e-9


def _dimensionless(metric: Metric) -> bool:
    return bool(parse_unit(metric.unit).dimensionless)


def _accepted(unit: str, metric: Metric) -> bool:
    """Whether ``unit`` converts to the metric's unit, reading dimensionless units strictly
    (``%`` is not a ``count``: only a factor of exactly 1 is taken)."""
    factor = _factor(unit, metric.unit)
    if factor is None:
        return False
    return factor == 1.0 or not _dimensionless(metric)


def _labels(metric: Metric) -> tuple[str, ...]:
    return tuple(dict.fromkeys(x for x in (metric.unit_label, metric.unit_label_zh) if x))


def allowed_units(metric: Metric, lang: str = "en") -> tuple[str, ...]:
    """The units a template offers for a metric, the default first: the unit label of the
    language (``兆瓦时``, ``件``), the catalogue unit, and the common units that convert to it
    by a power of ten (``MWh``: ``kWh``, ``GWh``, ``万千瓦时``). A dimensionless unit gets no
    alternative (``%`` is not a ``count``)."""
    options = [metric.label(lang), metric.unit]
    if not _dimensionless(metric):
        for unit in COMMON_UNITS:
            factor = _factor(unit, metric.unit)
            if factor is not None and _power_of_ten(factor):
                options.append(unit)
    # a comma or quote cannot be in an inline list: such a label is accepted, not offered
    return tuple(dict.fromkeys(o for o in options if "," not in o and '"' not in o))


def _resolve_unit(typed: str, metric: Metric) -> str | None:
    """The unit to store for a typed unit, or None when it does not fit the metric.

    A unit label of the catalogue (``件``, ``points``) names the metric's own unit: when it does
    not itself convert by a factor of 1, the catalogue spelling is stored instead.
    """
    if typed == metric.unit or _accepted(typed, metric):
        return typed
    if typed in _labels(metric):
        return metric.unit
    return None


def _non_negative(metric: Metric) -> bool:
    """Quantities (summed, or flows and stocks) cannot be negative; rates and scores may."""
    return metric.aggregation is Aggregation.SUM or metric.period_rule is not PeriodRule.RATE


# ---------------------------------------------------------------------------------- template


def _put(sheet: Worksheet, row: int, column: int, value: object) -> Any:
    """Write a cell; text is always written as text, never as a formula."""
    cell = sheet.cell(row, column)
    cell.value = value  # type: ignore[assignment]
    if isinstance(value, str):
        cell.data_type = "s"
    return cell


def _safe_note(note: str | None) -> str | None:
    # a prefilled note that starts like a formula would be refused on upload: quote it
    if note and note.startswith(FORMULA_PREFIXES):
        return "'" + note
    return note


def _header_block(sheet: Worksheet, request: RequestSheet, lang: str) -> None:
    text = _TEXT[lang]
    fields = {
        "request_id": request.request_id,
        "entity_name": request.entity_name,
        "entity_id": request.entity_id,
        "year": request.year,
    }
    title = _put(sheet, 1, 1, text["title"].format(**fields))
    title.font = Font(bold=True, size=14)
    due = request.due_date.isoformat() if request.due_date else text["none"]
    rows = (
        (text["request"], request.request_id),
        (text["entity"], f"{request.entity_name} ({request.entity_id})"),
        (text["year"], request.year),
        (text["due"], due),
        (text["instructions"], text["short"]),
    )
    for number, (label, value) in enumerate(rows, start=2):
        _put(sheet, number, 1, label).font = Font(bold=True)
        cell = _put(sheet, number, 2, value)
        cell.alignment = Alignment(horizontal="left", wrap_text=label == text["instructions"])
    sheet.merge_cells(start_row=6, start_column=2, end_row=6, end_column=6)
    sheet.row_dimensions[6].height = 45


HEADER_ROW = 8


def _validations(sheet: Worksheet, lang: str) -> tuple[DataValidation, DataValidation]:
    text = _TEXT[lang]
    any_number = DataValidation(
        type="decimal",
        operator="between",
        formula1="-9.99E+307",
        formula2="9.99E+307",
        allow_blank=True,
        showErrorMessage=True,
        error=text["value_error"],
    )
    non_negative = DataValidation(
        type="decimal",
        operator="greaterThanOrEqual",
        formula1="0",
        allow_blank=True,
        showErrorMessage=True,
        error=text["value_error_positive"],
    )
    sheet.add_data_validation(any_number)
    sheet.add_data_validation(non_negative)
    return any_number, non_negative


def _unit_list(options: Sequence[str]) -> str:
    """The inline list formula of a unit validation, within Excel's 255 characters."""
    kept: list[str] = []
    for option in options:
        if len(",".join([*kept, option])) > _LIST_MAX:
            break
        kept.append(option)
    return '"' + ",".join(kept) + '"'


def _table(sheet: Worksheet, request: RequestSheet, metrics: Sequence[Metric], lang: str) -> None:
    headers = HEADERS[lang]
    fill = PatternFill("solid", fgColor="DDEBF7")
    for col, key in enumerate(COLUMNS, start=1):
        cell = _put(sheet, HEADER_ROW, col, headers[key])
        cell.font = Font(bold=True)
        cell.fill = fill
    any_number, non_negative = _validations(sheet, lang)
    unit_rules: dict[str, DataValidation] = {}
    editable = PatternFill("solid", fgColor="FFF2CC")
    unlocked = Protection(locked=False)
    for number, metric in enumerate(metrics, start=HEADER_ROW + 1):
        options = allowed_units(metric, lang)
        value, unit, note = request.values.get(metric.metric_id, (None, options[0], None))
        row = (
            metric.metric_id,
            metric.name(lang),
            unit or options[0],
            value,
            _safe_note(note),
            metric.definition,
        )
        for col, item in enumerate(row, start=1):
            cell = _put(sheet, number, col, item)
            if COLUMNS[col - 1] in ("unit", "value", "note"):
                cell.protection = unlocked
                cell.fill = editable
            if COLUMNS[col - 1] == "definition":
                cell.alignment = Alignment(wrap_text=False)
        value_cell = f"D{number}"
        (non_negative if _non_negative(metric) else any_number).add(value_cell)
        formula = _unit_list(options)
        if formula not in unit_rules:
            rule = DataValidation(
                type="list",
                formula1=formula,
                allow_blank=True,
                showErrorMessage=True,
                error=_TEXT[lang]["unit_error"],
            )
            sheet.add_data_validation(rule)
            unit_rules[formula] = rule
        unit_rules[formula].add(f"C{number}")
    for letter, width in zip("ABCDEF", (34, 36, 14, 16, 30, 80), strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = f"A{HEADER_ROW + 1}"
    protection = sheet.protection
    protection.sheet = True
    protection.formatColumns = False
    protection.formatRows = False


def _meta(book: Workbook, request: RequestSheet, lang: str) -> None:
    sheet = book.create_sheet(META_SHEET)
    rows: tuple[tuple[str, object], ...] = (
        ("format_version", FORMAT_VERSION),
        ("request_id", request.request_id),
        ("entity_id", request.entity_id),
        ("entity_name", request.entity_name),
        ("year", request.year),
        ("lang", lang),
        ("metric_count", len(request.metric_ids)),
        ("metrics_sha256", metrics_digest(request.metric_ids)),
    )
    for number, (key, value) in enumerate(rows, start=1):
        _put(sheet, number, 1, key)
        _put(sheet, number, 2, value)
    sheet.sheet_state = "hidden"
    sheet.protection.sheet = True


def _instructions(book: Workbook, request: RequestSheet, lang: str) -> None:
    sheet = book.create_sheet(_TEXT[lang]["sheet"])
    fields = {
        "request_id": request.request_id,
        "entity_name": request.entity_name,
        "entity_id": request.entity_id,
        "year": request.year,
    }
    for number, line in enumerate(_INSTRUCTIONS[lang], start=1):
        _put(sheet, number, 1, line.format(**fields))
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.column_dimensions["A"].width = 120


def request_template(request: RequestSheet, lang: str = "en") -> bytes:
    """The XLSX template of one data request, in English (``en``) or Chinese (``zh``).

    Raises :class:`ValueError` for another language, an empty or repeated metric list, or a
    metric that is not in the catalogue.
    """
    if lang not in _TEXT:
        raise ValueError(f"language {lang!r}: expected one of {', '.join(_TEXT)}")
    if not request.metric_ids:
        raise ValueError(f"request {request.request_id} asks for no metric")
    if len(set(request.metric_ids)) != len(request.metric_ids):
        raise ValueError(f"request {request.request_id} names a metric twice")
    catalogue = load_catalogue()
    unknown = [m for m in request.metric_ids if m not in catalogue]
    if unknown:
        raise ValueError(f"unknown metric(s) {', '.join(unknown)}")
    metrics = [catalogue.get(m) for m in request.metric_ids]
    book = Workbook()
    sheet = book.active
    assert isinstance(sheet, Worksheet)  # a new workbook has one worksheet
    sheet.title = REQUEST_SHEET
    _header_block(sheet, request, lang)
    _table(sheet, request, metrics, lang)
    _instructions(book, request, lang)
    _meta(book, request, lang)
    book.active = 0
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


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


def _check_bytes(data: bytes, file_name: str, max_bytes: int) -> None:
    if len(data) > max_bytes:
        raise _UploadError(
            Diagnostic(
                "upload.too_large",
                f"the file has {len(data):,} bytes, over the limit of {max_bytes:,}: expected "
                "the request's XLSX template (one row per metric)",
                file=file_name,
            )
        )
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


def _check_archive(data: bytes, file_name: str) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            expanded = sum(info.file_size for info in archive.infolist())
    except Exception as exc:  # zipfile raises assorted errors on damaged archives
        raise _UploadError(
            Diagnostic(
                "upload.not_xlsx",
                f"not an XLSX workbook: the zip archive is damaged ({_short(exc)}); expected "
                "the request's template saved as Excel Workbook (.xlsx)",
                file=file_name,
            )
        ) from exc
    if expanded > MAX_EXPANDED_BYTES:
        raise _UploadError(
            Diagnostic(
                "upload.too_large",
                f"the workbook expands to {expanded:,} bytes, over the limit of "
                f"{MAX_EXPANDED_BYTES:,}: expected the request's template",
                file=file_name,
            )
        )


def _short(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text if len(text) <= 200 else text[:200] + "..."


def _open(data: bytes, file_name: str) -> Workbook:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about unsupported extensions
            return load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises assorted errors on damaged or foreign files
        raise _UploadError(
            Diagnostic(
                "upload.not_xlsx",
                f"not a readable XLSX workbook ({_short(exc)}); expected the request's template "
                "saved as Excel Workbook (.xlsx)",
                file=file_name,
            )
        ) from exc


def _rows(book: Workbook, title: str, limit: int) -> Iterator[tuple[int, list[_Cell]]]:
    """(row number, cells) of a sheet, at most ``limit`` rows."""
    sheet = book[title]
    for number, row in enumerate(sheet.iter_rows(max_row=limit), start=1):
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


def _check_meta(book: Workbook, file_name: str, expected: RequestSheet) -> list[Diagnostic]:
    """Errors when the template is not the one of ``expected``; a warning when the request's
    metric list changed since the template was generated."""
    meta: dict[str, tuple[int, object]] = {}
    for number, cells in _rows(book, META_SHEET, 100):
        if cells and isinstance(cells[0].value, str) and len(cells) > 1:
            meta.setdefault(cells[0].value.strip(), (number, cells[1].value))
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
        unit = _resolve_unit(typed, metric)
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
        if number < 0 and _non_negative(metric):
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
    try:
        _check_bytes(data, file_name, max_bytes)
        _check_archive(data, file_name)
        book = _open(data, file_name)
    except _UploadError as exc:
        return [], [exc.diagnostic]
    try:
        return _read_book(book, file_name, expected)
    except _UploadError as exc:
        return [], [exc.diagnostic]
    except Exception as exc:  # a damaged part of the workbook found while reading it
        return [], [
            Diagnostic(
                "upload.not_xlsx",
                f"not a readable XLSX workbook ({_short(exc)}); expected the request's "
                "template saved as Excel Workbook (.xlsx)",
                file=file_name,
            )
        ]
    finally:
        book.close()


def _read_book(
    book: Workbook, file_name: str, expected: RequestSheet
) -> tuple[list[UploadedValue], list[Diagnostic]]:
    _check_sheets(book, file_name, expected)
    warnings_found = _check_meta(book, file_name, expected)
    rows = list(_rows(book, REQUEST_SHEET, HEADER_SEARCH_ROWS + MAX_ROWS + 1))
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
    problems = warnings_found + reader.problems
    if has_errors(problems):
        return [], problems
    return reader.values, problems
