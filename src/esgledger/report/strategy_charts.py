"""Charts of the carbon strategy's results: the marginal abatement cost curve of a
:func:`esgledger.strategy.abatement.macc` frame (the web's abatement page draws it)."""

from __future__ import annotations

from typing import Literal

import pandas as pd

from esgledger.report.model import Chart, Figure, Series

__all__ = ["macc_chart"]


def macc_chart(curve: pd.DataFrame, lang: Literal["en", "zh"] = "en") -> Chart:
    """The marginal abatement cost curve of a :func:`~esgledger.strategy.abatement.macc`
    frame: one bar per measure, in its order, as wide as its yearly abatement and as high as
    its cost per tonne (negative: a saving, drawn below the axis)."""
    names = curve["name_zh" if lang == "zh" else "name_en"].tolist()
    unit = "元/吨二氧化碳当量" if lang == "zh" else "CNY/tCO2e"
    tonnes = "吨二氧化碳当量/年" if lang == "zh" else "tCO2e/year"

    def figures(column: str, of: str, precision: int, shown: str) -> tuple[Figure, ...]:
        return tuple(
            Figure(
                value=float(value),
                unit=shown,
                precision=precision,
                lineage=f"abatement:macc:{measure}:{of}",
                label=str(label),
                source="computed",
            )
            for measure, label, value in zip(curve["measure_id"], names, curve[column], strict=True)
        )

    title = "边际减排成本曲线" if lang == "zh" else "Marginal abatement cost curve"
    abated = "年减排量（累计）" if lang == "zh" else "Abatement a year (cumulative)"
    return Chart(
        block_id="strategy.macc",
        kind="macc",
        title=title,
        categories=tuple(str(n) for n in names),
        series=(
            Series(name=unit, figures=figures("cost_cny_per_t", "cost", 0, unit)),
            Series(
                name=f"{abated}, {tonnes}",
                figures=figures("abatement_t_per_year", "abatement", 2, tonnes),
            ),
        ),
        y_label=unit,
    )
