"""Validate a table of strings into typed rows, collecting every problem with its location.

Checks run column by column over the whole table (vectorised with pandas), so a 100k-row file
is validated in about a second and every bad cell is reported, not only the first.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
import pandas as pd

from esgledger.calc.normalise import route_kind
from esgledger.domain.diagnostics import Diagnostic
from esgledger.factors.library import FactorLibrary, unknown_region
from esgledger.ingest.limits import IMPORT
from esgledger.ingest.reader import Table
from esgledger.ingest.schema import DATA_QUALITY, INSTRUMENT_TYPES, TEMPLATES
from esgledger.units import UnitError

# ASCII digits only: full-width digits (１２３) are refused rather than guessed.
_NUMBER = re.compile(r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$")
_GROUPED = re.compile(r"^[0-9]{1,3}(,[0-9]{3})+(\.[0-9]+)?$")
_PERIOD = re.compile(r"^([0-9]{4})(?:-([0-9]{1,2}))?$")
MAX_DIAGNOSTICS = IMPORT.max_problems
"""How many problems of an import are listed (the bulk import's limit, ingest/limits.py)."""


class Collector:
    """Diagnostics of one table, with the spreadsheet row of each data row."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self.items: list[Diagnostic] = []
        self.not_listed = 0  # problems found beyond MAX_DIAGNOSTICS

    def cells(
        self,
        mask: pd.Series,
        column: str,
        code: str,
        message: Callable[[str], str],
        values: pd.Series,
    ) -> None:
        found = mask[mask].index
        room = max(0, MAX_DIAGNOSTICS - len(self.items))
        self.not_listed += max(0, len(found) - room)
        for index in found[:room]:
            self.items.append(
                Diagnostic(
                    code,
                    message(str(values.at[index])),
                    file=self.table.file,
                    row=int(index) + 2,
                    column=column,
                )
            )

    def add(self, diagnostic: Diagnostic) -> None:
        self.items.append(diagnostic)

    def all(self) -> tuple[Diagnostic, ...]:
        """The listed diagnostics, and one more saying how many were not listed."""
        if not self.not_listed:
            return tuple(self.items)
        more = Diagnostic(
            "more-problems",
            f"{self.not_listed} more problems of the same kinds "
            f"are not listed (the first {MAX_DIAGNOSTICS} are)",
            file=self.table.file,
        )
        return (*self.items, more)


def frame_of(table: Table, kind: str, problems: Collector) -> pd.DataFrame | None:
    columns = TEMPLATES[kind]
    known = {c.name for c in columns}
    missing = [c.name for c in columns if c.required and c.name not in table.header]
    for name in missing:
        problems.add(
            Diagnostic(
                "column-missing",
                f"required column {name!r} is missing "
                f"(header: {', '.join(h for h in table.header if h)})",
                file=table.file,
                row=1,
                column=name,
            )
        )
    unknown = [h for h in table.header if h and h not in known]
    for name in unknown:
        problems.add(
            Diagnostic(
                "column-unknown",
                f"unknown column {name!r}; template columns are {', '.join(sorted(known))}",
                file=table.file,
                row=1,
                column=name,
            )
        )
    dupes = {h for h in table.header if h and table.header.count(h) > 1}
    for name in dupes:
        problems.add(
            Diagnostic(
                "column-duplicate",
                f"column {name!r} appears twice",
                file=table.file,
                row=1,
                column=name,
            )
        )
    if missing or unknown or dupes:
        return None
    if not table.rows:
        problems.add(
            Diagnostic("empty", "the file has a header but no data rows", file=table.file, row=2)
        )
        return None
    width = len(table.header)
    rows = [tuple(r[:width]) + ("",) * (width - len(r)) for r in table.rows]
    long_rows = [i for i, r in enumerate(table.rows) if any(r[width:])]
    for i in long_rows[:MAX_DIAGNOSTICS]:
        problems.add(
            Diagnostic("row-width", "more cells than header columns", file=table.file, row=i + 2)
        )
    frame = pd.DataFrame(rows, columns=list(table.header), dtype=object).fillna("")
    for column in columns:
        if column.name not in frame:
            frame[column.name] = ""
    return frame


def parse_numbers(
    values: pd.Series, column: str, problems: Collector, allow_empty: bool = False
) -> pd.Series:
    text = values.astype(str).str.strip()
    grouped = text.str.match(_GROUPED)
    plain = text.where(~grouped, text.str.replace(",", "", regex=False))
    ok = plain.str.match(_NUMBER)
    empty = text.eq("")
    if not allow_empty:
        problems.cells(empty, column, "required", lambda _v: f"{column} is empty", text)
    problems.cells(
        ~ok & ~empty, column, "number", lambda v: f"{column} {v!r} is not a number", text
    )
    numbers = pd.to_numeric(plain.where(ok), errors="coerce").astype("float64")
    problems.cells(
        numbers < 0,
        column,
        "negative",
        lambda v: (
            f"{column} {v} is negative: enter corrections as a separate "
            "adjustment, not a negative amount"
        ),
        text,
    )
    problems.cells(
        numbers.isin([np.inf, -np.inf]),
        column,
        "number",
        lambda v: f"{column} {v!r} is not a finite number",
        text,
    )
    return numbers


def parse_periods(values: pd.Series, problems: Collector) -> tuple[pd.Series, pd.Series]:
    text = values.astype(str).str.strip()
    parts = text.str.extract(_PERIOD)
    years = pd.to_numeric(parts[0], errors="coerce")
    months = pd.to_numeric(parts[1], errors="coerce")
    bad = years.isna() | ~years.between(1990, 2100) | (months.notna() & ~months.between(1, 12))
    problems.cells(
        bad,
        "period",
        "period",
        lambda v: (
            f"period {v!r} is not YYYY or YYYY-MM (year 1990-2100)" if v else "period is empty"
        ),
        text,
    )
    return years.astype("Int64"), months.astype("Int64")


def required_text(frame: pd.DataFrame, column: str, problems: Collector) -> None:
    problems.cells(
        frame[column].astype(str).str.strip().eq(""),
        column,
        "required",
        lambda _v: f"{column} is empty",
        frame[column],
    )


def duplicates(frame: pd.DataFrame, column: str, problems: Collector) -> None:
    values = frame[column].astype(str)
    nonempty = values.ne("")
    dup = values.duplicated(keep="first") & nonempty
    firsts = values[nonempty].drop_duplicates()
    first_row = {v: int(i) + 2 for i, v in zip(firsts.index.to_list(), firsts, strict=True)}
    problems.cells(
        dup, column, "duplicate", lambda v: f"{column} {v!r} repeats row {first_row.get(v)}", values
    )


def check_entities(frame: pd.DataFrame, entity_ids: frozenset[str], problems: Collector) -> None:
    values = frame["entity_id"].astype(str).str.strip()
    problems.cells(
        values.ne("") & ~values.isin(entity_ids),
        "entity_id",
        "entity",
        lambda v: f"entity {v!r} is not in the organisation tree (esgledger entities list)",
        values,
    )


def check_units(frame: pd.DataFrame, library: FactorLibrary, problems: Collector) -> None:
    """Each (activity type, unit) pair must be convertible to the type's basis unit."""
    known = frame["activity_type"].isin(library.known_activity_types())
    pairs = frame.loc[known, ["activity_type", "unit"]].drop_duplicates()
    bad: dict[tuple[str, str], str] = {}
    for name, unit in pairs.itertuples(index=False):
        at = library.type_rows[name]
        try:
            if route_kind(at, unit) is not None:
                continue  # the calculation converts it (with a density, fx, NCV, enthalpy)
        except UnitError:
            bad[(name, unit)] = (
                f"unit {unit!r} is not a known unit; {name} is measured in "
                f"{at['basis_unit']} (or a unit of the same dimension)"
                if unit
                else f"unit is empty; {name} is measured in {at['basis_unit']}"
            )
            continue
        bad[(name, unit)] = f"unit {unit!r} does not fit {name} (measured in {at['basis_unit']})"
    if not bad:
        return
    key = pd.Series(
        list(zip(frame["activity_type"], frame["unit"], strict=True)), index=frame.index
    )
    messages = key.map(bad)
    problems.cells(messages.notna() & known, "unit", "unit", lambda m: m, messages)


def check_activity(frame: pd.DataFrame, library: FactorLibrary, problems: Collector) -> None:
    types = frame["activity_type"].astype(str).str.strip()
    problems.cells(
        types.ne("") & ~types.isin(library.known_activity_types()),
        "activity_type",
        "activity-type",
        lambda v: f"unknown activity type {v!r} (esgledger factors types)",
        types,
    )
    check_units(frame, library, problems)
    regions = frame["region"].astype(str).str.strip()
    codes = regions.map(lambda r: library.normalise_region(r) if r else None)
    problems.cells(
        regions.ne("") & codes.isna(),
        "region",
        "region",
        unknown_region,
        regions,
    )
    frame["region_code"] = codes
    quality = frame["data_quality"].astype(str).str.strip().str.lower()
    problems.cells(
        quality.ne("") & ~quality.isin(DATA_QUALITY),
        "data_quality",
        "data-quality",
        lambda v: f"data_quality {v!r} is not one of {', '.join(DATA_QUALITY)}",
        quality,
    )
    is_instrument = types.isin(INSTRUMENT_TYPES)
    instrument = frame["instrument_id"].astype(str).str.strip()
    problems.cells(
        is_instrument & instrument.eq(""),
        "instrument_id",
        "required",
        lambda _v: "instrument_id is required for certificates and contracts",
        instrument,
    )
    duplicates(frame.assign(instrument_id=instrument), "instrument_id", problems)
    supplier = types.eq("supplier_electricity")
    ef_text = frame["ef_value"].astype(str).str.strip()
    problems.cells(
        supplier & ef_text.eq(""),
        "ef_value",
        "required",
        lambda _v: "ef_value is required for supplier_electricity",
        ef_text,
    )
    dates = frame["activity_date"].astype(str).str.strip()
    parsed = pd.to_datetime(dates.where(dates.ne("")), format="%Y-%m-%d", errors="coerce")
    problems.cells(
        dates.ne("") & parsed.isna(),
        "activity_date",
        "date",
        lambda v: f"activity_date {v!r} is not YYYY-MM-DD",
        dates,
    )
