"""Data request pages and their JSON twins: the request form and detail, its values (one
row at a time through htmx or JSON, or the whole form in one transaction), submission,
review (approve, return) and comments, evidence files, and the request's XLSX template and
its upload (all or nothing, every problem located). Every route is a thin layer over
:mod:`esgledger.workflow.collection` and :mod:`esgledger.workflow.evidence`, which check the
caller's permission and entity scope themselves and write the audit log; a refused change
of a page is shown on the request page with its status.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Path, Request, UploadFile
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from esgledger.auth.accounts import Principal
from esgledger.auth.roles import Permission
from esgledger.domain.diagnostics import Diagnostic, Severity, has_errors
from esgledger.metrics.catalogue import Metric, load_catalogue
from esgledger.store.engine import LedgerEngine as Engine
from esgledger.usecases.exports import record_export
from esgledger.web.i18n import translate
from esgledger.web.pages import render
from esgledger.web.routes.common import (
    ID_PATTERN,
    MAX_ID,
    TEXT_PATTERN,
    XLSX_TYPE,
    Lang,
    MetricIdText,
    Viewer,
    attachment,
    engine_of,
    lang_of,
    page,
    see_other,
    whole_number,
)
from esgledger.web.security import Caller, need
from esgledger.workflow import collection
from esgledger.workflow.errors import Conflict, Invalid, NotFound
from esgledger.workflow.evidence import EVIDENCE_MAX_BYTES, add_evidence, get_evidence
from esgledger.workflow.request_template import (
    REQUEST_SHEET,
    RequestSheet,
    allowed_units,
    request_template,
)
from esgledger.workflow.request_upload import read_request_upload

router = APIRouter()

Editor = Annotated[Caller, Depends(need(Permission.EDIT))]
Commenter = Annotated[Caller, Depends(need(Permission.COMMENT))]
Reviewer = Annotated[Caller, Depends(need(Permission.REVIEW))]

UPLOAD_MAX_BYTES = 5_000_000
"""Largest request template accepted (the template of a request is a few kB)."""
MULTIPART_ALLOWANCE = 256_000
"""Room for the multipart envelope and the form fields around the file."""

RequestId = Annotated[int, Path(ge=1, le=MAX_ID)]
EvidenceId = Annotated[int, Path(ge=1, le=MAX_ID)]
MetricPath = Annotated[str, Path(min_length=1, max_length=100, pattern=ID_PATTERN)]
Version = Annotated[int, Field(ge=0, le=MAX_ID)]


class ValueBody(BaseModel):
    value_text: str = Field(default="", max_length=100, pattern=TEXT_PATTERN)
    unit: str = Field(default="", max_length=50, pattern=TEXT_PATTERN)
    note: str | None = Field(default=None, max_length=2000, pattern=TEXT_PATTERN)
    base_version: Version


class VersionBody(BaseModel):
    base_version: Version


class ApproveBody(BaseModel):
    base_version: Version
    comment: str | None = Field(default=None, max_length=2000, pattern=TEXT_PATTERN)


class ReturnBody(BaseModel):
    base_version: Version
    comment: str = Field(min_length=1, max_length=2000, pattern=TEXT_PATTERN)


class CommentBody(BaseModel):
    body: str = Field(min_length=1, max_length=5000, pattern=TEXT_PATTERN)
    metric_id: MetricIdText | None = None


def _unit_options(metric: Metric, lang: str, current: str | None) -> list[dict[str, str]]:
    """The units a value may be typed in: the metric's (shown with its label in the page's
    language), the convertible alternatives the template offers, and the stored one."""
    labels = {metric.unit_label, metric.unit_label_zh, metric.unit}
    options = [{"unit": metric.unit, "label": metric.label(lang)}]
    options += [{"unit": u, "label": u} for u in allowed_units(metric, "en") if u not in labels]
    if current and all(o["unit"] != current for o in options):
        options.append({"unit": current, "label": current})
    return options


def _request_view(engine: Engine, who: Principal, request_id: int, lang: str) -> dict[str, Any]:
    """The library's request detail with the unit options of each metric."""
    req = collection.request_detail(engine, who, request_id)
    catalogue = load_catalogue()
    for item in req["items"]:
        value = item["value"]
        item["units"] = _unit_options(
            catalogue.get(item["metric_id"]), lang, value["unit"] if value else None
        )
    return req


def _request_state(engine: Engine, who: Principal, request_id: int) -> dict[str, Any]:
    req = collection.request_detail(engine, who, request_id)
    return {"request_id": request_id, "status": req["status"], "version": req["version"]}


# -- the request page -----------------------------------------------------------------------


def _request_page(
    request: Request,
    caller: Caller,
    request_id: int,
    status_code: int = 200,
    **context: Any,
) -> Response:
    lang = lang_of(request, caller)
    req = _request_view(engine_of(request), caller.who, request_id, lang)
    context.setdefault("typed", {})
    context.setdefault("row_errors", {})
    return page(request, caller, "request.html", status_code, req=req, **context)


def _request_action(
    request: Request,
    caller: Caller,
    request_id: int,
    action: Callable[[Engine, Principal], object],
    done: str,
) -> Response:
    """Run a change of a request; a refusal (stale version, wrong state, invalid input) is
    shown on the request page with its status."""
    try:
        action(engine_of(request), caller.who)
    except (Conflict, Invalid) as exc:
        return _request_page(request, caller, request_id, exc.status, error=str(exc))
    return see_other(f"/requests/{request_id}", done)


@router.get("/requests/{request_id}", include_in_schema=False)
def request_page(request: Request, request_id: RequestId, caller: Viewer) -> Response:
    return _request_page(request, caller, request_id)


@router.get("/api/requests/{request_id}", tags=["collection"])
def api_request(
    request: Request, request_id: RequestId, caller: Viewer, lang: Lang = None
) -> dict[str, Any]:
    """A request: its metrics with their values (each with its version), unit options,
    comments, evidence list and what the caller may do (``can_edit``, ``can_review``)."""
    return _request_view(
        engine_of(request), caller.who, request_id, lang or lang_of(request, caller)
    )


# -- values: one row (htmx / JSON) or the whole form ----------------------------------------


def _row_fields(form: FormData | Mapping[str, Any], metric_id: str) -> dict[str, str]:
    def field(prefix: str) -> str:
        value = form.get(f"{prefix}.{metric_id}")
        return value if isinstance(value, str) else ""

    return {"value_text": field("v"), "unit": field("u"), "note": field("n"), "base": field("b")}


#: Longest text a value row takes (as the JSON API's ``ValueBody``).
ROW_LIMITS = {"value_text": 100, "unit": 50, "note": 2000, "base": 12}


def _check_row(metric_id: str, fields: Mapping[str, str]) -> None:
    for key, limit in ROW_LIMITS.items():
        if len(fields[key]) > limit or "\x00" in fields[key]:
            raise Invalid(f"{metric_id}: the {key} is longer than {limit} characters")


def _save_row(
    request: Request, caller: Caller, request_id: int, metric_id: str, fields: dict[str, str]
) -> Response:
    """Save one row typed in the page and render it again (htmx swaps it in)."""
    engine, lang = engine_of(request), lang_of(request, caller)
    error, status = None, 200
    try:
        _check_row(metric_id, fields)
        collection.set_value(
            engine,
            caller.who,
            request_id,
            metric_id,
            fields["value_text"],
            fields["unit"],
            base_version=whole_number(fields["base"], "base version"),
            note=fields["note"],
        )
    except (Conflict, Invalid) as exc:
        error, status = str(exc), exc.status
    req = _request_view(engine, caller.who, request_id, lang)
    item = next((i for i in req["items"] if i["metric_id"] == metric_id), None)
    if item is None:
        raise NotFound(f"metric {metric_id} is not asked for in request {request_id}")
    return render(
        request,
        "_value_row.html",
        status,
        caller=caller,
        req=req,
        item=item,
        row_typed=fields if error else None,
        row_error=error,
        saved=error is None,
        oob=True,
    )


@router.put("/requests/{request_id}/values/{metric_id}", include_in_schema=False)
async def save_row_form(
    request: Request, request_id: RequestId, metric_id: MetricPath, caller: Editor
) -> Response:
    form = await request.form()
    fields = _row_fields(form, metric_id)
    return await run_in_threadpool(_save_row, request, caller, request_id, metric_id, fields)


@router.put("/api/requests/{request_id}/values/{metric_id}", tags=["collection"])
def api_set_value(
    request: Request,
    request_id: RequestId,
    metric_id: MetricPath,
    body: ValueBody,
    caller: Editor,
) -> dict[str, int]:
    """Enter or change one value. ``base_version`` is the value's version the caller saw (0
    for a value not entered yet); a stale one is refused with 409 and ``current_version``."""
    engine = engine_of(request)
    version = collection.set_value(
        engine,
        caller.who,
        request_id,
        metric_id,
        body.value_text,
        body.unit,
        base_version=body.base_version,
        note=body.note,
    )
    state = _request_state(engine, caller.who, request_id)
    return {"version": version, "request_version": int(state["version"])}


def _changes(
    req: Mapping[str, Any], form: FormData
) -> tuple[list[tuple[str, dict[str, str], int]], dict[str, str], int]:
    """The rows of the whole-form fallback that differ from what is stored, the problems of
    each row (not a number, stale version) and the status they call for."""
    catalogue = load_catalogue()
    changed: list[tuple[str, dict[str, str], int]] = []
    problems: dict[str, str] = {}
    status = 422
    for item in req["items"]:
        metric_id = item["metric_id"]
        if f"v.{metric_id}" not in form:
            continue
        fields = _row_fields(form, metric_id)
        metric, current = catalogue.get(metric_id), item["value"]
        text, unit = fields["value_text"].strip(), fields["unit"].strip() or metric.unit
        note = fields["note"].strip() or None
        if current is not None and (current["value_text"], current["unit"], current["note"]) == (
            text,
            unit,
            note,
        ):
            continue
        if current is None and not text and not note:
            continue
        try:
            _check_row(metric_id, fields)
            base = whole_number(fields["base"], "base version")
            if text:
                collection.parse_value(text, unit, metric)
        except Invalid as exc:
            problems[metric_id] = str(exc)
            continue
        have = 0 if current is None else int(current["version"])
        if base != have:
            who = current["updated_by"] if current else "someone"
            problems[metric_id] = (
                f"{metric_id} was changed by {who} (version {have}, you edited version "
                f"{base}): reload and re-enter"
            )
            status = 409
            continue
        changed.append((metric_id, fields, base))
    return changed, problems, status


def _save_all(request: Request, caller: Caller, request_id: int, form: FormData) -> Response:
    """The plain-form fallback: every changed row checked first (number, unit, version) to
    show each row's problem, then all saved in one transaction; any problem and nothing is
    written."""
    engine, who = engine_of(request), caller.who
    req = collection.request_detail(engine, who, request_id)
    changed, problems, status = _changes(req, form)
    typed = {item["metric_id"]: _row_fields(form, item["metric_id"]) for item in req["items"]}
    if problems:
        message = translate(lang_of(request, caller), "rows_not_saved")
        return _request_page(
            request, caller, request_id, status, error=message, row_errors=problems, typed=typed
        )
    edits = [
        collection.ValueEdit(m, f["value_text"], f["unit"], base, f["note"])
        for m, f, base in changed
    ]
    try:
        collection.set_values(engine, who, request_id, edits)  # one transaction
    except (Conflict, Invalid) as exc:  # changed by someone between the check and the write
        return _request_page(request, caller, request_id, exc.status, error=str(exc))
    return see_other(f"/requests/{request_id}", "values_saved")


@router.post("/requests/{request_id}/values", include_in_schema=False)
async def save_values_form(request: Request, request_id: RequestId, caller: Editor) -> Response:
    form = await request.form()
    return await run_in_threadpool(_save_all, request, caller, request_id, form)


# -- transitions and comments ---------------------------------------------------------------


@router.post("/requests/{request_id}/submit", include_in_schema=False)
def submit_form(
    request: Request,
    request_id: RequestId,
    caller: Editor,
    base_version: Annotated[int, Form(ge=0, le=MAX_ID)],
) -> Response:
    def action(engine: Engine, who: Principal) -> None:
        collection.submit(engine, who, request_id, base_version=base_version)

    return _request_action(request, caller, request_id, action, "request_submitted")


@router.post("/api/requests/{request_id}/submit", tags=["collection"])
def api_submit(
    request: Request, request_id: RequestId, body: VersionBody, caller: Editor
) -> dict[str, Any]:
    """Hand the request to the reviewers (every metric needs a value or a note)."""
    engine = engine_of(request)
    collection.submit(engine, caller.who, request_id, base_version=body.base_version)
    return _request_state(engine, caller.who, request_id)


@router.post("/requests/{request_id}/approve", include_in_schema=False)
def approve_form(
    request: Request,
    request_id: RequestId,
    caller: Reviewer,
    base_version: Annotated[int, Form(ge=0, le=MAX_ID)],
    comment: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    def action(engine: Engine, who: Principal) -> None:
        collection.approve(engine, who, request_id, base_version=base_version, comment=comment)

    return _request_action(request, caller, request_id, action, "request_approved")


@router.post("/api/requests/{request_id}/approve", tags=["collection"])
def api_approve(
    request: Request, request_id: RequestId, body: ApproveBody, caller: Reviewer
) -> dict[str, Any]:
    """Accept a submitted request: its values are posted to the ledger as one batch."""
    engine = engine_of(request)
    batch_id = collection.approve(
        engine, caller.who, request_id, base_version=body.base_version, comment=body.comment
    )
    return {**_request_state(engine, caller.who, request_id), "batch_id": batch_id}


@router.post("/requests/{request_id}/return", include_in_schema=False)
def return_form(
    request: Request,
    request_id: RequestId,
    caller: Reviewer,
    base_version: Annotated[int, Form(ge=0, le=MAX_ID)],
    comment: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    def action(engine: Engine, who: Principal) -> None:
        collection.return_request(engine, who, request_id, comment, base_version=base_version)

    return _request_action(request, caller, request_id, action, "request_returned")


@router.post("/api/requests/{request_id}/return", tags=["collection"])
def api_return(
    request: Request, request_id: RequestId, body: ReturnBody, caller: Reviewer
) -> dict[str, Any]:
    """Send a submitted request back to its owner, saying what needs fixing."""
    engine = engine_of(request)
    collection.return_request(
        engine, caller.who, request_id, body.comment, base_version=body.base_version
    )
    return _request_state(engine, caller.who, request_id)


@router.post("/requests/{request_id}/comments", include_in_schema=False)
def comment_form(
    request: Request,
    request_id: RequestId,
    caller: Commenter,
    body: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    def action(engine: Engine, who: Principal) -> None:
        collection.add_comment(engine, who, request_id, body)

    return _request_action(request, caller, request_id, action, "comment_added")


@router.post("/api/requests/{request_id}/comments", tags=["collection"], status_code=201)
def api_comment(
    request: Request, request_id: RequestId, body: CommentBody, caller: Commenter
) -> dict[str, int]:
    comment_id = collection.add_comment(
        engine_of(request), caller.who, request_id, body.body, body.metric_id
    )
    return {"comment_id": comment_id}


# -- evidence -------------------------------------------------------------------------------


def _read_upload(upload: UploadFile, limit: int) -> tuple[bytes, int]:
    """At most ``limit + 1`` bytes of an uploaded file, and its size."""
    data = upload.file.read(limit + 1)
    size = upload.size if upload.size is not None else len(data)
    return data, max(size, len(data))


def _add_evidence(engine: Engine, who: Principal, request_id: int, upload: UploadFile) -> int:
    name = upload.filename or "evidence"
    data, size = _read_upload(upload, EVIDENCE_MAX_BYTES)
    if size > EVIDENCE_MAX_BYTES:
        raise Invalid(f"{name}: {size:,} bytes is over the {EVIDENCE_MAX_BYTES:,}-byte limit")
    return add_evidence(engine, who, request_id, name, data)


EVIDENCE_BODY_MAX = EVIDENCE_MAX_BYTES + MULTIPART_ALLOWANCE


@router.post(
    "/requests/{request_id}/evidence",
    include_in_schema=False,
    max_body_size=EVIDENCE_BODY_MAX,
)
def evidence_form(
    request: Request,
    request_id: RequestId,
    caller: Editor,
    file: Annotated[UploadFile, File()],
) -> Response:
    def action(engine: Engine, who: Principal) -> None:
        _add_evidence(engine, who, request_id, file)

    return _request_action(request, caller, request_id, action, "evidence_added")


@router.post(
    "/api/requests/{request_id}/evidence",
    tags=["collection"],
    status_code=201,
    max_body_size=EVIDENCE_BODY_MAX,
)
def api_evidence(
    request: Request,
    request_id: RequestId,
    caller: Editor,
    file: Annotated[UploadFile, File(description="PDF, PNG, JPEG, XLSX, DOCX, CSV or TXT")],
) -> dict[str, int]:
    """Attach a file to a request (type checked by extension and content, 10 MB at most)."""
    return {"evidence_id": _add_evidence(engine_of(request), caller.who, request_id, file)}


@router.get("/api/evidence/{evidence_id}", tags=["collection"])
def api_evidence_file(request: Request, evidence_id: EvidenceId, caller: Viewer) -> Response:
    """Download an evidence file (as an attachment, never rendered by the browser); the
    download is recorded in the audit log."""
    engine = engine_of(request)
    found = get_evidence(engine, caller.who, evidence_id)
    content = bytes(found["content"])
    record_export(
        engine,
        caller.who,
        "evidence",
        evidence_id,
        content,
        fmt=str(found["file_name"]).rsplit(".", 1)[-1].lower(),
        entity_id=str(found["entity_id"]),
        request_id=int(found["request_id"]),
        file=str(found["file_name"]),
    )
    return attachment(content, str(found["content_type"]), found["file_name"])


# -- the XLSX template ----------------------------------------------------------------------


def _sheet(req: Mapping[str, Any], lang: str) -> RequestSheet:
    values: dict[str, tuple[float | None, str, str | None]] = {
        i["metric_id"]: (i["value"]["value"], i["value"]["unit"], i["value"]["note"])
        for i in req["items"]
        if i["value"] is not None
    }
    name = req["entity_name_zh"] if lang == "zh" and req["entity_name_zh"] else req["entity_name"]
    return RequestSheet(
        request_id=int(req["request_id"]),
        entity_id=str(req["entity_id"]),
        entity_name=str(name),
        year=int(req["year"]),
        due_date=req["due_date"],
        metric_ids=tuple(i["metric_id"] for i in req["items"]),
        values=values,
    )


@router.get("/api/requests/{request_id}/template.xlsx", tags=["collection"])
def api_template(
    request: Request, request_id: RequestId, caller: Viewer, lang: Lang = None
) -> Response:
    """The request's XLSX template (prefilled with the values entered so far); the download is
    recorded in the audit log."""
    chosen, engine = lang or lang_of(request, caller), engine_of(request)
    req = collection.request_detail(engine, caller.who, request_id)
    try:
        sheet = _sheet(req, chosen)
        content = request_template(sheet, chosen)
    except ValueError as exc:
        raise Invalid(str(exc)) from exc
    name = f"request-{request_id}-{req['entity_id']}-{req['year']}-{chosen}.xlsx"
    record_export(
        engine,
        caller.who,
        "request_template",
        request_id,
        content,
        fmt="xlsx",
        rows=len(sheet.metric_ids),
        entity_id=str(req["entity_id"]),
        year=int(req["year"]),
        lang=chosen,
    )
    return attachment(content, XLSX_TYPE, name)


class UploadRefusedError(Exception):
    """An upload with errors: every located diagnostic, nothing written."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        super().__init__(f"{sum(d.severity is Severity.ERROR for d in diagnostics)} error(s)")
        self.diagnostics = diagnostics


def _upload(
    engine: Engine, who: Principal, request_id: int, upload: UploadFile, base_version: int
) -> tuple[int, int, list[Diagnostic]]:
    """Read a filled template and enter its values, all or nothing: (request version,
    values entered, warnings)."""
    name = (upload.filename or "upload.xlsx").replace("\\", "/").rsplit("/", 1)[-1]
    data, size = _read_upload(upload, UPLOAD_MAX_BYTES)
    if size > UPLOAD_MAX_BYTES:
        raise UploadRefusedError(
            [
                Diagnostic(
                    "upload.too_large",
                    f"the file has {size:,} bytes, over the limit of {UPLOAD_MAX_BYTES:,}: "
                    "expected the request's XLSX template (one row per metric)",
                    file=name,
                )
            ]
        )
    req = collection.request_detail(engine, who, request_id)
    values, diagnostics = read_request_upload(
        data, name, _sheet(req, "en"), max_bytes=UPLOAD_MAX_BYTES
    )
    if not has_errors(diagnostics) and not values:
        diagnostics.append(
            Diagnostic(
                "upload.no_values",
                "no value in the file: expected a number in column 'value' of at least one "
                "metric row",
                file=f"{name}[{REQUEST_SHEET}]",
                column="value",
            )
        )
    if has_errors(diagnostics):
        raise UploadRefusedError(diagnostics)
    version = collection.apply_upload(engine, who, request_id, values, base_version=base_version)
    return version, len(values), diagnostics


UPLOAD_BODY_MAX = UPLOAD_MAX_BYTES + MULTIPART_ALLOWANCE


@router.post(
    "/requests/{request_id}/upload", include_in_schema=False, max_body_size=UPLOAD_BODY_MAX
)
def upload_form(
    request: Request,
    request_id: RequestId,
    caller: Editor,
    file: Annotated[UploadFile, File()],
    base_version: Annotated[int, Form(ge=0, le=MAX_ID)],
) -> Response:
    try:
        _, _, warnings = _upload(engine_of(request), caller.who, request_id, file, base_version)
    except UploadRefusedError as exc:
        message = translate(lang_of(request, caller), "upload_refused")
        return _request_page(
            request, caller, request_id, 422, error=message, diagnostics=exc.diagnostics
        )
    except (Conflict, Invalid) as exc:
        return _request_page(request, caller, request_id, exc.status, error=str(exc))
    if warnings:
        flash = translate(lang_of(request, caller), "upload_saved")
        return _request_page(request, caller, request_id, flash=flash, diagnostics=warnings)
    return see_other(f"/requests/{request_id}", "upload_saved")


@router.post(
    "/api/requests/{request_id}/upload",
    tags=["collection"],
    max_body_size=UPLOAD_BODY_MAX,
    responses={422: {"description": "the file has errors: every located diagnostic"}},
)
def api_upload(
    request: Request,
    request_id: RequestId,
    caller: Editor,
    file: Annotated[UploadFile, File(description="the request's filled XLSX template")],
    base_version: Annotated[int, Form(ge=0, le=MAX_ID)],
) -> Response:
    """Enter the values of a filled template, all or nothing (5 MB at most): on any error,
    422 with every located diagnostic and nothing written."""
    try:
        version, count, warnings = _upload(
            engine_of(request), caller.who, request_id, file, base_version
        )
    except UploadRefusedError as exc:
        return JSONResponse(
            {
                "detail": f"the upload has {exc}; nothing was saved",
                "diagnostics": [d.to_dict() for d in exc.diagnostics],
            },
            status_code=422,
        )
    return JSONResponse(
        {
            "version": version,
            "values": count,
            "diagnostics": [d.to_dict() for d in warnings],
        }
    )
