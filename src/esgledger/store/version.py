"""The ledger's data version: what the Book is keyed by (migration 0010 keeps it moving).

The table is not part of ``Base.metadata`` on purpose: it is bookkeeping of this database, so
backups neither copy nor hash it, and a restored ledger starts a version line of its own.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, column, select, table

_VERSION = table("data_version", column("id"), column("epoch"), column("counter"))


@dataclass(frozen=True, slots=True, order=True)
class DataVersion:
    """One state of a ledger's data: equal versions read equal figures."""

    epoch: str
    counter: int

    def __str__(self) -> str:
        return f"{self.epoch[:8]}.{self.counter}"


def read_version(engine: Engine) -> DataVersion:
    """The committed data version (one primary-key read)."""
    with engine.connect() as conn:
        row = conn.execute(
            select(_VERSION.c.epoch, _VERSION.c.counter).where(_VERSION.c.id == 1)
        ).one()
    return DataVersion(str(row.epoch), int(row.counter))
