"""Provider of the assessment figures (``materiality``, ``climate``, ``supplier``, ``bcm``,
``infosec``, ``register``): :mod:`esgledger.figures.assessment_lineage` on the Book."""

from __future__ import annotations

from esgledger.book.book import Book
from esgledger.calc.explain import Node
from esgledger.domain.figure_id import FigureId
from esgledger.figures.assessment_lineage import assessment_value, explain_assessment


def explain(book: Book, fid: FigureId, rows: int) -> Node:  # noqa: ARG001 - one row per figure
    return explain_assessment(book, str(fid))


def value(book: Book, fid: FigureId) -> float | None:
    return assessment_value(book, str(fid))
