"""The collection workflow in the library: versions, transitions, scope, lock, adjustments."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from esgledger import audit
from esgledger.auth import accounts
from esgledger.auth.accounts import Principal
from esgledger.ingest.importer import import_file
from esgledger.store.engine import write_transaction
from esgledger.store.ledger import Ledger, PeriodLockedError
from esgledger.workflow import collection, periods
from esgledger.workflow.errors import Conflict, Forbidden, Invalid, NotFound
from esgledger.workflow.evidence import add_evidence, get_evidence
from esgledger.workflow.posting import current_figure

ELECTRICITY, GAS = "energy.electricity_purchased", "energy.natural_gas"
USERS = {
    "rev": ("reviewer", ["G00"]),
    "own": ("owner", ["S01"]),
    "own2": ("owner", ["S02"]),
    "com": ("approver", ["G00"]),
    "com2": ("approver", ["G00"]),
}


@pytest.fixture(scope="module")
def template(demo_ledger_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("wf") / "wf.db"
    shutil.copy(demo_ledger_path, path)
    with Ledger.open(path) as ledger:
        for name, (role, entities) in USERS.items():
            accounts.create_user(
                ledger.engine, "t", name, f"{name}-password", role, entities=entities
            )
    return path


@pytest.fixture
def ledger(template: Path, tmp_path: Path) -> Iterator[Ledger]:
    path = tmp_path / "l.db"
    shutil.copy(template, path)
    with Ledger.open(path) as opened:
        yield opened


def who(ledger: Ledger, name: str) -> Principal:
    user_id = accounts.user_id_of(ledger.engine, name)
    assert user_id is not None
    found = accounts.get_principal(ledger.engine, user_id)
    assert found is not None
    return found


def campaign(ledger: Ledger, entities: list[str] | None = None) -> dict[str, int]:
    cid = collection.create_campaign(
        ledger.engine,
        who(ledger, "rev"),
        "2025 energy",
        2025,
        date(2026, 1, 31),
        [ELECTRICITY, GAS],
        entities or ["S01", "S02"],
    )
    detail = collection.campaign_detail(ledger.engine, who(ledger, "rev"), cid)
    return {r["entity_id"]: int(r["request_id"]) for r in detail["requests"]}


def version(ledger: Ledger, name: str, request_id: int) -> int:
    return int(collection.request_detail(ledger.engine, who(ledger, name), request_id)["version"])


def fill_and_approve(ledger: Ledger, request_id: int, mwh: str = "1,200") -> int:
    engine, own = ledger.engine, who(ledger, "own")
    collection.set_value(engine, own, request_id, ELECTRICITY, mwh, "MWh", base_version=0)
    collection.set_value(engine, own, request_id, GAS, "", "m3", base_version=0, note="no gas")
    collection.submit(engine, own, request_id, base_version=version(ledger, "own", request_id))
    rev = who(ledger, "rev")
    return collection.approve(
        engine, rev, request_id, base_version=version(ledger, "rev", request_id)
    )


def test_scope_owner_sees_only_own_request(ledger: Ledger) -> None:
    requests = campaign(ledger)
    own = who(ledger, "own")
    assert own.scope == frozenset({"S01"})
    with pytest.raises(NotFound):
        collection.request_detail(ledger.engine, own, requests["S02"])
    with pytest.raises(NotFound):
        collection.set_value(
            ledger.engine, own, requests["S02"], ELECTRICITY, "1", "MWh", base_version=0
        )
    visible = collection.campaign_detail(ledger.engine, own, 1)["requests"]
    assert [r["entity_id"] for r in visible] == ["S01"]
    rev = who(ledger, "rev")
    assert rev.scope is not None and {"G00", "S01", "S16"} <= rev.scope


def test_stale_version_is_refused_and_nothing_is_lost(ledger: Ledger) -> None:
    request_id = campaign(ledger)["S01"]
    own = who(ledger, "own")
    assert (
        collection.set_value(
            ledger.engine, own, request_id, ELECTRICITY, "10", "MWh", base_version=0
        )
        == 1
    )
    with pytest.raises(Conflict) as caught:
        collection.set_value(
            ledger.engine, own, request_id, ELECTRICITY, "20", "MWh", base_version=0
        )
    assert caught.value.current_version == 1
    value = collection.request_detail(ledger.engine, own, request_id)["items"][0]["value"]
    assert (value["value_text"], value["version"]) == ("10", 1)


def test_a_refused_edit_does_not_wait_for_the_write_lock(ledger: Ledger) -> None:
    """A stale version or an invalid value is refused from a read; the write lock (held here
    by a bulk import's transaction, say) is taken only by an edit that will be written."""
    request_id = campaign(ledger)["S01"]
    own = who(ledger, "own")
    collection.set_value(ledger.engine, own, request_id, ELECTRICITY, "10", "MWh", base_version=0)
    holding, release, waited = threading.Event(), threading.Event(), []

    def hold() -> None:
        with write_transaction(ledger.engine):
            holding.set()
            waited.append(not release.wait(10))  # True: the edits below waited for the lock

    holder = threading.Thread(target=hold)
    holder.start()
    assert holding.wait(10)
    try:
        with pytest.raises(Conflict):
            collection.set_value(
                ledger.engine, own, request_id, ELECTRICITY, "20", "MWh", base_version=0
            )
        with pytest.raises(Invalid):
            collection.set_value(
                ledger.engine, own, request_id, ELECTRICITY, "12,000吨", "MWh", base_version=1
            )
    finally:
        release.set()
        holder.join(10)
    assert waited == [False]


def test_values_are_checked_against_the_metric(ledger: Ledger) -> None:
    request_id = campaign(ledger)["S01"]
    own = who(ledger, "own")
    for text, unit in (("ten", "MWh"), ("-5", "MWh"), ("5", "kg")):
        with pytest.raises(Invalid):
            collection.set_value(
                ledger.engine, own, request_id, ELECTRICITY, text, unit, base_version=0
            )


def test_submit_needs_every_value_or_a_note(ledger: Ledger) -> None:
    request_id = campaign(ledger)["S01"]
    own = who(ledger, "own")
    collection.set_value(ledger.engine, own, request_id, ELECTRICITY, "1", "MWh", base_version=0)
    with pytest.raises(Invalid, match=GAS):
        collection.submit(
            ledger.engine, own, request_id, base_version=version(ledger, "own", request_id)
        )


def test_roles_are_enforced(ledger: Ledger) -> None:
    request_id = campaign(ledger)["S01"]
    with pytest.raises(Forbidden):
        collection.set_value(
            ledger.engine, who(ledger, "rev"), request_id, ELECTRICITY, "1", "MWh", base_version=0
        )
    with pytest.raises(Forbidden):
        collection.create_campaign(
            ledger.engine, who(ledger, "own"), "x", 2025, date(2026, 1, 1), [ELECTRICITY], ["S01"]
        )


def test_return_then_approve_posts_records_with_source(ledger: Ledger) -> None:
    request_id = campaign(ledger)["S01"]
    engine, own, rev = ledger.engine, who(ledger, "own"), who(ledger, "rev")
    collection.set_value(engine, own, request_id, ELECTRICITY, "1,200", "MWh", base_version=0)
    collection.set_value(engine, own, request_id, GAS, "3.5", "m3", base_version=0)
    collection.submit(engine, own, request_id, base_version=version(ledger, "own", request_id))
    collection.return_request(
        engine, rev, request_id, "gas looks low", base_version=version(ledger, "rev", request_id)
    )
    assert collection.request_detail(engine, own, request_id)["status"] == "returned"
    collection.set_value(engine, own, request_id, GAS, "350", "m3", base_version=1)
    collection.submit(engine, own, request_id, base_version=version(ledger, "own", request_id))
    batch = collection.approve(
        engine, rev, request_id, base_version=version(ledger, "rev", request_id)
    )
    records = ledger.activity_frame([2025])
    mine = records[records["batch_id"] == batch].sort_values("activity_type")
    assert list(mine["activity_type"]) == ["electricity", "natural_gas"]
    assert list(mine["quantity"]) == [1200.0, 350.0]
    assert set(mine["source_file"]) == {f"request:{request_id}"}
    assert current_figure(engine, "S01", 2025, ELECTRICITY) == 1200.0
    detail = collection.request_detail(engine, own, request_id)
    assert [c["kind"] for c in detail["comments"]] == ["return"]


def test_lock_refuses_edits_and_imports_then_adjustment_restates(ledger: Ledger) -> None:
    requests = campaign(ledger, ["S01"])
    engine = ledger.engine
    fill_and_approve(ledger, requests["S01"])
    assert periods.lock_period(engine, who(ledger, "com"), 2025) == 1
    with pytest.raises(Conflict, match="locked"):
        collection.set_value(
            engine, who(ledger, "own"), requests["S01"], ELECTRICITY, "1", "MWh", base_version=1
        )
    record = pd.DataFrame(
        [
            {
                "record_id": "X1",
                "entity_id": "S01",
                "year": 2025,
                "activity_type": "electricity",
                "quantity": 1.0,
                "quantity_text": "1",
                "unit": "MWh",
                "data_quality": "measured",
            }
        ]
    )
    with pytest.raises(PeriodLockedError):
        ledger.write_batch("activity", "late.csv", "x" * 64, activity=record)
    revenue = pd.DataFrame(
        [
            {
                "entity_id": "S01",
                "year": 2025,
                "metric": "revenue",
                "value": 9.0,
                "unit": "CNY",
                "source": "late.csv",
            }
        ]
    )  # a normalising figure changes the year's intensities: locked as well
    with pytest.raises(PeriodLockedError):
        ledger.write_batch("context", "late.csv", "y" * 64, context=revenue)
    assert 2025 not in set(ledger.context_frame()["year"])
    adjustment = periods.propose_adjustment(
        engine, who(ledger, "own"), "S01", 2025, ELECTRICITY, "1150", "MWh", "meter re-read"
    )
    with pytest.raises(Forbidden):  # the committee decides, not the proposer's role
        periods.decide_adjustment(engine, who(ledger, "own"), adjustment, True)
    batch = periods.decide_adjustment(engine, who(ledger, "com"), adjustment, True)
    assert current_figure(engine, "S01", 2025, ELECTRICITY) == pytest.approx(1150.0)
    records = ledger.activity_frame([2025])
    adjusting = records[records["batch_id"] == batch]
    assert list(adjusting["quantity"]) == [pytest.approx(-50.0)]
    assert list(adjusting["source_file"]) == [f"adjustment:{adjustment}"]
    assert len(records[records["activity_type"] == "electricity"]) == 2  # original kept
    assert audit.verify(engine).ok


def test_four_eyes_on_adjustments(ledger: Ledger) -> None:
    fill_and_approve(ledger, campaign(ledger, ["S01"])["S01"])
    engine = ledger.engine
    periods.lock_period(engine, who(ledger, "com"), 2025)
    adjustment = periods.propose_adjustment(
        engine, who(ledger, "rev"), "S01", 2025, ELECTRICITY, "1", "GWh", "unit error"
    )
    accounts.set_grants(engine, "t", accounts.user_id_of(engine, "com") or 0, ["G00"])
    periods.decide_adjustment(engine, who(ledger, "com"), adjustment, False, "no evidence")
    with pytest.raises(Conflict):
        periods.decide_adjustment(engine, who(ledger, "com2"), adjustment, True)
    assert current_figure(engine, "S01", 2025, ELECTRICITY) == 1200.0


def test_lock_waits_for_pending_requests_unless_forced(ledger: Ledger) -> None:
    campaign(ledger)
    with pytest.raises(Conflict, match="not approved"):
        periods.lock_period(ledger.engine, who(ledger, "com"), 2025)
    periods.lock_period(ledger.engine, who(ledger, "com"), 2025, force=True)
    assert periods.is_locked(ledger.engine, 2025)


def test_adjusting_an_open_year_or_a_ratio_is_refused(ledger: Ledger) -> None:
    with pytest.raises(Conflict, match="not locked"):
        periods.propose_adjustment(
            ledger.engine, who(ledger, "own"), "S01", 2025, ELECTRICITY, "1", "MWh", "fix it"
        )
    with pytest.raises(NotFound):
        periods.propose_adjustment(
            ledger.engine, who(ledger, "own"), "S02", 2025, ELECTRICITY, "1", "MWh", "fix it"
        )


def test_evidence_is_type_and_size_checked(ledger: Ledger) -> None:
    request_id = campaign(ledger)["S01"]
    own = who(ledger, "own")
    evidence = add_evidence(ledger.engine, own, request_id, "bill.pdf", b"%PDF-1.7 ...")
    stored = get_evidence(ledger.engine, own, evidence)
    assert stored["size"] == 12 and len(stored["sha256"]) == 64
    with pytest.raises(Invalid, match=r"not a \.pdf"):
        add_evidence(ledger.engine, own, request_id, "bill.pdf", b"MZ\x90")
    with pytest.raises(Invalid, match="must be one of"):
        add_evidence(ledger.engine, own, request_id, "run.exe", b"MZ")
    with pytest.raises(NotFound):
        get_evidence(ledger.engine, who(ledger, "own2"), evidence)


def test_overdue_reminders(ledger: Ledger) -> None:
    campaign(ledger)
    late = collection.overdue(ledger.engine, who(ledger, "own"), today=date(2026, 2, 10))
    assert [(r["entity_id"], r["days_overdue"]) for r in late] == [("S01", 10)]
    assert collection.overdue(ledger.engine, who(ledger, "own"), today=date(2026, 1, 1)) == []


def test_import_into_a_locked_year_is_a_located_error(ledger: Ledger, tmp_path: Path) -> None:
    periods.lock_period(ledger.engine, who(ledger, "com"), 2025, force=True)
    late = tmp_path / "late.csv"
    late.write_text(
        "record_id,entity_id,period,activity_type,quantity,unit,data_quality\n"
        "L1,S01,2024-12,electricity,1,MWh,measured\n"
        "L2,S01,2025-01,electricity,2,MWh,measured\n",
        encoding="utf-8",
    )
    before = len(ledger.activity_frame())
    report = import_file(ledger, late)
    assert not report.ok and report.batch_id is None
    assert [str(d) for d in report.diagnostics if d.code == "locked"] == [
        "late.csv:3:period: period 2025 is locked by the ESG committee: its figures change only "
        "through an approved adjustment, not by import [locked]"
    ]
    assert len(ledger.activity_frame()) == before


# -- one current value per figure (issue 15) --------------------------------------------------

WATER = "water.withdrawal"


def _collect(ledger: Ledger, name: str, metrics: list[str], entity: str = "S01") -> int:
    cid = collection.create_campaign(
        ledger.engine, who(ledger, "rev"), name, 2025, date(2026, 1, 31), metrics, [entity]
    )
    detail = collection.campaign_detail(ledger.engine, who(ledger, "rev"), cid)
    return int(detail["requests"][0]["request_id"])


def _approve(ledger: Ledger, request_id: int, metric: str, text: str, unit: str) -> int:
    engine, own = ledger.engine, who(ledger, "own")
    collection.set_value(engine, own, request_id, metric, text, unit, base_version=0)
    collection.submit(engine, own, request_id, base_version=version(ledger, "own", request_id))
    rev = who(ledger, "rev")
    return collection.approve(
        engine, rev, request_id, base_version=version(ledger, "rev", request_id)
    )


def test_a_figure_is_collected_by_one_request(ledger: Ledger) -> None:
    """A second campaign asking S01 for its 2025 electricity again is refused, naming the
    request that collects it: two approved requests would count the electricity twice."""
    first = _collect(ledger, "energy", [ELECTRICITY])
    with pytest.raises(Conflict, match=rf"S01 {ELECTRICITY} 2025 .*request {first}"):
        _collect(ledger, "energy again", [ELECTRICITY, GAS])
    _collect(ledger, "gas", [GAS])  # another metric of the same entity and year is fine
    _collect(ledger, "S02", [ELECTRICITY], entity="S02")  # and another entity


def test_approving_an_overlapping_request_is_refused(ledger: Ledger) -> None:
    """Ledgers made before the rule may hold two requests for one figure: the second one
    cannot be approved (it would add 1,000 MWh to the 1,200 already posted)."""
    from esgledger.store import collection as stored  # noqa: PLC0415 - an old ledger's state

    first = _collect(ledger, "energy", [ELECTRICITY])
    with ledger.engine.begin() as conn:  # the second campaign as an older version created it
        cid = stored.insert_campaign(
            conn,
            [ELECTRICITY],
            name="old duplicate",
            year=2025,
            due_date=date(2026, 1, 31),
            status="open",
            instructions=None,
            created_by="rev",
            created_at=pd.Timestamp("2026-01-01").to_pydatetime(),
        )
        stored.insert_request(
            conn,
            campaign_id=cid,
            entity_id="S01",
            assignee_id=None,
            status="draft",
            version=1,
            due_date=date(2026, 1, 31),
        )
    second = int(
        collection.campaign_detail(ledger.engine, who(ledger, "rev"), cid)["requests"][0][
            "request_id"
        ]
    )
    _approve(ledger, first, ELECTRICITY, "1,200", "MWh")
    with pytest.raises(Conflict, match=rf"request {first}"):
        _approve(ledger, second, ELECTRICITY, "1,000", "MWh")
    assert current_figure(ledger.engine, "S01", 2025, ELECTRICITY) == 1200.0


def test_a_restated_reported_figure_is_a_new_version(ledger: Ledger) -> None:
    """An approved adjustment of a reported figure (water, a metric value) makes one current
    value, the restated one; the figure read before is kept as its previous version, and the
    KPI table and targets read the current one (they stopped on 'two values' before)."""
    from esgledger import service  # noqa: PLC0415

    engine = ledger.engine
    _approve(ledger, _collect(ledger, "water", [WATER]), WATER, "1,000", "t")
    periods.lock_period(engine, who(ledger, "com"), 2025)
    adjustment = periods.propose_adjustment(
        engine, who(ledger, "own"), "S01", 2025, WATER, "1,100", "t", "meter re-read"
    )
    batch = periods.decide_adjustment(engine, who(ledger, "com"), adjustment, True)
    assert current_figure(engine, "S01", 2025, WATER) == 1100.0
    current = ledger.metric_frame([2025])
    water = current[(current["metric_id"] == WATER) & (current["entity_id"] == "S01")]
    assert list(water["value"]) == [1100.0]  # the full figure, not the +100 difference
    history = ledger.metric_history(WATER, "S01", 2025)
    assert list(history["value"]) == [1000.0, 1100.0]
    assert list(history["superseded_by"].isna()) == [False, True]
    assert int(history["batch_id"].iloc[1]) == batch
    service.targets(ledger, 2025)  # raised ValueError: two values for water.withdrawal S01 2025
    table, _ = service.kpi_table(ledger, 2025)
    row = table[table["metric_id"] == WATER]
    assert not row.empty
    assert audit.verify(engine).ok


def test_form_edits_leave_the_figures_version_and_an_approval_moves_it(ledger: Ledger) -> None:
    """A draft value, a comment or a submission changes no figure, so the Book (the report,
    the dashboard) is not recomputed while owners type; the approval posts a batch and moves
    the data version."""
    request = campaign(ledger, ["S01"])["S01"]
    start = ledger.data_version()
    engine, own = ledger.engine, who(ledger, "own")
    collection.set_value(engine, own, request, ELECTRICITY, "1,200", "MWh", base_version=0)
    collection.set_value(engine, own, request, GAS, "", "m3", base_version=0, note="no gas")
    collection.add_comment(engine, own, request, "meter read on 31 December")
    collection.submit(engine, own, request, base_version=version(ledger, "own", request))
    assert ledger.data_version() == start
    rev = who(ledger, "rev")
    collection.approve(engine, rev, request, base_version=version(ledger, "rev", request))
    assert ledger.data_version() > start
