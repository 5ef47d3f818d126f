"""Regenerate the demo's activity and direct-emission files (checked in; run to refresh).

The seed report publishes group totals only. To make the demo realistic the 2024 quantities
are split over entities and months with fixed weights; every split row is labelled synthetic
and the parts add up exactly (in Decimal) to the published totals. Figures without activity
data (scope 1 fugitive, scope 3, the years 2020-2023) are direct CO2e entries whose provenance
is the 2024 ESG report.
"""

from __future__ import annotations

import csv
from datetime import date
from decimal import Decimal
from pathlib import Path

import pandas as pd

from esgledger.calc import InventoryInput, compute_inventory
from esgledger.domain import Entity, Organisation
from esgledger.factors import CalcSettings, load_library
from esgledger.metrics import load_catalogue

DATA = Path(__file__).resolve().parent.parent / "src" / "esgledger" / "demo" / "data"
OUT = DATA  # where the generated files go (a test points it at a temporary folder)
KPI = Path(__file__).resolve().parents[2] / "shared" / "seed" / "kpi_2024.csv"
SERIES = Path(__file__).resolve().parents[2] / "shared" / "seed" / "ghg_timeseries.csv"
SEED = "2024 ESG report key performance table (../shared/seed/kpi_2024.csv)"
TOTALS = {  # activity type -> (published total, unit, decimals, entities)
    "electricity": (Decimal("45074.37"), "MWh", 2, None),
    "natural_gas": (Decimal("29812"), "m3", 0, ("G00", "S15", "S02")),
    "gasoline_vehicle": (Decimal("1471.54"), "L", 2, ("G00", "S01", "S16")),
}


def split(total: Decimal, weights: list[int], decimals: int) -> list[Decimal]:
    """Parts proportional to weights, rounded, the last part taking the remainder exactly."""
    quantum = Decimal(1).scaleb(-decimals)
    whole = sum(weights)
    parts = [(total * w / whole).quantize(quantum) for w in weights[:-1]]
    parts.append(total - sum(parts))
    assert all(p > 0 for p in parts) and sum(parts) == total
    return parts


def activity_rows(entities: list[str]) -> list[dict[str, str]]:
    rows = []
    for activity, (total, unit, decimals, holders) in TOTALS.items():
        who = list(holders or entities)
        cells = [(e, m) for e in who for m in range(1, 13)]
        # deterministic weights: entity size x a seasonal profile (cooling peaks in summer)
        season = [9, 8, 9, 9, 10, 12, 13, 13, 11, 9, 9, 10]
        weights = [(3 + (i * 7) % 11) * season[m - 1] for i, (e, m) in enumerate(cells)]
        for (entity, month), qty in zip(cells, split(total, weights, decimals), strict=True):
            rows.append(
                {
                    "record_id": f"DEMO-{activity}-{entity}-2024-{month:02d}",
                    "entity_id": entity,
                    "period": f"2024-{month:02d}",
                    "activity_type": activity,
                    "quantity": str(qty),
                    "unit": unit,
                    "region": "",
                    "data_quality": "measured",
                    "activity_date": "",
                    "instrument_id": "",
                    "ef_value": "",
                    "ef_unit": "",
                    "note": f"synthetic monthly split of the published 2024 total {total} {unit} "
                    f"({SEED})",
                }
            )
    return rows


def main() -> None:
    entities = pd.read_csv(DATA / "entities.csv", dtype=str)
    rows = activity_rows(list(entities["entity_id"]))
    with (OUT / "activity_2024.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)

    # Scope 1 combustion computed from the activity data with the demo settings; the report's
    # scope 1 total less that is entered as the fugitive residual (the report gives no split).
    org = Organisation.of(
        Entity(
            r.entity_id,
            r.name,
            r.parent_id if isinstance(r.parent_id, str) else None,
            region=r.region,
        )
        for r in entities.itertuples()
    )
    records = pd.DataFrame(rows)
    records["rid"] = range(1, len(records) + 1)
    records["year"] = 2024
    records["quantity"] = records["quantity"].astype(float)
    records["region"] = None
    params = pd.read_csv(DATA / "parameters.csv")
    params["year"] = None
    settings = CalcSettings(grid_level="national", factor_as_of=date(2025, 3, 31))
    result = compute_inventory(
        InventoryInput(records, org, parameters=params), load_library(), settings
    )
    combustion = Decimal(str(round(result.scope_totals(2024)["scope1"], 6)))
    fugitive = (Decimal("4472.70") - combustion).quantize(Decimal("0.01"))

    if not SERIES.exists():
        raise SystemExit(f"{SERIES} not found: the seed data sits in ../shared beside the project")
    series = pd.read_csv(SERIES, dtype=str)
    chart = (
        "2024 ESG report emissions bar chart, values in series order "
        "(../shared/seed/ghg_timeseries.csv)"
    )
    direct = [
        {
            "record_id": "DEMO-D-2024-S1-FUGITIVE",
            "entity_id": "G00",
            "period": "2024",
            "scope": "1",
            "category": "fugitive",
            "tco2e": str(fugitive),
            "gas": "CO2e",
            "scope2_basis": "",
            "data_quality": "reported",
            "provenance": f"derived: reported 2024 scope 1 4,472.70 tCO2e less combustion "
            f"computed by esgledger ({combustion:.6f}); the report publishes no "
            "split of scope 1",
        },
        {
            "record_id": "DEMO-D-2024-S3",
            "entity_id": "G00",
            "period": "2024",
            "scope": "3",
            "category": "s3_04_upstream_transport",
            "tco2e": "3265.40",
            "gas": "CO2e",
            "scope2_basis": "",
            "data_quality": "reported",
            "provenance": f"reported in the 2024 ESG report ({SEED}); the report says scope 3 "
            "covers transport without naming the category: entered as category 4",
        },
    ]
    for row in series.itertuples():
        if row.year == "2024":
            continue
        for scope, value in (
            ("1", row.scope1_tco2e),
            ("2", row.scope2_tco2e),
            ("3", row.scope3_tco2e),
        ):
            direct.append(
                {
                    "record_id": f"DEMO-D-{row.year}-S{scope}",
                    "entity_id": "G00",
                    "period": row.year,
                    "scope": scope,
                    "category": {
                        "1": "scope1_reported",
                        "2": "purchased_electricity",
                        "3": "s3_04_upstream_transport",
                    }[scope],
                    "tco2e": value,
                    "gas": "CO2e",
                    "scope2_basis": "location" if scope == "2" else "",
                    "data_quality": "reported",
                    "provenance": f"reported in the 2024 ESG report: {chart}",
                }
            )
    with (OUT / "direct.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(direct[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(direct)
    kpi = kpi_rows()
    with (OUT / "kpi_2024.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(kpi[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(kpi)
    print(
        f"{len(rows)} activity rows, {len(direct)} direct rows, {len(kpi)} KPI figures; "
        f"fugitive residual {fugitive} (generated {date.today()})"
    )


def kpi_rows() -> list[dict[str, str]]:
    """The seed's key performance table as reported metric figures of the group (2024)."""
    catalogue = load_catalogue()
    by_row = catalogue.seed_rows()
    seed = pd.read_csv(KPI, dtype=str, keep_default_na=False)
    rows = []
    for number, item in enumerate(seed.to_dict("records"), start=1):
        metric = by_row[number]
        published = item["published"].replace(",", "")
        rows.append(
            {
                "record_id": f"DEMO-KPI-2024-{number:02d}",
                "entity_id": "G00",
                "period": "2024",
                "metric_id": metric.metric_id,
                "value": published,
                "unit": metric.unit,
                "numerator": "",
                "denominator": "",
                "data_quality": "reported",
                "provenance": f"2024 ESG report key performance table, row {number} "
                f"({item['indicator_zh']}; published {item['published']} "
                f"{item['unit_zh']})",
                "note": item["note"],
            }
        )
    return rows


if __name__ == "__main__":
    main()
