"""Administration: users, their roles and entity grants (``manage_users``); the audit log, its
CSV export and the verification of its hash chain (``audit_read``).

Secrets made here (initial and reset passwords) are shown once, in the response that made
them, and never put in a URL, a flash message or the audit log.
"""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Form, HTTPException, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field, ValidationError

from esgledger import audit
from esgledger.audit import canonical
from esgledger.auth import access, accounts
from esgledger.auth.accounts import AccountError, Principal
from esgledger.auth.roles import Permission, Role
from esgledger.store.accounts import user_exists
from esgledger.store.engine import LedgerEngine as Engine
from esgledger.store.engine import entity_names, write_transaction
from esgledger.web.i18n import language, translate
from esgledger.web.pages import render
from esgledger.web.security import Caller, ledger, need
from esgledger.workflow.export import write_csv

router = APIRouter()
MAX_ID = 2_147_483_647  # the largest INTEGER of PostgreSQL
UserId = Annotated[int, Path(ge=1, le=MAX_ID)]
Admin = Annotated[Caller, Depends(need(Permission.MANAGE_USERS))]
Auditor = Annotated[Caller, Depends(need(Permission.AUDIT_READ))]

USERNAME_PATTERN = r"^[\w.@+-]{1,64}$"
TEXT_PATTERN = r"^[^\x00]*$"  # no NUL (PostgreSQL text cannot hold it)
EntityId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")]
AUDIT_COLUMNS = (
    "seq",
    "at",
    "actor",
    "action",
    "object_type",
    "object_id",
    "entity_id",
    "before",
    "after",
    "prev_hash",
    "hash",
    "key_id",
)
#: Flash messages a redirect may ask for (by key: no free text from the URL is shown).
FLASHES = frozenset({"users_grants_saved", "users_activated", "users_deactivated"})


# -- bodies and answers ---------------------------------------------------------------------


class NewUserBody(BaseModel):
    username: str = Field(min_length=1, max_length=64, pattern=USERNAME_PATTERN)
    role: Role
    display_name: str | None = Field(
        default=None, min_length=1, max_length=100, pattern=TEXT_PATTERN
    )
    locale: Literal["zh", "en"] = "zh"
    entities: list[EntityId] = Field(default_factory=list, max_length=200)
    password: str | None = Field(
        default=None,
        min_length=accounts.MIN_PASSWORD,
        max_length=1024,
        description="initial password; a random one is made (and returned once) when omitted",
    )
    must_change_password: bool = Field(
        default=True, description="the user must choose a new password at first sign-in"
    )


class GrantsBody(BaseModel):
    entities: list[EntityId] = Field(max_length=200)


class ActiveBody(BaseModel):
    active: bool


class UserOut(BaseModel):
    user_id: int
    username: str
    display_name: str
    role: Role
    locale: str
    active: bool
    must_change_password: bool
    entities: list[str]


class NewUserOut(BaseModel):
    user_id: int
    username: str
    must_change_password: bool
    initial_password: str | None = Field(
        description="the generated password, shown this once (None when one was given)"
    )


class PasswordOut(BaseModel):
    user_id: int
    password: str = Field(description="the new password, shown this once")
    must_change_password: bool


class AuditEntryOut(BaseModel):
    seq: int
    at: datetime = Field(description="when, in UTC")
    actor: str
    action: str
    object_type: str
    object_id: str
    entity_id: str | None
    before: Any = None
    after: Any = None
    prev_hash: str
    hash: str
    key_id: str | None = Field(
        None,
        description="the audit key whose HMAC is the hash (null: plain SHA-256, before the key)",
    )


class AuditPage(BaseModel):
    entries: list[AuditEntryOut]
    next_before_seq: int | None = Field(description="pass as before_seq for older entries")


class ProblemOut(BaseModel):
    seq: int | None
    message: str


class VerificationOut(BaseModel):
    ok: bool
    entries: int
    head_seq: int
    head_hash: str
    problems: list[ProblemOut]
    key_id: str | None = Field(
        default=None, description="id of the audit key that signs new entries (outside the ledger)"
    )
    checkpoints: int = Field(
        default=0, description="checkpoints of the head, kept outside the ledger, compared"
    )
    notes: list[str] = Field(
        default_factory=list, description="what could not be checked, without being a problem"
    )


# -- users ----------------------------------------------------------------------------------


def _users(engine: Engine) -> list[UserOut]:
    return [UserOut.model_validate(row) for row in accounts.list_users(engine)]


def _require_user(engine: Engine, user_id: int) -> None:
    if not user_exists(engine, user_id):
        raise HTTPException(status_code=404, detail=f"no user {user_id}")


def _create(engine: Engine, who: Principal, body: NewUserBody) -> NewUserOut:
    generated = body.password is None
    initial = body.password or secrets.token_urlsafe(12)
    if accounts.user_id_of(engine, body.username.strip()) is not None:
        raise HTTPException(status_code=409, detail=f"user {body.username!r} already exists")
    try:
        user_id = accounts.create_user(
            engine,
            who.username,
            body.username,
            initial,
            body.role,
            display_name=body.display_name,
            locale=body.locale,
            entities=body.entities,
            must_change_password=generated or body.must_change_password,
        )
    except AccountError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc
    return NewUserOut(
        user_id=user_id,
        username=body.username.strip(),
        must_change_password=generated or body.must_change_password,
        initial_password=initial if generated else None,
    )


def _set_grants(engine: Engine, who: Principal, user_id: int, entities: list[str]) -> None:
    _require_user(engine, user_id)
    try:
        accounts.set_grants(engine, who.username, user_id, entities)
    except AccountError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc


def _reset(engine: Engine, who: Principal, user_id: int) -> PasswordOut:
    _require_user(engine, user_id)
    password = secrets.token_urlsafe(12)
    accounts.set_password(engine, who.username, user_id, password, must_change=True)
    return PasswordOut(user_id=user_id, password=password, must_change_password=True)


def _set_active(engine: Engine, who: Principal, user_id: int, active: bool) -> None:
    _require_user(engine, user_id)
    if user_id == who.user_id and not active:
        raise HTTPException(status_code=409, detail="you cannot deactivate your own account")
    accounts.set_active(engine, who.username, user_id, active)


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/api/users", tags=["admin"])
def api_users(request: Request, _me: Admin) -> list[UserOut]:
    """Users with their role, state and granted entities."""
    return _users(ledger(request).engine)


@router.post("/api/users", tags=["admin"], status_code=201)
def api_create_user(
    request: Request, body: NewUserBody, me: Admin, response: Response
) -> NewUserOut:
    """Add a user; without ``password`` a random one is made and returned once."""
    _no_store(response)
    return _create(ledger(request).engine, me.who, body)


@router.post("/api/users/{user_id}/grants", tags=["admin"])
def api_set_grants(
    request: Request, user_id: UserId, body: GrantsBody, me: Admin
) -> dict[str, list[str]]:
    """Replace a user's entity grants (a grant covers the entity's descendants)."""
    _set_grants(ledger(request).engine, me.who, user_id, body.entities)
    return {"entities": sorted(set(body.entities))}


@router.post("/api/users/{user_id}/password", tags=["admin"])
def api_reset_password(
    request: Request, user_id: UserId, me: Admin, response: Response
) -> PasswordOut:
    """A random new password, returned once, that the user must change; ends their
    sessions."""
    _no_store(response)
    return _reset(ledger(request).engine, me.who, user_id)


@router.post("/api/users/{user_id}/active", tags=["admin"])
def api_set_active(
    request: Request, user_id: UserId, body: ActiveBody, me: Admin
) -> dict[str, bool]:
    """Activate or deactivate a user (deactivation ends their sessions and revokes their API
    tokens)."""
    _set_active(ledger(request).engine, me.who, user_id, body.active)
    return {"active": body.active}


def _users_page(request: Request, me: Caller, status_code: int = 200, **context: Any) -> Response:
    engine = ledger(request).engine
    done = request.query_params.get("done")
    lang = language(request, me.who.locale)
    flash = translate(lang, done) if done in FLASHES else None
    return _no_store(
        render(
            request,
            "users.html",
            status_code,
            caller=me,
            users=_users(engine),
            entities=entity_names(engine),
            roles=[r.value for r in Role],
            flash=context.pop("flash", flash),
            **context,
        )
    )


@router.get("/users", include_in_schema=False)
def users_page(request: Request, me: Admin) -> Response:
    return _users_page(request, me)


@router.post("/users", include_in_schema=False)
def users_create_form(
    request: Request,
    me: Admin,
    username: Annotated[str, Form(max_length=64)],
    role: Annotated[str, Form(max_length=20)],
    display_name: Annotated[str, Form(max_length=100)] = "",
    locale: Annotated[str, Form(max_length=5)] = "zh",
    entities: Annotated[list[str] | None, Form()] = None,
    password: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    lang = language(request, me.who.locale)
    try:
        if role not in {r.value for r in Role}:
            raise ValueError(f"unknown role {role!r}")
        body = NewUserBody(
            username=username,
            role=Role(role),
            display_name=display_name.strip() or None,
            locale="en" if locale == "en" else "zh",
            entities=[e for e in entities or [] if e],
            password=password or None,
        )
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        return _users_page(request, me, 422, error=problems, form_username=username)
    except ValueError as exc:
        return _users_page(request, me, 422, error=str(exc), form_username=username)
    try:
        made = _create(ledger(request).engine, me.who, body)
    except HTTPException as exc:
        return _users_page(
            request, me, exc.status_code, error=str(exc.detail), form_username=username
        )
    return _users_page(
        request,
        me,
        flash=translate(lang, "users_created").format(username=made.username),
        secret_for=made.username,
        secret=made.initial_password,
    )


@router.post("/users/{user_id}/grants", include_in_schema=False)
def users_grants_form(
    request: Request,
    user_id: UserId,
    me: Admin,
    entities: Annotated[list[str] | None, Form()] = None,
) -> Response:
    try:
        _set_grants(ledger(request).engine, me.who, user_id, [e for e in entities or [] if e])
    except HTTPException as exc:
        return _users_page(request, me, exc.status_code, error=str(exc.detail))
    return RedirectResponse("/users?done=users_grants_saved", status_code=303)


@router.post("/users/{user_id}/password", include_in_schema=False)
def users_password_form(request: Request, user_id: UserId, me: Admin) -> Response:
    try:
        made = _reset(ledger(request).engine, me.who, user_id)
    except HTTPException as exc:
        return _users_page(request, me, exc.status_code, error=str(exc.detail))
    name = next((u.username for u in _users(ledger(request).engine) if u.user_id == user_id), "")
    lang = language(request, me.who.locale)
    return _users_page(
        request,
        me,
        flash=translate(lang, "users_password_reset").format(username=name),
        secret_for=name,
        secret=made.password,
    )


@router.post("/users/{user_id}/active", include_in_schema=False)
def users_active_form(
    request: Request,
    user_id: UserId,
    me: Admin,
    active: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    wanted = active.lower() in {"1", "true", "on", "yes"}
    try:
        _set_active(ledger(request).engine, me.who, user_id, wanted)
    except HTTPException as exc:
        return _users_page(request, me, exc.status_code, error=str(exc.detail))
    done = "users_activated" if wanted else "users_deactivated"
    return RedirectResponse(f"/users?done={done}", status_code=303)


# -- audit log ------------------------------------------------------------------------------


def audit_scope(engine: Engine, who: Principal) -> set[str] | None:
    """The entities whose audit entries the caller may read; None for all entries, the
    group-level ones included (a caller who sees every entity)."""
    if who.scope is None or access.is_group_wide(engine, who):
        return None
    return set(who.scope)


def _parsed(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def _entries(
    engine: Engine,
    who: Principal,
    *,
    before_seq: int | None,
    limit: int,
    object_type: str | None,
    object_id: str | None,
) -> AuditPage:
    rows = audit.entries(
        engine,
        entity_ids=audit_scope(engine, who),
        object_type=object_type or None,
        object_id=object_id or None,
        limit=limit,
        before_seq=before_seq,
    )
    out = [
        AuditEntryOut.model_validate(
            {
                **r,
                "at": r["at"].replace(tzinfo=UTC),  # stored as naive UTC
                "before": _parsed(r["before"]),
                "after": _parsed(r["after"]),
            }
        )
        for r in rows
    ]
    more = len(rows) == limit and int(rows[-1]["seq"]) > 1
    return AuditPage(entries=out, next_before_seq=int(rows[-1]["seq"]) if more else None)


def _csv(engine: Engine, who: Principal, page: AuditPage, filters: dict[str, Any]) -> Response:
    if not who.can(Permission.EXPORT):
        raise HTTPException(status_code=403, detail=f"the {who.role.value} role may not export")
    rows = [
        {
            **e.model_dump(),
            "before": None if e.before is None else canonical(e.before),
            "after": None if e.after is None else canonical(e.after),
        }
        for e in page.entries
    ]
    content = write_csv(rows, AUDIT_COLUMNS)
    with write_transaction(engine) as conn:
        audit.append(
            conn,
            who.username,
            "export",
            "audit_log",
            "csv",
            after={**filters, "rows": len(rows)},
        )
    return Response(
        content,
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": 'attachment; filename="audit-log.csv"',
            "Cache-Control": "no-store",
        },
    )


@router.get(
    "/api/audit",
    tags=["audit"],
    response_model=AuditPage,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
def api_audit(
    request: Request,
    me: Auditor,
    before_seq: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    object_type: Annotated[str | None, Query(max_length=64, pattern=TEXT_PATTERN)] = None,
    object_id: Annotated[str | None, Query(max_length=200, pattern=TEXT_PATTERN)] = None,
    format: Annotated[Literal["json", "csv"], Query()] = "json",
) -> Any:
    """Newest entries first, those of the caller's entities (group-level entries only for
    callers who see every entity); ``format=csv`` downloads them (the export is audited)."""
    engine = ledger(request).engine
    page = _entries(
        engine,
        me.who,
        before_seq=before_seq,
        limit=limit,
        object_type=object_type,
        object_id=object_id,
    )
    if format == "csv":
        filters = {
            "before_seq": before_seq,
            "limit": limit,
            "object_type": object_type,
            "object_id": object_id,
        }
        return _csv(engine, me.who, page, filters)
    return page


def _verification(engine: Engine, expect: str | None = None) -> VerificationOut:
    anchor = None
    if expect:
        seq, _, digest = expect.partition(":")
        anchor = (int(seq), digest)
    result = audit.verify(engine, anchor)
    return VerificationOut(
        ok=result.ok,
        entries=result.entries,
        head_seq=result.head_seq,
        head_hash=result.head_hash,
        problems=[ProblemOut(seq=p.seq, message=p.message) for p in result.problems],
        key_id=result.key_id,
        checkpoints=result.checkpoints,
        notes=list(result.notes),
    )


@router.get("/api/audit/verify", tags=["audit"])
def api_audit_verify(
    request: Request,
    _me: Auditor,
    expect: Annotated[
        str | None,
        Query(
            pattern=r"^[0-9]{1,10}:[0-9a-f]{64}$",
            description="a head saved elsewhere (`esgledger audit head`), as SEQ:HASH",
        ),
    ] = None,
) -> VerificationOut:
    """Recompute the hash chain: every entry's HMAC under the audit key, the links, the
    sequence and the head, and compare it with the checkpoints of the head kept outside the
    database (and with ``expect`` when given): a deleted tail or a chain recomputed without
    the key fails."""
    return _verification(ledger(request).engine, expect)


@router.get("/audit", include_in_schema=False)
def audit_page(
    request: Request,
    me: Auditor,
    before_seq: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    object_type: Annotated[str | None, Query(max_length=64, pattern=TEXT_PATTERN)] = None,
    object_id: Annotated[str | None, Query(max_length=200, pattern=TEXT_PATTERN)] = None,
    verify: bool = False,
) -> Response:
    engine = ledger(request).engine
    page = _entries(
        engine,
        me.who,
        before_seq=before_seq,
        limit=limit,
        object_type=object_type,
        object_id=object_id,
    )
    return render(
        request,
        "audit.html",
        caller=me,
        page=page,
        limit=limit,
        object_type=object_type or "",
        object_id=object_id or "",
        verification=_verification(engine) if verify else None,
        can_export=me.who.can(Permission.EXPORT),
        as_text=canonical,
    )
