"""Users, entity grants, password sign-in with rate limiting, browser sessions and API tokens.

Passwords are hashed with Argon2id (argon2-cffi's defaults, rehashed when they change);
session cookies and API tokens are random secrets of which only the SHA-256 is stored.
A password change or reset ends the user's sessions and revokes their API tokens.
Every change and every sign-in is written to the audit log in the same transaction.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cache
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from esgledger import audit
from esgledger.auth.roles import GROUP_WIDE, Permission, Role, allowed, permissions
from esgledger.store import accounts as store
from esgledger.store.engine import LedgerConnection as Connection
from esgledger.store.engine import LedgerEngine as Engine
from esgledger.store.engine import now, write_transaction

MIN_PASSWORD = 10
SESSION_HOURS = 12
#: Failed sign-ins allowed in the window: per user name from one address, per user name from
#: all addresses together (against guessing spread over many addresses: a flood from one
#: address does not lock the user out elsewhere), and per address.
LIMIT_WINDOW = timedelta(minutes=15)
LIMIT_PER_USER = 5
LIMIT_USER_TOTAL = 100
LIMIT_PER_ADDRESS = 30
LOCALES = ("zh", "en")

_hasher = PasswordHasher()


class AccountError(ValueError):
    """A refused account operation, with a message for the user."""


class RateLimitedError(AccountError):
    pass


class WrongPasswordError(AccountError):
    """The current password given to change it is wrong."""


@dataclass(frozen=True)
class Principal:
    """A signed-in user and the entities they may see (``scope`` None = the whole group)."""

    user_id: int
    username: str
    display_name: str
    role: Role
    locale: str
    must_change_password: bool
    grants: frozenset[str]
    scope: frozenset[str] | None = field(default=None)

    def can(self, permission: Permission) -> bool:
        return allowed(self.role, permission)

    def sees(self, entity_id: str) -> bool:
        return self.scope is None or entity_id in self.scope

    def sees_all(self, entity_ids: Iterable[str]) -> bool:
        """True when the caller sees every one of ``entity_ids`` (for all of a ledger's
        entities: the caller sees the whole group, and group figures are theirs)."""
        return self.scope is None or set(entity_ids) <= self.scope

    def visible(self, entity_ids: Iterable[str]) -> list[str]:
        return [e for e in entity_ids if self.sees(e)]


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"a password needs at least {MIN_PASSWORD} characters")
    return _hasher.hash(password)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _descendants(conn: Connection, roots: Iterable[str]) -> frozenset[str]:
    children: dict[str, list[str]] = {}
    for entity_id, parent in store.entity_parents(conn):
        children.setdefault(parent or "", []).append(entity_id)
    seen: set[str] = set()
    stack = list(roots)
    while stack:
        node = stack.pop()
        if node not in seen:
            seen.add(node)
            stack.extend(children.get(node, ()))
    return frozenset(seen)


def principal(conn: Connection, user_id: int) -> Principal | None:
    """The active user ``user_id`` with their grants and scope, read in ``conn`` (None when
    there is no such user or the account is deactivated)."""
    row = store.user_row(conn, user_id)
    if row is None or not row["active"]:
        return None
    grants = frozenset(store.user_grants(conn, user_id))
    role = Role(row["role"])
    return Principal(
        user_id=int(row["user_id"]),
        username=row["username"],
        display_name=row["display_name"],
        role=role,
        locale=row["locale"],
        must_change_password=bool(row["must_change_password"]),
        grants=grants,
        scope=None if role in GROUP_WIDE else _descendants(conn, grants),
    )


def operator(name: str) -> Principal:
    """The person at the command line of the ledger's own machine (who can open the ledger
    file or its database URL): a group-wide administrator, named ``name`` in the audit log.
    Not an account: nobody signs in as it (user id 0)."""
    return Principal(
        user_id=0,
        username=name,
        display_name=name,
        role=Role.ADMIN,
        locale="en",
        must_change_password=False,
        grants=frozenset(),
    )


def get_principal(engine: Engine, user_id: int) -> Principal | None:
    with engine.connect() as conn:
        return principal(conn, user_id)


def _check_entities(conn: Connection, entity_ids: Iterable[str]) -> list[str]:
    wanted = sorted(set(entity_ids))
    known = store.known_entity_ids(conn, wanted)
    unknown = [e for e in wanted if e not in known]
    if unknown:
        raise AccountError(f"unknown entities: {', '.join(unknown)}")
    return wanted


def create_user(
    engine: Engine,
    actor: str,
    username: str,
    password: str,
    role: Role | str,
    *,
    display_name: str | None = None,
    locale: str = "zh",
    entities: Iterable[str] = (),
    must_change_password: bool = False,
) -> int:
    """Add a user; the password is hashed here and never stored or logged in clear."""
    username = username.strip()
    if not username or len(username) > 64 or any(c.isspace() for c in username):
        raise AccountError("a user name is 1 to 64 characters without spaces")
    if locale not in LOCALES:
        raise AccountError(f"locale must be one of {', '.join(LOCALES)}")
    role = Role(role)
    hashed = hash_password(password)
    with write_transaction(engine) as conn:
        if store.user_id_by_name(conn, username) is not None:
            raise AccountError(f"user {username!r} already exists")
        granted = _check_entities(conn, entities)
        stamp = now()
        user_id = store.insert_user(
            conn,
            username=username,
            display_name=display_name or username,
            role=role.value,
            password_hash=hashed,
            locale=locale,
            active=True,
            must_change_password=must_change_password,
            created_at=stamp,
            password_changed_at=stamp,
        )
        store.insert_grants(conn, user_id, granted, actor, stamp)
        audit.append(
            conn,
            actor,
            "create",
            "user",
            user_id,
            after={"username": username, "role": role.value, "entities": granted},
        )
    return user_id


def set_grants(engine: Engine, actor: str, user_id: int, entities: Iterable[str]) -> None:
    """Replace a user's entity grants."""
    with write_transaction(engine) as conn:
        _require_user(conn, user_id)
        before = sorted(store.user_grants(conn, user_id))
        after = _check_entities(conn, entities)
        store.delete_grants(conn, user_id)
        store.insert_grants(conn, user_id, after, actor, now())
        audit.append(
            conn,
            actor,
            "grant",
            "user",
            user_id,
            before={"entities": before},
            after={"entities": after},
        )


def _require_user(conn: Connection, user_id: int) -> None:
    if not store.user_exists(conn, user_id):
        raise AccountError(f"no user {user_id}")


def set_password(
    engine: Engine, actor: str, user_id: int, password: str, *, must_change: bool = False
) -> None:
    """Set a new password (an administrator's reset sets ``must_change``); ends the user's
    sessions and revokes their API tokens."""
    hashed = hash_password(password)
    with write_transaction(engine) as conn:
        _require_user(conn, user_id)
        store.update_user(
            conn,
            user_id,
            password_hash=hashed,
            must_change_password=must_change,
            password_changed_at=now(),
        )
        store.delete_user_sessions(conn, user_id)
        revoked = store.revoke_user_tokens(conn, user_id, now())
        audit.append(
            conn,
            actor,
            "reset_password" if must_change else "set_password",
            "user",
            user_id,
            after={"tokens_revoked": revoked},
        )


def set_active(engine: Engine, actor: str, user_id: int, active: bool) -> None:
    """Activate or deactivate a user; deactivation ends their sessions and revokes their API
    tokens."""
    with write_transaction(engine) as conn:
        _require_user(conn, user_id)
        store.update_user(conn, user_id, active=active)
        if not active:
            store.delete_user_sessions(conn, user_id)
            store.revoke_user_tokens(conn, user_id, now())
        audit.append(conn, actor, "activate" if active else "deactivate", "user", user_id)


def list_users(engine: Engine) -> list[dict[str, Any]]:
    """Every user by id, without the password hash, with the sorted ids of the entities
    granted (``entities``)."""
    return store.users_with_grants(engine)


def user_id_of(engine: Engine, username: str) -> int | None:
    """The id of the user named ``username`` (None when there is none)."""
    return store.user_id_by_name(engine, username)


# -- sign-in ------------------------------------------------------------------------------


def authenticate(engine: Engine, username: str, password: str, address: str) -> Principal:
    """Check a password; raise :class:`RateLimitedError` after too many recent failures and
    :class:`AccountError` on a wrong name or password (one message for both).

    The throttle is checked and the attempt recorded (as failed until the password is judged)
    in one serialised transaction, so concurrent guesses cannot pass it together; the limits
    count failures of the user name from the caller's address (``LIMIT_PER_USER``), of the
    user name from any address (``LIMIT_USER_TOTAL``) and of the address
    (``LIMIT_PER_ADDRESS``). Every attempt that passes verifies exactly one Argon2 hash: an
    unknown or deactivated user's against a fixed dummy hash, so that the answer takes as long
    as for a real user."""
    attempt_id, row = _admit(engine, username, address)
    active = row is not None and bool(row["active"])
    ok = _verify(row["password_hash"] if row is not None and active else _dummy_hash(), password)
    ok = ok and active
    user_id = int(row["user_id"]) if row is not None else None
    with write_transaction(engine) as conn:
        if ok:
            store.set_attempt_success(conn, attempt_id)
        audit.append(
            conn,
            username,
            "login" if ok else "login_failed",
            "user",
            user_id if user_id is not None else "?",
            after={"address": address},
        )
        if ok and row is not None and _hasher.check_needs_rehash(row["password_hash"]):
            store.update_user(conn, row["user_id"], password_hash=_hasher.hash(password))
    if not ok or user_id is None:
        raise AccountError("wrong user name or password")
    found = get_principal(engine, user_id)
    if found is None:  # pragma: no cover - deactivated between the two transactions
        raise AccountError("wrong user name or password")
    return found


def _admit(engine: Engine, username: str, address: str) -> tuple[int, dict[str, Any] | None]:
    """Check the throttle and record the attempt in one step: the attempt's id and the user
    row (None for an unknown name); :class:`RateLimitedError` (audited) when throttled."""
    stamp = now()
    attempt_id, row = 0, None
    with write_transaction(engine) as conn:
        store.lock_sign_ins(conn)
        failed = store.failed_attempts(conn, username, address, stamp - LIMIT_WINDOW)
        throttled = (
            failed.pair >= LIMIT_PER_USER
            or failed.user >= LIMIT_USER_TOTAL
            or failed.address >= LIMIT_PER_ADDRESS
        )
        if throttled:
            audit.append(conn, username or "?", "login_throttled", "session", address)
        else:
            attempt_id = store.insert_attempt(conn, username, address, stamp, False)
            row = store.user_row_by_name(conn, username)
    if throttled:
        raise RateLimitedError("too many failed sign-ins: wait 15 minutes or ask an administrator")
    return attempt_id, row


def _verify(hashed: str, password: str) -> bool:
    try:
        return bool(_hasher.verify(hashed, password))
    except (VerificationError, InvalidHashError):
        return False


@cache
def _dummy_hash() -> str:
    """An Argon2id hash of a random secret, with the parameters of the users' hashes: what an
    unknown user name's password is verified against."""
    return _hasher.hash(secrets.token_urlsafe(32))


def change_password(
    engine: Engine, username: str, current: str, new: str, address: str
) -> Principal:
    """The signed-in user ``username`` changes their own password: the current one is checked
    like a sign-in (throttled, from ``address``); the new one must differ from it. Clears a
    forced change and, as every password change does, ends the user's sessions and revokes
    their API tokens. The user after the change."""
    if len(new) < MIN_PASSWORD:
        raise AccountError(f"a password needs at least {MIN_PASSWORD} characters")
    if new == current:
        raise AccountError("the new password must differ from the current one")
    try:
        who = authenticate(engine, username, current, address)
    except RateLimitedError:
        raise
    except AccountError as exc:
        raise WrongPasswordError("the current password is wrong") from exc
    set_password(engine, username, who.user_id, new)
    found = get_principal(engine, who.user_id)
    if found is None:  # pragma: no cover - deactivated meanwhile
        raise AccountError("wrong user name or password")
    return found


def start_session(engine: Engine, user_id: int) -> tuple[str, str]:
    """A new session: ``(cookie secret, CSRF token)``."""
    secret, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    stamp = now()
    with write_transaction(engine) as conn:
        store.delete_expired_sessions(conn, stamp)
        store.insert_session(
            conn,
            session_hash=_digest(secret),
            user_id=user_id,
            csrf_token=csrf,
            created_at=stamp,
            expires_at=stamp + timedelta(hours=SESSION_HOURS),
        )
    return secret, csrf


def session_principal(engine: Engine, secret: str) -> tuple[Principal, str] | None:
    """The user and CSRF token of a live session cookie."""
    with engine.connect() as conn:
        row = store.session_row(conn, _digest(secret))
        if row is None or row["expires_at"] < now():
            return None
        found = principal(conn, int(row["user_id"]))
    return None if found is None else (found, str(row["csrf_token"]))


def end_session(engine: Engine, secret: str, actor: str) -> None:
    """End the session of a cookie secret (signing out)."""
    with write_transaction(engine) as conn:
        store.delete_session(conn, _digest(secret))
        audit.append(conn, actor, "logout", "session", actor)


def create_token(
    engine: Engine, actor: str, user_id: int, name: str, *, days: int | None = 90
) -> tuple[int, str]:
    """A new API token: ``(token id, secret)``; the secret is shown once."""
    secret = "esgl_" + secrets.token_urlsafe(32)
    stamp = now()
    with write_transaction(engine) as conn:
        _require_user(conn, user_id)
        token_id = store.insert_token(
            conn,
            user_id=user_id,
            name=name,
            token_hash=_digest(secret),
            created_at=stamp,
            expires_at=None if days is None else stamp + timedelta(days=days),
        )
        audit.append(
            conn, actor, "create", "api_token", token_id, after={"user": user_id, "name": name}
        )
    return token_id, secret


def revoke_token(engine: Engine, actor: str, token_id: int, *, user_id: int | None = None) -> None:
    """Revoke a token (only one's own when ``user_id`` is given)."""
    with write_transaction(engine) as conn:
        if store.revoke_token(conn, token_id, now(), user_id) != 1:
            raise AccountError(f"no active token {token_id}")
        audit.append(conn, actor, "revoke", "api_token", token_id)


def list_tokens(engine: Engine, user_id: int) -> list[dict[str, object]]:
    """A user's API tokens, every column but the hash."""
    return store.token_rows(engine, user_id)


def token_principal(engine: Engine, secret: str) -> Principal | None:
    """The user of an unrevoked, unexpired API token (None otherwise)."""
    stamp = now()
    with engine.connect() as conn:
        row = store.live_token(conn, _digest(secret))
        if row is None or (row["expires_at"] is not None and row["expires_at"] < stamp):
            return None
        return principal(conn, int(row["user_id"]))


def allowed_permissions(role: Role) -> frozenset[Permission]:
    return permissions()[role]
