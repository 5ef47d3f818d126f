"""Business-as-usual projection of emissions and energy per series, with a model chosen in
advance for short series and by a rolling-origin back-test on longer ones.

Each series (a scope, the total or an energy figure; of the group or of one entity) is
projected as follows (settings: ``data/forecast_settings.csv``, each with its source; the
models: :mod:`esgledger.strategy.forecast_models`):

1. A model is fitted only on a series with ``min_points.<model>`` points (at least
   ``min_residual_df`` residual degrees of freedom: no linear trend on 3 points); the others
   are skipped with a diagnostic.
2. A model takes part in the back-test only when the series gives it ``backtest.min_origins``
   forecast origins (fit on the first k points, forecast ``backtest.horizon`` ahead, k from
   ``backtest.min_train`` and the model's points to n - h; the compared models share the
   origins all of them can be fitted on). The model with the lowest mean absolute error is
   taken, except that errors within ``selection.tolerance`` of the lowest are a tie, which
   goes to the model with the fewest parameters (then the earlier in ``candidates``).
3. A series too short for the first of ``fixed.models`` (drift, else naive) to be back-tested
   on that many origins is forecast by that model, fixed in advance (Hyndman and
   Athanasopoulos, FPP3 13.7: with short series even time series cross-validation is
   difficult, and simple models forecast better); shorter still, the last value is carried
   forward without an interval.

A fit that fails or does not give finite numbers falls back to the next model with a
diagnostic; warnings of ``statsmodels`` are captured as diagnostics, never raised. Every
choice, skip and fallback is a diagnostic, and the back-test table has one chosen row per
series (``origins`` 0: no back-test).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from esgledger.calc import InventoryResult
from esgledger.domain.diagnostics import Diagnostic, Severity
from esgledger.strategy.forecast_models import (
    CLOSED_FORMS,
    LAST_VALUE,
    SCORE_COLUMNS,
    Fit,
    ForecastSettings,
    backtest,
    load_forecast_settings,
    model_table,
    note,
    run,
    scores_of,
    select,
    unique,
)

__all__ = [
    "BACKTEST_COLUMNS",
    "FORECAST_COLUMNS",
    "Fit",
    "ForecastResult",
    "ForecastSettings",
    "SeriesForecast",
    "backtest",
    "forecast",
    "forecast_series",
    "history_from_inventory",
    "load_forecast_settings",
]

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
BACKTEST_COLUMNS = ["series", *SCORE_COLUMNS, "tied", "chosen"]
SCOPE_SERIES = ("scope1", "scope2_location", "scope2_market", "scope3", "total")
ENERGY_SERIES = ("energy_tce", "energy_mwh")


# -- one series -----------------------------------------------------------------------------


@dataclass(frozen=True)
class SeriesForecast:
    model: str
    fit: Fit
    backtest: pd.DataFrame  # BACKTEST_COLUMNS without series
    diagnostics: tuple[Diagnostic, ...]


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
    """Choose a model for ``values`` (see the module text) and forecast ``horizon`` periods.

    ``exog`` (n x k) and ``future_exog`` (horizon x k) are the drivers of ``arimax``.
    """
    cfg = settings or load_forecast_settings()
    y = np.asarray(values, dtype=float)
    label = series or "series"
    if y.size == 0 or not np.isfinite(y).all():
        raise ValueError(f"{label}: the history must be a non-empty series of finite numbers")
    names = unique(models or cfg.candidates)
    if "arimax" in names and (exog is None or future_exog is None):
        names.remove("arimax")
    drivers = 0 if exog is None else int(exog.shape[1])
    diagnostics: list[Diagnostic] = []
    short = [m for m in names if cfg.points(m, drivers) > y.size]
    if short:
        listed = ", ".join(f"{m} (needs {cfg.points(m, drivers)})" for m in short)
        text = f"{label}: {y.size} point(s); too few for {listed}"
        diagnostics.append(note("forecast-series-short", text))
    fittable = [m for m in names if m not in short]
    selection = select(y, fittable, cfg, exog, future_exog, label)
    diagnostics += selection.diagnostics
    fallback = [m for m in (*cfg.fixed, *CLOSED_FORMS) if cfg.points(m) <= y.size]
    fits = model_table(exog, future_exog)
    for name in unique([*selection.order, *fallback]):
        notes: list[str] = []
        fit = run(fits[name], y, horizon, cfg.level, notes)
        if notes:
            text = "; ".join(sorted(set(notes)))
            diagnostics.append(note("forecast-fit-note", f"{label}: {name}: {text}"))
        if fit is None:
            continue
        if selection.order and name != selection.order[0]:
            text = f"{label}: {selection.order[0]} could not be fitted on the full history; "
            diagnostics.append(note("forecast-fallback", f"{text}{name} is used", Severity.WARNING))
        return SeriesForecast(
            name, fit, _chosen(selection.scores, name, cfg, drivers), tuple(diagnostics)
        )
    # too few points for any model (or nothing fits): the last value, without an interval
    diagnostics.append(
        note(
            "forecast-flat",
            f"{label}: {y.size} point(s), no model can be fitted (a series needs "
            f"{cfg.needed()}); the last value is carried forward without an interval",
            Severity.WARNING,
        )
    )
    nan = np.full(horizon, math.nan)
    flat = Fit(np.full(horizon, float(y[-1])), nan, nan)
    table = _chosen(selection.scores, LAST_VALUE, cfg, drivers)
    return SeriesForecast(LAST_VALUE, flat, table, tuple(diagnostics))


def _chosen(scores: pd.DataFrame, name: str, cfg: ForecastSettings, drivers: int) -> pd.DataFrame:
    """``scores`` with ``chosen`` marking ``name`` (added as a row of no back-test when it
    was not back-tested: a fallback, or the last value)."""
    if name not in set(scores["model"]):
        scores = (
            scores_of(name, cfg, drivers)
            if scores.empty
            else pd.concat([scores, scores_of(name, cfg, drivers)], ignore_index=True)
        )
    table = scores.assign(chosen=scores["model"].eq(name))
    table["tied"] = table["tied"].astype(bool)
    return table[BACKTEST_COLUMNS[1:]].reset_index(drop=True)


# -- frames ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ForecastResult:
    forecasts: pd.DataFrame  # FORECAST_COLUMNS
    backtests: pd.DataFrame  # BACKTEST_COLUMNS: one chosen row per series
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
    since: int | None = None,
) -> ForecastResult:
    """Forecast every series of a long history frame (series, entity_id, year, month, value).

    ``drivers`` (year, driver, value) are the drivers' history and ``assumptions`` (same
    columns) their future values; with both covering a series' years, ``arimax`` competes.
    Yearly series have ``month`` NaN; monthly ones carry it. ``since``: a structural break
    (an acquisition, a disposal, a change of method): only the years from ``since`` on are
    fitted, with a diagnostic per series that loses years. When no series has the points of
    a model, an error diagnostic says how many are needed.
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
        label = f"{name}" + (f"@{entity}" if entity else "")
        group = _after_break(unsorted, since, label, diagnostics)
        y = group["value"].astype(float).to_numpy()
        if not np.isfinite(y).all():
            text = f"{label}: missing values; not forecast"
            diagnostics.append(note("forecast-bad-history", text, Severity.ERROR))
        if y.size == 0 or not np.isfinite(y).all():
            continue
        monthly = bool(group["month"].notna().all())
        last_month = int(group["month"].iloc[-1]) if monthly else None
        periods = _next_periods(int(group["year"].iloc[-1]), last_month, horizon)
        exog = future = None
        if driver_table is not None and not monthly:
            exog, future = _drivers_of(driver_table, group, periods, label, diagnostics)
        result = forecast_series(
            y, horizon, settings=cfg, models=models, exog=exog, future_exog=future, series=label
        )
        diagnostics += result.diagnostics
        tables.append(result.backtest.assign(series=label))
        rows += _rows(str(name), str(entity), periods, result, bool((y >= 0).all()), cfg.level)
    forecasts = pd.DataFrame(rows, columns=FORECAST_COLUMNS)
    if forecasts.empty or forecasts["model"].eq(LAST_VALUE).all():
        diagnostics.append(_no_model(frame, since, cfg))
    backtests = (
        pd.concat(tables, ignore_index=True)[BACKTEST_COLUMNS]
        if tables
        else pd.DataFrame(columns=BACKTEST_COLUMNS)
    )
    return ForecastResult(forecasts, backtests, tuple(diagnostics))


def _after_break(
    group: pd.DataFrame, since: int | None, label: str, diagnostics: list[Diagnostic]
) -> pd.DataFrame:
    """The series in time order, from ``since`` on (a declared structural break)."""
    ordered = group.sort_values(["year", "month"], na_position="first")
    if since is None:
        return ordered
    kept = ordered[ordered["year"] >= since]
    dropped = sorted({int(y) for y in ordered.loc[ordered["year"] < since, "year"]})
    if dropped:
        span = f"{dropped[0]}-{dropped[-1]}" if len(dropped) > 1 else str(dropped[0])
        diagnostics.append(
            note(
                "forecast-break",
                f"{label}: structural break declared at {since}: {span} left out, "
                f"{len(kept)} point(s) from {since} fitted",
            )
        )
    return kept


def _no_model(frame: pd.DataFrame, since: int | None, cfg: ForecastSettings) -> Diagnostic:
    """The error of a history where no series has the points of a model: what it holds and
    what a series needs."""
    years = sorted({int(y) for y in frame["year"]}) if not frame.empty else []
    if not years:
        held = "the history is empty"
    elif len(years) > 1:
        held = f"years held: {years[0]}-{years[-1]}"
    else:
        held = f"year held: {years[0]}"
    held += f", fitted from {since}" if since is not None else ""
    return note(
        "forecast-no-model",
        f"no series has the points of a model ({held}); a series needs {cfg.needed()}: "
        "nothing to forecast from",
        Severity.ERROR,
    )


def _rows(
    name: str,
    entity: str,
    periods: list[tuple[int, int | None]],
    result: SeriesForecast,
    nonnegative: bool,
    level: float,
) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for step, (year, month) in enumerate(periods):
        lower = float(result.fit.lower[step])
        rows.append(
            {
                "series": name,
                "entity_id": entity,
                "year": year,
                "month": month,
                "horizon": step + 1,
                "forecast": float(result.fit.point[step]),
                # emissions and energy are not negative: the bound stops at 0
                "lower": max(lower, 0.0) if nonnegative else lower,
                "upper": float(result.fit.upper[step]),
                "model": result.model,
                "level": level,
            }
        )
    return rows


def _drivers_of(
    table: pd.DataFrame,
    group: pd.DataFrame,
    periods: list[tuple[int, int | None]],
    label: str,
    diagnostics: list[Diagnostic],
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """The drivers of the series' years and of the forecast years, when both are known."""
    years = [int(v) for v in group["year"]]
    future_years = [p[0] for p in periods]
    if set(years + future_years) <= set(table.index):
        return (
            table.loc[years].to_numpy(dtype=float),
            table.loc[future_years].to_numpy(dtype=float),
        )
    diagnostics.append(
        note(
            "forecast-drivers-missing",
            f"{label}: drivers or assumptions do not cover every year; no arimax",
        )
    )
    return None, None


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
