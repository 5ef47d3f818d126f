"""Emission pathways to targets, the gap of a forecast to a pathway, and progress.

Every pathway is a yearly frame ``year, pathway_tco2e`` (plus the columns of its kind), one
row per calendar year from the base year to the last target year:

- :func:`absolute_contraction`: SBTi-style absolute contraction,
  ``E_t = E_base x (1 - r x (t - base))`` floored at 0, ``r`` the linear annual reduction
  (4.2 %/year for 1.5 degC, 2.5 %/year for well-below 2 degC; ``data/pathway_parameters.csv``);
- :func:`peak_decline`: growth at a constant rate (or a given forecast) to the peak year, then
  a decline, linear or at a constant rate, through the neutrality year to the net-zero
  residual (at most 10 % of the base year per the SBTi Corporate Net-Zero Standard), held
  after the net-zero year;
- :func:`intensity_pathway`: intensity (tCO2e per unit of activity) contracting linearly from
  its base, times an activity forecast.

The group's milestones (carbon peak, neutrality, net zero) are the deadlines of the company's
own targets that mark them (:func:`milestones`); the product has none of its own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from esgledger.checks.targets import MILESTONES, Target
from esgledger.strategy.lmdi import _read_data

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from esgledger.calc import InventoryResult

__all__ = [
    "Milestones",
    "PathwayParameters",
    "Progress",
    "absolute_contraction",
    "gap",
    "intensity_pathway",
    "load_pathway_parameters",
    "milestones",
    "pathway_from_inventory",
    "peak_decline",
    "progress",
    "unmarked",
]

Ambition = Literal["1.5C", "wb2c"]
Shape = Literal["linear", "rate"]
PARAMETERS_FILE = "pathway_parameters.csv"


@dataclass(frozen=True, slots=True)
class PathwayParameters:
    """``pathway_parameters.csv``: rates as fractions per year, residuals as fractions."""

    rates: Mapping[str, float]
    default_ambition: Ambition
    net_zero_residual: float
    neutrality_residual: float | None

    def rate(self, ambition: str | None = None) -> float:
        key = ambition or self.default_ambition
        if key not in self.rates:
            raise ValueError(f"ambition {key!r}: expected one of {', '.join(self.rates)}")
        return self.rates[key]


def load_pathway_parameters(table: pd.DataFrame | None = None) -> PathwayParameters:
    """The parameters of ``table`` (default: the packaged ``pathway_parameters.csv``)."""
    frame = _read_data(PARAMETERS_FILE) if table is None else table
    value = dict(zip(frame["parameter"], frame["value"].astype(str), strict=True))
    rates = {
        key.removeprefix("aca.rate."): float(v) / 100
        for key, v in value.items()
        if key.startswith("aca.rate.")
    }
    ambition = value["ambition.default"]
    if ambition not in ("1.5C", "wb2c") or ambition not in rates:
        raise ValueError(f"ambition.default {ambition!r}: expected 1.5C or wb2c with a rate")
    neutrality = value.get("neutrality.residual", "")
    return PathwayParameters(
        rates=rates,
        default_ambition="1.5C" if ambition == "1.5C" else "wb2c",
        net_zero_residual=float(value["netzero.residual.max"]) / 100,
        neutrality_residual=float(neutrality) / 100 if neutrality else None,
    )


@dataclass(frozen=True, slots=True)
class Milestones:
    """The group's climate milestones (deadline years of the targets) and their sources."""

    peak: int
    neutrality: int
    net_zero: int
    sources: Mapping[str, str]
    set_in: int | None = None
    """The year the milestones were set (the peak target's start year): the base year a
    pathway's progress is measured from."""


def unmarked(targets: Sequence[Target]) -> list[str]:
    """The climate milestones (peak, neutrality, net zero) no target marks."""
    marked = {t.milestone for t in targets}
    return [m for m in MILESTONES if m not in marked]


def milestones(targets: Sequence[Target]) -> Milestones:
    """Peak, neutrality and net-zero years: the deadlines of the targets that mark them (the
    ``milestone`` column of the company's targets); ValueError naming what is not marked."""
    by_mark = {t.milestone: t for t in targets if t.milestone}
    lacking = unmarked(targets)
    if lacking:
        raise ValueError(
            f"no target marks the milestone {', '.join(lacking)}: expected the targets' "
            "milestone column to mark peak, neutrality and net_zero"
        )
    years = {m: by_mark[m].deadline_year for m in MILESTONES}
    return Milestones(
        peak=years["peak"],
        neutrality=years["neutrality"],
        net_zero=years["net_zero"],
        sources={m: f"{by_mark[m].target_id}: {by_mark[m].source}" for m in MILESTONES},
        set_in=by_mark["peak"].start_year,
    )


def _check_years(base_year: int, **later: int) -> None:
    previous_name, previous = "base year", base_year
    for name, year in later.items():
        if year < previous:
            raise ValueError(
                f"{name.replace('_', ' ')} {year} is before the {previous_name} {previous}: "
                f"expected a year >= {previous}"
            )
        previous_name, previous = name.replace("_", " "), year


def _check_amount(name: str, value: float) -> None:
    if not np.isfinite(value) or value < 0:
        raise ValueError(f"{name} {value!r}: expected a finite value >= 0 (tCO2e)")


def absolute_contraction(
    base_year: int,
    base_emissions: float,
    target_year: int,
    rate: float | None = None,
    ambition: Ambition | None = None,
    parameters: PathwayParameters | None = None,
) -> pd.DataFrame:
    """``E_t = E_base x (1 - r x (t - base))`` floored at 0, for ``base..target_year``.

    ``rate`` is a fraction per year (0.042 = 4.2 %/year of the base-year emissions); by default
    the rate of ``ambition`` in ``pathway_parameters.csv``. Columns: ``year``,
    ``pathway_tco2e``, ``reduction_pct`` (cut from the base year, %).
    """
    _check_years(base_year, target_year=target_year)
    _check_amount("base emissions", base_emissions)
    r = (parameters or load_pathway_parameters()).rate(ambition) if rate is None else rate
    if not np.isfinite(r) or r < 0:
        raise ValueError(f"rate {r!r}: expected a fraction per year >= 0 (0.042 = 4.2 %/year)")
    years = np.arange(base_year, target_year + 1)
    factor = np.maximum(1.0 - r * (years - base_year), 0.0)
    return pd.DataFrame(
        {
            "year": years,
            "pathway_tco2e": base_emissions * factor,
            "reduction_pct": (1.0 - factor) * 100,
        }
    )


def _rise(
    base_year: int,
    base_emissions: float,
    peak_year: int,
    growth: float,
    forecast: pd.Series | None,
) -> NDArray[np.float64]:
    """Emissions base..peak: the forecast, or constant growth from the base."""
    if forecast is not None:
        wanted = list(range(base_year + 1, peak_year + 1))
        lacking = [y for y in wanted if y not in forecast.index]
        if lacking:
            raise ValueError(
                f"forecast lacks {', '.join(map(str, lacking))}: expected a value (tCO2e) for "
                f"every year {base_year + 1}-{peak_year}"
            )
        values = forecast.loc[wanted].to_numpy(np.float64)
        if not np.all(np.isfinite(values)) or np.any(values < 0):
            raise ValueError("forecast: expected finite values >= 0 (tCO2e)")
        return np.concatenate(([base_emissions], values))
    if not np.isfinite(growth) or growth <= -1:
        raise ValueError(f"growth {growth!r}: expected a fraction per year > -1")
    steps = np.arange(base_year, peak_year + 1) - base_year
    return np.asarray(base_emissions * (1.0 + growth) ** steps, dtype=np.float64)


def peak_decline(
    base_year: int,
    base_emissions: float,
    peak_year: int,
    neutrality_year: int,
    net_zero_year: int,
    *,
    growth: float = 0.0,
    forecast: pd.Series | None = None,
    shape: Shape = "linear",
    neutrality_residual: float | None = None,
    net_zero_residual: float | None = None,
    parameters: PathwayParameters | None = None,
    horizon: int | None = None,
) -> pd.DataFrame:
    """Growth to the peak, decline to neutrality and net zero, residual held after.

    - ``base..peak``: ``E_base x (1 + growth)^(t - base)`` or ``forecast`` (a Series indexed
      by year, tCO2e, covering ``base+1..peak``);
    - ``peak..net_zero``: from the peak value to ``net_zero_residual x E_base`` at the
      net-zero year, through ``neutrality_residual x E_base`` at the neutrality year when one
      is given (else the neutrality year is a point of the one segment), ``linear`` or at a
      constant ``rate`` (geometric) per segment;
    - after the net-zero year to ``horizon``: the residual (neutralised by removals).

    Residuals are fractions of the base-year emissions (defaults: ``pathway_parameters.csv``,
    net zero 10 %). Columns: ``year``, ``pathway_tco2e``, ``phase``
    (``growth``/``decline``/``residual``).
    """
    params = parameters or load_pathway_parameters()
    end = net_zero_year if horizon is None else horizon
    _check_years(
        base_year,
        peak_year=peak_year,
        neutrality_year=neutrality_year,
        net_zero_year=net_zero_year,
        horizon=end,
    )
    _check_amount("base emissions", base_emissions)
    if shape not in ("linear", "rate"):
        raise ValueError(f"shape {shape!r}: expected 'linear' or 'rate'")
    nz = params.net_zero_residual if net_zero_residual is None else net_zero_residual
    neutral = params.neutrality_residual if neutrality_residual is None else neutrality_residual
    for name, share in (("net-zero residual", nz), ("neutrality residual", neutral)):
        if share is not None and not 0 <= share <= 1:
            raise ValueError(f"{name} {share!r}: expected a fraction of the base year in [0, 1]")
    if neutral is not None and neutral < nz:
        raise ValueError(
            f"neutrality residual {neutral:g} is below the net-zero residual {nz:g}: expected "
            "the neutrality level at least the net-zero level"
        )

    years = np.arange(base_year, end + 1)
    grown = _rise(base_year, base_emissions, peak_year, growth, forecast)
    peak = float(grown[-1])
    anchors_x = [peak_year]
    anchors_y = [peak]
    if neutral is not None and peak_year < neutrality_year < net_zero_year:
        anchors_x.append(neutrality_year)
        anchors_y.append(neutral * base_emissions)
    anchors_x.append(net_zero_year)
    anchors_y.append(nz * base_emissions)
    if max(anchors_y[1:]) > peak:
        raise ValueError(
            f"residual {max(anchors_y[1:]):,.2f} tCO2e exceeds the peak {peak:,.2f} tCO2e: "
            "expected residuals at most the peak"
        )
    after = years[years > peak_year]
    if shape == "linear" or min(anchors_y) <= 0:
        if shape == "rate":
            raise ValueError("constant-rate decline to 0: expected residuals > 0 with shape 'rate'")
        tail = np.interp(after, anchors_x, anchors_y)
    else:
        tail = np.exp(np.interp(after, anchors_x, np.log(anchors_y)))
    values = np.concatenate((grown, tail))
    phase = np.where(
        years <= peak_year, "growth", np.where(years <= net_zero_year, "decline", "residual")
    )
    phase[0] = "base"
    return pd.DataFrame({"year": years, "pathway_tco2e": values, "phase": phase})


def intensity_pathway(
    base_year: int,
    base_emissions: float,
    base_activity: float,
    activity: pd.Series,
    target_year: int,
    rate: float | None = None,
    ambition: Ambition | None = None,
    parameters: PathwayParameters | None = None,
) -> pd.DataFrame:
    """Intensity ``i_t = i_base x (1 - r x (t - base))`` (floored at 0) times activity.

    ``i_base = base_emissions / base_activity`` (tCO2e per unit of activity, e.g. per 万元);
    ``activity``: a Series indexed by year covering ``base+1..target_year`` (the base year
    uses ``base_activity``). ``rate`` defaults to the absolute-contraction rate of
    ``ambition``: with growing activity this is weaker than the absolute pathway (SBTi's
    intensity methods, SDA and GEVA, are not implemented). Columns: ``year``, ``activity``,
    ``intensity``, ``pathway_tco2e``.
    """
    _check_years(base_year, target_year=target_year)
    _check_amount("base emissions", base_emissions)
    if not np.isfinite(base_activity) or base_activity <= 0:
        raise ValueError(f"base activity {base_activity!r}: expected a positive value")
    wanted = list(range(base_year + 1, target_year + 1))
    lacking = [y for y in wanted if y not in activity.index]
    if lacking:
        raise ValueError(
            f"activity lacks {', '.join(map(str, lacking))}: expected a value for every year "
            f"{base_year + 1}-{target_year}"
        )
    act = np.concatenate(([base_activity], activity.loc[wanted].to_numpy(np.float64)))
    if not np.all(np.isfinite(act)) or np.any(act < 0):
        raise ValueError("activity: expected finite values >= 0")
    r = (parameters or load_pathway_parameters()).rate(ambition) if rate is None else rate
    years = np.arange(base_year, target_year + 1)
    intensity = base_emissions / base_activity * np.maximum(1.0 - r * (years - base_year), 0.0)
    return pd.DataFrame(
        {"year": years, "activity": act, "intensity": intensity, "pathway_tco2e": intensity * act}
    )


def _series(frame: pd.DataFrame | pd.Series, column: str, what: str) -> pd.Series:
    if isinstance(frame, pd.Series):
        series = frame.astype(np.float64)
    else:
        value = column if column in frame.columns else None
        if value is None or "year" not in frame.columns:
            raise ValueError(f"{what}: expected a Series by year or a frame with year, {column}")
        series = frame.set_index("year")[value].astype(np.float64)
    series.index = series.index.astype(int)
    return series


def gap(forecast: pd.DataFrame | pd.Series, pathway: pd.DataFrame | pd.Series) -> pd.DataFrame:
    """Forecast minus pathway per year and cumulated (tCO2e), over the years both hold.

    ``forecast``: a Series by year or a frame ``year, forecast_tco2e``; ``pathway``: a Series
    or a pathway frame (``year, pathway_tco2e``). A positive gap is emissions above the
    pathway. Columns: ``year``, ``forecast_tco2e``, ``pathway_tco2e``, ``gap_tco2e``,
    ``cumulative_gap_tco2e``, ``gap_pct`` (of the pathway; NaN where it is 0).
    """
    f = _series(forecast, "forecast_tco2e", "forecast")
    p = _series(pathway, "pathway_tco2e", "pathway")
    years = sorted(set(f.index) & set(p.index))
    if not years:
        raise ValueError(
            f"no common year: forecast {min(f.index, default='-')}-{max(f.index, default='-')}, "
            f"pathway {min(p.index, default='-')}-{max(p.index, default='-')}: expected "
            "overlapping years"
        )
    out = pd.DataFrame(
        {
            "year": years,
            "forecast_tco2e": f.loc[years].to_numpy(),
            "pathway_tco2e": p.loc[years].to_numpy(),
        }
    )
    out["gap_tco2e"] = out["forecast_tco2e"] - out["pathway_tco2e"]
    out["cumulative_gap_tco2e"] = out["gap_tco2e"].cumsum()
    den = out["pathway_tco2e"].where(out["pathway_tco2e"] != 0)
    out["gap_pct"] = out["gap_tco2e"] / den * 100
    return out


@dataclass(frozen=True, slots=True)
class Progress:
    """Actual against pathway in one year, with the arithmetic in ``reason``."""

    year: int
    status: Literal["on track", "off track", "no data"]
    actual_tco2e: float | None
    pathway_tco2e: float
    gap_tco2e: float | None
    gap_pct: float | None
    reason: str


def progress(
    actuals: pd.DataFrame | pd.Series, pathway: pd.DataFrame | pd.Series, year: int
) -> Progress:
    """``on track`` when the actual of ``year`` is at or below the pathway, else ``off track``.

    ``actuals``: a Series by year or a frame ``year, actual_tco2e``; ``pathway``: a pathway
    frame or Series. ``no data`` when there is no actual for the year.
    """
    p = _series(pathway, "pathway_tco2e", "pathway")
    if year not in p.index:
        raise ValueError(
            f"year {year} not on the pathway ({p.index.min()}-{p.index.max()}): expected a "
            "pathway year"
        )
    a = _series(actuals, "actual_tco2e", "actuals")
    target = float(p.loc[year])
    if year not in a.index or not np.isfinite(a.loc[year]):
        return Progress(year, "no data", None, target, None, None, f"no actual for {year}")
    actual = float(a.loc[year])
    diff = actual - target
    pct = diff / target * 100 if target else None
    on = actual <= target
    rel = f" ({pct:+.1f} % of the pathway)" if pct is not None else ""
    reason = (
        f"{year}: actual {actual:,.2f} tCO2e {'<=' if on else '>'} pathway {target:,.2f} tCO2e; "
        f"gap = {actual:,.2f} - {target:,.2f} = {diff:+,.2f} tCO2e{rel}"
    )
    return Progress(year, "on track" if on else "off track", actual, target, diff, pct, reason)


def pathway_from_inventory(
    result: InventoryResult,
    base_year: int,
    marks: Milestones,
    growth: float | None = None,
    shape: Shape = "linear",
) -> tuple[pd.DataFrame, list[str]]:
    """The group's peak-neutrality-net-zero pathway to ``marks`` from an inventory's total.

    The base is the consolidated total of ``base_year`` (tCO2e, scope 2 on the inventory's
    total basis). ``growth`` to the peak defaults
    to the compound annual growth of the totals from the inventory's first year to the base
    year (a stated assumption, in the notes). Returns the frame and the notes.
    (:func:`esgledger.usecases.strategy.ledger_pathway` reads the ledger's inventory.)
    """
    years = [y for y in result.years() if y <= base_year]
    if base_year not in years:
        raise ValueError(f"no inventory for {base_year}: expected the base year in the ledger")
    base = result.scope_totals(base_year)["total"]
    notes = [
        f"base: {base_year} inventory total {base:,.2f} tCO2e",
        *(f"{k} {getattr(marks, k)} ({s})" for k, s in marks.sources.items()),
    ]
    if growth is None:
        first = years[0]
        start = result.scope_totals(first)["total"]
        if first < base_year and start > 0:
            growth = (base / start) ** (1 / (base_year - first)) - 1
            notes.append(
                f"growth to the peak: {growth * 100:.2f} %/year, the compound growth of the "
                f"totals {first}-{base_year} ({start:,.2f} -> {base:,.2f} tCO2e); an assumption"
            )
        else:
            growth = 0.0
            notes.append("growth to the peak: 0 %/year (no earlier total to extrapolate)")
    frame = peak_decline(
        base_year,
        base,
        marks.peak,
        marks.neutrality,
        marks.net_zero,
        growth=growth,
        shape=shape,
    )
    return frame, notes
