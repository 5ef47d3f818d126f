"""Who is calling, and may they: session cookies with CSRF tokens, API bearer tokens, and
the per-route permission dependency.

Every route of the app declares its permission with :func:`need` (or :data:`PUBLIC` for the
few open ones); ``tests/web/test_access_matrix.py`` fails when a route has none. Entity scope
is checked by the library functions themselves (``workflow``), which every route calls.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request

from esgledger.auth import accounts
from esgledger.auth.accounts import Principal
from esgledger.auth.roles import Permission
from esgledger.book import Book, current_book
from esgledger.store.ledger import Ledger

SESSION_COOKIE = "esgl_session"
LOGIN_CSRF_COOKIE = "esgl_login_csrf"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Caller:
    """The signed-in user and how they came (``csrf`` is None for API tokens)."""

    who: Principal
    csrf: str | None
    session: str | None


class LoginRequired(HTTPException):
    """401 for the API; pages turn it into a redirect to /login (see ``web.app``)."""

    def __init__(self) -> None:
        super().__init__(status_code=401, detail="sign in first")


def ledger(request: Request) -> Ledger:
    found: Ledger = request.app.state.ledger
    return found


def book(request: Request) -> Book:
    """The Book of the app's ledger at its current data version (one per version, shared by
    every request and every library call on the ledger)."""
    return current_book(ledger(request))


async def _form_csrf(request: Request) -> str | None:
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        return value if isinstance(value, str) else None
    return None


async def caller(request: Request) -> Caller:
    """Authenticate the request: ``Authorization: Bearer`` token or session cookie. A cookie
    request that changes something must carry the session's CSRF token (header or form)."""
    store = ledger(request)
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        found = accounts.token_principal(store.engine, header[7:].strip())
        if found is None:
            raise HTTPException(status_code=401, detail="invalid or expired API token")
        return Caller(found, None, None)
    secret = request.cookies.get(SESSION_COOKIE)
    if not secret:
        raise LoginRequired()
    session = accounts.session_principal(store.engine, secret)
    if session is None:
        raise LoginRequired()
    who, csrf = session
    if request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER) or await _form_csrf(request)
        if not sent or not hmac.compare_digest(sent, csrf):
            raise HTTPException(status_code=403, detail="missing or wrong CSRF token")
    return Caller(who, csrf, secret)


def need(permission: Permission) -> Callable[..., Awaitable[Caller]]:
    """Dependency: the caller, who must hold ``permission`` (entity scope is checked by the
    library call the route makes)."""

    async def dependency(found: Annotated[Caller, Depends(caller)]) -> Caller:
        if not found.who.can(permission):
            raise HTTPException(
                status_code=403,
                detail=f"the {found.who.role.value} role may not {permission.value}",
            )
        return found

    dependency.permission = permission  # type: ignore[attr-defined]
    return dependency


def signed_in() -> Callable[..., Awaitable[Caller]]:
    """Dependency for routes every signed-in user may call (their own account)."""

    async def dependency(found: Annotated[Caller, Depends(caller)]) -> Caller:
        return found

    dependency.permission = "signed_in"  # type: ignore[attr-defined]
    return dependency


def new_login_csrf() -> str:
    return secrets.token_urlsafe(24)


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def permission_of(dependant: Any) -> str | None:
    """The permission a route's dependencies declare (for the access-matrix test)."""
    for dep in getattr(dependant, "dependencies", []):
        found = getattr(dep.call, "permission", None)
        if found is not None:
            return str(found)
        nested = permission_of(dep)
        if nested is not None:
            return nested
    return None
