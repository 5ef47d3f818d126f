"""The metric catalogue: typed, immutable, validated from the packaged CSVs.

:func:`read_catalogue` reads ``catalogue_<pillar>.csv`` files and returns the catalogue with
every problem found as a located :class:`~esgledger.domain.diagnostics.Diagnostic` (file, CSV
row with the header as row 1, column). :func:`load_catalogue` is the cached entry point that
the rest of esgledger uses: it raises :class:`CatalogueError` when any error is found.
The column meanings are documented in ``metrics/data/README.md``.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pint

from esgledger.domain.diagnostics import Diagnostic, Severity
from esgledger.metrics.frameworks import Frameworks, load_frameworks
from esgledger.units import UnitError, parse_unit, registry


class Pillar(StrEnum):
    E = "E"
    S = "S"
    G = "G"


class Kind(StrEnum):
    INPUT = "input"
    COMPUTED = "computed"


class Aggregation(StrEnum):
    """How figures of several entities combine (periods: see :class:`PeriodRule`)."""

    SUM = "sum"
    WEIGHTED_MEAN = "weighted_mean"
    RATIO = "ratio"
    LATEST = "latest"
    MAX = "max"
    MIN = "min"
    NONE = "none"


class PeriodRule(StrEnum):
    """How a figure relates to time: summed over the period, taken at its end, or a rate."""

    FLOW = "flow"
    STOCK = "stock"
    RATE = "rate"


COLUMNS: tuple[str, ...] = (
    "metric_id",
    "name_en",
    "name_zh",
    "pillar",
    "unit",
    "unit_label",
    "unit_label_zh",
    "kind",
    "aggregation",
    "numerator",
    "denominator",
    "weight",
    "scale",
    "parent",
    "dimension",
    "member",
    "period_rule",
    "formula",
    "precision",
    "seed_row",
    "definition",
)
"""The columns of every catalogue file. Its other columns are named by a framework id of the
registry (:mod:`esgledger.metrics.frameworks`: ``gri``, ``szse17``, ``issb_s2``, ``esrs``) and
hold the metric's references to that framework's clauses."""

REQUIRED: tuple[str, ...] = (
    "metric_id",
    "name_en",
    "name_zh",
    "pillar",
    "unit",
    "unit_label",
    "kind",
    "aggregation",
    "scale",
    "period_rule",
    "precision",
    "definition",
)
"""Columns that may not be blank."""

PILLAR_FILES: Mapping[str, Pillar] = MappingProxyType(
    {"environment": Pillar.E, "social": Pillar.S, "governance": Pillar.G}
)
"""``catalogue_<name>.csv`` -> the pillar of its rows."""

_ID = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")
_ID_TOKEN = re.compile(r"(?<![\w.])[a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+")
_SEP = ";"
_PERCENT = parse_unit("percent")


@dataclass(frozen=True, slots=True)
class Metric:
    """One catalogue row, typed. Multi-valued framework references are tuples."""

    metric_id: str
    name_en: str
    name_zh: str
    pillar: Pillar
    unit: str
    """A spelling :func:`esgledger.units.parse_unit` reads (``persons``, ``%``, ``count``)."""
    unit_label: str
    """The unit as a report prints it in English (``items``, ``points``, ``10k CNY``)."""
    unit_label_zh: str
    kind: Kind
    aggregation: Aggregation
    numerator: str | None
    denominator: str | None
    weight: str | None
    scale: float
    parent: str | None
    dimension: str | None
    member: str | None
    period_rule: PeriodRule
    formula: str
    precision: int
    seed_row: int | None
    definition: str
    framework_refs: tuple[tuple[str, str], ...] = ()
    """(framework id, clause) pairs: the metric's references, in column then cell order."""
    file: str = field(default="", compare=False)
    row: int = field(default=0, compare=False)

    @property
    def is_computed(self) -> bool:
        return self.kind is Kind.COMPUTED

    @property
    def is_ratio(self) -> bool:
        """Recomputed from numerator and denominator; never summed or averaged."""
        return self.aggregation is Aggregation.RATIO

    @property
    def is_percentage(self) -> bool:
        return bool(parse_unit(self.unit) == _PERCENT)

    @property
    def adds_up(self) -> bool:
        """Flow or stock figure: the members of each of its dimensions sum to it."""
        return self.period_rule in (PeriodRule.FLOW, PeriodRule.STOCK)

    def cites(self, framework_id: str) -> tuple[str, ...]:
        """The clauses of a framework the metric references (``401-1``; SZSE ``50``)."""
        return tuple(clause for fid, clause in self.framework_refs if fid == framework_id)

    def name(self, lang: str = "en") -> str:
        return self.name_zh if lang == "zh" else self.name_en

    def label(self, lang: str = "en") -> str:
        return self.unit_label_zh if lang == "zh" and self.unit_label_zh else self.unit_label

    def references(self) -> tuple[str, ...]:
        """Metric ids this one names in its numerator, denominator, weight and parent."""
        refs = (self.numerator, self.denominator, self.weight, self.parent)
        return tuple(r for r in refs if r)


@dataclass(frozen=True, slots=True)
class Breakdown:
    """The members of one dimension of a parent metric."""

    parent: str
    dimension: str
    members: tuple[str, ...]
    sums_to_parent: bool
    """True for flow and stock parents; a breakdown of a rate is structural only."""


@dataclass(frozen=True)
class Catalogue:
    """Immutable set of metrics, indexed by id, in file order (environment, social,
    governance)."""

    metrics: tuple[Metric, ...]
    _index: Mapping[str, Metric] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        index: dict[str, Metric] = {}
        for metric in self.metrics:
            index.setdefault(metric.metric_id, metric)
        object.__setattr__(self, "_index", MappingProxyType(index))

    def __len__(self) -> int:
        return len(self.metrics)

    def __iter__(self) -> Iterator[Metric]:
        return iter(self.metrics)

    def __contains__(self, metric_id: object) -> bool:
        return metric_id in self._index

    def get(self, metric_id: str) -> Metric:
        """The metric with this id; :class:`KeyError` naming it when there is none."""
        try:
            return self._index[metric_id]
        except KeyError:
            raise KeyError(f"unknown metric {metric_id!r}") from None

    def ids(self) -> tuple[str, ...]:
        return tuple(self._index)

    def by_pillar(self, pillar: Pillar | str) -> tuple[Metric, ...]:
        wanted = Pillar(pillar)
        return tuple(m for m in self.metrics if m.pillar is wanted)

    def by_kind(self, kind: Kind | str) -> tuple[Metric, ...]:
        wanted = Kind(kind)
        return tuple(m for m in self.metrics if m.kind is wanted)

    def members(self, parent: str, dimension: str | None = None) -> tuple[Metric, ...]:
        """Direct members of ``parent`` (of one dimension, or of all), in file order."""
        return tuple(
            m
            for m in self.metrics
            if m.parent == parent and (dimension is None or m.dimension == dimension)
        )

    def dimensions(self, parent: str) -> tuple[str, ...]:
        return tuple(dict.fromkeys(m.dimension for m in self.members(parent) if m.dimension))

    def breakdowns(self) -> tuple[Breakdown, ...]:
        """Every (parent, dimension) with its members, for generic breakdown checks."""
        found: dict[tuple[str, str], list[str]] = {}
        for m in self.metrics:
            if m.parent and m.dimension:
                found.setdefault((m.parent, m.dimension), []).append(m.metric_id)
        return tuple(
            Breakdown(
                parent,
                dimension,
                tuple(members),
                parent in self._index and self._index[parent].adds_up,
            )
            for (parent, dimension), members in found.items()
        )

    def seed_rows(self) -> Mapping[int, Metric]:
        """Row of the seed group's key performance table (1-based, no header) -> metric."""
        rows = {m.seed_row: m for m in self.metrics if m.seed_row is not None}
        return MappingProxyType(dict(sorted(rows.items())))

    def formula_ids(self, metric_id: str) -> tuple[str, ...]:
        """The catalogue ids named in a metric's formula, in order of appearance."""
        found = _ID_TOKEN.findall(self.get(metric_id).formula)
        return tuple(dict.fromkeys(t for t in found if t in self._index))


class CatalogueError(ValueError):
    """The catalogue files do not validate; ``diagnostics`` lists every problem."""

    def __init__(self, diagnostics: tuple[Diagnostic, ...]) -> None:
        self.diagnostics = diagnostics
        errors = [d for d in diagnostics if d.severity is Severity.ERROR]
        shown = "\n".join(str(d) for d in errors[:20])
        more = f"\n... and {len(errors) - 20} more" if len(errors) > 20 else ""
        super().__init__(f"metric catalogue: {len(errors)} error(s)\n{shown}{more}")


# ------------------------------------------------------------------------------------ reading


def _sources(directory: Path | None) -> tuple[list[tuple[str, str, str]], list[Diagnostic]]:
    """(label, stem, text) of every catalogue file, and problems with the file set."""
    root: Traversable | Path
    if directory is None:
        root = resources.files("esgledger.metrics").joinpath("data")
        prefix = "esgledger/metrics/data/"
    else:
        root = directory
        prefix = f"{directory}/"
    problems: list[Diagnostic] = []
    if not root.is_dir():
        return [], [Diagnostic("catalogue.files", "not a directory", file=str(root))]
    found = []
    for entry in sorted(root.iterdir(), key=lambda e: e.name):
        name = entry.name
        if not (name.startswith("catalogue_") and name.endswith(".csv")):
            continue
        stem = name.removeprefix("catalogue_").removesuffix(".csv")
        if stem not in PILLAR_FILES:
            problems.append(
                Diagnostic(
                    "catalogue.files",
                    f"unknown catalogue file: expected catalogue_<pillar>.csv with pillar one "
                    f"of {', '.join(PILLAR_FILES)}",
                    file=prefix + name,
                )
            )
            continue
        found.append((prefix + name, stem, entry.read_text(encoding="utf-8-sig")))
    if not found and not problems:
        problems.append(
            Diagnostic("catalogue.files", "no catalogue_<pillar>.csv file", file=str(root))
        )
    order = list(PILLAR_FILES)
    found.sort(key=lambda item: order.index(item[1]))
    return found, problems


class _RowReader:
    """Parses one CSV row into a :class:`Metric`, collecting located diagnostics."""

    def __init__(
        self, raw: Mapping[str, str], file: str, row: int, frameworks: tuple[str, ...] = ()
    ) -> None:
        self.raw = raw
        self.file = file
        self.row = row
        self.frameworks = frameworks
        """The header's framework columns, in order."""
        self.problems: list[Diagnostic] = []

    def error(self, code: str, column: str | None, message: str) -> None:
        self.problems.append(Diagnostic(code, message, file=self.file, row=self.row, column=column))

    def text(self, column: str) -> str:
        return (self.raw.get(column) or "").strip()

    def optional(self, column: str) -> str | None:
        return self.text(column) or None

    def choice(self, column: str, enum: type[StrEnum], code: str) -> Any:
        value = self.text(column)
        try:
            return enum(value)
        except ValueError:
            allowed = ", ".join(e.value for e in enum)
            self.error(code, column, f"unknown {column} {value!r}: expected one of {allowed}")
            return None

    def number(self, column: str, *, integer: bool, minimum: float) -> Any:
        value = self.text(column)
        if not value:
            return None
        try:
            number: float = int(value) if integer else float(value)
        except ValueError:
            kind = "an integer" if integer else "a number"
            self.error("catalogue.bad_number", column, f"{column} {value!r} is not {kind}")
            return None
        if not math.isfinite(number) or number < minimum:
            self.error("catalogue.bad_number", column, f"{column} {value!r} is below {minimum}")
            return None
        return number

    def refs(self, column: str) -> tuple[str, ...]:
        return tuple(part.strip() for part in self.text(column).split(_SEP) if part.strip())

    def parse(self, file_pillar: Pillar | None) -> Metric | None:
        """The metric of the row (None when a cell is wrong); ``file_pillar``: the pillar of
        the file it is in (None: a file of any pillar, as a ledger's own metrics)."""
        for column in REQUIRED:
            if not self.text(column):
                self.error("catalogue.missing_value", column, f"{column} is blank")
        metric_id = self.text("metric_id")
        if metric_id and not _ID.match(metric_id):
            self.error(
                "catalogue.bad_id",
                "metric_id",
                f"metric id {metric_id!r} is not dotted lowercase (e.g. workforce.headcount)",
            )
        pillar = self.choice("pillar", Pillar, "catalogue.unknown_pillar")
        if pillar is not None and file_pillar is not None and pillar is not file_pillar:
            self.error(
                "catalogue.pillar_mismatch",
                "pillar",
                f"pillar {pillar.value} in the file of pillar {file_pillar.value}",
            )
        kind = self.choice("kind", Kind, "catalogue.unknown_kind")
        aggregation = self.choice("aggregation", Aggregation, "catalogue.unknown_aggregation")
        period_rule = self.choice("period_rule", PeriodRule, "catalogue.unknown_period_rule")
        unit = self.text("unit")
        if unit:
            try:
                parse_unit(unit)
            except UnitError as exc:
                self.error("catalogue.unknown_unit", "unit", str(exc))
        scale = self.number("scale", integer=False, minimum=0)
        if scale == 0:
            self.error("catalogue.bad_number", "scale", "scale must be positive")
        precision = self.number("precision", integer=True, minimum=0)
        seed_row = self.number("seed_row", integer=True, minimum=1)
        if self.problems:
            return None
        return Metric(
            metric_id=metric_id,
            name_en=self.text("name_en"),
            name_zh=self.text("name_zh"),
            pillar=pillar,
            unit=unit,
            unit_label=self.text("unit_label"),
            unit_label_zh=self.text("unit_label_zh"),
            kind=kind,
            aggregation=aggregation,
            numerator=self.optional("numerator"),
            denominator=self.optional("denominator"),
            weight=self.optional("weight"),
            scale=float(scale),
            parent=self.optional("parent"),
            dimension=self.optional("dimension"),
            member=self.optional("member"),
            period_rule=period_rule,
            formula=self.text("formula"),
            precision=int(precision),
            seed_row=None if seed_row is None else int(seed_row),
            definition=self.text("definition"),
            framework_refs=tuple(
                (fid, clause) for fid in self.frameworks for clause in self.refs(fid)
            ),
            file=self.file,
            row=self.row,
        )


def _read_file(
    label: str, stem: str, text: str, seen: dict[str, tuple[str, int]]
) -> tuple[list[Metric], list[Diagnostic]]:
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in (reader.fieldnames or [])]
    declared = load_frameworks()
    missing = [c for c in COLUMNS if c not in header]
    extra = [c for c in header if c not in COLUMNS and c not in declared]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing column(s) {', '.join(missing)}")
        if extra:
            parts.append(f"unknown column(s) {', '.join(extra)}")
        message = "; ".join(parts) + (
            f" (expected: {','.join(COLUMNS)} and framework ids {','.join(declared.ids())})"
        )
        return [], [Diagnostic("catalogue.header", message, file=label, row=1)]
    frameworks = tuple(c for c in header if c in declared)
    reader.fieldnames = header
    metrics: list[Metric] = []
    problems: list[Diagnostic] = []
    for number, raw in enumerate(reader, start=2):
        if not any((v or "").strip() for v in raw.values() if isinstance(v, str)):
            continue
        if None in raw:
            problems.append(
                Diagnostic(
                    "catalogue.header",
                    "more fields than header columns (an unquoted comma?)",
                    file=label,
                    row=number,
                )
            )
            continue
        row = _RowReader(raw, label, number, frameworks)
        metric_id = row.text("metric_id")
        if metric_id in seen:
            first_file, first_row = seen[metric_id]
            row.error(
                "catalogue.duplicate_id",
                "metric_id",
                f"duplicate metric id {metric_id!r} (first at {first_file}:{first_row})",
            )
        elif metric_id:
            seen[metric_id] = (label, number)
        metric = row.parse(PILLAR_FILES[stem])
        problems.extend(row.problems)
        if metric is not None:
            metrics.append(metric)
    return metrics, problems


# ------------------------------------------------------------------------------ validation


def _quotient_unit(unit: str) -> bool:
    """A unit that divides (per capita, intensity, rate) or a percentage."""
    parsed = parse_unit(unit)
    return bool(parsed == _PERCENT) or "/" in str(parsed)


def _same_dimension(unit: str, other: str) -> bool:
    return bool(parse_unit(unit).dimensionality == parse_unit(other).dimensionality)


class _Checker:
    """Rules that relate a row to other rows and to the framework tables."""

    def __init__(self, metrics: list[Metric], all_ids: set[str], frameworks: Frameworks) -> None:
        self.by_id = {m.metric_id: m for m in metrics}
        self.all_ids = all_ids
        self.prefixes = {i.split(".")[0] for i in all_ids}
        self.frameworks = frameworks
        self.problems: list[Diagnostic] = []

    def err(self, m: Metric, code: str, column: str | None, message: str) -> None:
        self.problems.append(Diagnostic(code, message, file=m.file, row=m.row, column=column))

    def exists(self, m: Metric, column: str, ref: str | None) -> bool:
        """True when ``ref`` is given and names a metric of the catalogue."""
        if ref and ref not in self.all_ids:
            self.err(m, "catalogue.unknown_metric", column, f"{column} {ref!r} is not a metric id")
            return False
        return bool(ref)

    def check(self, m: Metric) -> None:
        if m.is_ratio:
            self.ratio(m)
        else:
            for column in ("numerator", "denominator"):
                if getattr(m, column):
                    self.err(
                        m,
                        "catalogue.ratio_parts",
                        column,
                        f"{column} given for aggregation {m.aggregation.value}: only ratio "
                        "metrics have one",
                    )
        self.weight(m)
        if m.aggregation is Aggregation.SUM and _quotient_unit(m.unit):
            self.err(
                m,
                "catalogue.never_sum",
                "aggregation",
                f"unit {m.unit!r} is a ratio or percentage: it is recomputed (ratio) or "
                "weighted, never summed",
            )
        self.breakdown(m)
        self.formula(m)
        self.references(m)

    def ratio(self, m: Metric) -> None:
        absent = [c for c in ("numerator", "denominator") if not getattr(m, c)]
        if absent:
            self.err(
                m,
                "catalogue.ratio_parts",
                absent[0],
                f"ratio metric without {' and '.join(absent)}: a ratio is recomputed from "
                "its numerator and denominator",
            )
        num_ok = self.exists(m, "numerator", m.numerator)
        den_ok = self.exists(m, "denominator", m.denominator)
        numerator = self.by_id.get(m.numerator or "")
        denominator = self.by_id.get(m.denominator or "")
        if num_ok and den_ok and numerator and denominator:
            quotient = registry.Quantity(1.0, parse_unit(numerator.unit)) / registry.Quantity(
                1.0, parse_unit(denominator.unit)
            )
            try:
                quotient.to(parse_unit(m.unit))
            except pint.errors.DimensionalityError:
                self.err(
                    m,
                    "catalogue.unit_mismatch",
                    "unit",
                    f"{numerator.unit} / {denominator.unit} does not convert to {m.unit!r}",
                )
        if m.is_percentage and m.scale != 100:
            self.err(
                m, "catalogue.scale", "scale", "a percentage is a ratio x 100: scale must be 100"
            )

    def weight(self, m: Metric) -> None:
        if m.aggregation is Aggregation.WEIGHTED_MEAN:
            if not m.weight:
                self.err(m, "catalogue.weight", "weight", "weighted_mean without a weight metric")
            self.exists(m, "weight", m.weight)
        elif m.weight:
            self.err(
                m,
                "catalogue.weight",
                "weight",
                f"weight given for aggregation {m.aggregation.value}: only weighted_mean uses one",
            )

    def breakdown(self, m: Metric) -> None:
        structure = (m.parent, m.dimension, m.member)
        if any(structure) and not all(structure):
            column = "parent" if not m.parent else ("dimension" if not m.dimension else "member")
            self.err(
                m,
                "catalogue.breakdown",
                column,
                "parent, dimension and member are given together or not at all",
            )
        if not m.parent:
            return
        if m.parent == m.metric_id:
            self.err(m, "catalogue.parent", "parent", "a metric cannot be its own parent")
            return
        if not self.exists(m, "parent", m.parent) or m.parent not in self.by_id:
            return
        parent = self.by_id[m.parent]
        if parent.period_rule is not m.period_rule:
            self.err(
                m,
                "catalogue.breakdown",
                "period_rule",
                f"member is {m.period_rule.value} but its parent {parent.metric_id} is "
                f"{parent.period_rule.value}",
            )
        elif parent.adds_up and not _same_dimension(m.unit, parent.unit):
            self.err(
                m,
                "catalogue.unit_mismatch",
                "unit",
                f"unit {m.unit!r} does not convert to the parent's {parent.unit!r}: members "
                "must add up to the parent",
            )

    def formula(self, m: Metric) -> None:
        if m.is_computed and not m.formula:
            self.err(m, "catalogue.formula", "formula", "computed metric without a formula")
        named = _ID_TOKEN.findall(m.formula)
        for token in named:
            if token.split(".")[0] in self.prefixes and token not in self.all_ids:
                self.err(
                    m, "catalogue.formula", "formula", f"formula names unknown metric {token!r}"
                )
        if m.is_ratio and m.formula:
            for part in (m.numerator, m.denominator):
                if part and part not in named:
                    self.err(
                        m, "catalogue.formula", "formula", f"ratio formula does not name {part!r}"
                    )

    def references(self, m: Metric) -> None:
        """Every reference names a clause of its framework's table, and the metric references
        at least one framework with a content index (so that some index can place it)."""
        indexed = [f.framework_id for f in self.frameworks.indexes()]
        if indexed and not any(m.cites(fid) for fid in indexed):
            names = " or ".join(self.frameworks[fid].name_en for fid in indexed)
            self.err(m, "catalogue.no_framework", indexed[0], f"no reference to {names}")
        for fid, clause in m.framework_refs:
            framework = self.frameworks[fid]
            if not framework.has(clause):
                self.err(
                    m,
                    f"catalogue.unknown_{fid}",
                    fid,
                    f"{framework.name_en} has no {framework.id_column} {clause!r}"
                    f" ({framework.file})",
                )


def _cross_check(
    metrics: list[Metric], all_ids: set[str], frameworks: Frameworks
) -> list[Diagnostic]:
    checker = _Checker(metrics, all_ids, frameworks)
    for m in metrics:
        checker.check(m)
    return checker.problems + _structure_checks(metrics, checker.by_id)


def _structure_checks(metrics: list[Metric], by_id: Mapping[str, Metric]) -> list[Diagnostic]:
    problems: list[Diagnostic] = []
    members: dict[tuple[str, str, str], Metric] = {}
    seeds: dict[int, Metric] = {}
    for m in metrics:
        if m.parent and m.dimension and m.member:
            key = (m.parent, m.dimension, m.member)
            if key in members:
                first = members[key]
                problems.append(
                    Diagnostic(
                        "catalogue.breakdown",
                        f"member {m.member!r} of {m.parent} by {m.dimension} is also "
                        f"{first.metric_id} ({first.file}:{first.row})",
                        file=m.file,
                        row=m.row,
                        column="member",
                    )
                )
            else:
                members[key] = m
        # a parent chain must end (no cycles)
        seen = {m.metric_id}
        current = m
        while current.parent and current.parent in by_id:
            if current.parent in seen:
                problems.append(
                    Diagnostic(
                        "catalogue.parent",
                        f"parent chain of {m.metric_id} loops through {current.parent}",
                        file=m.file,
                        row=m.row,
                        column="parent",
                    )
                )
                break
            seen.add(current.parent)
            current = by_id[current.parent]
        if m.seed_row is not None:
            if m.seed_row in seeds:
                first = seeds[m.seed_row]
                problems.append(
                    Diagnostic(
                        "catalogue.seed_row",
                        f"seed row {m.seed_row} is already mapped by {first.metric_id} "
                        f"({first.file}:{first.row})",
                        file=m.file,
                        row=m.row,
                        column="seed_row",
                    )
                )
            else:
                seeds[m.seed_row] = m
    return problems


# ------------------------------------------------------------------------------ entry points


def read_catalogue(
    directory: str | Path | None = None,
) -> tuple[Catalogue, tuple[Diagnostic, ...]]:
    """Read and validate the catalogue files of ``directory`` (default: the packaged ones).

    Returns the metrics whose rows parsed and every problem found; rows with errors in their
    own fields are left out of the catalogue, references to them are still resolved.
    """
    files, problems = _sources(None if directory is None else Path(directory))
    seen: dict[str, tuple[str, int]] = {}
    metrics: list[Metric] = []
    for label, stem, text in files:
        found, diagnostics = _read_file(label, stem, text, seen)
        metrics.extend(found)
        problems.extend(diagnostics)
    problems.extend(_cross_check(metrics, set(seen), load_frameworks()))
    return Catalogue(tuple(metrics)), tuple(problems)


def load_catalogue(directory: str | Path | None = None) -> Catalogue:
    """The validated catalogue (cached per directory); :class:`CatalogueError` on any error."""
    return _load(None if directory is None else Path(directory).resolve())


@lru_cache(maxsize=8)
def _load(directory: Path | None) -> Catalogue:
    catalogue, diagnostics = read_catalogue(directory)
    if any(d.severity is Severity.ERROR for d in diagnostics):
        raise CatalogueError(diagnostics)
    return catalogue
