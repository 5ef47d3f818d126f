"""The rules that grade the registers, kept in the ledger: the company's own rule tables and
the rules each register year is graded with.

Five rule tables (:data:`esgledger.assess.rule_tables.TABLES`) grade the rated registers:
``supplier_dimensions`` and ``supplier_levels`` the supplier evaluations, ``bcm_grades`` the
business-continuity risks, ``infosec_levels`` and ``infosec_method`` the information-security
risks. Each is the company's own when it entered one (:func:`import_rules`), else the packaged
default; together they are **the rules in force** (:func:`in_force`).

A register year keeps the rules it was graded with: the first import of a rated register for a
year freezes the rules then in force for (kind, year), in the import's transaction
(:func:`rules_for_import`, called by :func:`esgledger.usecases.registers.import_frame`); later
imports of the year are checked and graded with them, and its results are read with them
(:func:`year_rules`). Neither a change of the company's tables nor a new version of the
packaged ones changes a frozen year; ``esgledger register regrade``
(:mod:`esgledger.usecases.regrade`) replaces a year's rules with those in force, audited.

A year imported before the rules were kept per year has none frozen: it is graded with the
rules in force and says so (:meth:`YearRules.note`) until it is re-graded. So that a change of
the company's rules never re-grades such a year silently, :func:`import_rules` and
:func:`remove_rules` first freeze every year of the register the table grades that has rows
and no frozen rules with the rules it was graded with until then (its results do not change;
a locked year's included, since nothing in it changes), and say which.

Entering or removing a table is for a group-wide editor
(:func:`esgledger.usecases.reference.require_group_editor`), all or nothing (every problem
located ``file:row:column``), and audited with the rows before and after; the same table again
changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from esgledger import audit
from esgledger.assess.rule_tables import (
    KIND_TABLES,
    LEDGER,
    PACKAGED,
    TABLES,
    RegisterRules,
    RuleRows,
    check_table,
    packaged,
    packaged_rules,
    rule_table,
)
from esgledger.auth.accounts import Principal
from esgledger.domain.diagnostics import Diagnostic, Severity
from esgledger.domain.errors import Invalid, Rejected
from esgledger.store import registers as stored_registers
from esgledger.store import rules as stored
from esgledger.store.engine import LedgerConnection as Connection
from esgledger.store.engine import LedgerEngine as Engine
from esgledger.store.engine import write_transaction
from esgledger.usecases.csv_files import cell_frame
from esgledger.usecases.reference import require_group_editor

__all__ = [
    "AUDIT_TYPE",
    "RulesChange",
    "RulesRejected",
    "YearRules",
    "freeze_unfrozen",
    "import_rules",
    "in_force",
    "remove_rules",
    "rules_for_import",
    "table_in_force",
    "table_list",
    "year_list",
    "year_rules",
    "year_table",
]

AUDIT_TYPE = "rule_table"
YEAR_AUDIT_TYPE = "register_rules"


class RulesRejected(Rejected):
    """A rule table with problems: nothing of it was written."""

    def __init__(self, problems: list[Diagnostic]) -> None:
        super().__init__("rule table", problems)


def _table_name(name: str) -> str:
    try:
        return rule_table(name).name
    except ValueError as exc:
        raise Invalid(str(exc)) from None


def _kind(kind: str) -> str:
    if kind not in KIND_TABLES:
        raise Invalid(
            f"the {kind!r} register is not graded by rules: expected one of "
            f"{', '.join(KIND_TABLES)}"
        )
    return kind


# -- the rules in force -----------------------------------------------------------------------


def own_tables(bind: Engine | Connection) -> dict[str, RuleRows]:
    """The company's rule tables, by name."""
    return {
        name: RuleRows.from_dict(name, json.loads(str(row["cells"])))
        for name, row in stored.tables(bind).items()
        if name in TABLES
    }


def in_force(bind: Engine | Connection, kind: str) -> RegisterRules:
    """The rules in force for register ``kind``: the company's tables, else the packaged."""
    return packaged_rules(_kind(kind), own_tables(bind))


def table_in_force(bind: Engine | Connection, name: str) -> RuleRows:
    """The table ``name`` in force: the company's, else the packaged default."""
    return own_tables(bind).get(_table_name(name)) or packaged(name)


@dataclass(frozen=True, slots=True)
class YearRules:
    """The rules a register year is graded with: its frozen rules, or (``frozen`` None: a year
    imported before rules were kept per year, or with no rows yet) the rules in force."""

    kind: str
    year: int
    rules: RegisterRules
    frozen: Mapping[str, Any] | None
    """``frozen_by``, ``frozen_at`` and ``import_id`` (None: a re-grade) of the freeze."""

    def note(self) -> Diagnostic | None:
        """A warning when the year has no frozen rules (what ``register show``, the register
        page and the lineage say)."""
        if self.frozen is not None:
            return None
        return Diagnostic(
            "rules-not-frozen",
            f"the {self.kind} register of {self.year} has no rules of its own (imported before "
            "the rules were kept per year): its results use the rules in force now "
            f"({self.rules.describe()}) and change when they do; `esgledger register regrade "
            f"{self.kind} {self.year}` freezes them for the year",
            severity=Severity.WARNING,
        )

    def describe(self) -> str:
        """One line: where the rules come from and their tables' digests."""
        if self.frozen is None:
            return f"not frozen: the rules in force ({self.rules.describe()})"
        how = (
            f"import {self.frozen['import_id']}"
            if self.frozen.get("import_id") is not None
            else "re-grade"
        )
        return (
            f"frozen {self.frozen['frozen_at']:%Y-%m-%d %H:%M} UTC by {self.frozen['frozen_by']}"
            f" ({how}): {self.rules.describe()}"
        )


def year_rules(bind: Engine | Connection, kind: str, year: int) -> YearRules:
    """The rules register ``kind`` of ``year`` is graded with (frozen, else in force)."""
    found = stored.frozen(bind, _kind(kind), year)
    if found is None:
        return YearRules(kind, year, in_force(bind, kind), None)
    rules = RegisterRules.from_json(kind, str(found.pop("rules")))
    return YearRules(kind, year, rules, found)


def year_table(bind: Engine | Connection, name: str, year: int) -> RuleRows:
    """The table ``name`` that its register's ``year`` is graded with (frozen, else in
    force)."""
    table = rule_table(_table_name(name))
    return year_rules(bind, table.kind, year).rules.table(table.name)


def rules_for_import(conn: Connection, kind: str, year: int) -> tuple[RegisterRules, bool]:
    """The rules an import of register ``kind`` for ``year`` is checked and graded with, and
    whether they are new to the year (none frozen: the rules in force, which the caller
    freezes with :func:`freeze` once the import is written)."""
    found = year_rules(conn, kind, year)
    return found.rules, found.frozen is None


def freeze(
    conn: Connection, kind: str, year: int, rules: RegisterRules, who: str, import_id: int | None
) -> None:
    """Freeze ``rules`` for register ``kind`` of ``year`` (inside the caller's transaction)."""
    stored.freeze(conn, kind, year, rules.to_json(), who, import_id)


def freeze_unfrozen(conn: Connection, kind: str, who: str) -> list[int]:
    """Freeze, for every year of register ``kind`` with rows and no frozen rules, the rules in
    force (those its results use until now); the years frozen."""
    rules = in_force(conn, kind)
    years = [
        y
        for y in stored_registers.register_years(conn, kind)
        if stored.frozen(conn, kind, y) is None
    ]
    for year in years:
        freeze(conn, kind, year, rules, who, None)
    return years


# -- listing ----------------------------------------------------------------------------------


def table_list(bind: Engine | Connection) -> list[dict[str, Any]]:
    """Each rule table: ``name``, the ``register`` it grades, ``origin`` (packaged or the
    company's: ledger), ``sha256``, ``rows``, the packaged default's ``packaged_sha256``,
    and for the company's the ``file``, ``entered_by`` and ``entered_at``."""
    own = stored.tables(bind)
    out = []
    for name, table in TABLES.items():
        row = own.get(name)
        rows = RuleRows.from_dict(name, json.loads(str(row["cells"]))) if row else packaged(name)
        out.append(
            {
                "name": name,
                "register": table.kind,
                "origin": rows.origin,
                "sha256": rows.sha256,
                "rows": len(rows.rows),
                "packaged_sha256": packaged(name).sha256,
                "file": "" if row is None else row["file_name"],
                "entered_by": "" if row is None else row["entered_by"],
                "entered_at": None if row is None else row["entered_at"],
            }
        )
    return out


def year_list(bind: Engine | Connection) -> list[dict[str, Any]]:
    """Each rated register year with rows: ``kind``, ``year``, ``frozen`` (whether it has
    rules of its own), ``rules`` (each table's origin and digest), by whom, when, and the
    import that froze them (empty: a re-grade or a change of the rules)."""
    frozen = {(str(r["kind"]), int(r["year"])): r for r in stored.frozen_years(bind)}
    out = []
    for kind in KIND_TABLES:
        years = set(stored_registers.register_years(bind, kind))
        years |= {y for k, y in frozen if k == kind}
        for year in sorted(years):
            row = frozen.get((kind, year))
            rules = (
                in_force(bind, kind)
                if row is None
                else RegisterRules.from_json(kind, str(row["rules"]))
            )
            out.append(
                {
                    "kind": kind,
                    "year": year,
                    "frozen": row is not None,
                    "rules": rules.describe(),
                    "frozen_by": "" if row is None else row["frozen_by"],
                    "frozen_at": None if row is None else row["frozen_at"],
                    "import_id": None if row is None else row["import_id"],
                }
            )
    return out


# -- entering and removing the company's tables -----------------------------------------------


@dataclass(frozen=True, slots=True)
class RulesChange:
    """What an import or a removal of a rule table did: the table, its digest before and
    after (in force: the company's or the packaged), the register years frozen first with the
    rules they were graded with, and the audit entry (None: nothing changed)."""

    name: str
    rows: int
    sha256_before: str
    sha256_after: str
    origin_before: str
    origin_after: str
    froze: tuple[tuple[str, int], ...]
    seq: int | None


def _frame(text: str, name: str) -> pd.DataFrame:
    frame, unreadable = cell_frame(text, name)
    if frame is None:
        raise RulesRejected([] if unreadable is None else [unreadable])
    return frame


def _replace(
    conn: Connection, who: Principal, name: str, after: RuleRows, file_name: str | None
) -> RulesChange:
    """The company's table ``name`` becomes ``after`` (the packaged default: removed), with
    the unfrozen years of its register frozen first and one audit entry."""
    before = table_in_force(conn, name)
    if before == after:
        n = len(after.rows)
        return RulesChange(
            name, n, before.sha256, after.sha256, before.origin, after.origin, (), None
        )
    kind = rule_table(name).kind
    froze = tuple((kind, y) for y in freeze_unfrozen(conn, kind, who.username))
    if after.origin == PACKAGED:
        stored.delete_table(conn, name)
    else:
        cells = json.dumps(after.to_dict(), ensure_ascii=False)
        stored.put_table(conn, name, cells, after.sha256, file_name or "", who.username)
    seq = audit.append(
        conn,
        who.username,
        "import" if after.origin == LEDGER else "remove",
        AUDIT_TYPE,
        name,
        before={"origin": before.origin, "sha256": before.sha256, "rows": before.records()},
        after={
            "origin": after.origin,
            "sha256": after.sha256,
            "rows": after.records(),
            "file": file_name,
            "froze": [{"kind": k, "year": y} for k, y in froze],
        },
    )
    n = len(after.rows)
    return RulesChange(
        name, n, before.sha256, after.sha256, before.origin, after.origin, froze, seq
    )


def import_rules(
    engine: Engine, who: Principal, name: str, text: str, file_name: str
) -> RulesChange:
    """The company's table ``name`` becomes the CSV ``text`` (the file ``file_name``), checked
    whole by the table's parser: :class:`RulesRejected` with every problem located, and
    nothing written, otherwise."""
    table = _table_name(name)
    frame = _frame(text, file_name)
    with write_transaction(engine) as conn:
        require_group_editor(conn, who, f"the {table} rule table")
        rows, problems = check_table(table, frame, file_name)
        if rows is None:
            raise RulesRejected(problems)
        return _replace(conn, who, table, rows, file_name)


def remove_rules(engine: Engine, who: Principal, name: str) -> RulesChange:
    """The table ``name`` back to the packaged default (nothing when it already is)."""
    table = _table_name(name)
    with write_transaction(engine) as conn:
        require_group_editor(conn, who, f"the {table} rule table")
        return _replace(conn, who, table, packaged(table), None)
