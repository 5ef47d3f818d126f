"""The carbon ledger's pure rules, without a database: postings in, balances, refusals and
chain problems out."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pandas as pd
import pytest

from esgledger.domain.errors import Conflict, Invalid
from esgledger.trading.ledger import (
    GENESIS,
    chain_problems,
    check_posting,
    check_scopes,
    compliance_of,
    finite_number,
    holdings_of,
    posting_frame,
    posting_hash,
    validate_posting,
)

COLUMNS = (
    "seq", "entity_id", "kind", "unit_type", "vintage", "compliance_year", "quantity",
    "price_cny", "lineage", "reference", "note", "posted_by", "posted_at", "prev_hash", "hash",
)  # fmt: skip


def chain(*postings: tuple[str, str, int | None, int | None, float]) -> list[dict[str, Any]]:
    """Rows of S01, hash-chained, from (kind, unit, vintage, compliance year, quantity)."""
    rows: list[dict[str, Any]] = []
    prev = GENESIS
    for seq, (kind, unit, vintage, year, quantity) in enumerate(postings, start=1):
        row: dict[str, Any] = {
            "seq": seq, "entity_id": "S01", "kind": kind, "unit_type": unit, "vintage": vintage,
            "compliance_year": year, "quantity": quantity, "price_cny": None, "lineage": "",
            "reference": "", "note": "", "posted_by": "t",
            "posted_at": datetime(2025, 1, 1, tzinfo=UTC), "prev_hash": prev,
        }  # fmt: skip
        row["hash"] = prev = posting_hash(row)
        rows.append(row)
    return rows


ROWS = chain(
    ("allocation", "CEA", 2024, None, 1000.0),
    ("purchase", "CCER", 2022, None, 80.0),
    ("emissions", "tCO2e", None, 2024, 1000.0),
    ("surrender", "CEA", 2024, 2024, 600.0),
    ("surrender", "CCER", 2022, 2024, 30.0),
)


def frame() -> pd.DataFrame:
    return posting_frame(ROWS, COLUMNS)


def test_holdings_and_the_compliance_gap_of_a_frame() -> None:
    held = holdings_of(frame()).set_index(["unit_type", "vintage"])["held"].to_dict()
    assert held == {("CCER", 2022): 50.0, ("CEA", 2024): 400.0}
    status = compliance_of(frame(), 2024)
    assert (status["verified_emissions"], status["surrendered"], status["gap"]) == (1000, 630, 370)
    assert status["offset_limit"] == pytest.approx(50.0)
    assert holdings_of(posting_frame([], COLUMNS)).empty


def test_a_new_posting_is_checked_against_the_frame() -> None:
    check_posting(frame(), "S01", "surrender", "CEA", 2024, 2024, 400.0)
    with pytest.raises(Conflict, match=r"holds 400\.00 CEA of vintage 2024: cannot sale 400\.50"):
        check_posting(frame(), "S01", "sale", "CEA", 2024, None, 400.5)
    with pytest.raises(Conflict, match=r"holds 0\.00 CEA"):
        check_posting(frame(), "S02", "retire", "CEA", 2024, None, 1.0)  # another entity's
    with pytest.raises(Conflict, match="vintage 2025 cannot be surrendered for 2024"):
        check_posting(frame(), "S01", "surrender", "CEA", 2025, 2024, 0.0)
    with pytest.raises(Conflict, match=r"reach 50\.01 t, over the limit 50\.00 t \(5% of"):
        check_posting(frame(), "S01", "surrender", "CCER", 2022, 2024, 20.01)
    with pytest.raises(Conflict, match="no verified emissions of 2023 posted for S01"):
        check_posting(frame(), "S01", "surrender", "CCER", 2022, 2023, 1.0)


def test_fields_that_do_not_fit_the_kind_are_named() -> None:
    with pytest.raises(Invalid, match="unit 'CEA': emissions are in tCO2e; compliance_year"):
        validate_posting("emissions", "CEA", None, None, 1.0, None, "")
    with pytest.raises(Invalid, match="price_cny -1: expected a price >= 0"):
        validate_posting("purchase", "CEA", 2024, None, 1.0, -1.0, "")
    validate_posting("adjustment", "tCO2e", None, 2024, -5.0, None, "recount")
    with pytest.raises(Invalid, match="finite"):
        finite_number(float("inf"), "quantity")
    with pytest.raises(Invalid, match="S2L and S2M"):
        check_scopes(("S1", "S2L", "S2M"))


def test_the_chain_finds_edits_deletions_and_insertions() -> None:
    logged = {int(r["seq"]): str(r["hash"]) for r in ROWS}
    assert chain_problems(ROWS, logged) == []
    edited = [dict(r) for r in ROWS]
    edited[1]["quantity"] = 800.0
    assert [str(p) for p in chain_problems(edited, logged)] == [
        "carbon posting 2: content does not match its hash: modified"
    ]
    gap = [r for r in ROWS if r["seq"] != 3]
    assert [str(p) for p in chain_problems(gap, logged)] == [
        "carbon posting 4: sequence jumps from 2 to 4: deleted",
        "carbon posting 4: does not follow the previous posting: deleted or moved",
        "carbon posting 3: in the audit log but not in the ledger: deleted",
    ]
    assert [str(p) for p in chain_problems(ROWS, {1: logged[1]})][-1] == (
        "carbon posting 5: not in the audit log: inserted outside esgledger"
    )
