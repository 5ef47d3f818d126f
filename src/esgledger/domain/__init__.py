"""Domain model: entities, periods, records, diagnostics. Frozen dataclasses, no I/O."""

from esgledger.domain.diagnostics import Diagnostic, Severity, has_errors
from esgledger.domain.model import (
    ActivityRecord,
    ConsolidationApproach,
    DataQuality,
    DirectEmission,
    Entity,
    Period,
    Source,
    StructuralChange,
)
from esgledger.domain.organisation import Organisation

__all__ = [
    "ActivityRecord",
    "ConsolidationApproach",
    "DataQuality",
    "Diagnostic",
    "DirectEmission",
    "Entity",
    "Organisation",
    "Period",
    "Severity",
    "Source",
    "StructuralChange",
    "has_errors",
]
