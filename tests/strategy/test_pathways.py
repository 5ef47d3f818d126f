"""Pathways: hand-computed values, floors, peak, gap arithmetic, progress, errors, demo."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import pytest

from esgledger.checks.targets import load_targets
from esgledger.demo.build import DEMO_DATA
from esgledger.store.ledger import Ledger
from esgledger.strategy.pathways import (
    absolute_contraction,
    gap,
    intensity_pathway,
    load_pathway_parameters,
    milestones,
    peak_decline,
    progress,
)
from esgledger.usecases.strategy import ledger_pathway


def test_parameters_come_from_the_data_file() -> None:
    params = load_pathway_parameters()
    assert params.rate("1.5C") == pytest.approx(0.042)
    assert params.rate("wb2c") == pytest.approx(0.025)
    assert params.net_zero_residual == pytest.approx(0.10)
    assert params.neutrality_residual is None
    with pytest.raises(ValueError, match="expected one of"):
        params.rate("3C")


def test_absolute_contraction_hand_computed() -> None:
    # 1000 t in 2020 at 4.2 %/year: 2030 = 1000 x (1 - 0.042 x 10) = 580 t.
    frame = absolute_contraction(2020, 1000.0, 2030)
    assert list(frame["year"]) == list(range(2020, 2031))
    assert frame.set_index("year").loc[2030, "pathway_tco2e"] == pytest.approx(580.0, abs=1e-9)
    assert frame.set_index("year").loc[2025, "pathway_tco2e"] == pytest.approx(790.0, abs=1e-9)
    wb2c = absolute_contraction(2020, 1000.0, 2030, ambition="wb2c")
    assert wb2c["pathway_tco2e"].iloc[-1] == pytest.approx(750.0, abs=1e-9)


def test_absolute_contraction_floors_at_zero() -> None:
    # 10 %/year reaches 0 after 10 years and stays there.
    frame = absolute_contraction(2020, 500.0, 2035, rate=0.10).set_index("year")
    assert frame.loc[2030, "pathway_tco2e"] == pytest.approx(0.0, abs=1e-9)
    assert (frame.loc[2031:, "pathway_tco2e"] == 0.0).all()
    assert (frame["pathway_tco2e"] >= 0).all()


def test_target_year_before_base_year_is_an_error() -> None:
    with pytest.raises(ValueError, match="before the base year 2024: expected a year >= 2024"):
        absolute_contraction(2024, 1000.0, 2020)
    with pytest.raises(ValueError, match="expected a year >= 2028"):
        peak_decline(2024, 1000.0, 2028, 2027, 2050)
    with pytest.raises(ValueError, match="expected a year >= 2024"):
        intensity_pathway(2024, 1000.0, 10.0, pd.Series(dtype=float), 2020)
    with pytest.raises(ValueError, match="expected a finite value >= 0"):
        absolute_contraction(2020, -1.0, 2030)


def test_peak_decline_hand_computed_and_peak_is_the_maximum() -> None:
    # 1000 t in 2024, +10 %/year to 2028: 1000 x 1.1^4 = 1464.1 t; linear to 10 % of base
    # (100 t) in 2050: 2039 is 11/22 of the way: 1464.1 - (1364.1 x 11/22) = 782.05 t.
    frame = peak_decline(2024, 1000.0, 2028, 2040, 2050, growth=0.10, horizon=2055)
    by_year = frame.set_index("year")["pathway_tco2e"]
    assert by_year[2028] == pytest.approx(1464.1)
    assert by_year.idxmax() == 2028
    assert by_year[2039] == pytest.approx(782.05)
    assert by_year[2050] == pytest.approx(100.0)
    assert list(by_year.loc[2051:]) == pytest.approx([100.0] * 5)
    assert frame.set_index("year").loc[2055, "phase"] == "residual"
    assert frame["pathway_tco2e"].diff().loc[frame["year"] > 2028].le(1e-9).all()


def test_peak_decline_through_a_neutrality_level_and_at_a_constant_rate() -> None:
    frame = peak_decline(
        2024, 1000.0, 2024, 2040, 2050, neutrality_residual=0.4, shape="rate"
    ).set_index("year")
    assert frame.loc[2040, "pathway_tco2e"] == pytest.approx(400.0)
    assert frame.loc[2050, "pathway_tco2e"] == pytest.approx(100.0)
    # Constant rate 2040-2050: (100/400)^(1/10) per year, so 2045 = 400 x 0.25^0.5 = 200.
    assert frame.loc[2045, "pathway_tco2e"] == pytest.approx(200.0)
    forecast = pd.Series({2025: 1100.0, 2026: 1300.0})
    followed = peak_decline(2024, 1000.0, 2026, 2040, 2050, forecast=forecast).set_index("year")
    assert followed.loc[2026, "pathway_tco2e"] == 1300.0
    with pytest.raises(ValueError, match="expected a value"):
        peak_decline(2024, 1000.0, 2027, 2040, 2050, forecast=forecast)
    with pytest.raises(ValueError, match="expected residuals at most the peak"):
        peak_decline(2024, 1000.0, 2028, 2040, 2050, growth=-0.5, net_zero_residual=0.5)


def test_intensity_pathway() -> None:
    # 1000 t on 100 units: 10 t/unit; at 5 %/year, 2026 intensity = 10 x 0.9 = 9 t/unit.
    activity = pd.Series({2025: 110.0, 2026: 120.0})
    frame = intensity_pathway(2024, 1000.0, 100.0, activity, 2026, rate=0.05).set_index("year")
    assert frame.loc[2026, "intensity"] == pytest.approx(9.0)
    assert frame.loc[2026, "pathway_tco2e"] == pytest.approx(1080.0)
    with pytest.raises(ValueError, match="expected a value for every year"):
        intensity_pathway(2024, 1000.0, 100.0, activity, 2027, rate=0.05)


def test_gap_arithmetic() -> None:
    pathway = absolute_contraction(2020, 1000.0, 2023, rate=0.10)  # 1000, 900, 800, 700
    forecast = pd.Series({2021: 950.0, 2022: 780.0, 2023: 760.0, 2030: 1.0})
    table = gap(forecast, pathway).set_index("year")
    assert list(table.index) == [2021, 2022, 2023]
    assert list(table["gap_tco2e"]) == pytest.approx([50.0, -20.0, 60.0])
    assert list(table["cumulative_gap_tco2e"]) == pytest.approx([50.0, 30.0, 90.0])
    assert table.loc[2023, "gap_pct"] == pytest.approx(60 / 700 * 100)
    with pytest.raises(ValueError, match="expected overlapping years"):
        gap(pd.Series({2040: 1.0}), pathway)


def test_progress_shows_the_arithmetic() -> None:
    pathway = absolute_contraction(2020, 1000.0, 2030)
    actuals = pd.DataFrame({"year": [2021, 2022], "actual_tco2e": [950.0, 930.0]})
    on = progress(actuals, pathway, 2021)  # pathway 958
    assert on.status == "on track"
    assert on.gap_tco2e == pytest.approx(-8.0)
    off = progress(actuals, pathway, 2022)  # pathway 916
    assert off.status == "off track"
    assert off.gap_tco2e == pytest.approx(14.0)
    assert "930.00 - 916.00 = +14.00 tCO2e" in off.reason
    assert progress(actuals, pathway, 2025).status == "no data"
    with pytest.raises(ValueError, match="expected a pathway year"):
        progress(actuals, pathway, 2040)


def test_milestones_are_the_targets_that_mark_them() -> None:
    found, _ = load_targets(DEMO_DATA / "targets.csv")
    marks = milestones(found)
    assert (marks.peak, marks.neutrality, marks.net_zero) == (2028, 2040, 2050)
    assert "climate.carbon_peak" in marks.sources["peak"]
    unmarked = [replace(t, milestone="") if t.milestone == "net_zero" else t for t in found]
    with pytest.raises(ValueError, match="no target marks the milestone net_zero"):
        milestones(unmarked)


def test_demo_pathway_from_the_2024_inventory(demo_ledger: Ledger) -> None:
    frame, notes = ledger_pathway(demo_ledger, growth=0.0)
    by_year = frame.set_index("year")["pathway_tco2e"]
    assert by_year[2024] == pytest.approx(31925.01, abs=0.01)
    assert by_year[2028] == pytest.approx(31925.01, abs=0.01)
    assert by_year[2050] == pytest.approx(3192.50, abs=0.01)
    assert list(frame["year"]) == list(range(2024, 2051))
    assert any("2024 inventory total 31,925.01 tCO2e" in n for n in notes)
    grown, more = ledger_pathway(demo_ledger)
    assert grown.set_index("year")["pathway_tco2e"].idxmax() == 2028
    assert any("compound growth" in n for n in more)
