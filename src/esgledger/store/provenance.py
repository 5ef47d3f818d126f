"""Where stored records came from: their source (file and row, form request, adjustment) and,
for records an approved adjustment posted, the adjustment itself. One reading for every
lineage view (the metric lineage, the web lineage pages)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Engine, select

from esgledger.store.engine import TABLES, chunks

ADJUSTMENT = TABLES["adjustment"]
_TABLES = {"activity": TABLES["activity_record"], "direct": TABLES["direct_emission"]}
_NOTES = {"activity": "note", "direct": "provenance"}
_FULL = {"activity_record": "activity", "direct_emission": "direct", "metric_value": "metrics"}


def adjustment_number(source_kind: Any, source_file: Any) -> int | None:
    """The adjustment a record was posted by (``source_file`` ``adjustment:<id>``), else None."""
    kind, _, number = str(source_file).partition(":")
    if source_kind == "adjustment" and kind == "adjustment" and number.isdigit():
        return int(number)
    return None


def adjustments(engine: Engine, ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """Adjustment rows by id."""
    wanted = sorted(set(ids))
    found: dict[int, dict[str, Any]] = {}
    with engine.connect() as conn:
        for part in chunks(wanted):
            stmt = select(ADJUSTMENT).where(ADJUSTMENT.c.adjustment_id.in_(part))
            found.update({int(r["adjustment_id"]): dict(r) for r in conn.execute(stmt).mappings()})
    return found


def by_rid(engine: Engine, table: str, rids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """``source_kind``, ``source_file``, ``source_user`` of records of ``table`` (a table name
    such as ``activity_record``) by rid, with ``adjustment``: the adjustment row of those an
    adjustment posted."""
    if not rids:
        return {}
    target = TABLES[table]
    columns = (target.c.rid, target.c.source_kind, target.c.source_file, target.c.source_user)
    found: dict[int, dict[str, Any]] = {}
    with engine.connect() as conn:
        for part in chunks(rids):
            stmt = select(*columns).where(target.c.rid.in_(part))
            found.update({int(r["rid"]): dict(r) for r in conn.execute(stmt).mappings()})
    posted = {
        rid: n
        for rid, r in found.items()
        if (n := adjustment_number(r["source_kind"], r["source_file"])) is not None
    }
    decided = adjustments(engine, posted.values()) if posted else {}
    for rid, number in posted.items():
        found[rid]["adjustment"] = decided.get(number)
    return found


def by_record_id(engine: Engine, record_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Activity and direct records by ``record_id``: entity, source, batch and note."""
    wanted = sorted(set(record_ids))
    found: dict[str, dict[str, Any]] = {}
    with engine.connect() as conn:
        for kind in ("direct", "activity"):
            table = _TABLES[kind]
            for part in chunks(wanted):
                stmt = select(
                    table.c.record_id,
                    table.c.entity_id,
                    table.c.source_kind,
                    table.c.source_file,
                    table.c.source_row,
                    table.c.source_user,
                    table.c.batch_id,
                    table.c[_NOTES[kind]].label("note"),
                ).where(table.c.record_id.in_(part))
                for row in conn.execute(stmt).mappings():
                    found[str(row["record_id"])] = dict(row)
    return found
