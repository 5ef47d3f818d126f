"""The figure registry: every figure id's value and explanation, through one hook.

A figure id (:class:`esgledger.domain.figure_id.FigureId`, one grammar) names its kind; the
kind's provider module (named in ``domain/data/figure_kinds.csv``) defines

- ``explain(book, figure_id, rows) -> Node``: the derivation tree down to source rows, and
- ``value(book, figure_id) -> float | None``: the value at the tree's root, None when the
  ledger has no such figure (computed without building the tree where that is cheaper).

``esgledger explain``, the report's lineage ids and its traceability check, the dashboard's
links and the web lineage pages all go through :func:`explain` and :func:`value`; values are
memoised in the Book, so a figure asked for by many pages is computed once per data version.
The providers: :mod:`.inventory` (``ghg``, ``energy``), :mod:`.metrics` (``metric``),
:mod:`.assessments` and :mod:`.strategy`.
"""

from esgledger.figures.registry import Provider, explain, provider, value, values

__all__ = ["Provider", "explain", "provider", "value", "values"]
