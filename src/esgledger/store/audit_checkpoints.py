"""Checkpoints of the audit log's head, kept in a file outside the database.

One JSON object a line, appended (never rewritten), mode 0600::

    {"at":"2026-12-08T10:00:00.000000","hash":"…","key_id":"1a2b3c4d","keyed_from":1,"seq":100}

``seq`` and ``hash`` are a committed head of the chain (``seq`` 0 with the genesis hash for
an empty one), ``key_id`` the key of that entry (None for a plain SHA-256 entry written before
the log had a key), ``keyed_from`` the first entry that had to be keyed when the line was
written. Verification requires every checkpointed entry to still be in the chain with that
hash, the chain to reach the highest checkpoint, and every entry from the lowest
``keyed_from`` on to be keyed: a deleted tail, a rewritten entry or a chain recomputed as plain
SHA-256 are seen even when the database was rewritten consistently.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

_TAIL_BYTES = 8192


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    hash: str
    at: datetime
    key_id: str | None = None
    keyed_from: int | None = None

    def line(self) -> str:
        fields = {
            "at": self.at.isoformat(timespec="microseconds"),
            "hash": self.hash,
            "key_id": self.key_id,
            "keyed_from": self.keyed_from,
            "seq": self.seq,
        }
        return json.dumps(fields, sort_keys=True, separators=(",", ":")) + "\n"


def _parsed(text: str) -> Checkpoint | None:
    try:
        fields: Any = json.loads(text)
        checkpoint = Checkpoint(
            seq=int(fields["seq"]),
            hash=str(fields["hash"]),
            at=datetime.fromisoformat(str(fields["at"])),
            key_id=None if fields.get("key_id") is None else str(fields["key_id"]),
            keyed_from=None if fields.get("keyed_from") is None else int(fields["keyed_from"]),
        )
    except (ValueError, TypeError, KeyError):
        return None
    if checkpoint.at.tzinfo is not None:  # written by hand with an offset: naive UTC
        at = checkpoint.at.astimezone(UTC).replace(tzinfo=None)
        checkpoint = replace(checkpoint, at=at)
    return checkpoint if checkpoint.seq >= 0 else None


def append_checkpoint(path: Path, checkpoint: Checkpoint) -> None:
    """Add a line to ``path`` (created with mode 0600): one write in append mode, so lines of
    several writers never interleave."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, checkpoint.line().encode("ascii"))
    finally:
        os.close(fd)


def read_checkpoints(path: Path) -> tuple[list[Checkpoint], list[int]] | None:
    """Every checkpoint of ``path`` and the numbers of its unreadable lines (a write cut
    short); None when the file does not exist."""
    try:
        text = path.read_text(encoding="ascii", errors="replace")
    except FileNotFoundError:
        return None
    found, unreadable = [], []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        checkpoint = _parsed(line)
        if checkpoint is None:
            unreadable.append(number)
        else:
            found.append(checkpoint)
    return found, unreadable


def last_checkpoint(path: Path) -> Checkpoint | None:
    """The newest readable checkpoint of ``path`` (read from its end), None when none."""
    try:
        with path.open("rb") as file:
            size = file.seek(0, os.SEEK_END)
            file.seek(max(0, size - _TAIL_BYTES))
            tail = file.read().decode("ascii", "replace")
    except FileNotFoundError:
        return None
    for line in reversed(tail.splitlines()):
        checkpoint = _parsed(line)
        if checkpoint is not None:
            return checkpoint
    return None
