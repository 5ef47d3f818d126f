"""Read the organisation tree from a CSV (the same columns as the demo's entities.csv)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from esgledger.domain.diagnostics import Diagnostic
from esgledger.domain.model import Entity, EntityKind
from esgledger.domain.organisation import Organisation
from esgledger.factors.library import load_library, unknown_region
from esgledger.ingest.files import read_csv_strings

ENTITY_COLUMNS = (
    "entity_id",
    "name",
    "parent_id",
    "kind",
    "equity_share",
    "operational_control",
    "financial_control",
    "region",
)
OPTIONAL = ("name_zh", "acquired_on", "divested_on", "note")
TRUE = {"true", "yes", "1", "y"}
FALSE = {"false", "no", "0", "n"}


def _region(text: str, file: str, line: int, problems: list[Diagnostic]) -> str | None:
    """The region code of an entity's ``region`` as written (a code, name or alias, by the
    same rule as an activity row's: ``FactorLibrary.normalise_region``); unknown is an error,
    never a silent national factor."""
    written = str(text).strip()
    if not written:
        return None
    code = load_library().normalise_region(written)
    if code is None:
        problems.append(
            Diagnostic(
                "region",
                unknown_region(written),
                file=file,
                row=line,
                column="region",
            )
        )
    return code


def read_entities(
    path: Path, existing: Organisation | None = None
) -> tuple[list[Entity], list[Diagnostic]]:
    """Entities of a CSV, or located diagnostics.

    The tree is validated as a whole: the file's entities together with ``existing`` ones
    (those of the ledger), the file's version of an entity replacing the stored one.
    """
    frame, _, unreadable = read_csv_strings(path, "entities")
    if frame is None:
        return [], unreadable
    missing = [c for c in ENTITY_COLUMNS if c not in frame.columns]
    if missing:
        return [], [
            Diagnostic(
                "column-missing",
                f"required column {c!r} is missing",
                file=path.name,
                row=1,
                column=c,
            )
            for c in missing
        ]
    entities: list[Entity] = []
    problems: list[Diagnostic] = []
    for index, row in frame.iterrows():
        line = int(str(index)) + 2

        def flag(column: str, row: pd.Series = row, line: int = line) -> bool:
            value = str(row[column]).strip().lower()
            if value not in TRUE | FALSE:
                problems.append(
                    Diagnostic(
                        "boolean",
                        f"{column} {row[column]!r} is not true/false",
                        file=path.name,
                        row=line,
                        column=column,
                    )
                )
            return value in TRUE

        try:
            share = float(row["equity_share"])
        except ValueError:
            problems.append(
                Diagnostic(
                    "number",
                    f"equity_share {row['equity_share']!r} is not a number",
                    file=path.name,
                    row=line,
                    column="equity_share",
                )
            )
            share = 0.0
        try:
            kind = EntityKind(row["kind"].strip() or "subsidiary")
        except ValueError:
            problems.append(
                Diagnostic(
                    "kind",
                    f"kind {row['kind']!r} is not group, subsidiary or site",
                    file=path.name,
                    row=line,
                    column="kind",
                )
            )
            kind = EntityKind.SUBSIDIARY
        dates = {}
        for column in ("acquired_on", "divested_on"):
            text = str(row.get(column, "")).strip()
            dates[column] = pd.Timestamp(text).date() if text else None
        entities.append(
            Entity(
                entity_id=row["entity_id"].strip(),
                name=row["name"].strip(),
                parent_id=row["parent_id"].strip() or None,
                kind=kind,
                equity_share=share,
                operational_control=flag("operational_control"),
                financial_control=flag("financial_control"),
                region=_region(row["region"], path.name, line, problems),
                name_zh=str(row.get("name_zh", "")).strip() or None,
                **dates,
            )
        )
    new_ids = {e.entity_id for e in entities}
    kept = [e for e in (existing or ()) if e.entity_id not in new_ids]
    problems += [
        Diagnostic(d.code, d.message, file=path.name)
        for d in Organisation.of([*kept, *entities]).validate()
    ]
    return entities, problems
