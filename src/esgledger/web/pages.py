"""Rendering of the server-side pages (Jinja2) in the caller's language."""

from __future__ import annotations

from importlib import resources
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from fastapi.templating import Jinja2Templates

from esgledger.web.i18n import language, translate

templates = Jinja2Templates(directory=str(resources.files("esgledger.web") / "templates"))
templates.env.globals["t"] = translate


def render(request: Request, name: str, status_code: int = 200, **context: Any) -> Response:
    """A page in the caller's language; ``caller`` (if any) gives the user and CSRF token."""
    caller = context.get("caller")
    who = caller.who if caller is not None else None
    lang = language(request, who.locale if who is not None else None)
    return templates.TemplateResponse(
        request,
        name,
        {"lang": lang, "who": who, "csrf": caller.csrf if caller else None, **context},
        status_code=status_code,
    )


def wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api") and "text/html" in request.headers.get(
        "accept", "text/html"
    )
