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

from esgledger.auth.accounts import AccountError
from esgledger.store.ledger import Ledger, PeriodLockedError
from esgledger.web.pages import render, wants_html
from esgledger.web.routes import ROUTERS
from esgledger.web.security import LoginRequired
from esgledger.workflow.errors import Conflict, WorkflowError

WEB = resources.files("esgledger.web")


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

    @app.exception_handler(WorkflowError)
    async def _workflow(request: Request, exc: WorkflowError) -> Response:
        body: dict[str, Any] = {"detail": str(exc)}
        if isinstance(exc, Conflict) and exc.current_version is not None:
            body["current_version"] = exc.current_version
        if wants_html(request):
            return render(request, "error.html", exc.status, message=str(exc), caller=None)
        return JSONResponse(body, status_code=exc.status)

    @app.exception_handler(PeriodLockedError)
    async def _locked(_request: Request, exc: PeriodLockedError) -> Response:
        return JSONResponse({"detail": str(exc)}, status_code=409)

    @app.exception_handler(AccountError)
    async def _account(_request: Request, exc: AccountError) -> Response:
        return JSONResponse({"detail": str(exc)}, status_code=400)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if isinstance(exc, LoginRequired) and wants_html(request):
            return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
        if wants_html(request) and exc.status_code >= 400:
            return render(
                request, "error.html", exc.status_code, message=str(exc.detail), caller=None
            )
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> Response:
        problems = [
            {"location": ".".join(map(str, e.get("loc", ()))), "message": e.get("msg", "")}
            for e in exc.errors()
        ]
        return JSONResponse({"detail": "invalid request", "problems": problems}, 422)

    return app
