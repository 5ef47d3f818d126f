"""The context figures the calculations read with a unit (data/context_metrics.csv): revenue
for intensities per 万元, employees for intensities per person. Other context metrics are
free (their unit is stored as entered)."""

from __future__ import annotations

import csv
from functools import cache
from importlib import resources


@cache
def context_units() -> dict[str, tuple[str, str]]:
    """metric -> (the unit its figures convert to, what it accepts, in words)."""
    text = resources.files("esgledger.domain").joinpath("data", "context_metrics.csv")
    with text.open("r", encoding="utf-8") as fh:
        return {row["metric"]: (row["unit"], row["accepts"]) for row in csv.DictReader(fh)}
