"""The Book: the ledger's figures at one data version, computed once and shared.

Every figure the CLI, the web platform, the report, the checks and the strategy show is a
function of the ledger's data at one :class:`~esgledger.store.version.DataVersion`. The Book is
that function's memory: it reads the inputs once, computes the inventory once per setting set
(:meth:`Book.inventory`) and keeps whatever else a caller derived from them
(:meth:`Book.memo`: the KPI table, workforce figures, the dashboard's snapshot, strategy
results...). A Book never changes: when the data version moves, :class:`BookCache` hands out a
new one, and the old one is dropped with everything it memoised.

Thread-safe: a value is computed by one thread while the others asking for the same key wait
for it; different keys compute in parallel.
"""

from esgledger.book.book import Book, BookCache, Source, book_of, current_book

__all__ = ["Book", "BookCache", "Source", "book_of", "current_book"]
