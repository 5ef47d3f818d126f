"""A ledger's own metrics beside the packaged catalogue (issue 16: the catalogue is
extendable per ledger, without editing the package).

The rows are catalogue rows (the columns of :data:`esgledger.metrics.catalogue.COLUMNS` and
framework columns), validated by the same reader and cross-checks as the packaged files
(:func:`extend`), with three differences that make them a company's own:

* a row may be of any pillar (one file holds them all);
* it must be new: a packaged metric's id, or an id twice, is refused;
* it is entered (``kind`` ``input``; no ``seed_row``): a computed metric needs its rule in the
  product, and it need not cite a framework with a content index (a company's own KPI may be
  in none); framework references it gives are still checked against their tables.

:func:`extend` is the one rule that builds a ledger's catalogue, for the Book and for an import
of metric values alike.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from esgledger.domain.diagnostics import Diagnostic, Severity
from esgledger.metrics.catalogue import (
    COLUMNS,
    Catalogue,
    Kind,
    Metric,
    _cross_check,
    _RowReader,
)
from esgledger.metrics.frameworks import load_frameworks

LEDGER_FILE = "metrics (ledger)"
"""The file name the diagnostics of the rows stored in a ledger carry."""


def header_problems(header: Sequence[str], label: str) -> list[Diagnostic]:
    """Unknown or missing columns of a metrics file."""
    declared = load_frameworks()
    missing = [c for c in COLUMNS if c not in header]
    extra = [c for c in header if c not in COLUMNS and c not in declared]
    problems = [
        Diagnostic("catalogue.header", f"missing column {c!r}", file=label, row=1, column=c)
        for c in missing
    ]
    problems += [
        Diagnostic(
            "catalogue.header",
            f"unknown column {c!r}: a catalogue column or a framework id "
            f"({', '.join(declared.ids())})",
            file=label,
            row=1,
            column=c,
        )
        for c in extra
    ]
    return problems


def _row_metric(
    raw: Mapping[str, str], label: str, number: int, taken: dict[str, str]
) -> tuple[Metric | None, list[Diagnostic]]:
    declared = load_frameworks()
    reader = _RowReader(raw, label, number, tuple(c for c in raw if c in declared))
    metric_id = reader.text("metric_id")
    if metric_id in taken:
        reader.error(
            "catalogue.duplicate_id", "metric_id", f"metric id {metric_id!r} {taken[metric_id]}"
        )
    elif metric_id:
        taken[metric_id] = f"is also row {number}"
    metric = reader.parse(None)
    if metric is not None and metric.kind is not Kind.INPUT:
        reader.error(
            "catalogue.ledger_kind",
            "kind",
            "a ledger's own metric is entered (kind input): a computed one needs its rule in "
            "the product",
        )
    if metric is not None and metric.seed_row is not None:
        reader.error("catalogue.ledger_seed", "seed_row", "seed_row is for the packaged catalogue")
    return (None if reader.problems else metric), reader.problems


def extend(
    base: Catalogue, rows: Sequence[Mapping[str, str]], label: str = LEDGER_FILE
) -> tuple[Catalogue, tuple[Diagnostic, ...]]:
    """``base`` with the metrics of ``rows`` (numbered as in a file, the header being row 1),
    and the problems of the rows; a row with an error is left out."""
    if not rows:
        return base, ()
    taken = {m.metric_id: "is a packaged metric" for m in base}
    metrics: list[Metric] = []
    problems: list[Diagnostic] = []
    for number, raw in enumerate(rows, start=2):
        metric, found = _row_metric(raw, label, number, taken)
        problems += found
        if metric is not None:
            metrics.append(metric)
    cross = _cross_check([*base, *metrics], set(taken), load_frameworks())
    problems += [d for d in cross if d.file == label and d.code != "catalogue.no_framework"]
    wrong = {(d.row) for d in problems if d.severity is Severity.ERROR}
    kept = tuple(m for m in metrics if m.row not in wrong)
    return Catalogue((*base.metrics, *kept)), tuple(problems)
