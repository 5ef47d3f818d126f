"""Moved to :mod:`esgledger.domain.errors`; re-exported here for the web and CLI imports."""

from esgledger.domain.errors import Conflict, Forbidden, Invalid, NotFound, WorkflowError

__all__ = ["Conflict", "Forbidden", "Invalid", "NotFound", "WorkflowError"]
