"""The FastAPI application: server-rendered pages (Jinja2, htmx) and their JSON twins under
``/api``, over one ledger (SQLite file or database URL).

``create_app`` wires the routers of ``web/routes``; each route declares its permission with
``security.need`` and calls the library, which checks entity scope and writes the audit log.
"""

from __future__ import annotations

import base64
import hashlib
import re
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from esgledger.auth import accounts
from esgledger.auth.accounts import AccountError
from esgledger.store.engine import ConstraintError
from esgledger.store.ledger import Ledger, PeriodLockedError
from esgledger.web.pages import render, wants_html
from esgledger.web.routes import ROUTERS
from esgledger.web.routes.assess import redact_access_log
from esgledger.web.security import (
    ACCOUNT_PAGE,
    SESSION_COOKIE,
    Caller,
    LoginRequired,
    PasswordChangeRequired,
)
from esgledger.workflow.errors import Conflict, WorkflowError

WEB = resources.files("esgledger.web")


def _session(request: Request) -> Caller | None:
    """The signed-in caller of a page that failed, so the error page keeps its navigation."""
    secret = request.cookies.get(SESSION_COOKIE)
    if not secret:
        return None
    found = accounts.session_principal(request.app.state.ledger.engine, secret)
    return None if found is None else Caller(found[0], found[1], secret)


def create_app(target: str | Path | Ledger, *, secure_cookies: bool = False) -> FastAPI:
    """The app over a ledger (a path, a URL or an open :class:`Ledger`)."""
    store = target if isinstance(target, Ledger) else Ledger.open(target)
    app = FastAPI(
        title="esgledger",
        summary="ESG data collection, review, carbon ledger and lineage",
        version="0.1.0",
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
    )
    app.state.ledger = store
    app.state.secure_cookies = secure_cookies
    app.add_middleware(SecurityHeaders, hsts=secure_cookies, docs_url=app.docs_url)
    app.mount("/static", StaticFiles(directory=str(WEB / "static")), name="static")
    for router in ROUTERS:
        app.include_router(router)
    redact_access_log()  # survey links carry their secret in the query string
    _handle_errors(app)
    _declare_validation_error(app)
    return app


def _handle_errors(app: FastAPI) -> None:
    """The app's answers to the errors routes raise: a page for a browser, JSON otherwise."""

    @app.exception_handler(WorkflowError)
    async def _workflow(request: Request, exc: WorkflowError) -> Response:
        body: dict[str, Any] = {"detail": str(exc)}
        if isinstance(exc, Conflict) and exc.current_version is not None:
            body["current_version"] = exc.current_version
        if wants_html(request):
            return render(
                request, "error.html", exc.status, message=str(exc), caller=_session(request)
            )
        return JSONResponse(body, status_code=exc.status)

    @app.exception_handler(PeriodLockedError)
    async def _locked(_request: Request, exc: PeriodLockedError) -> Response:
        return JSONResponse({"detail": str(exc)}, status_code=409)

    @app.exception_handler(ConstraintError)
    async def _integrity(_request: Request, _exc: ConstraintError) -> Response:
        # two writers raced to create the same row: the later one is told to reload
        return JSONResponse(
            {"detail": "a conflicting change was saved at the same time: reload and retry"}, 409
        )

    @app.exception_handler(AccountError)
    async def _account(_request: Request, exc: AccountError) -> Response:
        return JSONResponse({"detail": str(exc)}, status_code=400)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if isinstance(exc, LoginRequired) and wants_html(request):
            return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
        if isinstance(exc, PasswordChangeRequired) and wants_html(request):
            return RedirectResponse(ACCOUNT_PAGE, status_code=303)
        if wants_html(request) and exc.status_code >= 400:
            return render(
                request,
                "error.html",
                exc.status_code,
                message=str(exc.detail),
                caller=_session(request),
            )
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> Response:
        problems = [
            {"location": ".".join(map(str, e.get("loc", ()))), "message": e.get("msg", "")}
            for e in exc.errors()
        ]
        return JSONResponse({"detail": "invalid request", "problems": problems}, 422)


#: The Content-Security-Policy of every response: scripts and styles from the app's origin
#: only (no inline script, no ``eval``; inline styles stay allowed for the charts), no
#: plugins, forms posting to the app only, and no framing of the app.
POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
HEADERS = {
    "content-security-policy": POLICY,
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "x-content-type-options": "nosniff",
}
HSTS = "max-age=31536000"
#: Where FastAPI's API documentation page (Swagger UI) loads its script and style from.
DOCS_CDN = "https://cdn.jsdelivr.net"


def docs_policy(app: FastAPI, root_path: str) -> str:
    """The policy of the API documentation page: FastAPI's Swagger UI page loads its bundle
    from a CDN and starts it with one inline script, allowed by its hash (nothing else)."""
    page = get_swagger_ui_html(
        openapi_url=root_path + str(app.openapi_url),
        title=f"{app.title} - Swagger UI",
        oauth2_redirect_url=(
            root_path + app.swagger_ui_oauth2_redirect_url
            if app.swagger_ui_oauth2_redirect_url
            else None
        ),
        init_oauth=app.swagger_ui_init_oauth,
        swagger_ui_parameters=app.swagger_ui_parameters,
    )
    inline = re.findall(r"<script>(.*?)</script>", bytes(page.body).decode("utf-8"), re.S)
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(s.encode("utf-8")).digest()).decode() + "'"
        for s in inline
    )
    return POLICY.replace("script-src 'self'", f"script-src 'self' {DOCS_CDN} {hashes}").replace(
        "style-src 'self'", f"style-src 'self' {DOCS_CDN}"
    )


class SecurityHeaders:
    """ASGI middleware: the security headers on every response (a header a route set itself
    is kept), and ``Strict-Transport-Security`` when the app runs with secure cookies (behind
    HTTPS)."""

    def __init__(self, app: ASGIApp, *, hsts: bool, docs_url: str | None) -> None:
        self.app, self.docs_url = app, docs_url
        self.headers = {**HEADERS, **({"strict-transport-security": HSTS} if hsts else {})}
        self.docs: dict[str, str] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        added = self.headers
        if self.docs_url is not None and scope["path"] == self.docs_url:
            root = str(scope.get("root_path", "")).rstrip("/")
            if root not in self.docs:
                self.docs[root] = docs_policy(scope["app"], root)
            added = {**added, "content-security-policy": self.docs[root]}

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in added.items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)


#: The body ``_validation`` sends, declared in the spec in place of FastAPI's default (whose
#: ``detail`` is a list): clients and the schema fuzzing read what is really sent.
VALIDATION_ERROR: dict[str, Any] = {
    "title": "HTTPValidationError",
    "type": "object",
    "required": ["detail"],
    "properties": {
        "detail": {"type": "string"},
        "problems": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"location": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
}


def _declare_validation_error(app: FastAPI) -> None:
    default = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            spec = default()
            schemas = spec.get("components", {}).get("schemas", {})
            if "HTTPValidationError" in schemas:
                schemas["HTTPValidationError"] = VALIDATION_ERROR
        return app.openapi_schema or default()

    app.openapi = openapi  # type: ignore[method-assign]
