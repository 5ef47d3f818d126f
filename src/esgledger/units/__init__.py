"""The one unit registry of esgledger (pint), loaded from ``definitions.txt``."""

from esgledger.units.registry import (
    Quantity,
    UnitError,
    conversion_factor,
    parse_unit,
    registry,
)

__all__ = ["Quantity", "UnitError", "conversion_factor", "parse_unit", "registry"]
