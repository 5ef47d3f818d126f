"""Targets per metric and their status per period, with the arithmetic shown.

Targets are the company's own data, kept in its ledger (``esgledger targets import``; the demo
group's are ``demo/data/targets.csv``), one row per target, header
``target_id,metric_id,entity_id,kind,direction,value,unit,baseline_year,baseline_value,
start_year,deadline_year,name_en,name_zh,source,note`` and an optional ``milestone``.
:func:`parse_targets` (a CSV text) and :func:`parse_target_rows` (rows read back from a
ledger) validate them: all targets, or none and the located diagnostics (``file:row:column``,
the header is row 1). No target ships with the product.

``metric_id`` is a catalogue id, a sum of catalogue ids of one unit (``ghg.scope1+ghg.scope2``:
a total the catalogue does not hold), or blank: a target with no catalogue metric is kept,
reported ``not measurable`` (an info diagnostic says so at load).
``entity_id`` ``*`` is the group. ``milestone`` (``peak``, ``neutrality`` or ``net_zero``, at
most one target each) marks the target whose deadline is that climate milestone of the
group's pathway (:func:`esgledger.strategy.pathways.milestones`).

Kinds and directions:

``absolute``
    the figure itself against ``value`` with ``>=``, ``<=``, ``=``, ``>``, ``<``, or against
    the previous year's figure with ``< previous year`` (``value`` blank).
``reduction``
    a cut from a baseline (``baseline_year``; ``baseline_value`` or the figure of that year):
    ``value`` in % of the baseline (unit ``%``) or in the metric's unit. The target level is
    ``base x (1 - value / 100)`` or ``base - value``; ``direction`` applies to the cut
    (``>=`` 30 %: at least 30 %), so the figure must be ``<=`` the level.
``count_max``
    a maximum count per period (``= 0``, ``<= 2``, ``< 3`` or ``< previous year``): ``=`` and
    ``<=`` both mean "no more than".
``qualitative``
    not a threshold (direction, value and unit blank); the status shows the figure for context.

Status of a target for a year ``Y`` (:func:`target_status`; targets starting after ``Y`` are
not listed). The figure compared is the one of ``E = min(Y, deadline_year)``: after the
deadline the outcome at the deadline is final.

- ``qualitative``: the kind is qualitative;
- ``not measurable``: no catalogue metric (``not measurable: no metric in the catalogue``);
- ``no data``: no figure for ``E`` (or for ``E - 1`` with ``< previous year``, or no baseline
  figure for a reduction);
- ``achieved``: the figure of ``E`` meets the target;
- ``off track``: it does not, and ``E`` is the deadline, or the target is a per-period
  maximum or a ``< previous year`` comparison (a missed year is missed);
- before the deadline, a linear path runs from the start point ``(y0, v0)`` (the baseline, or
  else the first figure from ``start_year - 1`` to ``E - 1``) to the target level ``L`` at the
  deadline ``D``: ``path(E) = v0 + (L - v0) x (E - y0) / (D - y0)``. ``on track`` when the
  figure meets or beats the path (``>=`` it for an upper target, ``<=`` for a lower one, in
  the direction of ``L - v0`` for ``=``), ``off track`` otherwise, ``no data`` when there is
  no start point.

Comparisons are made on values rounded half up to the metric's published precision (the
catalogue's ``precision``, the largest of the parts of a sum): the figure, the target level
and the path value; every reason says so. Each :class:`TargetStatus` carries the figures used
(:class:`Figure`: metric id, entity, year, value).
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any, NamedTuple

import pandas as pd
import pint

from esgledger.domain.datafile import read_rows
from esgledger.domain.diagnostics import Diagnostic, Severity
from esgledger.metrics import Aggregation, Catalogue, load_catalogue
from esgledger.units import UnitError, parse_unit, registry

__all__ = [
    "ALL_COLUMNS",
    "DIRECTIONS",
    "GROUP",
    "MILESTONES",
    "PREVIOUS_YEAR",
    "TARGET_COLUMNS",
    "Figure",
    "Status",
    "Target",
    "TargetKind",
    "TargetStatus",
    "load_targets",
    "parse_target_rows",
    "parse_targets",
    "read_target_rows",
    "target_status",
]

GROUP = "*"
MILESTONES = ("peak", "neutrality", "net_zero")
"""The climate milestones a target can mark (the optional ``milestone`` column)."""
PREVIOUS_YEAR = "< previous year"
DIRECTIONS = (">=", "<=", "=", ">", "<", PREVIOUS_YEAR)
TARGET_COLUMNS = (
    "target_id",
    "metric_id",
    "entity_id",
    "kind",
    "direction",
    "value",
    "unit",
    "baseline_year",
    "baseline_value",
    "start_year",
    "deadline_year",
    "name_en",
    "name_zh",
    "source",
    "note",
)
"""The required columns, in the order an export writes them (``milestone`` follows)."""
NO_TARGETS = (
    "no targets entered in this ledger: write the company's targets in a targets file "
    "(columns target_id, metric_id, entity_id, kind, direction, value, unit, baseline_year, "
    "baseline_value, start_year, deadline_year, name_en, name_zh, source, note, and an "
    "optional milestone) and enter them with `esgledger targets import FILE`"
)
"""What a ledger without targets answers where its targets are asked for."""
ALL_COLUMNS = (*TARGET_COLUMNS, "milestone")
"""Every column of a targets file, in the order an export writes them."""
_REQUIRED = ("target_id", "entity_id", "kind", "start_year", "deadline_year", "source")
_YEARS = (1900, 2200)
_PERCENT = parse_unit("%")
_COMPARE: Mapping[str, Callable[[Decimal, Decimal], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    "=": operator.eq,
    ">": operator.gt,
    "<": operator.lt,
}
_NEGATION = {">=": "<", "<=": ">", "=": "!=", ">": "<=", "<": ">="}
_REDUCTION_LEVEL = {">=": "<=", ">": "<", "=": "=", "<=": ">=", "<": ">"}
"""A direction on the cut -> the direction of the figure against the target level."""


class TargetKind(StrEnum):
    ABSOLUTE = "absolute"
    REDUCTION = "reduction"
    COUNT_MAX = "count_max"
    QUALITATIVE = "qualitative"


class Status(StrEnum):
    ACHIEVED = "achieved"
    ON_TRACK = "on track"
    OFF_TRACK = "off track"
    NO_DATA = "no data"
    NOT_MEASURABLE = "not measurable"
    QUALITATIVE = "qualitative"


class Figure(NamedTuple):
    """One value of the long figure table: metric, entity (``*`` the group), year, value."""

    metric_id: str
    entity_id: str
    year: int
    value: float


@dataclass(frozen=True, slots=True)
class Target:
    """A target on one metric (or a sum of metrics) of one entity; ``value`` is in ``unit``."""

    target_id: str
    metric_id: str
    """A catalogue id, ids joined by ``+`` (summed), or ``''`` (no catalogue metric)."""
    entity_id: str
    kind: TargetKind
    direction: str
    """One of :data:`DIRECTIONS`, ``''`` for a qualitative target."""
    value: float | None
    unit: str
    baseline_year: int | None
    baseline_value: float | None
    start_year: int
    deadline_year: int
    source: str
    name_en: str = ""
    name_zh: str = ""
    note: str = ""
    milestone: str = ""
    """One of :data:`MILESTONES`, or ``''``."""
    file: str = field(default="", compare=False)
    row: int = field(default=0, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", TargetKind(self.kind))

    @property
    def metric_ids(self) -> tuple[str, ...]:
        return tuple(p.strip() for p in self.metric_id.split("+") if p.strip())

    def name(self, lang: str = "en") -> str:
        return (self.name_zh if lang == "zh" and self.name_zh else self.name_en) or self.target_id


@dataclass(frozen=True, slots=True)
class TargetStatus:
    """The status of one target for one period, the arithmetic and the figures used."""

    target: Target
    year: int
    """The period asked for."""
    evaluated_year: int
    """The year whose figure was compared: ``min(year, deadline_year)``."""
    status: Status
    reason: str
    actual: float | None = None
    required: float | None = None
    """The target level compared with (rounded), or the previous year's figure."""
    path_value: float | None = None
    figures: tuple[Figure, ...] = ()
    precision: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "target_id": self.target.target_id,
            "metric_id": self.target.metric_id,
            "entity_id": self.target.entity_id,
            "year": self.year,
            "evaluated_year": self.evaluated_year,
            "status": self.status.value,
            "reason": self.reason,
            "actual": self.actual,
            "required": self.required,
            "path_value": self.path_value,
            "figures": [list(f) for f in self.figures],
            "precision": self.precision,
            "source": self.target.source,
        }


# ------------------------------------------------------------------------------------ loading


class _Row:
    """Parses one CSV row into a :class:`Target`, collecting located diagnostics."""

    def __init__(self, raw: Mapping[str, str], file: str, row: int, catalogue: Catalogue) -> None:
        self.raw = raw
        self.file = file
        self.row = row
        self.catalogue = catalogue
        self.problems: list[Diagnostic] = []

    def error(
        self, code: str, column: str | None, message: str, severity: Severity = Severity.ERROR
    ) -> None:
        self.problems.append(
            Diagnostic(f"target.{code}", message, severity, self.file, self.row, column)
        )

    def text(self, column: str) -> str:
        return (self.raw.get(column) or "").strip()

    def number(self, column: str) -> float | None:
        value = self.text(column).replace(",", "")
        if not value:
            return None
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if not math.isfinite(number):
            self.error("bad_number", column, f"{column} {self.text(column)!r} is not a number")
            return None
        return number

    def year(self, column: str) -> int | None:
        value = self.text(column)
        if not value:
            return None
        if not value.isdigit() or not _YEARS[0] <= int(value) <= _YEARS[1]:
            self.error("bad_year", column, f"{column} {value!r} is not a year")
            return None
        return int(value)

    def parse(self) -> Target | None:
        for column in _REQUIRED:
            if not self.text(column):
                self.error("missing_value", column, f"{column} is blank")
        kind_text = self.text("kind")
        kind = TargetKind(kind_text) if kind_text in set(TargetKind) else None
        if kind is None and kind_text:
            self.error(
                "unknown_kind",
                "kind",
                f"unknown kind {kind_text!r}: expected one of {', '.join(TargetKind)}",
            )
        direction = self.text("direction")
        value = self.number("value")
        years = self.years()
        unit = self.metric_and_unit(kind, value)
        if kind is not None:
            self.kind_rules(kind, direction, value)
        milestone = self.text("milestone")
        if milestone not in ("", *MILESTONES):
            self.error(
                "unknown_milestone",
                "milestone",
                f"unknown milestone {milestone!r}: expected one of {', '.join(MILESTONES)} "
                "or blank",
            )
        start, deadline, baseline_year = years
        failed = any(p.severity is Severity.ERROR for p in self.problems)
        if failed or kind is None or start is None or deadline is None:
            return None
        return Target(
            target_id=self.text("target_id"),
            metric_id="+".join(self.metric_parts()),
            entity_id=self.text("entity_id"),
            kind=kind,
            direction=direction,
            value=value,
            unit=unit,
            baseline_year=baseline_year,
            baseline_value=self.number("baseline_value"),
            start_year=start,
            deadline_year=deadline,
            source=self.text("source"),
            name_en=self.text("name_en"),
            name_zh=self.text("name_zh"),
            note=self.text("note"),
            milestone=milestone,
            file=self.file,
            row=self.row,
        )

    def years(self) -> tuple[int | None, int | None, int | None]:
        start, deadline = self.year("start_year"), self.year("deadline_year")
        baseline = self.year("baseline_year")
        if start is not None and deadline is not None and deadline < start:
            self.error(
                "deadline_before_start",
                "deadline_year",
                f"deadline {deadline} is before the start year {start}",
            )
        if baseline is not None and deadline is not None and baseline >= deadline:
            self.error(
                "bad_year",
                "baseline_year",
                f"baseline year {baseline} is not before the deadline {deadline}",
            )
        if self.text("baseline_value") and not self.text("baseline_year"):
            self.error("missing_value", "baseline_year", "baseline_value without baseline_year")
        return start, deadline, baseline

    def metric_parts(self) -> list[str]:
        return [p.strip() for p in self.text("metric_id").split("+") if p.strip()]

    def metric_and_unit(self, kind: TargetKind | None, value: float | None) -> str:
        """Check the metric ids and the unit against the catalogue; the unit as written."""
        parts = self.metric_parts()
        unknown = [p for p in parts if p not in self.catalogue]
        for part in unknown:
            self.error(
                "unknown_metric", "metric_id", f"unknown metric id {part!r}: not in the catalogue"
            )
        known = [self.catalogue.get(p) for p in parts if p not in unknown]
        if len(parts) > 1:
            units = {m.unit for m in known}
            if len(units) > 1 or any(m.aggregation is not Aggregation.SUM for m in known):
                self.error(
                    "bad_sum",
                    "metric_id",
                    "a sum of metrics needs metrics of one unit aggregated by sum",
                )
        if not parts and kind is not TargetKind.QUALITATIVE:
            self.error(
                "no_metric",
                "metric_id",
                "no metric in the catalogue: the status will be 'not measurable'",
                Severity.INFO,
            )
        unit = self.text("unit")
        if value is not None and not unit and kind is not TargetKind.QUALITATIVE:
            self.error("missing_value", "unit", "a target value needs a unit")
        if unit:
            self.check_unit(unit, kind, known[0].unit if known and not unknown else None)
        if value is not None and known and not unknown and kind is not TargetKind.REDUCTION:
            precision = max(m.precision for m in known)
            if Decimal(str(value)) != _round(value, precision):
                self.error(
                    "precision",
                    "value",
                    f"value {value:g} has more decimals than the published precision "
                    f"({precision}): it is compared rounded",
                    Severity.WARNING,
                )
        return unit

    def check_unit(self, unit: str, kind: TargetKind | None, metric_unit: str | None) -> None:
        try:
            parsed = parse_unit(unit)
        except UnitError as exc:
            self.error("bad_unit", "unit", str(exc))
            return
        if metric_unit is None or (kind is TargetKind.REDUCTION and parsed == _PERCENT):
            return
        wanted = parse_unit(metric_unit)
        if (parsed == _PERCENT) != (wanted == _PERCENT) or not _converts(parsed, wanted):
            self.error(
                "bad_unit",
                "unit",
                f"unit {unit!r} does not convert to the metric's {metric_unit!r}",
            )

    def kind_rules(self, kind: TargetKind, direction: str, value: float | None) -> None:
        if kind is TargetKind.QUALITATIVE:
            for column in ("direction", "value", "unit"):
                if self.text(column):
                    self.error("qualitative", column, f"a qualitative target has no {column}")
            return
        allowed: tuple[str, ...] = DIRECTIONS
        if kind is TargetKind.COUNT_MAX:
            allowed = ("=", "<=", "<", PREVIOUS_YEAR)
        elif kind is TargetKind.REDUCTION:
            allowed = DIRECTIONS[:-1]
        if direction not in allowed:
            self.error(
                "unknown_direction",
                "direction",
                f"direction {direction!r} is not one of {', '.join(allowed)} for {kind.value}",
            )
        if direction == PREVIOUS_YEAR:
            if self.text("value"):
                self.error("bad_number", "value", "'< previous year' takes no value")
        elif value is None and not self.text("value"):
            self.error("missing_value", "value", f"a {kind.value} target needs a numeric value")
        elif value is not None and value < 0:
            self.error("bad_number", "value", f"value {value:g} is negative")
        if kind is TargetKind.REDUCTION:
            self.reduction_rules(value)

    def reduction_rules(self, value: float | None) -> None:
        if not self.text("baseline_year"):
            self.error("missing_value", "baseline_year", "a reduction needs a baseline year")
        if value is not None and self.text("unit") == "%" and not 0 < value <= 100:
            self.error("bad_number", "value", f"a reduction of {value:g} % is not in (0, 100]")


def _converts(a: pint.Unit, b: pint.Unit) -> bool:
    try:
        registry.Quantity(1.0, a).to(b)
    except pint.errors.DimensionalityError:
        return False
    return True


def read_target_rows(
    text: str, name: str = "targets.csv"
) -> tuple[list[tuple[int, dict[str, str]]], list[Diagnostic]]:
    """The ``(row number, cells)`` of a targets CSV text and the problems of its shape: a
    required column missing (then no rows), a column no target has (a misspelt ``milestone``
    would be lost), a row with another number of fields than the header."""
    lines, problems = read_rows(
        text, name, TARGET_COLUMNS, "target.missing_column", "target.fields"
    )
    header = lines[0][1].keys() if lines else ()
    problems += [
        Diagnostic(
            "target.unknown_column",
            f"unknown column {c!r}: expected only {', '.join(ALL_COLUMNS)}",
            file=name,
            row=1,
            column=c,
        )
        for c in header
        if c not in ALL_COLUMNS
    ]
    return lines, problems


def parse_targets(
    text: str, name: str = "targets.csv", catalogue: Catalogue | None = None
) -> tuple[list[Target], list[Diagnostic]]:
    """Targets of a CSV text: all of them, or none when any error; with every diagnostic
    (errors, and info for targets without a catalogue metric) located ``name:row:column``."""
    lines, problems = read_target_rows(text, name)
    if not lines and problems:
        return [], problems
    targets, more = parse_target_rows(lines, name, catalogue)
    problems += more
    failed = any(p.severity is Severity.ERROR for p in problems)
    return ([] if failed else targets), problems


def parse_target_rows(
    lines: Iterable[tuple[int, Mapping[str, str]]],
    name: str,
    catalogue: Catalogue | None = None,
) -> tuple[list[Target], list[Diagnostic]]:
    """Targets of ``(row number, cells)`` pairs (a file's rows, or a ledger's stored ones);
    as :func:`parse_targets`: all of them or none, and every diagnostic."""
    cat = load_catalogue() if catalogue is None else catalogue
    targets: list[Target] = []
    problems: list[Diagnostic] = []
    # a target id, and a milestone, is given once: the row that repeats one is refused
    first: dict[str, dict[str, int]] = {"target_id": {}, "milestone": {}}
    for line, cells in lines:
        parser = _Row(cells, name, line, cat)
        target = parser.parse()
        for column, code in (("target_id", "duplicate_id"), ("milestone", "duplicate_milestone")):
            value, seen = parser.text(column), first[column]
            if value in seen:
                parser.error(code, column, f"{column} {value!r} already on row {seen[value]}")
                target = None
            elif value:
                seen[value] = line
        problems += parser.problems
        if target is not None:
            targets.append(target)
    failed = any(p.severity is Severity.ERROR for p in problems)
    return ([] if failed else targets), problems


def load_targets(
    path: str | Path, catalogue: Catalogue | None = None
) -> tuple[list[Target], list[Diagnostic]]:
    """The targets of a CSV file (UTF-8); see :func:`parse_targets`."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return [], [Diagnostic("target.file", f"cannot read: {exc}", file=file.name)]
    return parse_targets(text, file.name, catalogue)


# ------------------------------------------------------------------------------------ figures

_Key = tuple[str, str, int]


def _figure_table(
    figures: pd.DataFrame | Iterable[Figure | tuple[Any, ...] | Mapping[str, Any]],
) -> dict[_Key, Figure]:
    """``(metric_id, entity_id, year) -> Figure``; missing values are gaps; a second, different
    value for the same key is an error."""
    rows: Iterable[tuple[Any, ...]]
    if isinstance(figures, pd.DataFrame):
        missing = [c for c in Figure._fields if c not in figures.columns]
        if missing:
            raise ValueError(f"figures lack column(s) {', '.join(missing)}")
        rows = zip(*(figures[c].tolist() for c in Figure._fields), strict=True)
    else:
        rows = (
            tuple(f[c] for c in Figure._fields) if isinstance(f, Mapping) else tuple(f)
            for f in figures
        )
    table: dict[_Key, Figure] = {}
    for metric_id, entity_id, year, value in rows:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            continue
        figure = Figure(str(metric_id), str(entity_id), int(year), float(value))
        key = (figure.metric_id, figure.entity_id, figure.year)
        if key in table and table[key].value != figure.value:
            raise ValueError(
                f"two values for {key[0]} {key[1]} {key[2]}: {table[key].value} and {figure.value}"
            )
        table[key] = figure
    return table


# ------------------------------------------------------------------------------------ status


def _round(value: float, precision: int) -> Decimal:
    return Decimal(repr(float(value))).quantize(Decimal(1).scaleb(-precision), ROUND_HALF_UP)


def _plain(value: float) -> str:
    """A declared value as written: thousands separators, no trailing zeros."""
    text = f"{value:,.6f}".rstrip("0").rstrip(".")
    return text or "0"


@dataclass(frozen=True, slots=True)
class _Measure:
    """What a target is measured on: metric ids (summed), display name, unit, precision."""

    ids: tuple[str, ...]
    name: str
    unit: str
    label: str
    precision: int
    metric_names: str = ""

    def fmt(self, value: Decimal | float) -> str:
        number = value if isinstance(value, Decimal) else _round(value, self.precision)
        return f"{number:,.{self.precision}f} {self.label}"

    def value(
        self, table: Mapping[_Key, Figure], entity: str, year: int
    ) -> tuple[float | None, tuple[Figure, ...]]:
        found = [table.get((m, entity, year)) for m in self.ids]
        present = tuple(f for f in found if f is not None)
        if len(present) < len(found):
            return None, present
        return math.fsum(f.value for f in present), present


@dataclass
class _Context:
    """One evaluation: target, year asked, year compared, measure, figures and precision note."""

    target: Target
    year: int
    measure: _Measure
    table: Mapping[_Key, Figure]
    used: list[Figure] = field(default_factory=list)

    @property
    def at(self) -> int:
        return min(self.year, self.target.deadline_year)

    @property
    def note(self) -> str:
        p = self.measure.precision
        return f" (compared rounded to {p} decimal{'' if p == 1 else 's'}, the published precision)"

    @property
    def passed(self) -> str:
        if self.year <= self.target.deadline_year:
            return ""
        return f"deadline {self.target.deadline_year} passed, its figure counts: "

    def result(self, status: Status, reason: str, **values: Any) -> TargetStatus:
        return TargetStatus(
            self.target,
            self.year,
            self.at,
            status,
            self.passed + reason,
            figures=tuple(dict.fromkeys(self.used)),
            precision=self.measure.precision,
            **values,
        )

    def figure(self, year: int) -> float | None:
        value, found = self.measure.value(self.table, self.target.entity_id, year)
        self.used.extend(found)
        return value


def _measure(target: Target, catalogue: Catalogue) -> _Measure | str:
    """The measure of a target, or why it is not measurable."""
    ids = target.metric_ids
    if not ids:
        return "not measurable: no metric in the catalogue"
    unknown = [i for i in ids if i not in catalogue]
    if unknown:
        return f"not measurable: {', '.join(unknown)} not in the metric catalogue"
    metrics = [catalogue.get(i) for i in ids]
    name = target.name_en or " + ".join(m.name_en for m in metrics)
    if target.entity_id != GROUP:
        name = f"{name} of {target.entity_id}"
    first = metrics[0]
    names = " + ".join(f"{m.name_en} ({m.metric_id})" for m in metrics)
    precision = max(m.precision for m in metrics)
    return _Measure(ids, name, first.unit, first.unit_label, precision, names)


def _in_metric_unit(value: float, unit: str, metric_unit: str) -> float:
    if not unit or unit == metric_unit:
        return value
    magnitude: float = (
        registry.Quantity(value, parse_unit(unit)).to(parse_unit(metric_unit)).magnitude
    )
    return magnitude


def _previous_year(ctx: _Context, actual: float) -> TargetStatus:
    m, at = ctx.measure, ctx.at
    previous = ctx.figure(at - 1)
    if previous is None:
        return ctx.result(
            Status.NO_DATA,
            f"{m.name} {m.fmt(actual)} ({at}): no {at - 1} figure to compare with",
            actual=actual,
        )
    a, p = _round(actual, m.precision), _round(previous, m.precision)
    met = a < p
    word = "<" if met else ">="
    status = Status.ACHIEVED if met else Status.OFF_TRACK
    return ctx.result(
        status,
        f"{m.name} {m.fmt(a)} ({at}) {word} {m.fmt(p)} ({at - 1}), must be < previous year: "
        f"{status.value}{ctx.note}",
        actual=actual,
        required=float(p),
    )


def _baseline(ctx: _Context) -> tuple[int, float, str] | None:
    """The declared baseline (year, value, label), its figure, or None."""
    t = ctx.target
    if t.baseline_year is None:
        return None
    if t.baseline_value is not None:
        return t.baseline_year, t.baseline_value, f"{t.baseline_year} base"
    value = ctx.figure(t.baseline_year)
    return None if value is None else (t.baseline_year, value, f"{t.baseline_year} base")


def _level(ctx: _Context) -> tuple[Decimal, str, str] | str:
    """(target level, its derivation, the direction of the figure against it), or why not."""
    t, m = ctx.target, ctx.measure
    if t.value is None:
        return "the target has no value"
    if t.kind is not TargetKind.REDUCTION:
        converted = _in_metric_unit(t.value, t.unit, m.unit)
        level = _round(converted, m.precision)
        shown = f"{_plain(converted)} {m.label}"
        if Decimal(repr(converted)) != level:
            shown += f" ({m.fmt(level)} rounded)"
        if t.unit not in ("", m.unit):
            shown += f" (= {_plain(t.value)} {t.unit})"
        direction = "<=" if t.kind is TargetKind.COUNT_MAX and t.direction == "=" else t.direction
        return level, shown, direction
    base = _baseline(ctx)
    if base is None:
        return f"no baseline figure for {t.baseline_year}"
    _, value, label = base
    if parse_unit(t.unit) == _PERCENT:
        raw = value * (1 - t.value / 100)
        how = f"{label} {m.fmt(value)} x (1 - {_plain(t.value)} %)"
    else:
        cut = _in_metric_unit(t.value, t.unit, m.unit)
        raw = value - cut
        how = f"{label} {m.fmt(value)} - {m.fmt(cut)}"
    level = _round(raw, m.precision)
    return level, f"{m.fmt(level)} ({how})", _REDUCTION_LEVEL[t.direction]


def _start_point(ctx: _Context) -> tuple[int, float, str] | None:
    """Where the linear path starts: the baseline, or the first figure before the year."""
    base = _baseline(ctx)
    if base is not None:
        return base if base[0] <= ctx.at else None
    for year in range(ctx.target.start_year - 1, ctx.at):
        value, found = ctx.measure.value(ctx.table, ctx.target.entity_id, year)
        if value is not None:
            ctx.used.extend(found)
            return year, value, f"{year} first value"
    return None


def _path(ctx: _Context, actual: float, level: Decimal, shown: str, direction: str) -> TargetStatus:
    t, m, at = ctx.target, ctx.measure, ctx.at
    a = _round(actual, m.precision)
    start = _start_point(ctx)
    if start is None:
        return ctx.result(
            Status.NO_DATA,
            f"{m.name} {m.fmt(a)} ({at}) is not yet {direction} {shown} due {t.deadline_year}; "
            "no baseline or earlier figure to draw a path from: no data",
            actual=actual,
            required=float(level),
        )
    y0, v0, label = start
    step = (float(level) - v0) / (t.deadline_year - y0)
    path = _round(v0 + step * (at - y0), m.precision)
    sign = {">=": 1, ">": 1, "<=": -1, "<": -1}.get(
        direction, (level > _round(v0, m.precision)) - (level < _round(v0, m.precision))
    )
    gap = (a - path) * sign
    on_track = gap >= 0 if sign else a == path
    verb = "rise" if step > 0 else "fall"
    share = f" ({abs(step) / v0 * 100:.2f} %/year of the {label})" if v0 else ""
    status = Status.ON_TRACK if on_track else Status.OFF_TRACK
    verdict = (
        f"on track (ahead by {m.fmt(abs(gap))})" if on_track else f"off track by {m.fmt(abs(gap))}"
    )
    reason = (
        f"{m.name} must {verb} {m.fmt(abs(step))}/year{share} from {label} {m.fmt(v0)} to reach "
        f"{shown} by {t.deadline_year}; {at} path value {m.fmt(v0)} {'+' if step >= 0 else '-'} "
        f"{m.fmt(abs(step))} x {at - y0} = {m.fmt(path)}; actual {m.fmt(a)}: {verdict}{ctx.note}"
    )
    return ctx.result(status, reason, actual=actual, required=float(level), path_value=float(path))


def _level_status(ctx: _Context, actual: float) -> TargetStatus:
    t, m, at = ctx.target, ctx.measure, ctx.at
    found = _level(ctx)
    if isinstance(found, str):
        return ctx.result(Status.NO_DATA, f"{m.name}: {found}: no data", actual=actual)
    level, shown, direction = found
    a = _round(actual, m.precision)
    if _COMPARE[direction](a, level):
        early = f" ahead of the {t.deadline_year} deadline" if at < t.deadline_year else ""
        return ctx.result(
            Status.ACHIEVED,
            f"{m.name} {m.fmt(a)} ({at}) {direction} {shown}: achieved{early}{ctx.note}",
            actual=actual,
            required=float(level),
        )
    if at >= t.deadline_year or t.kind is TargetKind.COUNT_MAX:
        why = (
            "maximum exceeded"
            if t.kind is TargetKind.COUNT_MAX
            else f"missed at the {t.deadline_year} deadline"
        )
        return ctx.result(
            Status.OFF_TRACK,
            f"{m.name} {m.fmt(a)} ({at}) {_NEGATION[direction]} {shown}, must be {direction}: "
            f"off track ({why}, by {m.fmt(abs(a - level))}){ctx.note}",
            actual=actual,
            required=float(level),
        )
    return _path(ctx, actual, level, shown, direction)


def _evaluate(
    target: Target, table: Mapping[_Key, Figure], year: int, cat: Catalogue
) -> TargetStatus:
    at = min(year, target.deadline_year)
    measure = _measure(target, cat)
    if target.kind is TargetKind.QUALITATIVE:
        reason = f"'{target.name()}' is qualitative: judged by the report, not computed"
        if isinstance(measure, _Measure):
            ctx = _Context(target, year, measure, table)
            value = ctx.figure(at)
            if value is not None:
                reason += f"; {measure.metric_names} {at}: {measure.fmt(value)}"
            return ctx.result(Status.QUALITATIVE, reason, actual=value)
        return TargetStatus(target, year, at, Status.QUALITATIVE, reason)
    if isinstance(measure, str):
        return TargetStatus(target, year, at, Status.NOT_MEASURABLE, f"{target.name()}: {measure}")
    ctx = _Context(target, year, measure, table)
    actual = ctx.figure(at)
    if actual is None:
        where = "the group" if target.entity_id == GROUP else target.entity_id
        return ctx.result(
            Status.NO_DATA, f"{measure.name}: no {at} figure of {'+'.join(measure.ids)} for {where}"
        )
    if target.direction == PREVIOUS_YEAR:
        return _previous_year(ctx, actual)
    return _level_status(ctx, actual)


def target_status(
    targets: Iterable[Target],
    figures: pd.DataFrame | Iterable[Figure | tuple[Any, ...] | Mapping[str, Any]],
    year: int,
    catalogue: Catalogue | None = None,
) -> list[TargetStatus]:
    """The status of every target in force in ``year`` (``start_year <= year``), in order.

    ``figures`` is a long table ``metric_id, entity_id, year, value`` (a DataFrame, or rows as
    :class:`Figure`, tuples or mappings); values in the catalogue unit of their metric.
    """
    cat = load_catalogue() if catalogue is None else catalogue
    table = _figure_table(figures)
    return [_evaluate(t, table, year, cat) for t in targets if t.start_year <= year]
