"""Provider of ``metric:`` figures: :mod:`esgledger.figures.metric_lineage`."""

from __future__ import annotations

from esgledger.book.book import Book
from esgledger.calc.explain import Node
from esgledger.domain.figure_id import FigureId
from esgledger.figures.metric_lineage import explain_metric, metric_value


def explain(book: Book, fid: FigureId, rows: int) -> Node:
    return explain_metric(book, str(fid), rows)


def value(book: Book, fid: FigureId) -> float | None:
    return metric_value(book, str(fid))
