"""The append-only, hash-chained audit log.

Every entry stores who, when, what (action, object, entity) and the state before and after as
canonical JSON, with the hash of the previous entry; its own hash is the SHA-256 of all of that.
Editing an entry breaks its hash, deleting or reordering entries breaks the chain, and
deleting the newest entries is seen against ``audit_head`` (kept in the same transaction) or,
when the database itself may be rewritten, against a head saved elsewhere
(``esgledger audit head`` then ``esgledger audit verify --expect SEQ:HASH``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update

from esgledger.store.engine import TABLES, now

AUDIT, HEAD = TABLES["audit_log"], TABLES["audit_head"]
GENESIS = "0" * 64
_PG_LOCK_KEY = 0x65_73_67_6C  # 'esgl': serialises appends on PostgreSQL


def canonical(value: Any) -> str | None:
    """Canonical JSON (sorted keys, no spaces, dates as ISO text); None stays None."""
    if value is None:
        return None
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_iso
    )


def _iso(value: Any) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return hashlib.sha256(value).hexdigest()
    raise TypeError(f"cannot put {type(value).__name__} in the audit log")


def entry_hash(entry: Mapping[str, Any]) -> str:
    """SHA-256 of an entry's fields (all but ``hash``) in a fixed layout."""
    fields = {
        "seq": int(entry["seq"]),
        "at": _at_text(entry["at"]),
        "actor": entry["actor"],
        "action": entry["action"],
        "object_type": entry["object_type"],
        "object_id": entry["object_id"],
        "entity_id": entry["entity_id"],
        "before": entry["before"],
        "after": entry["after"],
        "prev_hash": entry["prev_hash"],
    }
    text = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _at_text(value: datetime | str) -> str:
    return value.isoformat(timespec="microseconds") if isinstance(value, datetime) else value


def append(
    conn: Connection,
    actor: str,
    action: str,
    object_type: str,
    object_id: str | int,
    *,
    entity_id: str | None = None,
    before: Any = None,
    after: Any = None,
) -> int:
    """Add an entry inside the caller's transaction (so it commits or rolls back with the
    change it records) and return its sequence number."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_LOCK_KEY})")
    head = conn.execute(select(HEAD.c.seq, HEAD.c.hash).where(HEAD.c.id == 1)).first()
    seq, prev = (1, GENESIS) if head is None else (int(head.seq) + 1, str(head.hash))
    entry: dict[str, Any] = {
        "seq": seq,
        "at": now(),
        "actor": actor,
        "action": action,
        "object_type": object_type,
        "object_id": str(object_id),
        "entity_id": entity_id,
        "before": canonical(before),
        "after": canonical(after),
        "prev_hash": prev,
    }
    entry["hash"] = entry_hash(entry)
    conn.execute(insert(AUDIT).values(**entry))
    if head is None:
        conn.execute(insert(HEAD).values(id=1, seq=seq, hash=entry["hash"]))
    else:
        conn.execute(update(HEAD).where(HEAD.c.id == 1).values(seq=seq, hash=entry["hash"]))
    return seq


@dataclass(frozen=True)
class Problem:
    seq: int | None
    message: str

    def __str__(self) -> str:
        where = "audit log" if self.seq is None else f"audit entry {self.seq}"
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class Verification:
    entries: int
    head_seq: int
    head_hash: str
    problems: tuple[Problem, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def _entries(conn: Connection, batch: int = 5000) -> Iterator[dict[str, Any]]:
    last = 0
    while True:
        rows = conn.execute(
            select(AUDIT).where(AUDIT.c.seq > last).order_by(AUDIT.c.seq).limit(batch)
        ).mappings()
        chunk = [dict(r) for r in rows]
        if not chunk:
            return
        yield from chunk
        last = int(chunk[-1]["seq"])


def verify(engine: Engine, expect: tuple[int, str] | None = None) -> Verification:
    """Recompute the chain: every hash, every link, the sequence without gaps, the stored head
    and, when given, a head ``(seq, hash)`` saved outside the database."""
    problems: list[Problem] = []
    prev, expected_seq, count = GENESIS, 1, 0
    with engine.connect() as conn:
        for entry in _entries(conn):
            seq = int(entry["seq"])
            count += 1
            if seq != expected_seq:
                problems.append(
                    Problem(
                        seq, f"sequence jumps from {expected_seq - 1} to {seq}: entries deleted"
                    )
                )
            if entry["prev_hash"] != prev:
                problems.append(
                    Problem(seq, "does not follow the previous entry: deleted or reordered")
                )
            if entry_hash(entry) != entry["hash"]:
                problems.append(Problem(seq, "content does not match its hash: modified"))
            prev, expected_seq = str(entry["hash"]), seq + 1
        head = conn.execute(select(HEAD.c.seq, HEAD.c.hash).where(HEAD.c.id == 1)).first()
    last_seq = expected_seq - 1
    if head is None:
        if count:
            problems.append(Problem(None, "the head record is missing"))
    elif (int(head.seq), str(head.hash)) != (last_seq, prev):
        problems.append(
            Problem(
                None,
                f"the log ends at entry {last_seq} but the head records entry {head.seq}: "
                "entries deleted or the head altered",
            )
        )
    if expect is not None and not _reaches(engine, expect):
        problems.append(
            Problem(None, f"entry {expect[0]} does not have the saved hash {expect[1][:12]}...")
        )
    return Verification(count, last_seq, prev if count else GENESIS, tuple(problems))


def _reaches(engine: Engine, expect: tuple[int, str]) -> bool:
    with engine.connect() as conn:
        found = conn.scalar(select(AUDIT.c.hash).where(AUDIT.c.seq == expect[0]))
    return found == expect[1]


def entries(
    engine: Engine,
    *,
    entity_ids: set[str] | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    limit: int = 200,
    before_seq: int | None = None,
) -> list[dict[str, Any]]:
    """Newest entries first; ``entity_ids`` restricts to entries of those entities (entries
    without an entity are group-level and shown only when ``entity_ids`` is None)."""
    stmt = select(AUDIT).order_by(AUDIT.c.seq.desc()).limit(limit)
    if entity_ids is not None:
        stmt = stmt.where(AUDIT.c.entity_id.in_(sorted(entity_ids)))
    if object_type is not None:
        stmt = stmt.where(AUDIT.c.object_type == object_type)
    if object_id is not None:
        stmt = stmt.where(AUDIT.c.object_id == object_id)
    if before_seq is not None:
        stmt = stmt.where(AUDIT.c.seq < before_seq)
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(stmt).mappings()]
