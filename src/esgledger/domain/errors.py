"""Refusals of the workflow, each mapped to one HTTP status by the web layer."""

from __future__ import annotations

from collections.abc import Sequence

from esgledger.domain.diagnostics import Diagnostic


class WorkflowError(Exception):
    """Base class; ``str(error)`` is the message shown to the user."""

    status = 400


class Invalid(WorkflowError):  # noqa: N818 - named after the refusal, like HTTP statuses
    """The input is wrong (a value that is not a number, a unit of another dimension...)."""

    status = 422


class NotFound(WorkflowError):  # noqa: N818
    """No such object, or one outside the user's entities (the two are not told apart)."""

    status = 404


class Forbidden(WorkflowError):  # noqa: N818
    """The user's role does not allow the action."""

    status = 403


class Rejected(Invalid):
    """A file refused whole: ``problems`` lists every located problem, nothing was written."""

    def __init__(self, what: str, problems: Sequence[Diagnostic]) -> None:
        self.problems = list(problems)
        shown = "; ".join(f"{p.location()}: {p.message}" for p in self.problems[:20])
        more = f" (and {len(self.problems) - 20} more)" if len(self.problems) > 20 else ""
        super().__init__(f"{what} refused, nothing written: {shown}{more}")


class Conflict(WorkflowError):  # noqa: N818
    """The object changed since the version the user saw, or its state forbids the action."""

    status = 409

    def __init__(self, message: str, current_version: int | None = None) -> None:
        super().__init__(message)
        self.current_version = current_version
