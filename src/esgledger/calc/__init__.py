"""Calculation: pure stages from records, factor packs and settings to a result with lineage."""

from esgledger.calc.engine import InventoryInput, compute_inventory
from esgledger.calc.result import InventoryResult

__all__ = ["InventoryInput", "InventoryResult", "compute_inventory"]
