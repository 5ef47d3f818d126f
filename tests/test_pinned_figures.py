"""Pinning test: every figure the demo ledger produces, recorded before the "Book" redesign.

For each consolidation approach (operational_control, financial_control, equity_share) times
each scope 2 total basis (setting ``scope2_total_basis``: location, market) the test sets the
two settings on a copy of the demo ledger, runs the figure-printing commands in-process
(``inventory``, ``energy``, ``intensity``, ``kpi``, ``check``, ``targets`` and the ``strategy``
commands, with ``--json``) and builds the 2024 report model in English, flattens every output
into ``{key path: number}`` (strings only where they are labels: target status, finding
severity, pathway phase, forecast model) and compares it with ``tests/golden/pinned_figures.json``
(``{combination: {command: {key: value}}}``), reporting every differing key at once. Report
figures are keyed by their lineage id (``ghg:2024:S1``); each command also records its exit
code and the count of its diagnostics per code.

The golden file was generated from the code at git HEAD 22d21d7, before the redesign.

Regenerate it (after a deliberate correction of figures) with::

    ESGLEDGER_PIN_REGENERATE=1 pytest tests/test_pinned_figures.py

(``-n 2`` works too: each combination is merged into the file under a lock.)

Rule: the golden file changes only in a commit whose message lists each changed figure
(combination, command, key) with its old and new value, i.e. the lines this test prints on
a mismatch. A regenerated golden file without that list is not a correction but a lost pin.
"""

from __future__ import annotations

import fcntl
import functools
import json
import math
import os
import shutil
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
import typer.main
import typer.testing
from typer.testing import CliRunner

from esgledger.cli import app
from esgledger.report.build import build_report
from esgledger.report.model import block_figures
from esgledger.store.ledger import Ledger

GOLDEN = Path(__file__).parent / "golden" / "pinned_figures.json"
REGENERATE = os.environ.get("ESGLEDGER_PIN_REGENERATE", "") not in ("", "0")

APPROACHES = ("operational_control", "financial_control", "equity_share")
BASES = ("location", "market")
COMBINATIONS = tuple(f"{approach}/{basis}" for approach in APPROACHES for basis in BASES)
YEARS = (2020, 2021, 2022, 2023, 2024)
INVENTORY_YEARS = (2023, 2024)
REPORT_YEAR = 2024

# The redesign may change the order of summation, so numbers are equal within these
# tolerances rather than bit for bit; anything larger is a changed figure.
REL_TOL = 1e-9
ABS_TOL = 1e-9

Value = float | int | str | bool | None
Flat = dict[str, Value]

runner = CliRunner()


# -- flattening --------------------------------------------------------------------------------


def _number(value: Any) -> Value:
    """A JSON scalar as stored: NaN as null (the golden JSON has no NaN)."""
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _row_id(row: Mapping[str, Any], ids: Sequence[str]) -> str:
    return ",".join(f"{c}={row.get(c)}" for c in ids)


def _rows(
    rows: Iterable[Mapping[str, Any]],
    ids: Sequence[str],
    labels: Sequence[str] = (),
    text_numbers: Sequence[str] = (),
) -> Flat:
    """``{"<id columns>:<column>": value}`` of the numeric columns of each row (and nulls), the
    ``labels`` columns as text, ``text_numbers`` columns as numbers where they parse (the KPI
    table's reported figures are text). Other text (names, units, messages) is skipped. A
    repeated row id gets ``#2``, ``#3``... in output order."""
    flat: Flat = {}
    seen: Counter[str] = Counter()
    for row in rows:
        ident = _row_id(row, ids)
        seen[ident] += 1
        if seen[ident] > 1:
            ident = f"{ident}#{seen[ident]}"
        for column, value in row.items():
            if column in ids:
                continue
            key = f"{ident}:{column}"
            if column in text_numbers and isinstance(value, str):
                try:
                    flat[key] = float(value.replace(",", ""))
                except ValueError:
                    flat[key] = value
            elif column in labels or value is None or _is_number(value):
                flat[key] = _number(value)
    return flat


def _diagnostics(diagnostics: Iterable[Mapping[str, Any]]) -> Flat:
    """How many diagnostics of each code and severity (their messages are text, not pinned)."""
    counts = Counter(f"diagnostics:{d.get('code')}:{d.get('severity')}" for d in diagnostics)
    return dict(counts)


def _table(
    payload: Any,
    ids: Sequence[str],
    labels: Sequence[str] = (),
    text_numbers: Sequence[str] = (),
) -> Flat:
    """An ``_emit`` JSON payload: ``{"rows": [...], "diagnostics": [...]}``."""
    return _rows(payload["rows"], ids, labels, text_numbers) | _diagnostics(payload["diagnostics"])


def _findings(payload: Any) -> Flat:
    """``check --json``: findings keyed by rule, metric, entity and year."""
    flat: Flat = {"findings": len(payload)}
    seen: Counter[str] = Counter()
    for f in payload:
        ident = _row_id(f, ("rule", "metric_id", "entity_id", "year"))
        seen[ident] += 1
        if seen[ident] > 1:
            ident = f"{ident}#{seen[ident]}"
        flat[f"{ident}:severity"] = f["severity"]
        flat[f"{ident}:difference"] = _number(f.get("difference"))
        flat[f"{ident}:tolerance"] = _number(f.get("tolerance"))
        for i, (metric, value) in enumerate(f.get("figures", [])):
            flat[f"{ident}:figures[{i}]={metric}"] = _number(value)
    return flat


def _targets(payload: Any) -> Flat:
    """``targets --json``: each target's status, actual, required and figures."""
    flat: Flat = {}
    for t in payload:
        ident = f"target_id={t['target_id']}"
        flat[f"{ident}:status"] = t["status"]
        for column in ("evaluated_year", "actual", "required", "path_value", "precision"):
            flat[f"{ident}:{column}"] = _number(t.get(column))
        for figure in t.get("figures", []):
            *where, value = figure
            flat[f"{ident}:figures[{'|'.join(str(w) for w in where)}]"] = _number(value)
    return flat


# -- capture -----------------------------------------------------------------------------------


def _invoke(ledger: Path, args: Sequence[str]) -> tuple[int, Any, str | None]:
    """Exit code, parsed JSON stdout (None when it is not JSON) and the exception's type name
    when the command raised instead of exiting."""
    result = runner.invoke(app, [*args, "--ledger", str(ledger)])
    error = None
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        error = type(result.exception).__name__
    try:
        payload = json.loads(result.stdout)
    except ValueError:
        payload = None
    return result.exit_code, payload, error


def _commands() -> list[tuple[str, list[str], Any]]:
    """(golden name, CLI arguments without ``--json``, flattener of the parsed JSON)."""

    def table(*ids: str, labels: Sequence[str] = (), text_numbers: Sequence[str] = ()) -> Any:
        return lambda payload: _table(payload, ids, labels, text_numbers)

    # inventory: without --year the breakdown sums every year; with --year only that year's
    # records are computed. Every year of the demo once per basis (--by year,entity,scope),
    # the group and entity breakdowns as such for all years, 2023 and 2024.
    inventory: list[list[str]] = []
    for year in (None, *INVENTORY_YEARS):
        for by in ("entity,scope", "scope"):
            inventory.append(["--by", by] + ([] if year is None else ["--year", str(year)]))
    inventory = [[*args, "--basis", "location"] for args in inventory] + [
        ["--by", "year,entity,scope", "--basis", basis] for basis in BASES
    ]
    commands: list[tuple[str, list[str], Any]] = []
    for options in inventory:
        by = options[options.index("--by") + 1]
        ids = [{"entity": "entity_id"}.get(d, d) for d in by.split(",")]
        args = ["inventory", *options]
        commands.append((" ".join(args), args, table(*ids)))
    commands += [
        ("energy", ["energy"], table("year", "activity_type", "basis_unit")),
        ("intensity", ["intensity"], table("year")),
        ("check", ["check"], _findings),
        ("targets --year 2024", ["targets", "--year", "2024"], _targets),
    ]
    kpi = table("metric_id", labels=("source",), text_numbers=("reported",))
    commands += [(f"kpi --year {y}", ["kpi", "--year", str(y)], kpi) for y in YEARS]
    forecast = table("series", "entity_id", "year", "month", labels=("model",))
    strategy: list[tuple[list[str], Any]] = [
        (["decompose", "--from", "2023", "--to", "2024"], table("factor")),
        (["pathway", "--base-year", "2024"], table("year", labels=("phase",))),
        (["macc"], table("measure_id")),
        (["optimise", "--year", "2030", "--reduction", "0.3"], table("measure_id")),
        (["forecast"], forecast),
        # seeded: the same seed draws the same Monte Carlo samples
        (["uncertainty", "--year", "2024", "--seed", "0"], table("output")),
    ]
    for args, flatten in strategy:
        commands.append((" ".join(["strategy", *args]), ["strategy", *args], flatten))
    return commands


def _report_figures(ledger_path: Path) -> Flat:
    """Every figure of the 2024 report model in English: lineage id -> value. A lineage id
    printed with more than one value (the energy mix shows each carrier under ``energy:YEAR``)
    is keyed ``<lineage>|<label>`` for each of its figures."""
    ledger = Ledger.open(ledger_path)
    try:
        report = build_report(ledger, REPORT_YEAR, "en", built_at="pinned")
    finally:
        ledger.close()
    figures = [f for block in report.blocks() for f in block_figures(block)]
    values: dict[str, set[Value]] = {}
    for f in figures:
        values.setdefault(f.lineage, set()).add(_plain(f.value))
    flat: Flat = {}
    seen: Counter[str] = Counter()
    for f in figures:
        key = f.lineage if len(values[f.lineage]) == 1 else f"{f.lineage}|{f.label}"
        value = _plain(f.value)
        if key in flat and flat[key] != value:  # same lineage and label, another value
            seen[key] += 1
            key = f"{key}#{seen[key] + 1}"
        flat[key] = value
    return flat


def _plain(value: Any) -> Value:
    """A figure's value as a JSON number (numpy scalars to float, NaN to null)."""
    return None if value is None else _number(float(value))


def capture(ledger: Path) -> dict[str, Flat]:
    """``{command: {key: value}}`` of every pinned command run on ``ledger``."""
    out: dict[str, Flat] = {}
    for name, args, flatten in _commands():
        code, payload, error = _invoke(ledger, [*args, "--json"])
        flat: Flat = {"exit_code": code}
        if error is not None:
            flat["exception"] = error
        elif payload is None:
            flat["output"] = "not JSON"
        else:
            flat |= flatten(payload)
        out[name] = flat
    out[f"report {REPORT_YEAR} en"] = _report_figures(ledger)
    return out


def _set(ledger: Path, key: str, value: str) -> None:
    result = runner.invoke(app, ["setting", "set", key, value, "--ledger", str(ledger)])
    assert result.exit_code == 0, result.output


# -- comparison --------------------------------------------------------------------------------


def _same(old: Value, new: Value) -> bool:
    if (
        isinstance(old, int | float)
        and isinstance(new, int | float)
        and not isinstance(old, bool)
        and not isinstance(new, bool)
    ):
        return math.isclose(old, new, rel_tol=REL_TOL, abs_tol=ABS_TOL)
    return type(old) is type(new) and old == new


def differences(golden: Mapping[str, Flat], actual: Mapping[str, Flat]) -> list[str]:
    """One line per differing key: command, key, old value, new value (``<absent>`` for keys
    only on one side)."""
    lines = []
    absent = "<absent>"
    for command in sorted(set(golden) | set(actual)):
        old_flat, new_flat = golden.get(command, {}), actual.get(command, {})
        for key in sorted(set(old_flat) | set(new_flat)):
            old = old_flat.get(key, absent)
            new = new_flat.get(key, absent)
            if key not in old_flat or key not in new_flat or not _same(old, new):
                lines.append(f"{command} | {key} | old {old!r} | new {new!r}")
    return lines


def _write_golden(combination: str, figures: dict[str, Flat]) -> None:
    """Merge one combination into the golden file under a lock (xdist workers write at once);
    combinations no longer in COMBINATIONS are dropped."""
    GOLDEN.parent.mkdir(parents=True, exist_ok=True)
    folder = os.open(GOLDEN.parent, os.O_RDONLY)  # the lock: the golden folder itself
    try:
        fcntl.flock(folder, fcntl.LOCK_EX)
        data = json.loads(GOLDEN.read_text(encoding="utf-8")) if GOLDEN.exists() else {}
        data[combination] = figures
        data = {c: data[c] for c in COMBINATIONS if c in data}
        text = json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False, allow_nan=False)
        GOLDEN.write_text(text + "\n", encoding="utf-8")
    finally:
        os.close(folder)  # releases the lock


# -- tests -------------------------------------------------------------------------------------


@pytest.fixture
def built_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """typer's CliRunner builds the click command tree of the app on every call (a fifth of
    a second, some 30 s over the file): build it once. Without the private name (another
    typer) the runner is only slower."""
    monkeypatch.setattr(
        typer.testing, "_get_command", functools.cache(typer.main.get_command), raising=False
    )


@pytest.mark.parametrize("combination", COMBINATIONS)
@pytest.mark.usefixtures("built_once")
def test_pinned_figures(combination: str, demo_ledger_path: Path, tmp_path: Path) -> None:
    approach, basis = combination.split("/")
    ledger = tmp_path / "demo.db"
    shutil.copyfile(demo_ledger_path, ledger)
    _set(ledger, "approach", approach)
    _set(ledger, "scope2_total_basis", basis)
    actual = capture(ledger)
    if REGENERATE:
        _write_golden(combination, actual)
        return
    assert GOLDEN.exists(), f"{GOLDEN} missing: ESGLEDGER_PIN_REGENERATE=1 writes it"
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert combination in golden, f"{combination} not in {GOLDEN.name}; regenerate it"
    lines = differences(golden[combination], actual)
    assert not lines, (
        f"{len(lines)} pinned figure(s) of {combination} differ (command | key | old | new):\n"
        + "\n".join(lines)
    )


def test_golden_has_every_combination() -> None:
    if REGENERATE:
        pytest.skip("regenerating")
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert sorted(golden) == sorted(COMBINATIONS)
