"""Campaign pages and their JSON twins: the list of campaigns with the overdue reminders,
a new campaign (one draft request per entity, assignees checked), a campaign's detail with
its completeness, and the export of its visible requests' values as CSV or XLSX (recorded in
the audit log by :mod:`esgledger.usecases.exports`). Every route is a thin layer over
:mod:`esgledger.workflow.collection`, which checks the caller's permission and entity scope
itself and writes the audit log.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from esgledger.auth.accounts import Principal
from esgledger.auth.roles import Permission
from esgledger.metrics.catalogue import Metric, Pillar, load_catalogue
from esgledger.store.accounts import known_user_ids
from esgledger.store.engine import LedgerEngine as Engine
from esgledger.usecases.exports import record_export
from esgledger.web.routes.common import (
    MAX_ID,
    TEXT_PATTERN,
    XLSX_TYPE,
    EntityIdText,
    Lang,
    MetricIdText,
    Viewer,
    attachment,
    engine_of,
    lang_of,
    page,
    scoped_entities,
    see_other,
    whole_number,
)
from esgledger.web.security import Caller, need
from esgledger.workflow import collection, export
from esgledger.workflow.errors import Conflict, Invalid, NotFound

router = APIRouter()

Manager = Annotated[Caller, Depends(need(Permission.MANAGE_CAMPAIGNS))]
Exporter = Annotated[Caller, Depends(need(Permission.EXPORT))]

CampaignId = Annotated[int, Path(ge=1, le=MAX_ID)]
PILLARS = (Pillar.E, Pillar.S, Pillar.G)


class CampaignBody(BaseModel):
    name: str = Field(min_length=1, max_length=200, pattern=TEXT_PATTERN)
    year: int = Field(ge=1901, le=2199)
    due_date: date
    metric_ids: list[MetricIdText] = Field(min_length=1, max_length=200)
    entity_ids: list[EntityIdText] = Field(min_length=1, max_length=500)
    assignees: dict[EntityIdText, Annotated[int, Field(ge=1, le=MAX_ID)]] | None = None
    instructions: str | None = Field(default=None, max_length=5000, pattern=TEXT_PATTERN)


def _metric_json(metric: Metric) -> dict[str, Any]:
    return {
        "metric_id": metric.metric_id,
        "pillar": metric.pillar.value,
        "name_en": metric.name_en,
        "name_zh": metric.name_zh,
        "unit": metric.unit,
        "unit_label": metric.unit_label,
        "unit_label_zh": metric.unit_label_zh,
    }


def _metric_groups(metrics: Sequence[Metric]) -> list[tuple[str, list[Metric]]]:
    """Metrics grouped by pillar (E, S, G), catalogue order kept within each."""
    return [(p.value, [m for m in metrics if m.pillar == p]) for p in PILLARS]


def _campaigns(engine: Engine, who: Principal) -> dict[str, Any]:
    data: dict[str, Any] = {
        "campaigns": collection.list_campaigns(engine, who),
        "overdue": collection.overdue(engine, who),
    }
    if who.can(Permission.MANAGE_CAMPAIGNS):
        data["entities"] = scoped_entities(engine, who)
        data["metrics"] = [_metric_json(m) for m in collection.collectable_metrics()]
    return data


def _campaigns_page(
    request: Request, caller: Caller, status_code: int = 200, **context: Any
) -> Response:
    data = _campaigns(engine_of(request), caller.who)
    return page(
        request,
        caller,
        "campaigns.html",
        status_code,
        groups=_metric_groups(collection.collectable_metrics()),
        **data,
        **context,
    )


def _check_assignees(engine: Engine, body: CampaignBody) -> None:
    assignees = body.assignees or {}
    stray = sorted(set(assignees) - set(body.entity_ids))
    if stray:
        raise Invalid(f"assignees name entities not in the campaign: {', '.join(stray)}")
    wanted = set(assignees.values())
    known = known_user_ids(engine, wanted)
    unknown = sorted(wanted - known)
    if unknown:
        raise Invalid(f"unknown assignee user ids: {', '.join(map(str, unknown))}")


def _create_campaign(engine: Engine, who: Principal, body: CampaignBody) -> int:
    _check_assignees(engine, body)
    return collection.create_campaign(
        engine,
        who,
        body.name,
        body.year,
        body.due_date,
        body.metric_ids,
        body.entity_ids,
        assignees=body.assignees,
        instructions=body.instructions,
    )


@router.get("/campaigns", include_in_schema=False)
def campaigns_page(request: Request, caller: Viewer) -> Response:
    return _campaigns_page(request, caller)


@router.get("/api/campaigns", tags=["collection"])
def api_campaigns(request: Request, caller: Viewer) -> dict[str, Any]:
    """Campaigns with the caller's visible requests counted by status, the overdue reminders,
    and (for campaign managers) the metrics and entities a new campaign may name."""
    return _campaigns(engine_of(request), caller.who)


@router.post("/campaigns", include_in_schema=False)
def create_campaign_form(
    request: Request,
    caller: Manager,
    name: Annotated[str, Form(max_length=200)] = "",
    year: Annotated[str, Form(max_length=10)] = "",
    due_date: Annotated[str, Form(max_length=20)] = "",
    metric_ids: Annotated[list[str] | None, Form()] = None,
    entity_ids: Annotated[list[str] | None, Form()] = None,
    instructions: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    try:
        try:
            due = date.fromisoformat(due_date.strip())
        except ValueError as exc:
            raise Invalid(f"due date {due_date!r} is not a date (YYYY-MM-DD)") from exc
        body = CampaignBody.model_construct(
            name=name,
            year=whole_number(year, "year"),
            due_date=due,
            metric_ids=metric_ids or [],
            entity_ids=entity_ids or [],
            assignees=None,
            instructions=instructions.strip() or None,
        )
        campaign_id = _create_campaign(engine_of(request), caller.who, body)
    except (Invalid, NotFound, Conflict) as exc:
        return _campaigns_page(request, caller, exc.status, error=str(exc))
    return see_other(f"/campaigns/{campaign_id}", "campaign_created")


@router.post("/api/campaigns", tags=["collection"], status_code=201)
def api_create_campaign(request: Request, body: CampaignBody, caller: Manager) -> dict[str, int]:
    """Create a campaign and one draft request per entity (entities in the caller's scope,
    metrics collectable catalogue inputs)."""
    return {"campaign_id": _create_campaign(engine_of(request), caller.who, body)}


@router.get("/campaigns/{campaign_id}", include_in_schema=False)
def campaign_page(request: Request, campaign_id: CampaignId, caller: Viewer) -> Response:
    detail = collection.campaign_detail(engine_of(request), caller.who, campaign_id)
    catalogue = load_catalogue()
    metrics = [catalogue.get(m) for m in detail["metrics"]]
    return page(request, caller, "campaign.html", campaign=detail, metrics=metrics)


@router.get("/api/campaigns/{campaign_id}", tags=["collection"])
def api_campaign(request: Request, campaign_id: CampaignId, caller: Viewer) -> dict[str, Any]:
    """A campaign, its metrics and the caller's visible requests (filled count, overdue flag)
    with the share approved (``completeness``)."""
    return collection.campaign_detail(engine_of(request), caller.who, campaign_id)


EXPORT_COLUMNS = (
    "campaign_id",
    "campaign",
    "year",
    "request_id",
    "entity_id",
    "entity_name",
    "status",
    "metric_id",
    "metric_name",
    "value",
    "value_text",
    "unit",
    "note",
    "version",
    "updated_by",
    "updated_at",
)


def _export_rows(
    engine: Engine, who: Principal, campaign_id: int, lang: str
) -> list[dict[str, object]]:
    """The values of the caller's visible requests of a campaign, one row per metric."""
    detail = collection.campaign_detail(engine, who, campaign_id)
    rows: list[dict[str, object]] = []
    for summary in detail["requests"]:
        req = collection.request_detail(engine, who, int(summary["request_id"]))
        entity = req["entity_name_zh"] if lang == "zh" and req["entity_name_zh"] else None
        for item in req["items"]:
            value = item["value"] or {}
            rows.append(
                {
                    "campaign_id": campaign_id,
                    "campaign": detail["name"],
                    "year": detail["year"],
                    "request_id": req["request_id"],
                    "entity_id": req["entity_id"],
                    "entity_name": entity or req["entity_name"],
                    "status": req["status"],
                    "metric_id": item["metric_id"],
                    "metric_name": item["name_zh"] if lang == "zh" else item["name_en"],
                    "value": value.get("value"),
                    "value_text": value.get("value_text"),
                    "unit": value.get("unit"),
                    "note": value.get("note"),
                    "version": value.get("version"),
                    "updated_by": value.get("updated_by"),
                    "updated_at": value.get("updated_at"),
                }
            )
    return rows


def _export(
    request: Request, caller: Caller, campaign_id: int, lang: str | None, fmt: str
) -> Response:
    """The visible requests' values in ``fmt`` (csv or xlsx), recorded in the audit log."""
    engine, chosen = engine_of(request), lang or lang_of(request, caller)
    rows = _export_rows(engine, caller.who, campaign_id, chosen)
    if fmt == "csv":
        content = export.write_csv(rows, EXPORT_COLUMNS)
        media_type = "text/csv; charset=utf-8"
    else:
        content = export.write_xlsx({"values": (EXPORT_COLUMNS, rows)})
        media_type = XLSX_TYPE
    entities = sorted({str(r["entity_id"]) for r in rows})
    record_export(
        engine,
        caller.who,
        "campaign",
        campaign_id,
        content,
        fmt=fmt,
        rows=len(rows),
        lang=chosen,
        entities=entities,
    )
    return attachment(content, media_type, f"campaign-{campaign_id}.{fmt}")


@router.get("/api/campaigns/{campaign_id}/export.csv", tags=["collection"])
def api_export_csv(
    request: Request, campaign_id: CampaignId, caller: Exporter, lang: Lang = None
) -> Response:
    """The visible requests' values as CSV (UTF-8 with BOM; text that a spreadsheet would run
    as a formula is quoted). The download is recorded in the audit log."""
    return _export(request, caller, campaign_id, lang, "csv")


@router.get("/api/campaigns/{campaign_id}/export.xlsx", tags=["collection"])
def api_export_xlsx(
    request: Request, campaign_id: CampaignId, caller: Exporter, lang: Lang = None
) -> Response:
    """The visible requests' values as XLSX (no cell is ever a formula). The download is
    recorded in the audit log."""
    return _export(request, caller, campaign_id, lang, "xlsx")
