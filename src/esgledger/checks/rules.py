"""KRI rules as data: ``checks/data/kri_rules.csv``, validated into :class:`Rule` objects.

The header is ``rule_id,metric_id,kind,params,severity,description,source``; ``params`` is
``key=value;key=value`` with numeric values, the keys known for the kind (see ``PARAMS``; the
arithmetic of each kind is in :mod:`esgledger.checks.kri`). Loading is all or nothing: every
problem is a :class:`Diagnostic` located as ``file:row:column`` (the header is row 1).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from types import MappingProxyType

from esgledger.domain.datafile import read_rows
from esgledger.domain.diagnostics import Diagnostic, Severity

RULES_FILE = "kri_rules.csv"
RULE_COLUMNS = ("rule_id", "metric_id", "kind", "params", "severity", "description", "source")
#: Known parameters per kind and their defaults (None: no default).
PARAMS: Mapping[str, Mapping[str, float | None]] = {
    "threshold": {"upper": None, "lower": None},
    "jump": {"window": 6, "min_points": 3, "factor": None, "sigmas": None, "direction": 0},
    "control_chart": {"baseline": 12, "min_points": 12, "run": 9, "trend": 6, "direction": 0},
}
KINDS = tuple(PARAMS)
INTEGER_PARAMS = frozenset({"window", "min_points", "baseline", "run", "trend", "direction"})


def _check_params(kind: str, values: Mapping[str, float]) -> list[str]:
    """What is wrong with a kind's parameters (unknown, non-integer, out of range, missing)."""
    known = PARAMS[kind]
    problems = [
        f"unknown parameter {k!r} for {kind} (known: {', '.join(known)})"
        for k in values
        if k not in known
    ]
    problems += [
        f"{k}={v!r} is not a finite number" for k, v in values.items() if not math.isfinite(v)
    ]
    problems += [
        f"{k}={v:g} must be a whole number"
        for k, v in values.items()
        if k in INTEGER_PARAMS and math.isfinite(v) and not float(v).is_integer()
    ]
    if problems:
        return problems
    p = {**{k: v for k, v in known.items() if v is not None}, **values}
    checks: list[tuple[bool, str]] = [(p.get("direction", 0) in (-1, 0, 1), "direction: -1|0|1")]
    if kind == "threshold":
        checks += [
            ("upper" in p or "lower" in p, "threshold needs upper or lower"),
            (p.get("lower", -math.inf) < p.get("upper", math.inf), "lower must be below upper"),
        ]
    elif kind == "jump":
        checks += [
            ("factor" in p or "sigmas" in p, "jump needs factor or sigmas"),
            (p.get("factor", 2) > 1, "factor must be above 1 (1.5 = 50 % above the mean)"),
            (p.get("sigmas", 1) > 0, "sigmas must be positive"),
            (p["window"] >= 1, "window must be at least 1 month"),
            (1 <= p["min_points"] <= p["window"], "min_points must be 1..window"),
        ]
    else:
        checks += [
            (p["baseline"] == 0 or p["baseline"] >= 2, "baseline must be 0 (all previous) or >= 2"),
            (p["min_points"] >= 2, "min_points must be at least 2"),
            (p["run"] == 0 or p["run"] >= 2, "run must be 0 (off) or at least 2"),
            (p["trend"] == 0 or p["trend"] >= 3, "trend must be 0 (off) or at least 3"),
        ]
    return [message for ok, message in checks if not ok]


@dataclass(frozen=True, slots=True)
class Rule:
    """One rule applied to one metric; ``params`` holds every parameter, defaults filled in."""

    rule_id: str
    metric_id: str
    kind: str
    params: Mapping[str, float]
    severity: Severity = Severity.WARNING
    description: str = ""
    source: str = ""

    def __post_init__(self) -> None:
        if self.kind not in PARAMS:
            raise ValueError(f"kind {self.kind!r} is not one of {', '.join(KINDS)}")
        problems = _check_params(self.kind, self.params)
        if problems:
            raise ValueError(f"rule {self.rule_id}: {'; '.join(problems)}")
        filled = {k: v for k, v in PARAMS[self.kind].items() if v is not None}
        filled.update({k: float(v) for k, v in self.params.items()})
        object.__setattr__(self, "params", MappingProxyType(filled))
        object.__setattr__(self, "severity", Severity(self.severity))


def _parse_params(text: str) -> tuple[dict[str, float], list[str]]:
    values: dict[str, float] = {}
    problems = []
    for item in (i.strip() for i in text.split(";")):
        if not item:
            continue
        key, sep, raw = (s.strip() for s in item.partition("="))
        try:
            number = float(raw)
        except ValueError:
            number = math.nan
        if not sep or not key:
            problems.append(f"{item!r} is not key=value")
        elif key in values:
            problems.append(f"parameter {key!r} given twice")
        elif not math.isfinite(number):
            problems.append(f"{key}={raw!r} is not a finite number")
        else:
            values[key] = number
    return values, problems


def parse_rules(text: str, name: str = RULES_FILE) -> tuple[list[Rule], list[Diagnostic]]:
    """Rules of a CSV text, or located diagnostics (``name:row:column``; the header is row 1)."""

    def problem(message: str, row: int, column: str | None) -> Diagnostic:
        return Diagnostic("kri-rule", message, file=name, row=row, column=column)

    lines, problems = read_rows(text, name, RULE_COLUMNS, "kri-rule", "kri-rule")
    if not lines and problems:
        return [], problems
    rules: list[Rule] = []
    seen: dict[str, int] = {}
    for line, cells in lines:
        row = {h: c.strip() for h, c in cells.items()}
        found = [problem(f"{c} is empty", line, c) for c in RULE_COLUMNS if not row[c]]
        if row["rule_id"] in seen:
            found.append(
                problem(
                    f"rule_id {row['rule_id']!r} already on row {seen[row['rule_id']]}",
                    line,
                    "rule_id",
                )
            )
        seen.setdefault(row["rule_id"], line)
        if row["severity"] not in {s.value for s in Severity}:
            found.append(
                problem(
                    f"severity {row['severity']!r} is not error, warning or info", line, "severity"
                )
            )
        params, bad = _parse_params(row["params"])
        if row["kind"] not in PARAMS:
            found.append(
                problem(f"kind {row['kind']!r} is not one of {', '.join(KINDS)}", line, "kind")
            )
        else:
            bad = bad or _check_params(row["kind"], params)
        found += [problem(message, line, "params") for message in bad]
        problems += found
        if not found:
            rules.append(
                Rule(
                    row["rule_id"],
                    row["metric_id"],
                    row["kind"],
                    params,
                    Severity(row["severity"]),
                    row["description"],
                    row["source"],
                )
            )
    problems.sort(key=lambda d: d.row or 0)  # in file order, shape problems included
    return ([] if problems else rules), problems


def load_rules(path: str | Path | None = None) -> tuple[list[Rule], list[Diagnostic]]:
    """The packaged rules (``checks/data/kri_rules.csv``) or a file's: all of them, or none and
    the located diagnostics."""
    if path is None:
        resource = resources.files("esgledger.checks").joinpath("data", RULES_FILE)
        return parse_rules(resource.read_text(encoding="utf-8"), RULES_FILE)
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return [], [Diagnostic("kri-rule", f"cannot read: {exc}", file=file.name)]
    return parse_rules(text, file.name)
