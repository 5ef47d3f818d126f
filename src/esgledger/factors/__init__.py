"""Factor library: versioned factor packs shipped as CSV data, and the rules that resolve them."""

from esgledger.factors.library import ActivityType, FactorLibrary, load_library
from esgledger.factors.resolve import CalcSettings, resolve_factors

__all__ = ["ActivityType", "CalcSettings", "FactorLibrary", "load_library", "resolve_factors"]
