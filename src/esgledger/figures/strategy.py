"""Provider of the carbon strategy figures (``lmdi``, ``pathway``):
:mod:`esgledger.usecases.strategy_figures`, memoised in the Book."""

from __future__ import annotations

from esgledger.book.book import Book
from esgledger.calc.explain import Node
from esgledger.domain.figure_id import FigureId
from esgledger.usecases.strategy_figures import explain_strategy, strategy_value


def explain(book: Book, fid: FigureId, rows: int) -> Node:  # noqa: ARG001 - no source rows
    return explain_strategy(book, str(fid))


def value(book: Book, fid: FigureId) -> float | None:
    return strategy_value(book, str(fid))
