"""The assessments' results at one data version: the signed-off materiality campaign of a year
and the registers' rows with their results, each computed once and memoised in the Book.

The materiality result of a year is the campaign the ESG committee signed off last, scored
with its own frozen scales and weights (:func:`materiality`): the report's matrix and topic
table, the financially material topics and the lineage of a score read it.

The results of a register (a supplier's weighted score and level, a business-continuity risk's
grade and treatment, an information-security risk's GB/T 20984 value and level) are computed by
:mod:`esgledger.assess.results` over the **whole group's** current rows of the year, with the
rules of the year (:func:`rules_of`: those frozen for it, else the rules in force, which it
then says, :mod:`esgledger.usecases.rules`), and memoised in the ledger's
:class:`~esgledger.book.Book`: ``register show``, the web register pages, the report's count
tables and the lineage of a register figure all read that one frame and those rules.
A caller who sees only some entities gets the rows of their entities from it
(:func:`visible_results`), with the results the group computed, never results recomputed on the
part they see.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from esgledger.assess import results
from esgledger.assess.materiality import Scales
from esgledger.assess.topics import Topic
from esgledger.auth.accounts import Principal
from esgledger.book import Book, Source, book_of
from esgledger.domain.diagnostics import Diagnostic
from esgledger.store.engine import LedgerEngine
from esgledger.usecases import registers, survey_results
from esgledger.usecases import rules as register_rules
from esgledger.usecases.rules import YearRules

__all__ = [
    "RATED",
    "SignedOff",
    "graded",
    "materiality",
    "rules_notes",
    "rules_of",
    "visible_results",
]

RATED = ("supplier_evaluations", "bcm", "infosec")
"""The registers whose rows get results; the others are shown as imported."""

_KEYS = ["_import_id", "_line"]


@dataclass(frozen=True)
class SignedOff:
    """The materiality campaign of a year the committee signed off last, with what it froze:
    its topics (as copied), scales and group weights, the anonymous responses and the scored
    result (one row per answered topic, :func:`esgledger.assess.materiality.tiers`)."""

    campaign: dict[str, Any]
    topics: tuple[Topic, ...]
    scales: Scales
    weights: dict[str, float]
    responses: pd.DataFrame
    results: pd.DataFrame

    @property
    def campaign_id(self) -> int:
        return int(self.campaign["campaign_id"])


def materiality(source: Source, year: int) -> SignedOff | None:
    """The signed-off materiality result of ``year`` (None when no campaign of the year was
    signed off: a campaign still open is a draft and feeds nothing); the Book's, shared."""
    book = book_of(source)
    found: SignedOff | None = book.memo(
        ("assessment.materiality", year), lambda: _signed_off(book.ledger.engine, year)
    )
    return found


def _signed_off(engine: LedgerEngine, year: int) -> SignedOff | None:
    found = survey_results.signed_off(engine, year)
    if found is None:
        return None
    cid = int(found["campaign_id"])
    responses, weights = survey_results.campaign_responses(engine, cid)
    return SignedOff(
        campaign=found,
        topics=survey_results.campaign_topics(engine, cid),
        scales=survey_results.campaign_scales(engine, cid),
        weights=weights,
        responses=responses,
        results=survey_results.campaign_results(engine, cid),
    )


def rules_of(source: Source, kind: str, year: int) -> YearRules:
    """The rules register ``kind`` (one of :data:`RATED`) of ``year`` is graded with: frozen
    for the year, else the rules in force (:meth:`YearRules.note` says so); the Book's."""
    book = book_of(source)
    found: YearRules = book.memo(
        ("assessment.rules", kind, year),
        lambda: register_rules.year_rules(book.ledger.engine, kind, year),
    )
    return found


def rules_notes(source: Source, kind: str, year: int) -> list[Diagnostic]:
    """What a reader of register ``kind`` of ``year`` is told of its rules: a warning when the
    year has none frozen (graded with the rules in force); none for an unrated register."""
    if kind not in RATED:
        return []
    note = rules_of(source, kind, year).note()
    return [] if note is None else [note]


def graded(source: Source, kind: str, year: int) -> pd.DataFrame:
    """Every current row of register ``kind`` in ``year`` with its results, whatever the
    entity, and the row's origin (``_import_id``, ``_line``): the Book's frame, shared (never
    mutate it). A rated register is graded with the year's rules (:func:`rules_of`);
    supplier evaluations are rated against the year's supplier register."""
    registers.register_kind(kind)
    book = book_of(source)
    frame: pd.DataFrame = book.memo(
        ("assessment.register", kind, year), lambda: _graded(book, kind, year)
    )
    return frame


def _graded(book: Book, kind: str, year: int) -> pd.DataFrame:
    engine = book.ledger.engine
    rows = registers.stored_frame(engine, kind, year)
    if kind not in RATED:
        return rows
    listed = registers.stored_frame(engine, "suppliers", year) if kind == RATED[0] else None
    done = results.graded(kind, rows, rules_of(book, kind, year).rules, listed)
    if rows.empty:
        return done.assign(_import_id=pd.Series(dtype="int64"), _line=pd.Series(dtype="int64"))
    # each result row is its register row (the libraries keep the order and one row each)
    return done.assign(_import_id=rows["_import_id"].to_numpy(), _line=rows["_line"].to_numpy())


def visible_results(source: Source, who: Principal, kind: str, year: int) -> pd.DataFrame:
    """The rows of :func:`graded` that ``who`` may see (the rows
    :func:`esgledger.usecases.registers.current_frame` gives them: the permission and the
    entity scope are that function's), in the same order; a copy the caller may change."""
    book = book_of(source)
    seen = registers.current_frame(book.ledger.engine, who, kind, year)
    frame = graded(book, kind, year)
    if seen.empty:
        return frame.iloc[0:0].copy()
    keys = pd.MultiIndex.from_frame(seen[_KEYS].astype("int64"))
    mask = pd.MultiIndex.from_frame(frame[_KEYS].astype("int64")).isin(keys)
    return frame[mask].reset_index(drop=True)
