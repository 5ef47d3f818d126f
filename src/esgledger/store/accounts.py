"""Users, entity grants, sign-in attempts, browser sessions and API tokens in the ledger: the
rows, read and written inside the caller's transaction (``esgledger.auth.accounts`` checks
the rules, hashes the passwords and secrets, and writes the audit log)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Select,
    and_,
    case,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)

from esgledger.store.engine import TABLES, new_id, reading

USER, GRANT, TOKEN = TABLES["app_user"], TABLES["user_entity"], TABLES["api_token"]
SESSION, ATTEMPT, ENTITY = TABLES["web_session"], TABLES["login_attempt"], TABLES["entity"]


def _scalars(bind: Engine | Connection, stmt: Select[Any]) -> list[Any]:
    return reading(bind, lambda conn: list(conn.scalars(stmt)))


# -- users and grants -----------------------------------------------------------------------


def entity_parents(conn: Connection) -> list[tuple[str, str | None]]:
    """Every entity id with its parent's id (None for a root)."""
    rows = conn.execute(select(ENTITY.c.entity_id, ENTITY.c.parent_id))
    return [(entity_id, parent) for entity_id, parent in rows]


def known_entity_ids(conn: Connection, entity_ids: list[str]) -> set[str]:
    """The ids among ``entity_ids`` that name an entity."""
    stmt = select(ENTITY.c.entity_id).where(ENTITY.c.entity_id.in_(entity_ids))
    return set(conn.scalars(stmt))


def user_row(conn: Connection, user_id: int) -> dict[str, Any] | None:
    """The user row of ``user_id`` (None when there is none)."""
    row = conn.execute(select(USER).where(USER.c.user_id == user_id)).mappings().first()
    return None if row is None else dict(row)


def user_row_by_name(conn: Connection, username: str) -> dict[str, Any] | None:
    """The user row named ``username`` (None when there is none)."""
    row = conn.execute(select(USER).where(USER.c.username == username)).mappings().first()
    return None if row is None else dict(row)


def user_id_by_name(bind: Engine | Connection, username: str) -> int | None:
    """The id of the user named ``username`` (None when there is none)."""
    found = _scalars(bind, select(USER.c.user_id).where(USER.c.username == username))
    return int(found[0]) if found else None


def user_exists(bind: Engine | Connection, user_id: int) -> bool:
    """Whether there is a user ``user_id`` (active or not)."""
    return bool(_scalars(bind, select(USER.c.user_id).where(USER.c.user_id == user_id)))


def known_user_ids(bind: Engine | Connection, user_ids: Iterable[int]) -> set[int]:
    """The ids among ``user_ids`` that name a user (active or not)."""
    stmt = select(USER.c.user_id).where(USER.c.user_id.in_(sorted(set(user_ids))))
    return {int(u) for u in _scalars(bind, stmt)}


def insert_user(conn: Connection, **fields: Any) -> int:
    """Store a new user (``username``, ``display_name``, ``role``, ``password_hash``,
    ``locale``, ``active``, ``must_change_password``, ``created_at``, ``password_changed_at``);
    its id."""
    return new_id(conn.execute(insert(USER).values(**fields)))


def update_user(conn: Connection, user_id: int, **fields: Any) -> None:
    """Set ``fields`` of the user ``user_id``."""
    conn.execute(update(USER).where(USER.c.user_id == user_id).values(**fields))


def user_grants(conn: Connection, user_id: int) -> list[str]:
    """The entity ids granted to the user ``user_id``."""
    return list(conn.scalars(select(GRANT.c.entity_id).where(GRANT.c.user_id == user_id)))


def insert_grants(
    conn: Connection, user_id: int, entity_ids: Iterable[str], granted_by: str, at: datetime
) -> None:
    """Grant each of ``entity_ids`` to the user ``user_id`` (one row each)."""
    for entity_id in entity_ids:
        conn.execute(
            insert(GRANT).values(
                user_id=user_id, entity_id=entity_id, granted_by=granted_by, granted_at=at
            )
        )


def delete_grants(conn: Connection, user_id: int) -> None:
    """Remove every entity grant of the user ``user_id``."""
    conn.execute(delete(GRANT).where(GRANT.c.user_id == user_id))


def users_with_grants(engine: Engine) -> list[dict[str, Any]]:
    """Every user by id (no password hash) with ``entities``, the sorted ids granted."""
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


# -- sign-in attempts and sessions ----------------------------------------------------------


#: Serialises the sign-in throttle's count-then-insert on PostgreSQL ('esgllgn'); SQLite's
#: ``BEGIN IMMEDIATE`` (``write_transaction``) already serialises writers.
_PG_SIGN_IN_LOCK = 0x65_73_67_6C_6C_67_6E


@dataclass(frozen=True)
class FailedAttempts:
    """Failed (or not yet judged) sign-ins in a window: of one user name from one address,
    of the user name from any address, and of the address for any user name."""

    pair: int
    user: int
    address: int


def lock_sign_ins(conn: Connection) -> None:
    """Inside a write transaction, wait until no other transaction counts or records sign-in
    attempts (released at its end), so that a count and the insert after it are one step."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_SIGN_IN_LOCK})")


def failed_attempts(
    conn: Connection, username: str, address: str, since: datetime
) -> FailedAttempts:
    """How many sign-ins failed (or are still being judged) since ``since``: of ``username``
    from ``address``, of ``username``, and from ``address``."""
    same_user, same_address = ATTEMPT.c.username == username, ATTEMPT.c.address == address
    stmt = select(
        func.coalesce(func.sum(case((and_(same_user, same_address), 1), else_=0)), 0),
        func.coalesce(func.sum(case((same_user, 1), else_=0)), 0),
        func.coalesce(func.sum(case((same_address, 1), else_=0)), 0),
    ).where(ATTEMPT.c.at >= since, ATTEMPT.c.success.is_(False), or_(same_user, same_address))
    pair, user, by_address = conn.execute(stmt).one()
    return FailedAttempts(int(pair), int(user), int(by_address))


def insert_attempt(
    conn: Connection, username: str, address: str, at: datetime, success: bool
) -> int:
    """Record one sign-in attempt (recorded as failed before the password is judged, then
    marked by :func:`set_attempt_success`); its id."""
    values = {"username": username, "address": address, "at": at, "success": success}
    return new_id(conn.execute(insert(ATTEMPT).values(**values)))


def set_attempt_success(conn: Connection, attempt_id: int) -> None:
    """Mark the attempt ``attempt_id`` as a successful sign-in."""
    conn.execute(update(ATTEMPT).where(ATTEMPT.c.id == attempt_id).values(success=True))


def delete_expired_sessions(conn: Connection, before: datetime) -> None:
    """Remove the sessions that expired before ``before``."""
    conn.execute(delete(SESSION).where(SESSION.c.expires_at < before))


def insert_session(conn: Connection, **fields: Any) -> None:
    """Store a session (``session_hash``, ``user_id``, ``csrf_token``, ``created_at``,
    ``expires_at``)."""
    conn.execute(insert(SESSION).values(**fields))


def session_row(conn: Connection, session_hash: str) -> dict[str, Any] | None:
    """``user_id``, ``csrf_token`` and ``expires_at`` of the session of ``session_hash``
    (None when there is none)."""
    stmt = select(SESSION.c.user_id, SESSION.c.csrf_token, SESSION.c.expires_at).where(
        SESSION.c.session_hash == session_hash
    )
    row = conn.execute(stmt).mappings().first()
    return None if row is None else dict(row)


def delete_session(conn: Connection, session_hash: str) -> None:
    """Remove the session of ``session_hash``."""
    conn.execute(delete(SESSION).where(SESSION.c.session_hash == session_hash))


def delete_user_sessions(conn: Connection, user_id: int) -> None:
    """Remove every session of the user ``user_id``."""
    conn.execute(delete(SESSION).where(SESSION.c.user_id == user_id))


# -- API tokens -----------------------------------------------------------------------------


def insert_token(conn: Connection, **fields: Any) -> int:
    """Store an API token (``user_id``, ``name``, ``token_hash``, ``created_at``,
    ``expires_at``); its id."""
    return new_id(conn.execute(insert(TOKEN).values(**fields)))


def revoke_token(conn: Connection, token_id: int, at: datetime, user_id: int | None) -> int:
    """Revoke the token ``token_id`` at ``at`` if it is not revoked yet (and belongs to
    ``user_id`` when given); how many tokens were revoked (0 or 1)."""
    stmt = update(TOKEN).where(TOKEN.c.token_id == token_id, TOKEN.c.revoked_at.is_(None))
    if user_id is not None:
        stmt = stmt.where(TOKEN.c.user_id == user_id)
    return int(conn.execute(stmt.values(revoked_at=at)).rowcount)


def revoke_user_tokens(conn: Connection, user_id: int, at: datetime) -> int:
    """Revoke at ``at`` every token of the user ``user_id`` not revoked yet; how many."""
    result = conn.execute(
        update(TOKEN)
        .where(TOKEN.c.user_id == user_id, TOKEN.c.revoked_at.is_(None))
        .values(revoked_at=at)
    )
    return int(result.rowcount)


def token_rows(engine: Engine, user_id: int) -> list[dict[str, object]]:
    """The API tokens of the user ``user_id``, every column but the hash."""
    cols = [c for c in TOKEN.columns if c.name != "token_hash"]
    with engine.connect() as conn:
        rows = conn.execute(select(*cols).where(TOKEN.c.user_id == user_id)).mappings()
        return [dict(r) for r in rows]


def live_token(conn: Connection, token_hash: str) -> dict[str, Any] | None:
    """``token_id``, ``user_id`` and ``expires_at`` of the unrevoked token of ``token_hash``
    (None when there is none; an expired one is returned)."""
    stmt = select(TOKEN.c.token_id, TOKEN.c.user_id, TOKEN.c.expires_at).where(
        TOKEN.c.token_hash == token_hash, TOKEN.c.revoked_at.is_(None)
    )
    row = conn.execute(stmt).mappings().first()
    return None if row is None else dict(row)
