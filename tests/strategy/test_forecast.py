"""Business-as-usual forecasts with back-tested model choice (esgledger.strategy.forecast)."""

from __future__ import annotations

import io
import random
from importlib import resources

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.tsa.arima.model import ARIMA

from esgledger.store.ledger import Ledger
from esgledger.strategy.forecast import (
    FORECAST_COLUMNS,
    forecast,
    forecast_series,
    load_forecast_settings,
)
from esgledger.strategy.forecast_models import choose
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
    # every candidate has its points and parameters; no model below 2 residual d.o.f.:
    # mean and naive n - 1 >= 2, drift and linear n - 2 >= 2
    assert set(settings.candidates) == set(settings.min_points) == set(settings.parameters)
    assert settings.min_residual_df == 2
    assert {m: settings.points(m) for m in ("mean", "naive", "drift", "linear")} == {
        "mean": 3,
        "naive": 3,
        "drift": 4,
        "linear": 4,
    }
    assert settings.points("arimax", drivers=2) == 5  # 2 coefficients on n - 1 changes, + 2
    assert settings.points("arimax", drivers=4) == 7
    assert settings.fixed == ("drift", "naive")
    assert settings.backtest_points("drift") == 4 + 1 + 3 - 1
    assert hash(settings) == hash(load_forecast_settings())  # a key of the Book's memo
    path = resources.files("esgledger.strategy") / "data" / "forecast_settings.csv"
    table = pd.read_csv(io.StringIO(path.read_text(encoding="utf-8")), dtype=str, na_filter=False)
    assert table["source"].str.strip().ne("").all()


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
    # 5 yearly points: drift fixed in advance for every scope and the total (issue 17 c:
    # before, a back-test on one origin chose naive, linear or drift). By hand, the total:
    # changes 3,294.31, 201.93, 2,236.29, 7,910.03 (mean 3,410.64); 2030 = 31,925.01 + 6 x
    # 3,410.64 = 52,388.85, half-width t(3) x s x sqrt(6 (1 + 6/4))
    scopes = frame[frame["series"].isin(["scope1", "scope2_location", "scope3"])]
    assert set(scopes["model"]) == {"drift"}
    changes = np.diff(total.to_numpy())  # 18,282.45 ... 31,925.008045 tCO2e
    assert changes.mean() == pytest.approx(3410.64, abs=0.01)
    last = frame[(frame["series"] == "total") & (frame["year"] == 2030)].iloc[0]
    assert last["model"] == "drift"
    assert last["forecast"] == pytest.approx(31925.008045 + 6 * changes.mean(), abs=1e-6)
    half = T975[3] * float(np.std(changes, ddof=1)) * (6 * (1 + 6 / 4)) ** 0.5
    assert last["upper"] - last["forecast"] == pytest.approx(half, rel=1e-9)
    assert half == pytest.approx(40212.92, abs=0.01)
    again = forecast_from_ledger(demo_ledger, 6)
    pd.testing.assert_frame_equal(frame, again.forecasts)


# -- issue 17 (c): no over-fitting of a handful of points ------------------------------------

T975 = {2: 4.302652729911275, 3: 3.182446305284263}
"""Student's t, two-sided 95 % (0.975 quantile), on 2 and 3 degrees of freedom (t tables)."""
Z975 = 1.959963984540054


def test_five_yearly_points_use_drift_fixed_in_advance_with_its_analytic_interval() -> None:
    """5 points give the drift model 5 - 4 = 1 back-test origin, fewer than 3: no back-test
    choice; drift, fixed in advance, with the FPP3 table 5.2 interval on T - 2 = 3 d.o.f."""
    y = [100.0, 110.0, 125.0, 130.0, 145.0]
    result = forecast_series(y, 6)
    assert result.model == "drift"
    # changes 10, 15, 5, 15: mean 11.25; squared deviations 1.5625 + 14.0625 + 39.0625 +
    # 14.0625 = 68.75 over 4 - 1 = 3 -> s = sqrt(68.75 / 3)
    s = (68.75 / 3) ** 0.5
    steps = np.arange(1, 7)
    assert result.fit.point == pytest.approx(145.0 + 11.25 * steps)
    half = T975[3] * s * np.sqrt(steps * (1 + steps / 4))
    assert (result.fit.upper - result.fit.point) == pytest.approx(half, rel=1e-9)
    assert (result.fit.point - result.fit.lower) == pytest.approx(half, rel=1e-9)
    # h = 6: 3.1824 x 4.7871 x sqrt(6 x 2.5) = 59.00
    assert half[-1] == pytest.approx(59.00, abs=0.01)
    table = result.backtest
    assert table[["model", "origins", "chosen"]].values.tolist() == [["drift", 0, True]]
    codes = {d.code for d in result.diagnostics}
    assert "forecast-fixed-model" in codes and "forecast-choice" not in codes


def test_arima_010_with_drift_is_the_drift_model_so_no_candidate() -> None:
    """ARIMA(0,1,0) with drift forecasts as drift (the MLE drift is the mean change) with a
    narrower interval: normal quantile, variance over T - 1, no estimation error of the
    drift. On 5 points at h = 6: 1.96 sqrt(3/4) sqrt(6) / (3.182 sqrt(6 (1 + 6/4))) = 0.337,
    the expert's 1,157 / 3,430. It is no candidate: the arima candidate is ARIMA(1,1,0)."""
    y = np.array([18282.45, 21576.76, 21778.69, 24014.98, 31925.01])  # the demo's totals
    drift = forecast_series(y, 6, models=["drift"]).fit
    arima = ARIMA(y, order=(0, 1, 0), trend="t").fit().get_forecast(6)
    assert np.asarray(arima.predicted_mean) == pytest.approx(drift.point, rel=1e-6)
    bounds = np.asarray(arima.conf_int(alpha=0.05))
    ratio = (bounds[-1, 1] - bounds[-1, 0]) / (drift.upper[-1] - drift.lower[-1])
    expected = Z975 * (3 / 4) ** 0.5 * 6**0.5 / (T975[3] * (6 * (1 + 6 / 4)) ** 0.5)
    assert expected == pytest.approx(0.3373, abs=1e-4)
    assert ratio == pytest.approx(expected, rel=0.02)
    # the candidates never hold the two: on 12 points arima is back-tested as ARIMA(1,1,0)
    settings = load_forecast_settings()
    assert settings.points("arima") == 10 and settings.parameter_count("arima") == 3
    twelve = forecast_series(trend(12, noise=40.0)[0], 1, models=["drift", "arima"])
    assert set(twelve.backtest["model"]) == {"drift"}  # arima needs 10 + 1 + 3 - 1 = 13
    assert any(d.code == "forecast-not-backtested" for d in twelve.diagnostics)


def test_three_points_get_no_linear_trend() -> None:
    """A trend on 3 points has 1 residual degree of freedom (min_residual_df is 2): refused,
    even when asked for; naive (2 differences, 2 d.o.f.) is fixed in advance."""
    y = [10.0, 12.0, 15.0]
    for models in (None, ["linear"]):
        result = forecast_series(y, 2, models=models)
        assert result.model == "naive"
        short = " ".join(d.message for d in result.diagnostics if d.code == "forecast-series-short")
        assert "linear (needs 4)" in short
    # naive: changes 2 and 3, s = sqrt((4 + 9) / 2); half-width t(2) x s x sqrt(h)
    s = (13 / 2) ** 0.5
    assert result.fit.point.tolist() == [15.0, 15.0]
    assert (result.fit.upper - 15.0) == pytest.approx([T975[2] * s, T975[2] * s * 2**0.5])
    assert forecast_series([10.0, 12.0], 2).model == "last_value"  # 1 difference: no interval


def test_seven_points_are_back_tested_on_three_origins_and_a_tie_goes_to_drift() -> None:
    """y = 100 + 10 t, 8 points: origins k = 4..7 (drift and linear need 4). Drift and linear
    forecast exactly (MAE 0: a tie), naive misses by 10 each time, the mean of the first k
    points (100 + 5 (k - 1)) misses 100 + 10 k by 5 k + 5: 25, 30, 35, 40 -> MAE 32.5."""
    y = 100.0 + 10.0 * np.arange(8)
    result = forecast_series(y, 2)
    table = result.backtest.set_index("model")
    assert set(table.index) == {"naive", "mean", "drift", "linear"}
    assert table["origins"].eq(4).all()
    assert table.loc["naive", "mae"] == pytest.approx(10.0)
    assert table.loc["mean", "mae"] == pytest.approx(32.5)
    assert table.loc["drift", "mae"] == pytest.approx(0.0, abs=1e-9)
    assert table.loc["linear", "mae"] == pytest.approx(0.0, abs=1e-9)
    assert table["tied"].to_dict() == {"naive": False, "mean": False, "drift": True, "linear": True}
    assert result.model == "drift"  # 2 parameters against linear's 3
    assert table["chosen"].sum() == 1 and bool(table.loc["drift", "chosen"])
    assert result.fit.point == pytest.approx([180.0, 190.0])
    six = forecast_series(y[:6], 1)  # 6 - 4 = 2 origins: too few, drift fixed in advance
    assert six.model == "drift" and six.backtest["origins"].tolist() == [0]


def test_choose_breaks_ties_by_parameters_within_the_relative_tolerance() -> None:
    settings = load_forecast_settings()
    assert settings.tolerance == 0.05
    parameters = {"naive": 1, "mean": 2, "drift": 2, "linear": 3}
    # lowest 100 (linear); drift's 104 <= 100 x 1.05: a tie, drift has fewer parameters
    assert choose({"linear": 100.0, "drift": 104.0, "naive": 130.0}, parameters, settings) == (
        "drift",
        ["drift", "linear"],
    )
    # 105.01 > 105: no tie
    assert choose({"linear": 100.0, "drift": 105.01}, parameters, settings)[0] == "linear"
    # mean and drift, 2 parameters each: the earlier in `candidates` (mean)
    assert choose({"drift": 50.0, "mean": 51.0}, parameters, settings)[0] == "mean"
    # two exact fits tie whatever their rounding: margin 0.05 x 1e-9 x 1,000 = 5e-8
    exact = {"linear": 1e-13, "drift": 3e-12}
    assert choose(exact, parameters, settings, scale=1000.0)[0] == "drift"


MAES = st.dictionaries(
    st.sampled_from(["naive", "mean", "drift", "linear", "arima", "holt", "holt_damped"]),
    st.floats(min_value=0.0, max_value=1e6, allow_nan=False),
    min_size=1,
)


@settings(max_examples=200, deadline=None)
@given(mae=MAES, seed=st.randoms(use_true_random=False))
def test_the_choice_is_within_tolerance_fewest_parameters_and_order_free(
    mae: dict[str, float], seed: random.Random
) -> None:
    cfg = load_forecast_settings()
    parameters = {m: cfg.parameter_count(m) for m in mae}
    chosen, tied = choose(mae, parameters, cfg)
    shuffled = list(mae.items())
    seed.shuffle(shuffled)
    assert choose(dict(shuffled), parameters, cfg) == (chosen, tied)
    best = min(mae.values())
    within = [m for m in mae if mae[m] <= best + cfg.tolerance * best]  # scale 0: relative only
    assert chosen in within
    assert set(within) == set(tied)
    assert parameters[chosen] == min(parameters[m] for m in within)


@settings(max_examples=25, deadline=None)
@given(
    values=st.lists(st.floats(min_value=0.0, max_value=1e5), min_size=7, max_size=12),
    seed=st.randoms(use_true_random=False),
)
def test_a_series_forecast_does_not_depend_on_the_order_of_the_candidates(
    values: list[float], seed: random.Random
) -> None:
    models = ["naive", "mean", "drift", "linear"]
    first = forecast_series(values, 2, models=models)
    seed.shuffle(models)
    again = forecast_series(values, 2, models=models)
    assert again.model == first.model
    np.testing.assert_array_equal(again.fit.point, first.fit.point)
    table = first.backtest.set_index("model")
    if len(table) > 1:  # back-tested: the model used is within tolerance of the lowest MAE
        best = float(table["mae"].min())
        cfg = load_forecast_settings()
        margin = cfg.tolerance * max(best, 1e-9 * float(np.mean(np.abs(values))))
        assert table.loc[first.model, "mae"] <= best + margin
        assert table.loc[first.model, "parameters"] == table[table["tied"]]["parameters"].min()


def test_a_declared_structural_break_fits_only_the_years_after_it() -> None:
    """2015-2019 at about 100, then an acquisition: 200, 212, 219, 231, 240 from 2020. From
    2020 on, 5 points: drift, changes 12, 7, 12, 9 (mean 10): 250, 260."""
    years = list(range(2015, 2025))
    values = [101.0, 99.0, 100.0, 102.0, 98.0, 200.0, 212.0, 219.0, 231.0, 240.0]
    history = pd.DataFrame({"series": "total", "year": years, "value": values})
    result = forecast(history, 2, since=2020)
    assert result.forecasts["forecast"].tolist() == pytest.approx([250.0, 260.0])
    assert result.forecasts["model"].eq("drift").all()
    notes = [d.message for d in result.diagnostics if d.code == "forecast-break"]
    assert notes == ["total: structural break declared at 2020: 2015-2019 left out, 5 point(s) "
                     "from 2020 fitted"]  # fmt: skip
    whole = forecast(history, 2)  # 10 points: back-tested, and not from the break
    assert whole.backtests["origins"].max() >= 3
    assert whole.forecasts["forecast"].tolist() != pytest.approx([250.0, 260.0])


def test_no_series_with_the_points_of_a_model_is_an_error() -> None:
    history = pd.DataFrame({"series": ["total", "scope1"], "year": 2024, "value": [10.0, 4.0]})
    result = forecast(history, 3)
    errors = [d for d in result.diagnostics if d.severity.value == "error"]
    assert [d.code for d in errors] == ["forecast-no-model"]
    assert "year held: 2024" in errors[0].message and "4 for drift" in errors[0].message
    # one chosen row per series, the last value with no back-test
    assert result.backtests.groupby("series")["chosen"].sum().eq(1).all()
    assert set(result.backtests["model"]) == {"last_value"}
