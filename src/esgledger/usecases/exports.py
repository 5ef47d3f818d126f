"""Every export in the audit log: one helper for every download of the web platform and every
file a command writes from the ledger's data.

An export is recorded as it is handed out: action ``export``, the object exported (its type
and id, and its entity when it belongs to one), the format, the number of rows, the size and
the SHA-256 of the exact bytes sent, so that a file found later can be matched to the entry
(who took it and when). The entry is committed before the bytes leave: an export that cannot
be recorded is not made.
"""

from __future__ import annotations

import hashlib
from typing import Any

from esgledger import audit
from esgledger.auth.accounts import Principal
from esgledger.store.engine import LedgerEngine as Engine
from esgledger.store.engine import write_transaction

__all__ = ["record_export"]


def record_export(
    engine: Engine,
    who: Principal,
    object_type: str,
    object_id: str | int,
    content: bytes,
    *,
    fmt: str,
    rows: int | None = None,
    entity_id: str | None = None,
    **detail: Any,
) -> int:
    """Write the audit entry of an export of ``content`` (``fmt``: csv, xlsx, pdf...; ``rows``:
    the data rows it holds, None for a file that has none, such as an evidence scan);
    ``detail`` adds facts of the object (year, language, file name...). Its sequence number."""
    after = {
        "format": fmt,
        "rows": rows,
        "bytes": len(content),
        "sha256": hashlib.sha256(content).hexdigest(),
        **detail,
    }
    with write_transaction(engine) as conn:
        return audit.append(
            conn, who.username, "export", object_type, object_id, entity_id=entity_id, after=after
        )
