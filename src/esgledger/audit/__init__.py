"""The hash-chained audit log: the store keeps it (:mod:`esgledger.store.audit_log`, so that an
entry is written in the transaction of the change it records); this is its public face."""

from esgledger.store.audit_log import Problem, Verification, append, canonical, entries, verify

__all__ = ["Problem", "Verification", "append", "canonical", "entries", "verify"]
