"""Roster import: malformed rows are refused with located errors and no frame; GBK and XLSX."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import Workbook
from workforce_data import AS_OF, ENTITIES, HEADER, ROWS, roster_csv

from esgledger.calc.workforce import compute_workforce
from esgledger.domain.diagnostics import Diagnostic
from esgledger.ingest.roster import ROSTER_COLUMNS, read_roster

Validate = Callable[..., tuple[pd.DataFrame | None, list[Diagnostic]]]


def _replace(index: int, column: str, value: str) -> tuple[str, ...]:
    """ROWS with one cell changed (index into ROWS: spreadsheet row index + 2)."""
    names = HEADER.split(",")
    rows = list(ROWS)
    cells = rows[index].split("#")[0].strip().split(",")
    cells[names.index(column)] = value
    rows[index] = ",".join(cells)
    return tuple(rows)


# (row index in ROWS, column, new value, code, column reported, message fragment)
MALFORMED = [
    ("future hire", 0, "hire_date", "2025-01-02", "future-hire", "hire_date", "after the as-of"),
    (
        "leave before hire",
        4,
        "leave_date",
        "2015-12-31",
        "leave-before-hire",
        "leave_date",
        "before",
    ),
    ("unknown entity", 2, "entity_id", "G99", "entity", "entity_id", "not in the organisation"),
    ("too young", 3, "birth_year", "2012", "age", "birth_year", "age of 12"),
    ("too old", 3, "birth_year", "1940", "age", "birth_year", "age of 84"),
    ("band vs year", 8, "birth_year", "1999", "age-band", "age_band", "does not fit"),
    ("duplicate id", 5, "employee_id", "E01", "duplicate", "employee_id", "repeats row 2"),
    ("unknown gender", 1, "gender", "unknown", "enum", "gender", "not one of male"),
    ("unknown level", 1, "level", "boss", "enum", "level", "not one of staff"),
    ("unknown region", 1, "region", "mars", "enum", "region", "province code"),
    ("returned not taken", 6, "parental_leave_returned", "yes", "parental-leave", None, "taken"),
    ("negative hours", 6, "training_hours", "-4", "negative", "training_hours", "negative"),
    ("text hours", 6, "training_hours", "ten", "number", "training_hours", "not a number"),
    ("bad date", 6, "hire_date", "2020/01/01", "date", "hire_date", "YYYY-MM-DD"),
    ("no age at all", 6, "birth_year", "", "required", "birth_year", "birth_year or age_band"),
    ("no hire date", 6, "hire_date", "", "required", "hire_date", "empty"),
]


@pytest.mark.parametrize(
    ("index", "column", "value", "code", "reported", "fragment"),
    [case[1:] for case in MALFORMED],
    ids=[case[0] for case in MALFORMED],
)
def test_malformed_row_is_located_and_nothing_returned(
    validate: Validate,
    index: int,
    column: str,
    value: str,
    code: str,
    reported: str | None,
    fragment: str,
) -> None:
    frame, diagnostics = validate(roster_csv(_replace(index, column, value)))
    assert frame is None
    assert [d.code for d in diagnostics] == [code], [str(d) for d in diagnostics]
    found = diagnostics[0]
    where = reported or column
    assert (found.file, found.row, found.column) == ("roster.csv", index + 2, where)
    assert str(found).startswith(f"roster.csv:{index + 2}:{where}: ")
    assert fragment in found.message


def test_every_problem_is_reported_at_once(validate: Validate) -> None:
    rows = _replace(0, "hire_date", "2025-06-01")
    rows = (*rows[:4], rows[4].replace("2024-06-30", "2015-01-01"), *rows[5:])
    rows = (*rows[:9], rows[9].replace("female", "f?"), *rows[10:])
    frame, diagnostics = validate(roster_csv(rows))
    assert frame is None
    assert sorted((d.row, d.column) for d in diagnostics) == [
        (2, "hire_date"),
        (6, "leave_date"),
        (11, "gender"),
    ]


def test_header_problems(validate: Validate) -> None:
    frame, diagnostics = validate(roster_csv(header=HEADER.replace("entity_id", "name")))
    assert frame is None
    assert {(d.code, d.column) for d in diagnostics} == {
        ("column-missing", "entity_id"),
        ("column-unknown", "name"),
    }
    without_age = ",".join(c for c in HEADER.split(",") if c not in ("birth_year", "age_band"))
    frame, diagnostics = validate(f"{without_age}\n".encode())
    assert frame is None
    assert [d.code for d in diagnostics] == ["column-missing"]


def test_columns_are_documented() -> None:
    names = [c.name for c in ROSTER_COLUMNS]
    assert names == HEADER.split(",")
    assert all(c.description and c.example is not None for c in ROSTER_COLUMNS)
    assert {c.name for c in ROSTER_COLUMNS if c.required} == {
        "employee_id",
        "entity_id",
        "gender",
        "hire_date",
    }


CHINESE = """employee_id,entity_id,gender,age_band,level,tier,education,region,hire_date,\
training_hours
C1,G01,男,35岁以下,普通员工,基层,大专及以下,中国,2021-04-01,8
C2,G01,女,35-50岁,骨干层,中层,本科,海外,2018-09-01,16.5
C3,G02,女,50岁以上,管理层,高层,研究生/MBA 及以上,CN-SH,2009-02-01,40
"""


def test_gbk_csv_with_chinese_values_imports(tmp_path: Path) -> None:
    path = tmp_path / "roster.csv"
    path.write_bytes(CHINESE.encode("gbk"))
    frame, diagnostics = read_roster(path, ENTITIES, AS_OF)
    assert diagnostics == []
    assert frame is not None
    assert frame["gender"].tolist() == ["male", "female", "female"]
    assert frame["age_band"].tolist() == ["lt35", "35_50", "gt50"]
    assert frame["level"].tolist() == ["staff", "core", "management"]
    assert frame["tier"].tolist() == ["junior", "middle", "senior"]
    assert frame["education"].tolist() == ["college_or_below", "bachelor", "master_or_above"]
    assert frame["region"].tolist() == ["china", "overseas", "china"]
    result = compute_workforce(frame, date(2024, 1, 1), AS_OF).set_index(["metric_id", "entity_id"])
    assert result.loc[("workforce.headcount.age_gt50", "*"), "value"] == 1
    assert result.loc[("training.hours_per_capita.female", "*"), "value"] == pytest.approx(28.25)


def _xlsx(path: Path, rows: list[list[object]], sheet: str = "roster") -> None:
    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.title = sheet
    for row in rows:
        ws.append(row)
    book.save(path)


def test_xlsx_roster_imports(tmp_path: Path) -> None:
    path = tmp_path / "roster.xlsx"
    header = ["employee_id", "entity_id", "gender", "birth_year", "hire_date", "training_hours"]
    _xlsx(path, [header, ["X1", "G01", "女", 1990, date(2020, 1, 6), 12.5]])
    frame, diagnostics = read_roster(path, ENTITIES, AS_OF)
    assert diagnostics == []
    assert frame is not None
    assert frame.loc[0, "hire_date"] == pd.Timestamp("2020-01-06")
    assert frame.loc[0, "training_hours"] == 12.5


def test_xlsx_formula_and_read_errors_become_diagnostics(tmp_path: Path) -> None:
    path = tmp_path / "roster.xlsx"
    header = ["employee_id", "entity_id", "gender", "birth_year", "hire_date", "training_hours"]
    _xlsx(path, [header, ["X1", "G01", "female", 1990, "2020-01-06", "=2*6"]])
    frame, diagnostics = read_roster(path, ENTITIES, AS_OF)
    assert frame is None
    assert [(d.code, d.row, d.column) for d in diagnostics] == [("formula", 2, "training_hours")]
    _xlsx(path, [header], sheet="staff")
    frame, diagnostics = read_roster(path, ENTITIES, AS_OF)
    assert frame is None
    assert [d.code for d in diagnostics] == ["sheet"]
    frame, diagnostics = read_roster(tmp_path / "roster.txt", ENTITIES, AS_OF)
    assert frame is None
    assert [d.code for d in diagnostics] == ["format"]
    frame, diagnostics = read_roster(tmp_path / "missing.csv", ENTITIES, AS_OF)
    assert frame is None
    assert [d.code for d in diagnostics] == ["file"]
