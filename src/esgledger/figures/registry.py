"""The registry: kind -> provider, loaded from the module the kind's declaration names."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache

from esgledger.book import Source, book_of
from esgledger.book.book import Book
from esgledger.calc.explain import Node
from esgledger.domain.figure_id import FigureId, figure_kinds

Explain = Callable[[Book, FigureId, int], Node]
Value = Callable[[Book, FigureId], "float | None"]


@dataclass(frozen=True)
class Provider:
    """What a kind's module provides (module docstring of :mod:`esgledger.figures`)."""

    explain: Explain
    value: Value


@cache
def provider(kind: str) -> Provider:
    """The provider of a declared kind (its module imported on first use)."""
    declared = figure_kinds()[kind]
    module = importlib.import_module(declared.provider)
    return Provider(explain=module.explain, value=module.value)


def _id(figure: str | FigureId) -> FigureId:
    return figure if isinstance(figure, FigureId) else FigureId.parse(figure)


def explain(source: Source, figure: str | FigureId, rows: int = 5) -> Node:
    """The derivation tree of a figure id; ValueError on a malformed id, an unknown metric
    or entity, or a figure the ledger cannot derive."""
    fid = _id(figure)
    return provider(fid.kind).explain(book_of(source), fid, rows)


def value(source: Source, figure: str | FigureId) -> float | None:
    """The value the figure's tree shows at its root, unrounded (None when the ledger has no
    such figure), memoised in the Book."""
    fid = _id(figure)
    book = book_of(source)
    found: float | None = book.memo(
        ("figure.value", str(fid)), lambda: provider(fid.kind).value(book, fid)
    )
    return found


def values(source: Source, figures: Iterable[str]) -> dict[str, float | None]:
    """:func:`value` of many figure ids (keys as given)."""
    book = book_of(source)
    return {figure: value(book, figure) for figure in figures}
