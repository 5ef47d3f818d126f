"""The data version (migration 0010): moved by every committed write a figure can depend on,
and by nothing else."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from sqlalchemy import insert

from esgledger.domain.model import Entity, EntityKind
from esgledger.store.engine import TABLES, write_transaction
from esgledger.store.ledger import Ledger

MIGRATION = importlib.import_module("esgledger.store.migrations.versions.0010_data_version")
LATER = importlib.import_module("esgledger.store.migrations.versions.0013_collection_unversioned")
TARGETS = importlib.import_module("esgledger.store.migrations.versions.0014_targets")
FUEL = importlib.import_module("esgledger.store.migrations.versions.0015_fuel_property")
PACKS = importlib.import_module("esgledger.store.migrations.versions.0016_user_factor")
METRICS = importlib.import_module("esgledger.store.migrations.versions.0017_metric_definition")
MEASURES = importlib.import_module("esgledger.store.migrations.versions.0018_measure")
TOPICS = importlib.import_module("esgledger.store.migrations.versions.0019_topic_list")
RULES = importlib.import_module("esgledger.store.migrations.versions.0020_register_rules")
VERSIONED = (
    (set(MIGRATION.VERSIONED) - set(LATER.UNVERSIONED))
    | set(TARGETS.VERSIONED)
    | set(FUEL.VERSIONED)
    | set(PACKS.VERSIONED)
    | set(METRICS.VERSIONED)
    | set(MEASURES.VERSIONED)
    | set(TOPICS.VERSIONED)
    | set(RULES.VERSIONED)
)

UNVERSIONED = {
    # written only with their import_batch row, whose trigger moves the version
    "activity_record",
    "direct_emission",
    "metric_value",
    "roster_employee",
    # accounts, sign-ins and the audit log change no figure
    "app_user",
    "user_entity",
    "web_session",
    "api_token",
    "login_attempt",
    "survey_token",
    "audit_log",
    "audit_head",
    # the collection's working rows: a figure changes when an approval posts a batch
    *LATER.UNVERSIONED,
}


def test_every_table_is_versioned_or_listed_as_not() -> None:
    """A table added by a later migration must say whether its writes move the version."""
    assert VERSIONED.isdisjoint(UNVERSIONED)
    assert set(TABLES) == VERSIONED | UNVERSIONED


def _ledger(url: str) -> Ledger:
    ledger = Ledger.open(url)
    ledger.init()
    return ledger


def test_committed_writes_move_the_version_and_reads_do_not(store_url: str) -> None:
    with _ledger(store_url) as ledger:
        start = ledger.data_version()
        ledger.organisation()
        ledger.activity_frame()
        assert ledger.data_version() == start
        ledger.upsert_entities([Entity("G", "Group", EntityKind.GROUP)])
        after_entity = ledger.data_version()
        assert after_entity.epoch == start.epoch
        assert after_entity.counter > start.counter
        ledger.set_setting("approach", "equity_share")
        after_setting = ledger.data_version()
        assert after_setting > after_entity
        ledger.set_setting("approach", "equity_share")  # same value written again: a write
        assert ledger.data_version() >= after_setting


def test_a_rolled_back_write_leaves_the_version(store_url: str) -> None:
    with _ledger(store_url) as ledger:
        start = ledger.data_version()
        with pytest.raises(RuntimeError), write_transaction(ledger.engine) as conn:
            conn.execute(insert(TABLES["setting"]).values(key="gwp_set", value="AR5"))
            raise RuntimeError("abandon")
        assert ledger.data_version() == start


def test_each_ledger_has_its_own_epoch(tmp_path: Path) -> None:
    with _ledger(str(tmp_path / "a.db")) as a, _ledger(str(tmp_path / "b.db")) as b:
        assert a.data_version().epoch != b.data_version().epoch
        assert a.data_version().counter == b.data_version().counter == 0
