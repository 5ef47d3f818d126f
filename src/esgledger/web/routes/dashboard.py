"""The carbon panorama (``/``) and the lineage of its figures (``/explain/{figure}``), with
their JSON twins under ``/api``.

The figures are assembled by :mod:`esgledger.web.dashboard_data` for the caller's visible
entities only, from the inventory cached in the app (recomputed when the data changes).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from enum import StrEnum
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from esgledger.auth.roles import Permission
from esgledger.calc.outline import MAX_LINES
from esgledger.domain.display import short_number
from esgledger.web import dashboard_data
from esgledger.web.dashboard_data import FIGURES, GROUP, InventoryCache
from esgledger.web.pages import render
from esgledger.web.security import Caller, ledger, need

log = logging.getLogger(__name__)


def _warm(app: FastAPI) -> None:
    """Compute the inventory and the latest year's group material ahead of the first visit."""
    try:
        dashboard_data.warm(app.state.ledger, cache_of(app))
    except Exception:  # the pages compute it on demand and report any error there
        log.exception("warming the inventory cache failed")


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    # Not a daemon: a thread killed inside DuckDB at interpreter exit aborts the process, so
    # shutdown waits for the warm-up (a few seconds at most) instead.
    warmer = threading.Thread(target=_warm, args=(app,), name="inventory-warm")
    warmer.start()
    try:
        yield
    finally:
        warmer.join()


router = APIRouter(lifespan=_lifespan)

Viewer = Annotated[Caller, Depends(need(Permission.VIEW))]
Tracer = Annotated[Caller, Depends(need(Permission.LINEAGE))]

YearQuery = Annotated[int | None, Query(ge=1901, le=2199, description="default: latest year")]
EntityQuery = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=64,
        pattern=r"^(\*|[A-Za-z0-9_.\-]+)$",
        description="an entity id; omitted or * for the group figure",
    ),
]
RowsQuery = Annotated[int, Query(ge=1, le=200, description="source records shown per line")]
LinesQuery = Annotated[
    int, Query(ge=1, le=1000, description="lines shown per category of an entity's figure")
]

_CACHE_LOCK = threading.Lock()


class FigureName(StrEnum):
    scope1 = "scope1"
    scope2_location = "scope2_location"
    scope2_market = "scope2_market"
    scope3 = "scope3"
    total = "total"
    energy_tce = "energy_tce"


# -- response models ------------------------------------------------------------------------


class Figures(BaseModel):
    """tCO2e for the scopes and the total; tce for energy (GB/T 2589 当量值)."""

    scope1: float
    scope2_location: float
    scope2_market: float
    scope3: float
    total: float
    energy_tce: float


class EntityRow(BaseModel):
    entity_id: str
    name: str
    name_zh: str | None
    figures: Figures
    has_data: bool


class GroupRow(BaseModel):
    entity_id: Literal["*"]
    figures: Figures


class TrendYear(Figures):
    year: int


class CampaignProgress(BaseModel):
    campaign_id: int
    name: str
    status: str
    due_date: str
    requests: int
    done: int = Field(description="approved or locked requests")
    ratio: float | None
    by_status: dict[str, int]


class Completeness(BaseModel):
    campaigns: list[CampaignProgress]
    done: int
    requests: int
    ratio: float | None


class TargetRow(BaseModel):
    target_id: str
    name_en: str
    name_zh: str
    metric_id: str
    entity_id: str
    deadline_year: int
    evaluated_year: int
    status: str
    reason: str
    actual: float | None
    required: float | None


class Targets(BaseModel):
    counts: dict[str, int]
    items: list[TargetRow]


class WarningRow(BaseModel):
    source: Literal["check", "kri"]
    rule: str
    severity: str
    entity_id: str
    metric_id: str
    period: str
    message: str


class Milestones(BaseModel):
    peak: int
    neutrality: int
    net_zero: int


class PathwayProgress(BaseModel):
    """The year's total against the group's pathway from the year the milestones were set."""

    base_year: int
    year: int
    status: Literal["on track", "off track", "no data", "base year"]
    reason: str
    actual_tco2e: float | None
    pathway_tco2e: float | None
    contraction_tco2e: float | None
    actual_id: str = Field(description="lineage id of the actual (esgledger explain)")
    pathway_id: str = Field(description="lineage id of the pathway's value")
    contraction_id: str = Field(description="lineage id of the 1.5 °C contraction's value")
    milestones: Milestones


class AsOf(BaseModel):
    version: str = Field(description="the data version the figures are of")
    computed_at: str = Field(description="when they were computed (UTC, ISO 8601)")
    current: bool = Field(
        description="false while a newer version is being computed: the figures shown are "
        "the previous complete ones"
    )


class Dashboard(BaseModel):
    year: int
    years: list[int]
    group_wide: bool = Field(description="the caller sees every entity")
    units: dict[str, str]
    scope2_total_basis: str
    entities: list[EntityRow]
    group: GroupRow = Field(description="the sum over the caller's visible entities")
    trend: list[TrendYear]
    completeness: Completeness
    targets: Targets | None = Field(description="group-wide callers only")
    warnings: list[WarningRow] | None = Field(description="group-wide callers only")
    pathway: PathwayProgress | None = Field(
        description="group-wide callers only; None when the ledger has no inventory of the year"
    )
    as_of: AsOf


class Adjustment(BaseModel):
    adjustment_id: int
    metric_id: str
    reason: str
    before_value: float | None
    after_value: float | None
    unit: str
    proposed_by: str
    decided_by: str | None
    status: str


class RecordSource(BaseModel):
    record_id: str
    entity_id: str
    source_kind: str
    source_file: str
    source_row: int | None
    source_user: str | None
    batch_id: int | None
    note: str | None
    link: str | None
    adjustment: Adjustment | None


class LineageNode(BaseModel):
    label: str
    kind: Literal["figure", "entity", "group", "line", "record", "more"]
    value: float | None
    unit: str
    detail: dict[str, Any]
    source: RecordSource | None
    figure_id: str | None = Field(
        description="an entity node's own figure id, whose lineage lists its lines"
    )
    entity_id: str | None = Field(description="the entity of an entity node")
    children: list[LineageNode]


class EntityRef(BaseModel):
    entity_id: str
    name: str
    name_zh: str | None


class Lineage(BaseModel):
    figure: FigureName
    figure_id: str
    year: int
    entity: EntityRef | None
    unit: str
    tree: LineageNode


# -- helpers --------------------------------------------------------------------------------


def inventory_cache(request: Request) -> InventoryCache:
    return cache_of(request.app)


def cache_of(app: FastAPI) -> InventoryCache:
    """The app's inventory cache (made on first use)."""
    state = app.state
    with _CACHE_LOCK:
        cache = getattr(state, "inventory_cache", None)
        if cache is None:
            cache = InventoryCache(wait=getattr(state, "fresh_wait", None))
            state.inventory_cache = cache
    found: InventoryCache = cache
    return found


def as_json(data: dict[str, Any]) -> JSONResponse:
    """The data as it is, already in the shape of the route's response model (the tests check
    it with the model): FastAPI would otherwise validate it again, in a second trip through
    the thread pool, which under load costs more than the route itself."""
    return JSONResponse(data)


def number(value: float | None, decimals: int = 2) -> str:
    """A figure with thousands separators and fixed decimals."""
    return "–" if value is None else f"{value:,.{decimals}f}"


def tree_number(value: float | None) -> str:
    """A lineage value (:func:`esgledger.domain.display.short_number`, as the CLI)."""
    return short_number(value, missing="")


def _explain_href(figure: str, year: int, entity: str | None) -> str:
    suffix = f"&entity={entity}" if entity and entity != GROUP else ""
    return f"/explain/{figure}?year={year}{suffix}"


def _links(caller: Caller, data: dict[str, Any]) -> dict[str, str | None]:
    """Where the group row's figures lead: the group's lineage for a group-wide caller, the
    single visible entity's for a caller who sees one, nothing otherwise."""
    if not caller.who.can(Permission.LINEAGE):
        return {}
    shown = data["entities"]
    target: str | None = None
    if data["group_wide"]:
        target = GROUP
    elif len(shown) == 1:
        target = shown[0]["entity_id"]
    if target is None:
        return {}
    return {f: _explain_href(f, data["year"], target) for f in FIGURES}


# -- routes ---------------------------------------------------------------------------------


def _dashboard(request: Request, caller: Caller, year: int | None) -> dict[str, Any]:
    return dashboard_data.dashboard(ledger(request), caller.who, inventory_cache(request), year)


@router.get("/", include_in_schema=False)
def dashboard_page(request: Request, caller: Viewer, year: YearQuery = None) -> Response:
    data = _dashboard(request, caller, year)
    return render(
        request,
        "dashboard.html",
        caller=caller,
        data=data,
        figures=FIGURES,
        group_links=_links(caller, data),
        can_trace=caller.who.can(Permission.LINEAGE),
        explain_href=_explain_href,
        number=number,
    )


@router.get("/api/dashboard", tags=["dashboard"], response_model=Dashboard)
def api_dashboard(request: Request, caller: Viewer, year: YearQuery = None) -> Response:
    """The carbon panorama of a year for the caller's visible entities: figures by entity and
    their sum (``group``, entity ``*``), the trend over every year, the completeness of the
    year's data request campaigns; targets and open warnings for group-wide callers."""
    return as_json(_dashboard(request, caller, year))


def _lineage(
    request: Request,
    caller: Caller,
    figure: FigureName,
    year: int | None,
    entity: str | None,
    rows: int,
    lines: int,
) -> dict[str, Any]:
    return dashboard_data.lineage(
        ledger(request),
        caller.who,
        inventory_cache(request),
        figure.value,
        year=year,
        entity_id=entity,
        rows=rows,
        lines=lines,
    )


@router.get("/explain/{figure}", include_in_schema=False)
def explain_page(
    request: Request,
    figure: FigureName,
    caller: Tracer,
    year: YearQuery = None,
    entity: EntityQuery = None,
    rows: RowsQuery = 10,
    lines: LinesQuery = MAX_LINES,
) -> Response:
    found = _lineage(request, caller, figure, year, entity, rows, lines)
    return render(
        request,
        "explain.html",
        caller=caller,
        found=found,
        rows=rows,
        lines=lines,
        number=tree_number,
    )


@router.get("/api/explain/{figure}", tags=["dashboard"], response_model=Lineage)
def api_explain(
    request: Request,
    figure: FigureName,
    caller: Tracer,
    year: YearQuery = None,
    entity: EntityQuery = None,
    rows: RowsQuery = 10,
    lines: LinesQuery = MAX_LINES,
) -> Response:
    """The derivation of a figure one level at a time. A group figure (no entity or ``*``):
    its entities (each with the figure id of its own part) and their categories or carriers.
    An entity's figure: its categories, the largest ``lines`` lines of each with their
    factors, down to ``rows`` source records per line (file and row, form request or
    adjustment with its reason); a ``more`` node counts what is not listed. Group figures
    only for callers who see every entity; an entity's figures only for callers who see it
    (404 otherwise). ``esgledger explain`` prints the whole tree."""
    return as_json(_lineage(request, caller, figure, year, entity, rows, lines))
