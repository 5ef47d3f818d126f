"""`esgledger explain metric:<year>:<metric_id>[:<entity>]`: the lineage of catalogue metrics.

Known answers are the seed group's published 2024 figures on the demo ledger; the workforce
figures are counted by hand from the roster of tests/workforce/workforce_data.py (moved to
entities S01 and S02) plus the totals that S03 reports in the file below.
"""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from esgledger import figures, service
from esgledger.auth import accounts
from esgledger.auth.accounts import Principal
from esgledger.calc.explain import Node
from esgledger.cli import app
from esgledger.figures import value as figure_value
from esgledger.figures import values as figure_values
from esgledger.figures.metric_lineage import NoFigureError, explain_metric, parse_metric_figure
from esgledger.metrics import load_catalogue
from esgledger.store.ledger import Ledger
from esgledger.workflow import collection, periods

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "workforce"))
from workforce_data import roster_csv

runner = CliRunner()
ELECTRICITY, WATER = "energy.electricity_purchased", "water.withdrawal"
TOTALS = (
    "record_id,entity_id,period,metric_id,value,unit,numerator,denominator,data_quality,"
    "provenance,note\n"
    "S03-HC,S03,2024,workforce.headcount,100,persons,,,reported,S03 HR system,\n"
    "S03-TH,S03,2024,training.hours_total,2000,h,,,reported,S03 HR system,\n"
    "S03-TPC,S03,2024,training.hours_per_capita,20,h/person,2000,100,reported,S03 HR system,\n"
)


def _copy(source: Path, tmp_path_factory: pytest.TempPathFactory, name: str) -> Path:
    path = tmp_path_factory.mktemp(name) / f"{name}.db"
    shutil.copy(source, path)
    return path


@pytest.fixture(scope="module")
def demo(demo_ledger_path: Path) -> Iterator[Ledger]:
    """The demo ledger (built once by build_demo), read only."""
    with Ledger.open(demo_ledger_path) as ledger:
        yield ledger


@pytest.fixture(scope="module")
def workforce_ledger(
    demo_ledger_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Ledger]:
    """The demo ledger with a roster of S01 and S02 and the workforce totals of S03."""
    path = _copy(demo_ledger_path, tmp_path_factory, "wf")
    folder = path.parent
    roster = roster_csv().decode().replace(",G01,", ",S01,").replace(",G02,", ",S02,")
    (folder / "roster.csv").write_text(roster, encoding="utf-8")
    (folder / "totals.csv").write_text(TOTALS, encoding="utf-8")
    for args in (
        ["roster", "import", str(folder / "roster.csv"), "--as-of", "2024-12-31"],
        ["import", str(folder / "totals.csv")],
    ):
        result = runner.invoke(app, [*args, "--ledger", str(path)])
        assert result.exit_code == 0, result.output
    with Ledger.open(path) as ledger:
        yield ledger


@pytest.fixture(scope="module")
def workflow_ledger(
    demo_ledger_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Ledger]:
    """The demo ledger with 2025 figures of S01 and G00 entered in web forms, the year locked,
    then restated by approved adjustments."""
    ledger = Ledger.open(_copy(demo_ledger_path, tmp_path_factory, "flow"))
    engine = ledger.engine
    users = {"rev": "reviewer", "own": "owner", "gown": "owner", "com": "approver"}
    for name, role in users.items():
        entities = ["S01"] if name == "own" else ["G00"]
        accounts.create_user(engine, "t", name, f"{name}-password", role, entities=entities)

    def who(name: str) -> Principal:
        found = accounts.get_principal(engine, accounts.user_id_of(engine, name) or 0)
        assert found is not None
        return found

    def version(name: str, request_id: int) -> int:
        return int(collection.request_detail(engine, who(name), request_id)["version"])

    campaign = collection.create_campaign(
        engine, who("rev"), "2025", 2025, date(2026, 1, 31), [ELECTRICITY, WATER], ["S01", "G00"]
    )
    detail = collection.campaign_detail(engine, who("rev"), campaign)
    requests = {r["entity_id"]: int(r["request_id"]) for r in detail["requests"]}
    for entity, user, mwh, water in (("S01", "own", "1,200", "500"), ("G00", "gown", "10", "9000")):
        request = requests[entity]
        collection.set_value(engine, who(user), request, ELECTRICITY, mwh, "MWh", base_version=0)
        collection.set_value(engine, who(user), request, WATER, water, "t", base_version=0)
        collection.submit(engine, who(user), request, base_version=version(user, request))
        collection.approve(engine, who("rev"), request, base_version=version("rev", request))
    periods.lock_period(engine, who("com"), 2025)
    for user, entity, metric, value, unit, reason in (
        ("own", "S01", ELECTRICITY, "1150", "MWh", "meter re-read"),
        ("gown", "G00", WATER, "9500", "t", "missed a meter"),
    ):
        adjustment = periods.propose_adjustment(
            engine, who(user), entity, 2025, metric, value, unit, reason
        )
        periods.decide_adjustment(engine, who("com"), adjustment, True)
    yield ledger
    ledger.close()


def _records(node: Node) -> list[Node]:
    return [c for c in node.children if c.label.startswith("record ")]


# -- computed from activity records ----------------------------------------------------------


def test_purchased_electricity_sums_every_2024_record_by_entity(demo: Ledger) -> None:
    node = explain_metric(demo, "metric:2024:energy.electricity_purchased", rows=1000)
    assert node.value == pytest.approx(45074.37, abs=1e-6)  # published: 45,074.37 MWh
    assert node.unit == "MWh"
    assert "activity records of type electricity" in node.detail["formula"]
    assert len(node.children) == 17  # G00 and S01-S16, twelve months each
    assert sum(e.value or 0 for e in node.children) == pytest.approx(node.value, rel=1e-12)
    records = [r for entity in node.children for r in _records(entity)]
    assert len(records) == 17 * 12
    assert all("[activity_2024.csv:" in r.label and r.detail["batch"] == 1 for r in records)
    quantities = sum(float(r.label.split("] ")[1].split()[1].replace(",", "")) for r in records)
    assert quantities == pytest.approx(45074.37, abs=1e-6)


def test_rows_limits_the_records_per_entity_and_counts_the_rest(demo: Ledger) -> None:
    node = explain_metric(demo, "metric:2024:energy.electricity_purchased:S01", rows=2)
    (entity,) = node.children
    assert entity.label == "S01" and entity.detail["records"] == 12
    assert len(_records(entity)) == 2
    assert entity.children[-1].label == "... 10 more records (--rows N shows more)"
    assert node.value == pytest.approx(entity.value)


# -- computed by the inventory ---------------------------------------------------------------


def test_total_energy_is_the_energy_tree(demo: Ledger) -> None:
    node = explain_metric(demo, "metric:2024:energy.total_tce")
    assert round(node.value or 0, 2) == 5580.87  # published 5,580.86 (README)
    (child,) = node.children
    assert child.label == "energy:2024" and child.detail["lineage id"] == "energy:2024"
    # the metric sums the year's energy rows, the tree sums them per line first: another
    # summation order, so equal to rounding (a few ulps), not bit for bit
    assert child.value == pytest.approx(node.value, rel=1e-12)
    assert "gb2589_elec_equiv" in json.dumps(child.to_dict())


@pytest.mark.parametrize(
    ("metric", "figure"),
    [
        ("ghg.scope1", "ghg:2024:S1"),
        ("ghg.scope2", "ghg:2024:S2L"),
        ("ghg.scope2_market", "ghg:2024:S2M"),
        ("ghg.scope3", "ghg:2024:S3"),
        ("ghg.total", "ghg:2024:TOTAL"),
    ],
)
def test_emission_metrics_are_their_scope_trees(demo: Ledger, metric: str, figure: str) -> None:
    node = explain_metric(demo, f"metric:2024:{metric}")
    (child,) = node.children
    assert child.label == figure and child.detail["lineage id"] == figure
    assert child.value == pytest.approx(node.value, rel=1e-12)
    if metric == "ghg.scope1":
        assert node.value == pytest.approx(4472.70, abs=0.005)  # published 4,472.70 tCO2e


def test_an_entity_figure_explains_the_entity_tree(demo: Ledger) -> None:
    node = explain_metric(demo, "metric:2024:ghg.scope1:S01")
    (child,) = node.children
    assert child.label == "ghg:2024:S1:S01"
    assert node.value == pytest.approx(child.value) and (node.value or 0) > 0
    assert [e.label for e in child.children] == ["S01 / mobile_combustion"]


def test_emission_intensity_is_a_ratio_of_its_parts_never_an_average(demo: Ledger) -> None:
    node = explain_metric(demo, "metric:2024:ghg.intensity_revenue")
    assert round(node.value or 0, 4) == 0.0102  # published 0.0102 tCO2e / 万元
    numerator, denominator = node.children
    assert numerator.label == "metric:2024:ghg.total"
    assert numerator.detail["part"] == "numerator"
    assert numerator.children[0].label == "ghg:2024:TOTAL"
    assert denominator.detail["part"] == "denominator" and denominator.unit == "万元"
    assert denominator.children[0].label.startswith("G00 revenue 2024")
    assert (numerator.value or 0) / (denominator.value or 1) == pytest.approx(node.value)


# -- reported ---------------------------------------------------------------------------------


def test_a_reported_governance_ratio_names_its_file_row_and_parts(demo: Ledger) -> None:
    node = explain_metric(demo, "metric:2024:ethics.anticorruption_training_coverage")
    assert node.value == 100.0 and node.unit == "%"
    assert node.detail["source"].startswith("reported")
    record, numerator, denominator = node.children
    # kpi_2024.csv: header on row 1, the 41st KPI on row 42
    assert record.label == "record DEMO-KPI-2024-41 [kpi_2024.csv:42] G00 2024 (reported)"
    assert record.value == 100.0 and record.detail["batch"] == 3
    assert numerator.label == "metric:2024:ethics.anticorruption_trained"
    assert numerator.value is None and "no figure" in numerator.detail["missing"]
    assert denominator.label == "metric:2024:workforce.headcount"
    assert denominator.value == 90759  # published 90,759 employees, reported
    assert "kpi_2024.csv:13" in _records(denominator)[0].label


# -- workforce -------------------------------------------------------------------------------


def test_group_headcount_combines_the_roster_and_subsidiary_totals(
    workforce_ledger: Ledger,
) -> None:
    node = explain_metric(workforce_ledger, "metric:2024:workforce.headcount")
    assert node.value == 111  # closing headcount 7 (S01) + 4 (S02) + 100 reported by S03
    assert node.detail["source"].startswith("computed: the roster and the totals")
    assert "roster.csv" in node.detail["roster"] and "17 employees" in node.detail["roster"]
    s01, s02, s03 = node.children
    assert (s01.label, s01.value, s01.detail["roster"]) == (
        "S01: roster, 10 rows",
        7,
        "roster.csv rows 2-11",
    )
    assert (s02.label, s02.value) == ("S02: roster, 7 rows", 4)
    assert (s03.label, s03.value) == ("S03: reported total", 100)
    assert s03.detail["record"] == "S03-HC [totals.csv:2]"
    # the figure the report shows is the ledger's, not the 90,759 stored for G00
    assert figure_value(workforce_ledger, "metric:2024:workforce.headcount") == 111


def test_training_hours_per_capita_is_summed_hours_over_summed_headcount(
    workforce_ledger: Ledger,
) -> None:
    node = explain_metric(workforce_ledger, "metric:2024:training.hours_per_capita")
    # hours in 2024: S01 20+40+60+10+8+5+0+12 = 155, S02 30+16+50+24+2+10+6 = 138, S03 2000
    assert node.value == pytest.approx(2293 / 111)
    numerator, denominator = node.children
    assert numerator.label == "numerator: training.hours_total" and numerator.value == 2293
    assert [c.value for c in numerator.children] == [155, 138, 2000]
    assert denominator.label == "denominator: workforce.headcount" and denominator.value == 111
    assert [c.value for c in denominator.children] == [7, 4, 100]
    # not the mean of the entities' ratios (155/7, 138/4, 20)
    assert node.value != pytest.approx((155 / 7 + 138 / 4 + 20) / 3)
    entity = explain_metric(workforce_ledger, "metric:2024:training.hours_per_capita:S01")
    assert entity.value == pytest.approx(155 / 7)
    assert [c.value for c in entity.children] == [155, 7]


def test_a_group_figure_says_which_entities_it_leaves_out(workforce_ledger: Ledger) -> None:
    node = explain_metric(workforce_ledger, "metric:2024:workforce.turnover_rate")
    assert node.value == pytest.approx(5 / 11 * 100)  # S03 reports no leavers
    assert node.detail["not included"].startswith("S03")
    assert node.detail["turnover basis"] == "closing"


# -- forms and adjustments -------------------------------------------------------------------


def test_form_and_adjustment_records_say_who_and_why(workflow_ledger: Ledger) -> None:
    node = explain_metric(workflow_ledger, f"metric:2025:{ELECTRICITY}")
    assert node.value == pytest.approx(10 + 1150)
    g00, s01 = node.children
    assert g00.value == 10 and s01.value == pytest.approx(1150)
    entered, adjusted = _records(s01)
    assert "[request:" in entered.label and entered.detail["entered"].endswith("by own")
    assert "[adjustment:" in adjusted.label and "-50 MWh" in adjusted.label
    assert adjusted.detail["adjustment"].endswith(
        "meter re-read; 1,200 -> 1,150 MWh; proposed by own, decided by com"
    )


def test_an_adjustment_restates_the_reported_figure_it_follows(
    workflow_ledger: Ledger,
) -> None:
    # an approved adjustment of a reported figure is its new version: the group figure of
    # kpi_table, the report and the tree is the restated 9,500 t; the form's 9,000 t is the
    # earlier version it supersedes, shown under it
    node = explain_metric(workflow_ledger, f"metric:2025:{WATER}")
    (current,) = _records(node)
    (earlier,) = [c for c in node.children if c.label.startswith("earlier version: record ")]
    assert (current.value, earlier.value) == (9500, 9000)
    assert "missed a meter" in current.detail["adjustment"]
    assert "used" in current.detail and "used" not in earlier.detail
    assert earlier.detail["entered"].endswith("by gown")
    assert earlier.detail["superseded by"] == f"batch {int(current.detail['batch'])}"
    assert "1 earlier version(s) superseded" in node.detail["restated"]
    assert node.value == 9500
    assert figure_value(workflow_ledger, f"metric:2025:{WATER}") == 9500
    table, _ = service.kpi_table(workflow_ledger, 2025)
    row = table[table["metric_id"] == WATER].iloc[0]
    assert row["source"] == "reported" and float(row["reported"]) == 9500
    # an entity's figure entered in a form
    s01 = explain_metric(workflow_ledger, f"metric:2025:{WATER}:S01")
    assert s01.value == 500 and _records(s01)[0].detail["entered"].endswith("by own")


# -- errors ----------------------------------------------------------------------------------


def test_no_figure_unknown_metric_entity_and_malformed_ids_are_errors(demo: Ledger) -> None:
    with pytest.raises(NoFigureError, match=r"no figure of energy\.intensity_revenue .* 2024"):
        explain_metric(demo, "metric:2024:energy.intensity_revenue")
    assert figure_value(demo, "metric:2024:energy.intensity_revenue") is None
    with pytest.raises(ValueError, match=r"unknown metric 'workforce\.headcont'.*workforce"):
        explain_metric(demo, "metric:2024:workforce.headcont")
    with pytest.raises(ValueError, match="unknown entity 'S99'"):
        explain_metric(demo, "metric:2024:workforce.headcount:S99")
    for bad in ("metric:2024", "metric:y2024:ghg.total", "metric:2024:ghg.total:S01:x"):
        with pytest.raises(ValueError, match="is not metric:<year>:<metric_id>"):
            parse_metric_figure(bad)
    with pytest.raises(ValueError, match="metric:<year>:<metric_id>"):
        figures.explain(demo, "kpi:2024:ghg.total")


def test_the_cli_prints_the_error_and_exits_non_zero(demo_ledger_path: Path) -> None:
    result = runner.invoke(
        app, ["explain", "metric:2024:energy.intensity_revenue", "--ledger", str(demo_ledger_path)]
    )
    assert result.exit_code == 2
    assert "no figure of energy.intensity_revenue for the group in 2024" in result.stderr


# -- CLI and values --------------------------------------------------------------------------


def test_json_output_of_a_metric_id(demo_ledger_path: Path) -> None:
    result = runner.invoke(
        app,
        [
            *("explain", "metric:2024:energy.gasoline:S01", "--json", "--rows", "12"),
            *("--ledger", str(demo_ledger_path)),
        ],
    )
    assert result.exit_code == 0, result.output
    tree = json.loads(result.output)
    assert tree["label"] == "metric:2024:energy.gasoline:S01" and tree["unit"] == "L"
    (entity,) = tree["children"]
    assert entity["label"] == "S01" and len(entity["children"]) == 12
    amounts = [float(r["label"].split("] ")[1].split()[1]) for r in entity["children"]]
    assert tree["value"] == pytest.approx(sum(amounts)) == pytest.approx(entity["value"])


def test_figure_value_of_ghg_and_energy_ids_is_their_tree_root(demo: Ledger) -> None:
    values = figure_values(demo, ["ghg:2024:S1", "energy:2024:S01", "ghg:1999:S1"])
    assert values["ghg:2024:S1"] == pytest.approx(figures.explain(demo, "ghg:2024:S1").value)
    assert values["energy:2024:S01"] == figures.explain(demo, "energy:2024:S01").value
    assert values["ghg:1999:S1"] is None  # no inventory line: no figure


@pytest.fixture(scope="module")
def kpi(demo: Ledger) -> dict[str, tuple[float | None, int]]:
    """metric id -> (the KPI table's computed-or-reported figure, its precision)."""
    table, _ = service.kpi_table(demo, 2024)
    stored = service.reported_figures(demo, [2024])
    group = stored[stored["entity_id"] == "*"].drop_duplicates("metric_id", keep="last")
    reported = dict(zip(group["metric_id"], group["value"], strict=True))
    precision = {m.metric_id: m.precision for m in load_catalogue()}
    return {
        str(r["metric_id"]): (
            r["computed"] if pd.notna(r["computed"]) else reported.get(r["metric_id"]),
            precision[r["metric_id"]],
        )
        for r in table.to_dict("records")
    }


def test_every_kpi_figure_is_the_value_of_its_lineage_id(
    demo: Ledger, kpi: dict[str, tuple[float | None, int]]
) -> None:
    values = figure_values(demo, [f"metric:2024:{m}" for m in kpi])
    for metric, (expected, precision) in kpi.items():
        found = values[f"metric:2024:{metric}"]
        assert found is not None and expected is not None, metric
        assert round(found, precision) == pytest.approx(float(expected)), metric


@settings(max_examples=8, deadline=None)
@given(data=st.data())
def test_property_a_lineage_tree_shows_the_figure_of_its_id(
    demo: Ledger, kpi: dict[str, tuple[float | None, int]], data: st.DataObject
) -> None:
    metric = data.draw(st.sampled_from(sorted(kpi)))
    figure = f"metric:2024:{metric}"
    node = figures.explain(demo, figure, rows=1)
    assert node.label == figure
    assert node.value == figure_value(demo, figure)
    expected, precision = kpi[metric]
    assert round(node.value or 0, precision) == pytest.approx(float(expected or 0))
    # the parts of a computed ratio give its value; a sum's entities add up to it
    parts = [c for c in node.children if c.detail.get("part")]
    if len(parts) == 2 and node.detail["source"].startswith("computed"):
        numerator, denominator = (p.value or 0 for p in parts)
        scale = load_catalogue().get(metric).scale
        assert node.value == pytest.approx(numerator * scale / denominator)
    elif node.detail.get("formula", "").startswith("sum of the"):
        assert sum(c.value or 0 for c in node.children) == pytest.approx(node.value)
