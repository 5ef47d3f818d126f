"""Consistency checks: do the figures of a report agree with each other?

Input is a long table of reported or computed figures, one row per ``metric_id, entity_id
('*' = the group), year, value``, with optional ``numerator`` and ``denominator`` (the parts a
ratio row carries, as :mod:`esgledger.calc.workforce` returns them) and an optional
``published`` text (the figure as printed: ``"2,414,429.74"``, ``"200+"``). A missing value is
no figure. Every rule is generic: it reads the catalogue (breakdowns, ratio parts, formulas,
units), never a metric id.

**Rounding.** Each figure has a *precision*: the decimals of its ``published`` text when one is
given (the rounding actually printed), else the catalogue's ``precision``. Its rounding error is
at most ``h = 0.5 * 10**-precision`` (half a unit of its last decimal). Every tolerance below is
the worst case those half units allow, plus a floating-point slack of ``relative_epsilon`` x the
magnitudes compared. A published figure ending in ``+`` (``200+``) is a lower bound: it takes
part in no equality (rules 1, 2, 3, 4) and in no lower-bound test.

Rules (``rule`` of a :class:`Finding`), each vectorised over entities and years; Python loops
run over catalogue definitions and findings only:

``breakdown`` (error)
    For every breakdown whose parent is a flow or stock (``Breakdown.sums_to_parent``), when the
    parent **and every member** are present for an entity and year, the members sum to the
    parent: ``|parent - sum(members)| <= h_parent + sum(h_member)`` (with one precision p for
    all, ``0.5 * 10**-p * (members + 1)``). When only some members are present nothing is
    asserted: a partial breakdown (a report that lists the largest regions only) has no total to
    meet. Breakdowns of a rate are structural and go to ``rate_breakdown``.
``ratio`` (error)
    For every ratio metric, ``r = k * n / d`` where ``n`` and ``d`` are the figures of its
    numerator and denominator metrics for the same entity and year, else the parts the ratio row
    carries (``numerator``, ``denominator`` columns; their precision is the catalogue's). ``k``
    is the conversion of ``unit(n) / unit(d)`` to the ratio's unit, which is its ``scale`` when
    the part units cancel (100 for a percentage, 1,000,000 per million hours) and also carries
    the unit prefixes otherwise (``100M CNY / 10k CNY`` in % is x 1,000,000). Per-capita figures
    and intensities are ratios like any other. Tolerance, by propagation of the parts' rounding:
    ``h_r + |dr/dn| h_n + |dr/dd| h_d = h_r + k h_n / |d| + k |n| h_d / d**2``. A zero
    denominator makes the ratio undefined: nothing is asserted.
``rate_breakdown`` (error)
    A breakdown of a ratio (turnover by age, training hours per capita by gender) does not sum,
    but when the parent's numerator and denominator both break down by the same dimension into
    the members' numerators and denominators (catalogue breakdowns that sum), the parent is
    ``sum(n_i) / sum(d_i) = sum(w_i r_i)`` with ``w_i = d_i / sum(d)``: a weighted mean of the
    member ratios. So, whatever the (additive) denominator convention, the parent lies between
    the smallest and the largest member: ``min(r_i) - h_parent - h_min <= parent <= max(r_i) +
    h_parent + h_max``. Needs the parent and every member.
``formula`` (error; warning when the formula carries written coefficients)
    A computed metric whose ``formula`` is a linear combination of catalogue ids equals it.
    Grammar: an optional prose label ending in ``:``, then ``term + term + ...``, then an optional
    trailing parenthesised note naming no id; a term is an id followed by any number of
    ``x <number> [unit]`` coefficients (``ghg.scope1 + ghg.scope2 + ghg.scope3``;
    ``energy.gasoline x 0.73 kg/L x 1.4714 kgce/kg + ...``). Each term is converted to the
    metric's unit with the project's unit registry. Tolerance ``h_total + sum(|c_i| h_i)``.
    A formula with written coefficients is checked against those coefficients, which a ledger
    may configure differently: its findings are warnings. A plain sum that is also a summing
    breakdown of the same metric (``ghg.total`` by scope) is left to ``breakdown`` (one finding,
    not two). Other formulas (ratios, averages, prose) are not parsed.
``bounds`` (error)
    A percentage is at least ``percent_lower`` (0). It is at most ``percent_upper`` (100) only
    when it is a **share**: a ratio whose numerator is part of its denominator. The catalogue has
    no bound column, so a share is recognised from the catalogue structure: the numerator is a
    (transitive) breakdown member of the denominator (``women in middle management / middle
    management``), or numerator and denominator have the same unit and the same period rule
    (both counts at period end, or both totals over the period: satisfied / respondents, board
    independent / board size). A flow over a stock (leavers in the year / closing headcount,
    employees trained in the year / closing headcount) is a rate that can exceed 100 and gets
    no upper bound; nor does a share of different units (R&D spend / revenue). A count (unit
    ``persons`` or ``count``) is at least 0.
``yoy`` (warning: flagged for review, not an error)
    A figure more than ``yoy_factor`` (3) times its value of the previous year for the same
    metric and entity, or below that value divided by the factor, i.e. ``|v| / |v_prev| >
    factor`` or ``< 1 / factor``. A change from or to zero and a change of sign are flagged too;
    0 to 0 is not. ``difference`` is ``v - v_prev``, ``tolerance`` the largest change the factor
    allows in that direction; ``figures`` holds the previous figure, then the current one.

``difference`` is always the checked figure minus what the other figures imply (for a breakdown
the parent minus the sum, for ``bounds`` the value minus the bound); ``figures`` lists every
figure involved, the checked one first.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from esgledger.domain.datafile import read_rows
from esgledger.domain.diagnostics import Diagnostic, Severity
from esgledger.metrics.catalogue import Breakdown, Catalogue, Metric, load_catalogue
from esgledger.units import UnitError, parse_unit, registry

__all__ = [
    "CONSISTENCY_RULES",
    "ConsistencySettings",
    "Finding",
    "linear_formula",
    "load_consistency_settings",
    "parse_consistency_settings",
    "prepare_figures",
    "run_checks",
]

CONSISTENCY_RULES = ("breakdown", "ratio", "rate_breakdown", "formula", "bounds", "yoy")
"""Rule names, in the order findings of one entity and year are listed."""
FIGURE_COLUMNS = ("metric_id", "entity_id", "year", "value")
SETTINGS_FILE = "consistency.csv"
SETTINGS_COLUMNS = ("setting", "value", "description")
_KEY = ["entity_id", "year"]
_ID_TOKEN = re.compile(r"(?<![\w.])[a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+")
_COEFFICIENT = re.compile(r"^([-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)\s*(.*)$")
_TIMES = re.compile(r"\s+x\s+|\s*[×*]\s*")
_NOTE = re.compile(r"\(([^()]*)\)\s*$")
_PUBLISHED = r"-?\d+(?:\.\d*)?"


def published_number(text: str) -> bool:
    """Whether a figure's text as written is a published number (``1,234.5``, ``140+``,
    ``99.11%``), not text with a unit or words (a form's ``9,000 t``)."""
    core = re.sub(r"[,\s+%]", "", text.strip())
    return re.fullmatch(_PUBLISHED, core) is not None


# ------------------------------------------------------------------------------------ settings


@dataclass(frozen=True, slots=True)
class ConsistencySettings:
    """Rule settings (``checks/data/consistency.csv``); the arithmetic is in the module doc."""

    yoy_factor: float = 3.0
    percent_lower: float = 0.0
    percent_upper: float = 100.0
    relative_epsilon: float = 1e-12

    def __post_init__(self) -> None:
        problems = _settings_problems({f.name: getattr(self, f.name) for f in fields(self)})
        if problems:
            raise ValueError("; ".join(problems))


_SETTING_NAMES = tuple(f.name for f in fields(ConsistencySettings))


def _settings_problems(values: Mapping[str, float]) -> list[str]:
    problems = [
        f"{k}={v!r} is not a finite number" for k, v in values.items() if not math.isfinite(v)
    ]
    if problems:
        return problems
    checks = [
        (values["yoy_factor"] > 1, "yoy_factor must be above 1 (3 = x3 up or /3 down)"),
        (values["percent_lower"] < values["percent_upper"], "percent_lower must be below upper"),
        (0 <= values["relative_epsilon"] < 1e-3, "relative_epsilon must be in [0, 0.001)"),
    ]
    return [message for ok, message in checks if not ok]


def parse_consistency_settings(
    text: str, name: str = SETTINGS_FILE
) -> tuple[ConsistencySettings | None, list[Diagnostic]]:
    """Settings of a CSV text (``setting,value,description``; unlisted settings keep their
    defaults), or None and located diagnostics (``name:row:column``; the header is row 1)."""

    def problem(message: str, row: int, column: str | None) -> Diagnostic:
        return Diagnostic("consistency-setting", message, file=name, row=row, column=column)

    lines, problems = read_rows(
        text, name, SETTINGS_COLUMNS[:2], "consistency-setting", "consistency-setting"
    )
    if not lines and problems:
        return None, problems
    values: dict[str, float] = {}
    seen: dict[str, int] = {}
    for line, cells in lines:
        row = {h: c.strip() for h, c in cells.items()}
        key = row["setting"]
        if key not in _SETTING_NAMES:
            problems.append(
                problem(
                    f"unknown setting {key!r} (known: {', '.join(_SETTING_NAMES)})", line, "setting"
                )
            )
            continue
        if key in seen:
            problems.append(problem(f"setting {key!r} already on row {seen[key]}", line, "setting"))
            continue
        seen[key] = line
        try:
            number = float(row["value"])
        except ValueError:
            number = math.nan
        if not math.isfinite(number):
            problems.append(
                problem(f"{key} {row['value']!r} is not a finite number", line, "value")
            )
            continue
        values[key] = number
    if not problems:
        full = {
            f.name: float(getattr(ConsistencySettings(), f.name))
            for f in fields(ConsistencySettings)
        }
        full.update(values)
        problems += [problem(m, 1, None) for m in _settings_problems(full)]
    if problems:
        return None, problems
    return ConsistencySettings(**values), []


def load_consistency_settings(path: str | Path | None = None) -> ConsistencySettings:
    """The packaged settings (``checks/data/consistency.csv``) or a file's; ValueError listing
    every located problem otherwise."""
    if path is None:
        resource = resources.files("esgledger.checks").joinpath("data", SETTINGS_FILE)
        text, name = resource.read_text(encoding="utf-8"), SETTINGS_FILE
    else:
        text, name = Path(path).read_text(encoding="utf-8"), Path(path).name
    settings, problems = parse_consistency_settings(text, name)
    if settings is None:
        raise ValueError("\n".join(str(p) for p in problems))
    return settings


@lru_cache(maxsize=4)
def _default_settings() -> ConsistencySettings:
    return load_consistency_settings()


# ------------------------------------------------------------------------------------ findings


@dataclass(frozen=True, slots=True)
class Finding:
    """One inconsistency: which rule, on which figure, the arithmetic, and every figure used."""

    rule: str
    severity: Severity
    metric_id: str
    entity_id: str
    year: int
    message: str
    figures: tuple[tuple[str, float], ...]
    difference: float
    tolerance: float

    def __str__(self) -> str:
        where = "group" if self.entity_id == "*" else self.entity_id
        return f"{self.severity.value}: {self.year} {where}: {self.message} [{self.rule}]"

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "severity": self.severity.value,
            "metric_id": self.metric_id,
            "entity_id": self.entity_id,
            "year": self.year,
            "message": self.message,
            "figures": [list(f) for f in self.figures],
            "difference": self.difference,
            "tolerance": self.tolerance,
        }


def _num(x: float) -> str:
    """A figure in a message: thousands separators, up to 4 decimals (4 significant below 1)."""
    if not math.isfinite(x):
        return f"{x}"
    if float(x).is_integer():
        return f"{x:,.0f}"
    digits = 4 if abs(x) >= 1 else 3 - math.floor(math.log10(abs(x)))
    return f"{x:,.{digits}f}".rstrip("0").rstrip(".")


def _signed(x: float) -> str:
    return ("+" if x > 0 else "") + _num(x)


# ------------------------------------------------------------------------------------- figures


def _numbers(column: pd.Series, name: str) -> pd.Series:
    values = pd.to_numeric(column, errors="coerce").astype("float64")
    text = column.astype("string").str.strip()
    bad = values.isna() & column.notna() & text.ne("").fillna(False)
    if bad.any():
        raise ValueError(f"{name} is not a number: {column[bad].unique()[:5].tolist()}")
    return values


def prepare_figures(figures: pd.DataFrame, catalogue: Catalogue) -> pd.DataFrame:
    """metric_id, entity_id, year, value, numerator, denominator, precision, half, lower_bound;
    rows without a value dropped; sorted. ValueError on a missing column, a non-numeric value or
    year, or two values for one metric, entity and year."""
    missing = [c for c in FIGURE_COLUMNS if c not in figures.columns]
    if missing:
        raise ValueError(f"figures lack column(s) {', '.join(missing)}")
    index = figures.index
    year = _numbers(figures["year"], "year")
    if (year.isna() | (year % 1 != 0)).any():
        raise ValueError(f"year is not a whole number: {figures['year'][year.isna()].tolist()[:5]}")
    nan = pd.Series(np.nan, index=index, dtype="float64")
    frame = pd.DataFrame(
        {
            "metric_id": figures["metric_id"].astype(str).str.strip(),
            "entity_id": figures["entity_id"].astype(str).str.strip(),
            "year": year.astype("int64"),
            "value": _numbers(figures["value"], "value"),
            "numerator": (
                _numbers(figures["numerator"], "numerator") if "numerator" in figures else nan
            ),
            "denominator": (
                _numbers(figures["denominator"], "denominator") if "denominator" in figures else nan
            ),
        }
    )
    precision = frame["metric_id"].map({m.metric_id: float(m.precision) for m in catalogue})
    lower_bound = pd.Series(False, index=index)
    if "published" in figures:
        text = figures["published"].astype("string").str.strip()
        lower_bound = text.str.endswith("+").fillna(False).astype(bool)
        core = text.str.replace(r"[,\s+%]", "", regex=True)
        valid = core.str.fullmatch(_PUBLISHED).fillna(False).astype(bool)
        decimals = core.str.extract(r"\.(\d*)$", expand=False).str.len().fillna(0)
        precision = decimals.astype("float64").where(valid, precision)
    frame["precision"] = precision.astype("float64")
    frame["half"] = 0.5 * 10.0 ** (-frame["precision"])
    frame["lower_bound"] = lower_bound.to_numpy()
    frame = frame[np.isfinite(frame["value"])]
    twice = frame.duplicated(["metric_id", "entity_id", "year"])
    if twice.any():
        first = frame[twice].iloc[0]
        raise ValueError(
            f"more than one value for {first['metric_id']} {first['entity_id']} {first['year']}"
        )
    ordered: pd.DataFrame = frame.sort_values(["metric_id", "entity_id", "year"], ignore_index=True)
    return ordered


# --------------------------------------------------------------------------------- catalogue


@lru_cache(maxsize=1024)
def _conversion(units: tuple[tuple[float, str, int], ...], target: str) -> float | None:
    """Magnitude in ``target`` of the product of (number x unit) ** power factors; None when
    a unit is unknown or the dimensions do not match."""
    try:
        quantity = registry.Quantity(1.0, registry.dimensionless)
        for number, unit, power in units:
            factor = registry.Quantity(number, parse_unit(unit) if unit else registry.dimensionless)
            quantity = quantity * factor if power > 0 else quantity / factor
        return float(quantity.to(parse_unit(target)).magnitude)
    except (UnitError, ValueError, TypeError, AttributeError, ArithmeticError):
        return None
    except Exception as exc:  # pint's DimensionalityError and parse errors
        if type(exc).__module__.startswith("pint"):
            return None
        raise


def _ratio_factor(metric: Metric, catalogue: Catalogue) -> float | None:
    if not (metric.is_ratio and metric.numerator and metric.denominator):
        return None
    if metric.numerator not in catalogue or metric.denominator not in catalogue:
        return None
    n, d = catalogue.get(metric.numerator), catalogue.get(metric.denominator)
    return _conversion(((1.0, n.unit, 1), (1.0, d.unit, -1)), metric.unit)


def linear_formula(
    metric: Metric, catalogue: Catalogue
) -> tuple[tuple[tuple[str, float], ...], bool] | None:
    """(id, coefficient) terms of a linear formula and whether it writes coefficients; None
    when the formula is not one (grammar in the module doc)."""
    text = metric.formula.strip()
    if ":" in text:
        text = text.rsplit(":", 1)[1]
    note = _NOTE.search(text)
    if note and not _ID_TOKEN.search(note.group(1)):
        text = text[: note.start()]
    terms: dict[str, float] = {}
    written = False
    for raw in text.split("+"):
        head, *rest = (part.strip() for part in _TIMES.split(raw.strip()))
        if head not in catalogue or head == metric.metric_id:
            return None
        factors: list[tuple[float, str, int]] = [(1.0, catalogue.get(head).unit, 1)]
        for part in rest:
            match = _COEFFICIENT.match(part)
            if match is None:
                return None
            factors.append((float(match.group(1)), match.group(2).strip(), 1))
            written = True
        coefficient = _conversion(tuple(factors), metric.unit)
        if coefficient is None:
            return None
        terms[head] = terms.get(head, 0.0) + coefficient
    return (tuple(terms.items()), written) if terms else None


def _descends(metric: Metric, ancestor: str, catalogue: Catalogue) -> bool:
    seen = set()
    current = metric
    while current.parent and current.parent in catalogue and current.parent not in seen:
        if current.parent == ancestor:
            return True
        seen.add(current.parent)
        current = catalogue.get(current.parent)
    return False


def _share_reason(metric: Metric, catalogue: Catalogue) -> str | None:
    """Why a percentage cannot exceed 100 (its numerator is part of its denominator), or None."""
    if not (metric.is_ratio and metric.numerator and metric.denominator):
        return None
    if metric.numerator not in catalogue or metric.denominator not in catalogue:
        return None
    n, d = catalogue.get(metric.numerator), catalogue.get(metric.denominator)
    if _descends(n, d.metric_id, catalogue):
        return f"{n.metric_id} is a breakdown member of {d.metric_id}"
    if parse_unit(n.unit) == parse_unit(d.unit) and n.period_rule is d.period_rule:
        return (
            f"{n.metric_id} and {d.metric_id} are both {n.period_rule.value}s in {d.unit}: "
            "a part of the whole"
        )
    return None


_COUNT_UNITS = ("persons", "count")


def _bounds_table(catalogue: Catalogue, settings: ConsistencySettings) -> pd.DataFrame:
    counts = {parse_unit(u) for u in _COUNT_UNITS}
    rows = []
    for m in catalogue:
        if m.is_percentage:
            reason = _share_reason(m, catalogue)
            upper = settings.percent_upper if reason else math.nan
            rows.append((m.metric_id, settings.percent_lower, upper, "a percentage", reason or ""))
        elif parse_unit(m.unit) in counts:
            rows.append((m.metric_id, 0.0, math.nan, f"a count ({m.unit})", ""))
    return pd.DataFrame(rows, columns=["metric_id", "lower", "upper", "what", "share"])


# -------------------------------------------------------------------------------------- rules


def _finding(
    rule: str,
    severity: Severity,
    metric_id: str,
    key: tuple[Any, Any],
    message: str,
    figures: Sequence[tuple[str, float]],
    difference: float,
    tolerance: float,
) -> Finding:
    return Finding(
        rule=rule,
        severity=severity,
        metric_id=metric_id,
        entity_id=str(key[0]),
        year=int(key[1]),
        message=message,
        figures=tuple((str(m), float(v)) for m, v in figures),
        difference=float(difference),
        tolerance=float(tolerance),
    )


_FIGURE = ["metric_id", *_KEY, "value", "half"]


@dataclass(frozen=True, slots=True)
class _Gap:
    check: int
    key: tuple[Any, Any]
    value: float
    total: float
    terms: tuple[float, ...]
    tolerance: float


def _parts(
    exact: pd.DataFrame, definitions: Sequence[tuple[str, Sequence[tuple[str, float]]]]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The terms of every definition (check, target, term, coef, position) and, joined to the
    figures, the complete ones only (every term present for the entity and year)."""
    table = pd.DataFrame(
        [
            (check, target, term, coef, position)
            for check, (target, terms) in enumerate(definitions)
            for position, (term, coef) in enumerate(terms)
        ],
        columns=["check", "target", "term", "coef", "position"],
    )
    parts = table.merge(exact[_FIGURE].rename(columns={"metric_id": "term"}), on="term")
    count = parts.groupby(["check", *_KEY])["term"].transform("size")
    complete = count.to_numpy() == parts["check"].map(table.groupby("check").size()).to_numpy()
    return table, parts[complete]


def _with_target(frame: pd.DataFrame, exact: pd.DataFrame) -> pd.DataFrame:
    """``frame`` (check, target, entity_id, year, ...) joined to the target's value and half."""
    target = exact[_FIGURE].rename(
        columns={"metric_id": "target", "value": "_value", "half": "_half"}
    )
    return frame.merge(target, on=["target", *_KEY])


def _term_values(bad: pd.DataFrame, parts: pd.DataFrame) -> pd.Series:
    """(check, entity_id, year) -> the values of its terms, in definition order."""
    keys = ["check", *_KEY]
    terms = bad[keys].merge(parts[[*keys, "position", "value"]], on=keys)
    return terms.sort_values([*keys, "position"]).groupby(keys)["value"].agg(tuple)


def _linear_gaps(
    exact: pd.DataFrame,
    definitions: Sequence[tuple[str, Sequence[tuple[str, float]]]],
    epsilon: float,
) -> list[_Gap]:
    """Where a target differs from ``sum(c_i x_i)`` of its definition beyond the rounding;
    all definitions at once: one merge of their terms with the figures and one group-by."""
    if not definitions:
        return []
    _, parts = _parts(exact, definitions)
    parts = parts.assign(cx=parts["coef"] * parts["value"], ch=parts["coef"].abs() * parts["half"])
    sums = parts.groupby(["check", "target", *_KEY], as_index=False).agg(
        total=("cx", "sum"), rounding=("ch", "sum")
    )
    sums = _with_target(sums, exact)
    total, value = sums["total"].to_numpy(), sums["_value"].to_numpy()
    tolerance = (
        sums["rounding"].to_numpy()
        + sums["_half"].to_numpy()
        + epsilon * (np.abs(total) + np.abs(value))
    )
    flagged = np.abs(value - total) > tolerance
    bad = sums[flagged].assign(tolerance=tolerance[flagged])
    if bad.empty:
        return []
    terms = _term_values(bad, parts)
    rows = bad[["check", *_KEY, "_value", "total", "tolerance"]].itertuples(index=False)
    return [
        _Gap(int(c), (e, y), float(v), float(t), terms[(c, e, y)], float(tol))
        for c, e, y, v, t, tol in rows
    ]


def _breakdown_rule(
    exact: pd.DataFrame, catalogue: Catalogue, settings: ConsistencySettings
) -> list[Finding]:
    summing = [b for b in catalogue.breakdowns() if b.sums_to_parent]
    definitions = [(b.parent, [(m, 1.0) for m in b.members]) for b in summing]
    out = []
    for gap in _linear_gaps(exact, definitions, settings.relative_epsilon):
        b = summing[gap.check]
        parts = " + ".join(f"{m} {_num(v)}" for m, v in zip(b.members, gap.terms, strict=True))
        message = (
            f"{b.parent} by {b.dimension}: {parts} = {_num(gap.total)}, not "
            f"{_num(gap.value)} (difference {_signed(gap.value - gap.total)}, tolerance "
            f"{_num(gap.tolerance)}: half a unit of the last published decimal of each of "
            f"the {len(b.members) + 1} figures)"
        )
        figures = [(b.parent, gap.value), *zip(b.members, gap.terms, strict=True)]
        out.append(
            _finding(
                "breakdown",
                Severity.ERROR,
                b.parent,
                gap.key,
                message,
                figures,
                gap.value - gap.total,
                gap.tolerance,
            )
        )
    return out


def _formula_rule(
    exact: pd.DataFrame, catalogue: Catalogue, settings: ConsistencySettings
) -> list[Finding]:
    summing = {(b.parent, frozenset(b.members)) for b in catalogue.breakdowns() if b.sums_to_parent}
    formulas: list[tuple[str, tuple[tuple[str, float], ...], bool]] = []
    for metric in catalogue.by_kind("computed"):
        parsed = linear_formula(metric, catalogue)
        if parsed is None:
            continue
        terms, written = parsed
        plain = not written and all(c == 1.0 for _, c in terms)
        if plain and (metric.metric_id, frozenset(t for t, _ in terms)) in summing:
            continue  # the breakdown rule checks it
        formulas.append((metric.metric_id, terms, written))
    definitions = [(metric_id, terms) for metric_id, terms, _ in formulas]
    out = []
    for gap in _linear_gaps(exact, definitions, settings.relative_epsilon):
        metric_id, terms, written = formulas[gap.check]
        parts = " + ".join(
            f"{t} {_num(v)}" + ("" if c == 1.0 else f" x {c:.6g}")
            for (t, c), v in zip(terms, gap.terms, strict=True)
        )
        note = (
            " with the coefficients written in the catalogue formula (a ledger may "
            "configure others)"
            if written
            else ""
        )
        message = (
            f"{metric_id} = {parts} = {_num(gap.total)}, not {_num(gap.value)}{note} "
            f"(difference {_signed(gap.value - gap.total)}, tolerance {_num(gap.tolerance)}: "
            "half a unit of the total's last decimal plus each term's, times its coefficient)"
        )
        figures = [(metric_id, gap.value), *zip((t for t, _ in terms), gap.terms, strict=True)]
        out.append(
            _finding(
                "formula",
                Severity.WARNING if written else Severity.ERROR,
                metric_id,
                gap.key,
                message,
                figures,
                gap.value - gap.total,
                gap.tolerance,
            )
        )
    return out


def _ratio_rule(
    exact: pd.DataFrame, catalogue: Catalogue, settings: ConsistencySettings
) -> list[Finding]:
    rows = []
    for m in catalogue:
        factor = _ratio_factor(m, catalogue)
        if factor is not None and m.numerator and m.denominator:
            rows.append((m.metric_id, m.numerator, m.denominator, factor))
    table = pd.DataFrame(rows, columns=["metric_id", "num_id", "den_id", "factor"])
    half = {m.metric_id: 0.5 * 10.0**-m.precision for m in catalogue}
    frame = exact.merge(table, on="metric_id")
    if frame.empty:
        return []
    for part, column in (("num", "numerator"), ("den", "denominator")):
        known = exact[[*_KEY, "metric_id", "value", "half"]].rename(
            columns={"metric_id": f"{part}_id", "value": part, "half": f"{part}_half"}
        )
        frame = frame.merge(known, on=[*_KEY, f"{part}_id"], how="left")
        use_row = frame[part].isna() & frame[column].notna()
        frame[f"{part}_carried"] = use_row
        frame[part] = frame[part].where(~use_row, frame[column])
        frame[f"{part}_half"] = frame[f"{part}_half"].where(~use_row, frame[f"{part}_id"].map(half))
    frame = frame[frame["num"].notna() & frame["den"].notna() & frame["den"].ne(0)]
    k, n, d, r = (frame[c].to_numpy(dtype="float64") for c in ("factor", "num", "den", "value"))
    expected = k * n / d
    propagated = (
        k / np.abs(d) * frame["num_half"].to_numpy()
        + k * np.abs(n) / d**2 * frame["den_half"].to_numpy()
    )
    own = frame["half"].to_numpy(dtype="float64")
    tolerance = own + propagated + settings.relative_epsilon * (np.abs(r) + np.abs(expected))
    bad = np.flatnonzero(np.abs(r - expected) > tolerance)
    out = []
    columns = ("metric_id", "num_id", "den_id", "entity_id", "year", "num_carried", "den_carried")
    picked = frame[list(columns)].to_numpy()
    for i in bad.tolist():
        metric_id, num_id, den_id, entity, year, num_carried, den_carried = picked[i]
        times = "" if k[i] == 1 else f" x {_num(k[i])}"
        carried = [
            name
            for name, flag in (("numerator", num_carried), ("denominator", den_carried))
            if flag
        ]
        source = f" ({' and '.join(carried)} carried by the ratio row)" if carried else ""
        message = (
            f"{metric_id} {_num(r[i])} != {num_id} {_num(n[i])} / {den_id} {_num(d[i])}{times} = "
            f"{_num(expected[i])}{source} (difference {_signed(r[i] - expected[i])}, tolerance "
            f"{_num(tolerance[i])} = {_num(own[i])} for the ratio's rounding + "
            f"{_num(propagated[i])} from the rounding of its parts)"
        )
        figures = [(metric_id, r[i]), (num_id, n[i]), (den_id, d[i])]
        out.append(
            _finding(
                "ratio",
                Severity.ERROR,
                metric_id,
                (entity, year),
                message,
                figures,
                r[i] - expected[i],
                tolerance[i],
            )
        )
    return out


def _weighted(
    b: Breakdown, catalogue: Catalogue, summing: Mapping[tuple[str, str], Breakdown]
) -> bool:
    """True when the parent ratio is a weighted mean of the member ratios (module doc)."""
    if b.sums_to_parent or b.parent not in catalogue:
        return False
    parent = catalogue.get(b.parent)
    if not (parent.is_ratio and parent.numerator and parent.denominator):
        return False
    nums = summing.get((parent.numerator, b.dimension))
    dens = summing.get((parent.denominator, b.dimension))
    members = [catalogue.get(m) for m in b.members if m in catalogue]
    if nums is None or dens is None or len(members) != len(b.members):
        return False
    factor = _ratio_factor(parent, catalogue)
    return (
        all(m.is_ratio and _ratio_factor(m, catalogue) == factor for m in members)
        and sorted(str(m.numerator) for m in members) == sorted(nums.members)
        and sorted(str(m.denominator) for m in members) == sorted(dens.members)
    )


def _rate_breakdown_rule(
    exact: pd.DataFrame, catalogue: Catalogue, settings: ConsistencySettings
) -> list[Finding]:
    summing = {(b.parent, b.dimension): b for b in catalogue.breakdowns() if b.sums_to_parent}
    weighted = [b for b in catalogue.breakdowns() if _weighted(b, catalogue, summing)]
    if not weighted:
        return []
    definitions = [(b.parent, [(m, 1.0) for m in b.members]) for b in weighted]
    _, parts = _parts(exact, definitions)
    keys = ["check", "target", *_KEY]
    ordered = parts.sort_values([*keys, "value", "position"])
    low = ordered.groupby(keys, as_index=False)[["term", "value", "half"]].first()
    high = ordered.groupby(keys, as_index=False)[["term", "value", "half"]].last()
    frame = _with_target(low.merge(high, on=keys, suffixes=("_low", "_high")), exact)
    value, own = frame["_value"].to_numpy(), frame["_half"].to_numpy()
    eps = settings.relative_epsilon
    bounds = {}
    for side in ("low", "high"):
        x = frame[f"value_{side}"].to_numpy()
        tolerance = own + frame[f"half_{side}"].to_numpy() + eps * (np.abs(value) + np.abs(x))
        bounds[side] = (x, tolerance)
    below = value < bounds["low"][0] - bounds["low"][1]
    above = value > bounds["high"][0] + bounds["high"][1]
    flagged = below | above
    bad = frame[flagged]
    if bad.empty:
        return []
    members = _term_values(bad, parts)
    out = []
    rows = bad[["check", *_KEY, "term_low", "term_high"]].itertuples(index=False)
    for i, (check, entity, year, term_low, term_high) in zip(
        np.flatnonzero(flagged).tolist(), rows, strict=True
    ):
        b = weighted[int(check)]
        parent = catalogue.get(b.parent)
        side, term = ("low", term_low) if below[i] else ("high", term_high)
        bound, tolerance = bounds[side][0][i], bounds[side][1][i]
        values = members[(check, entity, year)]
        word = "below the lowest" if below[i] else "above the highest"
        message = (
            f"{b.parent} {_num(value[i])} is {word} of its {b.dimension} members, "
            f"{term} {_num(bound)} (members from {_num(min(values))} to "
            f"{_num(max(values))}): {parent.numerator} and {parent.denominator} both add up "
            f"by {b.dimension}, so it is the mean of its members weighted by "
            f"{parent.denominator} and lies between them (difference "
            f"{_signed(value[i] - bound)}, tolerance {_num(tolerance)}: half a unit of the "
            "last published decimal of both figures)"
        )
        figures = [(b.parent, value[i]), *zip(b.members, values, strict=True)]
        out.append(
            _finding(
                "rate_breakdown",
                Severity.ERROR,
                b.parent,
                (entity, year),
                message,
                figures,
                value[i] - bound,
                tolerance,
            )
        )
    return out


def _bounds_rule(
    figures: pd.DataFrame, catalogue: Catalogue, settings: ConsistencySettings
) -> list[Finding]:
    frame = figures.merge(_bounds_table(catalogue, settings), on="metric_id")
    value = frame["value"].to_numpy(dtype="float64")
    eps = settings.relative_epsilon
    lower, upper = frame["lower"].to_numpy(), frame["upper"].to_numpy()
    below = (value < lower - eps * np.abs(lower)) & ~frame["lower_bound"].to_numpy(dtype=bool)
    above = value > upper + eps * np.abs(upper)  # NaN upper: never
    out = []
    picked = frame[["metric_id", "entity_id", "year", "what", "share"]].to_numpy()
    for i in np.flatnonzero(below | above).tolist():
        metric_id, entity, year, what, share = picked[i]
        bound = lower[i] if below[i] else upper[i]
        if below[i]:
            message = f"{metric_id} {_num(value[i])} is below {_num(bound)}: {what} is never lower"
        else:
            message = (
                f"{metric_id} {_num(value[i])} is above {_num(bound)}: a share cannot exceed "
                f"the whole ({share})"
            )
        out.append(
            _finding(
                "bounds",
                Severity.ERROR,
                metric_id,
                (entity, year),
                message,
                [(metric_id, value[i])],
                value[i] - bound,
                eps * abs(bound),
            )
        )
    return out


def _yoy_rule(figures: pd.DataFrame, settings: ConsistencySettings) -> list[Finding]:
    cols = ["metric_id", "entity_id", "year", "value"]
    previous = figures[cols].assign(year=figures["year"] + 1).rename(columns={"value": "previous"})
    frame = figures[cols].merge(previous, on=["metric_id", "entity_id", "year"])
    value, before = frame["value"].to_numpy(), frame["previous"].to_numpy()
    f = settings.yoy_factor
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.abs(value) / np.abs(before)
    sign_change = value * before < 0
    zero = (value == 0) & (before == 0)
    flagged = ~zero & ((before == 0) | (ratio > f) | (ratio < 1 / f) | sign_change)
    out = []
    picked = frame[["metric_id", "entity_id", "year"]].to_numpy()
    for i in np.flatnonzero(flagged).tolist():
        metric_id, entity, year = picked[i]
        rise = abs(value[i]) > abs(before[i])
        allowed = abs(before[i]) * ((f - 1) if rise else (1 - 1 / f))
        if before[i] == 0:
            how = "rises from 0"
        elif sign_change[i]:
            how = "changes sign"
        else:
            how = f"is {ratio[i]:.2f}x"
        message = (
            f"{metric_id} {_num(value[i])} in {year} {how} its {year - 1} value "
            f"{_num(before[i])} (review limit x{_num(f)} up or /{_num(f)} down; change "
            f"{_signed(value[i] - before[i])}): flagged for review"
        )
        involved = [(metric_id, before[i]), (metric_id, value[i])]
        out.append(
            _finding(
                "yoy",
                Severity.WARNING,
                metric_id,
                (entity, year),
                message,
                involved,
                value[i] - before[i],
                allowed,
            )
        )
    return out


def run_checks(
    figures: pd.DataFrame,
    catalogue: Catalogue | None = None,
    settings: ConsistencySettings | None = None,
) -> list[Finding]:
    """Every finding of the rules (module doc) on a long figures table, in a deterministic order:
    year, entity, rule (as in :data:`CONSISTENCY_RULES`), metric, message.

    ``catalogue`` defaults to the packaged one, ``settings`` to ``checks/data/consistency.csv``.
    Figures of metrics the catalogue does not know take part in the year-on-year rule only.
    Raises ValueError on malformed figures (see :func:`prepare_figures`).
    """
    catalogue = load_catalogue() if catalogue is None else catalogue
    settings = _default_settings() if settings is None else settings
    frame = prepare_figures(figures, catalogue)
    exact = frame[~frame["lower_bound"]]
    out = [
        *_breakdown_rule(exact, catalogue, settings),
        *_ratio_rule(exact, catalogue, settings),
        *_rate_breakdown_rule(exact, catalogue, settings),
        *_formula_rule(exact, catalogue, settings),
        *_bounds_rule(frame, catalogue, settings),
        *_yoy_rule(frame, settings),
    ]
    order = {rule: i for i, rule in enumerate(CONSISTENCY_RULES)}
    out.sort(key=lambda f: (f.year, f.entity_id, order[f.rule], f.metric_id, f.message))
    return out
