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
    data = json.loads(result.stdout)
    adopted = {r["measure_id"] for r in data["rows"]}
    assert adopted and not adopted & {"green_certificates", "green_ppa"}
    left = [d["message"].split(":")[0] for d in data["diagnostics"]]
    assert left == ["green_certificates", "green_ppa"]


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), terminal_width=200)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def no_electricity(tmp_path: Path) -> str:
    """A one-entity ledger whose 2024 is 10 t of diesel and no purchased electricity."""
    org = tmp_path / "org.csv"
    org.write_text(
        "entity_id,name,parent_id,kind,equity_share,operational_control,financial_control,"
        "region\nG,Test Group,,group,1,true,true,CN-GD\n",
        encoding="utf-8",
    )
    activity = tmp_path / "act.csv"
    activity.write_text(
        "record_id,entity_id,period,activity_type,quantity,unit,note\n"
        "a1,G,2024,diesel_stationary,10,t,\n",
        encoding="utf-8",
    )
    db = str(tmp_path / "l.db")
    assert _run("init", "--entities", str(org), "--ledger", db)[0] == 0
    assert _run("import", str(activity), "--ledger", db)[0] == 0
    return db


def test_without_purchased_electricity_power_measures_are_left_out_by_name(
    no_electricity: str, tmp_path: Path
) -> None:
    """Before: `strategy macc` printed n/a costs and `optimise` stopped with "`c` must be a
    one-dimensional array of finite numbers"; a measure requiring a left-out one failed
    with "'shuttle_electric' is not in list"."""
    rows = [
        measure("pv", 0, 100, grid_mwh_per_year=1),
        measure("pv_monitoring", 2, 100, requires="pv"),  # needs the PV: out with it
        measure("boiler_tuning", 3, 600, excludes="pv"),  # its exclusion of pv is moot
    ]
    path = tmp_path / "mine.csv"
    path.write_text(csv_text(rows), encoding="utf-8")
    code, out, err = _run(
        "strategy", "macc", "--catalogue", str(path), "--json", "--ledger", no_electricity
    )
    assert code == 0, err
    data = json.loads(out)
    assert data["grid_factor"] is None and data["year"] == 2024
    assert [r["measure_id"] for r in data["rows"]] == ["boiler_tuning"]
    assert [d["code"] for d in data["diagnostics"]] == ["no-grid-factor", "requires-left-out"]
    assert "pv_monitoring: requires pv, left out; left out too" in data["diagnostics"][1]["message"]
    # 10 t diesel: 10 x 43.33 GJ/t x 74.1 kgCO2/GJ + CH4 and N2O ~ 32.2 t; a 5 % cut is 1.6 t,
    # met by boiler tuning (3 t/year for 600 CNY/year)
    code, out, err = _run(
        "strategy", "optimise", "--year", "2030", "--reduction", "0.05",
        "--catalogue", str(path), "--json", "--ledger", no_electricity,
    )  # fmt: skip
    assert code == 0, err
    data = json.loads(out)
    assert [r["measure_id"] for r in data["rows"]] == ["boiler_tuning"]
    plan = data["plan"]
    assert plan["cap_tco2e"] == pytest.approx(plan["baseline_tco2e"] * 0.95)
    assert plan["total_cost_cny"] == pytest.approx(600)
    assert plan["abatement_t_per_year"] == pytest.approx(3)
    assert plan["verified"] is True and isinstance(plan["binding"], list)
    # nothing left at all: a message, exit 1
    only_pv = tmp_path / "pv.csv"
    only_pv.write_text(csv_text(rows[:1]), encoding="utf-8")
    code, _, err = _run("strategy", "macc", "--catalogue", str(only_pv), "--ledger", no_electricity)
    assert code == 1 and "no measure of the catalogue applies" in err


def test_optimise_json_carries_the_cost_shadow_price_and_binding(demo_ledger_path: Path) -> None:
    """Before, `optimise --json` printed the adoptions only; the summary line's figures are
    now in ``plan``, and a pathway run's year table in ``years``."""
    db = str(demo_ledger_path)
    code, out, err = _run(
        "strategy", "optimise", "--year", "2030", "--reduction", "0.3", "--json", "--ledger", db
    )
    assert code == 0, err
    plan = json.loads(out)["plan"]
    assert plan["cap_tco2e"] == pytest.approx(plan["baseline_tco2e"] * (1 - 0.3))
    assert plan["shadow_price_cny_per_t"] >= 0 and plan["binding"] and plan["verified"]
    code, text, _ = _run(
        "strategy", "optimise", "--year", "2030", "--reduction", "0.3", "--ledger", db
    )
    assert f"annual cost {plan['total_cost_cny']:,.0f} CNY" in text
    code, out, err = _run(
        "strategy", "optimise", "--year", "2030", "--pathway", "group", "--json", "--ledger", db
    )
    assert code == 0, err
    years = json.loads(out)["years"]
    assert [r["year"] for r in years] == list(range(2025, 2031))


def test_a_ledger_without_its_own_catalogue_gets_no_demo_measures(
    no_electricity: str, tmp_path: Path
) -> None:
    """The demo group's measures (sized to a 30,000 t group: 300 t of travel policy, say)
    reached any ledger as the default catalogue; a 32 t company got a 330 t plan. Now a ledger
    without its own catalogue says so, and enters one from a file, all or nothing."""
    from esgledger.store.ledger import Ledger as Store  # noqa: PLC0415
    from esgledger.usecases.measures import NO_MEASURES  # noqa: PLC0415

    code, out, err = _run("strategy", "macc", "--ledger", no_electricity)
    assert code == 1 and out == "" and NO_MEASURES in " ".join(err.split())
    code, _, err = _run("strategy", "optimise", "--year", "2030", "--reduction", "0.05",
                        "--ledger", no_electricity)  # fmt: skip
    assert code == 1 and "no measure catalogue in this ledger" in err
    # a file naming an entity the ledger does not have: refused whole, located, nothing kept
    mine = tmp_path / "mine.csv"
    rows = [
        measure("boiler_tuning", 3, 600, applicable_entities="G"),
        measure("burner_swap", 5, 2_000, applicable_entities="G;X9"),
    ]
    mine.write_text(csv_text(rows), encoding="utf-8")
    code, _, err = _run("strategy", "measures", "import", str(mine), "--ledger", no_electricity)
    assert code == 2 and "mine.csv:3:applicable_entities" in err and "'X9'" in err
    store = Store.open(no_electricity)
    try:
        assert store.measure_rows() == []
        rows[1]["applicable_entities"] = "G"
        mine.write_text(csv_text(rows), encoding="utf-8")
        code, out, err = _run("strategy", "measures", "import", str(mine), "--ledger",
                              no_electricity)  # fmt: skip
        assert code == 0, err
        assert "2 measures in the catalogue (2 new, 0 changed, 0 removed)" in out
        assert [r["measure_id"] for r in store.measure_rows()] == ["boiler_tuning", "burner_swap"]
        code, out, _ = _run("strategy", "measures", "import", str(mine), "--ledger",
                            no_electricity)  # fmt: skip
        assert "the same as the ledger's, nothing changed" in out
    finally:
        store.close()
    # the plan reads the ledger's catalogue: 10 t diesel ~ 32.2 t; a 20 % cut is 6.4 t:
    # both measures (3 + 5 = 8 t >= 6.4 t) for 600 + 2,000 = 2,600 CNY/year
    code, out, err = _run("strategy", "optimise", "--year", "2030", "--reduction", "0.2",
                          "--json", "--ledger", no_electricity)  # fmt: skip
    assert code == 0, err
    data = json.loads(out)
    assert sorted(r["measure_id"] for r in data["rows"]) == ["boiler_tuning", "burner_swap"]
    assert data["plan"]["total_cost_cny"] == pytest.approx(2_600)
    # the export gives the cells back; the template is the demo's example, to copy
    exported, example = tmp_path / "out.csv", tmp_path / "example.csv"
    assert _run("strategy", "measures", "export", str(exported), "--ledger", no_electricity)[0] == 0
    back = exported.read_text(encoding="utf-8").splitlines()
    assert back[1].startswith("boiler_tuning,boiler_tuning,boiler_tuning,energy_management,2,3,")
    assert _run("strategy", "measures", "template", str(example))[0] == 0
    assert "illustrative assumption for the demo" in example.read_text(encoding="utf-8")


def test_the_catalogue_import_is_audited(demo_ledger: Ledger) -> None:
    from esgledger import audit  # noqa: PLC0415

    [entry] = audit.entries(demo_ledger.engine, object_type="measure_catalogue", limit=5)
    assert (entry["action"], entry["object_id"]) == ("import", "measures_demo.csv")
    assert len(demo_ledger.measure_rows()) == 16
