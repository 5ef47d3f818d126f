"""Workforce figures of a reporting period from a validated roster (``ingest.roster``).

Pure and vectorised: one boolean or hours column per quantity over the whole roster, one
``groupby(entity_id).sum()``, then each metric is built from the summed columns. Group figures
(``entity_id == '*'``) come from the summed numerators and denominators of the entities, never
from summing or averaging their ratios, so computing per entity and combining with
:func:`aggregate_totals` gives exactly the figures of the pooled roster.

Definitions, for a period ``start``..``end`` (both days included):

- employed at a date ``d``: ``hire_date <= d`` and (no ``leave_date`` or ``leave_date > d``);
  a person whose ``leave_date`` is ``end`` is a leaver, not in the closing headcount;
- closing headcount (``workforce.headcount``): employed at ``end``;
- opening headcount (``workforce.headcount_opening``): employed at the close of the day before
  ``start`` (the previous period's closing headcount), so that
  ``closing = opening + new_hires - leavers`` holds exactly;
- new hires: ``start <= hire_date <= end``; leavers: ``start <= leave_date <= end``;
- age group: age at ``end`` = ``end.year - birth_year`` (the age reached in that year), or the
  roster's ``age_band`` when the birth year is not given; groups lt35 (< 35), 35_50 (35 to 50),
  gt50 (> 50). A person keeps one age group for the whole period (for leavers and opening
  headcount too), so the groups partition every count;
- training hours count for everyone employed at any time in the period (``hire_date <= end``
  and no ``leave_date`` before ``start``); per-capita figures divide them by the closing
  headcount of the same group, as the seed report does (total hours / year-end headcount);
- the parental-leave flags are taken to refer to the period: the return rate is returned /
  taken among those employed at any time in the period. GRI 401-3 divides by the employees
  *due to return* in the period; without leave end dates in the roster, "took leave in the
  period" stands for it, which understates the rate when leave is still running at period end.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from esgledger.domain.diagnostics import Diagnostic, Severity

GROUP = "*"
COLUMNS = ("metric_id", "entity_id", "value", "numerator", "denominator", "unit")

TURNOVER_BASES = ("average", "closing", "closing_plus_leavers")
"""Denominators of the turnover rate (leavers x 100 / denominator), selectable per report:

- ``average``: (opening + closing headcount) / 2, the average headcount of the period:
  the "crude wastage rate" of UK HR practice (CIPD: leavers / average number employed) and the
  separation rate of the US BLS JOLTS survey (separations / employment).
- ``closing`` (default): the closing headcount. GRI 401 (2016) clause 2.1 prescribes it for
  disclosure 401-1 ("use the total employee numbers at the end of the reporting period to
  calculate the rates of new employee hires and employee turnover") and what many Chinese
  reports compute as 员工流失率 (leavers / year-end headcount); it overstates the rate when the
  workforce shrinks and can exceed 100 %.
- ``closing_plus_leavers``: leavers / (closing headcount + leavers), the 离职率 formula common in
  Chinese HR practice (离职人数 / (期末在职人数 + 离职人数)); it never exceeds 100 %.

Every basis is linear in per-entity sums, so group rates recomputed from the entities'
numerators and denominators equal the pooled roster's.
"""

BREAKDOWNS: dict[str, tuple[str, tuple[str, ...]]] = {
    "gender": ("", ("male", "female")),
    "age": ("age_", ("lt35", "35_50", "gt50")),
    "level": ("level_", ("staff", "core", "management")),
    "education": ("edu_", ("college_or_below", "bachelor", "master_or_above")),
    "region": ("region_", ("china", "overseas")),
    "tier": ("tier_", ("junior", "middle", "senior")),
}
"""Roster column -> (suffix prefix, codes): ``workforce.headcount.<prefix><code>``."""

FLAG_COUNTS = {
    "ethnic_minority": "ethnic_minority",
    "disabled": "disability",
    "veterans": "veteran",
}


@dataclass(frozen=True, slots=True)
class MetricSpec:
    """A metric built from summed quantities: additive when it has no denominator."""

    metric_id: str
    unit: str
    numerator: str
    denominator: str | None = None
    scale: float = 1.0

    @property
    def is_ratio(self) -> bool:
        return self.denominator is not None


def _suffixes(*breakdowns: str) -> list[str]:
    return [f"{BREAKDOWNS[b][0]}{code}" for b in breakdowns for code in BREAKDOWNS[b][1]]


def _specs() -> tuple[MetricSpec, ...]:
    specs = [MetricSpec("workforce.headcount", "persons", "closing")]
    groups = _suffixes(*BREAKDOWNS)
    specs += [MetricSpec(f"workforce.headcount.{g}", "persons", f"closing.{g}") for g in groups]
    specs.append(MetricSpec("workforce.headcount_opening", "persons", "opening"))
    specs.append(MetricSpec("workforce.new_hires", "persons", "hires"))
    turnover = ["", *(f".{g}" for g in _suffixes("gender", "age"))]
    specs += [MetricSpec(f"workforce.leavers{g}", "persons", f"leavers{g}") for g in turnover]
    specs += [
        MetricSpec(f"workforce.turnover_rate{g}", "%", f"leavers{g}", f"turnover_base{g}", 100.0)
        for g in turnover
    ]
    specs.append(MetricSpec("training.hours_total", "h", "hours"))
    training = ["", *(f".{g}" for g in _suffixes("gender", "tier"))]
    specs += [
        MetricSpec(f"training.hours_per_capita{g}", "h/person", f"hours{g}", f"closing{g}")
        for g in training
    ]
    specs.append(MetricSpec("training.coverage", "%", "trained", "closing", 100.0))
    for tier in ("middle", "senior"):
        specs.append(
            MetricSpec(
                f"diversity.women_{tier}_mgmt_pct",
                "%",
                f"closing.female.tier_{tier}",
                f"closing.tier_{tier}",
                100.0,
            )
        )
    specs += [MetricSpec(f"diversity.{name}", "persons", name) for name in FLAG_COUNTS]
    specs.append(
        MetricSpec("workforce.parental_leave_return_rate", "%", "pl_returned", "pl_taken", 100.0)
    )
    return tuple(specs)


METRICS: dict[str, MetricSpec] = {s.metric_id: s for s in _specs()}
"""Every metric this module computes, by id, in output order."""
_IS_RATIO = {m: s.is_ratio for m, s in METRICS.items()}
_SCALE = {m: s.scale for m, s in METRICS.items()}
_UNIT = {m: s.unit for m, s in METRICS.items()}


def _age_band(roster: pd.DataFrame, end: date) -> pd.Series:
    age = (end.year - roster["birth_year"].astype("float64")).to_numpy()
    band = np.select([age < 35, age <= 50, age > 50], ["lt35", "35_50", "gt50"], default="")
    computed = pd.Series(band, index=roster.index, dtype=object)
    return computed.where(computed.ne(""), roster["age_band"].fillna(""))


def _quantities(roster: pd.DataFrame, start: date, end: date) -> pd.DataFrame:
    """One column per summable quantity, one row per employee."""
    first, last = pd.Timestamp(start), pd.Timestamp(end)
    hire, leave = roster["hire_date"], roster["leave_date"]
    closing = (hire <= last) & (leave.isna() | (leave > last))
    present = (hire <= last) & (leave.isna() | (leave >= first))
    hours = roster["training_hours"].astype("float64").where(present, 0.0)
    columns: dict[str, pd.Series] = {
        "closing": closing,
        "opening": (hire < first) & (leave.isna() | (leave >= first)),
        "hires": (hire >= first) & (hire <= last),
        "leavers": (leave >= first) & (leave <= last),
        "hours": hours,
        "trained": closing & (hours > 0),
        "pl_taken": present & roster["parental_leave_taken"],
        "pl_returned": present & roster["parental_leave_taken"] & roster["parental_leave_returned"],
    }
    columns.update({name: closing & roster[flag] for name, flag in FLAG_COUNTS.items()})
    for column, (prefix, codes) in BREAKDOWNS.items():
        values = _age_band(roster, end) if column == "age" else roster[column].fillna("")
        for code in codes:
            member = values.eq(code).to_numpy()
            for quantity in ("closing", "opening", "leavers"):
                columns[f"{quantity}.{prefix}{code}"] = columns[quantity] & member
            columns[f"hours.{prefix}{code}"] = hours.where(member, 0.0)
    for tier in ("middle", "senior"):
        columns[f"closing.female.tier_{tier}"] = (
            columns[f"closing.tier_{tier}"] & roster["gender"].eq("female").to_numpy()
        )
    return pd.DataFrame({k: v.astype("float64") for k, v in columns.items()}, index=roster.index)


def _with_turnover_base(sums: pd.DataFrame, basis: str) -> pd.DataFrame:
    bases = {}
    for g in ["", *(f".{s}" for s in _suffixes("gender", "age"))]:
        opening, closing, leavers = sums[f"opening{g}"], sums[f"closing{g}"], sums[f"leavers{g}"]
        if basis == "average":
            bases[f"turnover_base{g}"] = (opening + closing) / 2
        elif basis == "closing":
            bases[f"turnover_base{g}"] = closing
        else:
            bases[f"turnover_base{g}"] = closing + leavers
    return sums.assign(**bases)


def _long(sums: pd.DataFrame) -> pd.DataFrame:
    """The metrics of every row of ``sums`` (index: entity id) as the long output frame."""
    specs = list(METRICS.values())
    num = sums[[s.numerator for s in specs]].to_numpy(dtype="float64").T  # metrics x entities
    den = sums[[s.denominator or s.numerator for s in specs]].to_numpy(dtype="float64").T
    is_ratio = np.array([[s.is_ratio] for s in specs])
    scale = np.array([[s.scale] for s in specs])
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(den > 0, num * scale / den, np.nan)
    entities = len(sums.index)
    return pd.DataFrame(
        {
            "metric_id": np.repeat([s.metric_id for s in specs], entities),
            "entity_id": np.tile(sums.index.astype(str).to_numpy(), len(specs)),
            "value": np.where(is_ratio, ratio, num).ravel(),
            "numerator": np.where(is_ratio, num, np.nan).ravel(),
            "denominator": np.where(is_ratio, den, np.nan).ravel(),
            "unit": np.repeat([s.unit for s in specs], entities),
        }
    )


def compute_workforce(
    roster: pd.DataFrame, start: date, end: date, turnover_basis: str = "closing"
) -> pd.DataFrame:
    """Every workforce metric of ``METRICS`` per entity and for the group (``entity_id='*'``).

    ``roster`` is a frame from :func:`esgledger.ingest.roster.validate_roster`. Returns a long
    frame with ``COLUMNS``: counts and hours have ``value`` and no numerator/denominator; ratios
    carry the numerator and denominator they were computed from (``value`` is NaN when the
    denominator is 0). ``turnover_basis`` is one of ``TURNOVER_BASES``.
    """
    if turnover_basis not in TURNOVER_BASES:
        raise ValueError(f"turnover_basis {turnover_basis!r} is not one of {TURNOVER_BASES}")
    if end < start:
        raise ValueError(f"period end {end} is before its start {start}")
    quantities = _quantities(roster, start, end)
    sums = quantities.groupby(roster["entity_id"].astype(str), sort=True).sum()
    sums.loc[GROUP] = sums.sum()
    return _long(_with_turnover_base(sums, turnover_basis))


def aggregate_totals(
    inputs: pd.DataFrame, computed: pd.DataFrame | None = None, source: str | None = None
) -> tuple[pd.DataFrame, list[Diagnostic]]:
    """Entity figures (reported totals plus roster-derived ones) and the group figures.

    ``inputs`` holds entity-level figures of subsidiaries that report only totals (columns
    ``metric_id, entity_id, value, numerator, denominator``, optionally ``row`` for the
    location of diagnostics in ``source``); ``computed`` is the output of
    :func:`compute_workforce` (its group rows are recomputed). Counts and hours are summed;
    ratios are recomputed from the summed numerators and denominators, so a ratio row needs
    both (turnover denominators must use the same basis across entities). A metric with a
    problem in any row gets no group figure; the problem is returned as a diagnostic.
    """
    frame = inputs.reset_index(drop=True)
    for column in ("value", "numerator", "denominator"):
        given = frame[column] if column in frame else pd.Series(np.nan, index=frame.index)
        frame[column] = pd.to_numeric(given, errors="coerce").astype("float64")
    given_rows = frame["row"] if "row" in frame else pd.Series(np.nan, index=frame.index)
    rows = pd.to_numeric(given_rows, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    diagnostics: list[Diagnostic] = []
    bad_metrics: set[str] = set()

    def refuse(mask: pd.Series, code: str, message: str) -> None:
        for index in mask[mask].index:
            metric, entity = str(frame.at[index, "metric_id"]), str(frame.at[index, "entity_id"])
            row = float(rows[int(index)])
            diagnostics.append(
                Diagnostic(
                    code,
                    f"{metric} of {entity}: {message}",
                    file=source,
                    row=None if np.isnan(row) else int(row),
                    column="metric_id",
                )
            )
            bad_metrics.add(str(metric))

    known = frame["metric_id"].isin(list(METRICS))
    refuse(~known, "metric-unknown", "not a workforce metric")
    refuse(frame["entity_id"].eq(GROUP), "group-input", "group figures are computed, not input")
    frame = frame[known & frame["entity_id"].ne(GROUP)]
    ratio = frame["metric_id"].map(_IS_RATIO).astype(bool)
    parts_missing = ratio & (frame["numerator"].isna() | frame["denominator"].isna())
    refuse(
        parts_missing,
        "ratio-parts",
        "a ratio without its numerator and denominator cannot be combined with other entities",
    )
    refuse(~ratio & frame["value"].isna(), "value", "the value is empty")
    scale = frame["metric_id"].map(_SCALE).astype("float64")
    recomputed = frame["numerator"] * scale / frame["denominator"].where(frame["denominator"] > 0)
    frame["value"] = frame["value"].where(~ratio | frame["value"].notna(), recomputed)
    if computed is not None:
        frame = pd.concat([computed[computed["entity_id"] != GROUP], frame], ignore_index=True)
    frame = frame.reset_index(drop=True)
    twice = frame.duplicated(["metric_id", "entity_id"], keep=False)
    for metric, entity in frame.loc[twice, ["metric_id", "entity_id"]].drop_duplicates().to_numpy():
        diagnostics.append(
            Diagnostic("duplicate", f"{metric} of {entity} is given twice", file=source)
        )
        bad_metrics.add(str(metric))
    frame["unit"] = frame["metric_id"].map(_UNIT)
    entities = frame[list(COLUMNS)]
    usable = entities[~entities["metric_id"].isin(bad_metrics)]
    sums = usable.groupby("metric_id", sort=False)[["value", "numerator", "denominator"]].sum()
    group = sums.reset_index().assign(entity_id=GROUP)
    group["unit"] = group["metric_id"].map(_UNIT)
    is_ratio = group["metric_id"].map(_IS_RATIO).astype(bool)
    scale = group["metric_id"].map(_SCALE).astype("float64")
    den = group["denominator"].where(group["denominator"] > 0)
    group["value"] = group["value"].where(~is_ratio, group["numerator"] * scale / den)
    group[["numerator", "denominator"]] = group[["numerator", "denominator"]].where(is_ratio)
    diagnostics += _coverage(usable, source)
    order = {m: i for i, m in enumerate(METRICS)}
    result = pd.concat([entities, group[list(COLUMNS)]], ignore_index=True)
    result = result.assign(_o=result["metric_id"].map(order), _g=result["entity_id"].eq(GROUP))
    result = result.sort_values(["_o", "_g", "entity_id"], kind="stable")
    return result.drop(columns=["_o", "_g"]).reset_index(drop=True), diagnostics


def _coverage(frame: pd.DataFrame, source: str | None) -> list[Diagnostic]:
    """A warning per entity whose missing metrics leave it out of some group figures."""
    present = frame.groupby("entity_id")["metric_id"].agg(frozenset)
    reported = frozenset(frame["metric_id"])
    out = []
    for entity, metrics in present.items():
        missing = sorted(reported - metrics, key=list(METRICS).index)
        if missing:
            shown = ", ".join(missing[:5]) + (
                f" and {len(missing) - 5} more" if missing[5:] else ""
            )
            out.append(
                Diagnostic(
                    "coverage",
                    f"entity {entity} does not report {shown}: the group figures of these "
                    "metrics exclude it",
                    severity=Severity.WARNING,
                    file=source,
                )
            )
    return out
