"""The rules of the risk registers (re-exported by :mod:`esgledger.assess.risks`): the BCM
categories and grades, the information-security levels and the GB/T 20984 multiplication
method, each a table with its source.

``load_bcm_grades(table)``, ``load_infosec_levels(table)`` and ``load_infosec_method(table)``
parse a table of strings (a company's own, :mod:`esgledger.assess.rule_tables`) and refuse it
with every problem, each located on its row and column where it has one
(:class:`~esgledger.assess.rule_problems.RuleTableError`, a :class:`ValueError`); without a
table they return the packaged defaults (``data/bcm_grades.csv``, ``infosec_levels.csv``,
``infosec_method.csv``), parsed once.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import cache
from typing import Literal

import pandas as pd

from esgledger.assess.rule_problems import RuleProblem, RuleTableError
from esgledger.assess.topics import read_data_csv

__all__ = [
    "CONTROL_EFFECTIVENESS",
    "METHOD_PARAMETERS",
    "SCORES",
    "BcmCategory",
    "BcmGrade",
    "InfosecLevel",
    "InfosecMethod",
    "load_bcm_categories",
    "load_bcm_grades",
    "load_infosec_levels",
    "load_infosec_method",
]

SCORES = (1, 2, 3, 4, 5)
"""The 1-5 scale of likelihood, impact, asset value, threat and vulnerability."""
CONTROL_EFFECTIVENESS = ("none", "partial", "effective")
SCORE_RANGE = (SCORES[0] * SCORES[0], SCORES[-1] * SCORES[-1])
"""The range of a BCM score (likelihood x impact) and of a GB/T 20984 risk value: 1-25."""

FORMULAS = {
    "likelihood.formula": "sqrt(threat*vulnerability)",
    "loss.formula": "sqrt(asset_value*vulnerability)",
    "risk.formula": "likelihood*loss",
}
"""The formulas of the multiplication method esgledger implements (the method table names
them; another formula is refused rather than silently not applied)."""
METHOD_PARAMETERS = (
    "method",
    "scale.min",
    "scale.max",
    *FORMULAS,
    "intermediate.rounding",
    *(f"control.reduction.{c}" for c in CONTROL_EFFECTIVENESS),
    "vulnerability.floor",
    "arithmetic.decimals",
)
"""The parameters of ``infosec_method.csv``, each on one row."""


@dataclass(frozen=True, slots=True)
class BcmCategory:
    category: str
    name_en: str
    name_zh: str
    source: str


@dataclass(frozen=True, slots=True)
class BcmGrade:
    """A BCM grade: scores ``>= min_score`` (and below the next grade's) have it."""

    grade: str
    name_en: str
    name_zh: str
    min_score: int
    treatment_en: str
    treatment_zh: str
    source: str


@dataclass(frozen=True, slots=True)
class InfosecLevel:
    """An information-security risk level: risk values ``>= min_risk`` (and below the next)."""

    level: int
    name_en: str
    name_zh: str
    min_risk: float
    treatment_en: str
    treatment_zh: str
    source: str


@dataclass(frozen=True, slots=True)
class InfosecMethod:
    """The multiplication method of ``infosec_method.csv``."""

    scale_min: int = 1
    scale_max: int = 5
    rounding: Literal["none", "half_up"] = "none"
    """Rounding of L and F before R: ``none`` keeps full precision."""
    reductions: tuple[tuple[str, int], ...] = (("none", 0), ("partial", 1), ("effective", 2))
    """Levels the vulnerability is lowered by, per ``control_effectiveness``."""
    vulnerability_floor: int = 1
    decimals: int = 2
    tolerance: float = 1e-9


@cache
def load_bcm_categories() -> tuple[BcmCategory, ...]:
    """The categories of the packaged ``bcm_categories.csv``."""
    frame = read_data_csv("bcm_categories.csv")
    return tuple(
        BcmCategory(r["category"], r["name_en"], r["name_zh"], r["source"])
        for r in frame.to_dict("records")
    )


# --------------------------------------------------------------------------- cells


def _records(table: pd.DataFrame) -> list[dict[str, str]]:
    frame = table.astype(str)
    return [{str(k): str(v).strip() for k, v in r.items()} for r in frame.to_dict("records")]


def _integer(text: str) -> int | None:
    return int(text) if re.fullmatch(r"[+-]?\d+", text) else None


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _ids(rows: list[dict[str, str]], column: str, what: str, problems: list[RuleProblem]) -> None:
    """Every id of ``column`` non-empty and unique (the duplicate's row is located)."""
    first: dict[str, int] = {}
    for i, row in enumerate(rows):
        value = row.get(column, "")
        if not value:
            problems.append(RuleProblem(f"expected {what}, got an empty cell", i, column))
        elif value in first:
            problems.append(
                RuleProblem(
                    f"expected a unique {column}, {value!r} is on row {first[value] + 2}",
                    i,
                    column,
                )
            )
        else:
            first[value] = i


def _thresholds(
    values: list[float | None],
    ids: list[str],
    column: str,
    problems: list[RuleProblem],
) -> None:
    """Thresholds (lowest first) strictly ascending, the lowest at the scale's bottom (1)."""
    previous: tuple[str, float] | None = None
    for i, value in enumerate(values):
        if value is None:
            continue
        if previous is not None and not value > previous[1]:
            problems.append(
                RuleProblem(
                    f"expected a {column} above the previous row's ({previous[0]} "
                    f"{previous[1]:g}): thresholds rise strictly, lowest first; got {value:g}",
                    i,
                    column,
                )
            )
        previous = (ids[i], value)
    if values and values[0] is not None and values[0] != SCORE_RANGE[0]:
        problems.append(
            RuleProblem(
                f"expected the lowest row ({ids[0]}) to start at {SCORE_RANGE[0]} so that every "
                f"value {SCORE_RANGE[0]}-{SCORE_RANGE[1]} has one, got {values[0]:g}",
                0,
                column,
            )
        )


def _in_range(
    text: str, value: float | None, row: int, column: str, what: str, problems: list[RuleProblem]
) -> float | None:
    low, high = SCORE_RANGE
    if value is None or not low <= value <= high:
        problems.append(RuleProblem(f"expected {what} {low}-{high}, got {text!r}", row, column))
        return None
    return value


# --------------------------------------------------------------------------- BCM grades


def load_bcm_grades(table: pd.DataFrame | None = None) -> tuple[BcmGrade, ...]:
    """The grades of ``table`` (default: the packaged ``bcm_grades.csv``), lowest first.

    ``grade`` unique and non-empty; ``min_score`` integers within 1-25 rising strictly, the
    first 1 (every score likelihood x impact has a grade): :class:`RuleTableError` listing
    every problem, located, otherwise.
    """
    if table is None:
        return _packaged_bcm_grades()
    rows = _records(table)
    problems: list[RuleProblem] = []
    if not rows:
        problems.append(RuleProblem("expected at least one grade"))
    _ids(rows, "grade", "a grade id", problems)
    scores: list[float | None] = []
    for i, row in enumerate(rows):
        text = row.get("min_score", "")
        value = _integer(text)
        found = None if value is None else float(value)
        scores.append(_in_range(text, found, i, "min_score", "an integer score", problems))
    _thresholds(scores, [r.get("grade", "") for r in rows], "min_score", problems)
    if problems:
        raise RuleTableError("BCM grades", problems)
    return tuple(
        BcmGrade(
            r["grade"],
            r.get("name_en", ""),
            r.get("name_zh", ""),
            int(r["min_score"]),
            r.get("treatment_en", ""),
            r.get("treatment_zh", ""),
            r.get("source", ""),
        )
        for r in rows
    )


@cache
def _packaged_bcm_grades() -> tuple[BcmGrade, ...]:
    return load_bcm_grades(read_data_csv("bcm_grades.csv"))


# --------------------------------------------------------------------------- infosec levels


def load_infosec_levels(table: pd.DataFrame | None = None) -> tuple[InfosecLevel, ...]:
    """The levels of ``table`` (default: the packaged ``infosec_levels.csv``), lowest first.

    ``level`` unique positive integers; ``min_risk`` numbers within 1-25 rising strictly, the
    first 1 (every risk value has a level): :class:`RuleTableError` listing every problem,
    located, otherwise.
    """
    if table is None:
        return _packaged_infosec_levels()
    rows = _records(table)
    problems: list[RuleProblem] = []
    if not rows:
        problems.append(RuleProblem("expected at least one level"))
    _ids(rows, "level", "a level number", problems)
    for i, row in enumerate(rows):
        number = _integer(row.get("level", ""))
        if row.get("level") and (number is None or number < 1):
            problems.append(
                RuleProblem(f"expected a level number 1, 2, ..., got {row['level']!r}", i, "level")
            )
    risks: list[float | None] = []
    for i, row in enumerate(rows):
        text = row.get("min_risk", "")
        risks.append(_in_range(text, _number(text), i, "min_risk", "a risk value", problems))
    _thresholds(risks, [r.get("level", "") for r in rows], "min_risk", problems)
    if problems:
        raise RuleTableError("information-security levels", problems)
    return tuple(
        InfosecLevel(
            int(r["level"]),
            r.get("name_en", ""),
            r.get("name_zh", ""),
            float(r["min_risk"]),
            r.get("treatment_en", ""),
            r.get("treatment_zh", ""),
            r.get("source", ""),
        )
        for r in rows
    )


@cache
def _packaged_infosec_levels() -> tuple[InfosecLevel, ...]:
    return load_infosec_levels(read_data_csv("infosec_levels.csv"))


# --------------------------------------------------------------------------- infosec method

_CHOICES: dict[str, tuple[str, ...]] = {
    "method": ("multiplication",),
    "scale.min": (str(SCORES[0]),),
    "scale.max": (str(SCORES[-1]),),
    "intermediate.rounding": ("none", "half_up"),
    **{name: (formula,) for name, formula in FORMULAS.items()},
}
"""The values a parameter may take: the method implemented, on the registers' 1-5 scales."""
_INTEGERS = {
    **{f"control.reduction.{c}": (0, SCORES[-1] - SCORES[0]) for c in CONTROL_EFFECTIVENESS},
    "vulnerability.floor": (SCORES[0], SCORES[-1]),
    "arithmetic.decimals": (0, 6),
}
"""The integer parameters and their range."""


def _method_value(name: str, text: str, row: int, problems: list[RuleProblem]) -> str | int | None:
    if name in _CHOICES:
        allowed = _CHOICES[name]
        if text.replace(" ", "") not in allowed:
            problems.append(
                RuleProblem(
                    f"expected {name} {' or '.join(allowed)} (what esgledger implements, on "
                    f"the registers' 1-5 scales), got {text!r}",
                    row,
                    "value",
                )
            )
            return None
        return text.replace(" ", "")
    low, high = _INTEGERS[name]
    value = _integer(text)
    if value is None or not low <= value <= high:
        problems.append(
            RuleProblem(f"expected {name} an integer {low}-{high}, got {text!r}", row, "value")
        )
        return None
    return value


def load_infosec_method(table: pd.DataFrame | None = None) -> InfosecMethod:
    """The method of ``table`` (default: the packaged ``infosec_method.csv``), one row per
    parameter of :data:`METHOD_PARAMETERS`, each once: the multiplication method on the 1-5
    scales, rounding ``none`` or ``half_up``, control reductions 0-4, a vulnerability floor
    1-5, 0-6 decimals; :class:`RuleTableError` listing every problem, located, otherwise."""
    if table is None:
        return _packaged_infosec_method()
    rows = _records(table)
    problems: list[RuleProblem] = []
    _ids(rows, "parameter", "a parameter name", problems)
    values: dict[str, str | int | None] = {}
    for i, row in enumerate(rows):
        name = row.get("parameter", "")
        if name and name not in METHOD_PARAMETERS:
            problems.append(
                RuleProblem(
                    f"expected a parameter of ({', '.join(METHOD_PARAMETERS)}), got {name!r}",
                    i,
                    "parameter",
                )
            )
        elif name and name not in values:
            values[name] = _method_value(name, row.get("value", ""), i, problems)
    for name in METHOD_PARAMETERS:
        if name not in values:
            problems.append(RuleProblem(f"expected a row of parameter {name!r}", None, "parameter"))
    if problems:
        raise RuleTableError("information-security method", problems)
    return InfosecMethod(
        scale_min=SCORES[0],
        scale_max=SCORES[-1],
        rounding="half_up" if values["intermediate.rounding"] == "half_up" else "none",
        reductions=tuple(
            (c, int(values[f"control.reduction.{c}"] or 0)) for c in CONTROL_EFFECTIVENESS
        ),
        vulnerability_floor=int(values["vulnerability.floor"] or 0),
        decimals=int(values["arithmetic.decimals"] or 0),
    )


@cache
def _packaged_infosec_method() -> InfosecMethod:
    return load_infosec_method(read_data_csv("infosec_method.csv"))
