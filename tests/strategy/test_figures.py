"""Strategy figure ids: their lineage values are the library's numbers, and malformed ids fail."""

from __future__ import annotations

import math

import pytest

from esgledger import figures, service
from esgledger.store.ledger import Ledger
from esgledger.strategy.pathways import absolute_contraction, load_pathway_parameters
from esgledger.usecases.strategy import forecast_from_ledger, kaya_decomposition
from esgledger.usecases.strategy_figures import (
    decomposition,
    explain_strategy,
    pathway_progress,
    pathway_table,
    strategy_value,
)
from esgledger.usecases.targets import ledger_milestones


def test_lmdi_ids_are_the_decomposition(demo_ledger: Ledger) -> None:
    expected, _ = kaya_decomposition(demo_ledger, 2023, 2024, activity="revenue", by="scope")
    total = explain_strategy(demo_ledger, "lmdi:2023:2024:scope:total")
    assert total.value == pytest.approx(expected.change, abs=1e-9)
    # the children are the effects, which sum to the change exactly (LMDI-I is complete)
    assert sum(float(c.value or 0) for c in total.children) == pytest.approx(expected.change)
    for factor in expected.factors:
        node = explain_strategy(demo_ledger, f"lmdi:2023:2024:scope:{factor}")
        assert node.value == pytest.approx(float(expected.additive[factor]))
        # the subsector contributions add up to the factor's effect
        assert sum(float(c.value or 0) for c in node.children) == pytest.approx(
            float(expected.additive[factor])
        )
    # one computation per Book (the ledger's data version)
    assert decomposition(demo_ledger, 2023, 2024, "scope") is decomposition(
        demo_ledger, 2023, 2024, "scope"
    )


def test_pathway_ids_are_the_table(demo_ledger: Ledger) -> None:
    frame, notes = pathway_table(demo_ledger, 2024)
    marks = ledger_milestones(demo_ledger)
    assert frame["year"].min() == 2024
    assert frame["year"].max() == marks.net_zero
    base = service.run_inventory(demo_ledger, service.settings_from_ledger(demo_ledger))
    total_2024 = float(base.scope_totals(2024)["total"])
    row = frame.set_index("year")
    assert row.loc[2024, "bau"] == pytest.approx(total_2024)
    assert row.loc[2024, "group"] == pytest.approx(total_2024)
    # contraction: E_base x (1 - 4.2 % x (t - base)) by hand for 2030
    rate = load_pathway_parameters().rate("1.5C")
    assert rate == pytest.approx(0.042)
    assert row.loc[2030, "contraction"] == pytest.approx(total_2024 * (1 - 0.042 * 6))
    assert row.loc[2030, "contraction"] == pytest.approx(
        absolute_contraction(2024, total_2024, 2030).set_index("year").loc[2030, "pathway_tco2e"]
    )
    # net zero: 10 % of the base-year total
    assert row.loc[marks.net_zero, "group"] == pytest.approx(0.1 * total_2024)
    # up to the peak the group pathway is the forecast, so the gap is zero
    assert row.loc[marks.peak, "gap"] == pytest.approx(0.0, abs=1e-9)
    assert any("milestones" in n for n in notes)
    for series in ("bau", "contraction", "group", "gap"):
        for year in (2024, marks.peak):
            value = strategy_value(demo_ledger, f"pathway:2024:{series}:{year}")
            assert value == pytest.approx(float(row.loc[year, series]))
    # business as usual runs to net zero; the gap is the abatement the pathway asks for
    bau_nz = float(row.loc[marks.net_zero, "bau"])
    assert math.isfinite(bau_nz)
    assert row.loc[marks.net_zero, "gap"] == pytest.approx(bau_nz - 0.1 * total_2024)
    assert strategy_value(demo_ledger, f"pathway:2024:gap:{marks.net_zero}") == pytest.approx(
        bau_nz - 0.1 * total_2024
    )


def test_service_explain_dispatches_strategy_ids(demo_ledger: Ledger) -> None:
    node = figures.explain(demo_ledger, "pathway:2024:contraction:2025")
    frame, _ = pathway_table(demo_ledger, 2024)
    assert node.value == pytest.approx(float(frame.set_index("year").loc[2025, "contraction"]))
    assert "4.2 %" in str(node.detail["formula"])


@pytest.mark.parametrize(
    "figure",
    [
        "lmdi:2023:2024:scope",
        "lmdi:x:2024:scope:total",
        "lmdi:2023:2024:region:total",
        "pathway:2024:other:2030",
        "pathway:2024:bau",
        "stuff:1",
    ],
)
def test_malformed_ids_are_refused(demo_ledger: Ledger, figure: str) -> None:
    with pytest.raises(ValueError, match=r"figure id .* is not (one of |lmdi:|pathway:)"):
        strategy_value(demo_ledger, figure)


def test_ids_the_ledger_cannot_answer(demo_ledger: Ledger) -> None:
    assert strategy_value(demo_ledger, "pathway:2024:group:2099") is None
    assert strategy_value(demo_ledger, "lmdi:2023:2024:scope:no_such_factor") is None
    with pytest.raises(ValueError, match="factor"):
        explain_strategy(demo_ledger, "lmdi:2023:2024:scope:no_such_factor")


def test_pathway_from_an_earlier_base_forecasts_from_its_own_history(demo_ledger: Ledger) -> None:
    """A pathway from 2023 is forecast from the history up to 2023: the 2024 inventory is
    what happened next, not an input."""
    frame, _ = pathway_table(demo_ledger, 2023)
    seen_then = forecast_from_ledger(demo_ledger, 5, through=2023).forecasts
    total = seen_then[seen_then["series"] == "total"].set_index("year")["forecast"]
    row = frame.set_index("year")
    assert row.loc[2024, "bau"] == pytest.approx(float(total.loc[2024]))
    assert row.loc[2024, "group"] == pytest.approx(float(total.loc[2024]))
    with pytest.raises(ValueError, match="no inventory up to"):
        forecast_from_ledger(demo_ledger, 2, through=1990)


def test_progress_is_actual_against_the_group_pathway(demo_ledger: Ledger) -> None:
    base = service.run_inventory(demo_ledger, service.settings_from_ledger(demo_ledger))
    actual = float(base.scope_totals(2024)["total"])
    # the milestones were set in 2024 (the demo targets' start_year): 2024 is the base year
    assert ledger_milestones(demo_ledger).set_in == 2024
    first = pathway_progress(demo_ledger, 2024)
    assert first.status == "base year"
    assert first.actual_tco2e == pytest.approx(actual)
    assert first.group_tco2e == pytest.approx(actual)
    # from 2023 the pathway expected the 2023-history forecast for 2024; the actual is above
    later = pathway_progress(demo_ledger, 2024, base_year=2023)
    frame, _ = pathway_table(demo_ledger, 2023)
    expected = float(frame.set_index("year").loc[2024, "group"])
    assert later.group_tco2e == pytest.approx(expected)
    assert later.status == ("on track" if actual <= expected else "off track")
    assert f"{actual - expected:+,.2f}" in later.reason
    with pytest.raises(ValueError, match="after"):
        pathway_progress(demo_ledger, 2023, base_year=2024)
