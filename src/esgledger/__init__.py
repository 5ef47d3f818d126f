"""esgledger: ESG ledger with GHG and energy inventories traceable to their source rows."""

__version__ = "0.1.0"
