"""What the data collection routes share (:mod:`.campaigns`, :mod:`.requests`,
:mod:`.periods`): the ``Viewer`` dependency, the identifier and text patterns of path
parameters and bodies, the flash messages a redirect may name, and the small helpers every
page uses (the ledger's engine, the page language, rendering with the flash message,
post/redirect/get, whole numbers typed in forms, the entities of the caller's scope, and
downloads the browser saves without rendering).
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import Field

from esgledger.auth.accounts import Principal
from esgledger.auth.roles import Permission
from esgledger.store.engine import LedgerEngine as Engine
from esgledger.store.engine import entity_names
from esgledger.web.i18n import language, translate
from esgledger.web.pages import render
from esgledger.web.security import Caller, ledger, need
from esgledger.workflow.errors import Invalid

Viewer = Annotated[Caller, Depends(need(Permission.VIEW))]

MAX_ID = 2_147_483_647
ID_PATTERN = r"^[A-Za-z0-9_.\-]+$"
TEXT_PATTERN = r"^[^\x00]*$"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

Lang = Annotated[str | None, Query(pattern="^(zh|en)$")]

MetricIdText = Annotated[str, Field(min_length=1, max_length=100, pattern=ID_PATTERN)]
EntityIdText = Annotated[str, Field(min_length=1, max_length=64, pattern=ID_PATTERN)]

#: Flash messages a page redirect may name (``?done=``).
FLASHES = frozenset(
    {
        "campaign_created",
        "values_saved",
        "request_submitted",
        "request_approved",
        "request_returned",
        "comment_added",
        "evidence_added",
        "upload_saved",
        "period_locked",
        "adjustment_proposed",
        "adjustment_approved",
        "adjustment_rejected",
    }
)


def engine_of(request: Request) -> Engine:
    """The engine of the app's ledger."""
    return ledger(request).engine


def lang_of(request: Request, caller: Caller) -> str:
    """The page language (``?lang=``, the cookie, the caller's locale, the browser's)."""
    return language(request, caller.who.locale)


def page(
    request: Request,
    caller: Caller,
    name: str,
    status_code: int = 200,
    flashes: frozenset[str] = FLASHES,
    **context: Any,
) -> Response:
    """A page with the flash message a redirect named (``?done=``) when it is one of
    ``flashes`` (default: the collection routes')."""
    done = request.query_params.get("done")
    if "flash" not in context and done in flashes:
        context["flash"] = translate(lang_of(request, caller), str(done))
    return render(request, name, status_code, caller=caller, **context)


def see_other(url: str, done: str) -> RedirectResponse:
    """Post/redirect/get with a flash message."""
    separator = "&" if "?" in url else "?"
    return RedirectResponse(f"{url}{separator}done={done}", status_code=303)


def whole_number(text: str | None, what: str) -> int:
    """A whole number typed in a form field (0 to ``MAX_ID``); ``what`` names the field."""
    try:
        number = int(str(text or "").strip())
    except ValueError as exc:
        raise Invalid(f"{what}: {text!r} is not a whole number") from exc
    if not 0 <= number <= MAX_ID:
        raise Invalid(f"{what}: {number} is out of range")
    return number


def scoped_entities(engine: Engine, who: Principal) -> list[dict[str, Any]]:
    """Entities in the caller's scope (filtered in the query)."""
    return entity_names(engine, who.scope)


def attachment(content: bytes, media_type: str, file_name: str) -> Response:
    """A download that the browser saves and never renders or sniffs."""
    ascii_name = "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\;' else "_" for c in file_name
    )
    disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(file_name)}"
    return Response(
        content,
        media_type=media_type,
        headers={
            "Content-Disposition": disposition,
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
        },
    )
