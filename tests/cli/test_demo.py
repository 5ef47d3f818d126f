"""The README's first command: the demo prints the seed group's figures (published values)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from esgledger.cli import app
from esgledger.service import intensity_table, run_inventory, settings_from_ledger
from esgledger.store.ledger import Ledger

runner = CliRunner()


@pytest.fixture(scope="module")
def demo_output(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("cli-demo") / "demo.db"
    result = runner.invoke(app, ["demo", "--ledger", str(path)], terminal_width=200)
    assert result.exit_code == 0, result.output
    return result.output


def _row(output: str, label: str, after: str = "computed vs reported") -> list[str]:
    """Cells of the first table row labelled ``label`` below the line containing ``after``."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if after in line)
    line = next(line for line in lines[start:] if re.search(rf"│ {re.escape(label)}\s+│", line))
    return [cell.strip() for cell in line.split("│")[1:-1]]


def test_demo_prints_energy_within_0_05_of_published(demo_output: str) -> None:
    # 45,074.37 MWh x 0.1229 + 29,812 m3 x 1.33 / 1000 + 1,471.54 L x 0.73 kg/L x 1.4714 / 1000
    # = 5,539.640 + 39.650 + 1.581 = 5,580.871 tce; published 5,580.86
    cells = _row(demo_output, "total", after="Energy 2024")
    assert cells[3] == "5,580.87"
    cells = _row(demo_output, "energy (tce)")
    assert cells[1] == "5,580.87"
    assert abs(float(cells[1].replace(",", "")) - 5580.86) <= 0.05


def test_demo_prints_scopes_and_reconciliation(demo_output: str) -> None:
    assert _row(demo_output, "scope 1")[1:3] == ["4,472.70", "4,472.70"]
    # 45,074.37 MWh x 0.5366 tCO2/MWh (MEE/NBS 2022, the latest published by March 2025)
    assert _row(demo_output, "scope 2 (location)")[1:4] == ["24,186.91", "24,197.00", "-10.09"]
    assert _row(demo_output, "scope 3")[1:3] == ["3,265.40", "3,265.40"]
    assert _row(demo_output, "total")[1:4] == ["31,925.01", "31,935.10", "-10.09"]
    # market-based: 45,074.37 x 0.5856 (2022 excl. market-traded non-fossil)
    assert _row(demo_output, "scope 2 (market)")[1] == "26,395.55"


def test_demo_prints_intensity_and_series(demo_output: str) -> None:
    assert _row(demo_output, "intensity (per 万元)")[1:3] == ["0.0102", "0.0102"]
    for year, total in (
        ("2020", "18,282.45"),
        ("2021", "21,576.76"),
        ("2022", "21,778.69"),
        ("2023", "24,014.98"),
        ("2024", "31,925.01"),
    ):
        assert _row(demo_output, year, after="Series 2020-2024")[4] == total
    assert "Base year: reset -> 2024" in demo_output


def test_demo_is_idempotent(tmp_path: Path) -> None:
    path = tmp_path / "demo.db"
    for _ in range(2):
        assert runner.invoke(app, ["demo", "--ledger", str(path)]).exit_code == 0
    ledger = Ledger.open(path)
    assert ledger.counts()["activity_record"] == 276
    assert len(ledger.batches()) == 3  # activity, direct and the KPI figures


def test_intensity_is_recomputed_not_summed(demo_ledger: Ledger) -> None:
    result = run_inventory(demo_ledger, settings_from_ledger(demo_ledger))
    table = intensity_table(demo_ledger, result).set_index("year")
    # 31,925.01 tCO2e / 3,131,600 万元 (313.16 亿元)
    assert table.loc[2024, "intensity_per_wan_yuan"] == pytest.approx(31925.006 / 3131600, rel=1e-6)
    assert round(table.loc[2024, "intensity_per_wan_yuan"], 4) == 0.0102
    # per employee: 31,925.01 / 90,759
    assert table.loc[2024, "intensity_per_employee"] == pytest.approx(31925.006 / 90759, rel=1e-6)


def test_demo_prints_the_carbon_strategy(demo_output: str, demo_ledger: Ledger) -> None:
    """The strategy paragraph is the library's numbers: LMDI effects that add up to the
    change 2023 -> 2024 (31,925.01 - 24,014.98 = 7,910.03) and a plan re-checked without the
    solver."""
    from esgledger.usecases.strategy import kaya_decomposition  # noqa: PLC0415

    text = " ".join(demo_output.split())
    assert "Carbon strategy: emissions 2023 -> 2024 7,910.03 tCO2e" in text
    found, _ = kaya_decomposition(demo_ledger, 2023, 2024, by="scope")
    for factor, value in found.additive.items():
        assert f"{factor} {float(value):,.2f}" in text
    assert "recomputed without the solver: ok" in text
    assert "group pathway" in text
