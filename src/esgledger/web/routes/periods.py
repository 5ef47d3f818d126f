"""Period pages and their JSON twins: the reporting years with their locks and request
counts, locking a year (refused while requests are not approved, unless forced), and the
adjustments of a locked year's figures (proposed with a reason, approved or rejected by
someone other than the proposer). Every route is a thin layer over
:mod:`esgledger.workflow.periods`, which checks the caller's permission and entity scope
itself and writes the audit log.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from esgledger.auth.accounts import Principal
from esgledger.auth.roles import Permission
from esgledger.metrics.catalogue import Aggregation, Metric, load_catalogue
from esgledger.store.engine import LedgerEngine as Engine
from esgledger.web.routes.common import (
    ID_PATTERN,
    MAX_ID,
    TEXT_PATTERN,
    EntityIdText,
    MetricIdText,
    Viewer,
    engine_of,
    page,
    scoped_entities,
    see_other,
    whole_number,
)
from esgledger.web.security import Caller, need
from esgledger.workflow import collection, periods
from esgledger.workflow.errors import Conflict, Forbidden, Invalid, WorkflowError

router = APIRouter()

Locker = Annotated[Caller, Depends(need(Permission.LOCK))]
Proposer = Annotated[Caller, Depends(need(Permission.PROPOSE_ADJUSTMENT))]
Decider = Annotated[Caller, Depends(need(Permission.DECIDE_ADJUSTMENT))]

AdjustmentId = Annotated[int, Path(ge=1, le=MAX_ID)]
YearPath = Annotated[int, Path(ge=1901, le=2199)]


class LockBody(BaseModel):
    note: str | None = Field(default=None, max_length=2000, pattern=TEXT_PATTERN)
    force: bool = False


class AdjustmentBody(BaseModel):
    entity_id: EntityIdText
    year: int = Field(ge=1901, le=2199)
    metric_id: MetricIdText
    value_text: str = Field(min_length=1, max_length=100, pattern=TEXT_PATTERN)
    unit: str = Field(default="", max_length=50, pattern=TEXT_PATTERN)
    reason: str = Field(min_length=1, max_length=2000, pattern=TEXT_PATTERN)


class DecisionBody(BaseModel):
    note: str | None = Field(default=None, max_length=2000, pattern=TEXT_PATTERN)


# -- periods --------------------------------------------------------------------------------


def _periods_page(
    request: Request, caller: Caller, status_code: int = 200, **context: Any
) -> Response:
    found = periods.periods(engine_of(request), caller.who)
    return page(request, caller, "periods.html", status_code, periods=found, **context)


@router.get("/periods", include_in_schema=False)
def periods_page(request: Request, caller: Viewer) -> Response:
    return _periods_page(request, caller)


@router.get("/api/periods", tags=["periods"])
def api_periods(request: Request, caller: Viewer) -> list[dict[str, Any]]:
    """Years with campaigns or locks: the lock (who, when, note) and the caller's visible
    requests counted by status."""
    return periods.periods(engine_of(request), caller.who)


@router.post("/periods/{year}/lock", include_in_schema=False)
def lock_form(
    request: Request,
    year: YearPath,
    caller: Locker,
    note: Annotated[str, Form(max_length=2000)] = "",
    force: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    try:
        periods.lock_period(
            engine_of(request), caller.who, year, note=note.strip() or None, force=bool(force)
        )
    except (Conflict, Invalid) as exc:
        return _periods_page(request, caller, exc.status, error=str(exc), error_year=year)
    return see_other("/periods", "period_locked")


@router.post("/api/periods/{year}/lock", tags=["periods"])
def api_lock(request: Request, year: YearPath, body: LockBody, caller: Locker) -> dict[str, int]:
    """Lock a reporting year (refused while requests are not approved, unless ``force``)."""
    count = periods.lock_period(
        engine_of(request), caller.who, year, note=body.note, force=body.force
    )
    return {"year": year, "locked_requests": count}


# -- adjustments ----------------------------------------------------------------------------


def _adjustable() -> list[Metric]:
    return [m for m in collection.collectable_metrics() if m.aggregation == Aggregation.SUM]


def _adjustments_page(
    request: Request, caller: Caller, status_code: int = 200, **context: Any
) -> Response:
    engine, who = engine_of(request), caller.who
    found = periods.adjustments(engine, who)
    catalogue = load_catalogue()
    names = {a["metric_id"]: catalogue.get(a["metric_id"]) for a in found}
    locked = [p["year"] for p in periods.periods(engine, who) if p["lock"]]
    return page(
        request,
        caller,
        "adjustments.html",
        status_code,
        adjustments=found,
        metric_of=names,
        entities=scoped_entities(engine, who),
        metrics=_adjustable(),
        locked_years=locked,
        **context,
    )


@router.get("/adjustments", include_in_schema=False)
def adjustments_page(request: Request, caller: Viewer) -> Response:
    return _adjustments_page(request, caller)


@router.get("/api/adjustments", tags=["adjustments"])
def api_adjustments(
    request: Request,
    caller: Viewer,
    year: Annotated[int | None, Query(ge=1901, le=2199)] = None,
    entity_id: Annotated[str | None, Query(max_length=64, pattern=ID_PATTERN)] = None,
) -> list[dict[str, Any]]:
    """Adjustments of the caller's entities, newest first."""
    return periods.adjustments(engine_of(request), caller.who, year=year, entity_id=entity_id)


def _propose(engine: Engine, who: Principal, body: AdjustmentBody) -> int:
    return periods.propose_adjustment(
        engine,
        who,
        body.entity_id,
        body.year,
        body.metric_id,
        body.value_text,
        body.unit,
        body.reason,
    )


@router.post("/adjustments", include_in_schema=False)
def propose_form(
    request: Request,
    caller: Proposer,
    entity_id: Annotated[str, Form(max_length=64)] = "",
    year: Annotated[str, Form(max_length=10)] = "",
    metric_id: Annotated[str, Form(max_length=100)] = "",
    value_text: Annotated[str, Form(max_length=100)] = "",
    unit: Annotated[str, Form(max_length=50)] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    try:
        body = AdjustmentBody.model_construct(
            entity_id=entity_id,
            year=whole_number(year, "year"),
            metric_id=metric_id,
            value_text=value_text,
            unit=unit,
            reason=reason,
        )
        _propose(engine_of(request), caller.who, body)
    except WorkflowError as exc:
        return _adjustments_page(request, caller, exc.status, error=str(exc))
    return see_other("/adjustments", "adjustment_proposed")


@router.post("/api/adjustments", tags=["adjustments"], status_code=201)
def api_propose(request: Request, body: AdjustmentBody, caller: Proposer) -> dict[str, int]:
    """Propose a new value for a figure of a locked year, with the reason."""
    return {"adjustment_id": _propose(engine_of(request), caller.who, body)}


def _decide_form(
    request: Request, caller: Caller, adjustment_id: int, approve: bool, note: str
) -> Response:
    try:
        periods.decide_adjustment(
            engine_of(request), caller.who, adjustment_id, approve, note.strip() or None
        )
    except (Conflict, Invalid, Forbidden) as exc:  # Forbidden: the proposer deciding
        return _adjustments_page(request, caller, exc.status, error=str(exc))
    return see_other("/adjustments", "adjustment_approved" if approve else "adjustment_rejected")


@router.post("/adjustments/{adjustment_id}/approve", include_in_schema=False)
def approve_adjustment_form(
    request: Request,
    adjustment_id: AdjustmentId,
    caller: Decider,
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    return _decide_form(request, caller, adjustment_id, True, note)


@router.post("/adjustments/{adjustment_id}/reject", include_in_schema=False)
def reject_adjustment_form(
    request: Request,
    adjustment_id: AdjustmentId,
    caller: Decider,
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    return _decide_form(request, caller, adjustment_id, False, note)


@router.post("/api/adjustments/{adjustment_id}/approve", tags=["adjustments"])
def api_approve_adjustment(
    request: Request, adjustment_id: AdjustmentId, body: DecisionBody, caller: Decider
) -> dict[str, Any]:
    """Approve an adjustment (by someone other than its proposer): the difference is posted
    to the ledger as an ``adjustment`` record; returns its batch."""
    batch_id = periods.decide_adjustment(
        engine_of(request), caller.who, adjustment_id, True, body.note
    )
    return {"adjustment_id": adjustment_id, "status": "approved", "batch_id": batch_id}


@router.post("/api/adjustments/{adjustment_id}/reject", tags=["adjustments"])
def api_reject_adjustment(
    request: Request, adjustment_id: AdjustmentId, body: DecisionBody, caller: Decider
) -> dict[str, Any]:
    """Reject an adjustment (by someone other than its proposer)."""
    periods.decide_adjustment(engine_of(request), caller.who, adjustment_id, False, body.note)
    return {"adjustment_id": adjustment_id, "status": "rejected", "batch_id": None}
