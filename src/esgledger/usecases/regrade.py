"""Re-grading a register year: ``esgledger register regrade KIND YEAR``.

A rated register year (supplier evaluations, business-continuity risks, information-security
risks) is graded with the rules frozen for it (:mod:`esgledger.usecases.rules`). Re-grading
replaces them with the rules in force now (the company's tables, else the packaged), in one
transaction with its audit entry: the tables' SHA-256 before and after, the number of rows,
of rows whose class (level, grade, risk level) changes and of rows whose value (score, risk
value) changes, and the rows whose class changes (id, before, after; the first
:data:`LISTED`). It is for a group-wide editor, and refused (a 409) for a year the ESG
committee locked: nothing changes a locked period except an approved adjustment. A year whose
frozen rules are the rules in force is left as it is, and the answer says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from esgledger import audit
from esgledger.assess import results
from esgledger.assess.rule_tables import RegisterRules
from esgledger.auth.accounts import Principal
from esgledger.domain.errors import Conflict, NotFound
from esgledger.store import registers as stored_registers
from esgledger.store.engine import LedgerConnection as Connection
from esgledger.store.engine import LedgerEngine as Engine
from esgledger.store.engine import write_transaction
from esgledger.store.periods import year_locked
from esgledger.usecases import rules as register_rules
from esgledger.usecases.reference import require_group_editor

__all__ = ["GRADES", "LISTED", "Regrade", "grade_changes", "regrade"]

GRADES = {
    "supplier_evaluations": ("supplier_id", "level", "score"),
    "bcm": ("risk_id", "grade", "score"),
    "infosec": ("risk_id", "risk_level", "risk_value"),
}
"""Per rated register: the column naming a row, its class and its value."""
LISTED = 200
"""The rows whose class changes that the audit entry lists (all are counted)."""
TOLERANCE = 1e-9


@dataclass(frozen=True, slots=True)
class Regrade:
    """What a re-grade did: the tables' digests before and after, the rows, the rows whose
    class or value changes, the changed classes (id, before, after), whether the year had
    rules frozen before, and the audit entry (None: the same rules, nothing changed)."""

    kind: str
    year: int
    before: dict[str, str]
    after: dict[str, str]
    rows: int
    class_changes: tuple[tuple[str, str, str], ...]
    value_changes: int
    was_frozen: bool
    seq: int | None

    @property
    def same(self) -> bool:
        return self.seq is None


def _rows(conn: Connection, kind: str, year: int) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    rows = stored_registers.stored_frame(conn, kind, year)
    if rows.empty:
        raise NotFound(f"no {kind} register of {year} in the ledger")
    listed = (
        stored_registers.stored_frame(conn, "suppliers", year)
        if kind == "supplier_evaluations"
        else None
    )
    return rows, listed


def grade_changes(
    kind: str,
    rows: pd.DataFrame,
    old: RegisterRules,
    new: RegisterRules,
    listed: pd.DataFrame | None = None,
) -> tuple[tuple[tuple[str, str, str], ...], int]:
    """The rows of a register whose class changes from rules ``old`` to ``new`` (id, class
    before, class after, in the rows' order) and the number whose value changes."""
    key, cls, value = GRADES[kind]
    before = results.graded(kind, rows, old, listed)
    after = results.graded(kind, rows, new, listed)
    classes = before[cls].astype(str).to_numpy() != after[cls].astype(str).to_numpy()
    values = before[value].astype(float).to_numpy()
    moved = ~np.isclose(values, after[value].astype(float).to_numpy(), rtol=0, atol=TOLERANCE)
    changed = tuple(
        (str(k), str(b), str(a))
        for k, b, a in zip(
            before[key][classes], before[cls][classes], after[cls][classes], strict=True
        )
    )
    return changed, int(moved.sum())


def regrade(engine: Engine, who: Principal, kind: str, year: int) -> Regrade:
    """Grade register ``kind`` of ``year`` with the rules in force now and freeze them for
    the year (module doc); :class:`Conflict` for a locked year, :class:`NotFound` for a year
    without rows."""
    with write_transaction(engine) as conn:
        require_group_editor(conn, who, f"re-grading the {kind} register")
        current = register_rules.year_rules(conn, kind, year)
        rows, listed = _rows(conn, kind, year)
        if year_locked(conn, year):
            raise Conflict(
                f"period {year} is locked by the ESG committee: its {kind} register is not "
                "re-graded (nothing changes a locked period except an approved adjustment)"
            )
        new = register_rules.in_force(conn, kind)
        before, after = current.rules.sha256s(), new.sha256s()
        was_frozen = current.frozen is not None
        if was_frozen and before == after:
            return Regrade(kind, year, before, after, len(rows), (), 0, True, None)
        changed, moved = grade_changes(kind, rows, current.rules, new, listed)
        register_rules.freeze(conn, kind, year, new, who.username, None)
        detail: dict[str, Any] = {
            "rows": len(rows),
            "class_changes": len(changed),
            "value_changes": moved,
            "changed": [{"id": k, "before": b, "after": a} for k, b, a in changed[:LISTED]],
        }
        seq = audit.append(
            conn,
            who.username,
            "regrade",
            register_rules.YEAR_AUDIT_TYPE,
            f"{kind}:{year}",
            before={"frozen": was_frozen, "rules": before},
            after={"rules": after, **detail},
        )
    return Regrade(kind, year, before, after, len(rows), changed, moved, was_frozen, seq)
