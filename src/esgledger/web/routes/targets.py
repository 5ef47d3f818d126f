"""The company's targets on the web: the list (with their status in the latest year), the
targets file's upload (all or nothing, every problem located) and its download. A thin layer
over :mod:`esgledger.usecases.targets`, which checks that an import comes from a group-wide
editor, refuses a change of a locked year's targets and writes the audit log; targets are the
group's, so a caller who does not see every entity is refused here (403) before any read.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Request, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel

from esgledger.auth import access
from esgledger.auth.roles import Permission
from esgledger.checks.targets import NO_TARGETS
from esgledger.store import targets as stored
from esgledger.usecases.exports import record_export
from esgledger.usecases.targets import TargetImport, TargetsRejected, import_targets, ledger_targets
from esgledger.web.routes.common import Viewer, attachment, engine_of, page, see_other
from esgledger.web.security import Caller, need
from esgledger.web.security import book as request_book
from esgledger.workflow import export
from esgledger.workflow.errors import Invalid, WorkflowError

router = APIRouter()

Editor = Annotated[Caller, Depends(need(Permission.EDIT))]
MAX_BYTES = 1_000_000
"""A targets file is a few dozen rows: a megabyte is far beyond any."""
FLASHES = frozenset({"targets_imported"})


class TargetOut(BaseModel):
    target_id: str
    metric_id: str
    entity_id: str
    kind: str
    direction: str
    value: float | None
    unit: str
    start_year: int
    deadline_year: int
    milestone: str
    name_en: str
    name_zh: str
    source: str


class TargetsOut(BaseModel):
    targets: list[TargetOut]
    message: str | None
    """Why there are none (``None`` when there are)."""


class ImportOut(BaseModel):
    count: int
    added: list[str]
    changed: list[str]
    removed: list[str]
    audit_seq: int | None


def _group_wide(request: Request, caller: Caller) -> None:
    access.require_group_wide(engine_of(request), caller.who, "the targets")


def _listed(request: Request) -> TargetsOut:
    found, _ = ledger_targets(request_book(request))
    rows = [
        TargetOut(
            target_id=t.target_id,
            metric_id=t.metric_id,
            entity_id=t.entity_id,
            kind=str(t.kind),
            direction=t.direction,
            value=t.value,
            unit=t.unit,
            start_year=t.start_year,
            deadline_year=t.deadline_year,
            milestone=t.milestone,
            name_en=t.name_en,
            name_zh=t.name_zh,
            source=t.source,
        )
        for t in found
    ]
    return TargetsOut(targets=rows, message=None if rows else NO_TARGETS)


def _targets_page(
    request: Request, caller: Caller, status_code: int = 200, **context: Any
) -> Response:
    listed = _listed(request)
    return page(request, caller, "targets.html", status_code, FLASHES, listed=listed, **context)


@router.get("/targets", include_in_schema=False)
def targets_page(request: Request, caller: Viewer) -> Response:
    _group_wide(request, caller)
    return _targets_page(request, caller)


@router.get("/api/targets", tags=["targets"])
def api_targets(request: Request, caller: Viewer) -> TargetsOut:
    """The company's targets as entered in the ledger (none: ``message`` says how to enter
    them)."""
    _group_wide(request, caller)
    return _listed(request)


@router.get("/targets.csv", include_in_schema=False)
def targets_download(request: Request, caller: Viewer) -> Response:
    """The targets file as entered (cells a spreadsheet would read as a formula neutralised),
    recorded in the audit log as an export."""
    _group_wide(request, caller)
    rows = stored.target_rows(engine_of(request))
    content = export.write_csv(rows, list(stored.COLUMNS))
    record_export(
        engine_of(request), caller.who, "targets", "all", content, fmt="csv", rows=len(rows)
    )
    return attachment(content, "text/csv; charset=utf-8", "targets.csv")


def _import(request: Request, caller: Caller, upload: UploadFile) -> TargetImport:
    name = (upload.filename or "targets.csv").replace("\\", "/").rsplit("/", 1)[-1]
    content = upload.file.read(MAX_BYTES + 1)
    if len(content) > MAX_BYTES:
        raise Invalid(f"{name}: over {MAX_BYTES:,} bytes; a targets file is a few dozen rows")
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Invalid(f"{name}: not UTF-8 text ({exc.reason})") from exc
    return import_targets(engine_of(request), caller.who, text, name)


def _problems(exc: WorkflowError) -> list[str]:
    if isinstance(exc, TargetsRejected):
        return [str(d) for d in exc.diagnostics]
    return [str(exc)]


@router.post("/targets", include_in_schema=False)
def targets_upload_form(
    request: Request, caller: Editor, file: Annotated[UploadFile, File()]
) -> Response:
    _group_wide(request, caller)
    try:
        _import(request, caller, file)
    except WorkflowError as exc:
        return _targets_page(request, caller, exc.status, problems=_problems(exc))
    return see_other("/targets", "targets_imported")


@router.post("/api/targets", tags=["targets"])
def api_targets_upload(
    request: Request,
    caller: Editor,
    file: Annotated[UploadFile, File(description="the targets file (CSV, UTF-8)")],
) -> ImportOut:
    """Replace the ledger's targets with a targets file's, all or nothing: a rejected file is
    422 with every problem located (``file:row:column``) in ``detail``; nothing is stored. A
    change of a target in force in a locked year is 409."""
    _group_wide(request, caller)
    done = _import(request, caller, file)
    return ImportOut(
        count=done.count,
        added=list(done.added),
        changed=list(done.changed),
        removed=list(done.removed),
        audit_seq=done.seq,
    )
