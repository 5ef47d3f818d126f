"""Validate an anonymised employee roster (CSV, or the sheet ``roster`` of an XLSX workbook).

One row per employee who was employed at any time in the periods to report. Every column is
checked over the whole table (pandas, vectorised) and every problem is reported with its
location (``file:row:column``); the typed frame is returned only when there is no error at all
(all or nothing). Enumerations accept the English codes and the seed report's Chinese labels.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pandas as pd

from esgledger.domain.diagnostics import Diagnostic, has_errors
from esgledger.ingest.reader import ReadError, Table, read_csv, read_xlsx
from esgledger.ingest.schema import Column
from esgledger.ingest.validate import (
    MAX_DIAGNOSTICS,
    Collector,
    check_entities,
    duplicates,
    required_text,
)

SHEET = "roster"
MIN_AGE, MAX_AGE = 15, 80

ROSTER_COLUMNS = (
    Column("employee_id", True, "anonymised employee id, unique in the file (no names)", "E000123"),
    Column("entity_id", True, "entity of the organisation tree employing the person", "G01"),
    Column("gender", True, "male | female | other | undisclosed (男 / 女 accepted)", "female"),
    Column("birth_year", False, "year of birth (YYYY); give birth_year or age_band", "1991"),
    Column(
        "age_band", False, "lt35 | 35_50 | gt50 (35岁以下 / 35-50岁 / 50岁以上), at as-of", "lt35"
    ),
    Column("level", False, "staff | core | management (普通员工 / 骨干层 / 管理层)", "core"),
    Column(
        "tier",
        False,
        "junior | middle | senior (基层 / 中层 / 高层): training and women in management",
        "middle",
    ),
    Column(
        "education",
        False,
        "college_or_below | bachelor | master_or_above (大专及以下 / 本科 / 研究生及以上)",
        "bachelor",
    ),
    Column("region", False, "china | overseas, or a province code (CN-BJ) meaning china", "china"),
    Column("hire_date", True, "first day of employment, YYYY-MM-DD, not after as-of", "2019-07-01"),
    Column("leave_date", False, "day the person left (YYYY-MM-DD), empty if employed", ""),
    Column(
        "training_hours", False, "training hours in the period, a number >= 0 (default 0)", "36"
    ),
    Column("parental_leave_taken", False, "yes | no: took parental leave in the period", "no"),
    Column("parental_leave_returned", False, "yes | no: came back (only if taken)", "no"),
    Column("disability", False, "yes | no", "no"),
    Column("ethnic_minority", False, "yes | no", "no"),
    Column("veteran", False, "yes | no", "no"),
)

GENDERS = {
    **{v: v for v in ("male", "female", "other", "undisclosed")},
    **{"m": "male", "男": "male", "男性": "male", "f": "female", "女": "female", "女性": "female"},
    **{"其他": "other", "未披露": "undisclosed", "不愿透露": "undisclosed"},
}
AGE_BANDS = {
    **{v: v for v in ("lt35", "35_50", "gt50")},
    **{"35岁以下": "lt35", "35-50岁": "35_50", "50岁以上": "gt50"},
    **{"<35": "lt35", "35-50": "35_50", ">50": "gt50"},
}
LEVELS = {
    **{v: v for v in ("staff", "core", "management")},
    **{"普通员工": "staff", "骨干层": "core", "骨干": "core", "管理层": "management"},
}
TIERS = {
    **{v: v for v in ("junior", "middle", "senior")},
    **{"基层": "junior", "中层": "middle", "高层": "senior"},
    **{"基层员工": "junior", "中层员工": "middle", "高层员工": "senior"},
}
EDUCATIONS = {
    **{v: v for v in ("college_or_below", "bachelor", "master_or_above")},
    **{"大专及以下": "college_or_below", "大专及以下学历": "college_or_below"},
    **{"本科": "bachelor", "本科学历": "bachelor", "研究生及以上": "master_or_above"},
    **{"研究生/mba及以上": "master_or_above", "硕士及以上": "master_or_above"},
}
REGIONS = {
    **{"china": "china", "中国": "china", "境内": "china", "cn": "china"},
    **{"overseas": "overseas", "海外": "overseas", "境外": "overseas"},
}
YES_NO = {
    **dict.fromkeys(("yes", "y", "true", "1", "是"), True),
    **dict.fromkeys(("no", "n", "false", "0", "否", ""), False),
}
ENUMS: dict[str, dict[str, str]] = {
    "gender": GENDERS,
    "age_band": AGE_BANDS,
    "level": LEVELS,
    "tier": TIERS,
    "education": EDUCATIONS,
    "region": REGIONS,
}
FLAGS = (
    "parental_leave_taken",
    "parental_leave_returned",
    "disability",
    "ethnic_minority",
    "veteran",
)

_PROVINCE = re.compile(r"^cn-[a-z]{2}$")
_YEAR = re.compile(r"^[0-9]{4}$")
_NUMBER = re.compile(r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)$")


def age_band_of(age: pd.Series) -> pd.Series:
    """lt35 (< 35), 35_50 (35 to 50 inclusive), gt50 (> 50), as the seed report's groups."""
    band = pd.Series(pd.NA, index=age.index, dtype="object")
    band[age < 35] = "lt35"
    band[(age >= 35) & (age <= 50)] = "35_50"
    band[age > 50] = "gt50"
    return band


def _frame(table: Table, problems: Collector) -> pd.DataFrame | None:
    known = [c.name for c in ROSTER_COLUMNS]

    def header_problem(code: str, message: str, column: str) -> None:
        problems.add(Diagnostic(code, message, file=table.file, row=1, column=column))

    for c in ROSTER_COLUMNS:
        if c.required and c.name not in table.header:
            header_problem("column-missing", f"required column {c.name!r} is missing", c.name)
    if "birth_year" not in table.header and "age_band" not in table.header:
        header_problem("column-missing", "the roster needs a birth_year or age_band column", "age")
    for name in [h for h in table.header if h and h not in known]:
        header_problem(
            "column-unknown",
            f"unknown column {name!r}; roster columns are {', '.join(known)} "
            "(the roster is anonymised: no names or other personal data)",
            name,
        )
    for name in sorted({h for h in table.header if h and table.header.count(h) > 1}):
        header_problem("column-duplicate", f"column {name!r} appears twice", name)
    if problems.items:
        return None
    if not table.rows:
        problems.add(Diagnostic("empty", "the roster has no data rows", file=table.file, row=2))
        return None
    width = len(table.header)
    long_rows = [i for i, r in enumerate(table.rows) if any(r[width:])]
    for i in long_rows[:MAX_DIAGNOSTICS]:
        problems.add(
            Diagnostic("row-width", "more cells than header columns", file=table.file, row=i + 2)
        )
    rows = [tuple(r[:width]) + ("",) * (width - len(r)) for r in table.rows]
    frame = pd.DataFrame(rows, columns=list(table.header), dtype=object).fillna("")
    for name in known:
        if name not in frame:
            frame[name] = ""
    return pd.DataFrame({name: frame[name].astype(str).str.strip() for name in known})


def _enum(frame: pd.DataFrame, column: str, problems: Collector) -> pd.Series:
    text = frame[column]
    key = text.str.lower().str.replace(r"\s+", "", regex=True)
    codes = key.map(ENUMS[column])
    if column == "region":
        codes = codes.where(codes.notna() | ~key.str.match(_PROVINCE), "china")
    allowed = " | ".join(dict.fromkeys(ENUMS[column].values()))
    if column == "region":
        allowed += ", or a province code (CN-BJ)"
    problems.cells(
        text.ne("") & codes.isna(),
        column,
        "enum",
        lambda v: f"{column} {v!r} is not one of {allowed}",
        text,
    )
    return codes.astype("object").where(codes.notna(), None)


def _dates(frame: pd.DataFrame, column: str, problems: Collector) -> pd.Series:
    text = frame[column]
    parsed = pd.to_datetime(text.where(text.ne("")), format="%Y-%m-%d", errors="coerce")
    bad = text.ne("") & (parsed.isna() | (parsed.dt.year < 1900))
    problems.cells(bad, column, "date", lambda v: f"{column} {v!r} is not YYYY-MM-DD", text)
    return parsed.where(~bad).astype("datetime64[ns]")


def _age(frame: pd.DataFrame, band: pd.Series, as_of: date, problems: Collector) -> pd.Series:
    text = frame["birth_year"]
    ok = text.str.match(_YEAR)
    problems.cells(
        text.ne("") & ~ok,
        "birth_year",
        "birth-year",
        lambda v: f"birth_year {v!r} is not YYYY",
        text,
    )
    year = pd.to_numeric(text.where(ok), errors="coerce").astype("Int64")
    age = as_of.year - year
    problems.cells(
        ((age < MIN_AGE) | (age > MAX_AGE)).fillna(False).astype(bool),
        "birth_year",
        "age",
        lambda v: (
            f"birth_year {v} gives an age of {as_of.year - int(v)} at {as_of}: "
            f"expected {MIN_AGE} to {MAX_AGE}"
        ),
        text,
    )
    problems.cells(
        text.eq("") & frame["age_band"].eq(""),
        "birth_year",
        "required",
        lambda _v: "give birth_year or age_band",
        text,
    )
    # With the year of birth only, the age at as-of is that difference or one less.
    fits = (age_band_of(age) == band) | (age_band_of(age - 1) == band)
    clash = band.notna() & age.between(MIN_AGE, MAX_AGE) & ~fits.fillna(False).astype(bool)
    message = (
        "age_band '"
        + frame["age_band"]
        + "' does not fit birth_year "
        + text
        + " (age "
        + age.astype(str)
        + f" at {as_of})"
    )
    problems.cells(clash, "age_band", "age-band", lambda m: m, message)
    return year


def _hours(frame: pd.DataFrame, problems: Collector) -> pd.Series:
    text = frame["training_hours"]
    ok = text.str.match(_NUMBER)
    problems.cells(
        text.ne("") & ~ok,
        "training_hours",
        "number",
        lambda v: f"training_hours {v!r} is not a number",
        text,
    )
    hours = pd.to_numeric(text.where(ok), errors="coerce").astype("float64")
    problems.cells(
        hours < 0, "training_hours", "negative", lambda v: f"training_hours {v} is negative", text
    )
    return hours.fillna(0.0)


def _not_yes_no(column: str) -> Callable[[str], str]:
    return lambda v: f"{column} {v!r} is not yes or no"


def _flags(frame: pd.DataFrame, problems: Collector) -> dict[str, pd.Series]:
    flags: dict[str, pd.Series] = {}
    for column in FLAGS:
        text = frame[column]
        value = text.str.lower().map(YES_NO)
        problems.cells(value.isna(), column, "enum", _not_yes_no(column), text)
        flags[column] = value.fillna(False).astype(bool)
    problems.cells(
        flags["parental_leave_returned"] & ~flags["parental_leave_taken"],
        "parental_leave_returned",
        "parental-leave",
        lambda _v: "parental_leave_returned is yes but parental_leave_taken is not",
        frame["parental_leave_returned"],
    )
    return flags


def validate_roster(
    table: Table, entity_ids: frozenset[str], as_of: date
) -> tuple[pd.DataFrame | None, list[Diagnostic]]:
    """Typed roster frame, or None and every problem located ``file:row:column``.

    The frame has one row per employee: ``row`` (spreadsheet row), ``employee_id``,
    ``entity_id``, ``gender``, ``birth_year`` (Int64), ``age_band``, ``level``, ``tier``,
    ``education``, ``region`` (codes, None when empty), ``hire_date``, ``leave_date``
    (datetime64, NaT when empty), ``training_hours`` (float, 0 when empty) and the yes/no flags
    as booleans. ``as_of`` is the date the roster describes (normally the period end): a hire
    after it is refused, and ages are checked at it; a leave date after it is accepted (the
    person is still employed at as-of).
    """
    problems = Collector(table)
    raw = _frame(table, problems)
    if raw is None:
        return None, problems.items
    for column in ("employee_id", "entity_id", "gender", "hire_date"):
        required_text(raw, column, problems)
    duplicates(raw, "employee_id", problems)
    check_entities(raw, entity_ids, problems)
    codes = {column: _enum(raw, column, problems) for column in ENUMS}
    birth_year = _age(raw, codes["age_band"], as_of, problems)
    hire = _dates(raw, "hire_date", problems)
    leave = _dates(raw, "leave_date", problems)
    limit = pd.Timestamp(as_of)
    problems.cells(
        hire > limit,
        "hire_date",
        "future-hire",
        lambda v: f"hire_date {v} is after the as-of date {as_of}",
        raw["hire_date"],
    )
    problems.cells(
        leave < hire,
        "leave_date",
        "leave-before-hire",
        lambda m: m,
        "leave_date " + raw["leave_date"] + " is before hire_date " + raw["hire_date"],
    )
    hours = _hours(raw, problems)
    flags = _flags(raw, problems)
    if has_errors(problems.items):
        return None, problems.items
    frame = pd.DataFrame(
        {
            "row": raw.index.to_numpy() + 2,
            "employee_id": raw["employee_id"],
            "entity_id": raw["entity_id"],
            **codes,
            "birth_year": birth_year,
            "hire_date": hire,
            "leave_date": leave,
            "training_hours": hours,
            **flags,
        }
    )
    return frame.reset_index(drop=True), problems.items


def read_roster(
    path: Path, entity_ids: frozenset[str], as_of: date
) -> tuple[pd.DataFrame | None, list[Diagnostic]]:
    """Read and validate a roster file (``.csv`` in UTF-8 or GBK, or ``.xlsx`` sheet ``roster``)."""
    suffix = path.suffix.lower()
    try:
        if suffix not in (".csv", ".xlsx"):
            raise ReadError(
                Diagnostic(
                    "format", f"unsupported file type {suffix!r}: use .csv or .xlsx", file=path.name
                )
            )
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ReadError(
                Diagnostic("file", f"cannot read the file: {exc.strerror}", file=path.name)
            ) from exc
        table = read_csv(path, data) if suffix == ".csv" else read_xlsx(path, data, SHEET)
    except ReadError as exc:
        return None, [exc.diagnostic]
    return validate_roster(table, entity_ids, as_of)
