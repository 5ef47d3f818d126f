"""Where the ledger finds the catalogue figures it computes itself
(``metrics/data/ledger_sources.csv``): ``activity`` metrics are sums of the activity records
of type ``key`` (``|``-separated: of any of the types; collected values are stored as such
records), ``inventory`` metrics are the
inventory total ``key``, ``suppliers`` metrics the supplier register's count ``key``."""

from __future__ import annotations

import csv
from importlib import resources


def ledger_sources() -> list[dict[str, str]]:
    """The rows of ``ledger_sources.csv`` (columns metric_id, source, key, notes)."""
    path = resources.files("esgledger.metrics").joinpath("data", "ledger_sources.csv")
    with path.open("r", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))
