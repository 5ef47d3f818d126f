"""Calculation: pure stages from records, factor packs and settings to a result with lineage."""

from esgledger.calc.engine import InventoryInput, InventoryResult, compute_inventory

__all__ = ["InventoryInput", "InventoryResult", "compute_inventory"]
