"""Build a ledger of the seed group from the packaged demo files."""

from __future__ import annotations

import csv
from importlib import resources
from pathlib import Path

import pandas as pd

from esgledger.domain.model import StructuralChange
from esgledger.ingest.entities import read_entities
from esgledger.ingest.importer import ImportReport, import_file
from esgledger.store.ledger import Ledger

DEMO_DATA = Path(str(resources.files("esgledger.demo").joinpath("data")))


def _rows(name: str) -> list[dict[str, str]]:
    with (DEMO_DATA / name).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def build_demo(target: Path) -> tuple[Ledger, list[ImportReport]]:
    """Create (or reuse) a ledger at ``target`` holding the demo group; idempotent."""
    ledger = Ledger.open(target)
    ledger.init()
    entities, problems = read_entities(DEMO_DATA / "entities.csv")
    if problems:
        raise ValueError("; ".join(str(p) for p in problems))
    ledger.upsert_entities(entities)
    for row in _rows("settings.csv"):
        ledger.set_setting(str(row["key"]), str(row["value"]))
    for row in _rows("parameters.csv"):
        ledger.set_parameter(
            str(row["name"]),
            int(row["year"]) if row["year"] else None,
            float(row["value"]),
            str(row["unit"]),
            str(row["source"]),
        )
    for row in _rows("context.csv"):
        ledger.set_context(
            str(row["entity_id"]),
            int(row["year"]),
            str(row["metric"]),
            float(row["value"]),
            str(row["unit"]),
            str(row["source"]),
        )
    known = {c.change_id for c in ledger.structural_changes()}
    for row in _rows("changes.csv"):
        if row["change_id"] not in known:
            ledger.add_structural_change(
                StructuralChange(
                    change_id=str(row["change_id"]),
                    year=int(row["year"]),
                    kind=str(row["kind"]),
                    description=str(row["description"]),
                    entity_id=str(row["entity_id"]) or None,
                    base_year_impact_tco2e=float(row["base_year_impact_tco2e"])
                    if row["base_year_impact_tco2e"]
                    else None,
                )
            )
    reports = [
        import_file(ledger, DEMO_DATA / "activity_2024.csv", kind="activity", user="demo"),
        import_file(ledger, DEMO_DATA / "direct.csv", kind="direct", user="demo"),
        import_file(ledger, DEMO_DATA / "kpi_2024.csv", kind="metrics", user="demo"),
    ]
    from esgledger.demo.assess import load_demo_assessments  # noqa: PLC0415 (heavy import)

    load_demo_assessments(ledger)  # with the demo group's targets, which its register links
    from esgledger.report.narrative import import_narratives  # noqa: PLC0415

    # the demo group's report text (a summary of the seed report, no digit in it) for 2024
    import_narratives(ledger.engine, None, DEMO_DATA / "narratives.csv", 2024, actor="demo")
    return ledger, reports


def reported_figures() -> pd.DataFrame:
    return pd.read_csv(DEMO_DATA / "reported.csv")
