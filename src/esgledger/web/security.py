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


#: The page where a signed-in user changes their own password.
ACCOUNT_PAGE = "/account/password"


class PasswordChangeRequired(HTTPException):
    """403 for the API while the caller must change their password; pages turn it into a
    redirect to the password page (see ``web.app``)."""

    def __init__(self) -> None:
        super().__init__(status_code=403, detail=f"change your password first ({ACCOUNT_PAGE})")


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


async def account_caller(request: Request) -> Caller:
    """Authenticate the request: ``Authorization: Bearer`` token or session cookie. A cookie
    request that changes something must carry the session's CSRF token (header or form).
    A caller who must change their password passes: only for the routes of their own account
    (``signed_in(password_change=True)``)."""
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


async def caller(request: Request) -> Caller:
    """The authenticated caller (:func:`account_caller`), refused with
    :class:`PasswordChangeRequired` while they must change their password."""
    found = await account_caller(request)
    if found.who.must_change_password:
        raise PasswordChangeRequired()
    return found


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


def signed_in(*, password_change: bool = False) -> Callable[..., Awaitable[Caller]]:
    """Dependency for routes every signed-in user may call (their own account); with
    ``password_change`` also while the user must change their password (their account's
    page, the password change itself, signing out)."""

    async def dependency(found: Annotated[Caller, Depends(caller)]) -> Caller:
        return found

    async def during_change(found: Annotated[Caller, Depends(account_caller)]) -> Caller:
        return found

    chosen = during_change if password_change else dependency
    chosen.permission = "signed_in"  # type: ignore[attr-defined]
    return chosen


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
