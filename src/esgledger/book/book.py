"""The Book and the cache that hands out the Book of the ledger's current data version."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Hashable
from dataclasses import replace
from typing import Any, TypeVar

import pandas as pd

from esgledger.calc import InventoryInput, InventoryResult, compute_inventory
from esgledger.checks.targets import Target, parse_target_rows
from esgledger.domain.diagnostics import Diagnostic
from esgledger.domain.organisation import Organisation
from esgledger.factors import CalcSettings, load_library
from esgledger.factors.library import FactorLibrary, with_user_factors
from esgledger.factors.settings import settings_from_stored
from esgledger.metrics import Catalogue, load_catalogue
from esgledger.metrics.ledger_catalogue import LEDGER_FILE, extend
from esgledger.store.ledger import Ledger
from esgledger.store.version import DataVersion

T = TypeVar("T")
STORED_TARGETS = "targets (ledger)"
"""The file name of the located diagnostics of the targets read back from a ledger."""


class Book:
    """The ledger's figures at one data version (see the package docstring).

    ``ledger`` is read only through the Book's own methods or inside :meth:`memo`'s compute
    functions, so that what they read is what the version names. Memoised values are shared
    by every caller of the version: never mutate one (copy a frame before changing it).
    """

    def __init__(
        self, ledger: Ledger, version: DataVersion | None = None, earlier: Book | None = None
    ) -> None:
        self.ledger = ledger
        self.version = ledger.data_version() if version is None else version
        self._earlier_records: pd.DataFrame | None = None
        """The activity records an earlier Book of this ledger read (see :meth:`_records`)."""
        if (
            earlier is not None
            and earlier.ledger is ledger
            and earlier.version.epoch == self.version.epoch
        ):
            found = earlier.peek(("input", None))  # a Book no one computed hands on its own
            self._earlier_records = earlier._earlier_records if found is None else found.records
        self.records_appended = 0
        """Activity records read as appended to an earlier Book's (0: none or read whole)."""
        self._values: dict[Hashable, Any] = {}
        self._locks: dict[Hashable, threading.Lock] = {}
        self._guard = threading.Lock()
        self.inventory_runs = 0
        """How many inventories this Book computed (one per setting set: tests count)."""

    def __repr__(self) -> str:
        return f"Book(version={self.version}, memoised={len(self._values)})"

    # -- memory ---------------------------------------------------------------------------

    def memo(self, key: Hashable, compute: Callable[[], T]) -> T:
        """The value of ``key``, computed by ``compute`` the first time it is asked for."""
        try:
            return self._values[key]  # type: ignore[no-any-return]
        except KeyError:
            pass
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            if key not in self._values:
                self._values[key] = compute()
            return self._values[key]  # type: ignore[no-any-return]

    def peek(self, key: Hashable) -> Any:
        """The value memoised under ``key``, None when none is (yet)."""
        return self._values.get(key)

    # -- inputs ---------------------------------------------------------------------------

    def stored_settings(self) -> dict[str, str]:
        return self.memo(("settings",), self.ledger.settings)

    def settings(self, **overrides: object) -> CalcSettings:
        """The inventory settings stored in the ledger, with the given overrides applied
        (``None`` overrides nothing)."""
        return settings_from_stored(self.stored_settings(), **overrides)

    def organisation(self) -> Organisation:
        return self.memo(("organisation",), self.ledger.organisation)

    def targets(self) -> tuple[list[Target], list[Diagnostic]]:
        """The company's targets entered in the ledger, parsed (rows numbered as in an export,
        the header being row 1), and the diagnostics of the parse; none entered: no targets
        and no diagnostic (the callers say what that means for them)."""
        return self.memo(("targets",), self._targets)

    def _targets(self) -> tuple[list[Target], list[Diagnostic]]:
        rows = self.ledger.target_rows()
        return parse_target_rows(enumerate(rows, start=2), STORED_TARGETS)

    def context_frame(self) -> pd.DataFrame:
        """The context metrics (revenue, employees...) of every entity and year."""
        frame: pd.DataFrame = self.memo(("context",), self.ledger.context_frame)
        return frame

    def inventory_input(self, years: tuple[int, ...] | None = None) -> InventoryInput:
        """What an inventory of ``years`` (all when None) reads, read once."""
        return self.memo(("input", years), lambda: self._read_input(years))

    def _read_input(self, years: tuple[int, ...] | None) -> InventoryInput:
        wanted = list(years) if years else None
        return InventoryInput(
            records=self._records(years),
            organisation=self.organisation(),
            direct=self.ledger.direct_frame(wanted),
            parameters=self.ledger.parameters(),
            overrides=self.ledger.overrides(),
            fuel_properties=self.ledger.fuel_properties(),
        )

    def _records(self, years: tuple[int, ...] | None) -> pd.DataFrame:
        """The activity records of ``years`` (all when None or empty). Imports only append records
        (no write updates or deletes one; a restore is a new epoch), so the records of all
        years are those an earlier Book of the epoch read followed by the ones above its last
        ``rid``, when the database still holds exactly that frame's records up to that
        ``rid``: as many, of the same batches. Otherwise (a PostgreSQL import that committed
        after a later one, whose rows sit below the last ``rid``) they are read whole."""
        earlier, self._earlier_records = self._earlier_records, None
        if years or earlier is None:
            return self.ledger.activity_frame(list(years) if years else None)
        last = int(earlier["rid"].iloc[-1]) if len(earlier) else 0
        appended = self.ledger.activity_after(last)
        if self.ledger.activity_upto(last) != (len(earlier), int(earlier["batch_id"].sum())):
            return self.ledger.activity_frame()
        self.records_appended = len(appended)
        if appended.empty:
            return earlier
        return pd.concat([earlier, appended], ignore_index=True)

    # -- the inventory --------------------------------------------------------------------

    def inventory(self, settings: CalcSettings | None = None) -> InventoryResult:
        """The inventory in ``settings`` (the stored ones when None), computed once per
        setting set. A ledger without entities gives the empty inventory."""
        chosen = self.settings() if settings is None else settings
        return self.memo(("inventory", chosen), lambda: self._compute(chosen))

    def catalogue(self) -> Catalogue:
        """The metric catalogue of the ledger: the packaged one with the company's own metrics
        (:func:`esgledger.metrics.ledger_catalogue.extend`; rows a product upgrade no longer
        accepts are left out, see :meth:`catalogue_problems`)."""
        return self._catalogue()[0]

    def catalogue_problems(self) -> tuple[Diagnostic, ...]:
        """What the stored metric definitions no longer pass (normally nothing)."""
        return self._catalogue()[1]

    def _catalogue(self) -> tuple[Catalogue, tuple[Diagnostic, ...]]:
        return self.memo(
            ("catalogue",),
            lambda: extend(load_catalogue(), self.ledger.metric_definition_rows(), LEDGER_FILE),
        )

    def library(self) -> FactorLibrary:
        """The factor library the ledger calculates with: the packaged one with the ledger's
        factor packs beside it (:func:`esgledger.factors.library.with_user_factors`)."""
        return self.memo(
            ("library",), lambda: with_user_factors(load_library(), self.ledger.user_factors())
        )

    def _compute(self, settings: CalcSettings) -> InventoryResult:
        data = self.inventory_input(settings.years)
        library = self.library()
        if not len(data.organisation):
            return InventoryResult.empty(settings, library.version)
        self.inventory_runs += 1
        return compute_inventory(data, library, settings)

    def inventory_of(
        self,
        year: int,  # noqa: ARG002 - names the year read; all years are one computation
        settings: CalcSettings | None = None,
    ) -> InventoryResult:
        """The inventory whose figures of ``year`` a caller reads: the all-years inventory in
        the stored (or given) settings, so that a year's figures and the series are one
        computation. Only ``years`` is ignored of ``settings``."""
        chosen = self.settings() if settings is None else settings
        return self.inventory(replace(chosen, years=None))


class BookCache:
    """The Book of one ledger's current data version.

    ``get`` reads the version (one primary-key read) and returns the held Book when it is
    that version's; otherwise one thread makes the new Book while the others wait for it. The
    version is read before any data, so a change committed during a computation is seen by
    the next request.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._book: Book | None = None
        self.books = 0

    @property
    def current(self) -> Book | None:
        return self._book

    def get(self, ledger: Ledger) -> Book:
        version = ledger.data_version()
        held = self._book
        if held is not None and held.version == version and held.ledger is ledger:
            return held
        with self._lock:
            held = self._book
            if held is None or held.version != version or held.ledger is not ledger:
                held = Book(ledger, version, earlier=held)
                self._book = held
                self.books += 1
            return held


_CACHES: weakref.WeakKeyDictionary[Ledger, BookCache] = weakref.WeakKeyDictionary()
_CACHES_LOCK = threading.Lock()


def current_book(ledger: Ledger) -> Book:
    """The Book of ``ledger``'s current data version, shared by every caller holding this
    ledger object."""
    with _CACHES_LOCK:
        cache = _CACHES.get(ledger)
        if cache is None:
            cache = _CACHES[ledger] = BookCache()
    return cache.get(ledger)


Source = Book | Ledger
"""What a use case reads figures from: a Book, or a ledger standing for its current Book."""


def book_of(source: Source) -> Book:
    """``source`` itself when it is a Book, else the ledger's current Book."""
    return source if isinstance(source, Book) else current_book(source)
