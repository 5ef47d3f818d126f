"""The strategy libraries are pure (data in, results out) and the use cases of
:mod:`esgledger.usecases.strategy` only read the Book for them: the pure call on the Book's data
gives the use case's result, and the defaults the CLI and the web pages show are declared once."""

from __future__ import annotations

import inspect
import subprocess
import sys

import pandas as pd
import pytest

from esgledger.book import current_book
from esgledger.cli import strategy as cli
from esgledger.store.ledger import Ledger
from esgledger.strategy.abatement import baseline_from_inventory
from esgledger.strategy.forecast import history_from_inventory
from esgledger.strategy.kaya import KayaSource, kaya_decomposition
from esgledger.strategy.pathways import pathway_from_inventory
from esgledger.strategy.uncertainty import uncertainty_from_inventory
from esgledger.usecases import strategy as usecase
from esgledger.usecases.targets import ledger_milestones
from esgledger.web.routes import strategy as web

STRATEGY = (
    "abatement",
    "choices",
    "forecast",
    "forecast_models",
    "kaya",
    "lmdi",
    "pathways",
    "uncertainty",
)
NOT_PURE = (
    "sqlalchemy",
    "esgledger.book",
    "esgledger.service",
    "esgledger.store",
    "esgledger.report",
    "esgledger.figures",
    "esgledger.assess",
    "esgledger.usecases",
)


def test_the_strategy_libraries_import_no_ledger() -> None:
    code = (
        "import sys\n"
        + "".join(f"import esgledger.strategy.{m}\n" for m in STRATEGY)
        + f"print(sorted(m for m in sys.modules if m.startswith({NOT_PURE!r})))"
    )
    found = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert found.strip() == "[]"


def test_the_pure_functions_on_the_books_data_are_the_use_cases(demo_ledger: Ledger) -> None:
    result = current_book(demo_ledger).inventory()
    pd.testing.assert_frame_equal(
        history_from_inventory(result), usecase.history_from_ledger(demo_ledger)
    )
    frame, notes = pathway_from_inventory(result, 2024, ledger_milestones(demo_ledger))
    default_frame, default_notes = usecase.ledger_pathway(demo_ledger)  # the latest year
    pd.testing.assert_frame_equal(frame, default_frame)
    assert notes == default_notes
    assert baseline_from_inventory(result, 2024) == usecase.baseline_from_ledger(demo_ledger)
    with pytest.raises(ValueError, match="no inventory for 2019"):
        uncertainty_from_inventory(result, 2019)
    data = current_book(demo_ledger).inventory_input((2024,))
    pure = uncertainty_from_inventory(result, 2024, data.records, data.direct, 300, seed=3)
    wrapped = usecase.uncertainty_from_ledger(demo_ledger, 2024, iterations=300, seed=3)
    pd.testing.assert_frame_equal(pure.summary, wrapped.summary)


def test_a_kaya_source_is_data(demo_ledger: Ledger) -> None:
    source = usecase.kaya_source(demo_ledger, 2023, 2024)
    found, inputs = kaya_decomposition(source, 2023, 2024, by="scope")
    expected, _ = usecase.kaya_decomposition(demo_ledger, 2023, 2024, by="scope")
    assert found.change == pytest.approx(expected.change, abs=1e-9)
    pd.testing.assert_series_equal(found.additive, expected.additive)
    assert inputs.units["activity"] == "万元"
    # no group revenue in a year: the library says so, whoever built the source
    lacking = KayaSource(
        source.result, {2024: source.group_activity[2024]}, source.entity_activity, source.roots
    )
    with pytest.raises(ValueError, match=r"no group revenue \(万元\) for 2023: expected a"):
        kaya_decomposition(lacking, 2023, 2024, by="scope")


def _default(function: object, name: str) -> object:
    return inspect.signature(function).parameters[name].default  # type: ignore[arg-type]


def test_the_defaults_are_declared_once(demo_ledger: Ledger) -> None:
    assert usecase.default_base_year(demo_ledger) == 2024  # the demo's latest year
    assert usecase.base_year_of(demo_ledger, 2023) == 2023
    assert usecase.default_target_year(2024) == 2024 + usecase.DEFAULT_TARGET_YEARS
    share, cap = usecase.plan_cap(100.0)
    assert (share, cap) == (usecase.DEFAULT_REDUCTION, pytest.approx(70.0))
    assert usecase.plan_cap(100.0, 0.5) == (0.5, 50.0)
    assert usecase.plan_cap(100.0, cap=40.0) == (None, 40.0)
    # the CLI and the web pages default to the same base year, basis and horizon
    for command in (cli.strategy_pathway, cli.strategy_optimise, cli.strategy_energy_plan):
        assert _default(command, "base_year") is None, command
    assert _default(cli.strategy_macc, "year") is None
    assert _default(cli.strategy_optimise, "basis") is usecase.DEFAULT_PLAN_BASIS
    assert _default(web.api_abatement, "basis") is usecase.DEFAULT_PLAN_BASIS
    assert _default(cli.strategy_forecast, "horizon") == usecase.DEFAULT_HORIZON
    assert _default(web.api_forecast, "horizon") == usecase.DEFAULT_HORIZON
    assert _default(cli.strategy_uncertainty, "iterations") == usecase.DEFAULT_ITERATIONS
    assert _default(web.api_uncertainty, "iterations") == usecase.PAGE_ITERATIONS
