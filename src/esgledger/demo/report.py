"""`esgledger demo`: build the seed group's ledger and print figures and a reconciliation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from rich.console import Console
from rich.table import Table

from esgledger.calc import InventoryResult
from esgledger.demo.build import build_demo, reported_figures
from esgledger.domain.diagnostics import Severity, exit_code
from esgledger.service import (
    base_year_decision,
    check,
    computed_figures,
    intensity_table,
    run_inventory,
    settings_from_ledger,
)
from esgledger.store.ledger import Ledger
from esgledger.tables import rows

YEAR = 2024
NOTES = {
    "energy (tce)": "gasoline L -> kg at the demo density parameter 0.73 kg/L",
    "scope 1": "fugitive entered as the reported total less computed combustion: agrees by "
    "construction",
    "scope 2 (location)": "45,074.37 MWh x MEE/NBS national factor published by the report date",
    "scope 3": "direct entry, as reported",
    "total": "",
}


def _n(value: Any, digits: int = 2) -> str:
    return "n/a" if value is None or pd.isna(value) else f"{value:,.{digits}f}"


def _published(metric: str, year: int = YEAR) -> float | None:
    reported = reported_figures()
    match = reported[(reported["metric"] == metric) & (reported["year"] == year)]
    return None if match.empty else float(match["value"].iloc[0])


def energy_table(ledger: Ledger, result: InventoryResult) -> Table:
    energy = result.energy[result.energy["year"] == YEAR]
    energy = pd.DataFrame(energy.groupby(["activity_type", "coef_id"], as_index=False)["tce"].sum())
    records = ledger.activity_frame([YEAR])
    entered = records.groupby(["activity_type", "unit"], as_index=False)["quantity"].sum()
    table = Table(title=f"Energy {YEAR} (GB/T 2589-2020, 当量值)")
    for col in ("activity", "entered", "coefficient", "tce"):
        table.add_column(col, justify="left" if col in ("activity", "coefficient") else "right")
    for row in rows(energy):
        src = entered[entered["activity_type"] == row["activity_type"]]
        amount = ", ".join(
            f"{q:,.2f} {u}" for q, u in zip(src["quantity"], src["unit"], strict=True)
        )
        table.add_row(str(row["activity_type"]), amount, str(row["coef_id"]), _n(row["tce"]))
    total = result.energy_totals(YEAR)["tce"]
    table.add_row("[bold]total[/]", "", "", f"[bold]{_n(total)}[/]")
    return table


def reconciliation_table(result: InventoryResult, by_year: dict[int, dict[str, Any]]) -> Table:
    totals = result.scope_totals(YEAR)
    table = Table(title=f"GHG {YEAR}, tCO2e: computed vs reported")
    for col in ("figure", "computed", "reported", "difference", "%", "note"):
        table.add_column(col, justify="left" if col in ("figure", "note") else "right")
    figures = [
        ("energy (tce)", result.energy_totals(YEAR)["tce"], _published("energy_tce")),
        ("scope 1", totals["scope1"], _published("scope1")),
        ("scope 2 (location)", totals["scope2_location"], _published("scope2")),
        ("scope 3", totals["scope3"], _published("scope3")),
        ("total", totals["total"], _published("total")),
    ]
    for name, computed, pub in figures:
        diff = None if pub is None else computed - pub
        pct = None if not pub or diff is None else diff / pub * 100
        table.add_row(name, _n(computed), _n(pub), _n(diff), _n(pct, 3), NOTES[name])
    table.add_row(
        "scope 2 (market)",
        _n(totals["scope2_market"]),
        "n/a",
        "",
        "",
        "no instruments: all MWh at the residual proxy factor",
    )
    now, before = by_year.get(YEAR, {}), by_year.get(YEAR - 1, {})
    table.add_row(
        "intensity (per 万元)",
        _n(now.get("intensity_per_wan_yuan"), 4),
        _n(_published("intensity_revenue"), 4),
        "",
        "",
        "total / revenue 313.16 亿元; a ratio is recomputed, never summed",
    )
    table.add_row(
        "intensity change",
        _n(now.get("intensity_yoy_change"), 5),
        "-0.00346",
        "",
        "",
        f"from {_n(before.get('intensity_per_wan_yuan'), 5)}; the report subtracts "
        "intensities rounded to 4 places",
    )
    return table


def series_table(result: InventoryResult, by_year: dict[int, dict[str, Any]]) -> Table:
    table = Table(title="Series 2020-2024 (tCO2e; intensity per 万元 revenue)")
    for col in ("year", "scope 1", "scope 2", "scope 3", "total", "intensity", "change"):
        table.add_column(col, justify="right")
    for year in result.years():
        t = result.scope_totals(year)
        row = by_year.get(year, {})
        table.add_row(
            str(year),
            _n(t["scope1"]),
            _n(t["scope2_location"]),
            _n(t["scope3"]),
            _n(t["total"]),
            _n(row.get("intensity_per_wan_yuan"), 4),
            _n(row.get("intensity_yoy_change"), 5),
        )
    return table


def assessments_line(ledger: Ledger) -> str:
    """One paragraph on the demo's assessments: material topics per tier (synthetic survey),
    supplier counts, BCM grades (synthetic registers reproducing the seed's counts)."""
    from esgledger.assess import results  # noqa: PLC0415 (heavy import)
    from esgledger.usecases import assessment_results as found  # noqa: PLC0415

    signed = found.materiality(ledger, YEAR)
    tiers = {} if signed is None else signed.results["tier"].value_counts().to_dict()
    graded = found.graded(ledger, "bcm", YEAR)
    grades = results.count_by(graded, "grade", ["low", "general", "significant", "major"])
    computed, _ = computed_figures(ledger, YEAR)
    return (
        f"Assessments {YEAR} (synthetic survey and registers that reproduce the seed's counts): "
        f"material topics {sum(tiers.values())} ("
        + ", ".join(f"{tiers.get(t, 0)} {t}" for t in ("very high", "high", "relatively high"))
        + f"); suppliers {_n(computed.get('supply.suppliers'), 0)} "
        f"({_n(computed.get('supply.suppliers_new_certified'), 0)} newly certified); "
        f"business-continuity risks {sum(grades.values())} ("
        + ", ".join(f"{n} {g}" for g, n in grades.items())
        + f"). esgledger materiality results --campaign "
        f"{'-' if signed is None else signed.campaign_id} lists the scores."
    )


def strategy_line(ledger: Ledger) -> str:
    """One paragraph on the carbon strategy of the demo: the LMDI decomposition of the change
    from the previous year, the pathway's gap in 2030, and the least-cost plan that cuts 30 %
    of the year's market-based emissions by 2030 (the CLI commands print the tables)."""
    from esgledger.strategy import abatement  # noqa: PLC0415 (heavy import)
    from esgledger.usecases import strategy as usecase  # noqa: PLC0415
    from esgledger.usecases import strategy_figures as figures  # noqa: PLC0415

    lmdi = figures.decomposition(ledger, YEAR - 1, YEAR, "scope")
    effects = ", ".join(f"{f} {_n(float(v))}" for f, v in lmdi.additive.items())
    table, _ = figures.pathway_table(ledger, YEAR)
    at = table.set_index("year")
    target = 2030
    base = usecase.baseline_from_ledger(ledger, YEAR)
    total = base.total(basis="market")
    _, cap = usecase.plan_cap(total)  # the default cut, 30 %
    catalogue, _ = usecase.measure_catalogue(ledger, base, "market")
    plan = abatement.plan_for_cap(
        catalogue, total, cap, target, None, electricity_mwh=base.electricity_mwh
    )
    checked = abatement.verify_plan(plan)
    return (
        f"Carbon strategy: emissions {YEAR - 1} -> {YEAR} {_n(lmdi.change)} tCO2e = {effects} "
        f"(LMDI-I, scopes as subsectors; esgledger strategy decompose --from {YEAR - 1} --to "
        f"{YEAR}). Pathway from {YEAR}: business as usual {_n(float(at['bau'].loc[target]))}, "
        f"group pathway {_n(float(at['group'].loc[target]))}, 1.5 C contraction "
        f"{_n(float(at['contraction'].loc[target]))} tCO2e in {target} (esgledger strategy "
        f"pathway). Least-cost plan for -30 % by {target} (market-based, cap {_n(cap)} tCO2e): "
        f"{len(plan.chosen)} measures, {_n(plan.abatement_t)} tCO2e/year, "
        f"{_n(plan.total_cost_cny, 0)} CNY/year (negative: a saving), shadow price "
        f"{_n(plan.shadow_price)} CNY/tCO2e, recomputed without the solver: "
        f"{'ok' if checked.ok else 'FAILED'} "
        f"(esgledger strategy macc, strategy optimise --year {target} --reduction 0.3)."
    )


def print_demo(path: Path, console: Console) -> int:
    """Build the demo ledger at ``path`` and print its figures; returns the exit code."""
    ledger, reports = build_demo(path)
    for d in (d for r in reports for d in r.diagnostics if d.severity is Severity.ERROR):
        console.print(f"[red]{d}[/]", highlight=False)
    if any(not r.ok for r in reports):
        return 1
    settings = settings_from_ledger(ledger)
    result = run_inventory(ledger, settings)
    by_year = {int(r["year"]): r for r in rows(intensity_table(ledger, result))}
    console.print(
        f"[bold]esgledger demo: the seed group[/] (ledger {path}, factor library "
        f"{result.library_version}, {settings.gwp_set}, {settings.approach.value}, grid factor "
        f"{settings.grid_level}, factors as of {settings.factor_as_of})"
    )
    console.print(energy_table(ledger, result))
    console.print(reconciliation_table(result, by_year))
    console.print(series_table(result, by_year))
    now = by_year.get(YEAR, {})
    console.print(
        f"Intensity {YEAR}: {_n(now.get('intensity_per_wan_yuan'), 4)} tCO2e per 万元 revenue "
        f"(reported {_n(_published('intensity_revenue'), 4)}); "
        f"{_n(now.get('intensity_per_employee'), 4)} tCO2e per employee"
    )
    findings = check(ledger, [YEAR])
    console.print(
        f"Consistency of the published {YEAR} key performance table "
        f"({len(findings)} findings; `esgledger check` lists them):"
    )
    for finding in findings:
        console.print(f"  {finding}", markup=False, highlight=False, soft_wrap=True)
    decision = base_year_decision(ledger, result)
    if decision is not None:
        console.print(
            f"Base year: {decision.action} -> {decision.new_base_year}. {decision.reason}"
        )
    for d in (d for d in result.diagnostics if d.severity is not Severity.INFO):
        console.print(f"[yellow]{d}[/]", highlight=False)
    console.print(assessments_line(ledger))
    console.print(strategy_line(ledger), markup=False, highlight=False, soft_wrap=True)
    console.print(f"Trace a figure: esgledger explain ghg:{YEAR}:S2L --ledger {path}")
    console.print(
        f"Open the web platform: esgledger serve --ledger {path} -> http://127.0.0.1:8000/ "
        f"(demo accounts and passwords are written to {Path(path).parent / 'demo-users.tsv'})"
    )
    ledger.close()
    return exit_code(result.diagnostics)
