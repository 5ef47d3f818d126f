"""Sign-in, sign-out, the caller's own account (its password page) and API tokens."""

from __future__ import annotations

import hmac
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Path, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from esgledger.auth import accounts
from esgledger.auth.accounts import AccountError, Principal, RateLimitedError, WrongPasswordError
from esgledger.web.i18n import translate
from esgledger.web.pages import render
from esgledger.web.routes.common import lang_of, page
from esgledger.web.security import (
    ACCOUNT_PAGE,
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    Caller,
    client_address,
    ledger,
    new_login_csrf,
    signed_in,
)

router = APIRouter()
Me = Annotated[Caller, Depends(signed_in())]
#: The caller, also while they must change their password (their account's own routes).
Account = Annotated[Caller, Depends(signed_in(password_change=True))]


NO_NUL = r"^[^\x00]*$"  # PostgreSQL text cannot hold NUL


class LoginBody(BaseModel):
    username: str = Field(min_length=1, max_length=64, pattern=NO_NUL)
    password: str = Field(min_length=1, max_length=1024)


class PasswordBody(BaseModel):
    current_password: str = Field(min_length=1, max_length=1024)
    new_password: str = Field(min_length=accounts.MIN_PASSWORD, max_length=1024)


class TokenBody(BaseModel):
    name: str = Field(min_length=1, max_length=100, pattern=NO_NUL)
    days: int | None = Field(default=90, ge=1, le=3650)


def me_json(who: Principal) -> dict[str, Any]:
    return {
        "user_id": who.user_id,
        "username": who.username,
        "display_name": who.display_name,
        "role": who.role.value,
        "locale": who.locale,
        "must_change_password": who.must_change_password,
        "entities": sorted(who.grants),
        "scope": None if who.scope is None else sorted(who.scope),
        "permissions": sorted(p.value for p in accounts.allowed_permissions(who.role)),
    }


def _secure(request: Request) -> bool:
    return bool(request.app.state.secure_cookies)


def _set_session(request: Request, response: Response, secret: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        secret,
        httponly=True,
        samesite="strict",
        secure=_secure(request),
        max_age=accounts.SESSION_HOURS * 3600,
        path="/",
    )


def _set_login_csrf(request: Request, response: Response, token: str) -> None:
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=_secure(request),
        path="/login",
    )


def _sign_in(request: Request, username: str, password: str) -> Principal:
    store = ledger(request)
    if "\x00" in username:  # no such user can exist (and PostgreSQL refuses the text)
        raise HTTPException(status_code=401, detail="wrong user name or password")
    try:
        return accounts.authenticate(store.engine, username, password, client_address(request))
    except RateLimitedError as exc:
        raise HTTPException(status_code=429, detail=str(exc)) from exc
    except AccountError as exc:
        raise HTTPException(status_code=401, detail=str(exc)) from exc


@router.get("/healthz", include_in_schema=False)
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/login", include_in_schema=False)
def login_page(request: Request, next: str = "/") -> Response:
    token = new_login_csrf()
    response = render(request, "login.html", next=_safe_next(next), login_csrf=token)
    _set_login_csrf(request, response, token)
    return response


def _safe_next(target: str) -> str:
    """Only local paths (no open redirect)."""
    return target if target.startswith("/") and not target.startswith("//") else "/"


@router.post("/login", include_in_schema=False)
def login_form(
    request: Request,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not hmac.compare_digest(expected, csrf_token):
        raise HTTPException(status_code=403, detail="the sign-in form expired: reload it")
    try:
        who = _sign_in(request, username, password)
    except HTTPException as exc:
        token = new_login_csrf()
        response = render(
            request,
            "login.html",
            exc.status_code,
            next=_safe_next(next),
            login_csrf=token,
            error=str(exc.detail),
            username=username,
        )
        _set_login_csrf(request, response, token)
        return response
    secret, _csrf = accounts.start_session(ledger(request).engine, who.user_id)
    response = RedirectResponse(_safe_next(next), status_code=303)
    _set_session(request, response, secret)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout", include_in_schema=False)
def logout_form(request: Request, me: Account) -> Response:
    if me.session:
        accounts.end_session(ledger(request).engine, me.session, me.who.username)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.post("/api/login", tags=["account"])
def api_login(request: Request, body: LoginBody) -> JSONResponse:
    """Sign in; sets the session cookie and returns the CSRF token to send as
    ``X-CSRF-Token`` with every change."""
    who = _sign_in(request, body.username, body.password)
    secret, csrf = accounts.start_session(ledger(request).engine, who.user_id)
    response = JSONResponse({"user": me_json(who), "csrf_token": csrf})
    _set_session(request, response, secret)
    return response


@router.post("/api/logout", tags=["account"])
def api_logout(request: Request, me: Account) -> JSONResponse:
    if me.session:
        accounts.end_session(ledger(request).engine, me.session, me.who.username)
    response = JSONResponse({"signed_out": True})
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/api/me", tags=["account"])
def api_me(me: Account) -> dict[str, Any]:
    return {**me_json(me.who), "csrf_token": me.csrf}


@router.post("/api/me/password", tags=["account"])
def api_change_password(request: Request, body: PasswordBody, me: Account) -> JSONResponse:
    """Change one's own password (also while a change is required). Every session and API
    token of the user ends; a caller signed in by cookie gets a new session (cookie and
    ``csrf_token``)."""
    try:
        who = accounts.change_password(
            ledger(request).engine,
            me.who.username,
            body.current_password,
            body.new_password,
            client_address(request),
        )
    except RateLimitedError as exc:
        raise HTTPException(status_code=429, detail=str(exc)) from exc
    if me.session is None:
        return JSONResponse({"changed": True})
    secret, csrf = accounts.start_session(ledger(request).engine, who.user_id)
    response = JSONResponse({"changed": True, "csrf_token": csrf})
    _set_session(request, response, secret)
    return response


@router.get("/api/tokens", tags=["account"])
def api_tokens(request: Request, me: Me) -> list[dict[str, Any]]:
    return accounts.list_tokens(ledger(request).engine, me.who.user_id)


@router.post("/api/tokens", tags=["account"], status_code=201)
def api_create_token(request: Request, body: TokenBody, me: Me) -> dict[str, Any]:
    """A bearer token for scripts (``Authorization: Bearer ...``); the secret is shown once."""
    token_id, secret = accounts.create_token(
        ledger(request).engine, me.who.username, me.who.user_id, body.name, days=body.days
    )
    return {"token_id": token_id, "token": secret}


@router.delete("/api/tokens/{token_id}", tags=["account"])
def api_revoke_token(
    request: Request, token_id: Annotated[int, Path(ge=1, le=2_147_483_647)], me: Me
) -> dict[str, bool]:
    try:
        accounts.revoke_token(
            ledger(request).engine, me.who.username, token_id, user_id=me.who.user_id
        )
    except AccountError as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from exc
    return {"revoked": True}


# -- the caller's own password page ------------------------------------------------------------

PASSWORD_FLASHES = frozenset({"password_changed"})
PasswordField = Annotated[str, Form(max_length=1024)]


def _password_page(request: Request, me: Caller, status: int = 200, error: str = "") -> Response:
    return page(
        request,
        me,
        "password.html",
        status,
        flashes=PASSWORD_FLASHES,
        error=error,
        min_length=accounts.MIN_PASSWORD,
    )


@router.get(ACCOUNT_PAGE, include_in_schema=False)
def password_page(request: Request, me: Account) -> Response:
    """The form to change one's own password (the only page while a change is required)."""
    return _password_page(request, me)


def _new_password_problem(current: str, new: str, repeat: str) -> str | None:
    """The message key of what is wrong with the new password typed, before checking the
    current one (so that a refused form records no sign-in attempt)."""
    if new != repeat:
        return "password_mismatch"
    if len(new) < accounts.MIN_PASSWORD:
        return "password_short"
    if new == current:
        return "password_same"
    return None


@router.post(ACCOUNT_PAGE, include_in_schema=False)
def password_form(
    request: Request,
    me: Account,
    current_password: PasswordField = "",
    new_password: PasswordField = "",
    repeat_password: PasswordField = "",
) -> Response:
    """Change one's own password from the form; on success the caller gets a new session
    (every other session and API token of theirs ends)."""
    status, problem = 400, _new_password_problem(current_password, new_password, repeat_password)
    if problem is None:
        try:
            who = accounts.change_password(
                ledger(request).engine,
                me.who.username,
                current_password,
                new_password,
                client_address(request),
            )
        except RateLimitedError:
            status, problem = 429, "password_throttled"
        except WrongPasswordError:
            problem = "password_wrong_current"
    if problem is not None:
        message = translate(lang_of(request, me), problem).format(n=accounts.MIN_PASSWORD)
        return _password_page(request, me, status, message)
    secret, _csrf = accounts.start_session(ledger(request).engine, who.user_id)
    response = RedirectResponse(f"{ACCOUNT_PAGE}?done=password_changed", status_code=303)
    _set_session(request, response, secret)
    return response
