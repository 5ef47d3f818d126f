"""The FastAPI application: server-rendered pages (Jinja2, htmx) and their JSON twins under
``/api``, over one ledger (SQLite file or database URL).

``create_app`` wires the routers of ``web/routes``; each route declares its permission with
``security.need`` and calls the library, which checks entity scope and writes the audit log.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from esgledger.auth import accounts
from esgledger.auth.accounts import AccountError
from esgledger.store.engine import ConstraintError
from esgledger.store.ledger import Ledger, PeriodLockedError
from esgledger.web.pages import render, wants_html
from esgledger.web.routes import ROUTERS
from esgledger.web.routes.assess import redact_access_log
from esgledger.web.security import SESSION_COOKIE, Caller, LoginRequired
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
    app.mount("/static", StaticFiles(directory=str(WEB / "static")), name="static")
    for router in ROUTERS:
        app.include_router(router)
    redact_access_log()  # survey links carry their secret in the query string

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

    _declare_validation_error(app)
    return app


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
