"""Fresh or honest: the value of the newest data version, or the previous complete one while
the newest is being built, never a partial one.

A :class:`Latest` holds one slot (the dashboard's snapshot, the report of a year and
language): the last value built, with the data version it was built from and when. A request
names the current version and how to build its value. When the held value is of that version
it is the answer. Otherwise:

- with ``wait`` None (the library default, and the tests), the request waits for the value
  of its version, built once whoever asks;
- with a number of seconds (``esgledger serve --fresh-wait``), the build runs in the
  background and the requests wait until that long after the first request of the version,
  then answer with the previous value, labelled by its version and time (:class:`Made`): a
  quick build shows the new figures at once, and during a long one requests answer at once.
  A request that finds no value at all waits, as there is nothing complete to show.

A request waits only when the new value can come within the wait: when the slot's last build
took longer, or background builds are busy or resting, it answers with the previous value at
once (waiting would add the wait to its time and still show the previous value).

One build runs at a time per slot, and it builds the newest version asked for: data arriving
in bursts (back-to-back imports) makes one rebuild after the other, not one per version, and
a version overtaken while it waited is skipped. Under ``wait`` the builds of all slots share
one :class:`Budget` (:data:`BACKGROUND`): one background build at a time in the process, each
followed by a pause as long as it took times ``rest``, so that background builds take at most
``1 / (1 + rest)`` of the server process and requests keep the rest while data keeps coming.

A build that fails is reported to the requests waiting for it, and raised again to the
requests of its version for :data:`RETRY_AFTER` seconds without building it again; then, or at
the next version, it is built anew.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Generic, TypeVar

from esgledger.store.version import DataVersion

T = TypeVar("T")
RETRY_AFTER = 30.0
"""Seconds a failed build's error is given to the requests of its version before the next
one builds it again (a failure may be passing, such as a busy database)."""


class Budget:
    """The share of the process that background builds may take: one build at a time, and
    after each a pause of ``rest`` times its duration before the next starts."""

    def __init__(self, rest: float = 1.0) -> None:
        self.rest = rest
        self._changed = threading.Condition()
        self._busy = False
        self._rest_until = 0.0

    def free_in(self) -> float:
        """Seconds until a build could start (``inf`` while one runs: its end is unknown)."""
        with self._changed:
            if self._busy:
                return math.inf
            return max(self._rest_until - time.monotonic(), 0.0)

    def run(self, make: Callable[[], T]) -> T:
        """``make()`` when no other build runs and the pause after the last is over."""
        with self._changed:
            while self._busy or time.monotonic() < self._rest_until:
                left = self._rest_until - time.monotonic()
                self._changed.wait(None if self._busy else max(left, 0.0))
            self._busy = True
        began = time.monotonic()
        try:
            return make()
        finally:
            with self._changed:
                self._rest_until = time.monotonic() + (time.monotonic() - began) * self.rest
                self._busy = False
                self._changed.notify_all()


BACKGROUND = Budget()
"""The budget the slots of the server process share (under ``wait``)."""


@dataclass(frozen=True)
class Made(Generic[T]):
    """A value with the data version it was built from and when."""

    value: T
    version: DataVersion
    made_at: datetime = field(default_factory=lambda: datetime.now(UTC))


class Latest(Generic[T]):
    """One slot of values by data version (see the module text).

    Versions are compared for equality only (a restored ledger starts a new epoch, so no
    order between versions is assumed): "newer" is "asked for later". Each request takes a
    ticket; a build carries the ticket of the request it was started for, and settles every
    request with that ticket or an earlier one.
    """

    def __init__(
        self,
        wait: float | None = None,
        name: str = "value",
        budget: Budget | None = None,
        rest: float = 0.0,
    ) -> None:
        self.wait = wait
        self.name = name
        self.budget = budget or BACKGROUND
        """Under ``wait``, what the builds share with the other slots (:class:`Budget`)."""
        self.rest = rest
        """Under ``wait``, the slot's own pause after a build, as a multiple of its time: a
        heavy value seldom looked at (the report page's) is rebuilt less often than the
        budget alone allows, and shows the previous one, labelled, meanwhile."""
        self._rest_until = 0.0
        self._took = 0.0
        """How long the last build took (what the next is expected to take)."""
        self._began: float | None = None
        """When the running build began (None: none runs)."""
        self._first_asked: tuple[DataVersion | None, float] = (None, 0.0)
        """The last version asked for that was not built, and when it was first asked for."""
        self.builds = 0
        """Values built (one per version built, whoever asked)."""
        self._changed = threading.Condition()
        self._ready: Made[T] | None = None
        self._ready_ticket = 0
        self._tickets = 0
        self._wanted: tuple[int, DataVersion, Callable[[], T]] | None = None
        self._failed: tuple[int, DataVersion, Exception, float] | None = None
        """The last failed build: its ticket, version, error and when (monotonic)."""
        self._running = False

    @property
    def ready(self) -> Made[T] | None:
        """The last value built (None before the first)."""
        return self._ready

    def get(self, version: DataVersion, make: Callable[[], T]) -> Made[T]:
        """The value of ``version`` (built by ``make`` once), or under ``wait`` the previous
        one while it is built."""
        found = self._get(version, make, first=True)
        assert found is not None  # a first value is waited for
        return found

    def get_or_none(self, version: DataVersion, make: Callable[[], T]) -> Made[T] | None:
        """As :meth:`get`, but under ``wait`` a slot with no value yet answers None after the
        wait instead of waiting for the first build (the caller says it is being built)."""
        return self._get(version, make, first=False)

    def _get(self, version: DataVersion, make: Callable[[], T], first: bool) -> Made[T] | None:
        with self._changed:
            ready = self._ready
            if ready is not None and ready.version == version:
                return ready
            failed = self._failed
            if failed is not None and failed[1] == version and self._recent(failed[3]):
                raise failed[2]  # not built again at once
            self._tickets += 1
            ticket = self._tickets
            self._want(ticket, version, make)
            if self.wait is not None and (ready is not None or not first):
                # the wait runs from the first request of the version: one that arrives
                # during a long build answers at once instead of waiting ``wait`` in vain
                left = self._first_asked[1] + self.wait - time.monotonic()
                if self._expected() > left:  # it cannot come in time: answer at once
                    left = 0.0
                self._changed.wait_for(lambda: self._settled(ticket), max(left, 0.0))
            else:
                self._changed.wait_for(lambda: self._settled(ticket))
            now, failed = self._ready, self._failed
            if self._ready_ticket < ticket and failed is not None and failed[0] >= ticket:
                raise failed[2]
            return now

    def _expected(self) -> float:
        """Seconds until the value of the version asked for can be expected (the last
        build's time from when the build starts or started)."""
        if self._began is not None:
            return self._began + self._took - time.monotonic()
        resting = self._rest_until - time.monotonic()
        return max(self.budget.free_in(), resting) + self._took

    @staticmethod
    def _recent(when: float) -> bool:
        return time.monotonic() - when < RETRY_AFTER

    def _settled(self, ticket: int) -> bool:
        failed = self._failed
        return self._ready_ticket >= ticket or (failed is not None and failed[0] >= ticket)

    def _want(self, ticket: int, version: DataVersion, make: Callable[[], T]) -> None:
        self._wanted = (ticket, version, make)
        if self._first_asked[0] != version:
            self._first_asked = (version, time.monotonic())
        if not self._running:
            self._running = True
            threading.Thread(target=self._run, name=f"build {self.name}", daemon=True).start()

    def _build(self, make: Callable[[], T]) -> T:
        """``make()``, under ``wait`` within the budget; its time is kept as :attr:`_took`."""

        def timed() -> T:
            began = time.monotonic()
            with self._changed:
                self._began = began
            try:
                return make()
            finally:
                self._took = time.monotonic() - began

        return timed() if self.wait is None else self.budget.run(timed)

    def _run(self) -> None:
        while True:
            with self._changed:
                pause = self._rest_until - time.monotonic()
                if pause > 0:  # the slot's own rest: requests get the previous value
                    self._changed.wait(pause)
                wanted = self._wanted
                self._wanted = None
                if wanted is None:
                    self._running = False
                    self._changed.notify_all()
                    return
                ticket, version, make = wanted
                ready = self._ready
                if ready is not None and ready.version == version:  # built meanwhile
                    self._ready_ticket = max(self._ready_ticket, ticket)
                    self._changed.notify_all()
                    continue
            try:
                value = self._build(make)
            except Exception as exc:  # given to the requests waiting for it
                with self._changed:
                    self._began = None
                    self._failed = (ticket, version, exc, time.monotonic())
                    self._changed.notify_all()
                continue
            with self._changed:
                self._began = None
                if self.wait is not None:
                    self._rest_until = time.monotonic() + self._took * self.rest
                self.builds += 1
                self._ready = Made(value, version)
                self._ready_ticket = max(self._ready_ticket, ticket)
                if self._failed is not None and self._failed[1] == version:
                    self._failed = None
                self._changed.notify_all()
