"""The measure catalogue against the standards and the ledger (issue 17):

(a) contractual instruments (certificates, green electricity contracts, PPAs) lower only
market-based scope 2 (GHG Protocol Scope 2 Guidance, 2015, ch. 4 and 6): a plan on the
location basis never buys them; before, `strategy optimise --basis location` bought 4,346 MWh
of certificates against location-based scope 2 with a shadow price of 30 / 0.5306.
(d) a measure's ``applicable_entities`` must name the ledger's entities: before, a measure
limited to an entity that does not exist was adopted.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from esgledger.cli import app
from esgledger.store.ledger import Ledger
from esgledger.strategy.abatement import InfeasiblePlanError, plan_for_cap
from esgledger.strategy.measures import CatalogueError, for_basis
from esgledger.usecases.strategy import baseline_from_ledger, measure_catalogue
from strategy.test_abatement import catalogue, csv_text, measure  # tests/strategy, a package

FACTOR = 0.5  # tCO2/MWh on both bases, for the arithmetic below


def _rows() -> list[dict[str, str]]:
    return [
        # a certificate per MWh at 30 CNY/year: 0.5 t, 60 CNY/t on the market basis
        measure(
            "certificate",
            0,
            30,
            grid_mwh_per_year=1,
            max_units=1000,
            divisible="yes",
            unit="MWh",
            lever="green_power",
            counts_on="market",
        ),
        # 100 MWh of electricity saved for 10,000 CNY/year: 50 t on either basis, 200 CNY/t
        measure("efficiency", 0, 10_000, grid_mwh_per_year=100, counts_on=""),
    ]


def test_an_instrument_counts_on_the_market_basis_only() -> None:
    priced = catalogue(_rows(), FACTOR)
    market, none = for_basis(priced, "market")
    assert none == [] and market["unit_abatement_t"].tolist() == [0.5, 50.0]  # 1 x 0.5, 100 x 0.5
    location, [note] = for_basis(priced, "location")
    assert location["measure_id"].tolist() == ["efficiency"]
    assert str(note) == (
        "measures_test.csv:2:counts_on: warning: certificate: a contractual instrument "
        "(counts_on market) lowers market-based scope 2 only; left out of a plan on the "
        "location basis [scope2-instrument]"
    )


def test_a_location_based_plan_buys_no_certificates() -> None:
    priced = catalogue(_rows(), FACTOR)
    # 1,000 t, cap 960: 40 t to cut. Market: 80 certificates (80 x 0.5 = 40 t) at 30 CNY =
    # 2,400 CNY, shadow price 30 / 0.5 = 60 CNY/t (the efficiency measure, 200 CNY/t, unused)
    market = plan_for_cap(for_basis(priced, "market")[0], 1000, 960, 2030)
    assert market.adoptions["measure_id"].tolist() == ["certificate"]
    assert market.abatement_t == pytest.approx(40)
    assert market.total_cost_cny == pytest.approx(80 * 30)
    assert market.shadow_price == pytest.approx(30 / 0.5)
    # location: only the efficiency measure (50 t >= 40 t) for 10,000 CNY
    location = plan_for_cap(for_basis(priced, "location")[0], 1000, 960, 2030)
    assert location.adoptions["measure_id"].tolist() == ["efficiency"]
    assert location.total_cost_cny == pytest.approx(10_000)
    # and with nothing but certificates, a location-based cut is infeasible, not bought
    only = catalogue(_rows()[:1], FACTOR)
    with pytest.raises(InfeasiblePlanError):
        plan_for_cap(for_basis(only, "location")[0], 1000, 960, 2030)


def test_counts_on_is_checked(tmp_path: Path) -> None:
    with pytest.raises(CatalogueError) as caught:
        catalogue([measure("x", 1, 1, counts_on="location")])
    assert str(caught.value) == (
        "measures_test.csv:2:counts_on: expected both, market or an empty cell, got "
        "'location' [counts_on]"
    )


def test_applicable_entities_must_be_the_ledgers(demo_ledger: Ledger, tmp_path: Path) -> None:
    path = tmp_path / "mine.csv"
    rows = [measure("a", 10, 100, applicable_entities="S01;S99"), measure("b", 10, 100)]
    path.write_text(csv_text(rows), encoding="utf-8")
    base = baseline_from_ledger(demo_ledger, 2024)
    with pytest.raises(CatalogueError) as caught:
        measure_catalogue(demo_ledger, base, "market", str(path))
    [problem] = caught.value.diagnostics
    assert str(problem).startswith(
        "mine.csv:2:applicable_entities: expected * or ids of the ledger's entities, got 'S99'"
    )
    rows[0]["applicable_entities"] = "S01;S02"
    path.write_text(csv_text(rows), encoding="utf-8")
    found, notes = measure_catalogue(demo_ledger, base, "market", str(path))
    assert found["measure_id"].tolist() == ["a", "b"] and notes == []


def test_the_cli_plan_on_the_location_basis_says_what_it_left_out(demo_ledger_path: Path) -> None:
    args = [
        "strategy",
        "optimise",
        "--year",
        "2028",
        "--reduction",
        "0.05",
        "--basis",
        "location",
        "--json",
    ]
    result = CliRunner().invoke(app, [*args, "--ledger", str(demo_ledger_path)], terminal_width=200)
    assert result.exit_code == 0, result.stderr
    adopted = {r["measure_id"] for r in json.loads(result.stdout)["rows"]}
    assert adopted and not adopted & {"green_certificates", "green_ppa"}
    assert "green_certificates: a contractual instrument" in result.stderr
    assert "green_ppa: a contractual instrument" in result.stderr
