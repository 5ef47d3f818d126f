"""Assessment pages and their JSON twins: the double-materiality campaigns (list, new
campaign, detail with response rates, results and matrix, one-time links, sign-off), the
respondent's survey page (public: the one-time token is the credential), the assessment
registers (rows with their computed results, heat maps, import history, upload, the CSV
download recorded in the audit log) and the
lineage of assessment figures (``/explain/assessment/<id>``).

Every route is a thin layer over :mod:`esgledger.usecases.survey`,
:mod:`esgledger.usecases.survey_results` and :mod:`esgledger.usecases.registers`, which check
the caller's permission and entity scope
themselves and write the audit log. A survey token's secret is shown once (the links page)
and is never logged: :class:`RedactSurveyTokens` masks it in the access log.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import math
import re
import secrets
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time
from enum import StrEnum
from typing import Annotated, Any, Literal

import pandas as pd
from fastapi import APIRouter, Depends, File, Form, Path, Query, Request, UploadFile
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from esgledger.assess import climate, results, risks
from esgledger.assess.topics import LIBRARIES
from esgledger.auth import access
from esgledger.auth.accounts import Principal
from esgledger.auth.roles import Permission
from esgledger.book import Book
from esgledger.calc.explain import Node
from esgledger.domain.figure_id import FigureId
from esgledger.figures.assessment_lineage import explain_assessment
from esgledger.report.charts import svg
from esgledger.report.materiality_chart import matrix_chart
from esgledger.store.engine import TABLES
from esgledger.store.engine import LedgerEngine as Engine
from esgledger.usecases import registers, survey, survey_results
from esgledger.usecases.assessment_results import RATED, rules_of, visible_results
from esgledger.usecases.exports import record_export
from esgledger.web.i18n import translate
from esgledger.web.pages import render
from esgledger.web.routes.common import (
    MAX_ID,
    TEXT_PATTERN,
    Viewer,
    attachment,
    engine_of,
    lang_of,
    page,
    see_other,
    whole_number,
)
from esgledger.web.security import Caller, need
from esgledger.web.security import book as request_book
from esgledger.workflow import export
from esgledger.workflow.errors import Conflict, Invalid, NotFound, WorkflowError
from esgledger.workflow.export import write_csv

router = APIRouter()

Manager = Annotated[Caller, Depends(need(Permission.MANAGE_CAMPAIGNS))]
Locker = Annotated[Caller, Depends(need(Permission.LOCK))]
Editor = Annotated[Caller, Depends(need(Permission.EDIT))]
Exporter = Annotated[Caller, Depends(need(Permission.EXPORT))]
Tracer = Annotated[Caller, Depends(need(Permission.LINEAGE))]

MaterialityId = Annotated[int, Path(ge=1, le=MAX_ID, description="materiality campaign id")]
YearQuery = Annotated[int | None, Query(ge=1901, le=2199, description="default: latest year")]
LineageId = Annotated[
    str,
    Path(
        min_length=3,
        max_length=200,
        pattern=r"^(materiality|climate|supplier|bcm|infosec|register):[^/\x00]+$",
        description="an assessment figure id (see esgledger explain)",
    ),
]

ENTITY = TABLES["entity"]
ROW_CAP = 200
SURVEY_CSRF_COOKIE = "esgl_survey_csrf"
SURVEY_LANGS = ("zh", "en")
REGISTER_BODY_MAX = registers.MAX_BYTES + 256_000
#: Flash messages of the assessment pages (``?done=``).
FLASHES = frozenset({"materiality_created", "materiality_signed_off", "register_imported"})
NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


class RegisterName(StrEnum):
    climate = "climate"
    suppliers = "suppliers"
    supplier_evaluations = "supplier_evaluations"
    bcm = "bcm"
    infosec = "infosec"


# -- the secret of a survey link is never logged ----------------------------------------------

_TOKEN_IN_URL = re.compile(r"(token=)[^&\s]+")


class RedactSurveyTokens(logging.Filter):
    """Masks ``token=...`` in the access log's request line (the survey links' secrets)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                _TOKEN_IN_URL.sub(r"\1[redacted]", a) if isinstance(a, str) else a
                for a in record.args
            )
        elif isinstance(record.msg, str):
            record.msg = _TOKEN_IN_URL.sub(r"\1[redacted]", record.msg)
        return True


def redact_access_log() -> None:
    """Install :class:`RedactSurveyTokens` on uvicorn's access log (once)."""
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, RedactSurveyTokens) for f in access.filters):
        access.addFilter(RedactSurveyTokens())


# -- helpers ---------------------------------------------------------------------------------


def _page(
    request: Request, caller: Caller, name: str, status_code: int = 200, **context: Any
) -> Response:
    return page(request, caller, name, status_code, FLASHES, **context)


def _public(request: Request, name: str, status_code: int = 200, **context: Any) -> Response:
    """A page of the anonymous survey (no caller), never cached nor referred."""
    response = render(request, name, status_code, **context)
    response.headers.update(NO_STORE)
    return response


def _plain(value: Any) -> Any:
    """A cell as JSON and a page show it (NaN as None, timestamps as dates)."""
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else value.date().isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return _plain(value.item())
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return value


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    columns = [c for c in frame.columns if not str(c).startswith("_")]
    return [
        {str(c): _plain(v) for c, v in row.items()} for row in frame[columns].to_dict("records")
    ]


def _json(data: Any, status_code: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    return JSONResponse(
        jsonable_encoder(data), status_code=status_code, headers=dict(headers or {})
    )


# -- materiality campaigns -------------------------------------------------------------------


class GroupBody(BaseModel):
    group_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")
    axis: Literal["impact", "financial"]
    weight: float = Field(gt=0, le=1000)
    name_en: str = Field(default="", max_length=200, pattern=TEXT_PATTERN)
    name_zh: str = Field(default="", max_length=200, pattern=TEXT_PATTERN)
    internal: bool = False


class MaterialityBody(BaseModel):
    year: int = Field(ge=1901, le=2199)
    title: str = Field(min_length=1, max_length=200, pattern=TEXT_PATTERN)
    closes_on: date = Field(description="last day responses are taken (until 23:59:59 UTC)")
    groups: list[GroupBody] | None = Field(
        default=None, max_length=50, description="default: the demo's stakeholder groups"
    )
    library: Literal["esrs"] | None = Field(
        default=None,
        description="packaged topic library (default: the ledger's topic list of the year, "
        "else its latest list before it)",
    )


class LinksBody(BaseModel):
    group_id: str = Field(min_length=1, max_length=64, pattern=TEXT_PATTERN)
    count: int = Field(ge=1, le=survey.MAX_TOKENS)


def _closing(day: date) -> datetime:
    return datetime.combine(day, time(23, 59, 59), tzinfo=UTC)


def _create(engine: Engine, who: Principal, body: MaterialityBody) -> int:
    groups = (
        list(survey.demo_groups())
        if not body.groups
        else [
            survey.SurveyGroup(g.group_id, g.axis, g.weight, g.name_en, g.name_zh, bool(g.internal))
            for g in body.groups
        ]
    )
    return survey.create_campaign(
        engine, who, body.year, body.title, _closing(body.closes_on), groups, library=body.library
    )


def _list(engine: Engine, who: Principal) -> dict[str, Any]:
    return {"campaigns": survey_results.campaigns(engine, who), "libraries": sorted(LIBRARIES)}


def _results(engine: Engine, who: Principal, cid: int) -> pd.DataFrame | None:
    try:
        return survey_results.score_campaign(engine, who, cid)
    except Conflict:  # no responses yet
        return None


def _detail(engine: Engine, who: Principal, cid: int) -> dict[str, Any]:
    found = survey_results.campaign(engine, who, cid)
    rates = survey_results.response_rate(engine, who, cid)
    tiered = _results(engine, who, cid)
    names = {t["topic_id"]: (t["name_en"], t["name_zh"]) for t in found["topics"]}
    rows = []
    if tiered is not None:
        ordered = tiered.sort_values(["tier_rank", "impact"], ascending=[False, False])
        for topic_id, row in ordered.iterrows():
            rows.append(
                {
                    "topic_id": str(topic_id),
                    "name_en": names.get(str(topic_id), ("", ""))[0],
                    "name_zh": names.get(str(topic_id), ("", ""))[1],
                    **{k: _plain(row[k]) for k in tiered.columns},
                }
            )
    current = survey_results.signed_off(engine, int(found["year"]))
    return {
        "campaign": {k: v for k, v in found.items() if k not in ("topics", "groups")},
        "groups": found["groups"],
        "topics": found["topics"],
        "rates": rates,
        "results": rows if tiered is not None else None,
        "reported": current is not None and int(current["campaign_id"]) == cid,
    }


def _flash_page(request: Request, caller: Caller, cid: int, **context: Any) -> Response:
    engine = engine_of(request)
    detail = _detail(engine, caller.who, cid)
    chart = None
    tiered = _results(engine, caller.who, cid)
    lang = lang_of(request, caller)
    if tiered is not None:
        year = int(detail["campaign"]["year"])
        topics = survey_results.campaign_topics(engine, cid)
        chart = svg(matrix_chart(tiered, lang, year=year, topics=topics), lang)
    status = context.pop("status_code", 200)
    return _page(
        request, caller, "assess_materiality.html", status, chart=chart, **detail, **context
    )


@router.get("/materiality", include_in_schema=False)
def materiality_page(request: Request, caller: Viewer) -> Response:
    return _page(request, caller, "assess_campaigns.html", **_list(engine_of(request), caller.who))


@router.get("/api/materiality", tags=["assessments"])
def api_materiality(request: Request, caller: Viewer) -> Response:
    """The double-materiality campaigns, newest first, with their links issued and used."""
    return _json(_list(engine_of(request), caller.who))


@router.post("/materiality", include_in_schema=False)
def create_materiality_form(
    request: Request,
    caller: Manager,
    year: Annotated[str, Form(max_length=10)] = "",
    title: Annotated[str, Form(max_length=200)] = "",
    closes_on: Annotated[str, Form(max_length=20)] = "",
    library: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    engine = engine_of(request)
    try:
        try:
            day = date.fromisoformat(closes_on.strip())
        except ValueError as exc:
            raise Invalid(f"closing date {closes_on!r} is not a date (YYYY-MM-DD)") from exc
        if "\x00" in title:
            raise Invalid("the title holds a NUL character")
        body = MaterialityBody.model_construct(
            year=whole_number(year, "year"),
            title=title,
            closes_on=day,
            groups=None,
            library=library.strip() or None,
        )
        cid = _create(engine, caller.who, body)
    except WorkflowError as exc:
        return _page(
            request,
            caller,
            "assess_campaigns.html",
            exc.status,
            error=str(exc),
            **_list(engine, caller.who),
        )
    return see_other(f"/materiality/{cid}", "materiality_created")


@router.post("/api/materiality", tags=["assessments"], status_code=201)
def api_create_materiality(
    request: Request, body: MaterialityBody, caller: Manager
) -> dict[str, int]:
    """Open a campaign of a year with its packaged topic list and stakeholder groups
    (group-wide campaign managers only)."""
    return {"campaign_id": _create(engine_of(request), caller.who, body)}


@router.get("/materiality/{materiality_id}", include_in_schema=False)
def materiality_detail_page(
    request: Request, materiality_id: MaterialityId, caller: Viewer
) -> Response:
    return _flash_page(request, caller, materiality_id)


@router.get("/api/materiality/{materiality_id}", tags=["assessments"])
def api_materiality_detail(
    request: Request, materiality_id: MaterialityId, caller: Viewer
) -> Response:
    """A campaign with its groups, topics, response rates and (once answered) its results:
    impact and financial scores, tier and arithmetic per topic."""
    return _json(_detail(engine_of(request), caller.who, materiality_id))


def _links(request: Request, cid: int, issued: Sequence[str]) -> list[str]:
    root = str(request.base_url).rstrip("/")
    return [f"{root}/survey/{cid}?token={s}" for s in issued]


def _links_csv(group_id: str, links: Sequence[str]) -> bytes:
    return write_csv([{"group": group_id, "link": link} for link in links], ["group", "link"])


@router.post("/materiality/{materiality_id}/links", include_in_schema=False)
def links_form(
    request: Request,
    materiality_id: MaterialityId,
    caller: Manager,
    group_id: Annotated[str, Form(max_length=64)] = "",
    count: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    engine = engine_of(request)
    try:
        number = whole_number(count, "count")
        issued = survey.issue_tokens(engine, caller.who, materiality_id, group_id, number)
    except WorkflowError as exc:
        return _flash_page(request, caller, materiality_id, status_code=exc.status, error=str(exc))
    links = _links(request, materiality_id, issued)
    download = base64.b64encode(_links_csv(group_id, links)).decode("ascii")
    response = _page(
        request,
        caller,
        "assess_links.html",
        campaign_id=materiality_id,
        group_id=group_id,
        links=links,
        download=download,
        file_name=f"survey-{materiality_id}-{group_id}-links.csv",
    )
    response.headers.update(NO_STORE)
    return response


@router.post("/api/materiality/{materiality_id}/links", tags=["assessments"], status_code=201)
def api_links(
    request: Request, materiality_id: MaterialityId, body: LinksBody, caller: Manager
) -> Response:
    """Issue one-time survey links for a group. Only the tokens' hashes are stored: the links
    are in this answer and nowhere else (hand them out now)."""
    issued = survey.issue_tokens(
        engine_of(request), caller.who, materiality_id, body.group_id, body.count
    )
    links = _links(request, materiality_id, issued)
    return _json(
        {"campaign_id": materiality_id, "group_id": body.group_id, "links": links},
        201,
        NO_STORE,
    )


@router.post("/materiality/{materiality_id}/sign-off", include_in_schema=False)
def sign_off_form(request: Request, materiality_id: MaterialityId, caller: Locker) -> Response:
    try:
        survey_results.sign_off(engine_of(request), caller.who, materiality_id)
    except WorkflowError as exc:
        return _flash_page(request, caller, materiality_id, status_code=exc.status, error=str(exc))
    return see_other(f"/materiality/{materiality_id}", "materiality_signed_off")


@router.post("/api/materiality/{materiality_id}/sign-off", tags=["assessments"])
def api_sign_off(request: Request, materiality_id: MaterialityId, caller: Locker) -> dict[str, Any]:
    """The ESG committee's sign-off (group-wide ``lock``): closes the campaign, whose result
    then feeds the year's report."""
    engine = engine_of(request)
    survey_results.sign_off(engine, caller.who, materiality_id)
    return {"campaign_id": materiality_id, "status": "closed"}


# -- the respondent's survey page (public) ---------------------------------------------------


def _survey_lang(request: Request, chosen: str | None = None) -> str:
    asked = chosen or request.query_params.get("lang")
    return asked if asked in SURVEY_LANGS else "zh"


def _refusal(request: Request, lang: str, exc: WorkflowError) -> Response:
    """The page of a link that cannot be answered: the same for an unknown token and one of
    another campaign (both NotFound); the reason of a used, expired or closed one."""
    text = str(exc)
    if isinstance(exc, NotFound):
        key = "survey_unknown"
    elif "already been used" in text:
        key = "survey_used"
    elif "closed at" in text:
        key = "survey_expired"
    elif isinstance(exc, Conflict):
        key = "survey_closed"
    else:
        key = "survey_unknown"
    return _public(
        request,
        "survey_refused.html",
        exc.status,
        lang=lang,
        message=translate(lang, key),
        reason=key,
    )


def _survey_page(
    request: Request,
    lang: str,
    form: dict[str, Any],
    token: str,
    status_code: int = 200,
    chosen: Mapping[str, str] | None = None,
    problems: Sequence[str] = (),
) -> Response:
    csrf = request.cookies.get(SURVEY_CSRF_COOKIE) or secrets.token_urlsafe(24)
    response = _public(
        request,
        "survey_form.html",
        status_code,
        lang=lang,
        form=form,
        token=token,
        survey_csrf=csrf,
        chosen=chosen or {},
        problems=problems,
        scores=range(survey.MINIMUM, survey.MAXIMUM + 1),
    )
    response.set_cookie(
        SURVEY_CSRF_COOKIE,
        csrf,
        httponly=True,
        samesite="strict",
        secure=bool(request.app.state.secure_cookies),
        path="/survey",
    )
    return response


@router.get("/survey/{materiality_id}", include_in_schema=False)
def survey_page(
    request: Request,
    materiality_id: MaterialityId,
    token: Annotated[str, Query(max_length=200)] = "",
    lang: Annotated[str | None, Query(pattern="^(zh|en)$")] = None,
) -> Response:
    chosen = _survey_lang(request, lang)
    try:
        form = survey.survey_form(engine_of(request), token, materiality_id)
    except (NotFound, Conflict) as exc:
        return _refusal(request, chosen, exc)
    return _survey_page(request, chosen, form, token)


def _answers(form: dict[str, Any], fields: Mapping[str, str]) -> list[survey.Answer]:
    axis = form["axis"]
    answers = []
    for topic in form["topics"]:
        tid = str(topic["topic_id"])
        positive = axis == "impact" and fields.get(f"{tid}.positive") in ("1", "on", "true")
        scores: dict[str, int | None] = {}
        for name in form["asked"]:
            if name == "irremediability" and positive:
                continue
            text = str(fields.get(f"{tid}.{name}", "")).strip()
            scores[name] = int(text) if text.isdigit() and len(text) < 4 else None
        answers.append(survey.Answer(tid, axis, positive=positive, **scores))
    return answers


_ANSWER = re.compile(r"^answer (\d+): ")


def _located(problems: str, form: dict[str, Any], lang: str) -> list[str]:
    """The library's ``answer N: field: ...`` messages, each naming its topic."""
    topics = form["topics"]
    out = []
    for problem in problems.split("; "):
        found = _ANSWER.match(problem)
        if found and int(found.group(1)) < len(topics):
            topic = topics[int(found.group(1))]
            name = topic["name_zh"] if lang == "zh" and topic["name_zh"] else topic["name_en"]
            problem = f"{name} ({topic['topic_id']}): {problem[found.end() :]}"  # noqa: PLW2901
        out.append(problem)
    return out


def _submit(request: Request, cid: int, token: str, lang: str, fields: dict[str, str]) -> Response:
    engine = engine_of(request)
    try:
        form = survey.survey_form(engine, token, cid)
    except (NotFound, Conflict) as exc:
        return _refusal(request, lang, exc)
    try:
        survey.submit_response(engine, token, _answers(form, fields), campaign_id=cid)
    except (NotFound, Conflict) as exc:
        return _refusal(request, lang, exc)
    except Invalid as exc:
        return _survey_page(
            request, lang, form, token, exc.status, fields, _located(str(exc), form, lang)
        )
    return _public(request, "survey_thanks.html", lang=lang, title=form["title"])


@router.post("/survey/{materiality_id}", include_in_schema=False)
async def survey_submit(request: Request, materiality_id: MaterialityId) -> Response:
    # Public: the one-time token in the body is the respondent's credential. The form is also
    # protected like the sign-in form: its CSRF token must match the cookie the survey page
    # set (double submit), so another site cannot post a response through a visitor.
    form = await request.form()
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    lang = _survey_lang(request, fields.get("lang"))
    expected = request.cookies.get(SURVEY_CSRF_COOKIE, "")
    sent = fields.get("csrf_token", "")
    if not expected or not hmac.compare_digest(expected.encode(), sent.encode()):
        return _public(
            request,
            "survey_refused.html",
            403,
            lang=lang,
            message=translate(lang, "survey_form_expired"),
            reason="survey_form_expired",
        )
    token = fields.get("token", "")[:200]
    return await run_in_threadpool(_submit, request, materiality_id, token, lang, fields)


# -- registers -------------------------------------------------------------------------------

COLUMNS: dict[str, tuple[str, ...]] = {
    "climate": (
        "entry_id",
        "type",
        "class",
        "category",
        "title",
        "horizons",
        "likelihood",
        "impact",
        "financial_effect",
        "owner",
    ),
    "suppliers": ("supplier_id", "name", "entity_id", "region", "category", "status"),
    "supplier_evaluations": (
        "supplier_id",
        "name",
        "entity_id",
        "evaluated_on",
        "score",
        "level",
        "follow_up",
        "arithmetic",
    ),
    "bcm": (
        "risk_id",
        "entity_id",
        "title",
        "category",
        "likelihood",
        "impact",
        "score",
        "grade",
        "treatment",
    ),
    "infosec": (
        "risk_id",
        "entity_id",
        "asset",
        "threat",
        "vulnerability",
        "risk_value",
        "risk_level",
        "risk_level_name",
        "arithmetic",
    ),
}
"""The columns a register's page shows (the CSV and JSON hold every column)."""


def _lineage_of(kind: str, year: int, row: Mapping[str, Any]) -> dict[str, str]:
    if kind == "supplier_evaluations":
        return {"score": str(FigureId.of("supplier", year, row["supplier_id"]))}
    if kind in ("bcm", "infosec"):
        return {"score": str(FigureId.of(kind, year, row["risk_id"]))}
    if kind == "climate":
        found = {}
        for axis in ("likelihood", "impact"):
            if row.get(axis) not in (None, ""):
                found[axis] = str(FigureId.of("climate", year, row["entry_id"], axis))
        return found
    return {}


def _heat(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows of a likelihood × impact count table, likelihood 5 first (the top of the map)."""
    return [
        {"likelihood": int(lik), "counts": [int(frame.loc[lik, imp]) for imp in frame.columns]}
        for lik in sorted(frame.index, reverse=True)
    ]


def _rules_of(book: Book, kind: str, year: int) -> dict[str, Any] | None:
    """The rules a rated register's year is graded with: frozen or not, and their tables."""
    if kind not in RATED:
        return None
    found = rules_of(book, kind, year)
    return {"frozen": found.frozen is not None, "rules": found.describe()}


def _register(book: Book, who: Principal, kind: str, year: int) -> dict[str, Any]:
    """The rows ``who`` may see with their results (the group's results,
    :func:`~esgledger.usecases.assessment_results.visible_results`), the heat map (bcm,
    climate) and the import history."""
    engine = book.ledger.engine
    computed = visible_results(book, who, kind, year)
    heat = None
    unscored: list[str] = []
    if kind == "bcm" and not computed.empty:
        heat = _heat(risks.bcm_heat_map(computed))
    elif kind == "climate":
        entries = results.climate_entries(computed, year)
        if entries:
            mapped = climate.heat_map(entries)
            heat = _heat(mapped)
            unscored = list(mapped.attrs.get("unscored", ()))
    records = _records(computed)
    for record in records:
        record["lineage"] = _lineage_of(kind, year, record)
    spec = registers.register_kind(kind)
    return {
        "rules": _rules_of(book, kind, year) if records else None,
        "kind": kind,
        "title_en": spec.title_en,
        "title_zh": spec.title_zh,
        "year": year,
        "years": registers.years(engine, kind),
        "rows": records,
        "heat_map": heat,
        "unscored": unscored,
        "imports": registers.imports(engine, who, kind, year),
    }


def _year_of(engine: Engine, kind: str, year: int | None) -> int:
    if year is not None:
        return year
    found = registers.years(engine, kind)
    return found[-1] if found else datetime.now(UTC).year


def _index(engine: Engine) -> list[dict[str, Any]]:
    return [
        {
            "kind": spec.kind,
            "title_en": spec.title_en,
            "title_zh": spec.title_zh,
            "group_level": spec.entity_column is None,
            "years": registers.years(engine, spec.kind),
        }
        for spec in registers.KINDS.values()
    ]


@router.get("/registers", include_in_schema=False)
def registers_page(request: Request, caller: Viewer) -> Response:
    return _page(request, caller, "assess_registers.html", kinds=_index(engine_of(request)))


@router.get("/api/registers", tags=["assessments"])
def api_registers(request: Request, caller: Viewer) -> dict[str, Any]:
    """The five assessment registers with the years they hold."""
    del caller  # the dependency checked the permission
    return {"registers": _index(engine_of(request))}


@router.get("/registers/{kind}.csv", include_in_schema=False)
def register_csv(
    request: Request, kind: RegisterName, caller: Exporter, year: YearQuery = None
) -> Response:
    engine = engine_of(request)
    chosen = _year_of(engine, kind.value, year)
    data = _register(request_book(request), caller.who, kind.value, chosen)
    rows = [{k: v for k, v in r.items() if k != "lineage"} for r in data["rows"]]
    columns = list(rows[0]) if rows else list(COLUMNS[kind.value])
    content = export.write_csv(rows, columns)
    target = f"{kind.value}/{chosen}"
    record_export(engine, caller.who, "register", target, content, fmt="csv", rows=len(rows))
    return attachment(content, "text/csv; charset=utf-8", f"{kind.value}-{chosen}.csv")


def _register_page(
    request: Request,
    caller: Caller,
    kind: str,
    year: int | None,
    status_code: int = 200,
    **context: Any,
) -> Response:
    engine = engine_of(request)
    data = _register(request_book(request), caller.who, kind, _year_of(engine, kind, year))
    shown = data["rows"][:ROW_CAP]
    columns = [c for c in COLUMNS[kind] if any(c in r for r in shown[:1])] or list(COLUMNS[kind])
    return _page(
        request,
        caller,
        "assess_register.html",
        status_code,
        data=data,
        shown=shown,
        columns=columns,
        cap=ROW_CAP,
        **context,
    )


@router.get("/registers/{kind}", include_in_schema=False)
def register_page(
    request: Request, kind: RegisterName, caller: Viewer, year: YearQuery = None
) -> Response:
    return _register_page(request, caller, kind.value, year)


@router.get("/api/registers/{kind}", tags=["assessments"])
def api_register(
    request: Request, kind: RegisterName, caller: Viewer, year: YearQuery = None
) -> Response:
    """A register's rows the caller may see (entity scope) with their computed results
    (supplier levels, BCM grades, GB/T 20984 risk values), the lineage id of each row's
    figure, the heat map (bcm, climate) and the import history."""
    engine = engine_of(request)
    chosen = _year_of(engine, kind.value, year)
    return _json(_register(request_book(request), caller.who, kind.value, chosen))


def _import(engine: Engine, who: Principal, kind: str, year: int, upload: UploadFile) -> int:
    name = upload.filename or f"{kind}.csv"
    content = upload.file.read(registers.MAX_BYTES + 1)
    frame = registers.read_table_file(content, name)
    digest = hashlib.sha256(content).hexdigest()
    return registers.import_frame(engine, who, kind, year, frame, name, digest)


def _diagnostics(exc: WorkflowError) -> list[str]:
    if isinstance(exc, registers.RegisterRejected):
        return [str(d) for d in exc.diagnostics]
    return [str(exc)]


@router.post("/registers/{kind}", include_in_schema=False, max_body_size=REGISTER_BODY_MAX)
def register_upload_form(
    request: Request,
    kind: RegisterName,
    caller: Editor,
    file: Annotated[UploadFile, File()],
    year: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    engine = engine_of(request)
    chosen: int | None = None
    try:
        chosen = whole_number(year, "year")
        if not 1901 <= chosen <= 2199:
            raise Invalid(f"year {chosen} is outside 1901-2199")
        _import(engine, caller.who, kind.value, chosen, file)
    except WorkflowError as exc:
        return _register_page(
            request,
            caller,
            kind.value,
            chosen if chosen and 1901 <= chosen <= 2199 else None,
            exc.status,
            problems=_diagnostics(exc),
        )
    return see_other(f"/registers/{kind.value}?year={chosen}", "register_imported")


@router.post(
    "/api/registers/{kind}",
    tags=["assessments"],
    status_code=201,
    max_body_size=REGISTER_BODY_MAX,
)
def api_register_upload(
    request: Request,
    kind: RegisterName,
    caller: Editor,
    file: Annotated[UploadFile, File(description="the register as CSV or XLSX")],
    year: Annotated[int, Form(ge=1901, le=2199)],
) -> Response:
    """Import a register file for a year, all or nothing (it replaces the year's rows of the
    entities it holds). A rejected file is 422 with every problem in ``problems``: its
    ``location`` (``file:row:column``), ``message`` and the whole ``text``; nothing is
    stored."""
    try:
        import_id = _import(engine_of(request), caller.who, kind.value, year, file)
    except registers.RegisterRejected as exc:
        problems = [
            {"location": d.location(), "message": f"{d.message} [{d.code}]", "text": str(d)}
            for d in exc.diagnostics
        ]
        return _json({"detail": str(exc), "problems": problems}, exc.status)
    return _json({"import_id": import_id, "kind": kind.value, "year": year}, 201)


# -- lineage of assessment figures -----------------------------------------------------------

ROW_KINDS = {"bcm": "bcm", "infosec": "infosec"}


def assessment_lineage(source: Book, who: Principal, figure: str) -> Node:
    """The derivation of an assessment figure, under the explain pages' rules: a figure of
    an entity's row (bcm, infosec) only for a caller who sees the row; the group's figures
    (materiality, climate, supplier evaluations, register counts) only for a caller who sees
    every entity. Anything else is NotFound, as for a figure that does not exist."""
    engine = source.ledger.engine
    try:
        fid = FigureId.parse(figure)
    except ValueError as exc:
        raise NotFound(f"no such figure {figure!r}") from exc
    if fid.kind in ROW_KINDS:
        seen = visible_results(source, who, ROW_KINDS[fid.kind], fid.year)
        risk_ids = set(seen["risk_id"].astype(str).str.strip()) if not seen.empty else set()
        if str(fid.get("risk_id")) not in risk_ids:
            raise NotFound(f"no such figure {figure!r}")
    elif not access.is_group_wide(engine, who):
        raise NotFound("no such figure: group figures are shown to those who see every entity")
    try:
        return explain_assessment(source, figure)
    except ValueError as exc:
        raise NotFound(str(exc)) from exc


@router.get("/explain/assessment/{lineage_id}", include_in_schema=False)
def assessment_explain_page(request: Request, lineage_id: LineageId, caller: Tracer) -> Response:
    tree = assessment_lineage(request_book(request), caller.who, lineage_id)
    return _page(request, caller, "assess_explain.html", figure_id=lineage_id, tree=tree)


@router.get("/api/explain/assessment/{lineage_id}", tags=["assessments"])
def api_assessment_explain(request: Request, lineage_id: LineageId, caller: Tracer) -> Response:
    """The derivation of an assessment figure (``materiality:``, ``climate:``,
    ``supplier:``, ``bcm:``, ``infosec:``, ``register:`` ids, as ``esgledger explain``)."""
    tree = assessment_lineage(request_book(request), caller.who, lineage_id)
    return _json({"figure_id": lineage_id, "tree": tree.to_dict()})
