"""The audit log's anchor outside the database: the key that HMACs its entries and the file of
checkpoints of its head.

Where they are (:func:`anchor_of`):

- the key file is ``ESGLEDGER_AUDIT_KEY_FILE`` when set, else ``<ledger file>.audit-key``
  beside an SQLite ledger; a database server's ledger needs the variable (appending an entry
  without it raises :class:`AuditKeyError`); an in-memory SQLite database, which ends with the
  process, uses a key held by the process;
- the checkpoints are ``ESGLEDGER_AUDIT_CHECKPOINTS`` when set, else
  ``<ledger file>.audit-checkpoints`` beside an SQLite ledger, else, for a server, a file named
  after the database beside the key file.

The key file holds keys as hexadecimal text, one a line (``#`` starts a comment): the last one
signs new entries, every one verifies the entries that name its id (the first 8 hexadecimal
digits of its SHA-256), so a key can be rotated, or an old one added back after a restore,
without losing the older entries. It is created on first use with 32 random bytes, mode 0600,
and never read by anything but this module; the database holds only the key's id.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL

KEY_FILE_VARIABLE = "ESGLEDGER_AUDIT_KEY_FILE"
CHECKPOINTS_VARIABLE = "ESGLEDGER_AUDIT_CHECKPOINTS"
KEY_SUFFIX = ".audit-key"
CHECKPOINTS_SUFFIX = ".audit-checkpoints"
KEY_BYTES = 32
_READ_RETRIES = 40  # a key file another process is creating is complete within 2 s


class AuditKeyError(Exception):
    """No audit key can be found or made (a server ledger without ``ESGLEDGER_AUDIT_KEY_FILE``,
    an unreadable or malformed key file)."""


@dataclass(frozen=True)
class AuditKey:
    key_id: str
    secret: bytes = b""

    def __repr__(self) -> str:  # never print the secret
        return f"AuditKey({self.key_id})"


@dataclass(frozen=True)
class Anchor:
    """Where a ledger's audit key and checkpoints are kept. ``key_file`` is None for an
    in-memory database (``in_memory``: the process's key) and for a server ledger without
    ``ESGLEDGER_AUDIT_KEY_FILE``; ``checkpoints`` is None when nowhere is known to keep them."""

    key_file: Path | None
    checkpoints: Path | None
    in_memory: bool = False
    server: str | None = None  # the server ledger's name, for messages


def key_id_of(secret: bytes) -> str:
    return hashlib.sha256(secret).hexdigest()[:8]


_PROCESS_SECRET = secrets.token_bytes(KEY_BYTES)
PROCESS_KEY = AuditKey(key_id_of(_PROCESS_SECRET), _PROCESS_SECRET)
"""The key of in-memory databases: they live no longer than the process."""


def _sqlite_file(url: URL) -> Path | None:
    if url.get_backend_name() != "sqlite":
        return None
    database = url.database or ""
    if database in ("", ":memory:") or url.query.get("mode") == "memory":
        return None
    if database.startswith("file:"):
        database = database[len("file:") :].split("?", 1)[0]
    return Path(database).expanduser().absolute()


def _server_name(url: URL) -> str:
    name = f"{url.database or 'default'}@{url.host or 'localhost'}"
    if url.port:
        name += f"-{url.port}"
    return re.sub(r"[^A-Za-z0-9_.@-]", "_", name)


def anchor_of(url: URL) -> Anchor:
    """The key file and checkpoint file of the ledger at ``url`` (nothing is created)."""
    key_env = os.environ.get(KEY_FILE_VARIABLE, "").strip()
    checkpoints_env = os.environ.get(CHECKPOINTS_VARIABLE, "").strip()
    ledger_file = _sqlite_file(url)
    in_memory = ledger_file is None and url.get_backend_name() == "sqlite"
    server = None if ledger_file is not None or in_memory else _server_name(url)
    key_file: Path | None = None
    if key_env:
        key_file = Path(key_env).expanduser()
    elif ledger_file is not None:
        key_file = Path(f"{ledger_file}{KEY_SUFFIX}")
    checkpoints: Path | None = None
    if checkpoints_env:
        checkpoints = Path(checkpoints_env).expanduser()
    elif ledger_file is not None:
        checkpoints = Path(f"{ledger_file}{CHECKPOINTS_SUFFIX}")
    elif server is not None and key_file is not None:
        checkpoints = key_file.with_name(f"{server}{CHECKPOINTS_SUFFIX}")
    return Anchor(key_file, checkpoints, in_memory, server)


def _parse(path: Path, data: bytes) -> tuple[AuditKey, ...]:
    if len(data) == KEY_BYTES and not re.fullmatch(rb"[0-9a-fA-F\s]*", data):
        return (AuditKey(key_id_of(data), data),)  # 32 raw bytes
    keys = []
    for number, raw in enumerate(data.decode("ascii", "replace").splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        try:
            secret = bytes.fromhex(line)
        except ValueError:
            secret = b""
        if len(secret) < 16:
            raise AuditKeyError(f"{path}:{number}: not an audit key (hexadecimal, 32 bytes)")
        keys.append(AuditKey(key_id_of(secret), secret))
    return tuple(keys)


_cache: dict[Path, tuple[tuple[int, int, int], tuple[AuditKey, ...]]] = {}


def _read(path: Path) -> tuple[AuditKey, ...] | None:
    """The keys of ``path`` (None when the file does not exist); a file another process is
    still writing is waited for."""
    for _ in range(_READ_RETRIES):
        try:
            stat = path.stat()
            stamp = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
            cached = _cache.get(path)
            if cached is not None and cached[0] == stamp:
                return cached[1]
            keys = _parse(path, path.read_bytes())
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise AuditKeyError(f"{path}: cannot read the audit key: {exc.strerror}") from exc
        if keys:
            _cache[path] = (stamp, keys)
            return keys
        time.sleep(0.05)
    raise AuditKeyError(f"{path}: the audit key file holds no key")


def _create(path: Path) -> None:
    """Write a new key to ``path`` (mode 0600) unless the file exists already."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(secrets.token_bytes(KEY_BYTES).hex() + "\n")
        out.flush()
        os.fsync(out.fileno())


def signing_key(anchor: Anchor) -> AuditKey:
    """The key that signs new entries, the key file being created on first use."""
    if anchor.key_file is None:
        if anchor.in_memory:
            return PROCESS_KEY
        raise AuditKeyError(
            f"the audit log of {anchor.server} needs a key kept outside the database: set "
            f"{KEY_FILE_VARIABLE} to a file path (a new key is written there on first use)"
        )
    keys = _read(anchor.key_file)
    if keys is None:
        try:
            _create(anchor.key_file)
        except OSError as exc:
            raise AuditKeyError(
                f"{anchor.key_file}: cannot create the audit key: {exc.strerror}"
            ) from exc
        keys = _read(anchor.key_file)
    if not keys:
        raise AuditKeyError(f"{anchor.key_file}: the audit key file holds no key")
    return keys[-1]


def verifying_keys(anchor: Anchor) -> dict[str, bytes]:
    """Every key the anchor holds, by id (none when the key file does not exist: nothing is
    created)."""
    if anchor.key_file is None:
        return {PROCESS_KEY.key_id: PROCESS_KEY.secret} if anchor.in_memory else {}
    return {k.key_id: k.secret for k in _read(anchor.key_file) or ()}
