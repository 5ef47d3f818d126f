"""The append-only, hash-chained audit log, anchored outside the database.

Every entry stores who, when, what (action, object, entity) and the state before and after as
canonical JSON, with the hash of the previous entry; its own ``hash`` is the HMAC-SHA256 of all
of that, its key's id included, under the audit key, which is kept outside the database
(:mod:`esgledger.store.audit_key`); ``key_id`` names the key. Entries written before the log
had a key have no key id and a plain SHA-256 hash (:func:`entry_hash`): they still verify, but
only before the first keyed entry.

Editing an entry breaks its hash, deleting or reordering entries breaks the chain, and
recomputing the chain needs the key. The newest entries are checked against ``audit_head``
(kept in the same transaction) and against checkpoints of the head written to a file outside
the database (:mod:`esgledger.store.audit_checkpoints`): at least every ``CHECKPOINT_EVERY``
entries or ``CHECKPOINT_AFTER`` of time, when the chain starts being keyed (recording from
which entry on every entry must be keyed) and on demand (``esgledger audit checkpoint``).
A head saved anywhere else still works too (``esgledger audit head``, then
``esgledger audit verify --expect SEQ:HASH``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import weakref
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, Row, func, insert, select, update

from esgledger.store.audit_checkpoints import (
    Checkpoint,
    append_checkpoint,
    last_checkpoint,
    read_checkpoints,
)
from esgledger.store.audit_key import (
    CHECKPOINTS_VARIABLE,
    KEY_FILE_VARIABLE,
    Anchor,
    AuditKeyError,
    anchor_of,
    signing_key,
    verifying_keys,
)
from esgledger.store.engine import TABLES, now

AUDIT, HEAD = TABLES["audit_log"], TABLES["audit_head"]
GENESIS = "0" * 64
CHECKPOINT_EVERY = 100
"""A checkpoint is written when the committed head is this many entries past the last one."""
CHECKPOINT_AFTER = timedelta(minutes=15)
"""... or when the head moved and the last checkpoint is older than this."""
MAX_PROBLEMS = 1000
"""Problems listed one by one; more are counted in a last one."""
_PG_LOCK_KEY = 0x65_73_67_6C  # 'esgl': serialises appends on PostgreSQL
_TRANSACTION = "esgledger.audit_log.transaction"
log = logging.getLogger(__name__)


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


def _layout(entry: Mapping[str, Any], *, keyed: bool) -> bytes:
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
    if keyed:
        fields["key_id"] = entry["key_id"]
    text = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8")


def entry_hash(entry: Mapping[str, Any]) -> str:
    """SHA-256 of an entry's fields (all but ``hash`` and ``key_id``) in a fixed layout: the
    hash of the entries written before the log had a key."""
    return hashlib.sha256(_layout(entry, keyed=False)).hexdigest()


def entry_mac(entry: Mapping[str, Any], secret: bytes) -> str:
    """HMAC-SHA256 under ``secret`` of the same layout with ``key_id`` added: the hash of a
    keyed entry."""
    return hmac.new(secret, _layout(entry, keyed=True), hashlib.sha256).hexdigest()


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
    change it records) and return its sequence number. The entry is keyed with the ledger's
    audit key, created on first use (:class:`AuditKeyError` when a server ledger has none
    configured); the first append of a transaction checkpoints the committed head when one is
    due (:func:`_checkpoint_committed`)."""
    anchor = anchor_of(conn.engine.url)
    key = signing_key(anchor)
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_LOCK_KEY})")
    head = conn.execute(select(HEAD.c.seq, HEAD.c.hash).where(HEAD.c.id == 1)).first()
    if _first_of_transaction(conn):
        _checkpoint_committed(conn, anchor, head, key.key_id)
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
        "key_id": key.key_id,
    }
    entry["hash"] = entry_mac(entry, key.secret)
    conn.execute(insert(AUDIT).values(**entry))
    if head is None:
        conn.execute(insert(HEAD).values(id=1, seq=seq, hash=entry["hash"]))
    else:
        conn.execute(update(HEAD).where(HEAD.c.id == 1).values(seq=seq, hash=entry["hash"]))
    return seq


def _first_of_transaction(conn: Connection) -> bool:
    """Whether no entry was appended yet in the connection's transaction: the head read then
    was committed by an earlier transaction (appends hold the append lock)."""
    transaction = conn.get_transaction()
    if transaction is None:
        return True
    marker = conn.info.get(_TRANSACTION)
    if marker is not None and marker() is transaction and transaction.is_active:
        return False
    conn.info[_TRANSACTION] = weakref.ref(transaction)
    return True


def _checkpoint_committed(
    conn: Connection, anchor: Anchor, head: Row[Any, Any] | None, key_id: str
) -> None:
    """Append the committed head to the checkpoint file when it is due (``CHECKPOINT_EVERY``
    entries or ``CHECKPOINT_AFTER`` since the last checkpoint) or when the entries about to be
    written are the first with this key (then ``keyed_from`` records where keyed entries
    begin). Only a committed head is checkpointed, so a transaction that rolls back leaves a
    true checkpoint; appends are serialised, so writers of one database never race. A file
    that cannot be written is logged, not fatal: the next checkpoint will do."""
    if anchor.checkpoints is None:
        return
    seq, digest = (0, GENESIS) if head is None else (int(head.seq), str(head.hash))
    head_key = None
    if head is not None:
        head_key = conn.scalar(select(AUDIT.c.key_id).where(AUDIT.c.seq == seq))
    try:
        last = last_checkpoint(anchor.checkpoints)
        if head_key == key_id and not _due(last, seq):
            return
        keyed_from = seq + 1 if head_key is None else _keyed_from(conn, last)
        point = Checkpoint(seq, digest, now(), head_key, keyed_from)
        append_checkpoint(anchor.checkpoints, point)
    except OSError as exc:
        log.warning("audit checkpoint not written to %s: %s", anchor.checkpoints, exc)


def _due(last: Checkpoint | None, seq: int) -> bool:
    if last is None or seq - last.seq >= CHECKPOINT_EVERY:
        return True
    return seq > last.seq and now() - last.at >= CHECKPOINT_AFTER


def _keyed_from(conn: Connection, last: Checkpoint | None) -> int | None:
    if last is not None and last.keyed_from is not None:
        return last.keyed_from
    first = conn.scalar(select(func.min(AUDIT.c.seq)).where(AUDIT.c.key_id.is_not(None)))
    return None if first is None else int(first)


@dataclass(frozen=True)
class Problem:
    seq: int | None
    message: str

    def __str__(self) -> str:
        where = "audit log" if self.seq is None else f"audit entry {self.seq}"
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class Verification:
    """What :func:`verify` found. ``key_id`` is the key that signs new entries (None when the
    key file does not exist yet), ``head_key_id`` the newest entry's, ``keyed_from`` the first
    keyed entry, ``checkpoints`` the checkpoints compared; ``notes`` say what could not be
    checked without being a problem (no checkpoint file, plain SHA-256 entries from before the
    key)."""

    entries: int
    head_seq: int
    head_hash: str
    problems: tuple[Problem, ...]
    key_id: str | None = None
    head_key_id: str | None = None
    keyed_from: int | None = None
    checkpoints: int = 0
    notes: tuple[str, ...] = ()

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


class _Chain:
    """The check of a chain read in order, against the keys and the checkpoints."""

    def __init__(self, keys: Mapping[str, bytes], checkpoints: Sequence[Checkpoint]) -> None:
        self.keys = keys
        self.pinned: dict[int, list[Checkpoint]] = {}
        for point in checkpoints:
            if point.seq > 0:
                self.pinned.setdefault(point.seq, []).append(point)
        required = [p.keyed_from for p in checkpoints if p.keyed_from is not None]
        self.required = min(required) if required else None
        self.problems: list[Problem] = []
        self.unlisted = 0
        self.prev, self.expected, self.count = GENESIS, 1, 0
        self.head_key: str | None = None
        self.first_keyed: int | None = None
        self.plain_before_key = 0
        self.tallies: dict[str, list[int]] = {}  # what -> [first seq, entries]

    def problem(self, seq: int | None, message: str) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(Problem(seq, message))
        else:
            self.unlisted += 1

    def tally(self, what: str, seq: int) -> None:
        self.tallies.setdefault(what, [seq, 0])[1] += 1

    def add(self, entry: Mapping[str, Any]) -> None:
        seq = int(entry["seq"])
        self.count += 1
        if seq != self.expected:
            self.problem(seq, f"sequence jumps from {self.expected - 1} to {seq}: entries deleted")
        if entry["prev_hash"] != self.prev:
            self.problem(seq, "does not follow the previous entry: deleted or reordered")
        self._check_hash(seq, entry)
        for point in self.pinned.get(seq, ()):
            if point.hash != entry["hash"]:
                self.problem(
                    seq,
                    f"is not the entry checkpointed at {point.at:%Y-%m-%d %H:%M:%S} UTC "
                    f"(hash {point.hash[:12]}...): the chain was rewritten",
                )
                break
        self.prev, self.expected = str(entry["hash"]), seq + 1
        self.head_key = entry.get("key_id")

    def _check_hash(self, seq: int, entry: Mapping[str, Any]) -> None:
        key_id = entry.get("key_id")
        if key_id is None:
            if self.first_keyed is not None or (self.required is not None and seq >= self.required):
                self.tally("plain", seq)
            else:
                self.plain_before_key += 1
            if entry_hash(entry) != entry["hash"]:
                self.problem(seq, "content does not match its hash: modified")
            return
        if self.first_keyed is None:
            self.first_keyed = seq
        secret = self.keys.get(str(key_id))
        if secret is None:
            self.tally(f"key {key_id}", seq)
        elif not hmac.compare_digest(entry_mac(entry, secret), str(entry["hash"])):
            self.problem(
                seq, "content does not match its hash: modified, or recomputed without the key"
            )


def verify(engine: Engine, expect: tuple[int, str] | None = None) -> Verification:
    """Recompute the chain: every hash (HMAC under the key the entry names, or plain SHA-256
    for entries from before the key), every link, the sequence without gaps, the stored head,
    every checkpoint of the checkpoint file and, when given, a head ``(seq, hash)`` saved
    elsewhere. Nothing is created: a missing key file leaves the keyed entries unchecked, a
    problem."""
    anchor = anchor_of(engine.url)
    problems: list[Problem] = []
    try:
        keys = verifying_keys(anchor)
    except AuditKeyError as exc:
        keys = {}
        problems.append(Problem(None, str(exc)))
    read = None
    if anchor.checkpoints is not None:
        try:
            read = read_checkpoints(anchor.checkpoints)
        except OSError as exc:
            problems.append(Problem(None, f"cannot read {anchor.checkpoints}: {exc.strerror}"))
            read = ([], [])
    checkpoints = [] if read is None else read[0]
    chain = _Chain(keys, checkpoints)
    with engine.connect() as conn:
        for entry in _entries(conn):
            chain.add(entry)
        head = conn.execute(select(HEAD.c.seq, HEAD.c.hash).where(HEAD.c.id == 1)).first()
    last_seq = chain.expected - 1
    problems += chain.problems
    problems += _summaries(chain, anchor, keys)
    problems += _end_problems(chain, head, checkpoints)
    if expect is not None and not _reaches(engine, expect):
        problems.append(
            Problem(None, f"entry {expect[0]} does not have the saved hash {expect[1][:12]}...")
        )
    return Verification(
        entries=chain.count,
        head_seq=last_seq,
        head_hash=chain.prev if chain.count else GENESIS,
        problems=tuple(sorted(problems, key=_by_entry)),
        key_id=next(reversed(keys), None),
        head_key_id=chain.head_key,
        keyed_from=chain.first_keyed,
        checkpoints=len(checkpoints),
        notes=_notes(chain, anchor, read),
    )


def _by_entry(problem: Problem) -> tuple[bool, int]:
    """Problems of entries in the chain's order, then those of the whole log."""
    return problem.seq is None, problem.seq or 0


def _summaries(chain: _Chain, anchor: Anchor, keys: Mapping[str, bytes]) -> list[Problem]:
    """The problems counted over runs of entries: plain SHA-256 entries where keyed ones are
    required, entries of a key the key file does not hold, entries not listed."""
    out = []
    for what, (first, count) in chain.tallies.items():
        if what == "plain":
            since = min(s for s in (chain.first_keyed, chain.required) if s is not None)
            message = (
                f"plain SHA-256 where every entry must be keyed (from entry {since} on), "
                f"{count} entries from here: recomputed without the audit key"
            )
        else:
            message = f"{count} entries from here were written with audit {what}, " + _lacking(
                anchor, keys
            )
        out.append(Problem(first, message))
    if chain.unlisted:
        out.append(Problem(None, f"{chain.unlisted} more problems not listed"))
    return out


def _lacking(anchor: Anchor, keys: Mapping[str, bytes]) -> str:
    if anchor.key_file is None:
        return f"but no key file is configured ({KEY_FILE_VARIABLE}): they cannot be checked"
    if not anchor.key_file.exists():
        return f"but {anchor.key_file} does not exist: they cannot be checked"
    held = ", ".join(keys) or "none"
    return (
        f"which {anchor.key_file} does not hold (it holds {held}): another key; "
        "they cannot be checked"
    )


def _end_problems(
    chain: _Chain, head: Row[Any, Any] | None, checkpoints: Sequence[Checkpoint]
) -> list[Problem]:
    """The end of the chain against the stored head and the highest checkpoint."""
    out = []
    last_seq = chain.expected - 1
    if head is None:
        if chain.count:
            out.append(Problem(None, "the head record is missing"))
    elif (int(head.seq), str(head.hash)) != (last_seq, chain.prev):
        out.append(
            Problem(
                None,
                f"the log ends at entry {last_seq} but the head records entry {head.seq}: "
                "entries deleted or the head altered",
            )
        )
    highest = max(checkpoints, key=lambda p: p.seq, default=None)
    if highest is not None and highest.seq > last_seq:
        out.append(
            Problem(
                None,
                f"the log ends at entry {last_seq} but the checkpoint of "
                f"{highest.at:%Y-%m-%d %H:%M:%S} UTC records entry {highest.seq}: "
                "entries deleted at the end",
            )
        )
    return out


def _notes(
    chain: _Chain, anchor: Anchor, read: tuple[list[Checkpoint], list[int]] | None
) -> tuple[str, ...]:
    notes = []
    if chain.plain_before_key:
        notes.append(
            f"{chain.plain_before_key} entries from before the audit key are plain SHA-256"
        )
    if anchor.checkpoints is None and chain.count:
        notes.append(
            f"no checkpoint file ({CHECKPOINTS_VARIABLE}): a deleted tail is seen only "
            "against a head saved elsewhere (--expect)"
        )
    elif read is None and chain.count:
        notes.append(
            f"{anchor.checkpoints} does not exist: a deleted tail is seen only against a head "
            "saved elsewhere (for a copied or restored ledger, bring its checkpoint file)"
        )
    elif read is not None and read[1]:
        lines = ", ".join(str(n) for n in read[1][:10])
        notes.append(f"{anchor.checkpoints}: unreadable lines ignored ({lines})")
    return tuple(notes)


def checkpoint(engine: Engine) -> tuple[Verification, Checkpoint | None]:
    """Verify the chain and, when it is intact, append its head to the checkpoint file
    (None when the ledger has no checkpoint file, or the chain is broken)."""
    result = verify(engine)
    anchor = anchor_of(engine.url)
    if not result.ok or anchor.checkpoints is None:
        return result, None
    point = Checkpoint(
        result.head_seq, result.head_hash, now(), result.head_key_id, result.keyed_from
    )
    append_checkpoint(anchor.checkpoints, point)
    return result, point


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
