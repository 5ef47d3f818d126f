"""Risk registers: business continuity (BCM) and information security (GB/T 20984).

Both registers are CSVs read all or nothing: every cell is checked (vectorised, column by
column) and all problems are returned located ``file:row:column: expected ...`` (the header is
row 1); then no frame is. The rules are tables (:mod:`esgledger.assess.risk_rules` parses
them: a company's own, or the packaged defaults below, every row with its source); the
functions here take the parsed rules and default to the packaged ones:

- ``data/bcm_categories.csv``: the BCM risk categories (esgledger defaults);
- ``data/bcm_grades.csv``: score = likelihood x impact (1-25) and the four grades of the seed
  report (low / general / significant / major, 低 / 一般 / 较大 / 重大) from their
  ``min_score``; the thresholds are esgledger defaults, the seed publishes only the grades and
  their 2024 counts (6 / 33 / 13 / 14);
- ``data/infosec_method.csv``: the multiplication method (相乘法) of GB/T 20984: likelihood
  ``L = √(T × V)``, loss ``F = √(A × V)``, risk ``R = L × F`` on 1-5 scales, and esgledger's
  reading of the existing controls (已有安全措施): the vulnerability lowered by 0 / 1 / 2 levels
  for ``none`` / ``partial`` / ``effective`` controls, never below 1;
- ``data/infosec_levels.csv``: five risk levels over R in [1, 25] (the standard leaves the
  thresholds to the assessor; these are defaults).

Grading and assessing are vectorised over the frames; nothing here persists. The demo
registers (:func:`demo_bcm_register`, :func:`demo_infosec_register`) are SYNTHETIC: ids start
with ``syn-`` and every row's ``source`` is ``synthetic (demo)``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from esgledger.assess.risk_rules import (
    CONTROL_EFFECTIVENESS,
    SCORES,
    BcmCategory,
    BcmGrade,
    InfosecLevel,
    InfosecMethod,
    load_bcm_categories,
    load_bcm_grades,
    load_infosec_levels,
    load_infosec_method,
)
from esgledger.assess.rows import missing_columns, read_csv_strings
from esgledger.domain.diagnostics import Diagnostic

__all__ = [
    "BCM_COLUMNS",
    "CONTROL_EFFECTIVENESS",
    "INFOSEC_ASSET_TYPES",
    "INFOSEC_COLUMNS",
    "SCORES",
    "BcmCategory",
    "BcmGrade",
    "InfosecLevel",
    "InfosecMethod",
    "assess_infosec",
    "bcm_heat_map",
    "check_bcm_frame",
    "check_infosec_frame",
    "demo_bcm_register",
    "demo_infosec_register",
    "grade_bcm",
    "grade_counts",
    "infosec_levels",
    "load_bcm_categories",
    "load_bcm_grades",
    "load_infosec_levels",
    "load_infosec_method",
    "overdue_drills",
    "read_bcm_register",
    "read_infosec_register",
]

BCM_COLUMNS = (
    "risk_id",
    "entity_id",
    "title",
    "category",
    "likelihood",
    "impact",
    "plan",
    "plan_updated_on",
    "last_drill_on",
    "next_drill_on",
    "owner",
    "notes",
    "source",
)
INFOSEC_COLUMNS = (
    "risk_id",
    "entity_id",
    "asset",
    "asset_type",
    "asset_value",
    "threat",
    "threat_level",
    "vulnerability",
    "vulnerability_level",
    "existing_controls",
    "control_effectiveness",
    "treatment",
    "owner",
    "notes",
    "source",
)
INFOSEC_ASSET_TYPES = ("business", "system", "component")
"""The three asset layers of GB/T 20984-2022: business assets (业务资产), system assets
(系统资产: information systems, data resources, networks) and system components and units
(系统组件和单元资产)."""

DEMO_SOURCE = "synthetic (demo)"
DRILL_INTERVAL_MONTHS = 12
"""A risk with no drill within this many months before ``as_of`` is overdue (drills yearly)."""


# --------------------------------------------------------------------------- reading


@dataclass(frozen=True, slots=True)
class _Rule:
    """How one column is checked and typed."""

    kind: Literal["id", "text", "free", "score", "date", "choice"]
    choices: tuple[str, ...] = ()
    what: str = ""


def _bcm_rules() -> dict[str, _Rule]:
    categories = tuple(c.category for c in load_bcm_categories())
    return {
        "risk_id": _Rule("id"),
        "entity_id": _Rule("text"),
        "title": _Rule("text"),
        "category": _Rule("choice", categories, "a BCM category"),
        "likelihood": _Rule("score"),
        "impact": _Rule("score"),
        "plan": _Rule("free"),
        "plan_updated_on": _Rule("date"),
        "last_drill_on": _Rule("date"),
        "next_drill_on": _Rule("date"),
        "owner": _Rule("free"),
        "notes": _Rule("free"),
        "source": _Rule("text"),
    }


def _infosec_rules() -> dict[str, _Rule]:
    return {
        "risk_id": _Rule("id"),
        "entity_id": _Rule("text"),
        "asset": _Rule("text"),
        "asset_type": _Rule("choice", INFOSEC_ASSET_TYPES, "an asset type"),
        "asset_value": _Rule("score"),
        "threat": _Rule("text"),
        "threat_level": _Rule("score"),
        "vulnerability": _Rule("text"),
        "vulnerability_level": _Rule("score"),
        "existing_controls": _Rule("free"),
        "control_effectiveness": _Rule("choice", CONTROL_EFFECTIVENESS, "a control effectiveness"),
        "treatment": _Rule("free"),
        "owner": _Rule("free"),
        "notes": _Rule("free"),
        "source": _Rule("text"),
    }


def _check(
    frame: pd.DataFrame, rules: dict[str, _Rule], name: str
) -> tuple[pd.DataFrame, list[Diagnostic]]:
    """The typed frame of a register of strings, or its located problems (all of them)."""
    missing = missing_columns(frame, name, list(rules))
    if missing:
        return pd.DataFrame(columns=list(rules)), missing
    frame = frame[list(rules)].astype(str).apply(lambda column: column.str.strip())
    lines = pd.Series(np.arange(len(frame)) + 2, index=frame.index)
    found: list[tuple[int, int, Diagnostic]] = []

    def flag(position: int, column: str, code: str, bad: pd.Series, messages: pd.Series) -> None:
        for line, message in zip(lines[bad], messages[bad], strict=True):
            diagnostic = Diagnostic(code, message, file=name, row=int(line), column=column)
            found.append((int(line), position, diagnostic))

    typed = frame.copy()
    for position, (column, rule) in enumerate(rules.items()):
        cells = frame[column]
        empty = cells == ""
        got = cells.map(repr)
        if rule.kind in ("id", "text"):
            flag(
                position,
                column,
                "empty",
                empty,
                pd.Series("expected a value, got an empty cell", cells.index),
            )
        if rule.kind == "id":
            first = lines.groupby(cells).transform("min")
            duplicate = cells.duplicated(keep="first") & ~empty
            flag(
                position,
                column,
                "duplicate-id",
                duplicate,
                "expected a unique id, " + got + " is on row " + first.astype(str),
            )
        elif rule.kind == "score":
            ok = cells.str.fullmatch(f"[{SCORES[0]}-{SCORES[-1]}]")
            flag(
                position,
                column,
                "score",
                ~ok,
                f"expected an integer {SCORES[0]}-{SCORES[-1]}, got " + got,
            )
            typed[column] = pd.to_numeric(cells.where(ok, "0")).astype("int64")
        elif rule.kind == "date":
            parsed = pd.to_datetime(cells.where(~empty), format="%Y-%m-%d", errors="coerce")
            shape = cells.str.fullmatch(r"\d{4}-\d{2}-\d{2}")
            bad = ~empty & (parsed.isna() | ~shape)
            flag(position, column, "date", bad, "expected a date YYYY-MM-DD, got " + got)
            typed[column] = parsed.where(~bad)
        elif rule.kind == "choice":
            listed = ", ".join(rule.choices)
            bad = ~cells.isin(rule.choices)
            flag(position, column, column, bad, f"expected {rule.what} ({listed}), got " + got)
    if found:
        found.sort(key=lambda item: (item[0], item[1]))
        return pd.DataFrame(columns=list(rules)), [d for _, _, d in found]
    return typed.reset_index(drop=True), []


def _read(path: Path | str, rules: dict[str, _Rule]) -> tuple[pd.DataFrame, list[Diagnostic]]:
    frame, name, problems = read_csv_strings(path, "register")
    if frame is None:
        return pd.DataFrame(columns=list(rules)), problems
    return _check(frame, rules, name)


def check_bcm_frame(frame: pd.DataFrame, name: str) -> tuple[pd.DataFrame, list[Diagnostic]]:
    """:func:`read_bcm_register` of a frame of strings read from the file ``name``."""
    return _check(frame, _bcm_rules(), name)


def check_infosec_frame(frame: pd.DataFrame, name: str) -> tuple[pd.DataFrame, list[Diagnostic]]:
    """:func:`read_infosec_register` of a frame of strings read from the file ``name``."""
    return _check(frame, _infosec_rules(), name)


def read_bcm_register(path: Path | str) -> tuple[pd.DataFrame, list[Diagnostic]]:
    """The BCM register of a CSV with :data:`BCM_COLUMNS`, or its located diagnostics.

    ``likelihood`` and ``impact`` are integers 1-5, ``category`` one of
    ``bcm_categories.csv``, the three dates ``YYYY-MM-DD`` or empty (no plan, no drill yet),
    ``risk_id`` unique; ``risk_id``, ``entity_id``, ``title`` and ``source`` are required.
    The frame has int64 scores and datetime64 dates (``NaT`` where empty); on any problem it
    is empty and every problem is returned.
    """
    return _read(path, _bcm_rules())


def read_infosec_register(path: Path | str) -> tuple[pd.DataFrame, list[Diagnostic]]:
    """The information-security register of a CSV with :data:`INFOSEC_COLUMNS`, or diagnostics.

    ``asset_value``, ``threat_level`` and ``vulnerability_level`` are integers 1-5,
    ``asset_type`` one of :data:`INFOSEC_ASSET_TYPES`, ``control_effectiveness`` one of
    :data:`CONTROL_EFFECTIVENESS`, ``risk_id`` unique.
    """
    return _read(path, _infosec_rules())


# --------------------------------------------------------------------------- BCM


def grade_bcm(frame: pd.DataFrame, grades: Sequence[BcmGrade] | None = None) -> pd.DataFrame:
    """A copy of the register with ``score`` (likelihood x impact), ``grade`` and ``treatment``.

    The grade of a score is the last of ``grades`` (default: ``bcm_grades.csv``) whose
    ``min_score`` it reaches; the treatment is that grade's ``treatment_en``.
    """
    rules = load_bcm_grades() if grades is None else tuple(grades)
    score = frame["likelihood"].astype("int64") * frame["impact"].astype("int64")
    mins = np.array([g.min_score for g in rules])
    index = np.searchsorted(mins, score.to_numpy(), side="right") - 1
    if (index < 0).any():
        raise ValueError(f"scores below the lowest grade's min_score {mins[0]}")
    out = frame.copy()
    out["score"] = score
    out["grade"] = np.array([g.grade for g in rules], dtype=object)[index]
    out["treatment"] = np.array([g.treatment_en for g in rules], dtype=object)[index]
    return out


def grade_counts(frame: pd.DataFrame, grades: Sequence[BcmGrade] | None = None) -> pd.Series:
    """Risks per grade, every grade of ``grades`` in order (zeros included).

    ``frame`` is graded first when it has no ``grade`` column.
    """
    rules = load_bcm_grades() if grades is None else tuple(grades)
    graded = frame if "grade" in frame.columns else grade_bcm(frame, rules)
    names = [g.grade for g in rules]
    counts = graded["grade"].value_counts().reindex(names, fill_value=0).astype("int64")
    counts.index.name = "grade"
    counts.name = "risks"
    return counts


def overdue_drills(frame: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """The risks whose drill is overdue on ``as_of``, with an ``overdue_reason``.

    Overdue: ``next_drill_on`` is before ``as_of``, or there is no drill within the
    :data:`DRILL_INTERVAL_MONTHS` (12) months up to ``as_of`` (``last_drill_on`` empty or
    earlier than ``as_of`` minus 12 months; a drill exactly 12 months before counts).
    """
    day = pd.Timestamp(as_of)
    since = day - pd.DateOffset(months=DRILL_INTERVAL_MONTHS)
    last = pd.to_datetime(frame["last_drill_on"])
    following = pd.to_datetime(frame["next_drill_on"])
    late = (following < day).to_numpy()
    never = last.isna().to_numpy()
    stale = (last < since).to_numpy()
    reason = np.select(
        [late, never, stale],
        [
            "next drill " + following.dt.strftime("%Y-%m-%d").fillna("") + f" is before {as_of}",
            pd.Series("no drill recorded", index=frame.index),
            "no drill since "
            + last.dt.strftime("%Y-%m-%d").fillna("")
            + f" (12 months to {as_of})",
        ],
        default="",
    )
    out = frame.copy()
    out["overdue_reason"] = reason
    return out.loc[late | never | stale].reset_index(drop=True)


def bcm_heat_map(frame: pd.DataFrame) -> pd.DataFrame:
    """Risk counts by likelihood (index, 1-5) and impact (columns, 1-5)."""
    counts = pd.crosstab(frame["likelihood"].astype("int64"), frame["impact"].astype("int64"))
    heat = counts.reindex(index=list(SCORES), columns=list(SCORES), fill_value=0).astype("int64")
    heat.index = pd.Index(SCORES, name="likelihood")
    heat.columns = pd.Index(SCORES, name="impact")
    return heat


# --------------------------------------------------------------------------- information security


def infosec_levels(
    risk: pd.Series | np.ndarray | Sequence[float],
    levels: Sequence[InfosecLevel] | None = None,
    tolerance: float = 1e-9,
) -> pd.Series:
    """The level (1-5) of each risk value: the last level whose ``min_risk`` it reaches.

    ``tolerance`` absorbs floating-point noise at a threshold (5.9999999999 is 6).
    """
    rules = load_infosec_levels() if levels is None else tuple(levels)
    values = np.asarray(risk, dtype=float)
    mins = np.array([v.min_risk for v in rules])
    index = np.searchsorted(mins, values + tolerance, side="right") - 1
    if (index < 0).any():
        raise ValueError(f"risk values below the lowest level's min_risk {mins[0]:g}")
    numbers = np.array([v.level for v in rules], dtype="int64")[index]
    return pd.Series(
        numbers, index=risk.index if isinstance(risk, pd.Series) else None, name="risk_level"
    )


def _fixed(values: np.ndarray, decimals: int) -> pd.Series:
    return pd.Series(np.char.mod(f"%.{decimals}f", values), dtype=object)


def _half_up(values: np.ndarray) -> np.ndarray:
    return np.floor(values + 0.5)


def assess_infosec(
    frame: pd.DataFrame,
    method: InfosecMethod | None = None,
    levels: Sequence[InfosecLevel] | None = None,
) -> pd.DataFrame:
    """A copy of the register with the multiplication method of GB/T 20984 applied.

    Added columns: ``effective_vulnerability`` (the vulnerability lowered by the existing
    controls, never below the floor), ``likelihood`` ``L = √(T × V)``, ``loss``
    ``F = √(A × V)``, ``risk_value`` ``R = L × F``, ``risk_level`` (1-5),
    ``risk_level_name`` and ``arithmetic`` (``"L=√(4×3)=3.46; F=√(5×3)=3.87; R=3.46×3.87=13.42"``:
    the numbers in the text are rounded, the values are not). With the default
    ``rounding="none"`` R is computed as ``√(T × V × A × V)`` (the same number, exact at perfect
    squares); with ``half_up`` L and F are rounded to integer levels first and ``R = L × F``.
    """
    rule = load_infosec_method() if method is None else method
    rules = load_infosec_levels() if levels is None else tuple(levels)
    asset = frame["asset_value"].astype("int64").to_numpy()
    threat = frame["threat_level"].astype("int64").to_numpy()
    vulnerability = frame["vulnerability_level"].astype("int64").to_numpy()
    reductions = dict(rule.reductions)
    unknown = set(frame["control_effectiveness"]) - set(reductions)
    if unknown:
        raise ValueError(f"control_effectiveness: unknown values {sorted(unknown)}")
    cut = frame["control_effectiveness"].map(reductions).astype("int64").to_numpy()
    effective = np.maximum(vulnerability - cut, rule.vulnerability_floor)
    exact_l = np.sqrt(threat * effective)
    exact_f = np.sqrt(asset * effective)
    if rule.rounding == "half_up":
        likelihood, loss = _half_up(exact_l), _half_up(exact_f)
        risk = likelihood * loss
    else:
        likelihood, loss = exact_l, exact_f
        risk = np.sqrt(threat * effective * asset * effective)

    d = rule.decimals
    t, a, v, e, c = (
        pd.Series(x.astype(str), dtype=object)
        for x in (threat, asset, vulnerability, effective, cut)
    )
    controls = pd.Series(
        np.select(
            [vulnerability - cut < rule.vulnerability_floor, cut > 0],
            [
                "V=max(" + v + "-" + c + f",{rule.vulnerability_floor})=" + e + "; ",
                "V=" + v + "-" + c + "=" + e + "; ",
            ],
            default="",
        ),
        dtype=object,
    )
    if rule.rounding == "half_up":
        shown_l = (
            _fixed(exact_l, d) + "≈" + pd.Series(likelihood.astype(int).astype(str), dtype=object)
        )
        shown_f = _fixed(exact_f, d) + "≈" + pd.Series(loss.astype(int).astype(str), dtype=object)
        product = (
            pd.Series(likelihood.astype(int).astype(str), dtype=object)
            + "×"
            + pd.Series(loss.astype(int).astype(str), dtype=object)
        )
    else:
        shown_l, shown_f = _fixed(exact_l, d), _fixed(exact_f, d)
        product = _fixed(likelihood, d) + "×" + _fixed(loss, d)
    arithmetic = (
        controls
        + "L=√("
        + t
        + "×"
        + e
        + ")="
        + shown_l
        + "; F=√("
        + a
        + "×"
        + e
        + ")="
        + shown_f
        + "; R="
        + product
        + "="
        + _fixed(risk, d)
    )
    level = infosec_levels(risk, rules, rule.tolerance).to_numpy()
    names = {v.level: v.name_en for v in rules}
    out = frame.copy()
    out["effective_vulnerability"] = effective
    out["likelihood"] = likelihood
    out["loss"] = loss
    out["risk_value"] = risk
    out["risk_level"] = level
    out["risk_level_name"] = pd.Series(level, index=out.index).map(names)
    out["arithmetic"] = arithmetic.to_numpy()
    return out


# --------------------------------------------------------------------------- SYNTHETIC demos

_BCM_TITLES = {
    "supply_chain": ("key hardware supplier cannot deliver", "single-source component shortage"),
    "it_systems": ("core business system outage", "data-centre failure"),
    "facilities": ("office building unusable", "fire at a delivery site"),
    "personnel": ("loss of key project staff", "mass absence of delivery staff"),
    "natural_disaster": ("flood at an operating site", "earthquake in a regional office"),
    "cyber": ("ransomware on internal systems", "denial of service on client platforms"),
    "pandemic": ("epidemic lockdown of offices", "travel restrictions on delivery teams"),
    "utilities": ("prolonged power cut", "network carrier outage"),
}
_DEMO_ENTITIES = ("G00", "S01", "S02", "S03", "S04", "S05", "S06")
_DEMO_GRADE_COUNTS = {"low": 6, "general": 33, "significant": 13, "major": 14}
"""The seed's 2024 counts per grade (systems.md §10)."""
_DEMO_PLANS_UPDATED_2024 = 21
_DEMO_OVERDUE = 3


def _day(year: int, day_of_year: np.ndarray) -> list[str]:
    start = dt.date(year, 1, 1)
    return [(start + dt.timedelta(days=int(n))).isoformat() for n in day_of_year]


def demo_bcm_register(seed: int = 2024) -> pd.DataFrame:
    """A SYNTHETIC 2024 BCM register of 66 risks graded exactly as the seed's: 6 / 33 / 13 / 14.

    Deterministic for a ``seed``. Ids are ``syn-BCM-001``..., ``source`` is
    ``synthetic (demo)``. Every risk above ``low`` has a plan; 21 plans (the 14 major and the
    first 7 significant) were updated in 2024, the others in 2022-2023; drills are yearly
    (``next_drill_on`` a year after ``last_drill_on``) and the last 3 risks by id have a
    missed 2024 drill (so :func:`overdue_drills` has something to show).
    """
    rng = np.random.default_rng(seed)
    grades = load_bcm_grades()
    pairs = pd.DataFrame(
        [(lik, imp) for lik in SCORES for imp in SCORES], columns=["likelihood", "impact"]
    )
    pairs = grade_bcm(pairs, grades)
    drawn: list[tuple[str, int, int]] = []
    for name, count in _DEMO_GRADE_COUNTS.items():
        pool = pairs[pairs["grade"] == name][["likelihood", "impact"]].to_numpy()
        picks = rng.integers(0, len(pool), size=count)
        drawn.extend((name, int(pool[i][0]), int(pool[i][1])) for i in picks)
    order = rng.permutation(len(drawn))
    rows = [drawn[i] for i in order]
    n = len(rows)
    categories = tuple(_BCM_TITLES)
    category = [categories[i] for i in rng.integers(0, len(categories), size=n)]
    title = [_BCM_TITLES[c][i] for c, i in zip(category, rng.integers(0, 2, size=n), strict=True)]
    entity = [_DEMO_ENTITIES[i] for i in rng.integers(0, len(_DEMO_ENTITIES), size=n)]
    grade = [g for g, _, _ in rows]
    updated_2024 = set(
        [i for i, g in enumerate(grade) if g == "major"]
        + [i for i, g in enumerate(grade) if g == "significant"][
            : _DEMO_PLANS_UPDATED_2024 - grade.count("major")
        ]
    )
    updated_in_2024 = _day(2024, rng.integers(0, 300, size=n))
    updated_before = [
        f"{y}-{m:02d}-15"
        for y, m in zip(rng.integers(2022, 2024, size=n), rng.integers(1, 13, size=n), strict=True)
    ]
    last = _day(2024, rng.integers(0, 330, size=n))
    overdue = set(range(n - _DEMO_OVERDUE, n))
    missed = _day(2023, rng.integers(0, 300, size=n))
    plan, plan_on, last_on, next_on = [], [], [], []
    for i in range(n):
        has_plan = grade[i] != "low"
        plan.append(f"syn-BCP-{i + 1:03d}" if has_plan else "")
        if not has_plan:
            plan_on.append("")
        elif i in updated_2024:
            plan_on.append(updated_in_2024[i])
        else:
            plan_on.append(updated_before[i])
        drill = missed[i] if i in overdue else last[i]
        last_on.append(drill)
        following = dt.date.fromisoformat(drill)
        next_on.append(following.replace(year=following.year + 1).isoformat())
    raw = pd.DataFrame(
        {
            "risk_id": [f"syn-BCM-{i + 1:03d}" for i in range(n)],
            "entity_id": entity,
            "title": title,
            "category": category,
            "likelihood": [str(lik) for _, lik, _ in rows],
            "impact": [str(imp) for _, _, imp in rows],
            "plan": plan,
            "plan_updated_on": plan_on,
            "last_drill_on": last_on,
            "next_drill_on": next_on,
            "owner": [f"syn-dept-{e}" for e in entity],
            "notes": "synthetic demo row: no real risk behind it",
            "source": DEMO_SOURCE,
        }
    )
    frame, problems = _check(raw, _bcm_rules(), "demo_bcm_register")
    if problems:
        raise AssertionError("; ".join(str(p) for p in problems))
    return frame


_INFOSEC_ASSETS = (
    ("customer delivery platform", "business"),
    ("online payment service", "business"),
    ("ERP system", "system"),
    ("customer database", "system"),
    ("HR data", "system"),
    ("source code repository", "system"),
    ("office network", "system"),
    ("data-centre core switch", "component"),
    ("VPN gateway", "component"),
    ("domain controller", "component"),
    ("backup storage", "component"),
    ("employee laptops", "component"),
)
_INFOSEC_THREATS = (
    ("ransomware", "unpatched operating system"),
    ("phishing", "weak user awareness"),
    ("insider data theft", "excessive access rights"),
    ("denial of service", "no traffic scrubbing"),
    ("hardware failure", "single point of failure"),
    ("misconfiguration", "no change review"),
)
_CONTROLS = {
    "none": "",
    "partial": "controls in place, partly effective (synthetic)",
    "effective": "controls tested effective (synthetic)",
}


def demo_infosec_register(seed: int = 2024, size: int = 20) -> pd.DataFrame:
    """A SYNTHETIC information-security register of ``size`` (20) asset-threat pairs.

    Deterministic for a ``seed``; ids ``syn-ISR-001``..., ``source`` ``synthetic (demo)``.
    """
    rng = np.random.default_rng(seed)
    assets = [_INFOSEC_ASSETS[i] for i in rng.integers(0, len(_INFOSEC_ASSETS), size=size)]
    threats = [_INFOSEC_THREATS[i] for i in rng.integers(0, len(_INFOSEC_THREATS), size=size)]
    effectiveness = [CONTROL_EFFECTIVENESS[i] for i in rng.integers(0, 3, size=size)]
    entity = [_DEMO_ENTITIES[i] for i in rng.integers(0, len(_DEMO_ENTITIES), size=size)]
    raw = pd.DataFrame(
        {
            "risk_id": [f"syn-ISR-{i + 1:03d}" for i in range(size)],
            "entity_id": entity,
            "asset": [a for a, _ in assets],
            "asset_type": [t for _, t in assets],
            "asset_value": rng.integers(2, 6, size=size).astype(str),
            "threat": [t for t, _ in threats],
            "threat_level": rng.integers(1, 6, size=size).astype(str),
            "vulnerability": [v for _, v in threats],
            "vulnerability_level": rng.integers(1, 6, size=size).astype(str),
            "existing_controls": [_CONTROLS[e] for e in effectiveness],
            "control_effectiveness": effectiveness,
            "treatment": "",
            "owner": [f"syn-infosec-{e}" for e in entity],
            "notes": "synthetic demo row: no real asset behind it",
            "source": DEMO_SOURCE,
        }
    )
    frame, problems = _check(raw, _infosec_rules(), "demo_infosec_register")
    if problems:
        raise AssertionError("; ".join(str(p) for p in problems))
    return frame
