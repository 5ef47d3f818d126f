"""Every figure of a view is at one boundary: under equity share the quantities, the standard
coal and the emissions are all consolidated, and every command says the same number."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from esgledger import figures
from esgledger.cli import app
from esgledger.store.ledger import Ledger

runner = CliRunner()
ENTITIES = (
    "entity_id,name,parent_id,kind,equity_share,operational_control,financial_control,region\n"
    "G,Group,,group,1,true,true,CN-BJ\n"
    "S1,Associate,G,subsidiary,0.5,false,false,CN-BJ\n"
)
ACTIVITY = (
    "record_id,entity_id,period,activity_type,quantity,unit,region\n"
    "E1,G,2022,electricity,1000,MWh,\n"
    "E2,S1,2022,electricity,1000,MWh,\n"
)
# GB/T 2589-2020 当量值 of electricity: 0.1229 kgce/kWh.
# equity share: (1,000 + 0.5 x 1,000) MWh = 1,500 MWh = 1,500,000 kWh x 0.1229 kgce / 1,000
EQUITY_MWH = 1000 + 0.5 * 1000
EQUITY_TCE = EQUITY_MWH * 1000 * 0.1229 / 1000  # 184.35


def run(*args: str) -> str:
    result = runner.invoke(app, list(args), terminal_width=200)
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture
def ledger(tmp_path: Path) -> str:
    path = str(tmp_path / "equity.db")
    (tmp_path / "entities.csv").write_text(ENTITIES, encoding="utf-8")
    (tmp_path / "activity.csv").write_text(ACTIVITY, encoding="utf-8")
    run("init", "--ledger", path, "--entities", str(tmp_path / "entities.csv"))
    run("import", str(tmp_path / "activity.csv"), "--ledger", path)
    run("setting", "set", "approach", "equity_share", "--ledger", path)
    return path


def _kpi(path: str) -> dict[str, float | None]:
    rows = json.loads(run("kpi", "--year", "2022", "--json", "--ledger", path))["rows"]
    return {r["metric_id"]: r["computed"] for r in rows}


def test_equity_share_electricity_is_consolidated_everywhere(ledger: str) -> None:
    energy = json.loads(run("energy", "--json", "--ledger", ledger, "--by", "year,activity"))
    (row,) = energy["rows"]
    assert row["mwh"] == pytest.approx(EQUITY_MWH, rel=1e-12)
    assert row["quantity_basis"] == pytest.approx(EQUITY_MWH, rel=1e-12)
    assert row["quantity_gross"] == pytest.approx(2000.0, rel=1e-12)  # the named gross figure
    assert row["tce"] == pytest.approx(EQUITY_TCE, rel=1e-12)
    kpi = _kpi(ledger)
    assert kpi["energy.electricity_purchased"] == pytest.approx(EQUITY_MWH, abs=0.005)
    assert kpi["energy.total_tce"] == pytest.approx(184.35, abs=0.005)
    with Ledger.open(ledger) as opened:
        node = figures.explain(opened, "metric:2022:energy.electricity_purchased")
        assert node.value == pytest.approx(EQUITY_MWH, rel=1e-12)
        shares = {child.label: child.detail["share"] for child in node.children}
        assert shares == {"G": 1.0, "S1": 0.5}
        assert figures.explain(opened, "energy:2022").value == pytest.approx(EQUITY_TCE)
        s1 = figures.explain(opened, "metric:2022:energy.electricity_purchased:S1")
        assert s1.value == pytest.approx(500.0, rel=1e-12)


def test_the_emission_factor_per_consolidated_mwh_is_the_grid_factor(ledger: str) -> None:
    """tCO2e / MWh is the same under both approaches: the two are at one boundary each."""
    equity = _kpi(ledger)
    run("setting", "set", "approach", "operational_control", "--ledger", ledger)
    control = _kpi(ledger)  # the associate is outside the boundary: G's 1,000 MWh only
    assert control["energy.electricity_purchased"] == pytest.approx(1000.0, abs=0.005)
    per_mwh_equity = (equity["ghg.scope2"] or 0) / (equity["energy.electricity_purchased"] or 1)
    per_mwh_control = (control["ghg.scope2"] or 0) / (control["energy.electricity_purchased"] or 1)
    assert per_mwh_equity == pytest.approx(per_mwh_control, rel=1e-3)  # figures rounded to 0.01
