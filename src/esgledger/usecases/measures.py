"""A company's measure catalogue: the measures its abatement plans (``strategy macc``,
``optimise``, ``energy-plan``, the strategy page) choose from, kept in its ledger.

No catalogue ships as a default: the packaged ``measures_demo.csv`` is the demo group's, with
illustrative costs sized to it; a ledger without a catalogue says so where a plan is asked
for (:class:`MeasuresMissingError`), and ``esgledger strategy measures template`` writes the
example for a company to copy and size to itself.

:func:`import_measures` replaces the ledger's catalogue with a file's, all or nothing: the
file is checked whole (:func:`esgledger.strategy.measures.check_catalogue`, every problem
located ``file:row:column``, the entities a measure applies to among the ledger's), the
caller must edit the whole group, and the replacement and its audit entry (the rows before
and after) are one transaction; the same rows again change nothing. Plans are not stored, so
no locked year's figure depends on the catalogue.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from importlib import resources

import pandas as pd

from esgledger import audit
from esgledger.auth.accounts import Principal
from esgledger.domain.diagnostics import Diagnostic
from esgledger.domain.errors import Rejected
from esgledger.store import measures as stored
from esgledger.store.engine import LedgerEngine as Engine
from esgledger.store.engine import entity_ids, write_transaction
from esgledger.strategy.measures import (
    CATALOGUE_COLUMNS,
    DEMO_CATALOGUE,
    OPTIONAL_COLUMNS,
    check_catalogue,
)
from esgledger.usecases.csv_files import TableImport, cell_rows, row_changes
from esgledger.usecases.reference import require_group_editor

__all__ = [
    "NO_MEASURES",
    "MeasuresImport",
    "MeasuresMissingError",
    "MeasuresRejected",
    "example_catalogue",
    "import_measures",
    "measures_csv",
]

NO_MEASURES = (
    "no measure catalogue in this ledger: enter the company's with `esgledger strategy "
    "measures import FILE` (or on the web, /company/measures); `esgledger strategy measures "
    "template FILE` writes an example to start from (the demo group's measures, illustrative "
    "costs); a plan can also read a file given with --catalogue FILE"
)


class MeasuresMissingError(ValueError):
    """The ledger holds no measure catalogue (and none was given)."""

    def __init__(self) -> None:
        super().__init__(NO_MEASURES)


class MeasuresRejected(Rejected):
    """A measure catalogue with problems: nothing of it was written."""

    def __init__(self, problems: Sequence[Diagnostic]) -> None:
        super().__init__("measure catalogue", problems)


MeasuresImport = TableImport
"""What an import did (:class:`esgledger.usecases.csv_files.TableImport`)."""


def _rows(text: str, name: str) -> list[dict[str, str]]:
    rows, unreadable = cell_rows(text, name)
    if unreadable is not None:
        raise MeasuresRejected([unreadable])
    return rows


def import_measures(engine: Engine, who: Principal, text: str, name: str) -> MeasuresImport:
    """The ledger's measure catalogue becomes the CSV ``text`` (the file ``name``)."""
    rows = _rows(text, name)
    with write_transaction(engine) as conn:
        require_group_editor(conn, who, "the measure catalogue")
        if not rows:
            empty = Diagnostic("catalogue", "expected at least one measure", file=name, row=2)
            raise MeasuresRejected([empty])
        frame = pd.DataFrame(rows, dtype=str).fillna("")
        checked, problems = check_catalogue(frame, name, entities=entity_ids(conn))
        if checked is None:
            raise MeasuresRejected(problems)
        before = stored.measure_rows(conn)
        found = row_changes(before, rows, "measure_id")
        if found.same:
            return MeasuresImport(len(rows))
        stored.replace_measure_rows(conn, rows)
        seq = audit.append(
            conn, who.username, "import", "measure_catalogue", name, before=before, after=rows
        )
    return MeasuresImport(len(rows), found.added, found.changed, found.removed, seq)


def measures_csv(rows: Sequence[Mapping[str, str]]) -> str:
    """The ledger's catalogue as a catalogue file (the cells as entered)."""
    columns = [*CATALOGUE_COLUMNS, *OPTIONAL_COLUMNS]
    columns += sorted({c for r in rows for c in r} - set(columns))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows([{c: r.get(c, "") for c in columns} for r in rows])
    return out.getvalue()


def example_catalogue() -> str:
    """The packaged example catalogue (the demo group's, illustrative costs), to copy."""
    data = resources.files("esgledger.strategy").joinpath("data", DEMO_CATALOGUE)
    return data.read_text("utf-8")
