"""Exports never carry a formula: CSV and XLSX cells neutralised as OWASP recommends."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from esgledger.workflow.export import (
    FORMULA_PREFIXES,
    csv_cell,
    safe_cell,
    write_csv,
    write_xlsx,
    xlsx_text,
)

DANGEROUS = ("=", "+", "-", "@", "\t", "\r")

# text an XLSX carries as it is: no XML-illegal character, no carriage return
XML_TEXT = st.text(
    st.characters(
        codec="utf-8",  # no surrogate
        exclude_characters="".join(
            [chr(c) for c in range(0x20) if chr(c) not in "\t\n"] + ["\ufffe", "\uffff"]
        ),
    )
)
RISKY = st.sampled_from(
    [
        '=HYPERLINK("http://evil","click")',
        "+cmd|' /C calc'!A0",
        "-2+3",
        "@SUM(A1:A9)",
        "\t=1+1",
        "\r=1+1",
        "=1+1",
        "-5",
        "'already quoted",
        "正常文本",
        "",
    ]
)


def read_csv(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def read_xlsx(data: bytes, title: str) -> Worksheet:
    sheet = load_workbook(io.BytesIO(data))[title]
    assert isinstance(sheet, Worksheet)
    return sheet


def test_prefixes_match_owasp() -> None:
    assert set(FORMULA_PREFIXES) == set(DANGEROUS)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('=HYPERLINK("http://evil","x")', '\'=HYPERLINK("http://evil","x")'),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@A1", "'@A1"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("a=b", "a=b"),
        (" =1", " =1"),
        ("碳排放", "碳排放"),
        ("", ""),
    ],
)
def test_safe_cell_text(value: str, expected: str) -> None:
    assert safe_cell(value) == expected


@pytest.mark.parametrize(
    "value", [-5, -5.5, 0, 3.25, Decimal("-1.5"), True, None, date(2024, 1, 1)]
)
def test_safe_cell_keeps_numbers_and_dates(value: object) -> None:
    assert safe_cell(value) is value


def test_safe_cell_other_objects_become_safe_text() -> None:
    class Weird:
        def __str__(self) -> str:
            return "=1+1"

    assert safe_cell(Weird()) == "'=1+1"


@given(st.text() | RISKY)
def test_safe_cell_never_starts_like_a_formula(text: str) -> None:
    result = safe_cell(text)
    assert isinstance(result, str)
    assert not result.startswith(DANGEROUS)
    assert result in (text, "'" + text)


@given(st.integers() | st.floats(allow_nan=False))
def test_safe_cell_numbers_stay_numbers(number: float) -> None:
    assert safe_cell(number) is number


def test_csv_has_bom_and_chinese() -> None:
    data = write_csv([{"name": "外购电力", "value": 1.5}], ["name", "value"])
    assert data.startswith(b"\xef\xbb\xbf")
    assert read_csv(data) == [["name", "value"], ["外购电力", "1.5"]]


def test_csv_cells() -> None:
    rows = [
        {"a": "=1+1", "b": -5, "c": None},
        {"a": "-5", "b": date(2024, 3, 31)},
    ]
    assert read_csv(write_csv(rows, ["a", "b", "c"])) == [
        ["a", "b", "c"],
        ["'=1+1", "-5", ""],
        ["'-5", "2024-03-31", ""],
    ]


@given(
    st.lists(st.lists(st.text() | RISKY, min_size=3, max_size=3), max_size=6),
    st.lists(st.text() | RISKY, min_size=3, max_size=3, unique=True),
)
def test_csv_reads_back_neutralised(cells: list[list[str]], columns: list[str]) -> None:
    rows = [dict(zip(columns, row, strict=True)) for row in cells]
    data = write_csv(rows, columns)
    expected = [[csv_cell(c) for c in columns]] + [[csv_cell(c) for c in row] for row in cells]
    assert read_csv(data) == expected
    for row in read_csv(data):
        assert not any(cell.startswith(DANGEROUS) for cell in row)


def test_xlsx_cells() -> None:
    data = write_xlsx(
        {
            "values": (
                ["metric", "value", "note", "when"],
                [
                    {"metric": "energy.gasoline", "value": -5, "note": "=HYPERLINK(1)"},
                    {"metric": "-5", "value": 2.5, "when": datetime(2024, 1, 1, 8, 0)},
                    {"metric": "x", "value": float("nan"), "note": "a\x00b\r\nc"},
                ],
            )
        }
    )
    sheet = read_xlsx(data, "values")
    assert [c.value for c in sheet[1]] == ["metric", "value", "note", "when"]
    assert sheet["B2"].value == -5
    assert sheet["B2"].data_type == "n"
    assert sheet["C2"].value == "'=HYPERLINK(1)"
    assert sheet["C2"].data_type == "s"
    assert sheet["A3"].value == "'-5"
    assert sheet["D3"].value == datetime(2024, 1, 1, 8, 0)
    assert sheet["B4"].value is None
    assert sheet["C4"].value == "ab\nc"


def test_xlsx_several_sheets_and_bad_title() -> None:
    data = write_xlsx({"a": (["x"], [{"x": 1}]), "排放": (["y"], [{"y": "二"}])})
    assert load_workbook(io.BytesIO(data)).sheetnames == ["a", "排放"]
    with pytest.raises(ValueError, match="31"):
        write_xlsx({"x" * 32: (["x"], [])})
    with pytest.raises(ValueError):
        write_xlsx({"a/b": (["x"], [])})


def _check_sheet(sheet: Worksheet, expected: list[list[str]]) -> None:
    for r, row in enumerate(expected, start=1):
        for c, text in enumerate(row, start=1):
            cell = sheet.cell(r, c)
            assert cell.data_type != "f"
            assert (cell.value or "") == text, (r, c)
            if cell.value is not None:
                assert not str(cell.value).startswith(DANGEROUS)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.lists(XML_TEXT | RISKY, min_size=2, max_size=2), min_size=1, max_size=5),
    st.lists(XML_TEXT | RISKY, min_size=2, max_size=2, unique=True),
)
def test_xlsx_reads_back_neutralised(cells: list[list[str]], columns: list[str]) -> None:
    rows = [dict(zip(columns, row, strict=True)) for row in cells]
    sheet = read_xlsx(write_xlsx({"export": (columns, rows)}), "export")
    expected = [[str(safe_cell(c)) for c in columns]] + [
        [str(safe_cell(c)).replace("\r", "\n") for c in row] for row in cells
    ]
    expected[0] = [c.replace("\r", "\n") for c in expected[0]]
    _check_sheet(sheet, expected)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.text() | RISKY, min_size=1, max_size=5))
def test_xlsx_any_text_is_safe(texts: list[str]) -> None:
    rows = [{"t": t} for t in texts]
    sheet = read_xlsx(write_xlsx({"export": (["t"], rows)}), "export")
    _check_sheet(sheet, [["t"]] + [[xlsx_text(t)] for t in texts])


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(-(10**12), 10**12) | st.floats(-1e12, 1e12), max_size=5))
def test_xlsx_numbers_stay_numbers(numbers: list[float]) -> None:
    rows = [{"n": n} for n in numbers]
    sheet = read_xlsx(write_xlsx({"export": (["n"], rows)}), "export")
    for r, number in enumerate(numbers, start=2):
        assert sheet.cell(r, 1).data_type == "n"
        assert sheet.cell(r, 1).value == pytest.approx(number, rel=1e-15, abs=0)
