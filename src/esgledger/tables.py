"""Small helpers for reading pandas tables as typed Python rows outside the hot path."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd


def rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of a (small) table as dicts keyed by column name."""
    return [{str(k): v for k, v in r.items()} for r in frame.to_dict("records")]


def blank(value: object) -> bool:
    """A missing cell: None, pandas' NA or NaT, a float NaN, or text of only spaces."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    return isinstance(value, str) and not value.strip()
