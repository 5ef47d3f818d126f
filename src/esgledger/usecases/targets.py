"""The company's targets: entered into its ledger from a targets file, read back as the Book
holds them, and the climate milestones of its pathway.

No target ships with the product: a ledger without targets says so wherever targets are
asked for (:data:`NO_TARGETS`, :class:`MilestonesMissingError`) instead of borrowing another
company's.

:func:`import_targets` replaces the ledger's targets with a file's, all or nothing: the file
is validated whole (:func:`esgledger.checks.targets.parse_targets`, every problem located
``file:row:column``), the caller must edit the whole group, and a change of a target in force
in a year the ESG committee locked is refused (the status of that year's targets is part of
its report). The replacement and its audit entry (the targets before and after) are one
transaction; the same targets again change nothing.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from esgledger import audit
from esgledger.auth.accounts import Principal
from esgledger.book import Source, book_of
from esgledger.checks.targets import (
    NO_TARGETS,
    Target,
    parse_target_rows,
    read_target_rows,
)
from esgledger.domain.diagnostics import Diagnostic, Severity, has_errors
from esgledger.domain.errors import Invalid
from esgledger.store import periods
from esgledger.store import targets as stored
from esgledger.store.engine import LedgerEngine as Engine
from esgledger.store.engine import write_transaction
from esgledger.strategy.pathways import Milestones, milestones, unmarked
from esgledger.usecases.csv_files import row_changes
from esgledger.usecases.reference import LockedPeriodChange, require_group_editor

__all__ = [
    "NO_TARGETS",
    "MilestonesMissingError",
    "TargetImport",
    "TargetsRejected",
    "import_targets",
    "ledger_milestones",
    "ledger_targets",
    "targets_csv",
]


class MilestonesMissingError(ValueError):
    """The ledger's targets do not mark every climate milestone (peak, neutrality, net zero)."""

    def __init__(self, lacking: Sequence[str], entered: int) -> None:
        self.lacking = tuple(lacking)
        what = (
            f"no target marks {', '.join(self.lacking)}"
            if entered
            else "no targets entered in this ledger"
        )
        super().__init__(
            f"the group's pathway needs its climate milestones: {what}. Mark the carbon "
            "peak, neutrality and net-zero targets in the `milestone` column (peak, "
            "neutrality, net_zero) of the targets file and enter it with "
            "`esgledger targets import FILE`"
        )


class TargetsRejected(Invalid):
    """A targets file with problems: nothing was entered; ``diagnostics`` locates each."""

    def __init__(self, diagnostics: Sequence[Diagnostic]) -> None:
        self.diagnostics = tuple(diagnostics)
        errors = [d for d in diagnostics if d.severity is Severity.ERROR]
        shown = "; ".join(str(d) for d in errors[:20])
        more = len(errors) - 20
        super().__init__(
            f"nothing entered, {len(errors)} problem(s): {shown}"
            + (f"; and {more} more" if more > 0 else "")
        )


@dataclass(frozen=True, slots=True)
class TargetImport:
    """What an import did: the targets now in the ledger, those added, changed and removed
    (by id), its audit entry (None: the same targets again, nothing written) and the
    diagnostics that did not stop it (info: targets without a catalogue metric)."""

    count: int
    added: tuple[str, ...]
    changed: tuple[str, ...]
    removed: tuple[str, ...]
    seq: int | None
    diagnostics: tuple[Diagnostic, ...]


def ledger_targets(source: Source) -> tuple[list[Target], list[Diagnostic]]:
    """The ledger's targets as its Book parsed them (none entered: none, and no diagnostic)."""
    return book_of(source).targets()


def ledger_milestones(source: Source) -> Milestones:
    """The climate milestones marked among the ledger's targets;
    :class:`MilestonesMissingError` when any of peak, neutrality and net zero is not marked."""
    found, _ = ledger_targets(source)
    lacking = unmarked(found)
    if lacking:
        raise MilestonesMissingError(lacking, len(found))
    return milestones(found)


def _cells(lines: Sequence[tuple[int, Mapping[str, str]]]) -> list[dict[str, str]]:
    return [{c: (cells.get(c) or "").strip() for c in stored.COLUMNS} for _, cells in lines]


def _start(row: Mapping[str, str]) -> int | None:
    try:
        return int(row.get("start_year", ""))
    except ValueError:
        return None


def import_targets(engine: Engine, who: Principal, text: str, name: str) -> TargetImport:
    """The ledger's targets become those of the CSV ``text`` (the file ``name``); see the
    module text. Raises :class:`TargetsRejected` with every located problem."""
    lines, problems = read_target_rows(text, name)
    problems += parse_target_rows(lines, name)[1]
    if has_errors(problems):
        raise TargetsRejected(problems)
    rows = _cells(lines)
    with write_transaction(engine) as conn:
        require_group_editor(conn, who, "the targets")
        before = stored.target_rows(conn)
        found = row_changes(before, rows, "target_id")
        if found.same:
            return TargetImport(len(rows), (), (), (), None, tuple(problems))
        added, changed, removed = found.added, found.changed, found.removed
        touched = {**{r["target_id"]: r for r in before}, **{r["target_id"]: r for r in rows}}
        starts = [_start(touched[k]) for k in (*added, *changed, *removed)]
        first = min((y for y in starts if y is not None), default=None)
        locked = [y for y in periods.lock_rows(conn) if first is not None and y >= first]
        if locked:
            raise LockedPeriodChange(
                "changing the targets",
                locked,
                "the status of the targets in force in a year is part of its report",
            )
        stored.replace_targets(conn, rows)
        seq = audit.append(conn, who.username, "import", "targets", name, before=before, after=rows)
    return TargetImport(len(rows), added, changed, removed, seq, tuple(problems))


def targets_csv(source: Source) -> str:
    """The ledger's targets as a targets file (the cells as entered; empty: the header)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(stored.COLUMNS), lineterminator="\n")
    writer.writeheader()
    writer.writerows(book_of(source).ledger.target_rows())
    return out.getvalue()
