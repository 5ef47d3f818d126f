"""A company's own metrics in its ledger (``metric_definition``): read as the cells entered,
replaced as a whole inside the caller's transaction (the use case validates them and writes
the audit entry with them)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from sqlalchemy import Connection, Engine, delete, func, insert, select

from esgledger.store.engine import TABLES, reading

METRIC_DEFINITION = TABLES["metric_definition"]
METRIC_VALUE = TABLES["metric_value"]


def _read(conn: Connection) -> list[dict[str, str]]:
    t = METRIC_DEFINITION
    stmt = select(t.c.cells).order_by(t.c.position)
    return [{str(k): str(v) for k, v in json.loads(c).items()} for (c,) in conn.execute(stmt)]


def metric_rows(bind: Engine | Connection) -> list[dict[str, str]]:
    """The ledger's own metrics as the cells entered, in file order."""
    return reading(bind, _read)


def replace_metric_rows(conn: Connection, rows: Sequence[Mapping[str, str]]) -> None:
    """The ledger's own metrics become ``rows`` (cells by column name)."""
    conn.execute(delete(METRIC_DEFINITION))
    if rows:
        conn.execute(
            insert(METRIC_DEFINITION),
            [
                {
                    "metric_id": str(row["metric_id"]).strip(),
                    "position": i,
                    "cells": json.dumps(dict(row), ensure_ascii=False),
                }
                for i, row in enumerate(rows)
            ],
        )


def value_years(conn: Connection, metric_ids: Sequence[str]) -> dict[str, set[int]]:
    """The years with a stored figure of each of ``metric_ids``."""
    if not metric_ids:
        return {}
    v = METRIC_VALUE
    stmt = (
        select(v.c.metric_id, v.c.year, func.count())
        .where(v.c.metric_id.in_(list(metric_ids)))
        .group_by(v.c.metric_id, v.c.year)
    )
    out: dict[str, set[int]] = {}
    for metric_id, year, _ in conn.execute(stmt):
        out.setdefault(str(metric_id), set()).add(int(year))
    return out
