"""The problems of a rule table (supplier dimensions and levels, BCM grades, information-security
levels and method), each with the row and column it is on where it has one, so that a table a
company enters is refused with located problems (:mod:`esgledger.assess.rule_tables`) by the
same parsers that read the packaged tables."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["RuleProblem", "RuleTableError"]


@dataclass(frozen=True, slots=True)
class RuleProblem:
    """One problem of a rule table: ``row`` the index of the table's row (0: the first row
    under the header), ``column`` its column; None where the problem is the table's."""

    message: str
    row: int | None = None
    column: str | None = None


class RuleTableError(ValueError):
    """A rule table refused: ``problems`` lists every problem found (the message joins them,
    after ``what``, the table's name)."""

    def __init__(self, what: str, problems: Sequence[RuleProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__(f"{what}: " + "; ".join(p.message for p in self.problems))
