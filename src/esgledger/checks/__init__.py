"""Checks on ledger figures: key risk indicators with early warning (:mod:`.kri`)."""

from esgledger.checks.kri import (
    KINDS,
    KriWarning,
    Rule,
    Warning,
    evaluate,
    load_rules,
    parse_rules,
)

__all__ = ["KINDS", "KriWarning", "Rule", "Warning", "evaluate", "load_rules", "parse_rules"]
