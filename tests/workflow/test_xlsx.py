"""The XLSX template of a data request and the reading of a filled one (all or nothing)."""

from __future__ import annotations

import io
import math
import zipfile
from collections.abc import Callable
from datetime import date
from functools import cache

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from esgledger.domain.diagnostics import Diagnostic, Severity
from esgledger.metrics import load_catalogue
from esgledger.units import conversion_factor
from esgledger.workflow import request_upload
from esgledger.workflow.request_template import (
    COLUMNS,
    FORMAT_VERSION,
    HEADER_ROW,
    HEADERS,
    RequestSheet,
    allowed_units,
    metrics_digest,
    request_template,
    resolve_unit,
)
from esgledger.workflow.request_upload import UploadedValue, read_request_upload

IDS = (
    "energy.electricity_purchased",  # MWh, sum
    "energy.gasoline",  # L, sum
    "waste.hazardous",  # t, sum
    "governance.board_size",  # persons, none, stock
    "supply.suppliers",  # count labelled companies / 家
    "customer.satisfaction_score",  # dimensionless rate (may be negative)
    "workforce.turnover_rate",  # %
)
REQUEST = RequestSheet(
    request_id=9,
    entity_id="E05",
    entity_name="广州子公司",
    year=2024,
    due_date=date(2025, 3, 31),
    metric_ids=IDS,
    values={},
)
FILE = "upload.xlsx"
WHERE = f"{FILE}[request]"


@cache
def template_bytes(lang: str = "en", request: RequestSheet = REQUEST) -> bytes:
    return request_template(request, lang)


def book_of(lang: str = "en", request: RequestSheet = REQUEST) -> Workbook:
    return load_workbook(io.BytesIO(template_bytes(lang, request)))


def sheet_of(book: Workbook) -> Worksheet:
    sheet = book["request"]
    assert isinstance(sheet, Worksheet)
    return sheet


def row_of(sheet: Worksheet, metric_id: str) -> int:
    for row in range(HEADER_ROW + 1, sheet.max_row + 1):
        if sheet.cell(row, 1).value == metric_id:
            return row
    raise AssertionError(metric_id)


def to_bytes(book: Workbook) -> bytes:
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def upload(
    fill: Callable[[Worksheet], None], lang: str = "en", request: RequestSheet = REQUEST
) -> tuple[list[UploadedValue], list[Diagnostic]]:
    book = book_of(lang, request)
    fill(sheet_of(book))
    return read_request_upload(to_bytes(book), FILE, REQUEST)


def errors(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    return [d for d in diagnostics if d.severity is Severity.ERROR]


def one_error(result: tuple[list[UploadedValue], list[Diagnostic]], code: str) -> Diagnostic:
    values, diagnostics = result
    found = errors(diagnostics)
    assert values == [], values
    assert len(found) == 1, [str(d) for d in diagnostics]
    assert found[0].code == code, str(found[0])
    return found[0]


def set_text(sheet: Worksheet, address: str, text: str) -> None:
    """A string cell as a user types it with a leading apostrophe (never a formula)."""
    cell = sheet[address]
    cell.value = text
    cell.data_type = "s"


# ----------------------------------------------------------------------------- the template


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_template_structure(lang: str) -> None:
    book = book_of(lang)
    assert book.sheetnames[0] == "request"
    assert "_meta" in book.sheetnames
    assert book["_meta"].sheet_state == "hidden"
    assert len(book.sheetnames) == 3  # request, instructions, _meta
    sheet = sheet_of(book)
    assert sheet.protection.sheet
    catalogue = load_catalogue()
    headers = [sheet.cell(HEADER_ROW, c).value for c in range(1, 7)]
    assert headers == [HEADERS[lang][k] for k in COLUMNS]
    for metric_id in IDS:
        row = row_of(sheet, metric_id)
        metric = catalogue.get(metric_id)
        assert sheet.cell(row, 2).value == metric.name(lang)
        assert sheet.cell(row, 3).value == allowed_units(metric, lang)[0]
        assert sheet.cell(row, 6).value == metric.definition
        assert sheet.cell(row, 1).protection.locked
        assert sheet.cell(row, 2).protection.locked
        for col in (3, 4, 5):
            assert not sheet.cell(row, col).protection.locked
    meta = {r[0]: r[1] for r in book["_meta"].iter_rows(values_only=True)}
    assert meta["format_version"] == FORMAT_VERSION
    assert meta["request_id"] == 9
    assert meta["entity_id"] == "E05"
    assert meta["year"] == 2024
    assert meta["metrics_sha256"] == metrics_digest(IDS)
    header = [sheet.cell(r, 2).value for r in range(2, 6)]
    assert header == [9, "广州子公司 (E05)", 2024, "2025-03-31"]


def test_template_languages() -> None:
    en, zh = sheet_of(book_of("en")), sheet_of(book_of("zh"))
    row = row_of(en, "energy.electricity_purchased")
    assert en.cell(row, 2).value == "purchased electricity"
    assert zh.cell(row, 2).value == "外购电力"
    assert en.cell(row, 3).value == "MWh"
    assert zh.cell(row, 3).value == "兆瓦时"
    assert "填报说明" in book_of("zh").sheetnames
    assert "instructions" in book_of("en").sheetnames


def test_template_data_validations() -> None:
    sheet = sheet_of(book_of())
    rules = sheet.data_validations.dataValidation
    electricity = row_of(sheet, "energy.electricity_purchased")
    unit_rule = next(r for r in rules if f"C{electricity}" in r.sqref)
    assert unit_rule.type == "list"
    assert unit_rule.formula1 == '"MWh,kWh,GWh,万千瓦时"'
    value_rule = next(r for r in rules if f"D{electricity}" in r.sqref)
    assert value_rule.type == "decimal"
    assert value_rule.operator == "greaterThanOrEqual"
    score = row_of(sheet, "customer.satisfaction_score")
    assert next(r for r in rules if f"D{score}" in r.sqref).operator == "between"


def test_allowed_units() -> None:
    catalogue = load_catalogue()
    assert allowed_units(catalogue.get("energy.electricity_purchased")) == (
        "MWh",
        "kWh",
        "GWh",
        "万千瓦时",
    )
    assert "kg" in allowed_units(catalogue.get("waste.hazardous"))
    assert allowed_units(catalogue.get("workforce.turnover_rate")) == ("%",)
    assert allowed_units(catalogue.get("supply.suppliers"), "zh") == ("家", "count")
    for metric in catalogue:
        for unit in allowed_units(metric, "zh") + allowed_units(metric, "en"):
            assert "," not in unit
            assert resolve_unit(unit, metric) is not None, (metric.metric_id, unit)


def test_template_refuses_unknown_metric_and_language() -> None:
    with pytest.raises(ValueError, match="unknown metric"):
        request_template(RequestSheet(1, "E01", "x", 2024, None, ("energy.nope",), {}))
    with pytest.raises(ValueError, match="language"):
        request_template(REQUEST, "fr")
    with pytest.raises(ValueError, match="twice"):
        request_template(RequestSheet(1, "E01", "x", 2024, None, IDS[:1] * 2, {}))


def test_entity_name_is_never_a_formula() -> None:
    request = RequestSheet(3, "E01", '=HYPERLINK("http://evil","x")', 2024, None, IDS, {})
    sheet = sheet_of(load_workbook(io.BytesIO(request_template(request))))
    for row in sheet.iter_rows():
        for cell in row:
            assert cell.data_type != "f", cell.coordinate


# ------------------------------------------------------------------------------ round trips


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_round_trip(lang: str) -> None:
    def fill(sheet: Worksheet) -> None:
        r = row_of(sheet, "energy.electricity_purchased")
        sheet[f"D{r}"] = 1234.5
        sheet[f"C{r}"] = "kWh"
        sheet[f"E{r}"] = "meter readings, 12 months"
        sheet[f"D{row_of(sheet, 'energy.gasoline')}"] = "12,345.6"
        sheet[f"D{row_of(sheet, 'governance.board_size')}"] = 9
        sheet[f"D{row_of(sheet, 'supply.suppliers')}"] = 120
        sheet[f"D{row_of(sheet, 'customer.satisfaction_score')}"] = "-1.5"
        sheet[f"D{row_of(sheet, 'workforce.turnover_rate')}"] = 12.34
        # waste.hazardous left blank: skipped

    values, diagnostics = upload(fill, lang)
    assert diagnostics == []
    sheet = sheet_of(book_of(lang))
    label = {m: sheet.cell(row_of(sheet, m), 3).value for m in IDS}
    row = {m: row_of(sheet, m) for m in IDS}
    expected = [
        UploadedValue(
            "energy.electricity_purchased",
            1234.5,
            "1234.5",
            "kWh",
            "meter readings, 12 months",
            row["energy.electricity_purchased"],
        ),
        UploadedValue(
            "energy.gasoline",
            12345.6,
            "12,345.6",
            str(label["energy.gasoline"]),
            None,
            row["energy.gasoline"],
        ),
        UploadedValue(
            "governance.board_size",
            9.0,
            "9",
            str(label["governance.board_size"]),
            None,
            row["governance.board_size"],
        ),
        UploadedValue("supply.suppliers", 120.0, "120", "count", None, row["supply.suppliers"]),
        UploadedValue(
            "customer.satisfaction_score",
            -1.5,
            "-1.5",
            "dimensionless",
            None,
            row["customer.satisfaction_score"],
        ),
        UploadedValue(
            "workforce.turnover_rate", 12.34, "12.34", "%", None, row["workforce.turnover_rate"]
        ),
    ]
    assert values == expected
    catalogue = load_catalogue()
    for value in values:  # the contract with the caller: the unit converts
        conversion_factor(value.unit, catalogue.get(value.metric_id).unit)


def test_prefilled_values_come_back_unchanged() -> None:
    request = RequestSheet(
        9,
        "E05",
        "x",
        2024,
        None,
        IDS,
        {
            "energy.gasoline": (250.0, "m3", "- estimated from fuel cards"),
            "governance.board_size": (7.0, "persons", None),
            "energy.electricity_purchased": (None, "kWh", None),
        },
    )
    values, diagnostics = read_request_upload(request_template(request), FILE, request)
    assert diagnostics == []
    by_id = {v.metric_id: v for v in values}
    assert set(by_id) == {"energy.gasoline", "governance.board_size"}
    assert by_id["energy.gasoline"].value == 250.0
    assert by_id["energy.gasoline"].unit == "m3"
    assert by_id["energy.gasoline"].note == "'- estimated from fuel cards"
    assert by_id["governance.board_size"].value_text == "7"


def test_untouched_template_has_no_value_and_no_problem() -> None:
    assert read_request_upload(template_bytes(), FILE, REQUEST) == ([], [])


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    # Excel keeps 15 significant digits; openpyxl writes 16
    number=st.floats(min_value=0, max_value=1e12, allow_nan=False, allow_infinity=False).map(
        lambda x: float(f"{x:.15g}")
    )
    | st.integers(min_value=0, max_value=10**12),
    as_text=st.booleans(),
)
def test_any_number_round_trips(number: float, as_text: bool) -> None:
    def fill(sheet: Worksheet) -> None:
        cell = sheet[f"D{row_of(sheet, 'energy.electricity_purchased')}"]
        cell.value = repr(number) if as_text else number
        if as_text:
            cell.data_type = "s"

    values, diagnostics = upload(fill)
    assert diagnostics == []
    [value] = values
    assert value.value == float(number)
    assert float(value.value_text) == float(number)
    if as_text:
        assert value.value_text == repr(number)


def test_percent_formatted_cell_is_a_percentage() -> None:
    def fill(sheet: Worksheet) -> None:
        cell = sheet[f"D{row_of(sheet, 'workforce.turnover_rate')}"]
        cell.value = 0.1234
        cell.number_format = "0.00%"

    values, diagnostics = upload(fill)
    assert diagnostics == []
    assert (values[0].value, values[0].value_text, values[0].unit) == (12.34, "12.34", "%")


def test_note_without_value_is_a_warning() -> None:
    def fill(sheet: Worksheet) -> None:
        sheet[f"E{row_of(sheet, 'waste.hazardous')}"] = "no hazardous waste this year"
        sheet[f"D{row_of(sheet, 'energy.gasoline')}"] = 10

    values, diagnostics = upload(fill)
    assert [v.metric_id for v in values] == ["energy.gasoline"]
    [warning] = diagnostics
    assert warning.severity is Severity.WARNING
    assert warning.code == "upload.note_without_value"
    assert warning.column == "note"


def test_changed_metric_list_is_a_warning() -> None:
    older = RequestSheet(9, "E05", "x", 2024, None, IDS[:2], {})
    book = book_of("en", older)
    sheet = sheet_of(book)
    sheet[f"D{row_of(sheet, 'energy.gasoline')}"] = 10
    values, diagnostics = read_request_upload(to_bytes(book), FILE, REQUEST)
    assert [v.metric_id for v in values] == ["energy.gasoline"]
    assert [d.code for d in diagnostics] == ["upload.metric_list_changed"]
    assert diagnostics[0].severity is Severity.WARNING


# ------------------------------------------------------------------------- cell-level errors


def test_hyperlink_formula_is_refused() -> None:
    def fill(sheet: Worksheet) -> None:
        r = row_of(sheet, "energy.gasoline")
        sheet[f"D{r}"] = '=HYPERLINK("http://evil","x")'
        assert sheet[f"D{r}"].data_type == "f"
        sheet[f"D{row_of(sheet, 'governance.board_size')}"] = 5  # valid, still not returned

    error = one_error(upload(fill), "upload.formula")
    r = row_of(sheet_of(book_of()), "energy.gasoline")
    assert (error.file, error.row, error.column) == (WHERE, r, "value")
    assert f"cell D{r}: formulas are not accepted; type the value" in error.message
    assert str(error).startswith(f"{WHERE}:{r}:value: cell D{r}: formulas are not accepted")


@pytest.mark.parametrize(
    ("column", "letter", "text"),
    [
        ("note", "E", "=1+2"),
        ("note", "E", "+cmd|' /C calc'!A0"),
        ("note", "E", "-2+3"),
        ("note", "E", "@SUM(A1:A2)"),
        ("unit", "C", "=A1"),
        ("unit", "C", "@kWh"),
        ("value", "D", "=5"),
        ("value", "D", "+5+5"),
        ("value", "D", "-abc"),
        ("value", "D", "@5"),
    ],
)
def test_text_that_starts_like_a_formula_is_refused(column: str, letter: str, text: str) -> None:
    def fill(sheet: Worksheet) -> None:
        r = row_of(sheet, "energy.electricity_purchased")
        sheet[f"D{r}"] = 10
        set_text(sheet, f"{letter}{r}", text)

    error = one_error(upload(fill), "upload.formula")
    r = row_of(sheet_of(book_of()), "energy.electricity_purchased")
    assert (error.row, error.column) == (r, column)
    assert f"cell {letter}{r}" in error.message


def test_formula_in_note_is_refused() -> None:
    def fill(sheet: Worksheet) -> None:
        r = row_of(sheet, "energy.electricity_purchased")
        sheet[f"D{r}"] = 10
        sheet[f"E{r}"] = '=HYPERLINK("http://evil","click")'

    error = one_error(upload(fill), "upload.formula")
    assert error.column == "note"


def test_negative_number_typed_as_text_is_a_number() -> None:
    def fill(sheet: Worksheet) -> None:
        set_text(sheet, f"D{row_of(sheet, 'customer.satisfaction_score')}", "-5")

    values, diagnostics = upload(fill)
    assert diagnostics == []
    assert (values[0].value, values[0].value_text) == (-5.0, "-5")


@pytest.mark.parametrize("value", [-5, "-5", -0.5])
def test_negative_quantity_is_refused(value: float | str) -> None:
    def fill(sheet: Worksheet) -> None:
        sheet[f"D{row_of(sheet, 'energy.electricity_purchased')}"] = value

    error = one_error(upload(fill), "upload.negative")
    r = row_of(sheet_of(book_of()), "energy.electricity_purchased")
    assert (error.row, error.column) == (r, "value")
    assert f"cell D{r}" in error.message
    assert "expected zero or more" in error.message


@pytest.mark.parametrize(
    ("value", "found"),
    [
        ("twelve", "'twelve'"),
        ("1.2.3", "'1.2.3'"),
        ("1.234,5", "'1.234,5'"),
        ("12 MWh", "'12 MWh'"),
        ("nan", "'nan'"),
        (True, "the logical value TRUE"),
        (date(2024, 1, 1), "the date or time 2024-01-01"),
    ],
)
def test_value_that_is_not_a_number(value: str | bool | date, found: str) -> None:
    def fill(sheet: Worksheet) -> None:
        sheet[f"D{row_of(sheet, 'energy.electricity_purchased')}"] = value

    error = one_error(upload(fill), "upload.not_a_number")
    r = row_of(sheet_of(book_of()), "energy.electricity_purchased")
    assert (error.row, error.column) == (r, "value")
    assert f"expected a number, found {found}" in error.message


def test_unit_that_does_not_convert() -> None:
    def fill(sheet: Worksheet) -> None:
        r = row_of(sheet, "energy.electricity_purchased")
        sheet[f"D{r}"] = 10
        sheet[f"C{r}"] = "kg"

    error = one_error(upload(fill), "upload.unit")
    r = row_of(sheet_of(book_of()), "energy.electricity_purchased")
    assert (error.row, error.column) == (r, "unit")
    assert f"cell C{r}: unit 'kg' does not convert to MWh" in error.message
    assert "kWh" in error.message


def test_percentage_unit_is_not_a_count() -> None:
    def fill(sheet: Worksheet) -> None:
        r = row_of(sheet, "supply.suppliers")
        sheet[f"D{r}"] = 10
        sheet[f"C{r}"] = "%"

    assert one_error(upload(fill), "upload.unit").column == "unit"


def test_unknown_metric() -> None:
    def fill(sheet: Worksheet) -> None:
        r = row_of(sheet, "energy.gasoline")
        sheet[f"A{r}"] = "energy.unobtainium"
        sheet[f"D{r}"] = 10

    error = one_error(upload(fill), "upload.unknown_metric")
    r = row_of(sheet_of(book_of()), "energy.gasoline")
    assert (error.row, error.column) == (r, "metric_id")
    assert f"cell A{r}: unknown metric 'energy.unobtainium'" in error.message


def test_metric_not_in_the_request() -> None:
    def fill(sheet: Worksheet) -> None:
        r = row_of(sheet, "energy.gasoline")
        sheet[f"A{r}"] = "energy.natural_gas"
        sheet[f"D{r}"] = 10

    error = one_error(upload(fill), "upload.not_requested")
    assert "energy.natural_gas is not asked for in request 9" in error.message


def test_duplicate_metric_rows() -> None:
    def fill(sheet: Worksheet) -> None:
        r = row_of(sheet, "energy.gasoline")
        sheet[f"D{r}"] = 10
        extra = sheet.max_row + 1
        sheet[f"A{extra}"] = "energy.gasoline"
        sheet[f"C{extra}"] = "L"
        sheet[f"D{extra}"] = 11

    error = one_error(upload(fill), "upload.duplicate")
    sheet = sheet_of(book_of())
    first, extra = row_of(sheet, "energy.gasoline"), sheet.max_row + 1
    assert (error.row, error.column) == (extra, "metric_id")
    assert f"already given in row {first}" in error.message


def test_value_without_metric_id() -> None:
    def fill(sheet: Worksheet) -> None:
        sheet[f"D{sheet.max_row + 1}"] = 10

    assert one_error(upload(fill), "upload.no_metric").column == "metric_id"


def test_all_or_nothing() -> None:
    def fill(sheet: Worksheet) -> None:
        sheet[f"D{row_of(sheet, 'energy.gasoline')}"] = 10
        sheet[f"D{row_of(sheet, 'governance.board_size')}"] = "nine"

    values, diagnostics = upload(fill)
    assert values == []
    assert len(errors(diagnostics)) == 1


# ------------------------------------------------------------------------- file-level errors


def test_oversized_input_is_refused_before_parsing() -> None:
    data = template_bytes()
    error = one_error(read_request_upload(data, FILE, REQUEST, max_bytes=1000), "upload.too_large")
    assert error.file == FILE
    assert "over the limit of 1,000" in error.message
    garbage = b"x" * 2000  # not parsed: the size decides
    one_error(read_request_upload(garbage, FILE, REQUEST, max_bytes=1000), "upload.too_large")


def test_empty_file() -> None:
    assert "empty" in one_error(read_request_upload(b"", FILE, REQUEST), "upload.empty").message


def test_text_file_renamed_xlsx() -> None:
    data = b"metric_id,value\nenergy.gasoline,10\n"
    error = one_error(read_request_upload(data, "values.xlsx", REQUEST), "upload.not_xlsx")
    assert error.file == "values.xlsx"
    assert "not a zip archive" in error.message
    assert "Traceback" not in error.message


def test_pdf_renamed_xlsx() -> None:
    data = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"
    error = one_error(read_request_upload(data, FILE, REQUEST), "upload.not_xlsx")
    assert "PDF" in error.message


def test_old_xls_file() -> None:
    data = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100
    assert ".xls" in one_error(read_request_upload(data, FILE, REQUEST), "upload.not_xlsx").message


@pytest.mark.parametrize(
    "data",
    [
        b"PK\x03\x04" + b"\x00" * 50,  # zip signature, damaged archive
        b"PK\x03\x04garbage that is not a zip archive at all",
    ],
)
def test_damaged_zip(data: bytes) -> None:
    one_error(read_request_upload(data, FILE, REQUEST), "upload.not_xlsx")


def test_zip_that_is_not_a_workbook() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    error = one_error(read_request_upload(buffer.getvalue(), FILE, REQUEST), "upload.not_xlsx")
    assert "Traceback" not in error.message


def test_truncated_workbook() -> None:
    data = template_bytes()[:-200]
    one_error(read_request_upload(data, FILE, REQUEST), "upload.not_xlsx")


def test_expanded_size_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(request_upload, "MAX_EXPANDED_BYTES", 1000)
    error = one_error(read_request_upload(template_bytes(), FILE, REQUEST), "upload.too_large")
    assert "expands to" in error.message


def test_too_many_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(request_upload, "MAX_ROWS", 20)

    def fill(sheet: Worksheet) -> None:
        sheet[f"A{HEADER_ROW + 25}"] = "energy.gasoline"

    one_error(upload(fill), "upload.too_many_rows")


def test_template_of_another_request() -> None:
    other = RequestSheet(7, "E03", "深圳子公司", 2024, None, IDS, {})
    error = one_error(
        read_request_upload(template_bytes("en", other), FILE, REQUEST), "upload.wrong_template"
    )
    assert "this template is for request 7 (entity E03, 2024), not request 9" in error.message
    assert (error.file, error.column) == (f"{FILE}[_meta]", "request_id")


def test_template_of_another_entity() -> None:
    other = RequestSheet(9, "E03", "x", 2024, None, IDS, {})
    error = one_error(
        read_request_upload(template_bytes("en", other), FILE, REQUEST), "upload.wrong_template"
    )
    assert "not entity E05" in error.message
    assert error.column == "entity_id"


def test_template_of_another_year() -> None:
    other = RequestSheet(9, "E05", "x", 2023, None, IDS, {})
    error = one_error(
        read_request_upload(template_bytes("zh", other), FILE, REQUEST), "upload.wrong_template"
    )
    assert "not year 2024" in error.message
    assert error.column == "year"


def test_workbook_without_the_sheets() -> None:
    book = Workbook()
    sheet = book.active
    assert isinstance(sheet, Worksheet)
    sheet["A1"] = "metric_id"
    error = one_error(read_request_upload(to_bytes(book), FILE, REQUEST), "upload.wrong_template")
    assert "no sheet 'request' and no sheet '_meta'" in error.message
    assert error.file == FILE


def test_workbook_without_meta() -> None:
    book = book_of()
    book.remove(book["_meta"])
    error = one_error(read_request_upload(to_bytes(book), FILE, REQUEST), "upload.wrong_template")
    assert "no sheet '_meta'" in error.message
    assert "'request'" not in error.message.split("(")[0]


def test_unknown_format_version() -> None:
    book = book_of()
    book["_meta"]["B1"] = "esgledger.request/0"
    error = one_error(read_request_upload(to_bytes(book), FILE, REQUEST), "upload.wrong_template")
    assert error.column == "format_version"


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_missing_header_column(lang: str) -> None:
    def fill(sheet: Worksheet) -> None:
        sheet.cell(HEADER_ROW, 4).value = "amount"

    error = one_error(upload(fill, lang), "upload.missing_column")
    assert (error.file, error.row, error.column) == (WHERE, HEADER_ROW, "value")
    assert "missing header column 'value'" in error.message


def test_no_header_row() -> None:
    def fill(sheet: Worksheet) -> None:
        sheet.cell(HEADER_ROW, 1).value = "code"

    error = one_error(upload(fill), "upload.missing_column")
    assert error.column == "metric_id"


def test_every_error_is_located() -> None:
    def fill(sheet: Worksheet) -> None:
        sheet[f"D{row_of(sheet, 'energy.gasoline')}"] = "n/a"
        sheet[f"D{row_of(sheet, 'energy.electricity_purchased')}"] = -1
        sheet[f"D{row_of(sheet, 'governance.board_size')}"] = '=HYPERLINK("http://x","click")'

    values, diagnostics = upload(fill)
    assert values == []
    assert len(diagnostics) == 3
    for d in diagnostics:
        assert d.file == WHERE
        assert d.row is not None
        assert d.column == "value"
        assert d.message.startswith(f"cell D{d.row}: ")
        assert not math.isnan(d.row)
