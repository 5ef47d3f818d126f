"""The hash-chained audit log (see :mod:`esgledger.audit.chain`)."""

from esgledger.audit.chain import Problem, Verification, append, entries, verify

__all__ = ["Problem", "Verification", "append", "entries", "verify"]
