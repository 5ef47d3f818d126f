"""The hash-chained audit log: the store keeps it (:mod:`esgledger.store.audit_log`, so that an
entry is written in the transaction of the change it records); this is its public face.

Entries are HMAC-SHA256 under a key kept outside the database and the head is checkpointed to
a file outside it (:mod:`esgledger.store.audit_key`, :mod:`esgledger.store.audit_checkpoints`):
see ``docs/architecture.md``, "audit"."""

from esgledger.store.audit_checkpoints import Checkpoint
from esgledger.store.audit_key import (
    CHECKPOINTS_VARIABLE,
    KEY_FILE_VARIABLE,
    Anchor,
    AuditKeyError,
    anchor_of,
)
from esgledger.store.audit_log import (
    CHECKPOINT_EVERY,
    Problem,
    Verification,
    append,
    canonical,
    checkpoint,
    entries,
    verify,
)

__all__ = [
    "CHECKPOINTS_VARIABLE",
    "CHECKPOINT_EVERY",
    "KEY_FILE_VARIABLE",
    "Anchor",
    "AuditKeyError",
    "Checkpoint",
    "Problem",
    "Verification",
    "anchor_of",
    "append",
    "canonical",
    "checkpoint",
    "entries",
    "verify",
]
