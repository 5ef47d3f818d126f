"""A small roster written out by hand: 17 employees in two entities (arithmetic in the tests).

A plain module (not conftest) so that the test files can import its constants.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd

from esgledger.domain.diagnostics import Diagnostic
from esgledger.ingest.reader import read_csv
from esgledger.ingest.roster import validate_roster

ENTITIES = frozenset({"G01", "G02"})
AS_OF = date(2024, 12, 31)
START, END = date(2024, 1, 1), date(2024, 12, 31)

HEADER = (
    "employee_id,entity_id,gender,birth_year,age_band,level,tier,education,region,hire_date,"
    "leave_date,training_hours,parental_leave_taken,parental_leave_returned,disability,"
    "ethnic_minority,veteran"
)
# Ages are at 2024-12-31 (2024 - birth year). Status in 2024 after the '#'.
ROWS = (
    # G01: opening 6, hires 3, leavers 2, closing 7
    "E01,G01,male,1990,,staff,junior,bachelor,china,2018-03-01,,20,no,no,no,no,no",  # 34 closing
    "E02,G01,female,1985,,core,middle,master_or_above,china,2015-06-01,,40,yes,yes,no,no,no",  # 39
    "E03,G01,female,1970,,management,senior,master_or_above,overseas,2010-01-01,,60,no,no,no,yes,no",
    "E04,G01,male,1995,,staff,junior,college_or_below,CN-GD,2024-03-01,,10,no,no,no,no,no",  # hire
    "E05,G01,male,1980,,core,middle,bachelor,china,2016-01-01,2024-06-30,8,no,no,no,no,no",  # left
    "E06,G01,female,1998,,staff,junior,bachelor,china,2024-02-01,2024-10-31,5,no,no,no,no,no",
    "E07,G01,male,1975,,management,senior,bachelor,china,2012-01-01,,0,no,no,no,no,yes",  # 49
    "E08,G01,female,1992,,staff,junior,college_or_below,china,2019-01-01,2023-12-31,0,yes,no,no,no,no",
    "E09,G01,male,,35-50岁,core,middle,bachelor,china,2020-01-01,,12,no,no,yes,no,no",  # band only
    "E10,G01,female,2000,,staff,junior,college_or_below,china,2024-12-31,,,no,no,no,no,no",  # hire
    # G02: opening 6, hires 1, leavers 3, closing 4
    "F01,G02,female,1988,,core,middle,bachelor,china,2017-01-01,,30,yes,yes,no,no,no",  # 36
    "F02,G02,male,1990,,staff,junior,college_or_below,china,2021-01-01,2024-12-31,16,yes,no,no,no,no",
    "F03,G02,female,1965,,management,senior,master_or_above,overseas,2005-01-01,,50,no,no,no,no,no",
    "F04,G02,male,1999,,staff,junior,bachelor,overseas,2024-01-01,,24,no,no,no,no,no",  # hire
    "F05,G02,female,1993,,staff,junior,bachelor,china,2020-05-01,2024-01-01,2,no,no,no,no,no",
    "F06,G02,undisclosed,1982,,core,middle,bachelor,china,2019-01-01,,10,no,no,no,yes,no",  # 42
    "F07,G02,male,1996,,staff,junior,bachelor,china,2022-01-01,2024-08-15,6,no,no,no,no,no",
)


def roster_csv(rows: tuple[str, ...] = ROWS, header: str = HEADER) -> bytes:
    return ("\n".join((header, *rows)) + "\n").encode()


def validate_text(
    data: bytes, entity_ids: frozenset[str] = ENTITIES, as_of: date = AS_OF
) -> tuple[pd.DataFrame | None, list[Diagnostic]]:
    return validate_roster(read_csv(Path("roster.csv"), data), entity_ids, as_of)
