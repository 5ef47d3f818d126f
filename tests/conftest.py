"""Shared fixtures: the demo ledger, built once per test session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from esgledger.demo import build_demo
from esgledger.store.ledger import Ledger


@pytest.fixture(scope="session")
def demo_ledger_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    ledger, reports = build_demo(path)
    assert all(r.ok for r in reports), [str(d) for r in reports for d in r.diagnostics]
    ledger.close()
    return path


@pytest.fixture
def demo_ledger(demo_ledger_path: Path) -> Iterator[Ledger]:
    ledger = Ledger.open(demo_ledger_path)
    yield ledger
    ledger.close()
