"""Checks on ledger figures: key risk indicators with early warning (:mod:`.kri`), consistency
between the figures of a report (:mod:`.consistency`) and targets with their status
(:mod:`.targets`)."""

from esgledger.checks.consistency import (
    CONSISTENCY_RULES,
    ConsistencySettings,
    Finding,
    load_consistency_settings,
    parse_consistency_settings,
    prepare_figures,
    run_checks,
)
from esgledger.checks.kri import (
    KINDS,
    KriWarning,
    Rule,
    Warning,
    evaluate,
    load_rules,
    parse_rules,
)
from esgledger.checks.targets import (
    Target,
    TargetKind,
    TargetStatus,
    load_targets,
    parse_targets,
    target_status,
)

__all__ = [
    "CONSISTENCY_RULES",
    "KINDS",
    "ConsistencySettings",
    "Finding",
    "KriWarning",
    "Rule",
    "Target",
    "TargetKind",
    "TargetStatus",
    "Warning",
    "evaluate",
    "load_consistency_settings",
    "load_rules",
    "load_targets",
    "parse_consistency_settings",
    "parse_rules",
    "parse_targets",
    "prepare_figures",
    "run_checks",
    "target_status",
]
