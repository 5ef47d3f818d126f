"""Supplier and evaluation rows: the columns of the two files and their row checks.

:func:`read_suppliers` and :func:`read_evaluations` read a CSV all or nothing: every problem
is returned as a located diagnostic (``file:row:column: expected ...``, the header is row 1)
and then no row is; :func:`check_suppliers` and :func:`check_evaluations` check a frame of
strings the same way (the rows of a register stored in the ledger are checked again so). The
rating of the evaluations is :mod:`esgledger.assess.suppliers`, which re-exports these names.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Sequence
from pathlib import Path

import pandas as pd

from esgledger.assess.rows import RowCheck, missing_columns, read_csv_strings
from esgledger.domain.diagnostics import Diagnostic

__all__ = [
    "DIMENSION_IDS",
    "EVALUATION_COLUMNS",
    "REGIONS",
    "SCORE_MAX",
    "SCORE_MIN",
    "STATUSES",
    "SUPPLIER_COLUMNS",
    "check_evaluations",
    "check_suppliers",
    "float_or_nan",
    "read_evaluations",
    "read_suppliers",
]

SUPPLIER_COLUMNS = (
    "supplier_id",
    "name",
    "entity_id",
    "region",
    "country",
    "category",
    "certified_on",
    "certifications",
    "status",
    "source",
)
DIMENSION_IDS = ("basic_info", "technical", "service", "price_business", "bcm")
"""The five dimensions of the seed, as the score columns of an evaluation file."""
EVALUATION_COLUMNS = (
    "supplier_id",
    "year",
    *DIMENSION_IDS,
    "evaluator",
    "evaluated_on",
    "esg_questionnaire_score",
    "notes",
)
REGIONS = ("mainland", "other")
"""``mainland``: mainland China; ``other``: Hong Kong, Macao, Taiwan and abroad."""
STATUSES = ("active", "frozen", "ended")
SCORE_MIN, SCORE_MAX = 0.0, 100.0
_YEAR = re.compile(r"\d{4}")
_COUNTRY = re.compile(r"[A-Z]{2}")


def float_or_nan(text: str) -> float:
    """``text`` as a float; NaN when it is not a number."""
    try:
        return float(text)
    except ValueError:
        return math.nan


class _Check(RowCheck):
    """The checks of a supplier or evaluation row: 0-100 scores."""

    def score(self, column: str, text: str, optional: bool = False) -> None:
        if optional and not text:
            return
        value = float_or_nan(text)
        if not (math.isfinite(value) and SCORE_MIN <= value <= SCORE_MAX):
            empty = " or empty" if optional else ""
            self.error("score", column, f"expected a score 0-100{empty}, got {text!r}")


def _read(
    path: Path | str, columns: Sequence[str], code: str
) -> tuple[pd.DataFrame | None, str, list[Diagnostic]]:
    """The CSV as stripped strings, or the diagnostics of an unreadable file or missing columns."""
    frame, name, problems = read_csv_strings(path, code)
    if frame is None:
        return None, name, problems
    checked, problems = _columns(frame, name, columns)
    return checked, name, problems


def _columns(
    frame: pd.DataFrame, name: str, columns: Sequence[str]
) -> tuple[pd.DataFrame | None, list[Diagnostic]]:
    missing = missing_columns(frame, name, columns)
    if missing:
        return None, missing
    frame = frame[list(columns)].astype(str)
    return frame.apply(lambda column: column.str.strip()), []


def _dates(column: pd.Series) -> pd.Series:
    return pd.Series(
        pd.to_datetime(column.replace("", None), format="%Y-%m-%d"),
        index=column.index,
        dtype="datetime64[ns]",
    )


def _typed_suppliers(frame: pd.DataFrame) -> pd.DataFrame:
    typed = frame.loc[:, list(SUPPLIER_COLUMNS)].astype(str).reset_index(drop=True)
    typed["certified_on"] = _dates(typed["certified_on"])
    return typed


def _typed_evaluations(frame: pd.DataFrame) -> pd.DataFrame:
    typed = frame.loc[:, list(EVALUATION_COLUMNS)].astype(str).reset_index(drop=True)
    typed["year"] = typed["year"].astype("int64")
    for column in (*DIMENSION_IDS, "esg_questionnaire_score"):
        typed[column] = pd.to_numeric(typed[column].replace("", None)).astype("float64")
    typed["evaluated_on"] = _dates(typed["evaluated_on"])
    return typed


def read_suppliers(
    path: Path | str, entities: Collection[str] | None = None
) -> tuple[pd.DataFrame, list[Diagnostic]]:
    """The supplier records of a CSV (columns :data:`SUPPLIER_COLUMNS`), or diagnostics.

    Checked: a unique non-empty ``supplier_id``; a ``name``; ``entity_id`` among
    ``entities`` when given (empty: the group); ``region`` ``mainland`` or ``other``;
    ``country`` two capital letters or empty (``CN`` exactly when mainland); ``certified_on``
    a date YYYY-MM-DD or empty; ``certifications`` ``|``-separated without empty parts;
    ``status`` ``active``, ``frozen`` or ``ended``. All problems are returned, located
    ``file:row:column`` (the header is row 1), and then an empty frame. ``certified_on`` is
    returned as ``datetime64`` (NaT when empty).
    """
    frame, name, problems = _read(path, SUPPLIER_COLUMNS, "suppliers")
    if frame is None:
        return _typed_suppliers(pd.DataFrame(columns=list(SUPPLIER_COLUMNS))), problems
    return check_suppliers(frame, name, entities)


def check_suppliers(
    frame: pd.DataFrame, name: str, entities: Collection[str] | None = None
) -> tuple[pd.DataFrame, list[Diagnostic]]:
    """:func:`read_suppliers` of a frame of strings read from the file ``name`` (the rows of a
    register stored in the ledger are checked again this way)."""
    checked, problems = _columns(frame, name, SUPPLIER_COLUMNS)
    if checked is None:
        return _typed_suppliers(pd.DataFrame(columns=list(SUPPLIER_COLUMNS))), problems
    frame = checked
    first_row: dict[str, int] = {}
    certifications: list[str] = []
    for index, row in enumerate(frame.to_dict("records")):
        line = index + 2
        check = _Check(name, line, problems)
        supplier_id, region, country = row["supplier_id"], row["region"], row["country"]
        check.required("supplier_id", supplier_id, "a supplier id")
        if supplier_id and supplier_id in first_row:
            check.error(
                "supplier_id",
                "supplier_id",
                f"expected a unique supplier id, {supplier_id!r} is on row"
                f" {first_row[supplier_id]}",
            )
        first_row.setdefault(supplier_id, line)
        check.required("name", row["name"], "a supplier name")
        if entities is not None and row["entity_id"] and row["entity_id"] not in entities:
            check.error(
                "entity_id",
                "entity_id",
                f"expected an entity id of the entity list or empty, got {row['entity_id']!r}",
            )
        check.choice("region", region, REGIONS, "a region")
        if country and not _COUNTRY.fullmatch(country):
            check.error(
                "country", "country", f"expected a country code of two capitals, got {country!r}"
            )
        elif country and region == "mainland" and country != "CN":
            check.error("country", "country", f"expected CN for region mainland, got {country!r}")
        elif country == "CN" and region == "other":
            check.error(
                "country",
                "country",
                "expected a country other than CN for region other (HK, MO, TW or abroad)",
            )
        check.date("certified_on", row["certified_on"])
        listed = row["certifications"]
        parts = [p.strip() for p in listed.split("|")] if listed else []
        if any(not p for p in parts):
            check.error(
                "certifications",
                "certifications",
                f"expected certifications separated by '|' without empty parts, got {listed!r}",
            )
        certifications.append("|".join(parts))
        check.choice("status", row["status"], STATUSES, "a status")
    if problems:
        return _typed_suppliers(pd.DataFrame(columns=list(SUPPLIER_COLUMNS))), problems
    frame["certifications"] = certifications
    return _typed_suppliers(frame), []


def read_evaluations(
    path: Path | str, suppliers: pd.DataFrame | Collection[str] | None = None
) -> tuple[pd.DataFrame, list[Diagnostic]]:
    """The yearly evaluations of a CSV (columns :data:`EVALUATION_COLUMNS`), or diagnostics.

    Checked: ``supplier_id`` among the ids of ``suppliers`` (a frame of
    :func:`read_suppliers` or a collection of ids) when given; ``year`` YYYY; one row per
    supplier and year; the five dimension scores numbers 0-100; ``esg_questionnaire_score``
    0-100 or empty; ``evaluated_on`` a date YYYY-MM-DD or empty. All problems are returned,
    located ``file:row:column`` (the header is row 1), and then an empty frame.
    """
    frame, name, problems = _read(path, EVALUATION_COLUMNS, "evaluations")
    if frame is None:
        return _typed_evaluations(pd.DataFrame(columns=list(EVALUATION_COLUMNS))), problems
    return check_evaluations(frame, name, suppliers)


def check_evaluations(
    frame: pd.DataFrame, name: str, suppliers: pd.DataFrame | Collection[str] | None = None
) -> tuple[pd.DataFrame, list[Diagnostic]]:
    """:func:`read_evaluations` of a frame of strings read from the file ``name``."""
    checked, problems = _columns(frame, name, EVALUATION_COLUMNS)
    if checked is None:
        return _typed_evaluations(pd.DataFrame(columns=list(EVALUATION_COLUMNS))), problems
    frame = checked
    known: Collection[str] | None
    if isinstance(suppliers, pd.DataFrame):
        known = frozenset(suppliers["supplier_id"].astype(str))
    else:
        known = None if suppliers is None else frozenset(suppliers)
    first_row: dict[tuple[str, str], int] = {}
    for index, row in enumerate(frame.to_dict("records")):
        line = index + 2
        check = _Check(name, line, problems)
        supplier_id, year = row["supplier_id"], row["year"]
        check.required("supplier_id", supplier_id, "a supplier id")
        if supplier_id and known is not None and supplier_id not in known:
            check.error(
                "supplier_id",
                "supplier_id",
                f"expected a supplier id of the supplier list, got {supplier_id!r}",
            )
        if not _YEAR.fullmatch(year):
            check.error("year", "year", f"expected a year YYYY, got {year!r}")
        elif supplier_id:
            key = (supplier_id, year)
            if key in first_row:
                check.error(
                    "duplicate",
                    "year",
                    f"expected one evaluation per supplier and year, {supplier_id!r} {year}"
                    f" is on row {first_row[key]}",
                )
            first_row.setdefault(key, line)
        for dimension in DIMENSION_IDS:
            check.score(dimension, row[dimension])
        check.date("evaluated_on", row["evaluated_on"])
        check.score("esg_questionnaire_score", row["esg_questionnaire_score"], optional=True)
    if problems:
        return _typed_evaluations(pd.DataFrame(columns=list(EVALUATION_COLUMNS))), problems
    return _typed_evaluations(frame), []
