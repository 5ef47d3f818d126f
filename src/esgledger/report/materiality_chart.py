"""The double-materiality matrix chart of the report and the web pages (scores of
:mod:`esgledger.assess.materiality`, each point a figure with its ``materiality:`` lineage id)."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from esgledger.assess.materiality import AXIS_LABEL, Axis, Scales, lineage, load_scales
from esgledger.assess.topics import Topic
from esgledger.report.model import Chart, Figure, Series

__all__ = ["matrix_chart"]


def matrix_chart(
    scored: pd.DataFrame,
    lang: str,
    *,
    year: int,
    topics: Iterable[Topic],
    block_id: str = "materiality.matrix",
    scales: Scales | None = None,
) -> Chart:
    """The matrix: series 0 the financial scores (x), series 1 the impact scores (y), one
    category per topic of ``topics`` (the campaign's, as it copied them) in its order."""
    labels = AXIS_LABEL["zh" if lang == "zh" else "en"]
    scales = scales or load_scales()
    listed = tuple(topics)
    names = tuple(t.name(lang) for t in listed)

    def series(axis: Axis) -> Series:
        values = scored[axis].reindex([t.topic_id for t in listed])
        figures = tuple(
            Figure(
                value=None if pd.isna(v) else round(float(v), 2),
                unit="",
                precision=2,
                lineage=lineage(year, t.topic_id, axis),
                label=name,
                source="computed",
            )
            for t, name, v in zip(listed, names, values, strict=True)
        )
        return Series(name=labels[axis], figures=figures, kind="scatter")

    return Chart(
        block_id=block_id,
        kind="matrix",
        title=labels["title"],
        categories=names,
        series=(series("financial"), series("impact")),
        y_label=labels["impact"],
        guides=(scales.financial_high, scales.impact_high),
    )
