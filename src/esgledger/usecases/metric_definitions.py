"""A company's own metrics: the catalogue extended per ledger, without editing the package.

:func:`import_metrics` replaces the ledger's own metrics with a file's, all or nothing: the
file is validated whole against the packaged catalogue
(:func:`esgledger.metrics.ledger_catalogue.extend`, every problem located ``file:row:column``),
the caller must edit the whole group, and

* a metric that has stored figures cannot be removed (its figures would lose their
  definition);
* a metric whose definition changes, or that is removed, while it has figures in a year the
  ESG committee locked is refused (the year's figures would read differently).

The replacement and its audit entry (the rows before and after) are one transaction; the same
rows again change nothing. Its figures are then imported like any metric's (an ``metrics``
sheet or CSV, ``esgledger import``), and traced by ``explain metric:<year>:<id>``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence

from esgledger import audit
from esgledger.auth.accounts import Principal
from esgledger.domain.diagnostics import Diagnostic, has_errors
from esgledger.domain.errors import Invalid, Rejected
from esgledger.metrics import load_catalogue, load_frameworks
from esgledger.metrics.catalogue import COLUMNS
from esgledger.metrics.ledger_catalogue import extend, header_problems
from esgledger.store import metric_definitions as stored
from esgledger.store import periods
from esgledger.store.engine import LedgerEngine as Engine
from esgledger.store.engine import write_transaction
from esgledger.usecases.csv_files import TableImport, row_changes
from esgledger.usecases.reference import LockedPeriodChange, require_group_editor


class MetricsRejected(Rejected):
    """A metrics file with problems: nothing of it was written."""

    def __init__(self, problems: Sequence[Diagnostic]) -> None:
        super().__init__("metrics", problems)


MetricsImport = TableImport
"""What an import did (:class:`esgledger.usecases.csv_files.TableImport`)."""


def read_rows(text: str, name: str) -> tuple[list[dict[str, str]], list[Diagnostic]]:
    """The rows of a metrics CSV (cells by column, blank rows left out) and the problems of
    its header."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip() for h in reader.fieldnames or []]
    reader.fieldnames = header
    rows = [
        {k: (v or "").strip() for k, v in row.items() if k}
        for row in reader
        if any((v or "").strip() for v in row.values() if isinstance(v, str))
    ]
    return rows, header_problems(header, name)


def import_metrics(engine: Engine, who: Principal, text: str, name: str) -> MetricsImport:
    """The ledger's own metrics become those of the CSV ``text`` (the file ``name``)."""
    rows, problems = read_rows(text, name)
    if not problems:
        problems += list(extend(load_catalogue(), rows, name)[1])
    if has_errors(problems):
        raise MetricsRejected(problems)
    with write_transaction(engine) as conn:
        require_group_editor(conn, who, "the company's own metrics")
        before = stored.metric_rows(conn)
        found = row_changes(before, rows, "metric_id")
        if found.same:
            return MetricsImport(len(rows))
        changed, removed = found.changed, found.removed
        years = stored.value_years(conn, [*changed, *removed])
        kept = [m for m in removed if m in years]
        if kept:
            raise Invalid(
                f"metrics refused, nothing written: {', '.join(kept)} ha"
                f"{'s' if len(kept) == 1 else 've'} stored figures; a metric with figures "
                "cannot be removed from the ledger"
            )
        locked = set(periods.lock_rows(conn))
        hit = sorted({y for m in changed for y in years.get(m, set())} & locked)
        if hit:
            raise LockedPeriodChange(
                f"changing the definition of {', '.join(changed)}",
                hit,
                "their figures of these years would read differently",
            )
        stored.replace_metric_rows(conn, rows)
        seq = audit.append(
            conn, who.username, "import", "metric_definitions", name, before=before, after=rows
        )
    return MetricsImport(len(rows), found.added, changed, removed, seq)


def metrics_csv(rows: Sequence[Mapping[str, str]]) -> str:
    """The ledger's own metrics as a metrics file (the cells as entered; framework columns
    of the registry that any row uses)."""
    declared = load_frameworks()
    frameworks = [f for f in declared.ids() if any(r.get(f) for r in rows)]
    columns = [*COLUMNS, *frameworks]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows([{c: r.get(c, "") for c in columns} for r in rows])
    return out.getvalue()
