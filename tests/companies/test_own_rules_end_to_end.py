"""Issue 17's first acceptance item: a test company that is not the reference company, with its
own topics, targets, rules, registers and measure catalogue, runs the assessment and strategy
commands end to end, and no output names a reference-company target, topic or measure.

The company (synthetic, made for this test): a two-plant manufacturer, group G with plants
P1 (Guangdong) and P2 (Jiangsu), electricity and diesel 2020-2024, revenue per year. The
forbidden words are read from the demo's own data files (its targets, topic lists and
measures), so a seed default that leaks into any output fails the test.
"""

from __future__ import annotations

import csv
import json
from importlib import resources
from pathlib import Path

import pytest
from typer.testing import CliRunner

from esgledger.cli import app
from esgledger.strategy.measures import LEVERS

ENTITIES = (
    "entity_id,name,parent_id,kind,equity_share,operational_control,financial_control,region\n"
    "G,Test Manufacturing Group,,group,1,true,true,CN-GD\n"
    "P1,Plant One,G,subsidiary,1,true,true,CN-GD\n"
    "P2,Plant Two,G,subsidiary,1,true,true,CN-JS\n"
)
TARGETS = (
    "target_id,metric_id,entity_id,kind,direction,value,unit,baseline_year,baseline_value,"
    "start_year,deadline_year,name_en,name_zh,source,note,milestone\n"
    "tm.peak,ghg.total,*,qualitative,,,,,,2025,2027,our peak,我司达峰,board 2025,,peak\n"
    "tm.neutral,ghg.total,*,qualitative,,,,,,2025,2045,our neutrality,我司中和,board 2025,,"
    "neutrality\n"
    "tm.netzero,ghg.total,*,qualitative,,,,,,2025,2055,our net zero,我司净零,board 2025,,"
    "net_zero\n"
)
TOPICS = (
    "topic_id,name_zh,name_en,dimension,source\n"
    "tm.energy,能源效率,energy efficiency,E,board 2024\n"
    "tm.safety,生产安全,plant safety,S,board 2024\n"
    "tm.governance,合规经营,compliance,G,board 2024\n"
)
GROUPS = (
    "group_id,axis,weight,name_en,name_zh,internal\n"
    "workers,impact,1,workers,工人,yes\n"
    "owners,financial,1,owners,股东,no\n"
)
MEASURE_HEADER = (
    "measure_id,name_en,name_zh,lever,scope,abatement_t_per_year,grid_mwh_per_year,capex_cny,"
    "opex_cny_per_year,lifetime_years,start_year_min,applicable_entities,max_units,unit,"
    "divisible,requires,excludes,source,counts_on\n"
)
MEASURES = MEASURE_HEADER + (
    "tm.motors,efficient motors,高效电机,energy_management,2,0,300,400000,-150000,10,2025,P1;P2,"
    "1,measure,no,,,plant audit 2024,\n"
    "tm.boiler,boiler tuning,锅炉调优,energy_management,1,20,0,50000,5000,5,2025,P2,1,measure,"
    "no,,,plant audit 2024,\n"
    "tm.gec,green certificates,绿证,green_power,2,0,1,0,40,1,2025,*,2000,MWh,yes,,,"
    "broker quote 2024,market\n"
)
BCM = (
    "risk_id,entity_id,title,category,likelihood,impact,plan,plan_updated_on,last_drill_on,"
    "next_drill_on,owner,notes,source\n"
    "TM-1,P1,flood of the transformer room,facilities,3,4,BCP-1,2024-03-01,2024-06-01,"
    "2025-06-01,ops,,test company\n"
    "TM-2,P2,single supplier of resin,supply_chain,4,4,BCP-2,2024-02-01,,2025-01-01,"
    "purchasing,,test company\n"
)


def _activity() -> str:
    rows = ["record_id,entity_id,period,activity_type,quantity,unit,note"]
    for year, grow in zip(range(2020, 2025), (1.0, 1.05, 1.1, 1.12, 1.15), strict=True):
        rows.append(f"e1-{year},P1,{year},electricity,{round(8000 * grow)},MWh,")
        rows.append(f"e2-{year},P2,{year},electricity,{round(5000 * grow)},MWh,")
        rows.append(f"d2-{year},P2,{year},diesel_stationary,{round(120 * grow)},t,")
    return "\n".join(rows) + "\n"


def _forbidden() -> set[str]:
    """The demo group's target ids, topic ids and names, and measure ids: none may appear."""
    data = resources.files("esgledger.demo") / "data"
    words: set[str] = set()
    for row in csv.DictReader((data / "targets.csv").read_text("utf-8").splitlines()):
        words |= {row["target_id"], row["name_zh"]}
    for year in (2023, 2024):
        text = (data / f"topics_{year}.csv").read_text("utf-8")
        for row in csv.DictReader(text.splitlines()):
            words |= {row["topic_id"], row["name_zh"]}
    strategy = resources.files("esgledger.strategy") / "data" / "measures_demo.csv"
    for row in csv.DictReader(strategy.read_text("utf-8").splitlines()):
        words.add(row["measure_id"])
    # words that are also the product's own vocabulary (a BCM category, a lever) are not
    # the seed's: 'supply_chain' is a seed topic id and a packaged BCM category
    categories = resources.files("esgledger.assess") / "data" / "bcm_categories.csv"
    vocabulary = {r["category"] for r in csv.DictReader(categories.read_text("utf-8").splitlines())}
    return {w for w in words if len(w) >= 4} - vocabulary - set(LEVERS)


@pytest.fixture(scope="module")
def company(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    folder = tmp_path_factory.mktemp("own_rules")
    files = {
        "org.csv": ENTITIES,
        "activity.csv": _activity(),
        "targets.csv": TARGETS,
        "topics.csv": TOPICS,
        "groups.csv": GROUPS,
        "measures.csv": MEASURES,
        "bcm.csv": BCM,
    }
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return str(folder / "company.db"), folder


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), terminal_width=200)
    return result.exit_code, result.stdout + result.stderr


def test_the_company_runs_on_its_own_rules_and_nothing_of_the_seed_shows(
    company: tuple[str, Path],
) -> None:
    db, folder = company
    f = {name: str(folder / name) for name in ("org.csv", "activity.csv", "targets.csv")}
    steps: list[tuple[str, ...]] = [
        ("init", "--entities", f["org.csv"]),
        ("import", f["activity.csv"], "--kind", "activity"),
        *(
            (
                "context",
                "set",
                "G",
                str(y),
                "revenue",
                str(50_000 + 5_000 * i),
                "万元",
                "--source",
                "annual report",
            )
            for i, y in enumerate(range(2020, 2025))
        ),
        ("targets", "import", f["targets.csv"]),
        ("materiality", "topics", "import", "2024", str(folder / "topics.csv")),
        ("strategy", "measures", "import", str(folder / "measures.csv")),
        ("register", "import", "bcm", str(folder / "bcm.csv"), "--year", "2024"),
        (
            "materiality",
            "create",
            "--year",
            "2024",
            "--title",
            "2024 survey",
            "--closes",
            "2099-01-31",
            "--groups",
            str(folder / "groups.csv"),
        ),
        ("materiality", "list", "--json"),
        ("targets", "--year", "2024"),
        ("strategy", "pathway", "--growth", "0", "--json"),
        ("strategy", "forecast", "--json"),
        ("strategy", "decompose", "--from", "2023", "--to", "2024", "--by", "scope", "--json"),
        ("strategy", "macc", "--json"),
        ("strategy", "optimise", "--year", "2027", "--reduction", "0.05", "--json"),
        ("strategy", "optimise", "--year", "2027", "--pathway", "group", "--json"),
        ("strategy", "energy-plan", "--year", "2027", "--reduction", "0.05", "--json"),
        ("strategy", "uncertainty", "--year", "2024", "--iterations", "500", "--json"),
        ("register", "show", "bcm", "--year", "2024", "--json"),
        ("rules", "list"),
    ]
    outputs = []
    for step in steps:
        code, out = _run(*step, "--ledger", db)
        assert code == 0, (step, out)
        outputs.append(out)
    everything = "\n".join(outputs)
    leaked = sorted(w for w in _forbidden() if w in everything)
    assert leaked == []
    # the company's own rules were used: its milestones, its topics, its measures
    pathway = json.loads(outputs[steps.index(("strategy", "pathway", "--growth", "0", "--json"))])
    assert pathway["rows"][0]["year"] == 2024
    macc = json.loads(outputs[steps.index(("strategy", "macc", "--json"))])
    assert {r["measure_id"] for r in macc["rows"]} == {"tm.motors", "tm.boiler", "tm.gec"}
    bcm = json.loads(outputs[steps.index(("register", "show", "bcm", "--year", "2024", "--json"))])
    assert {r["risk_id"] for r in bcm["rows"]} == {"TM-1", "TM-2"}
    late = [d["message"] for d in bcm["diagnostics"] if d["code"] == "drill-overdue"]
    assert late == ["TM-2 (P2): no drill recorded"]  # TM-1 drilled 2024-06-01
