"""The Book: one computation of each figure per data version, whoever asks for it."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from esgledger import figures, service
from esgledger.book import Book, BookCache, current_book
from esgledger.book import book as book_module
from esgledger.calc import InventoryResult
from esgledger.report import build_report
from esgledger.store.ledger import Ledger
from esgledger.strategy import uncertainty
from esgledger.usecases import strategy as usecase


@pytest.fixture
def ledger(demo_ledger_path: Path, tmp_path: Path) -> Iterator[Ledger]:
    path = tmp_path / "copy.db"
    shutil.copy(demo_ledger_path, path)
    with Ledger.open(path) as opened:
        yield opened


@pytest.fixture
def runs(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The settings of every inventory the Books compute (the engine is only called here)."""
    seen: list[Any] = []
    real: Callable[..., InventoryResult] = book_module.compute_inventory

    def counting(data: Any, library: Any, settings: Any) -> InventoryResult:
        seen.append(settings)
        return real(data, library, settings)

    monkeypatch.setattr(book_module, "compute_inventory", counting)
    return seen


def test_a_report_the_dashboard_figures_kpi_and_targets_share_one_inventory(
    ledger: Ledger, runs: list[Any]
) -> None:
    """Every caller of one data version reads one inventory per setting set in use: the
    report (scope series, KPI table, methodology, strategy blocks), the KPI table of two
    years, the targets of every year, explain and the strategy figures."""
    build_report(ledger, 2024, "en")
    build_report(ledger, 2024, "zh")
    service.kpi_table(ledger, 2024)
    service.kpi_table(ledger, 2023)
    service.targets(ledger, 2024)
    figures.explain(ledger, "ghg:2024:S1")
    figures.explain(ledger, "metric:2024:energy.electricity_purchased")
    assert len(runs) == 1, runs
    assert runs[0] == current_book(ledger).settings()


def test_the_per_year_cli_settings_are_a_set_of_their_own(ledger: Ledger, runs: list[Any]) -> None:
    book = current_book(ledger)
    for _ in range(3):
        book.inventory(book.settings(years=(2024,)))
        book.inventory()
        book.inventory_of(2023)
    assert [r.years for r in runs] == [(2024,), None]


def test_a_committed_write_gives_a_new_book_and_a_new_inventory(
    ledger: Ledger, runs: list[Any]
) -> None:
    first = current_book(ledger)
    total = first.inventory().scope_totals(2024)["total"]
    assert current_book(ledger) is first
    ledger.set_setting("scope2_total_basis", "market")
    second = current_book(ledger)
    assert second is not first and second.version > first.version
    market = second.inventory().scope_totals(2024)
    assert market["total"] == pytest.approx(
        total - market["scope2_location"] + market["scope2_market"], rel=1e-12
    )
    assert len(runs) == 2


def test_concurrent_readers_wait_for_one_computation(ledger: Ledger, runs: list[Any]) -> None:
    book = Book(ledger)
    results: list[InventoryResult] = []
    start = threading.Barrier(8)

    def read() -> None:
        start.wait()
        results.append(book.inventory())

    threads = [threading.Thread(target=read) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(runs) == 1
    assert all(r is results[0] for r in results)


def test_memo_computes_each_key_once_and_peek_does_not_compute(ledger: Ledger) -> None:
    book = Book(ledger)
    calls: list[str] = []
    assert book.peek("k") is None
    assert book.memo("k", lambda: calls.append("k") or 42) == 42
    assert book.memo("k", lambda: calls.append("again") or 0) == 42
    assert book.peek("k") == 42 and calls == ["k"]


def test_the_cache_keeps_one_book_per_version(ledger: Ledger) -> None:
    cache = BookCache()
    a = cache.get(ledger)
    assert cache.get(ledger) is a and cache.books == 1
    ledger.set_parameter("density.gasoline", None, 0.74, "kg/L", "supplier")
    b = cache.get(ledger)
    assert b is not a and cache.books == 2 and cache.current is b


def test_an_empty_ledger_has_an_empty_inventory(tmp_path: Path, runs: list[Any]) -> None:
    with Ledger.open(tmp_path / "new.db") as new:
        new.init()
        result = current_book(new).inventory()
    assert result.lines.empty and result.energy.empty and runs == []


def test_strategy_results_are_the_books(ledger: Ledger, monkeypatch: pytest.MonkeyPatch) -> None:
    """The forecast, the baseline and the Monte Carlo run of a version are computed once and
    shared by the CLI, the web pages and the report; a write gives new ones."""
    draws: list[int] = []
    real = uncertainty.uncertainty_from_inventory

    def counting(*args: Any, **kwargs: Any) -> Any:
        draws.append(int(kwargs["iterations"]))
        return real(*args, **kwargs)

    monkeypatch.setattr(uncertainty, "uncertainty_from_inventory", counting)
    first = usecase.uncertainty_from_ledger(ledger, 2024, iterations=200, seed=1)
    assert usecase.uncertainty_from_ledger(ledger, 2024, iterations=200, seed=1) is first
    usecase.uncertainty_from_ledger(ledger, 2024, iterations=200, seed=2)  # another run
    assert draws == [200, 200]
    baseline = usecase.baseline_from_ledger(ledger, 2024)
    assert usecase.baseline_from_ledger(ledger, None) is baseline  # 2024: the latest year
    forecast = usecase.forecast_from_ledger(ledger, 3)
    assert usecase.forecast_from_ledger(ledger, 3) is forecast
    assert usecase.forecast_from_ledger(ledger, 4) is not forecast
    ledger.set_setting("scope2_total_basis", "market")  # a committed write: a new version
    assert usecase.baseline_from_ledger(ledger, 2024) is not baseline
