"""Every CLI command through the real Typer app, on a copy of the demo ledger."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from esgledger.cli import app
from esgledger.store.ledger import Ledger

runner = CliRunner()


@pytest.fixture
def ledger(demo_ledger_path: Path, tmp_path: Path) -> Path:
    path = tmp_path / "copy.db"
    shutil.copy(demo_ledger_path, path)
    return path


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), terminal_width=200)
    return result.exit_code, result.stdout, result.stderr


def test_inventory_json_by_scope_matches_the_demo(ledger: Path) -> None:
    code, out, _ = run(
        "inventory", "--ledger", str(ledger), "--year", "2024", "--by", "scope", "--json"
    )
    assert code == 0
    rows = {int(r["scope"]): r["tco2e"] for r in json.loads(out)["rows"]}
    assert rows[1] == pytest.approx(4472.70, abs=0.005)
    assert rows[2] == pytest.approx(45074.37 * 0.5366, rel=1e-9)
    assert rows[3] == pytest.approx(3265.40, abs=1e-9)


def test_inventory_csv_by_entity_and_gas_sums_to_the_total(ledger: Path) -> None:
    code, out, _ = run(
        "inventory", "--ledger", str(ledger), "--year", "2024", "--by", "entity,gas", "--csv"
    )
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert {r["entity_id"] for r in rows} >= {"G00", "S15"}
    assert sum(float(r["tco2e"]) for r in rows) == pytest.approx(31925.006, abs=0.01)


def test_inventory_market_basis_and_other_settings(ledger: Path) -> None:
    code, out, _ = run(
        "inventory",
        "--ledger",
        str(ledger),
        "--year",
        "2024",
        "--by",
        "scope",
        "--basis",
        "market",
        "--json",
    )
    scope2 = next(r for r in json.loads(out)["rows"] if int(r["scope"]) == 2)
    assert scope2["tco2e"] == pytest.approx(45074.37 * 0.5856, rel=1e-9)
    # AR5 changes only the combustion CH4/N2O share of scope 1
    code, out, _ = run(
        "inventory",
        "--ledger",
        str(ledger),
        "--year",
        "2024",
        "--by",
        "scope",
        "--gwp",
        "AR5",
        "--json",
    )
    scope1 = next(r for r in json.loads(out)["rows"] if int(r["scope"]) == 1)
    assert code == 0 and scope1["tco2e"] != pytest.approx(4472.70, abs=1e-6)
    assert scope1["tco2e"] == pytest.approx(4472.70, abs=0.2)
    # without the as-of date the 2023 factor (0.5306) is the nearest earlier year
    code, out, _ = run(
        "inventory",
        "--ledger",
        str(ledger),
        "--year",
        "2024",
        "--by",
        "scope",
        "--as-of",
        "2026-06-30",
        "--json",
    )
    scope2 = next(r for r in json.loads(out)["rows"] if int(r["scope"]) == 2)
    assert scope2["tco2e"] == pytest.approx(45074.37 * 0.5306, rel=1e-9)
    code, _, err = run("inventory", "--ledger", str(ledger), "--by", "colour")
    assert code == 2 and "colour" in err


def test_equity_share_approach_scales_partly_owned_entities(ledger: Path) -> None:
    base = json.loads(
        run("inventory", "--ledger", str(ledger), "--year", "2024", "--by", "entity", "--json")[1]
    )["rows"]
    equity = json.loads(
        run(
            "inventory",
            "--ledger",
            str(ledger),
            "--year",
            "2024",
            "--by",
            "entity",
            "--approach",
            "equity_share",
            "--json",
        )[1]
    )["rows"]
    by = {r["entity_id"]: r["tco2e"] for r in base}
    eq = {r["entity_id"]: r["tco2e"] for r in equity}
    assert eq["S12"] == pytest.approx(0.6 * by["S12"], rel=1e-12)  # demo S12 is 60 % owned
    assert eq["G00"] == pytest.approx(by["G00"], rel=1e-12)


def test_energy_json(ledger: Path) -> None:
    code, out, _ = run(
        "energy", "--ledger", str(ledger), "--year", "2024", "--by", "year", "--json"
    )
    assert code == 0
    row = json.loads(out)["rows"][0]
    assert row["tce"] == pytest.approx(5580.8706, abs=1e-3)
    # MWh: electricity as metered plus the fuels' standard-coal energy at 8.141 MWh/tce
    assert row["mwh"] == pytest.approx(45074.37 + (39.64996 + 1.580613) * 29.3076 / 3.6, rel=1e-6)


def test_parameters_and_primary_energy(ledger: Path) -> None:
    code, _, _ = run(
        "parameter",
        "set",
        "tce.electricity_primary",
        "0.30",
        "kgce/kWh",
        "--year",
        "2024",
        "--source",
        "test value",
        "--ledger",
        str(ledger),
    )
    assert code == 0
    code, out, _ = run("parameter", "list", "--ledger", str(ledger))
    assert "tce.electricity_primary" in out and "density.gasoline" in out
    row = json.loads(
        run("energy", "--ledger", str(ledger), "--year", "2024", "--by", "activity", "--json")[1]
    )["rows"]
    electricity = next(r for r in row if r["activity_type"] == "electricity")
    assert electricity["tce_primary"] == pytest.approx(45074.37 * 0.30, rel=1e-9)
    assert electricity["tce"] == pytest.approx(45074.37 * 0.1229, rel=1e-9)


def test_settings_are_validated(ledger: Path) -> None:
    assert run("setting", "set", "gwp_set", "AR5", "--ledger", str(ledger))[0] == 0
    code, _, err = run("setting", "set", "grid_level", "village", "--ledger", str(ledger))
    assert code == 2 and "refused" in err
    code, _, err = run("setting", "set", "colour", "blue", "--ledger", str(ledger))
    assert code == 2
    code, out, _ = run("setting", "list", "--ledger", str(ledger))
    assert "AR5" in out and "national" in out
    assert Ledger.open(ledger).get_setting("grid_level") == "national"


def test_override_changes_the_figure_and_is_reported(ledger: Path) -> None:
    code, out, _ = run(
        "override",
        "add",
        "electricity",
        "CO2",
        "0.6",
        "kgCO2/kWh",
        "--year",
        "2024",
        "--source",
        "supplier statement",
        "--ledger",
        str(ledger),
    )
    assert code == 0, out
    code, out, err = run(
        "inventory", "--ledger", str(ledger), "--year", "2024", "--by", "scope", "--json"
    )
    scope2 = next(r for r in json.loads(out)["rows"] if int(r["scope"]) == 2)
    assert scope2["tco2e"] == pytest.approx(45074.37 * 0.6, rel=1e-9)
    assert any(d["code"] == "factor-override" for d in json.loads(out)["diagnostics"])
    assert "supplier statement" in run("override", "list", "--ledger", str(ledger))[1]
    code, _, err = run(
        "override",
        "add",
        "electricity",
        "CO2",
        "0.6",
        "kg",
        "--source",
        "x",
        "--ledger",
        str(ledger),
    )
    assert code == 2 and "unit" in err
    code, _, _ = run(
        "override",
        "add",
        "teleportation",
        "CO2",
        "1",
        "kg/km",
        "--source",
        "x",
        "--ledger",
        str(ledger),
    )
    assert code == 2


def test_context_entities_and_base_year(ledger: Path, tmp_path: Path) -> None:
    code, out, _ = run("context", "list", "--ledger", str(ledger))
    assert code == 0 and "revenue" in out
    assert (
        run(
            "context",
            "set",
            "G00",
            "2022",
            "revenue",
            "150",
            "亿元",
            "--source",
            "test",
            "--ledger",
            str(ledger),
        )[0]
        == 0
    )
    code, out, _ = run("entities", "list", "--ledger", str(ledger))
    assert code == 0 and "S15" in out and "17 entities" in out
    tree = tmp_path / "more.csv"
    tree.write_text(
        "entity_id,name,parent_id,kind,equity_share,operational_control,"
        "financial_control,region\nS99,New site,S01,site,1,true,true,CN-SH\n",
        encoding="utf-8",
    )
    assert run("entities", "import", str(tree), "--ledger", str(ledger))[0] == 0
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "entity_id,name,parent_id,kind,equity_share,operational_control,"
        "financial_control,region\nS98,Orphan,NOPE,site,1.5,maybe,true,\n",
        encoding="utf-8",
    )
    code, _, err = run("entities", "import", str(bad), "--ledger", str(ledger))
    assert code == 1 and "bad.csv:2:operational_control" in err and "NOPE" in err
    code, out, _ = run("baseyear", "show", "--ledger", str(ledger))
    assert code == 0 and "reset -> 2024" in out
    assert (
        run(
            "baseyear",
            "add-change",
            "M1",
            "2023",
            "methodology",
            "new factor",
            "--impact",
            "100",
            "--ledger",
            str(ledger),
        )[0]
        == 0
    )


def test_factors_list_and_show() -> None:
    code, out, _ = run("factors", "list", "--kind", "ef", "--key", "grid.residual", "--csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert {r["factor_id"] for r in rows} == {
        "cn_2021_excl_mkt_nonfossil",
        "cn_2022_excl_mkt_nonfossil",
        "cn_2023_excl_mkt_nonfossil",
    }
    code, out, _ = run("factors", "show", "cn_2022_national")
    assert code == 0 and "0.5366" in out and "2024-12-20" in out
    assert run("factors", "show", "no_such_factor")[0] == 1
    for kind in ("tce", "fuel", "gwp", "types"):
        assert run("factors", "list", "--kind", kind)[0] == 0


def test_init_with_an_organisation_and_missing_ledger(tmp_path: Path) -> None:
    tree = tmp_path / "org.csv"
    tree.write_text(
        "entity_id,name,parent_id,kind,equity_share,operational_control,"
        "financial_control,region\nG,Group,,group,1,true,true,CN-BJ\n",
        encoding="utf-8",
    )
    code, out, _ = run("init", "--ledger", str(tmp_path / "new.db"), "--entities", str(tree))
    assert code == 0 and "1 entities" in out
    code, _, err = run("inventory", "--ledger", str(tmp_path / "missing.db"))
    assert code == 2 and "esgledger init" in err
    # a ledger with an organisation and no data yet: say what to do, for every command
    for command in ("inventory", "energy", "intensity"):
        code, _, err = run(command, "--ledger", str(tmp_path / "new.db"))
        assert code == 1 and "no activity data" in err and "esgledger import" in err, command
    code, _, err = run("init", "--ledger", str(tmp_path / "bare.db"))
    code, _, err = run("inventory", "--ledger", str(tmp_path / "bare.db"))
    assert code == 1 and "no entities" in err


def test_intensity_table(ledger: Path) -> None:
    code, out, _ = run("intensity", "--ledger", str(ledger), "--json")
    assert code == 0
    rows = {r["year"]: r for r in json.loads(out)["rows"]}
    # 2024: 31,925.01 / 3,131,600 万元; 2023: 24,014.98 / 1,758,000 万元
    assert rows[2024]["intensity_per_wan_yuan"] == pytest.approx(31925.006 / 3131600, rel=1e-6)
    assert rows[2024]["intensity_yoy_change"] == pytest.approx(
        31925.006 / 3131600 - 24014.98 / 1758000, rel=1e-5
    )
    assert rows[2024]["total_yoy_pct"] == pytest.approx((31925.006 / 24014.98 - 1) * 100, rel=1e-6)
    assert (
        rows[2020]["intensity_per_wan_yuan"] is None
        or rows[2020]["intensity_per_wan_yuan"] != rows[2020]["intensity_per_wan_yuan"]
    )  # n/a: no revenue
    code, out, _ = run(
        "intensity", "--ledger", str(ledger), "--year", "2022", "--year", "2024", "--json"
    )
    rows = {r["year"]: r for r in json.loads(out)["rows"]}
    # 2022 -> 2024 is not a year-on-year change
    assert (
        rows[2024]["total_yoy_pct"] is None
        or rows[2024]["total_yoy_pct"] != rows[2024]["total_yoy_pct"]
    )


def test_inventory_by_month(ledger: Path) -> None:
    code, out, _ = run(
        "inventory", "--ledger", str(ledger), "--year", "2024", "--by", "month,scope", "--json"
    )
    assert code == 0
    rows = json.loads(out)["rows"]
    scope2 = {r["month"]: r["tco2e"] for r in rows if int(r["scope"]) == 2}
    assert sorted(scope2) == list(range(1, 13))  # the demo's electricity is monthly
    assert sum(scope2.values()) == pytest.approx(45074.37 * 0.5366, rel=1e-9)
    # the fugitive and scope 3 figures are annual entries: they carry no month
    annual = [r for r in rows if r["month"] is None]
    assert {int(r["scope"]) for r in annual} == {1, 3}


def test_check_lists_the_inconsistencies_of_the_published_table(ledger: Path) -> None:
    code, out, _ = run("check", "--ledger", str(ledger), "--year", "2024", "--json")
    assert code == 1  # errors found
    found = {(f["rule"], f["metric_id"]) for f in json.loads(out)}
    assert found == {
        ("breakdown", "workforce.headcount"),  # 80,378 + 9,753 + 268 = 90,399, not 90,759
        ("ratio", "training.hours_per_capita"),  # 2,414,429.74 / 90,759 = 26.60, not 37.2
        ("rate_breakdown", "training.hours_per_capita"),  # 37.2 above 27.19 and 25.33
        ("formula", "energy.total_tce"),  # 5,580.8706 with the written coefficients
    }
    code, out, _ = run("check", "--ledger", str(ledger), "--year", "2024")
    assert "= 90,399, not 90,759" in out and "4 findings (3 errors)" in out


def test_kpi_prints_every_row_of_the_published_table(ledger: Path, tmp_path: Path) -> None:
    book = tmp_path / "kpi.xlsx"
    code, out, _ = run(
        "kpi", "--year", "2024", "--ledger", str(ledger), "--json", "--xlsx", str(book)
    )
    assert code == 0
    rows = json.loads(out)["rows"]
    # the 66 rows of the published table, then the packaged metrics the ledger computes
    # beyond it (service.key_metrics): figures only esgledger has, none reported
    assert [r["row"] for r in rows] == list(range(1, 67 + 3))
    assert all(r["reported"] is not None for r in rows[:66])
    assert [r["metric_id"] for r in rows[66:]] == [
        "ghg.scope2_market",
        "energy.total_mwh",
        "supply.suppliers_new_certified",
    ]
    assert all(r["source"] == "computed" for r in rows[66:])
    by_id = {r["metric_id"]: r for r in rows}
    # computed by esgledger: 5,580.8706 tce vs 5,580.86; 24,186.91 vs 24,197.00 tCO2e
    assert by_id["energy.total_tce"]["difference"] == pytest.approx(0.0106, abs=1e-4)
    assert by_id["ghg.scope2"]["computed"] == pytest.approx(24186.91, abs=0.005)
    assert by_id["ghg.intensity_revenue"]["computed"] == pytest.approx(0.0102, abs=1e-9)
    assert by_id["community.donations"]["reported"] == "140+"
    assert by_id["workforce.headcount"]["source"] == "reported"
    assert book.exists()
    code, out, _ = run("kpi", "--year", "2024", "--ledger", str(ledger), "--lang", "zh", "--json")
    assert json.loads(out)["rows"][0]["name"] == "汽油（含乙醇汽油）"
    assert run("kpi", "--year", "2024", "--ledger", str(ledger), "--lang", "fr")[0] == 2


def test_targets_status_on_the_demo(ledger: Path, tmp_path: Path) -> None:
    code, out, _ = run("targets", "--year", "2024", "--ledger", str(ledger), "--json")
    assert code == 0
    statuses = {s["target_id"]: s["status"] for s in json.loads(out)}
    assert statuses["2024.customer_satisfaction"] == "achieved"  # 99.11 % >= 99 %
    assert "not measurable" in statuses.values()
    code, out, _ = run("targets", "--year", "2024", "--ledger", str(ledger))
    assert "customer satisfaction rate 99.11 % (2024) >= 99 %: achieved" in out
    bad = tmp_path / "t.csv"
    bad.write_text("target_id\nx\n", encoding="utf-8")
    code, _, err = run("targets", "--year", "2024", "--ledger", str(ledger), "--file", str(bad))
    assert code == 1 and "t.csv:1" in err


def test_kri_warns_on_a_planted_jump_only(tmp_path: Path) -> None:
    series = tmp_path / "kri.csv"
    months = [f"2024-{m:02d}" for m in range(1, 13)]
    values = [2.0, 2.1, 1.9, 2.0, 2.1, 2.0, 2.0, 1.9, 2.1, 4.1, 2.0, 2.0]  # October jumps
    series.write_text(
        "entity_id,metric_id,period,value\n"
        + "".join(
            f"S01,workforce.turnover_rate_monthly,{p},{v}\n"
            for p, v in zip(months, values, strict=True)
        ),
        encoding="utf-8",
    )
    code, out, _ = run("kri", str(series), "--json")
    assert code == 0
    warnings = json.loads(out)
    # below the 5 % limit; against the trailing mean of Apr-Sep (2.0 + 2.1 + 2.0 + 2.0 + 1.9 +
    # 2.1) / 6 = 2.0167, 4.1 is 2.03x > 1.5x: a jump (and no other month moves that much)
    assert {(w["rule_id"], w["period"]) for w in warnings} == {("KRI-TURN-JUMP", "2024-10")}
    assert "is 2.03x the trailing 6-month mean 2.017" in warnings[0]["reason"]
    # read by the shared reader: a malformed file is one located diagnostic
    series.write_text('entity_id,metric_id\n"open,1\n', encoding="utf-8")
    code, _, err = run("kri", str(series))
    assert code == 1 and "kri.csv:2" in err  # located: the row of the unclosed quote


def test_kri_reads_the_ledgers_monthly_figures(ledger: Path, tmp_path: Path) -> None:
    values = [2.0, 2.1, 1.9, 2.0, 2.1, 2.0, 2.0, 1.9, 2.1, 4.1, 2.0, 2.0]
    monthly = tmp_path / "kri_figures.csv"
    monthly.write_text(
        "record_id,entity_id,period,metric_id,value,unit,numerator,denominator\n"
        + "".join(
            f"K{m},S01,2024-{m:02d},workforce.turnover_rate_monthly,{v},%,,\n"
            for m, v in enumerate(values, start=1)
        ),
        encoding="utf-8",
    )
    assert run("import", str(monthly), "--ledger", str(ledger))[0] == 0
    code, out, _ = run("kri", "--ledger", str(ledger), "--json")
    assert code == 0
    assert [(w["rule_id"], w["entity_id"], w["period"]) for w in json.loads(out)] == [
        ("KRI-TURN-JUMP", "S01", "2024-10")
    ]


def test_a_failing_inventory_prints_no_partial_total(ledger: Path) -> None:
    """Issue 16 (e): with a factor missing (no grid factor published by --as-of 2010), the
    command printed the rows it could compute and exited 1: a script reading its CSV took a
    partial total. Now it prints the errors only; JSON says rows null."""
    args = ("inventory", "--ledger", str(ledger), "--year", "2024", "--as-of", "2010-01-01")
    code, out, err = run(*args, "--csv")
    assert code == 1
    assert out == ""
    assert "factor-missing" in err and "nothing printed" in err
    code, out, _ = run(*args, "--json")
    assert code == 1
    found = json.loads(out)
    assert found["rows"] is None
    assert "factor-missing" in {d["code"] for d in found["diagnostics"]}
    code, out, err = run(*args)
    assert code == 1 and "tCO2e" not in out


def test_kpi_compares_reported_and_computed_figures_in_one_unit(
    ledger: Path, tmp_path: Path
) -> None:
    """Issue 16 (c): 1 万千瓦时 reported beside 10 MWh of activity showed a difference of 9.0.
    Reported figures are taken in the metric's unit: 1 万千瓦时 = 10,000 kWh = 10 MWh."""
    activity = tmp_path / "activity.csv"
    activity.write_text(
        "record_id,entity_id,period,activity_type,quantity,unit,region,data_quality,"
        "activity_date,instrument_id,ef_value,ef_unit,note\n"
        "U-1,S01,2026-03,electricity,10,MWh,,measured,,,,,\n",
        encoding="utf-8",
    )
    metrics = tmp_path / "metrics.csv"
    metrics.write_text(
        "record_id,entity_id,period,metric_id,value,unit,numerator,denominator,data_quality,"
        "provenance,note\n"
        "U-M1,G00,2026,energy.electricity_purchased,1,万千瓦时,,,reported,,\n",
        encoding="utf-8",
    )
    for path, kind in ((activity, "activity"), (metrics, "metrics")):
        code, _, err = run("import", str(path), "--kind", kind, "--ledger", str(ledger))
        assert code == 0, err
    code, out, err = run("kpi", "--year", "2026", "--ledger", str(ledger), "--json")
    rows = {r["metric_id"]: r for r in json.loads(out)["rows"]}
    row = rows["energy.electricity_purchased"]
    assert float(row["reported"]) == pytest.approx(10.0)  # MWh
    assert row["computed"] == pytest.approx(10.0)
    assert row["difference"] == pytest.approx(0.0)


def test_a_server_ledger_without_its_audit_key_is_a_message_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Writing to a server ledger needs an audit key kept outside the database; without one
    configured the command says what to set and exits 2 (it printed a traceback)."""
    from esgledger import cli  # noqa: PLC0415
    from esgledger.audit import AuditKeyError  # noqa: PLC0415

    def refuse() -> None:
        raise AuditKeyError("the audit log of db needs a key: set ESGLEDGER_AUDIT_KEY_FILE")

    monkeypatch.setattr(cli, "app", refuse)
    with pytest.raises(SystemExit) as stopped:
        cli.main()
    assert stopped.value.code == 2
    err = " ".join(capsys.readouterr().err.split())
    assert err == "audit log: the audit log of db needs a key: set ESGLEDGER_AUDIT_KEY_FILE"
