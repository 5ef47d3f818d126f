"""The rule tables that grade the registers, as tables: the packaged defaults, a company's own,
and the rules one register year is graded with.

Five tables (:data:`TABLES`), each the columns of its packaged file in ``data/``:

- ``supplier_dimensions`` and ``supplier_levels`` rate the supplier evaluations
  (:mod:`esgledger.assess.suppliers`);
- ``bcm_grades`` grades the business-continuity risks, ``infosec_levels`` and
  ``infosec_method`` assess the information-security risks (:mod:`esgledger.assess.risks`).

A table is its cells as strings (:class:`RuleRows`), so that a company's table is kept exactly
as entered and a table's SHA-256 is that of its CSV as :meth:`RuleRows.csv` writes it (the
columns in the packaged order, ``\\n`` line ends, UTF-8): the same table has the same digest
wherever it came from. :func:`check_table` reads a company's table with the parsers that read
the packaged one (``load_dimensions(table)``, ``load_levels(table)``,
``load_bcm_grades(table)``, ``load_infosec_levels(table)``, ``load_infosec_method(table)``)
and locates every problem ``file:row:column`` (the header is row 1).

:class:`RegisterRules` is the set of tables one register kind is graded with, serialisable
(:meth:`RegisterRules.to_json`) so that a register year can keep the rules it was graded with.
Pure: tables in, parsed rules out; the ledger keeps them (:mod:`esgledger.usecases.rules`).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

import pandas as pd

from esgledger.assess import risk_rules, suppliers
from esgledger.assess.rule_problems import RuleTableError
from esgledger.assess.topics import read_data_csv
from esgledger.domain.diagnostics import Diagnostic

__all__ = [
    "KIND_TABLES",
    "LEDGER",
    "PACKAGED",
    "TABLES",
    "RegisterRules",
    "RuleRows",
    "RuleTable",
    "check_table",
    "packaged",
    "packaged_rules",
    "rule_table",
]

PACKAGED, LEDGER = "packaged", "ledger"
"""Where a table comes from: the package's default, or the company's own in its ledger."""


@dataclass(frozen=True, slots=True)
class RuleTable:
    """One rule table: its name (its packaged file is ``<name>.csv``), the register kind it
    grades, its columns (the packaged file's, in order), the column naming a row, and the
    parser of a table of strings (a :class:`~esgledger.assess.rule_problems.RuleTableError`
    on a bad one)."""

    name: str
    kind: str
    title: str
    columns: tuple[str, ...]
    key: str
    parse: Callable[[pd.DataFrame], object]

    @property
    def file(self) -> str:
        return f"{self.name}.csv"


TABLES: Mapping[str, RuleTable] = {
    table.name: table
    for table in (
        RuleTable(
            "supplier_dimensions",
            "supplier_evaluations",
            "supplier evaluation dimensions and weights",
            ("dimension", "name_en", "name_zh", "weight", "source"),
            "dimension",
            suppliers.load_dimensions,
        ),
        RuleTable(
            "supplier_levels",
            "supplier_evaluations",
            "supplier levels A-D: thresholds and follow-ups",
            (
                "level",
                "name_en",
                "name_zh",
                "min_score",
                "follow_up",
                "follow_up_en",
                "follow_up_zh",
                "source",
            ),
            "level",
            suppliers.load_levels,
        ),
        RuleTable(
            "bcm_grades",
            "bcm",
            "business-continuity grades: thresholds and treatments",
            ("grade", "name_en", "name_zh", "min_score", "treatment_en", "treatment_zh", "source"),
            "grade",
            risk_rules.load_bcm_grades,
        ),
        RuleTable(
            "infosec_levels",
            "infosec",
            "information-security risk levels: thresholds and treatments",
            ("level", "name_en", "name_zh", "min_risk", "treatment_en", "treatment_zh", "source"),
            "level",
            risk_rules.load_infosec_levels,
        ),
        RuleTable(
            "infosec_method",
            "infosec",
            "information-security method (GB/T 20984 multiplication method)",
            ("parameter", "value", "description", "source"),
            "parameter",
            risk_rules.load_infosec_method,
        ),
    )
}
"""The rule tables, by name."""

KIND_TABLES: Mapping[str, tuple[str, ...]] = {
    kind: tuple(t.name for t in TABLES.values() if t.kind == kind)
    for kind in ("supplier_evaluations", "bcm", "infosec")
}
"""The tables that grade each rated register kind."""


def rule_table(name: str) -> RuleTable:
    """The table ``name``; :class:`ValueError` naming the tables otherwise."""
    try:
        return TABLES[name]
    except KeyError:
        raise ValueError(
            f"unknown rule table {name!r}: expected one of {', '.join(TABLES)}"
        ) from None


@dataclass(frozen=True, slots=True)
class RuleRows:
    """The cells of a rule table (strings, in the columns of :attr:`RuleTable.columns`) and
    where it comes from (:data:`PACKAGED` or :data:`LEDGER`)."""

    name: str
    rows: tuple[tuple[str, ...], ...]
    origin: str = PACKAGED

    @property
    def columns(self) -> tuple[str, ...]:
        return rule_table(self.name).columns

    def records(self) -> list[dict[str, str]]:
        """The rows as cells by column."""
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]

    def frame(self) -> pd.DataFrame:
        """The rows as a frame of strings (what the parsers read)."""
        return pd.DataFrame(list(self.rows), columns=list(self.columns), dtype=str)

    def csv(self) -> str:
        """The table as a CSV file (what ``esgledger rules export`` writes)."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(self.columns)
        writer.writerows(self.rows)
        return out.getvalue()

    @property
    def sha256(self) -> str:
        """The SHA-256 of :meth:`csv` (UTF-8): the table's fingerprint."""
        return hashlib.sha256(self.csv().encode("utf-8")).hexdigest()

    def parsed(self) -> object:
        """The table read by its parser (``RuleTableError`` when it does not pass)."""
        return rule_table(self.name).parse(self.frame())

    def to_dict(self) -> dict[str, Any]:
        return {
            "origin": self.origin,
            "sha256": self.sha256,
            "columns": list(self.columns),
            "rows": [list(row) for row in self.rows],
        }

    @classmethod
    def from_dict(cls, name: str, data: Mapping[str, Any]) -> RuleRows:
        """The table of :meth:`to_dict` (cells of a column the table no longer has are
        dropped, a column it did not have is empty)."""
        stored = [str(c) for c in data.get("columns", rule_table(name).columns)]
        columns = rule_table(name).columns
        rows = tuple(
            tuple(str(dict(zip(stored, row, strict=True)).get(c, "")) for c in columns)
            for row in data["rows"]
        )
        return cls(name, rows, str(data.get("origin", LEDGER)))


def _cells(frame: pd.DataFrame, columns: tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
    """The cells of ``columns``, stripped, line ends ``\n`` (so that :meth:`RuleRows.csv`
    reads back as the same cells)."""
    picked = (
        frame[list(columns)]
        .astype(str)
        .apply(lambda column: column.str.replace("\r\n", "\n").str.replace("\r", "\n").str.strip())
    )
    return tuple(tuple(str(v) for v in row) for row in picked.itertuples(index=False))


@cache
def packaged(name: str) -> RuleRows:
    """The packaged default of table ``name`` (``data/<name>.csv``)."""
    table = rule_table(name)
    return RuleRows(name, _cells(read_data_csv(table.file), table.columns), PACKAGED)


def _located(name: str, file: str, exc: RuleTableError) -> list[Diagnostic]:
    found = [
        Diagnostic(
            name,
            p.message,
            file=file,
            row=None if p.row is None else p.row + 2,
            column=None if p.row is None else p.column,
        )
        for p in exc.problems
    ]
    return sorted(found, key=lambda d: (d.row or 0, d.column or ""))


def check_table(
    name: str, frame: pd.DataFrame, file: str
) -> tuple[RuleRows | None, list[Diagnostic]]:
    """The rule table ``name`` of a frame of strings read from ``file`` (the company's own),
    or every problem located: a column of the packaged table missing or one it does not have
    (row 1), no row, or what the table's parser refuses (on its row and column where the
    problem has one). The cells are kept stripped of surrounding blanks."""
    table = rule_table(name)
    header = [str(c).strip() for c in frame.columns]
    listed = ", ".join(table.columns)
    problems = [
        Diagnostic(
            "column-missing",
            f"expected a column {c!r} (the columns of {table.file}: {listed})",
            file=file,
            row=1,
            column=c,
        )
        for c in table.columns
        if c not in header
    ]
    problems += [
        Diagnostic(
            "column-unknown",
            f"expected a column of {table.file} ({listed}), got {c!r}",
            file=file,
            row=1,
            column=c,
        )
        for c in header
        if c not in table.columns
    ]
    if problems:
        return None, problems
    if frame.empty:
        return None, [Diagnostic("empty", "expected at least one row", file=file, row=2)]
    renamed = frame.set_axis(header, axis=1)
    rows = RuleRows(name, _cells(renamed, table.columns), LEDGER)
    try:
        rows.parsed()
    except RuleTableError as exc:
        return None, _located(name, file, exc)
    return rows, []


@dataclass(frozen=True, slots=True)
class RegisterRules:
    """The rule tables one rated register kind is graded with (:data:`KIND_TABLES`)."""

    kind: str
    tables: tuple[RuleRows, ...]

    def table(self, name: str) -> RuleRows:
        for found in self.tables:
            if found.name == name:
                return found
        raise ValueError(f"the rules of {self.kind} have no table {name!r}")

    def sha256s(self) -> dict[str, str]:
        """The SHA-256 of each table, by name."""
        return {t.name: t.sha256 for t in self.tables}

    def describe(self) -> str:
        """``name origin sha256[:12]`` of each table, ``; ``-separated (for notes)."""
        return "; ".join(f"{t.name} {t.origin} {t.sha256[:12]}" for t in self.tables)

    def to_json(self) -> str:
        return json.dumps({t.name: t.to_dict() for t in self.tables}, ensure_ascii=False)

    @classmethod
    def from_json(cls, kind: str, text: str) -> RegisterRules:
        data = json.loads(text)
        return cls(kind, tuple(RuleRows.from_dict(n, data[n]) for n in KIND_TABLES[kind]))

    def dimensions(self) -> tuple[suppliers.Dimension, ...]:
        return suppliers.load_dimensions(self.table("supplier_dimensions").frame())

    def levels(self) -> tuple[suppliers.Level, ...]:
        return suppliers.load_levels(self.table("supplier_levels").frame())

    def bcm_grades(self) -> tuple[risk_rules.BcmGrade, ...]:
        return risk_rules.load_bcm_grades(self.table("bcm_grades").frame())

    def infosec_levels(self) -> tuple[risk_rules.InfosecLevel, ...]:
        return risk_rules.load_infosec_levels(self.table("infosec_levels").frame())

    def infosec_method(self) -> risk_rules.InfosecMethod:
        return risk_rules.load_infosec_method(self.table("infosec_method").frame())


def packaged_rules(kind: str, own: Mapping[str, RuleRows] | None = None) -> RegisterRules:
    """The rules of register ``kind``: each table the company's own (``own``, by name) where
    it has one, else the packaged default."""
    if kind not in KIND_TABLES:
        raise ValueError(f"register {kind!r} is not graded: expected one of {list(KIND_TABLES)}")
    found = own or {}
    return RegisterRules(kind, tuple(found.get(n) or packaged(n) for n in KIND_TABLES[kind]))
