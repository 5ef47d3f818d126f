"""Business-as-usual forecasts with back-tested model choice (esgledger.strategy.forecast)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from esgledger.store.ledger import Ledger
from esgledger.strategy.forecast import (
    FORECAST_COLUMNS,
    forecast,
    forecast_series,
    load_forecast_settings,
)
from esgledger.usecases.strategy import forecast_from_ledger, history_from_ledger


def trend(n: int = 12, noise: float = 5.0, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """1000 + 50 t + noise for t < n, and the noise-free truth for the next 3 periods."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return 1000.0 + 50.0 * t + rng.normal(0.0, noise, n), 1000.0 + 50.0 * np.arange(n, n + 3)


def test_settings_file() -> None:
    settings = load_forecast_settings()
    assert settings.level == 0.95
    assert settings.backtest_horizon >= 1
    assert {"linear", "holt", "arima", "arimax"} <= set(settings.candidates)


def test_linear_trend_forecast_within_tolerance_and_covered() -> None:
    y, truth = trend()
    result = forecast_series(y, 3, models=["linear", "holt", "arima"])
    assert result.fit.point == pytest.approx(truth, rel=0.02)
    assert (result.fit.lower < truth).all()
    assert (truth < result.fit.upper).all()


@pytest.mark.parametrize("model", ["linear", "drift", "naive", "holt", "arima"])
def test_intervals_widen_with_horizon(model: str) -> None:
    y, _ = trend(noise=20.0)
    fit = forecast_series(y, 5, models=[model]).fit
    width = fit.upper - fit.lower
    assert (np.diff(width) > 0).all()


def test_backtest_picks_trend_for_trending_and_flat_for_flat() -> None:
    y, _ = trend(n=12, noise=5.0)
    trending = forecast_series(y, 1, models=["mean", "naive", "linear"])
    assert trending.model == "linear"
    chosen = trending.backtest.set_index("model")
    assert chosen.loc["linear", "mae"] < chosen.loc["mean", "mae"]
    assert bool(chosen.loc["linear", "chosen"])
    rng = np.random.default_rng(4)
    flat = forecast_series(500.0 + rng.normal(0.0, 10.0, 12), 1, models=["mean", "naive", "linear"])
    assert flat.model == "mean"


def test_short_series_fall_back_with_diagnostics() -> None:
    five = forecast_series([10.0, 12.0, 13.0, 15.0, 16.0], 3)
    assert five.model in {"mean", "naive", "drift", "linear", "arima"}
    codes = {d.code for d in five.diagnostics}
    assert "forecast-series-short" in codes  # holt needs 6 points
    two = forecast_series([10.0, 12.0], 2)
    assert np.isfinite(two.fit.point).all()
    one = forecast_series([7.0], 2)
    assert one.model == "last_value"
    assert one.fit.point.tolist() == [7.0, 7.0]
    assert any(d.code == "forecast-flat" for d in one.diagnostics)


def test_arimax_with_driver_assumptions() -> None:
    years = list(range(2015, 2025))
    revenue = np.linspace(100.0, 190.0, len(years))
    rng = np.random.default_rng(9)
    history = pd.DataFrame(
        {"series": "total", "year": years, "value": 3.0 * revenue + rng.normal(0, 2, len(years))}
    )
    drivers = pd.DataFrame({"year": years, "driver": "revenue", "value": revenue})
    future = pd.DataFrame({"year": [2025, 2026], "driver": "revenue", "value": [200.0, 210.0]})
    result = forecast(history, 2, drivers=drivers, assumptions=future, models=["mean", "arimax"])
    assert result.forecasts["model"].eq("arimax").all()
    assert result.forecasts["forecast"].to_numpy() == pytest.approx([600.0, 630.0], rel=0.03)


def test_forecast_frame_is_deterministic() -> None:
    y, _ = trend()
    history = pd.DataFrame({"series": "scope1", "year": range(2013, 2025), "value": y})
    a = forecast(history, 4)
    b = forecast(history, 4)
    pd.testing.assert_frame_equal(a.forecasts, b.forecasts)
    pd.testing.assert_frame_equal(a.backtests, b.backtests)
    assert list(a.forecasts.columns) == FORECAST_COLUMNS
    assert a.forecasts["year"].tolist() == [2025, 2026, 2027, 2028]


def test_warnings_become_diagnostics() -> None:
    with_warning = forecast_series([5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0], 2, models=["holt"])
    assert np.isfinite(with_warning.fit.point).all()


def test_demo_ledger_forecast(demo_ledger: Ledger) -> None:
    history = history_from_ledger(demo_ledger)
    total = history[history["series"] == "total"].set_index("year")["value"]
    assert total.index.tolist() == [2020, 2021, 2022, 2023, 2024]
    assert total[2024] == pytest.approx(31_925.01, abs=0.01)
    result = forecast_from_ledger(demo_ledger, 6)
    frame = result.forecasts
    for name in ("scope1", "scope2_location", "scope3", "total"):
        rows = frame[frame["series"] == name]
        assert rows["year"].tolist() == list(range(2025, 2031))
        assert np.isfinite(rows[["forecast", "lower", "upper"]].to_numpy()).all()
        assert (rows["lower"] <= rows["forecast"]).all()
        assert (rows["forecast"] <= rows["upper"]).all()
    assert set(result.backtests["series"]) >= {"scope1", "total"}
    assert result.backtests.groupby("series")["chosen"].sum().eq(1).all()
    again = forecast_from_ledger(demo_ledger, 6)
    pd.testing.assert_frame_equal(frame, again.forecasts)
