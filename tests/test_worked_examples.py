"""The worked examples of docs/user-guide.md run as written (issue 16).

Each ``### `` example under ``## Worked examples``: the ```` ```csv file=NAME ```` blocks are
written to an empty folder, then every ``$ esgledger ...`` line of its ```` ```console ````
blocks is run in that folder, in order; it must exit 0, and each line shown under it must be
one of the lines it printed: the same text, except that a number shown with d decimals is the
printed number rounded to d decimals (``22803.59`` for ``22803.5861856``), and a CSV row shown
may be a row of the printed CSV.
"""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from esgledger.cli import app

GUIDE = Path(__file__).resolve().parent.parent / "docs" / "user-guide.md"
BLOCK = re.compile(r"```(\w+)([^\n]*)\n(.*?)```", re.S)
NUMBER = re.compile(r"^-?[\d,]*\.?\d+$")


def _examples() -> dict[str, str]:
    text = GUIDE.read_text(encoding="utf-8")
    part = text.split("\n## Worked examples\n", 1)[1].split("\n## ", 1)[0]
    return {s.splitlines()[0].strip(): s for s in part.split("\n### ")[1:]}


def _same_token(shown: str, printed: str) -> bool:
    if shown == printed:
        return True
    if not (NUMBER.match(shown) and NUMBER.match(printed)):
        return False
    decimals = len(shown.partition(".")[2])
    value = float(printed.replace(",", ""))
    return f"{value:,.{decimals}f}".replace(",", "") == shown.replace(",", "")


def _shown_in(line: str, output: str) -> bool:
    printed = [" ".join(p.split()) for p in output.splitlines()]
    wanted = " ".join(line.split())
    if any(wanted in p for p in printed):
        return True
    cells = wanted.split(",")
    return any(
        len(p.split(",")) == len(cells)
        and all(_same_token(a, b) for a, b in zip(cells, p.split(","), strict=True))
        for p in printed
    )


def _steps(example: str) -> list[tuple[str, list[str]]]:
    steps: list[tuple[str, list[str]]] = []
    for kind, _, body in BLOCK.findall(example):
        if kind != "console":
            continue
        for line in body.splitlines():
            if line.startswith("$ "):
                steps.append((line[2:], []))
            elif line.strip():
                steps[-1][1].append(line)
    return steps


@pytest.mark.parametrize("name", sorted(_examples()))
def test_the_worked_example_runs_as_written(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    example = _examples()[name]
    for _kind, info, body in BLOCK.findall(example):
        found = re.search(r"file=(\S+)", info)
        if found:
            (tmp_path / found.group(1)).write_text(body, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.delenv("ESGLEDGER_DB", raising=False)
    steps = _steps(example)
    assert steps, f"{name}: no command"
    runner = CliRunner()
    for command, shown in steps:
        words = shlex.split(command)
        assert words[0] == "esgledger", command
        result = runner.invoke(app, words[1:], env={**os.environ, "COLUMNS": "200"})
        assert result.exit_code == 0, f"{command}: exit {result.exit_code}\n{result.output}"
        missing = [line for line in shown if not _shown_in(line, result.output)]
        assert missing == [], f"{command} did not print {missing}; it printed:\n{result.output}"
