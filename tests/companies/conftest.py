"""What the real-company tests share: the command line as a user runs it, and a new ledger
made from a company's organisation and activity files (``data/<name>_entities.csv``,
``data/<name>_activity.csv``) with the commands that record its stated (or chosen) methods."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from typer.testing import CliRunner

from esgledger.cli import app

DATA = Path(__file__).parent / "data"
Run = Callable[..., str]


@pytest.fixture(scope="session")
def esgledger() -> Run:
    """``esgledger ARGS...``: its standard output; the test fails on a non-zero exit."""
    runner = CliRunner()

    def run(*args: str) -> str:
        result = runner.invoke(app, list(args), terminal_width=200)
        assert result.exit_code == 0, result.output
        return result.stdout

    return run


@pytest.fixture(scope="session")
def company_ledger(tmp_path_factory: pytest.TempPathFactory, esgledger: Run) -> Callable[..., str]:
    """``company_ledger(name, *commands)``: a new ledger of ``data/<name>_entities.csv``, each
    command run on it (``--ledger`` added), then ``data/<name>_activity.csv`` imported."""

    def make(name: str, *commands: Sequence[str]) -> str:
        path = str(tmp_path_factory.mktemp(name) / f"{name}.db")
        esgledger("init", "--ledger", path, "--entities", str(DATA / f"{name}_entities.csv"))
        for command in commands:
            esgledger(*command, "--ledger", path)
        activity = str(DATA / f"{name}_activity.csv")
        esgledger("import", activity, "--kind", "activity", "--ledger", path)
        return path

    return make
