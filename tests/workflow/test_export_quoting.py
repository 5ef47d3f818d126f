"""CSV exports whatever list separator the spreadsheet's locale uses (``,`` ``;`` or tab): a
text cell that starts like a formula, or holds a separator followed by a formula start (a
second cell in a ``;`` locale: ``y;=1+1``), is prefixed with ``'`` and quoted, so the locale's
reader takes it as one cell starting with ``'``; in CSV every ``;``, tab or line break followed
by a formula start is followed by a ``'`` too, so that a cell wherever it stands in its line
never starts a formula in any locale; numbers stay numbers."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from esgledger.workflow.export import (
    FORMULA_PREFIXES,
    csv_cell,
    safe_cell,
    write_csv,
    xlsx_text,
)

SEPARATORS = (",", ";", "\t")
TEXT = st.text(st.sampled_from("ab;,\t=+-@ \"'\n1")) | st.sampled_from(
    ["y;=1+1", "-2+3", "a\t@x", 'q;"=1', "x,+1"]
)


def lines(data: bytes) -> list[str]:
    assert data.startswith(b"\xef\xbb\xbf")
    return data.decode("utf-8-sig").split("\r\n")


def cells(data: bytes, separator: str) -> list[list[str]]:
    """The cells a spreadsheet whose list separator is ``separator`` reads."""
    body = data.decode("utf-8-sig")
    return list(csv.reader(io.StringIO(body, newline=""), delimiter=separator))


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ("y;=1+1", "\"'y;'=1+1\""),
        ("=1+1", '"\'=1+1"'),
        ("@SUM(A1)", '"\'@SUM(A1)"'),
        ("-2+3", '"\'-2+3"'),
        ("a,+1", '"\'a,+1"'),
        ("a\t@x", "\"'a\t'@x\""),
        ('q;"=1', '"\'q;\'""=1"'),
        ("x;-", "\"'x;'-\""),
        ("plain; text", '"plain; text"'),  # a separator alone: quoted, not prefixed
        ("a - b", "a - b"),
        ("a=b", "a=b"),
        ("碳排放", "碳排放"),
    ],
)
def test_text_cells_are_written_neutralised_and_quoted(text: str, written: str) -> None:
    data = write_csv([{"t": text, "n": -5}], ["t", "n"])
    assert lines(data)[1] == f"{written},-5"
    assert cells(data, ",")[1] == [csv_cell(text), "-5"]


@pytest.mark.parametrize("separator", SEPARATORS)
def test_y_semicolon_formula_is_one_text_cell_in_every_locale(separator: str) -> None:
    data = write_csv([{"note": "y;=1+1"}], ["note"])
    assert cells(data, separator)[1] == ["'y;'=1+1"]


@pytest.mark.parametrize("number", [-5, -2.5, Decimal("-1.25"), 0, 3])
def test_numbers_of_a_numeric_column_stay_numbers(number: float) -> None:
    data = write_csv([{"n": number, "t": "=1"}], ["n", "t"])
    assert lines(data)[1] == f'{number},"\'=1"'
    assert safe_cell(number) is number


def test_one_rule_for_csv_and_xlsx() -> None:
    for text in ("y;=1+1", "a,@x", "b\t-1", "=1+1"):
        assert safe_cell(text) == "'" + text
        assert xlsx_text(text) == "'" + text
    for text in ("a - b, c", "a; b", " =1"):
        assert safe_cell(text) == text


@given(st.lists(TEXT, min_size=1, max_size=4))
def test_a_comma_locale_never_reads_a_formula(texts: list[str]) -> None:
    columns = [f"c{i}" for i in range(len(texts))]
    data = write_csv([dict(zip(columns, texts, strict=True))], columns)
    assert cells(data, ",")[1] == [csv_cell(t) for t in texts]
    for row in cells(data, ","):
        assert not any(cell.startswith(FORMULA_PREFIXES) for cell in row)


@given(st.lists(TEXT, min_size=1, max_size=4))
def test_no_locale_reads_a_formula_in_a_one_column_export(texts: list[str]) -> None:
    data = write_csv([{"t": t} for t in texts], ["t"])
    for separator in SEPARATORS:
        for row in cells(data, separator):
            assert not any(cell.startswith(FORMULA_PREFIXES) for cell in row), (separator, row)


def reads_formula(cell: str) -> bool:
    """Whether a spreadsheet evaluates ``cell``: a formula start, after any leading line
    breaks and tabs (a cell of line breaks alone, the tail of a line split by a ``;`` reader,
    is no formula)."""
    return cell.lstrip("\t\r\n").startswith(("=", "+", "-", "@"))


@given(st.lists(TEXT, min_size=2, max_size=4), st.sampled_from(SEPARATORS))
def test_no_locale_reads_a_formula_in_any_column(texts: list[str], separator: str) -> None:
    columns = [f"c{i}" for i in range(len(texts))]
    data = write_csv([dict(zip(columns, texts, strict=True))] * 2, columns)
    for row in cells(data, separator):
        assert not any(reads_formula(cell) for cell in row), (separator, row)


def test_a_later_column_in_a_semicolon_locale() -> None:
    data = write_csv([{"a": "x", "b": "y;=1+1;z"}], ["a", "b"])
    assert lines(data)[1] == "x,\"'y;'=1+1;z\""
    assert cells(data, ";")[1] == ["x,\"'y", "'=1+1", 'z"']
    assert cells(data, ",")[1] == ["x", "'y;'=1+1;z"]  # the comma locale: one cell each
    # XLSX keeps the text whole with one leading quote
    assert xlsx_text("y;=1+1;z") == "'y;=1+1;z"
