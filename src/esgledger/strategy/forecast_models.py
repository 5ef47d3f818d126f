"""The models of the business-as-usual forecast, their settings and the choice among them.

:mod:`esgledger.strategy.forecast` back-tests these models on a series and forecasts it with
the one :func:`choose` takes. Each model is ``fit(y, h, level) -> Fit``: point forecasts and
prediction bounds for the horizons 1..h.

* ``naive``, ``mean``, ``drift``, ``linear``: closed forms with their textbook prediction
  intervals (t quantiles: short series have few degrees of freedom);
* ``holt`` / ``holt_damped``: ETS(A,A,N) / ETS(A,Ad,N), ``statsmodels`` ``ETSModel``;
* ``arima``: ARIMA(1,1,0) with drift, ``statsmodels`` ARIMA. ARIMA(0,1,0) with drift is the
  drift model (the same point forecasts; the drift method's interval also carries the
  estimation error of the drift), so it is not a candidate of its own;
* ``arimax``: regression of the series on drivers (revenue, headcount) with ARIMA(0,1,0)
  errors; needs the drivers' future values.

The settings (``data/forecast_settings.csv``, each with its source) give each model the
points it needs (at least ``min_residual_df`` residual degrees of freedom) and its number of
parameters, which breaks ties of the back-test.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.tsa.arima.model import ARIMA
from statsmodels.tsa.exponential_smoothing.ets import ETSModel

from esgledger.domain.diagnostics import Diagnostic, Severity

CLOSED_FORMS = ("naive", "mean", "drift", "linear")
SCORE_COLUMNS = ["model", "parameters", "mae", "mape", "origins"]
LAST_VALUE = "last_value"


@dataclass(frozen=True)
class ForecastSettings:
    """``forecast_settings.csv`` (see its ``description`` and ``source`` columns)."""

    level: float = 0.95
    backtest_horizon: int = 1
    min_train: int = 3
    min_origins: int = 3
    tolerance: float = 0.05
    min_residual_df: int = 2
    candidates: tuple[str, ...] = CLOSED_FORMS
    fixed: tuple[str, ...] = ("drift", "naive")
    min_points: Mapping[str, int] = field(default_factory=dict)
    parameters: Mapping[str, int] = field(default_factory=dict)

    def __hash__(self) -> int:  # a key of the Book's memo: the mappings hashed as items
        return hash(
            (
                self.level,
                self.backtest_horizon,
                self.min_train,
                self.min_origins,
                self.tolerance,
                self.min_residual_df,
                self.candidates,
                self.fixed,
                tuple(sorted(self.min_points.items())),
                tuple(sorted(self.parameters.items())),
            )
        )

    def points(self, model: str, drivers: int = 0) -> int:
        """Points ``model`` needs; ``arimax`` fits one coefficient per driver on the n - 1
        differences, so it needs ``drivers`` + 1 + ``min_residual_df`` points at least."""
        need = int(self.min_points.get(model, 3))
        if model == "arimax":
            need = max(need, 1 + drivers + self.min_residual_df)
        return need

    def parameter_count(self, model: str, drivers: int = 0) -> int:
        """Estimated parameters of ``model`` (sigma included; ``arimax`` one per driver)."""
        return int(self.parameters.get(model, 99)) + (drivers if model == "arimax" else 0)

    def backtest_points(self, model: str, drivers: int = 0) -> int:
        """Points a series needs for ``model`` to be back-tested on ``min_origins`` origins."""
        first = max(self.min_train, self.points(model, drivers))
        return first + self.backtest_horizon + self.min_origins - 1

    def needed(self) -> str:
        """The points a series needs, in words (for the diagnostics)."""
        fixed = ", ".join(f"{self.points(m)} for {m}" for m in reversed(self.fixed))
        choice = f"{self.backtest_points(self.fixed[0])} for a choice by back-test"
        return f"{fixed}, {choice}" if self.fixed else choice

    def rank(self, model: str) -> tuple[int, str]:
        """Precedence among models of as many parameters: the order of ``candidates``."""
        order = self.candidates
        return (order.index(model) if model in order else len(order), model)


def _split(value: str) -> tuple[str, ...]:
    return tuple(c.strip() for c in value.split(";") if c.strip())


def load_forecast_settings() -> ForecastSettings:
    """The forecast's settings from ``forecast_settings.csv``."""
    path = resources.files("esgledger.strategy") / "data" / "forecast_settings.csv"
    with resources.as_file(path) as file:
        table = pd.read_csv(file, dtype=str, keep_default_na=False)
    values = dict(zip(table["parameter"], table["value"], strict=True))

    def prefixed(prefix: str) -> dict[str, int]:
        return {k.removeprefix(prefix): int(v) for k, v in values.items() if k.startswith(prefix)}

    return ForecastSettings(
        level=float(values["interval.level"]),
        backtest_horizon=int(values["backtest.horizon"]),
        min_train=int(values["backtest.min_train"]),
        min_origins=int(values["backtest.min_origins"]),
        tolerance=float(values["selection.tolerance"]),
        min_residual_df=int(values["min_residual_df"]),
        candidates=_split(values["candidates"]),
        fixed=_split(values["fixed.models"]),
        min_points=prefixed("min_points."),
        parameters=prefixed("parameters."),
    )


# -- the choice -----------------------------------------------------------------------------


def tie_margin(best: float, tolerance: float, scale: float) -> float:
    """Errors up to ``best + margin`` tie with the best: ``tolerance`` x the best error, and
    at least ``tolerance`` x 1e-9 x ``scale`` (the series' mean absolute value), so that two
    exact fits (errors of rounding only) tie."""
    return tolerance * max(best, 1e-9 * scale)


def choose(
    mae: Mapping[str, float],
    parameters: Mapping[str, int],
    settings: ForecastSettings,
    scale: float = 0.0,
) -> tuple[str, list[str]]:
    """The model taken from back-test errors ``mae`` (model -> mean absolute error): of the
    models within ``settings.tolerance`` of the lowest error (:func:`tie_margin`), the one
    with the fewest ``parameters``, then the first in ``settings.candidates``. Returns it and
    the tied models, in that order. Independent of the order of ``mae``."""
    if not mae:
        raise ValueError("no back-test error to choose from")
    best = min(mae.values())
    margin = tie_margin(best, settings.tolerance, scale)
    tied = [m for m in mae if mae[m] <= best + margin]
    tied.sort(key=lambda m: (parameters[m], settings.rank(m)))
    return tied[0], tied


# -- closed-form models ---------------------------------------------------------------------


@dataclass(frozen=True)
class Fit:
    """Point forecasts and prediction bounds for horizons 1..h."""

    point: np.ndarray
    lower: np.ndarray
    upper: np.ndarray


def t_quantile(level: float, df: int) -> float:
    """The two-sided ``level`` quantile of Student's t on ``df`` degrees of freedom."""
    return float(stats.t.ppf(0.5 + level / 2.0, max(df, 1)))


def _mean(y: np.ndarray, h: int, level: float) -> Fit:
    n = y.size
    s = float(np.std(y, ddof=1))
    point = np.full(h, float(y.mean()))
    half = np.full(h, t_quantile(level, n - 1) * s * math.sqrt(1.0 + 1.0 / n))
    return Fit(point, point - half, point + half)


def _naive(y: np.ndarray, h: int, level: float) -> Fit:
    d = np.diff(y)
    s = float(np.sqrt(np.mean(d**2)))
    steps = np.arange(1, h + 1)
    point = np.full(h, float(y[-1]))
    half = t_quantile(level, d.size) * s * np.sqrt(steps)
    return Fit(point, point - half, point + half)


def _drift(y: np.ndarray, h: int, level: float) -> Fit:
    d = np.diff(y)
    t_len = y.size
    slope = float(d.mean())
    s = float(np.std(d, ddof=1))
    steps = np.arange(1, h + 1)
    point = y[-1] + slope * steps
    half = t_quantile(level, d.size - 1) * s * np.sqrt(steps * (1.0 + steps / (t_len - 1)))
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
    half = t_quantile(level, n - 2) * s * np.sqrt(1.0 + 1.0 / n + (x0 - x.mean()) ** 2 / sxx)
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


def model_table(exog: np.ndarray | None, future_exog: np.ndarray | None) -> dict[str, Model]:
    """Model name -> fit(y, h, level); the training window is always a prefix of the history,
    so its length aligns the drivers of ``arimax``."""

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
        "arima": lambda y, h, level: _arima(y, h, level, (1, 1, 0), "t"),
        "arimax": arimax,
    }


def run(fit: Model, y: np.ndarray, h: int, level: float, notes: list[str]) -> Fit | None:
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


def unique(names: Sequence[str]) -> list[str]:
    """``names`` without repeats, in order (a model listed twice is one candidate)."""
    return list(dict.fromkeys(names))


def note(code: str, message: str, severity: Severity = Severity.INFO) -> Diagnostic:
    return Diagnostic(code, message, severity)


# -- the back-test --------------------------------------------------------------------------


def backtest(
    values: Sequence[float] | np.ndarray,
    models: Sequence[str] | None = None,
    *,
    settings: ForecastSettings | None = None,
    exog: np.ndarray | None = None,
    future_exog: np.ndarray | None = None,
    series: str = "",
) -> tuple[pd.DataFrame, list[Diagnostic]]:
    """Rolling-origin MAE and MAPE of each model (``parameters``, ``mae``, ``mape``,
    ``origins``) on the origins all of them can be fitted on: k = max(``min_train``, the
    models' points) ... n - h. A model whose fit fails at an origin is left out, with a
    diagnostic. (:func:`forecast_series` passes only models with ``min_origins`` origins.)"""
    cfg = settings or load_forecast_settings()
    y = np.asarray(values, dtype=float)
    h = cfg.backtest_horizon
    drivers = 0 if exog is None else int(exog.shape[1])
    eligible = [m for m in unique(models or cfg.candidates) if cfg.points(m, drivers) <= y.size - h]
    if exog is None and "arimax" in eligible:
        eligible.remove("arimax")
    if not eligible:
        return pd.DataFrame(columns=SCORE_COLUMNS), []
    first = max(cfg.min_train, *(cfg.points(m, drivers) for m in eligible))
    origins = range(first, y.size - h + 1)
    fits = model_table(exog, future_exog)
    rows: list[dict[str, object]] = []
    diagnostics: list[Diagnostic] = []
    for name in eligible:
        notes: list[str] = []
        errors, shares = _errors(fits[name], y, origins, h, cfg.level, notes)
        if notes:
            text = "; ".join(sorted(set(notes)))
            diagnostics.append(
                note("forecast-backtest-note", f"{series or 'series'}: back-test of {name}: {text}")
            )
        if errors:
            finite = [s for s in shares if math.isfinite(s)]
            rows.append(
                {
                    "model": name,
                    "parameters": cfg.parameter_count(name, drivers),
                    "mae": float(np.mean(errors)),
                    "mape": float(np.mean(finite)) if finite else math.nan,
                    "origins": len(errors),
                }
            )
    return pd.DataFrame(rows, columns=SCORE_COLUMNS), diagnostics


def _errors(
    fit: Model, y: np.ndarray, origins: range, h: int, level: float, notes: list[str]
) -> tuple[list[float], list[float]]:
    """Absolute errors h ahead from each origin, and their shares of the actual values (NaN
    where it is 0); no errors when the model fails at an origin."""
    errors: list[float] = []
    shares: list[float] = []
    for k in origins:
        found = run(fit, y[:k], h, level, notes)
        if found is None:
            return [], []
        truth = float(y[k + h - 1])
        errors.append(abs(float(found.point[h - 1]) - truth))
        shares.append(errors[-1] / abs(truth) if truth != 0 else math.nan)
    return errors, shares


# -- the choice of a series' model ----------------------------------------------------------


@dataclass(frozen=True)
class _Selection:
    order: list[str]  # models to fit on the full history, preferred first
    scores: pd.DataFrame  # SCORE_COLUMNS + tied
    diagnostics: list[Diagnostic]


def _fixed(
    y: np.ndarray, fittable: list[str], cfg: ForecastSettings, drivers: int, label: str
) -> _Selection:
    """The model fixed in advance: the first of ``fixed.models`` the series has the points
    for (else the fittable model of fewest parameters)."""
    ranked = sorted(fittable, key=lambda m: (cfg.parameter_count(m, drivers), cfg.rank(m)))
    fixed = [m for m in cfg.fixed if m in fittable] + ranked
    if not fixed:
        return _Selection([], pd.DataFrame(columns=[*SCORE_COLUMNS, "tied"]), [])
    name = fixed[0]
    what = "the model fixed in advance" if name in cfg.fixed else "the simplest candidate"
    message = (
        f"{label}: {y.size} points are too few to back-test {name} on {cfg.min_origins} "
        f"origins (that needs {cfg.backtest_points(name, drivers)}); {name}, {what} for "
        "short series, is used"
    )
    return _Selection(
        unique(fixed), scores_of(name, cfg, drivers), [note("forecast-fixed-model", message)]
    )


def scores_of(name: str, cfg: ForecastSettings, drivers: int) -> pd.DataFrame:
    """The back-test row of a model not back-tested: no error, 0 origins."""
    row = {
        "model": name,
        "parameters": 0 if name == LAST_VALUE else cfg.parameter_count(name, drivers),
        "mae": math.nan,
        "mape": math.nan,
        "origins": 0,
        "tied": False,
    }
    return pd.DataFrame([row], columns=[*SCORE_COLUMNS, "tied"])


def select(
    y: np.ndarray,
    fittable: list[str],
    cfg: ForecastSettings,
    exog: np.ndarray | None,
    future_exog: np.ndarray | None,
    label: str,
) -> _Selection:
    """Back-test the models with ``min_origins`` origins and take one (:func:`choose`), or
    the fixed model when the series is too short to back-test it."""
    drivers = 0 if exog is None else int(exog.shape[1])
    testable = [m for m in fittable if cfg.backtest_points(m, drivers) <= y.size]
    fixed = next((m for m in cfg.fixed if m in fittable), None)
    if not testable or (fixed is not None and fixed not in testable):
        return _fixed(y, fittable, cfg, drivers, label)
    diagnostics: list[Diagnostic] = []
    untested = [m for m in fittable if m not in testable]
    if untested:
        needs = ", ".join(f"{m} (needs {cfg.backtest_points(m, drivers)})" for m in untested)
        diagnostics.append(
            note(
                "forecast-not-backtested",
                f"{label}: {y.size} points give fewer than {cfg.min_origins} back-test origins "
                f"to {needs}; not compared",
            )
        )
    scores, found = backtest(
        y, testable, settings=cfg, exog=exog, future_exog=future_exog, series=label
    )
    diagnostics += found
    if scores.empty:
        fallback = _fixed(y, fittable, cfg, drivers, label)
        return _Selection(fallback.order, fallback.scores, diagnostics + fallback.diagnostics)
    mae = {str(m): float(v) for m, v in zip(scores["model"], scores["mae"], strict=True)}
    parameters = {
        str(m): int(p) for m, p in zip(scores["model"], scores["parameters"], strict=True)
    }
    _, tied = choose(mae, parameters, cfg, scale=float(np.mean(np.abs(y))))
    rest = sorted(
        (m for m in mae if m not in tied), key=lambda m: (mae[m], parameters[m], cfg.rank(m))
    )
    origins = int(scores["origins"].min())
    text = _choice_text(label, mae, parameters, origins, tied, cfg.tolerance)
    diagnostics.append(note("forecast-choice", text))
    table = scores.assign(tied=scores["model"].isin(tied))
    return _Selection([*tied, *rest], table, diagnostics)


def _choice_text(
    label: str,
    mae: dict[str, float],
    parameters: dict[str, int],
    origins: int,
    tied: list[str],
    tolerance: float,
) -> str:
    """What the back-test chose (``tied[0]``) and which models tied with it."""

    def described(m: str) -> str:
        return f"{m} (MAE {mae[m]:,.4g}, parameters {parameters[m]})"

    text = f"{label}: back-test on {origins} origins: {described(tied[0])} is used"
    if len(tied) > 1:
        text += (
            f"; within {tolerance:.0%} of the lowest MAE {min(mae.values()):,.4g}, a tie "
            f"that goes to the fewest parameters: {', '.join(described(m) for m in tied[1:])}"
        )
    return text
