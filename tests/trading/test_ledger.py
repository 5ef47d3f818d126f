"""The carbon ledger and allowance account: holdings, surrender rules, compliance gap,
tamper detection, per-entity access."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, insert, update

from esgledger import figures, service
from esgledger.auth import accounts
from esgledger.auth.accounts import Principal
from esgledger.store.engine import TABLES
from esgledger.store.ledger import Ledger
from esgledger.trading.ledger import posting_hash
from esgledger.usecases import carbon_ledger as carbon
from esgledger.workflow.errors import Conflict, Forbidden, Invalid, NotFound

POSTING = TABLES["carbon_posting"]


@pytest.fixture(scope="module")
def template(demo_ledger_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("carbon") / "carbon.db"
    shutil.copy(demo_ledger_path, path)
    with Ledger.open(path) as ledger:
        accounts.create_user(ledger.engine, "t", "own1", "own1-password", "owner", entities=["S01"])
        accounts.create_user(
            ledger.engine, "t", "view", "view-password", "viewer", entities=["S01"]
        )
    return path


@pytest.fixture
def ledger(template: Path, tmp_path: Path) -> Iterator[Ledger]:
    path = tmp_path / "l.db"
    shutil.copy(template, path)
    with Ledger.open(path) as opened:
        yield opened


ADMIN = accounts.operator("trader")


def who(ledger: Ledger, name: str) -> Principal:
    user_id = accounts.user_id_of(ledger.engine, name)
    assert user_id is not None
    found = accounts.get_principal(ledger.engine, user_id)
    assert found is not None
    return found


def allocate(ledger: Ledger, quantity: float, vintage: int = 2024, entity: str = "S01") -> int:
    return carbon.post(
        ledger.engine, ADMIN, entity, "allocation", quantity, unit_type="CEA", vintage=vintage
    )


def test_surrendering_more_than_held_is_refused(ledger: Ledger) -> None:
    allocate(ledger, 1000)
    carbon.post(ledger.engine, ADMIN, "S01", "emissions", 1100, compliance_year=2024)
    with pytest.raises(Conflict, match=r"holds 1,000\.00 CEA of vintage 2024: cannot surrender"):
        carbon.post(
            ledger.engine, ADMIN, "S01", "surrender", 1100.5,
            unit_type="CEA", vintage=2024, compliance_year=2024,
        )  # fmt: skip
    with pytest.raises(Conflict, match=r"holds 0\.00 CEA of vintage 2023"):
        carbon.post(ledger.engine, ADMIN, "S01", "sale", 1, unit_type="CEA", vintage=2023)
    carbon.post(
        ledger.engine, ADMIN, "S01", "purchase", 100, unit_type="CEA", vintage=2024, price_cny=98
    )
    carbon.post(
        ledger.engine, ADMIN, "S01", "surrender", 1100,
        unit_type="CEA", vintage=2024, compliance_year=2024,
    )  # fmt: skip
    held = carbon.holdings(ledger.engine, ADMIN, "S01")
    assert held.to_dict("records") == [
        {"entity_id": "S01", "unit_type": "CEA", "vintage": 2024, "held": 0.0}
    ]
    status = carbon.compliance(ledger.engine, ADMIN, "S01", 2024)
    assert (status["verified_emissions"], status["surrendered"], status["gap"]) == (1100, 1100, 0)
    assert carbon.verify(ledger.engine) == []


def test_offsets_are_limited_to_their_share_and_need_the_emissions(ledger: Ledger) -> None:
    carbon.post(ledger.engine, ADMIN, "S01", "purchase", 80, unit_type="CCER", vintage=2022)
    surrender = {"unit_type": "CCER", "vintage": 2022, "compliance_year": 2024}
    with pytest.raises(Conflict, match="post them first"):
        carbon.post(ledger.engine, ADMIN, "S01", "surrender", 10, **surrender)
    carbon.post(ledger.engine, ADMIN, "S01", "emissions", 1000, compliance_year=2024)
    # rules.csv: at most 5 % of 1,000 t, i.e. 50 t
    with pytest.raises(
        Conflict, match=r"reach 50\.01 t, over the limit 50\.00 t \(5% of 1,000\.00 t\)"
    ):
        carbon.post(ledger.engine, ADMIN, "S01", "surrender", 50.01, **surrender)
    carbon.post(ledger.engine, ADMIN, "S01", "surrender", 30, **surrender)
    carbon.post(ledger.engine, ADMIN, "S01", "surrender", 20, **surrender)
    with pytest.raises(Conflict, match="over the limit"):
        carbon.post(ledger.engine, ADMIN, "S01", "surrender", 1, **surrender)
    status = carbon.compliance(ledger.engine, ADMIN, "S01", 2024)
    assert (status["surrendered_ccer"], status["gap"]) == (50, 950)


def test_offsets_over_the_limit_after_a_downward_adjustment_do_not_count(
    ledger: Ledger,
) -> None:
    """Issue 17: after a downward adjustment 584.71 CCER surrendered stayed above the new cap
    of 484.71 unflagged, and counted in full against the gap."""
    allocate(ledger, 9_000)
    carbon.post(ledger.engine, ADMIN, "S01", "purchase", 600, unit_type="CCER", vintage=2022)
    carbon.post(ledger.engine, ADMIN, "S01", "emissions", 11_694.2, compliance_year=2024)
    # the cap: 5 % of 11,694.20 = 584.71 t, all of it surrendered, with 9,000 CEA
    ccer = {"unit_type": "CCER", "vintage": 2022, "compliance_year": 2024}
    carbon.post(ledger.engine, ADMIN, "S01", "surrender", 584.71, **ccer)
    cea = {"unit_type": "CEA", "vintage": 2024, "compliance_year": 2024}
    carbon.post(ledger.engine, ADMIN, "S01", "surrender", 9_000, **cea)
    before = carbon.compliance(ledger.engine, ADMIN, "S01", 2024)
    assert before["ccer_over_limit"] == 0
    assert before["gap"] == pytest.approx(11_694.2 - 9_000 - 584.71)  # 2,109.49
    # verification corrects the year by -2,000 t: 9,694.20 t, cap 5 % = 484.71 t
    carbon.post(
        ledger.engine, ADMIN, "S01", "adjustment", -2_000, unit_type="tCO2e",
        compliance_year=2024, note="verifier's correction of the boiler's meter",
    )  # fmt: skip
    after = carbon.compliance(ledger.engine, ADMIN, "S01", 2024)
    assert after["offset_limit"] == pytest.approx(0.05 * 9_694.2)  # 484.71
    assert after["ccer_over_limit"] == pytest.approx(584.71 - 484.71)  # 100 t do not count
    # gap = 9,694.20 - (9,000 + 484.71) = 209.49 t (not 9,694.20 - 9,584.71 = 109.49)
    assert after["gap"] == pytest.approx(209.49)
    [flag] = carbon.positions(ledger.engine, ADMIN, ["S01"], 2024)["flag"]
    assert flag == (
        "CCER surrendered for 2024 (584.71 t) exceed the limit 484.71 t (5% of 9,694.20 t "
        "verified): 100.00 t do not count and are part of the gap (surrender CEA)"
    )


def test_no_surrender_before_the_years_emissions_are_posted(ledger: Ledger) -> None:
    """Issue 17: a CEA surrender for a year with no verified emissions was accepted."""
    allocate(ledger, 500)
    with pytest.raises(Conflict, match="no verified emissions of 2024 posted for S01"):
        carbon.post(
            ledger.engine, ADMIN, "S01", "surrender", 100,
            unit_type="CEA", vintage=2024, compliance_year=2024,
        )  # fmt: skip
    assert float(carbon.holdings(ledger.engine, ADMIN, "S01")["held"].sum()) == 500


def test_no_borrowing_of_later_allowances(ledger: Ledger) -> None:
    allocate(ledger, 500, vintage=2025)
    carbon.post(ledger.engine, ADMIN, "S01", "emissions", 400, compliance_year=2024)
    with pytest.raises(Conflict, match="vintage 2025 cannot be surrendered for 2024"):
        carbon.post(
            ledger.engine, ADMIN, "S01", "surrender", 400,
            unit_type="CEA", vintage=2025, compliance_year=2024,
        )  # fmt: skip
    allocate(ledger, 500, vintage=2023)  # banking an earlier vintage forward is allowed
    carbon.post(
        ledger.engine, ADMIN, "S01", "surrender", 400,
        unit_type="CEA", vintage=2023, compliance_year=2024,
    )  # fmt: skip


def test_bad_postings_say_what_was_expected(ledger: Ledger) -> None:
    with pytest.raises(Invalid, match="kind 'gift'"):
        carbon.post(ledger.engine, ADMIN, "S01", "gift", 1)
    with pytest.raises(Invalid, match="an adjustment needs its reason"):
        carbon.post(ledger.engine, ADMIN, "S01", "adjustment", -5, compliance_year=2024)
    with pytest.raises(Invalid, match="vintage: expected"):
        carbon.post(ledger.engine, ADMIN, "S01", "allocation", 5, unit_type="CEA")
    with pytest.raises(Invalid, match="expected a positive quantity"):
        allocate(ledger, 0)
    with pytest.raises(Invalid, match="finite"):
        allocate(ledger, float("nan"))
    with pytest.raises(NotFound, match="no entity 'NOPE'"):
        allocate(ledger, 1, entity="NOPE")


def test_inventory_emissions_are_posted_with_their_lineage(ledger: Ledger) -> None:

    seq = carbon.post_inventory_emissions(ledger, ADMIN, "S01", 2024)
    row = carbon.postings(ledger.engine, ADMIN, "S01").set_index("seq").loc[seq]
    assert row["lineage"] == "ghg:2024:S1:S01;ghg:2024:S2L:S01"
    explained = sum(
        figures.explain(ledger, figure).value or 0.0 for figure in row["lineage"].split(";")
    )
    assert row["quantity"] == pytest.approx(explained, rel=1e-12)
    with pytest.raises(Invalid, match="scopes"):
        carbon.post_inventory_emissions(ledger, ADMIN, "S01", 2024, scopes=("S9",))
    # post_emissions posts from an inventory its caller computed; a scope named twice, or scope 2
    # on both bases, would count emissions twice
    inventory = service.run_inventory(ledger, service.settings_from_ledger(ledger))
    for twice in (("S1", "S1"), ("S1", "S2L", "S2M")):
        with pytest.raises(Invalid, match="scope"):
            carbon.post_emissions(ledger.engine, ADMIN, "S01", 2024, twice, inventory=inventory)
    with pytest.raises(Conflict, match="no S1 emissions of S01 in 1990"):
        carbon.post_emissions(ledger.engine, ADMIN, "S01", 1990, ("S1",), inventory=inventory)
    assert len(carbon.postings(ledger.engine, ADMIN, "S01")) == 1


def test_an_entity_the_ledger_does_not_have_is_not_found(ledger: Ledger) -> None:
    with pytest.raises(NotFound, match="S99"):
        carbon.positions(ledger.engine, ADMIN, ["S99"], 2024)
    with pytest.raises(NotFound, match="S99"):
        carbon.postings(ledger.engine, ADMIN, "S99")


def test_tampering_is_detected(ledger: Ledger) -> None:
    allocate(ledger, 100)
    allocate(ledger, 200)
    allocate(ledger, 300)
    assert carbon.verify(ledger.engine) == []
    with ledger.engine.begin() as conn:
        conn.execute(update(POSTING).where(POSTING.c.seq == 2).values(quantity=2000.0))
    found = [str(p) for p in carbon.verify(ledger.engine)]
    assert found == ["carbon posting 2: content does not match its hash: modified"]
    with ledger.engine.begin() as conn:
        conn.execute(update(POSTING).where(POSTING.c.seq == 2).values(quantity=200.0))
        conn.execute(delete(POSTING).where(POSTING.c.seq == 3))
    found = [str(p) for p in carbon.verify(ledger.engine)]
    assert found == ["carbon posting 3: in the audit log but not in the ledger: deleted"]


def test_a_rewritten_chain_is_caught_by_the_audit_log(ledger: Ledger) -> None:
    allocate(ledger, 100)
    with ledger.engine.begin() as conn:
        row = dict(conn.execute(POSTING.select()).mappings().one())
        row["quantity"] = 900.0
        row["hash"] = posting_hash(row)  # a forger recomputing the hash
        conn.execute(delete(POSTING))
        conn.execute(insert(POSTING).values(**row))
    assert [str(p) for p in carbon.verify(ledger.engine)] == [
        "carbon posting 1: hash differs from the one in the audit log: rewritten"
    ]


def test_entities_outside_the_scope_are_refused(ledger: Ledger) -> None:
    owner = who(ledger, "own1")
    carbon.post(ledger.engine, owner, "S01", "allocation", 10, unit_type="CEA", vintage=2024)
    allocate(ledger, 20, entity="S02")
    with pytest.raises(Forbidden, match="may not post for S02"):
        carbon.post(ledger.engine, owner, "S02", "allocation", 10, unit_type="CEA", vintage=2024)
    with pytest.raises(NotFound):
        carbon.holdings(ledger.engine, owner, "S02")
    assert set(carbon.postings(ledger.engine, owner)["entity_id"]) == {"S01"}
    with pytest.raises(Forbidden, match="may not edit"):
        allocate_as = who(ledger, "view")
        carbon.post(
            ledger.engine, allocate_as, "S01", "allocation", 1, unit_type="CEA", vintage=2024
        )


OPS = st.lists(
    st.tuples(
        st.sampled_from(["allocation", "purchase", "sale", "surrender", "emissions"]),
        st.integers(min_value=1, max_value=500),
    ),
    min_size=1,
    max_size=12,
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ops=OPS)
def test_the_gap_is_emissions_minus_surrendered(ledger: Ledger, ops: list[tuple[str, int]]) -> None:
    with ledger.engine.begin() as conn:  # each example starts from an empty account
        conn.execute(delete(POSTING))
        conn.execute(
            delete(TABLES["audit_log"]).where(TABLES["audit_log"].c.object_type == "carbon_posting")
        )
    emitted = surrendered = held = 0.0
    for kind, quantity in ops:
        extra = {"compliance_year": 2024} if kind in ("emissions", "surrender") else {}
        units = {} if kind == "emissions" else {"unit_type": "CEA", "vintage": 2024}
        try:
            carbon.post(ledger.engine, ADMIN, "S01", kind, quantity, **units, **extra)  # type: ignore[arg-type]
        except Conflict:
            # more than is held, or a surrender for a year with no verified emissions posted
            assert kind in ("sale", "surrender")
            assert quantity > held or (kind == "surrender" and emitted == 0)
            continue
        emitted += quantity if kind == "emissions" else 0
        surrendered += quantity if kind == "surrender" else 0
        held += {
            "allocation": quantity,
            "purchase": quantity,
            "sale": -quantity,
            "surrender": -quantity,
        }.get(kind, 0)
    status = carbon.compliance(ledger.engine, ADMIN, "S01", 2024)
    assert status["gap"] == emitted - surrendered
    assert float(carbon.holdings(ledger.engine, ADMIN, "S01")["held"].sum()) == held
