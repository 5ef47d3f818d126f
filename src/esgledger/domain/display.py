"""How a figure is shown where no published precision applies (the CLI's tables, lineage
trees): the one rule, so that a terminal and a page print the same digits."""

from __future__ import annotations

import math

__all__ = ["short_number"]


def short_number(value: float | None, missing: str = "n/a") -> str:
    """2 decimals with thousands separators from 1,000 up, else 4 significant digits
    (``12,345.68``, ``0.0102``, ``-0.003466``); ``missing`` for None or NaN."""
    if value is None or math.isnan(value):
        return missing
    return f"{value:,.2f}" if abs(value) >= 1000 else f"{value:.4g}"
