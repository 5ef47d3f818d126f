"""Users, entity grants, password sign-in with rate limiting, browser sessions and API tokens.

Passwords are hashed with Argon2id (argon2-cffi's defaults, rehashed when they change);
session cookies and API tokens are random secrets of which only the SHA-256 is stored.
Every change and every sign-in is written to the audit log in the same transaction.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, Engine, delete, func, insert, select, update

from esgledger import audit
from esgledger.auth.roles import GROUP_WIDE, Permission, Role, allowed, permissions
from esgledger.store.engine import TABLES, new_id, now, write_transaction

USER, GRANT, TOKEN = TABLES["app_user"], TABLES["user_entity"], TABLES["api_token"]
SESSION, ATTEMPT, ENTITY = TABLES["web_session"], TABLES["login_attempt"], TABLES["entity"]

MIN_PASSWORD = 10
SESSION_HOURS = 12
#: Failed sign-ins allowed in the window, per user name and per address.
LIMIT_WINDOW = timedelta(minutes=15)
LIMIT_PER_USER = 5
LIMIT_PER_ADDRESS = 30
LOCALES = ("zh", "en")

_hasher = PasswordHasher()


class AccountError(ValueError):
    """A refused account operation, with a message for the user."""


class RateLimitedError(AccountError):
    pass


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
    for entity_id, parent in conn.execute(select(ENTITY.c.entity_id, ENTITY.c.parent_id)):
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
    row = conn.execute(select(USER).where(USER.c.user_id == user_id)).mappings().first()
    if row is None or not row["active"]:
        return None
    grants = frozenset(conn.scalars(select(GRANT.c.entity_id).where(GRANT.c.user_id == user_id)))
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
    known = set(conn.scalars(select(ENTITY.c.entity_id).where(ENTITY.c.entity_id.in_(wanted))))
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
        if conn.scalar(select(USER.c.user_id).where(USER.c.username == username)) is not None:
            raise AccountError(f"user {username!r} already exists")
        granted = _check_entities(conn, entities)
        stamp = now()
        user_id = new_id(
            conn.execute(
                insert(USER).values(
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
            )
        )
        for entity_id in granted:
            conn.execute(
                insert(GRANT).values(
                    user_id=user_id, entity_id=entity_id, granted_by=actor, granted_at=stamp
                )
            )
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
        before = sorted(conn.scalars(select(GRANT.c.entity_id).where(GRANT.c.user_id == user_id)))
        after = _check_entities(conn, entities)
        conn.execute(delete(GRANT).where(GRANT.c.user_id == user_id))
        stamp = now()
        for entity_id in after:
            conn.execute(
                insert(GRANT).values(
                    user_id=user_id, entity_id=entity_id, granted_by=actor, granted_at=stamp
                )
            )
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
    if conn.scalar(select(USER.c.user_id).where(USER.c.user_id == user_id)) is None:
        raise AccountError(f"no user {user_id}")


def set_password(
    engine: Engine, actor: str, user_id: int, password: str, *, must_change: bool = False
) -> None:
    """Set a new password (an administrator's reset sets ``must_change``); ends the user's
    sessions."""
    hashed = hash_password(password)
    with write_transaction(engine) as conn:
        _require_user(conn, user_id)
        conn.execute(
            update(USER)
            .where(USER.c.user_id == user_id)
            .values(
                password_hash=hashed, must_change_password=must_change, password_changed_at=now()
            )
        )
        conn.execute(delete(SESSION).where(SESSION.c.user_id == user_id))
        audit.append(
            conn, actor, "reset_password" if must_change else "set_password", "user", user_id
        )


def set_active(engine: Engine, actor: str, user_id: int, active: bool) -> None:
    with write_transaction(engine) as conn:
        _require_user(conn, user_id)
        conn.execute(update(USER).where(USER.c.user_id == user_id).values(active=active))
        if not active:
            conn.execute(delete(SESSION).where(SESSION.c.user_id == user_id))
            conn.execute(
                update(TOKEN)
                .where(TOKEN.c.user_id == user_id, TOKEN.c.revoked_at.is_(None))
                .values(revoked_at=now())
            )
        audit.append(conn, actor, "activate" if active else "deactivate", "user", user_id)


def list_users(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        grants: dict[int, list[str]] = {}
        for user_id, entity_id in conn.execute(select(GRANT.c.user_id, GRANT.c.entity_id)):
            grants.setdefault(int(user_id), []).append(entity_id)
        rows = conn.execute(
            select(
                USER.c.user_id,
                USER.c.username,
                USER.c.display_name,
                USER.c.role,
                USER.c.locale,
                USER.c.active,
                USER.c.must_change_password,
            ).order_by(USER.c.user_id)
        ).mappings()
        return [{**r, "entities": sorted(grants.get(int(r["user_id"]), []))} for r in rows]


def user_id_of(engine: Engine, username: str) -> int | None:
    with engine.connect() as conn:
        found = conn.scalar(select(USER.c.user_id).where(USER.c.username == username))
    return None if found is None else int(found)


# -- sign-in ------------------------------------------------------------------------------


def _failures(conn: Connection, column: str, value: str, since: datetime) -> int:
    stmt = select(func.count()).where(
        ATTEMPT.c[column] == value, ATTEMPT.c.at >= since, ATTEMPT.c.success.is_(False)
    )
    return int(conn.scalar(stmt) or 0)


def authenticate(engine: Engine, username: str, password: str, address: str) -> Principal:
    """Check a password; raise :class:`RateLimitedError` after too many recent failures (the
    check comes first, so a correct password does not help a flooded account) and
    :class:`AccountError` on a wrong name or password (one message for both)."""
    stamp = now()
    since = stamp - LIMIT_WINDOW
    with write_transaction(engine) as conn:
        if (
            _failures(conn, "username", username, since) >= LIMIT_PER_USER
            or _failures(conn, "address", address, since) >= LIMIT_PER_ADDRESS
        ):
            audit.append(conn, username or "?", "login_throttled", "session", address)
            raise RateLimitedError(
                "too many failed sign-ins: wait 15 minutes or ask an administrator"
            )
    row = None
    with engine.connect() as conn:
        row = conn.execute(select(USER).where(USER.c.username == username)).mappings().first()
    ok = False
    if row is not None and row["active"]:
        try:
            ok = _hasher.verify(row["password_hash"], password)
        except (VerificationError, InvalidHashError):
            ok = False
    with write_transaction(engine) as conn:
        conn.execute(
            insert(ATTEMPT).values(username=username, address=address, at=stamp, success=ok)
        )
        user_id = int(row["user_id"]) if row is not None else None
        audit.append(
            conn,
            username,
            "login" if ok else "login_failed",
            "user",
            user_id if user_id is not None else "?",
            after={"address": address},
        )
        if ok and row is not None and _hasher.check_needs_rehash(row["password_hash"]):
            conn.execute(
                update(USER)
                .where(USER.c.user_id == row["user_id"])
                .values(password_hash=_hasher.hash(password))
            )
    if not ok or user_id is None:
        raise AccountError("wrong user name or password")
    found = get_principal(engine, user_id)
    if found is None:  # pragma: no cover - deactivated between the two transactions
        raise AccountError("wrong user name or password")
    return found


def start_session(engine: Engine, user_id: int) -> tuple[str, str]:
    """A new session: ``(cookie secret, CSRF token)``."""
    secret, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    stamp = now()
    with write_transaction(engine) as conn:
        conn.execute(delete(SESSION).where(SESSION.c.expires_at < stamp))
        conn.execute(
            insert(SESSION).values(
                session_hash=_digest(secret),
                user_id=user_id,
                csrf_token=csrf,
                created_at=stamp,
                expires_at=stamp + timedelta(hours=SESSION_HOURS),
            )
        )
    return secret, csrf


def session_principal(engine: Engine, secret: str) -> tuple[Principal, str] | None:
    """The user and CSRF token of a live session cookie."""
    with engine.connect() as conn:
        row = conn.execute(
            select(SESSION.c.user_id, SESSION.c.csrf_token, SESSION.c.expires_at).where(
                SESSION.c.session_hash == _digest(secret)
            )
        ).first()
        if row is None or row.expires_at < now():
            return None
        found = principal(conn, int(row.user_id))
    return None if found is None else (found, str(row.csrf_token))


def end_session(engine: Engine, secret: str, actor: str) -> None:
    with write_transaction(engine) as conn:
        conn.execute(delete(SESSION).where(SESSION.c.session_hash == _digest(secret)))
        audit.append(conn, actor, "logout", "session", actor)


def create_token(
    engine: Engine, actor: str, user_id: int, name: str, *, days: int | None = 90
) -> tuple[int, str]:
    """A new API token: ``(token id, secret)``; the secret is shown once."""
    secret = "esgl_" + secrets.token_urlsafe(32)
    stamp = now()
    with write_transaction(engine) as conn:
        _require_user(conn, user_id)
        token_id = new_id(
            conn.execute(
                insert(TOKEN).values(
                    user_id=user_id,
                    name=name,
                    token_hash=_digest(secret),
                    created_at=stamp,
                    expires_at=None if days is None else stamp + timedelta(days=days),
                )
            )
        )
        audit.append(
            conn, actor, "create", "api_token", token_id, after={"user": user_id, "name": name}
        )
    return token_id, secret


def revoke_token(engine: Engine, actor: str, token_id: int, *, user_id: int | None = None) -> None:
    """Revoke a token (only one's own when ``user_id`` is given)."""
    with write_transaction(engine) as conn:
        stmt = update(TOKEN).where(TOKEN.c.token_id == token_id, TOKEN.c.revoked_at.is_(None))
        if user_id is not None:
            stmt = stmt.where(TOKEN.c.user_id == user_id)
        if conn.execute(stmt.values(revoked_at=now())).rowcount != 1:
            raise AccountError(f"no active token {token_id}")
        audit.append(conn, actor, "revoke", "api_token", token_id)


def list_tokens(engine: Engine, user_id: int) -> list[dict[str, object]]:
    cols = [c for c in TOKEN.columns if c.name != "token_hash"]
    with engine.connect() as conn:
        rows = conn.execute(select(*cols).where(TOKEN.c.user_id == user_id)).mappings()
        return [dict(r) for r in rows]


def token_principal(engine: Engine, secret: str) -> Principal | None:
    stamp = now()
    with engine.connect() as conn:
        row = conn.execute(
            select(TOKEN.c.token_id, TOKEN.c.user_id, TOKEN.c.expires_at).where(
                TOKEN.c.token_hash == _digest(secret), TOKEN.c.revoked_at.is_(None)
            )
        ).first()
        if row is None or (row.expires_at is not None and row.expires_at < stamp):
            return None
        return principal(conn, int(row.user_id))


def allowed_permissions(role: Role) -> frozenset[Permission]:
    return permissions()[role]
