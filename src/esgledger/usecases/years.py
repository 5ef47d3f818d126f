"""The years a ledger holds figures of, and the year a page or command shows by default.

One rule for every interface: the default year is the latest year the ledger holds figures of
(activity records, through the inventory, or reported metric figures); in a ledger that holds
none yet, the latest year of the work under way (the collection campaigns) or else the
previous calendar year (the year a report is usually being prepared for). The strategy's
default base year is the latest *inventory* year
(:func:`esgledger.usecases.strategy.default_base_year`): a pathway or a plan needs emissions.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from esgledger.book import Source, book_of
from esgledger.store.metric_years import reported_years

__all__ = ["data_years", "default_year"]


def data_years(source: Source) -> frozenset[int]:
    """The years of the inventory (records and direct entries) and of the reported metric
    figures, read once per data version."""
    book = book_of(source)
    found: frozenset[int] = book.memo(
        ("years.data",),
        lambda: (
            frozenset(int(y) for y in book.inventory().years())
            | frozenset(reported_years(book.ledger.engine))
        ),
    )
    return found


def default_year(source: Source, otherwise: Iterable[int] = (), today: date | None = None) -> int:
    """The latest of :func:`data_years`; when the ledger holds no figures yet, the latest of
    ``otherwise`` (years the caller holds other work of, e.g. the collection campaigns), else
    the previous calendar year."""
    found = data_years(source) or frozenset(int(y) for y in otherwise)
    return max(found, default=(today or date.today()).year - 1)
