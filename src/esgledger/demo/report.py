"""`esgledger demo`: build the seed group's ledger and print figures and a reconciliation."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from rich.console import Console
from rich.table import Table

from esgledger.demo.build import build_demo, reported_figures
from esgledger.domain.diagnostics import Severity, exit_code
from esgledger.service import (
    base_year_decision,
    intensity_table,
    run_inventory,
    settings_from_ledger,
)

YEAR = 2024


def _n(value: float | None, digits: int = 2) -> str:
    return "n/a" if value is None or pd.isna(value) else f"{value:,.{digits}f}"


def print_demo(path: Path, console: Console) -> int:
    ledger, reports = build_demo(path)
    for report in reports:
        for d in report.diagnostics:
            if d.severity is Severity.ERROR:
                console.print(f"[red]{d}[/]")
    if any(not r.ok for r in reports):
        return 1
    settings = settings_from_ledger(ledger)
    result = run_inventory(ledger, settings)
    reported = reported_figures()

    def published(metric: str, year: int = YEAR) -> float | None:
        rows = reported[(reported["metric"] == metric) & (reported["year"] == year)]
        return None if rows.empty else float(rows["value"].iloc[0])

    console.print(
        f"[bold]esgledger demo: the seed group[/] (ledger {path}, factor library "
        f"{result.library_version}, {settings.gwp_set}, "
        f"{settings.approach.value.replace('_', ' ')}, grid factor "
        f"{settings.grid_level}, factors as of {settings.factor_as_of})"
    )

    energy = (
        result.energy[result.energy["year"] == YEAR]
        .groupby(["activity_type", "basis_unit", "coef_id"], as_index=False)[
            ["quantity_basis", "tce"]
        ]
        .sum()
    )
    records = ledger.activity_frame([YEAR])
    entered = records.groupby(["activity_type", "unit"], as_index=False)["quantity"].sum()
    table = Table(title=f"Energy {YEAR} (GB/T 2589-2020, 当量值)")
    for col in ("activity", "entered", "coefficient", "tce"):
        table.add_column(col, justify="left" if col in ("activity", "coefficient") else "right")
    for row in energy.itertuples(index=False):
        src = entered[entered["activity_type"] == row.activity_type]
        amount = ", ".join(
            f"{q:,.2f} {u}" for q, u in zip(src["quantity"], src["unit"], strict=True)
        )
        table.add_row(row.activity_type, amount, row.coef_id, _n(row.tce, 2))
    total_tce = result.energy_totals(YEAR)["tce"]
    table.add_row("[bold]total[/]", "", "", f"[bold]{_n(total_tce)}[/]")
    console.print(table)

    totals = result.scope_totals(YEAR)
    recon = Table(title=f"GHG {YEAR}, tCO2e: computed vs reported")
    for col in ("figure", "computed", "reported", "difference", "%", "note"):
        recon.add_column(col, justify="left" if col in ("figure", "note") else "right")
    notes = {
        "energy (tce)": "gasoline L -> kg at the demo density parameter 0.73 kg/L",
        "scope 1": "fugitive entered as reported total less computed combustion: agrees by "
        "construction",
        "scope 2 (location)": "45,074.37 MWh x MEE/NBS national factor published by the "
        "report date",
        "scope 3": "direct entry, as reported",
        "total": "",
    }
    rows = [
        ("energy (tce)", total_tce, published("energy_tce")),
        ("scope 1", totals["scope1"], published("scope1")),
        ("scope 2 (location)", totals["scope2_location"], published("scope2")),
        ("scope 3", totals["scope3"], published("scope3")),
        ("total", totals["total"], published("total")),
    ]
    for name, computed, pub in rows:
        diff = None if pub is None else computed - pub
        pct = None if not pub else (diff or 0.0) / pub * 100
        recon.add_row(name, _n(computed), _n(pub), _n(diff), _n(pct, 3), notes[name])
    recon.add_row(
        "scope 2 (market)",
        _n(totals["scope2_market"]),
        "n/a",
        "",
        "",
        "no instruments: all MWh at the residual proxy factor",
    )
    console.print(recon)

    intensity = intensity_table(ledger, result)
    series = Table(title="Series 2020-2024 (tCO2e; intensity per 万元 revenue)")
    for col in ("year", "scope 1", "scope 2", "scope 3", "total", "intensity", "change"):
        series.add_column(col, justify="right")
    for year in result.years():
        t = result.scope_totals(year)
        row = intensity[intensity["year"] == year].iloc[0]
        series.add_row(
            str(year),
            _n(t["scope1"]),
            _n(t["scope2_location"]),
            _n(t["scope3"]),
            _n(t["total"]),
            _n(row["intensity_per_wan_yuan"], 4),
            _n(row["intensity_yoy_change"], 5),
        )
    console.print(series)
    current = intensity[intensity["year"] == YEAR].iloc[0]
    console.print(
        f"Intensity {YEAR}: {_n(current['intensity_per_wan_yuan'], 4)} tCO2e per 万元 "
        f"revenue (reported {_n(published('intensity_revenue'), 4)}); per employee "
        f"{_n(current['intensity_per_employee'], 4)} tCO2e"
    )
    decision = base_year_decision(ledger, result)
    if decision is not None:
        console.print(
            f"Base year: {decision.action} -> {decision.new_base_year}. {decision.reason}"
        )
    warnings = [d for d in result.diagnostics if d.severity is not Severity.INFO]
    for d in warnings:
        console.print(f"[yellow]{d}[/]", highlight=False)
    console.print(f"Trace a figure: esgledger explain ghg:{YEAR}:S2L --ledger {path}")
    ledger.close()
    return exit_code(result.diagnostics)
