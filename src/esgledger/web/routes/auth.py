"""Sign-in, sign-out, the caller's own account and API tokens."""

from __future__ import annotations

import hmac
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Path, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from esgledger.auth import accounts
from esgledger.auth.accounts import AccountError, Principal, RateLimitedError
from esgledger.web.pages import render
from esgledger.web.security import (
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


def _set_session(request: Request, response: Response, secret: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        secret,
        httponly=True,
        samesite="strict",
        secure=bool(request.app.state.secure_cookies),
        max_age=accounts.SESSION_HOURS * 3600,
        path="/",
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
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", path="/login")
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
        response.set_cookie(
            LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", path="/login"
        )
        return response
    secret, _csrf = accounts.start_session(ledger(request).engine, who.user_id)
    response = RedirectResponse(_safe_next(next), status_code=303)
    _set_session(request, response, secret)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout", include_in_schema=False)
def logout_form(request: Request, me: Me) -> Response:
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
def api_logout(request: Request, me: Me) -> JSONResponse:
    if me.session:
        accounts.end_session(ledger(request).engine, me.session, me.who.username)
    response = JSONResponse({"signed_out": True})
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/api/me", tags=["account"])
def api_me(me: Me) -> dict[str, Any]:
    return {**me_json(me.who), "csrf_token": me.csrf}


@router.post("/api/me/password", tags=["account"])
def api_change_password(request: Request, body: PasswordBody, me: Me) -> dict[str, bool]:
    store = ledger(request)
    _sign_in(request, me.who.username, body.current_password)
    accounts.set_password(store.engine, me.who.username, me.who.user_id, body.new_password)
    return {"changed": True}


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
