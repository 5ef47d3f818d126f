"""A company's material-topic lists in its ledger (``topic_list``), one per year: read as the
cells entered, replaced a year at a time inside the caller's transaction (the use case checks
the list and writes the audit entry with it)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from sqlalchemy import Connection, Engine, delete, insert, select

from esgledger.store.engine import TABLES, reading

TOPIC_LIST = TABLES["topic_list"]


def topic_rows(bind: Engine | Connection, year: int) -> list[dict[str, str]]:
    """The topics of ``year``'s list as the cells entered, in file order (none: ``[]``)."""

    def read(conn: Connection) -> list[dict[str, str]]:
        t = TOPIC_LIST
        stmt = select(t.c.cells).where(t.c.year == int(year)).order_by(t.c.position)
        return [{str(k): str(v) for k, v in json.loads(c).items()} for (c,) in conn.execute(stmt)]

    return reading(bind, read)


def topic_years(bind: Engine | Connection) -> list[int]:
    """The years the ledger has a topic list of, in order."""

    def read(conn: Connection) -> list[int]:
        stmt = select(TOPIC_LIST.c.year).distinct().order_by(TOPIC_LIST.c.year)
        return [int(y) for (y,) in conn.execute(stmt)]

    return reading(bind, read)


def replace_topic_rows(conn: Connection, year: int, rows: Sequence[Mapping[str, str]]) -> None:
    """``year``'s topic list becomes ``rows`` (cells by column name)."""
    conn.execute(delete(TOPIC_LIST).where(TOPIC_LIST.c.year == int(year)))
    if rows:
        conn.execute(
            insert(TOPIC_LIST),
            [
                {
                    "year": int(year),
                    "topic_id": str(row["topic_id"]).strip(),
                    "position": i,
                    "cells": json.dumps(dict(row), ensure_ascii=False),
                }
                for i, row in enumerate(rows)
            ],
        )
