"""Base-year recalculation (GHG Protocol Corporate Standard chapter 5), hand-calculated."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from esgledger.calc.baseyear import assess_base_year
from esgledger.domain.model import StructuralChange


def change(kind: str, impact: float | None, year: int = 2024, cid: str = "C1") -> StructuralChange:
    return StructuralChange(cid, year, kind, f"{kind} {cid}", None, impact)


def test_acquisition_below_threshold_keeps_the_base_year() -> None:
    # 900 / 20,000 = 4.5 % < 5 %
    decision = assess_base_year(2020, 20_000.0, [change("acquisition", 900.0)])
    assert decision.action == "keep"
    assert decision.significance == pytest.approx(0.045)
    assert decision.recalculated_total is None
    assert "4.50%" in decision.reason and "below" in decision.reason


def test_acquisition_at_threshold_recalculates() -> None:
    # 1,000 / 20,000 = 5.0 % -> recalculate: 20,000 + 1,000 = 21,000
    decision = assess_base_year(2020, 20_000.0, [change("acquisition", 1_000.0)])
    assert decision.action == "recalculate"
    assert decision.recalculated_total == pytest.approx(21_000.0)
    assert decision.new_base_year == 2020


def test_divestment_removes_emissions_and_changes_cumulate() -> None:
    # acquisition +600, divestment -1,800: net -1,200 / 20,000 = 6 % -> 18,800
    changes = [change("acquisition", 600.0, cid="A"), change("divestment", 1_800.0, cid="D")]
    decision = assess_base_year(2020, 20_000.0, changes)
    assert decision.significance == pytest.approx(0.06)
    assert decision.recalculated_total == pytest.approx(18_800.0)
    assert decision.changes == ("A", "D")


def test_changes_that_offset_do_not_trigger() -> None:
    # +1,500 and -1,500 cancel: 0 % (GHG Protocol: the cumulative effect counts)
    changes = [change("acquisition", 1_500.0, cid="A"), change("divestment", 1_500.0, cid="D")]
    assert assess_base_year(2020, 20_000.0, changes).action == "keep"


def test_configurable_threshold() -> None:
    changes = [change("methodology", 300.0)]  # 1.5 %
    assert assess_base_year(2020, 20_000.0, changes, threshold=0.05).action == "keep"
    assert assess_base_year(2020, 20_000.0, changes, threshold=0.01).action == "recalculate"


def test_unknown_impact_resets_the_base_year_like_the_seed_group() -> None:
    # the seed: 2024 acquisitions, no base-year data for the acquired companies -> 2024
    decision = assess_base_year(2020, 18_282.45, [change("acquisition", None)])
    assert decision.action == "reset"
    assert decision.new_base_year == 2024
    assert decision.significance is None
    assert "not known" in decision.reason


def test_changes_before_or_in_the_base_year_are_ignored() -> None:
    decision = assess_base_year(2020, 20_000.0, [change("acquisition", 5_000.0, year=2020)])
    assert decision.action == "keep"


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="positive"):
        assess_base_year(2020, 0.0, [])
    with pytest.raises(ValueError, match="unknown change kind"):
        assess_base_year(2020, 100.0, [change("merger-of-equals", 10.0)])


@given(base=st.floats(1.0, 1e7), share=st.floats(0.0, 0.2), threshold=st.floats(0.01, 0.1))
def test_decision_follows_the_threshold(base: float, share: float, threshold: float) -> None:
    assume(abs(share - threshold) > 1e-9)  # float rounding decides exactly at the threshold
    decision = assess_base_year(2020, base, [change("acquisition", base * share)], threshold)
    assert decision.action == ("recalculate" if share >= threshold else "keep")
    if decision.action == "recalculate":
        assert decision.recalculated_total == pytest.approx(base * (1 + share))
