"""Business-as-usual projection of emissions and energy per series, with back-tested choice.

Each series (a scope, the total or an energy figure; of the group or of one entity) is
projected by the candidate that forecast its own history best: a rolling-origin back-test
(fit on the first k points, forecast h ahead, k = min_train ... n - h) gives MAE and MAPE per
model on the origins every compared model can be fitted on, and the lowest MAE wins (ties go
to the simpler model, the order of ``candidates``). Candidates:

* ``mean``, ``naive``, ``drift``, ``linear``: closed forms with their textbook prediction
  intervals (t quantiles: short series have few degrees of freedom);
* ``holt`` / ``holt_damped``: ETS(A,A,N) / ETS(A,Ad,N), ``statsmodels`` ``ETSModel``;
* ``arima``: ARIMA(0,1,0) with drift (AR(1) added on longer series), ``statsmodels`` ARIMA;
* ``arimax``: regression of the series on drivers (revenue, headcount) with ARIMA(0,1,0)
  errors; needs the drivers' future values, taken from an assumptions frame.

A model needs ``min_points.<model>`` points (``forecast_settings.csv``): a series too short
for a model skips it with a diagnostic; a fit that fails or does not give finite numbers
falls back to the next simpler model with a diagnostic; warnings of ``statsmodels``
(convergence, few observations) are captured and reported as diagnostics, never raised.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import resources

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.tsa.arima.model import ARIMA
from statsmodels.tsa.exponential_smoothing.ets import ETSModel

from esgledger.calc import InventoryResult
from esgledger.domain.diagnostics import Diagnostic, Severity

FORECAST_COLUMNS = [
    "series",
    "entity_id",
    "year",
    "month",
    "horizon",
    "forecast",
    "lower",
    "upper",
    "model",
    "level",
]
BACKTEST_COLUMNS = ["series", "model", "mae", "mape", "origins", "chosen"]
SCOPE_SERIES = ("scope1", "scope2_location", "scope2_market", "scope3", "total")
ENERGY_SERIES = ("energy_tce", "energy_mwh")
SIMPLE_FALLBACK = ("linear", "drift", "naive", "mean")


@dataclass(frozen=True)
class ForecastSettings:
    level: float = 0.95
    backtest_horizon: int = 1
    min_train: int = 3
    candidates: tuple[str, ...] = SIMPLE_FALLBACK
    min_points: dict[str, int] = field(default_factory=dict)
    arima_ar_points: int = 10


def load_forecast_settings() -> ForecastSettings:
    """Interval level, back-test horizon and candidates from ``forecast_settings.csv``."""
    path = resources.files("esgledger.strategy") / "data" / "forecast_settings.csv"
    with resources.as_file(path) as file:
        table = pd.read_csv(file, dtype=str, keep_default_na=False)
    values = dict(zip(table["parameter"], table["value"], strict=True))
    min_points = {
        key.removeprefix("min_points."): int(value)
        for key, value in values.items()
        if key.startswith("min_points.")
    }
    return ForecastSettings(
        level=float(values["interval.level"]),
        backtest_horizon=int(values["backtest.horizon"]),
        min_train=int(values["backtest.min_train"]),
        candidates=tuple(c.strip() for c in values["candidates"].split(";") if c.strip()),
        min_points=min_points,
        arima_ar_points=int(values["arima.ar_points"]),
    )


@dataclass(frozen=True)
class Fit:
    """Point forecasts and prediction bounds for horizons 1..h."""

    point: np.ndarray
    lower: np.ndarray
    upper: np.ndarray


# -- closed-form models ---------------------------------------------------------------------


def _t(level: float, df: int) -> float:
    return float(stats.t.ppf(0.5 + level / 2.0, max(df, 1)))


def _mean(y: np.ndarray, h: int, level: float) -> Fit:
    n = y.size
    s = float(np.std(y, ddof=1))
    point = np.full(h, float(y.mean()))
    half = np.full(h, _t(level, n - 1) * s * math.sqrt(1.0 + 1.0 / n))
    return Fit(point, point - half, point + half)


def _naive(y: np.ndarray, h: int, level: float) -> Fit:
    d = np.diff(y)
    s = float(np.sqrt(np.mean(d**2)))
    steps = np.arange(1, h + 1)
    point = np.full(h, float(y[-1]))
    half = _t(level, d.size) * s * np.sqrt(steps)
    return Fit(point, point - half, point + half)


def _drift(y: np.ndarray, h: int, level: float) -> Fit:
    d = np.diff(y)
    t_len = y.size
    slope = float(d.mean())
    s = float(np.std(d, ddof=1))
    steps = np.arange(1, h + 1)
    point = y[-1] + slope * steps
    half = _t(level, d.size - 1) * s * np.sqrt(steps * (1.0 + steps / (t_len - 1)))
    return Fit(point, point - half, point + half)


def _linear(y: np.ndarray, h: int, level: float) -> Fit:
    n = y.size
    x = np.arange(n, dtype=float)
    slope, intercept = np.polyfit(x, y, 1)
    residual = y - (intercept + slope * x)
    s = math.sqrt(float(residual @ residual) / (n - 2))
    x0 = np.arange(n, n + h, dtype=float)
    sxx = float(((x - x.mean()) ** 2).sum())
    point = intercept + slope * x0
    half = _t(level, n - 2) * s * np.sqrt(1.0 + 1.0 / n + (x0 - x.mean()) ** 2 / sxx)
    return Fit(point, point - half, point + half)


# -- statsmodels models ---------------------------------------------------------------------


def _ets(y: np.ndarray, h: int, level: float, damped: bool) -> Fit:
    # a Series: ETSModel.get_prediction needs an index (statsmodels 0.15 fails on arrays)
    model = ETSModel(pd.Series(y), error="add", trend="add", damped_trend=damped)
    result = model.fit(disp=False, maxiter=2000)
    frame = result.get_prediction(start=y.size, end=y.size + h - 1).summary_frame(alpha=1.0 - level)
    return Fit(
        frame["mean"].to_numpy(dtype=float),
        frame["pi_lower"].to_numpy(dtype=float),
        frame["pi_upper"].to_numpy(dtype=float),
    )


def _arima(
    y: np.ndarray,
    h: int,
    level: float,
    order: tuple[int, int, int],
    trend: str,
    exog: np.ndarray | None = None,
    future_exog: np.ndarray | None = None,
) -> Fit:
    result = ARIMA(y, exog=exog, order=order, trend=trend).fit()
    prediction = result.get_forecast(steps=h, exog=future_exog)
    bounds = np.asarray(prediction.conf_int(alpha=1.0 - level), dtype=float)
    return Fit(np.asarray(prediction.predicted_mean, dtype=float), bounds[:, 0], bounds[:, 1])


Model = Callable[[np.ndarray, int, float], Fit]


def _models(
    settings: ForecastSettings,
    exog: np.ndarray | None,
    future_exog: np.ndarray | None,
) -> dict[str, Model]:
    """Model name -> fit(y, h, level); the training window is always a prefix of the history,
    so its length aligns the drivers of ``arimax``."""

    def arima(y: np.ndarray, h: int, level: float) -> Fit:
        p = 1 if y.size >= settings.arima_ar_points else 0
        return _arima(y, h, level, (p, 1, 0), "t")

    def arimax(y: np.ndarray, h: int, level: float) -> Fit:
        if exog is None or future_exog is None:
            raise ValueError("arimax needs drivers and their assumed future values")
        full = np.vstack([exog, future_exog])
        return _arima(y, h, level, (0, 1, 0), "n", full[: y.size], full[y.size : y.size + h])

    return {
        "mean": _mean,
        "naive": _naive,
        "drift": _drift,
        "linear": _linear,
        "holt": lambda y, h, level: _ets(y, h, level, damped=False),
        "holt_damped": lambda y, h, level: _ets(y, h, level, damped=True),
        "arima": arima,
        "arimax": arimax,
    }


def _run(
    fit: Model,
    y: np.ndarray,
    h: int,
    level: float,
    notes: list[str],
) -> Fit | None:
    """One fit with warnings captured as notes; None on failure or non-finite output."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = fit(y, h, level)
        except Exception as error:  # any library failure becomes a note and a fallback
            notes.append(f"fit failed: {error}")
            return None
    for w in caught:
        notes.append(f"{w.category.__name__}: {str(w.message).splitlines()[0]}")
    arrays = (result.point, result.lower, result.upper)
    if not all(a.shape == (h,) and np.isfinite(a).all() for a in arrays):
        notes.append("non-finite forecast or interval")
        return None
    return result


# -- one series -----------------------------------------------------------------------------


@dataclass(frozen=True)
class SeriesForecast:
    model: str
    fit: Fit
    backtest: pd.DataFrame  # model, mae, mape, origins, chosen
    diagnostics: tuple[Diagnostic, ...]


def backtest(
    values: Sequence[float] | np.ndarray,
    models: Sequence[str] | None = None,
    *,
    settings: ForecastSettings | None = None,
    exog: np.ndarray | None = None,
    future_exog: np.ndarray | None = None,
    series: str = "",
) -> tuple[pd.DataFrame, list[Diagnostic]]:
    """Rolling-origin MAE and MAPE of each model on the origins all of them can be fitted on."""
    cfg = settings or load_forecast_settings()
    y = np.asarray(values, dtype=float)
    h = cfg.backtest_horizon
    names = list(models or cfg.candidates)
    fits = _models(cfg, exog, future_exog)
    diagnostics: list[Diagnostic] = []
    eligible = [m for m in names if cfg.min_points.get(m, 3) <= y.size - h]
    if "arimax" in eligible and exog is None:
        eligible.remove("arimax")
    rows: list[dict[str, object]] = []
    if not eligible:
        return pd.DataFrame(columns=BACKTEST_COLUMNS[:-1]), diagnostics
    first = max(cfg.min_train, *(cfg.min_points.get(m, 3) for m in eligible))
    origins = list(range(first, y.size - h + 1))
    for name in eligible:
        errors: list[float] = []
        shares: list[float] = []
        notes: list[str] = []
        for k in origins:
            fit = _run(fits[name], y[:k], h, cfg.level, notes)
            if fit is None:
                errors = []
                break
            error = abs(float(fit.point[h - 1]) - float(y[k + h - 1]))
            errors.append(error)
            truth = abs(float(y[k + h - 1]))
            shares.append(error / truth if truth > 0 else math.nan)
        if notes:
            diagnostics.append(
                Diagnostic(
                    "forecast-backtest-note",
                    f"{series or 'series'}: back-test of {name}: {'; '.join(sorted(set(notes)))}",
                    Severity.INFO,
                )
            )
        if errors:
            rows.append(
                {
                    "model": name,
                    "mae": float(np.mean(errors)),
                    "mape": float(np.nanmean(shares)) if np.isfinite(shares).any() else math.nan,
                    "origins": len(errors),
                }
            )
    return pd.DataFrame(rows, columns=BACKTEST_COLUMNS[:-1]), diagnostics


def forecast_series(
    values: Sequence[float] | np.ndarray,
    horizon: int,
    *,
    settings: ForecastSettings | None = None,
    models: Sequence[str] | None = None,
    exog: np.ndarray | None = None,
    future_exog: np.ndarray | None = None,
    series: str = "",
) -> SeriesForecast:
    """Back-test the candidates on ``values`` and forecast ``horizon`` periods with the best.

    ``exog`` (n x k) and ``future_exog`` (horizon x k) are the drivers of ``arimax``.
    """
    cfg = settings or load_forecast_settings()
    y = np.asarray(values, dtype=float)
    label = series or "series"
    names = list(models or cfg.candidates)
    diagnostics: list[Diagnostic] = []
    if y.size == 0 or not np.isfinite(y).all():
        raise ValueError(f"{label}: the history must be a non-empty series of finite numbers")
    short = [m for m in names if cfg.min_points.get(m, 3) > y.size]
    if short:
        diagnostics.append(
            Diagnostic(
                "forecast-series-short",
                f"{label}: {y.size} points; not identifiable, skipped: "
                + ", ".join(f"{m} (needs {cfg.min_points.get(m, 3)})" for m in short),
                Severity.INFO,
            )
        )
    if "arimax" in names and (exog is None or future_exog is None):
        names.remove("arimax")
    scores, found = backtest(
        y, names, settings=cfg, exog=exog, future_exog=future_exog, series=label
    )
    diagnostics += found
    fits = _models(cfg, exog, future_exog)
    order = [m for m in names if m in set(scores["model"])]
    mae = {str(m): float(v) for m, v in zip(scores["model"], scores["mae"], strict=True)}
    ranked = sorted(order, key=lambda m: (mae[m], order.index(m)))
    if not ranked:
        diagnostics.append(
            Diagnostic(
                "forecast-no-backtest",
                f"{label}: {y.size} points leave no back-test origin; the simplest identifiable"
                " model is used",
                Severity.WARNING,
            )
        )
    usable = [m for m in names if cfg.min_points.get(m, 3) <= y.size]
    fallback = [m for m in SIMPLE_FALLBACK if m in usable or cfg.min_points.get(m, 3) <= y.size]
    for name in [*ranked, *(m for m in fallback if m not in ranked)]:
        notes: list[str] = []
        fit = _run(fits[name], y, horizon, cfg.level, notes)
        if notes:
            diagnostics.append(
                Diagnostic(
                    "forecast-fit-note",
                    f"{label}: {name}: {'; '.join(sorted(set(notes)))}",
                    Severity.INFO,
                )
            )
        if fit is not None:
            if ranked and name != ranked[0]:
                diagnostics.append(
                    Diagnostic(
                        "forecast-fallback",
                        f"{label}: {ranked[0]} (best back-test) could not be fitted on the full "
                        f"history; {name} is used",
                        Severity.WARNING,
                    )
                )
            table = scores.assign(chosen=scores["model"].eq(name))
            return SeriesForecast(name, fit, table, tuple(diagnostics))
    # one point (or nothing fits): the last value, without an interval
    point = np.full(horizon, float(y[-1]))
    nan = np.full(horizon, math.nan)
    diagnostics.append(
        Diagnostic(
            "forecast-flat",
            f"{label}: {y.size} point(s), no model identifiable; the last value is carried "
            "forward without an interval",
            Severity.WARNING,
        )
    )
    return SeriesForecast(
        "last_value", Fit(point, nan, nan), scores.assign(chosen=False), tuple(diagnostics)
    )


# -- frames ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ForecastResult:
    forecasts: pd.DataFrame  # FORECAST_COLUMNS
    backtests: pd.DataFrame  # BACKTEST_COLUMNS
    diagnostics: tuple[Diagnostic, ...]


def _next_periods(year: int, month: int | None, h: int) -> list[tuple[int, int | None]]:
    if month is None:
        return [(year + i, None) for i in range(1, h + 1)]
    index = year * 12 + (month - 1)
    return [((index + i) // 12, (index + i) % 12 + 1) for i in range(1, h + 1)]


def forecast(
    history: pd.DataFrame,
    horizon: int,
    *,
    drivers: pd.DataFrame | None = None,
    assumptions: pd.DataFrame | None = None,
    settings: ForecastSettings | None = None,
    models: Sequence[str] | None = None,
) -> ForecastResult:
    """Forecast every series of a long history frame (series, entity_id, year, month, value).

    ``drivers`` (year, driver, value) are the drivers' history and ``assumptions`` (same
    columns) their future values; with both covering a series' years, ``arimax`` competes.
    Yearly series have ``month`` NaN; monthly ones carry it.
    """
    cfg = settings or load_forecast_settings()
    frame = history.copy()
    for column, default in (("entity_id", ""), ("month", math.nan)):
        if column not in frame.columns:
            frame[column] = default
    frame["entity_id"] = frame["entity_id"].fillna("").astype(str)
    rows: list[dict[str, object]] = []
    tables: list[pd.DataFrame] = []
    diagnostics: list[Diagnostic] = []
    driver_table = _driver_table(drivers, assumptions)
    for (name, entity), unsorted in frame.groupby(["series", "entity_id"], sort=True):
        group = unsorted.sort_values(["year", "month"], na_position="first")
        label = f"{name}" + (f"@{entity}" if entity else "")
        y = group["value"].astype(float).to_numpy()
        monthly = bool(group["month"].notna().all())
        last_year = int(group["year"].iloc[-1])
        last_month = int(group["month"].iloc[-1]) if monthly else None
        periods = _next_periods(last_year, last_month, horizon)
        exog = future = None
        if driver_table is not None and not monthly:
            years = [int(v) for v in group["year"]]
            future_years = [p[0] for p in periods]
            if set(years + future_years) <= set(driver_table.index):
                exog = driver_table.loc[years].to_numpy(dtype=float)
                future = driver_table.loc[future_years].to_numpy(dtype=float)
            else:
                diagnostics.append(
                    Diagnostic(
                        "forecast-drivers-missing",
                        f"{label}: drivers or assumptions do not cover every year; no arimax",
                        Severity.INFO,
                    )
                )
        if y.size == 0 or not np.isfinite(y).all():
            diagnostics.append(
                Diagnostic("forecast-bad-history", f"{label}: missing values; not forecast")
            )
            continue
        result = forecast_series(
            y, horizon, settings=cfg, models=models, exog=exog, future_exog=future, series=label
        )
        diagnostics += result.diagnostics
        nonnegative = bool((y >= 0).all())
        tables.append(result.backtest.assign(series=label))
        for step, (year, month) in enumerate(periods):
            rows.append(
                {
                    "series": name,
                    "entity_id": entity,
                    "year": year,
                    "month": month,
                    "horizon": step + 1,
                    "forecast": float(result.fit.point[step]),
                    # emissions and energy are not negative: the bound stops at 0
                    "lower": max(float(result.fit.lower[step]), 0.0)
                    if nonnegative
                    else float(result.fit.lower[step]),
                    "upper": float(result.fit.upper[step]),
                    "model": result.model,
                    "level": cfg.level,
                }
            )
    backtests = (
        pd.concat(tables, ignore_index=True)[BACKTEST_COLUMNS]
        if tables
        else pd.DataFrame(columns=BACKTEST_COLUMNS)
    )
    return ForecastResult(
        pd.DataFrame(rows, columns=FORECAST_COLUMNS), backtests, tuple(diagnostics)
    )


def _driver_table(
    drivers: pd.DataFrame | None, assumptions: pd.DataFrame | None
) -> pd.DataFrame | None:
    if drivers is None or assumptions is None or drivers.empty or assumptions.empty:
        return None
    both = pd.concat([drivers, assumptions], ignore_index=True)
    wide = both.pivot_table(index="year", columns="driver", values="value", aggfunc="last")
    wide.index = wide.index.astype(int)
    return wide.dropna()


# -- the history of an inventory -----------------------------------------------------------


def history_from_inventory(
    result: InventoryResult,
    *,
    by_entity: bool = False,
    monthly: bool = False,
) -> pd.DataFrame:
    """Scope totals (location and market scope 2), total and energy (tce, MWh) per year of
    an inventory, per entity with ``by_entity``; with ``monthly``, the months of the lines
    that carry one (monthly records). Leading zero years of a series (a figure not yet
    computed, e.g. market-based scope 2 before instruments were recorded) are dropped.
    (:func:`esgledger.usecases.strategy.history_from_ledger` reads the ledger's.)"""
    total_basis = result.settings.scope2_total_basis
    keys = ["year"] + (["month"] if monthly else []) + (["entity_id"] if by_entity else [])
    lines = _summed(result.lines, [*keys, "scope", "basis"], ["tco2e"], monthly)
    energy = _summed(result.energy, keys, ["tce", "mwh"], monthly)
    scope = lines["scope"].astype(int)
    basis = lines["basis"].astype(str)
    masks = {
        "scope1": scope.eq(1),
        "scope2_location": scope.eq(2) & basis.isin(("both", "location")),
        "scope2_market": scope.eq(2) & basis.isin(("both", "market")),
        "scope3": scope.eq(3),
        "total": basis.isin(("both", total_basis)),
    }
    frames = []
    for name, mask in masks.items():
        part = lines[mask].groupby(keys, dropna=False)["tco2e"].sum().rename("value")
        frames.append(part.reset_index().assign(series=name, unit="tCO2e"))
    for name, column, unit in (("energy_tce", "tce", "tce"), ("energy_mwh", "mwh", "MWh")):
        part = energy.groupby(keys, dropna=False)[column].sum().rename("value")
        frames.append(part.reset_index().assign(series=name, unit=unit))
    out = pd.concat(frames, ignore_index=True)
    if "entity_id" not in out.columns:
        out["entity_id"] = ""
    if "month" not in out.columns:
        out["month"] = math.nan
    out = out.sort_values(["series", "entity_id", "year", "month"]).reset_index(drop=True)
    started = out.groupby(["series", "entity_id"])["value"].transform(
        lambda v: v.abs().gt(0).cummax()
    )
    out = out[started.astype(bool)]
    return out[["series", "entity_id", "year", "month", "value", "unit"]].reset_index(drop=True)


def _summed(frame: pd.DataFrame, keys: list[str], values: list[str], monthly: bool) -> pd.DataFrame:
    """``values`` of an inventory's lines (or energy lines) summed per ``keys``, one pass over
    the lines (the series are then cut from this small table): with ``monthly`` only the lines
    that carry a month; otherwise ``month`` is NaN, as a yearly series has none."""
    if monthly:
        frame = frame[frame["month"].notna()]
    summed = frame.groupby(keys, dropna=False, observed=True, sort=False)[values].sum()
    out = summed.reset_index()
    if not monthly:
        out["month"] = math.nan
    return out
