"""A company's material-topic lists, one per year, kept in its ledger: what its materiality
campaigns start from, what its report compares year on year, and how its topics map to a
framework's topics (SZSE guideline No. 17, for the financially material topics).

No list ships as a default: the seed's lists are the demo's (``demo/data/topics_*.csv``); a
campaign of a year with no list in the ledger (nor an earlier one to carry forward) names the
neutral packaged library (``esrs``) or is refused, saying how to enter the company's.

:func:`import_topic_list` replaces a year's list with a file's, all or nothing (every problem
located ``file:row:column``), by a group-wide editor, refused for a year the ESG committee
locked (its report reads the list), audited with the rows before and after; the same rows
again change nothing. Campaigns copy their topics when created, so a list changed later
leaves them as they were.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence

from esgledger import audit
from esgledger.assess.topics import (
    OPTIONAL_TOPIC_COLUMNS,
    TOPIC_COLUMNS,
    Topic,
    check_topics,
    framework_groups,
    load_library,
    topics_of_rows,
)
from esgledger.auth.accounts import Principal
from esgledger.book import Source, book_of
from esgledger.domain.diagnostics import Diagnostic
from esgledger.domain.errors import Conflict, Invalid, Rejected
from esgledger.store import periods
from esgledger.store import topic_lists as stored
from esgledger.store.engine import LedgerEngine as Engine
from esgledger.store.engine import write_transaction
from esgledger.usecases.csv_files import TableImport, cell_rows, row_changes
from esgledger.usecases.reference import require_group_editor

__all__ = [
    "TopicListImport",
    "TopicsRejected",
    "campaign_topics_for",
    "import_topic_list",
    "ledger_framework_groups",
    "ledger_topics",
    "topic_list_csv",
]


class TopicsRejected(Rejected):
    """A topic list with problems: nothing of it was written."""

    def __init__(self, problems: Sequence[Diagnostic]) -> None:
        super().__init__("topic list", problems)


TopicListImport = TableImport
"""What an import did (:class:`esgledger.usecases.csv_files.TableImport`)."""


def _rows(text: str, name: str) -> list[dict[str, str]]:
    rows, unreadable = cell_rows(text, name)
    if unreadable is not None:
        raise TopicsRejected([unreadable])
    return rows


def import_topic_list(
    engine: Engine, who: Principal, year: int, text: str, name: str
) -> TopicListImport:
    """``year``'s topic list becomes the CSV ``text`` (the file ``name``)."""
    rows = _rows(text, name)
    _, problems = check_topics(rows, name)
    if problems:
        raise TopicsRejected(problems)
    with write_transaction(engine) as conn:
        require_group_editor(conn, who, "the material-topic lists")
        if periods.year_locked(conn, year):
            raise Conflict(
                f"period {year} is locked by the ESG committee: its topic list is part of "
                "its report and changes only by an approved adjustment"
            )
        before = stored.topic_rows(conn, year)
        found = row_changes(before, rows, "topic_id")
        if found.same:
            return TopicListImport(len(rows))
        stored.replace_topic_rows(conn, year, rows)
        seq = audit.append(
            conn, who.username, "import", "topic_list", year, before=before, after=rows
        )
    return TopicListImport(len(rows), found.added, found.changed, found.removed, seq)


def ledger_topic_rows(source: Source, year: int) -> tuple[dict[str, str], ...]:
    """The cells of ``year``'s list in the ledger (none: empty), the Book's, shared."""
    book = book_of(source)
    found: tuple[dict[str, str], ...] = book.memo(
        ("topic_list", year), lambda: tuple(stored.topic_rows(book.ledger.engine, year))
    )
    return found


def ledger_topics(source: Source, year: int) -> tuple[Topic, ...]:
    """``year``'s topic list in the ledger (none: empty)."""
    return topics_of_rows(ledger_topic_rows(source, year))


def ledger_framework_groups(source: Source, year: int) -> dict[str, dict[str, tuple[str, ...]]]:
    """Framework id -> topic id -> the framework's topics, from ``year``'s list."""
    return framework_groups(ledger_topic_rows(source, year))


def campaign_topics_for(
    engine: Engine, year: int, library: str | None = None
) -> tuple[tuple[Topic, ...], str]:
    """The topics a campaign of ``year`` starts from and where they come from: the named
    packaged library, else the ledger's list of the year, else its latest list before the
    year (the previous assessment's topics carried forward). Invalid when there is none."""
    if library is not None:
        try:
            return load_library(library), library
        except ValueError as exc:
            raise Invalid(str(exc)) from exc
    earlier = [y for y in stored.topic_years(engine) if y <= year]
    if not earlier:
        raise Invalid(
            f"no topic list in this ledger for {year} or before: enter the company's with "
            f"`esgledger materiality topics import {year} FILE`, or start from a packaged "
            "library (esrs: the ESRS topical list)"
        )
    chosen = max(earlier)
    return topics_of_rows(stored.topic_rows(engine, chosen)), f"ledger:{chosen}"


def topic_list_csv(rows: Sequence[Mapping[str, str]]) -> str:
    """A year's list as a topic-list file (the cells as entered)."""
    columns = [*TOPIC_COLUMNS, *OPTIONAL_TOPIC_COLUMNS]
    columns += sorted({c for r in rows for c in r} - set(columns))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows([{c: r.get(c, "") for c in columns} for r in rows])
    return out.getvalue()
