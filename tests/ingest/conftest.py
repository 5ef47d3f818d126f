"""Fixtures of the import tests: the demo organisation tree, fresh ledgers, the corpus."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from esgledger.demo.build import DEMO_DATA
from esgledger.domain.model import Entity
from esgledger.factors import load_library
from esgledger.factors.library import FactorLibrary
from esgledger.ingest.entities import read_entities
from esgledger.ingest.importer import import_file
from esgledger.store.ledger import Ledger

CORPUS = Path(__file__).resolve().parent / "corpus"
BASE = CORPUS / "valid" / "base.csv"


@pytest.fixture(scope="session")
def library() -> FactorLibrary:
    return load_library()


@pytest.fixture(scope="session")
def entities() -> list[Entity]:
    found, problems = read_entities(DEMO_DATA / "entities.csv")
    assert not problems, [str(p) for p in problems]
    return found


@pytest.fixture
def ledger_path(tmp_path: Path) -> Path:
    return tmp_path / "l.db"


@pytest.fixture
def ledger(ledger_path: Path, entities: list[Entity]) -> Iterator[Ledger]:
    """A fresh ledger holding the demo organisation tree and no records."""
    store = Ledger.open(ledger_path)
    store.init()
    store.upsert_entities(entities)
    yield store
    store.close()


@pytest.fixture
def seeded(ledger: Ledger, library: FactorLibrary) -> Ledger:
    """The fresh ledger after one earlier import: ``corpus/valid/base.csv`` (batch 1)."""
    report = import_file(ledger, BASE, library=library)
    assert report.ok and report.batch_id == 1, [str(d) for d in report.diagnostics]
    return ledger


def _state(store: Ledger) -> tuple[dict[str, int], list[dict[str, Any]]]:
    return store.counts(), store.batches().to_dict("records")


@pytest.fixture
def state() -> Callable[[Ledger], tuple[dict[str, int], list[dict[str, Any]]]]:
    """What an import may change: rows per table and the batch list."""
    return _state
