"""Fresh or honest (:class:`esgledger.web.fresh.Latest`): the value of the current version, or
the previous complete one while it is built; one build at a time, of the newest version."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from esgledger.store.version import DataVersion
from esgledger.web import fresh
from esgledger.web.fresh import Latest


def v(counter: int) -> DataVersion:
    return DataVersion("epoch-a", counter)


class Builds:
    """``make`` callables that record what they built and can be held until released."""

    def __init__(self) -> None:
        self.built: list[int] = []
        self.release = threading.Event()
        self.release.set()
        self.started = threading.Event()

    def of(self, counter: int) -> Callable[[], str]:
        def make() -> str:
            self.started.set()
            assert self.release.wait(10)
            self.built.append(counter)
            return f"value {counter}"

        return make


def test_a_version_is_built_once_and_served_until_the_next() -> None:
    latest: Latest[str] = Latest()
    builds = Builds()
    assert latest.get(v(1), builds.of(1)).value == "value 1"
    assert latest.get(v(1), builds.of(1)).value == "value 1"
    made = latest.get(v(2), builds.of(2))
    assert (made.value, made.version) == ("value 2", v(2))
    assert builds.built == [1, 2]
    assert latest.builds == 2


def test_under_wait_the_previous_value_is_served_labelled_while_the_next_builds() -> None:
    latest: Latest[str] = Latest(wait=0.0)
    builds = Builds()
    first = latest.get(v(1), builds.of(1))  # nothing complete yet: the first request waits
    assert first.value == "value 1"
    builds.release.clear()
    builds.started.clear()
    during = latest.get(v(2), builds.of(2))
    assert during is first  # the previous complete value, with its version and time
    assert during.version == v(1)
    assert builds.started.wait(10)
    builds.release.set()
    deadline = time.monotonic() + 10
    while latest.ready is first and time.monotonic() < deadline:
        time.sleep(0.01)
    assert latest.get(v(2), builds.of(2)).value == "value 2"
    assert builds.built == [1, 2]


def test_versions_arriving_during_a_build_make_one_more_build_of_the_newest() -> None:
    """Back-to-back imports: while version 2 builds, versions 3, 4 and 5 are asked for; then
    5 is built, and 3 and 4 never are."""
    latest: Latest[str] = Latest(wait=0.0)
    builds = Builds()
    latest.get(v(1), builds.of(1))
    builds.release.clear()
    builds.started.clear()
    latest.get(v(2), builds.of(2))
    assert builds.started.wait(10)
    for counter in (3, 4, 5):
        assert latest.get(v(counter), builds.of(counter)).version == v(1)
    builds.release.set()
    deadline = time.monotonic() + 10
    while (latest.ready is None or latest.ready.version != v(5)) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert builds.built == [1, 2, 5]


def test_a_waiting_request_overtaken_by_a_newer_version_gets_the_newer_value() -> None:
    """Without ``wait`` a request waits until a value at least as new as its version is
    built; a newer version asked for meanwhile is built instead, and answers it."""
    latest: Latest[str] = Latest()
    builds = Builds()
    latest.get(v(1), builds.of(1))
    builds.release.clear()
    builds.started.clear()
    answers: list[str] = []
    first = threading.Thread(target=lambda: answers.append(latest.get(v(2), builds.of(2)).value))
    first.start()
    assert builds.started.wait(10)  # 2 is building
    second = threading.Thread(target=lambda: answers.append(latest.get(v(3), builds.of(3)).value))
    second.start()
    time.sleep(0.05)
    builds.release.set()
    first.join(10)
    second.join(10)
    assert sorted(answers) == ["value 2", "value 3"] or answers == ["value 3", "value 3"]
    assert builds.built == [1, 2, 3]


def test_a_failed_build_is_reported_then_built_again_after_a_while(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    latest: Latest[str] = Latest(wait=0.0)
    calls: list[int] = []

    def broken() -> str:
        calls.append(1)
        raise ValueError("factor missing")

    with pytest.raises(ValueError, match="factor missing"):  # nothing to fall back to
        latest.get(v(1), broken)
    with pytest.raises(ValueError, match="factor missing"):  # the same version: not again
        latest.get(v(1), broken)
    assert len(calls) == 1
    monkeypatch.setattr(fresh, "RETRY_AFTER", 0.0)
    with pytest.raises(ValueError, match="factor missing"):
        latest.get(v(1), broken)
    assert len(calls) == 2
    assert latest.get(v(1), lambda: "mended").value == "mended"
    assert latest.ready is not None and latest.ready.version == v(1)


def test_a_slot_with_no_value_yet_can_answer_none_while_it_builds() -> None:
    latest: Latest[str] = Latest(wait=0.0)
    builds = Builds()
    builds.release.clear()
    assert latest.get_or_none(v(1), builds.of(1)) is None
    builds.release.set()
    deadline = time.monotonic() + 10
    while latest.ready is None and time.monotonic() < deadline:
        time.sleep(0.01)
    found = latest.get_or_none(v(1), builds.of(1))
    assert found is not None and found.value == "value 1"
    assert Latest[str]().get_or_none(v(1), lambda: "at once") is not None  # no wait: waits


def test_slots_share_one_budget_one_build_at_a_time() -> None:
    """Under ``wait`` the builds of all slots take turns (the dashboard's snapshot and the
    report never build at once), and a request of a slot whose build cannot start now
    (another slot's runs) answers with its previous value at once instead of waiting."""
    budget = fresh.Budget(rest=0.0)
    events: list[str] = []
    held = threading.Event()
    started = threading.Event()

    def make(name: str, hold: bool = False) -> Callable[[], str]:
        def build() -> str:
            events.append(f"{name} start")
            if hold:
                started.set()
                assert held.wait(10)
            events.append(f"{name} end")
            return name

        return build

    a: Latest[str] = Latest(wait=30.0, name="a", budget=budget)
    b: Latest[str] = Latest(wait=30.0, name="b", budget=budget)
    assert a.get(v(1), make("a1")).value == "a1"
    assert b.get(v(1), make("b1")).value == "b1"
    answers: list[str] = []
    waiting = threading.Thread(target=lambda: answers.append(a.get(v(2), make("a2", True)).value))
    waiting.start()  # a's last build was quick: its request waits for the new value
    assert started.wait(10)
    quick = threading.Thread(target=lambda: answers.append(b.get(v(2), make("b2")).value))
    quick.start()
    quick.join(5)  # b cannot build while a builds: it answers at once, not after 30 s
    assert not quick.is_alive() and answers == ["b1"]
    held.set()
    waiting.join(10)
    assert answers == ["b1", "a2"]
    deadline = time.monotonic() + 10
    while "b2 end" not in events and time.monotonic() < deadline:
        time.sleep(0.01)
    first, second = ["a1 start", "a1 end", "b1 start", "b1 end"], ["a2 start", "a2 end"]
    assert events == [*first, *second, "b2 start", "b2 end"]


def test_after_a_build_the_budget_rests_as_long_as_it_took_times_rest() -> None:
    budget = fresh.Budget(rest=10.0)
    assert budget.free_in() == 0.0

    def build() -> str:
        time.sleep(0.5)
        return "built"

    assert budget.run(build) == "built"
    assert budget.free_in() > 4.0  # about 10 × 0.5 s


def test_a_slot_with_a_rest_serves_the_previous_value_while_it_rests() -> None:
    """A heavy slot (the report page's) pauses ``rest`` times its last build's time before
    the next; a request meanwhile gets the previous value at once, labelled."""
    latest: Latest[str] = Latest(wait=5.0, budget=fresh.Budget(rest=0.0), rest=1000.0)

    def slow() -> str:
        time.sleep(0.05)
        return "value 1"

    first = latest.get(v(1), slow)  # about 50 s of rest follow
    began = time.monotonic()
    during = latest.get(v(2), lambda: "value 2")
    assert during is first and during.version == v(1)
    assert time.monotonic() - began < 4.0  # not the 5 s wait: v2 cannot come within it
    time.sleep(0.2)
    assert latest.builds == 1  # resting: v2 is not built yet
