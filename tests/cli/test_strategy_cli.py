"""`esgledger strategy ...` on the demo ledger."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

from esgledger.cli import app

runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), terminal_width=200)
    return result.exit_code, result.stdout, result.stderr


def test_decompose_2023_2024_sums_to_the_change(demo_ledger_path: Path) -> None:
    code, out, err = run(
        "strategy", "decompose", "--from", "2023", "--to", "2024", "--by", "scope",
        "--json", "--ledger", str(demo_ledger_path),
    )  # fmt: skip
    assert code == 0, err
    rows = {r["factor"]: r for r in json.loads(out)["rows"]}
    # reported 2023 total 24,014.98 and the 2024 inventory 31,925.01 tCO2e
    assert rows["total change"]["effect_tco2e"] == pytest.approx(31925.01 - 24014.98, abs=0.01)
    effects = rows["activity"]["effect_tco2e"] + rows["emission_intensity"]["effect_tco2e"]
    assert effects == pytest.approx(rows["total change"]["effect_tco2e"], abs=1e-6)

    # by hand: activity effect = sum over scopes of L(C_2024, C_2023) x ln(313.16 / 175.8),
    # scopes 2023 (reported) -> 2024 (inventory): 5,031.59 -> 4,472.70; 15,555.53 -> 24,186.91;
    # 3,427.86 -> 3,265.40 tCO2e; revenue 175.8 -> 313.16 亿元
    def log_mean(a: float, b: float) -> float:
        return (a - b) / (math.log(a) - math.log(b))

    weights = log_mean(4472.70, 5031.59) + log_mean(24186.91, 15555.53) + log_mean(3265.40, 3427.86)
    assert rows["activity"]["effect_tco2e"] == pytest.approx(
        weights * math.log(313.16 / 175.8), abs=0.01
    )


def test_pathway_to_the_group_targets(demo_ledger_path: Path) -> None:
    code, out, err = run(
        "strategy", "pathway", "--growth", "0", "--json", "--ledger", str(demo_ledger_path)
    )
    assert code == 0, err
    rows = {r["year"]: r for r in json.loads(out)["rows"]}
    assert rows[2024]["pathway_tco2e"] == pytest.approx(31925.01, abs=0.01)
    assert rows[2028]["pathway_tco2e"] == pytest.approx(31925.01, abs=0.01)  # flat to the peak
    assert rows[2050]["pathway_tco2e"] == pytest.approx(3192.50, abs=0.01)  # 10 % residual
    # 4.2 %/year of the base: 2030 = 31,925.01 x (1 - 0.042 x 6)
    assert rows[2030]["contraction_1.5C_tco2e"] == pytest.approx(31925.01 * 0.748, abs=0.01)


def test_forecast_macc_optimise_and_uncertainty_on_the_demo(demo_ledger_path: Path) -> None:
    db = str(demo_ledger_path)
    code, out, err = run("strategy", "forecast", "--horizon", "3", "--json", "--ledger", db)
    assert code == 0, err
    totals = [r for r in json.loads(out)["rows"] if r["series"] == "total"]
    assert [r["year"] for r in totals] == [2025, 2026, 2027]
    assert all(r["lower"] <= r["forecast"] <= r["upper"] for r in totals)

    code, out, err = run("strategy", "macc", "--json", "--ledger", db)
    assert code == 0, err
    costs = [r["cost_cny_per_t"] for r in json.loads(out)["rows"]]
    assert costs == sorted(costs)

    code, out, err = run(
        "strategy", "optimise", "--year", "2028", "--reduction", "0.3", "--json", "--ledger", db
    )
    assert code == 0, err
    plan = json.loads(out)["rows"]
    assert plan and {"measure_id", "units"} <= set(plan[0])
    code, _, err = run(
        "strategy", "optimise", "--year", "2028", "--reduction", "0.99", "--ledger", db
    )
    assert code == 1 and "achievable" in err

    args = ("strategy", "uncertainty", "--year", "2024", "--iterations", "2000", "--json")
    first = json.loads(run(*args, "--ledger", db)[1])["rows"]
    again = json.loads(run(*args, "--ledger", db)[1])["rows"]
    assert first == again  # seeded
    total = next(r for r in first if r["output"] == "total")
    assert total["lower"] < 31925.01 < total["upper"]


def test_the_tables_print_with_their_summary_lines(demo_ledger_path: Path) -> None:
    """Commands that print several parts print them all (the plan, then its shadow price and
    the solver-free check; the forecast, then its back-tests; the pathway, then its notes)."""
    db = str(demo_ledger_path)
    code, out, err = run(
        "strategy", "optimise", "--year", "2030", "--reduction", "0.3", "--ledger", db
    )
    assert code == 0, err
    text = " ".join(out.split())
    assert "least-cost plan for 2030" in text
    assert "shadow price of carbon" in text and "recomputed without the solver: ok" in text
    code, out, err = run("strategy", "forecast", "--horizon", "2", "--ledger", db)
    assert code == 0, err
    assert "back-tests" in out
    code, out, err = run("strategy", "pathway", "--ledger", db)
    assert code == 0, err
    assert "note: base: 2024 inventory total 31,925.01 tCO2e" in out


def test_optimise_under_a_pathway_meets_every_years_cap(demo_ledger_path: Path) -> None:
    db = str(demo_ledger_path)
    code, out, err = run(
        "strategy", "optimise", "--year", "2030", "--pathway", "group", "--json", "--ledger", db
    )
    assert code == 0, err
    adoptions = json.loads(out)["rows"]
    assert adoptions and all(r["units"] > 0 for r in adoptions)
    code, out, err = run(
        "strategy", "optimise", "--year", "2030", "--pathway", "group", "--ledger", db
    )
    assert code == 0, err
    text = " ".join(out.split())
    assert "group pathway 2025-2030" in text and "recomputed without the solver: ok" in text
    # the 1.5 C contraction asks more by 2030 than the demo catalogue can do: a located refusal
    code, _, err = run(
        "strategy", "optimise", "--year", "2030", "--pathway", "contraction", "--ledger", db
    )
    assert code == 1 and "achievable" in err and "2030" in err
    code, _, err = run("strategy", "optimise", "--year", "2030", "--ledger", db)
    assert code == 1 and "one of --reduction, --cap and --pathway" in err


def test_energy_plan_under_a_quota(demo_ledger_path: Path) -> None:
    db = str(demo_ledger_path)
    code, out, err = run(
        "strategy", "energy-plan", "--year", "2030", "--reduction", "0.3", "--json", "--ledger", db
    )
    assert code == 0, err
    rows = {r["item"]: r["mwh"] for r in json.loads(out)["rows"]}
    # the demo's 2024 purchased electricity: 45,074.37 MWh, split three ways
    assert rows["electricity before"] == pytest.approx(45074.37, abs=0.01)
    parts = rows["green power"] + rows["saved by efficiency"] + rows["grid electricity bought"]
    assert parts == pytest.approx(rows["electricity before"])
    assert rows["grid electricity bought"] >= 0
    code, out, err = run(
        "strategy", "energy-plan", "--year", "2030", "--reduction", "0.3", "--ledger", db
    )
    assert code == 0, err
    assert "recomputed without the solver: ok" in " ".join(out.split())


def test_monthly_forecast_continues_the_months(demo_ledger_path: Path) -> None:
    """The demo's 2024 records carry months: the monthly forecast starts in January 2025."""
    code, out, err = run(
        "strategy", "forecast", "--monthly", "--horizon", "3", "--json",
        "--ledger", str(demo_ledger_path),
    )  # fmt: skip
    assert code == 0, err
    rows = [r for r in json.loads(out)["rows"] if r["series"] == "scope2_location"]
    assert [(r["year"], r["month"]) for r in rows] == [(2025, 1), (2025, 2), (2025, 3)]
    assert all(0 <= r["lower"] <= r["forecast"] <= r["upper"] for r in rows)


def test_forecast_json_carries_the_back_tests_and_the_choice(demo_ledger_path: Path) -> None:
    """Everything the table output shows: the forecast (`rows`), the back-test table
    (`backtests`, one chosen row per series) and the diagnostics. The demo's series have 5
    yearly points: drift fixed in advance (no back-test origin counted) for the scopes and the
    total. By hand, the total: 31,925.01 + 3 x (31,925.01 - 18,282.45) / 4 = 42,156.93."""
    db = str(demo_ledger_path)
    code, out, err = run("strategy", "forecast", "--horizon", "3", "--json", "--ledger", db)
    assert code == 0, err
    payload = json.loads(out)
    assert set(payload) == {"rows", "backtests", "diagnostics"}
    tests = payload["backtests"]
    chosen = {r["series"]: r for r in tests if r["chosen"]}
    assert set(chosen) == {r["series"] for r in payload["rows"]}
    assert sum(r["chosen"] for r in tests) == len(chosen)  # one per series
    for name in ("scope1", "scope2_location", "scope3", "total"):
        assert (chosen[name]["model"], chosen[name]["origins"]) == ("drift", 0)
        assert chosen[name]["mae"] is None
    assert {"parameters", "mape", "tied"} <= set(tests[0])
    total = [r for r in payload["rows"] if r["series"] == "total"]
    assert total[-1]["forecast"] == pytest.approx(
        31925.01 + 3 * (31925.01 - 18282.45) / 4, abs=0.01
    )
    codes = {d["code"] for d in payload["diagnostics"]}
    assert "forecast-fixed-model" in codes


def test_forecast_from_a_declared_structural_break(demo_ledger_path: Path) -> None:
    """--since 2022 keeps 2022-2024 (3 points): naive fixed in advance, the 2024 total
    carried forward (31,925.01), each series saying which years it left out."""
    code, out, err = run(
        "strategy", "forecast", "--since", "2022", "--horizon", "2", "--json",
        "--ledger", str(demo_ledger_path),
    )  # fmt: skip
    assert code == 0, err
    payload = json.loads(out)
    total = [r for r in payload["rows"] if r["series"] == "total"]
    assert [r["forecast"] for r in total] == pytest.approx([31925.01, 31925.01], abs=0.01)
    assert {r["model"] for r in total} == {"naive"}
    breaks = [d["message"] for d in payload["diagnostics"] if d["code"] == "forecast-break"]
    expected = "total: structural break declared at 2022: 2020-2021 left out, 3 point(s) from 2022"
    assert f"{expected} fitted" in breaks


@pytest.fixture
def new_ledger(tmp_path: Path) -> Path:
    """`esgledger init` of a ledger with no entities."""
    path = tmp_path / "new.db"
    code, _, err = run("init", "--ledger", str(path))
    assert code == 0, err
    return path


def test_forecast_on_an_empty_or_partial_ledger_says_what_is_missing(
    new_ledger: Path, tmp_path: Path
) -> None:
    db = str(new_ledger)
    code, out, err = run("strategy", "forecast", "--ledger", db)
    assert code == 1 and out == ""
    assert "no entities" in err and "esgledger init --entities" in err
    entities = tmp_path / "entities.csv"
    entities.write_text(
        "entity_id,name,parent_id,kind,equity_share,operational_control,financial_control,region\n"
        "A,Acme,,group,1,true,true,CN-GD\n",
        encoding="utf-8",
    )
    assert run("init", "--entities", str(entities), "--ledger", db)[0] == 0
    code, out, err = run("strategy", "forecast", "--json", "--ledger", db)
    assert code == 1 and out == ""
    assert "no activity data" in err and "esgledger import" in err
    # one year of records: every series has 1 point, no model can be fitted
    records = tmp_path / "a.csv"
    records.write_text(
        "record_id,entity_id,period,activity_type,quantity,unit\nr1,A,2024,electricity,1000,MWh\n",
        encoding="utf-8",
    )
    assert run("import", str(records), "--kind", "activity", "--ledger", db)[0] == 0
    code, out, err = run("strategy", "forecast", "--ledger", db)
    assert code == 1
    assert "year held: 2024" in err and "4 for drift" in err and "esgledger import" in err
    assert "business-as-usual forecast" not in out  # no table of carried-forward values
    code, out, err = run("strategy", "forecast", "--json", "--ledger", db)
    assert code == 1
    payload = json.loads(out)
    assert payload["rows"] is None and payload["backtests"] is None
    assert [d["code"] for d in payload["diagnostics"] if d["severity"] == "error"] == [
        "forecast-no-model"
    ]
