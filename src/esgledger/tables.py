"""Small helpers for reading pandas tables as typed Python rows outside the hot path."""

from __future__ import annotations

from typing import Any

import pandas as pd


def rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of a (small) table as dicts keyed by column name."""
    return [{str(k): v for k, v in r.items()} for r in frame.to_dict("records")]
