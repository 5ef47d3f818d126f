"""A company's measure catalogue in its ledger (``measure``): read as the cells entered,
replaced as a whole inside the caller's transaction (the use case validates the catalogue and
writes the audit entry with it)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from sqlalchemy import Connection, Engine, delete, insert, select

from esgledger.store.engine import TABLES, reading

MEASURE = TABLES["measure"]


def _read(conn: Connection) -> list[dict[str, str]]:
    stmt = select(MEASURE.c.cells).order_by(MEASURE.c.position)
    return [{str(k): str(v) for k, v in json.loads(c).items()} for (c,) in conn.execute(stmt)]


def measure_rows(bind: Engine | Connection) -> list[dict[str, str]]:
    """The ledger's measures as the cells entered, in file order (none: ``[]``)."""
    return reading(bind, _read)


def replace_measure_rows(conn: Connection, rows: Sequence[Mapping[str, str]]) -> None:
    """The ledger's measure catalogue becomes ``rows`` (cells by column name)."""
    conn.execute(delete(MEASURE))
    if rows:
        conn.execute(
            insert(MEASURE),
            [
                {
                    "measure_id": str(row["measure_id"]).strip(),
                    "position": i,
                    "cells": json.dumps(dict(row), ensure_ascii=False),
                }
                for i, row in enumerate(rows)
            ],
        )
