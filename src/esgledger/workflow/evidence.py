"""Evidence files attached to a data request.

:func:`add_evidence` accepts a file only while its request may be edited, and only of a type
in :data:`EVIDENCE_TYPES`, checked by extension and by its leading bytes (text types must be
UTF-8), up to :data:`EVIDENCE_MAX_BYTES`; the content is stored in the ledger with its SHA-256
and the attachment is audited in the same transaction. :func:`get_evidence` returns a file to
a caller who can see its request's entity.
"""

from __future__ import annotations

import hashlib
from typing import Any

from esgledger import audit
from esgledger.auth.access import require
from esgledger.auth.accounts import Principal
from esgledger.auth.roles import Permission
from esgledger.domain.errors import Invalid, NotFound
from esgledger.store.engine import LedgerEngine as Engine
from esgledger.store.engine import write_transaction
from esgledger.store.evidence import evidence_row, insert_evidence
from esgledger.workflow.collection import editable, request_row

#: Evidence files: size limit and the types accepted (by extension and leading bytes).
EVIDENCE_MAX_BYTES = 10_000_000
EVIDENCE_TYPES: dict[str, tuple[str, tuple[bytes, ...]]] = {
    ".pdf": ("application/pdf", (b"%PDF-",)),
    ".png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    ".jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".xlsx": (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        (b"PK\x03\x04",),
    ),
    ".docx": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        (b"PK\x03\x04",),
    ),
    ".csv": ("text/csv", ()),
    ".txt": ("text/plain", ()),
}


def add_evidence(
    engine: Engine,
    who: Principal,
    request_id: int,
    file_name: str,
    content: bytes,
    metric_id: str | None = None,
) -> int:
    """Attach a file (type checked by extension and leading bytes, size limited)."""
    require(who, Permission.EDIT)
    name = file_name.replace("\\", "/").rsplit("/", 1)[-1].strip()
    suffix = ("." + name.rsplit(".", 1)[-1].lower()) if "." in name else ""
    if suffix not in EVIDENCE_TYPES:
        raise Invalid(f"{name}: evidence must be one of {', '.join(sorted(EVIDENCE_TYPES))}")
    if not content:
        raise Invalid(f"{name}: the file is empty")
    if len(content) > EVIDENCE_MAX_BYTES:
        raise Invalid(
            f"{name}: {len(content):,} bytes is over the {EVIDENCE_MAX_BYTES:,}-byte limit"
        )
    content_type, magics = EVIDENCE_TYPES[suffix]
    if magics and not any(content.startswith(m) for m in magics):
        raise Invalid(f"{name}: the content is not a {suffix} file")
    if not magics:
        try:
            content.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise Invalid(f"{name}: a {suffix} file must be UTF-8 text") from exc
    digest = hashlib.sha256(content).hexdigest()
    with write_transaction(engine) as conn:
        req = request_row(conn, who, request_id)
        editable(conn, req)
        evidence_id = insert_evidence(
            conn,
            who.username,
            request_id=request_id,
            metric_id=metric_id,
            file_name=name,
            content_type=content_type,
            size=len(content),
            sha256=digest,
            content=content,
        )
        audit.append(
            conn,
            who.username,
            "attach",
            "evidence",
            evidence_id,
            entity_id=req["entity_id"],
            after={"request": request_id, "file": name, "sha256": digest, "size": len(content)},
        )
    return evidence_id


def get_evidence(engine: Engine, who: Principal, evidence_id: int) -> dict[str, Any]:
    """The evidence row (with its request's ``entity_id``) when ``who`` sees the request."""
    require(who, Permission.VIEW)
    with engine.connect() as conn:
        row = evidence_row(conn, evidence_id)
        if row is None:
            raise NotFound(f"no evidence {evidence_id}")
        request = request_row(conn, who, int(row["request_id"]))
        return {**row, "entity_id": request["entity_id"]}
