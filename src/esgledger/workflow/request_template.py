"""The XLSX template of one data request, and the units it offers for each metric.

:func:`request_template` writes the workbook a data owner downloads for a request: a sheet
``request`` with a header block (request, entity, year, due date, instructions) and one row
per metric (``metric_id``, name, unit, value, note, definition; only the unit, value and note
cells are unlocked), an instructions sheet, and a hidden ``_meta`` sheet (format version,
request id, entity, year, SHA-256 of the metric list) that ties an upload to its request. The
layout constants (sheet names, columns, headers in both languages), :class:`RequestSheet` and
the unit rules (:func:`allowed_units`, :func:`resolve_unit`, :func:`non_negative`) are shared
with the reader of a filled template, :mod:`esgledger.workflow.request_upload`.
"""

from __future__ import annotations

import hashlib
import io
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from esgledger.metrics.catalogue import Aggregation, Metric, PeriodRule, load_catalogue
from esgledger.units import UnitError, conversion_factor, parse_unit

FORMAT_VERSION = "esgledger.request/1"
REQUEST_SHEET = "request"
META_SHEET = "_meta"
FORMULA_PREFIXES = ("=", "+", "-", "@")

COLUMNS: tuple[str, ...] = ("metric_id", "name", "unit", "value", "note", "definition")
"""Columns of the table of sheet ``request``, in order."""

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


def resolve_unit(typed: str, metric: Metric) -> str | None:
    """The unit to store for a typed unit, or None when it does not fit the metric.

    A unit label of the catalogue (``件``, ``points``) names the metric's own unit: when it does
    not itself convert by a factor of 1, the catalogue spelling is stored instead.
    """
    if typed == metric.unit or _accepted(typed, metric):
        return typed
    if typed in _labels(metric):
        return metric.unit
    return None


def non_negative(metric: Metric) -> bool:
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
    zero_or_more = DataValidation(
        type="decimal",
        operator="greaterThanOrEqual",
        formula1="0",
        allow_blank=True,
        showErrorMessage=True,
        error=text["value_error_positive"],
    )
    sheet.add_data_validation(any_number)
    sheet.add_data_validation(zero_or_more)
    return any_number, zero_or_more


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
    any_number, zero_or_more = _validations(sheet, lang)
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
        (zero_or_more if non_negative(metric) else any_number).add(value_cell)
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
