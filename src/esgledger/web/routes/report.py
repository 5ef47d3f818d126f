"""The sustainability report page and its JSON twin: the report of a year in one language, its
gap list, downloads in four formats, and the editor of each section's narrative text.

The report shows the group's figures and text, so what it holds (narratives, gaps, files) is
served only to callers who see every entity (an administrator, or grants covering the whole
tree); others see the outline and are told why. Downloads need ``export`` and are audited like
the audit-log export; narrative edits need ``edit_report`` and go through
:func:`esgledger.report.narrative.set_narrative`, which checks the scope, the version
(409 on a stale one) and the period lock itself and writes the audit log.

Building a report takes seconds (the PDF more), so built reports and rendered files are kept
in a small cache per (year, language[, format]) and data version (the version of the ledger's
Book, which every committed write of figures or narratives moves); a new version makes the
next request build again, from the Book the other pages share.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, TypeVar, cast

from fastapi import APIRouter, Depends, FastAPI, Form, Path, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from esgledger import audit, report
from esgledger.auth import access
from esgledger.auth.accounts import Principal
from esgledger.auth.roles import Permission
from esgledger.book import Book
from esgledger.report import narrative
from esgledger.report.model import FORMATS, Report
from esgledger.report.sections import ReportConfigError
from esgledger.store.engine import LedgerEngine as Engine
from esgledger.store.engine import write_transaction
from esgledger.usecases.years import data_years as ledger_years
from esgledger.usecases.years import default_year
from esgledger.web.fresh import Latest, Made
from esgledger.web.i18n import translate
from esgledger.web.routes.common import (
    ID_PATTERN,
    MAX_ID,
    TEXT_PATTERN,
    Viewer,
    attachment,
    engine_of,
    lang_of,
    page,
    whole_number,
)
from esgledger.web.routes.dashboard import AsOf, cache_of
from esgledger.web.security import Caller, ledger, need
from esgledger.workflow import periods
from esgledger.workflow.errors import Conflict, Forbidden, Invalid, NotFound

log = logging.getLogger(__name__)
router = APIRouter()

Exporter = Annotated[Caller, Depends(need(Permission.EXPORT))]
Editor = Annotated[Caller, Depends(need(Permission.EDIT_REPORT))]

ReportLang = Literal["zh", "en"]
ReportFormat = Literal["html", "pdf", "docx", "xlsx"]
YearPath = Annotated[int, Path(ge=1901, le=2199)]
LangPath = Annotated[ReportLang, Path(description="language of the report: zh or en")]
FormatPath = Annotated[ReportFormat, Path(description="html, pdf, docx or xlsx")]
SectionPath = Annotated[str, Path(min_length=1, max_length=64, pattern=ID_PATTERN)]
YearQuery = Annotated[
    int | None, Query(ge=1901, le=2199, description="default: the latest year with data")
]
SAVED = "narrative_saved"
GROUP_ONLY = "the report shows the group's figures: only users who see every entity may see it"
CACHE_SIZE = 12
#: Failures of building or rendering that are the ledger's or the server's state, not a bug
#: of the request: answered 503 with the reason (a report section file with an error, a
#: renderer's library missing on the server).
BUILD_ERRORS = (ReportConfigError, ValueError, ImportError, OSError)
T = TypeVar("T")


# -- the cache of built reports -------------------------------------------------------------


class ReportCache:
    """Built reports and rendered files by key (which includes the data version), the
    least recently used dropped past ``size``. Thread-safe; one key is built once at a time.

    The page's report of each (year, language) is a :class:`~esgledger.web.fresh.Latest`
    slot (``shown``): under ``esgledger serve --fresh-wait`` the report of new data is built
    in the background while the page shows the previous complete one, labelled with its data
    version and time; downloads are always built from the current data."""

    def __init__(self, size: int = CACHE_SIZE, wait: float | None = None) -> None:
        self._size = size
        self._wait = wait
        self._lock = threading.Lock()
        self._items: OrderedDict[Hashable, object] = OrderedDict()
        self._building: dict[Hashable, threading.Lock] = {}
        self._shown: dict[tuple[int, str], Latest[Report]] = {}

    def shown(self, year: int, lang: str) -> Latest[Report]:
        """The slot of the page's report of ``year`` in ``lang``."""
        with self._lock:
            found = self._shown.get((year, lang))
            if found is None:
                found = self._shown[(year, lang)] = Latest(
                    self._wait, f"report {year} {lang}", rest=REPORT_REST
                )
            return found

    def get(self, key: Hashable, make: Callable[[], T]) -> T:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return cast(T, self._items[key])
            building = self._building.setdefault(key, threading.Lock())
        with building:
            with self._lock:
                if key in self._items:
                    return cast(T, self._items[key])
            value = make()
            with self._lock:
                self._items[key] = value
                while len(self._items) > self._size:
                    self._items.popitem(last=False)
                self._building.pop(key, None)
        return value


REPORT_REST = 4.0
"""Under ``--fresh-wait``, the report page's rebuilds pause four times as long as they took:
a report is the heaviest build (every section, for every new data version); while data arrives
in bursts its page shows the previous complete one, labelled, and downloads are current."""

_CACHE_LOCK = threading.Lock()


def report_cache(app: FastAPI) -> ReportCache:
    with _CACHE_LOCK:
        found = getattr(app.state, "report_cache", None)
        if found is None:
            found = ReportCache(wait=getattr(app.state, "fresh_wait", None))
            app.state.report_cache = found
    return cast(ReportCache, found)


def _book(request: Request) -> Book:
    return cache_of(request.app).book(ledger(request))


def built_report(request: Request, year: int, lang: ReportLang) -> Report:
    """The report of a year and language at the ledger's current data (cached; the page's,
    when it is of the current version)."""
    store = ledger(request)
    book = cache_of(request.app).book(store)
    cache = report_cache(request.app)
    shown = cache.shown(year, lang).ready
    if shown is not None and shown.version == book.version:
        return shown.value
    key = ("report", year, lang, book.version)
    return cache.get(key, lambda: report.build_report(book, year, lang))


def served_book(request: Request) -> Book:
    """The Book of the figures the pages show: the current one, or under ``--fresh-wait`` the
    previous complete one while the current one is computed (the dashboard's snapshot)."""
    return cache_of(request.app).get(ledger(request)).book


def shown_report(request: Request, year: int, lang: ReportLang) -> Made[Report] | None:
    """The page's report of a year and language: of the figures the pages show
    (:func:`served_book`), or under ``--fresh-wait`` the previous complete report while it is
    built, with the data version and time it was built from; None while the first one of the
    year and language is built (the page says so)."""
    book = served_book(request)
    slot = report_cache(request.app).shown(year, lang)
    return slot.get_or_none(book.version, lambda: report.build_report(book, year, lang))


def rendered(request: Request, year: int, lang: ReportLang, fmt: str) -> tuple[bytes, Report]:
    built = built_report(request, year, lang)
    key = ("file", year, lang, fmt, _book(request).version)
    return report_cache(request.app).get(key, lambda: report.render(built, fmt)), built


# -- bodies and answers ---------------------------------------------------------------------


class NarrativeBody(BaseModel):
    text: str = Field(
        min_length=1,
        max_length=narrative.MAX_TEXT,
        pattern=TEXT_PATTERN,
        description="the section's text as typed (paragraphs separated by a blank line; "
        "**bold** allowed); line endings are stored as \\n, nothing else changes",
    )
    base_version: int = Field(
        ge=0, le=MAX_ID, description="the version the text was read at (0: none stored yet)"
    )


class NarrativeOut(BaseModel):
    year: int
    lang: ReportLang
    section_id: str
    version: int


class SectionOut(BaseModel):
    section_id: str
    number: str
    title: str
    level: int
    text: str | None = Field(description="None for callers who do not see every entity")
    origin: Literal["ledger", "prompt"] | None
    version: int = Field(description="0: no text stored (the default is shown)")
    updated_by: str | None
    updated_at: datetime | None = Field(description="UTC")
    edit_url: str | None = Field(description="PUT here to edit (for callers who may)")


class GapOut(BaseModel):
    framework: str
    item: str
    what: str


class ReportOut(BaseModel):
    year: int
    lang: ReportLang
    years: list[int]
    has_data: bool = Field(description="the ledger holds figures of the year (else no report)")
    group_wide: bool = Field(description="the caller sees every entity, so sees the report")
    locked: bool = Field(description="the year is locked: its text can no longer change")
    can_edit: bool
    can_download: bool
    sections: list[SectionOut]
    gaps: list[GapOut] | None = Field(description="mandatory items without data or text")
    build_error: str | None = Field(description="why the report cannot be built now")
    downloads: dict[str, str] | None = Field(description="format -> URL")
    as_of: AsOf | None = Field(
        description="the data version and time of the built report the gaps are of"
    )
    building: bool = Field(
        description="the report of the year and language is being built for the first time: "
        "no gaps yet (under esgledger serve --fresh-wait; reload in a moment)"
    )


# -- the report's data for a caller -------------------------------------------------------


def data_years(request: Request) -> frozenset[int]:
    """The years the ledger holds figures of (:func:`esgledger.usecases.years.data_years`).
    A report is built and downloaded only for these."""
    return ledger_years(_book(request))


def _years(request: Request, year: int | None) -> tuple[int, list[int], bool]:
    """The year shown (default: :func:`esgledger.usecases.years.default_year`), the years to
    pick from, and whether the ledger holds figures of the year shown: of the figures the
    pages show (:func:`served_book`)."""
    book = served_book(request)
    found = ledger_years(book)
    chosen = year or default_year(book)
    listed = found | set(ledger(request).locked_years()) | {chosen}
    return chosen, sorted(listed, reverse=True), chosen in found


def _sections(engine: Engine, year: int, lang: ReportLang, shown: bool) -> list[SectionOut]:
    texts = narrative.narrative_for(engine, year, lang) if shown else {}
    stored = narrative.narratives(engine, year, lang) if shown else {}
    out = []
    for section_id, number, title, level in narrative.outline(lang):
        text, origin = texts.get(section_id, (None, None))
        found = stored.get(section_id)
        out.append(
            SectionOut(
                section_id=section_id,
                number=number,
                title=title,
                level=level,
                text=text,
                origin=cast(Literal["ledger", "prompt"] | None, origin),
                version=found.version if found else 0,
                updated_by=found.updated_by if found else None,
                updated_at=found.updated_at.replace(tzinfo=UTC) if found else None,  # naive UTC
                edit_url=None,
            )
        )
    return out


def report_data(request: Request, who: Principal, year: int | None, lang: ReportLang) -> ReportOut:
    engine = engine_of(request)
    chosen, years, has_data = _years(request, year)
    wide = access.is_group_wide(engine, who)
    locked = periods.is_locked(engine, chosen)
    can_edit = wide and not locked and who.can(Permission.EDIT_REPORT)
    sections = _sections(engine, chosen, lang, wide)
    if can_edit:
        for s in sections:
            s.edit_url = f"/api/report/{chosen}/{lang}/narratives/{s.section_id}"
    gaps: list[GapOut] | None = None
    problem = None
    as_of = None
    building = False
    if wide and has_data:
        try:
            made = shown_report(request, chosen, lang)
            building = made is None
            if made is not None:
                gaps = [
                    GapOut(framework=g.framework, item=g.item, what=g.what) for g in made.value.gaps
                ]
                as_of = AsOf(
                    version=str(made.version),
                    computed_at=made.made_at.isoformat(timespec="seconds"),
                    current=made.version == _book(request).version,
                )
        except BUILD_ERRORS as exc:
            log.exception("building the report of %s (%s) failed", chosen, lang)
            problem = str(exc) or type(exc).__name__
    can_download = wide and has_data and who.can(Permission.EXPORT)
    return ReportOut(
        year=chosen,
        lang=lang,
        years=years,
        has_data=has_data,
        group_wide=wide,
        locked=locked,
        can_edit=can_edit,
        can_download=can_download,
        sections=sections,
        gaps=gaps,
        build_error=problem,
        downloads={f: f"/api/report/{chosen}/{lang}.{f}" for f in FORMATS}
        if can_download
        else None,
        as_of=as_of,
        building=building,
    )


def _report_page(
    request: Request,
    caller: Caller,
    year: int | None,
    lang: ReportLang,
    status_code: int = 200,
    **context: Any,
) -> Response:
    data = report_data(request, caller.who, year, lang)
    ui = lang_of(request, caller)
    if "flash" not in context and request.query_params.get("done") == SAVED:
        context["flash"] = translate(ui, SAVED)
    return page(request, caller, "report.html", status_code, report=data, **context)


def _report_lang(request: Request, caller: Caller, asked: str | None) -> ReportLang:
    if asked in ("zh", "en"):
        return cast(ReportLang, asked)
    return "zh" if lang_of(request, caller) == "zh" else "en"


# -- pages and API --------------------------------------------------------------------------


@router.get("/report", include_in_schema=False)
def report_page(
    request: Request,
    caller: Viewer,
    year: YearQuery = None,
    report_lang: Annotated[ReportLang | None, Query()] = None,
) -> Response:
    return _report_page(request, caller, year, _report_lang(request, caller, report_lang))


@router.get("/api/report", tags=["report"])
def api_report(
    request: Request,
    caller: Viewer,
    year: YearQuery = None,
    lang: Annotated[ReportLang | None, Query(description="default: the caller's")] = None,
) -> ReportOut:
    """The report of a year in one language: its sections with their narrative text (the
    ledger's, else the packaged default) and versions, the gap list and the download URLs.
    Text, gaps and downloads only for callers who see every entity (the report is the
    group's)."""
    return report_data(request, caller.who, year, _report_lang(request, caller, lang))


@router.get(
    "/api/report/{year}/{lang}.{fmt}",
    tags=["report"],
    response_class=Response,
    responses={200: {"content": {t: {} for t in report.MEDIA_TYPES.values()}}},
)
def api_download(
    request: Request, year: YearPath, lang: LangPath, fmt: FormatPath, caller: Exporter
) -> Response:
    """The report file (HTML, PDF, DOCX or XLSX) built from the ledger's current data; only
    for callers who see every entity, and for years the ledger holds figures of (404 else).
    The download is recorded in the audit log."""
    engine, who = engine_of(request), caller.who
    if not access.is_group_wide(engine, who):
        raise Forbidden(GROUP_ONLY)
    if year not in data_years(request):
        raise NotFound(f"the ledger holds no figures of {year}: there is no report of it")
    try:
        content, built = rendered(request, year, lang, fmt)
    except BUILD_ERRORS as exc:
        log.exception("building the report %s/%s.%s failed", year, lang, fmt)
        detail = f"the report cannot be built now: {type(exc).__name__}"
        return JSONResponse({"detail": detail}, status_code=503)
    with write_transaction(engine) as conn:
        audit.append(
            conn,
            who.username,
            "export",
            "report",
            f"{year}/{lang}.{fmt}",
            after={
                "bytes": len(content),
                "sha256": hashlib.sha256(content).hexdigest(),
                "data_version": built.meta.get("data_version"),
                "built_at": built.meta.get("built_at"),
            },
        )
    return attachment(content, report.MEDIA_TYPES[fmt], report.file_name(year, lang, fmt))


def _known(section_id: str) -> None:
    if section_id not in narrative.section_ids():
        raise NotFound(f"no report section {section_id}")


@router.put("/api/report/{year}/{lang}/narratives/{section_id}", tags=["report"])
def api_set_narrative(
    request: Request,
    year: YearPath,
    lang: LangPath,
    section_id: SectionPath,
    body: NarrativeBody,
    caller: Editor,
) -> NarrativeOut:
    """Store a section's text (group-wide editors only); ``base_version`` is the version read:
    409 with ``current_version`` when it changed since, 409 when the year is locked."""
    _known(section_id)
    version = narrative.set_narrative(
        engine_of(request), caller.who, year, lang, section_id, body.text, body.base_version
    )
    return NarrativeOut(year=year, lang=lang, section_id=section_id, version=version)


@router.post("/report/{year}/{lang}/narratives/{section_id}", include_in_schema=False)
def narrative_form(
    request: Request,
    year: YearPath,
    lang: LangPath,
    section_id: SectionPath,
    caller: Editor,
    text: Annotated[str, Form(max_length=2 * narrative.MAX_TEXT)] = "",
    base_version: Annotated[str, Form(max_length=12)] = "",
) -> Response:
    _known(section_id)
    try:
        seen = whole_number(base_version, "base_version")
        narrative.set_narrative(engine_of(request), caller.who, year, lang, section_id, text, seen)
    except (Conflict, Invalid) as exc:
        current = exc.current_version if isinstance(exc, Conflict) else None
        return _report_page(
            request,
            caller,
            year,
            lang,
            exc.status,
            error=str(exc),
            error_section=section_id,
            typed={section_id: text},
            conflict_version=current,
        )
    return RedirectResponse(
        f"/report?year={year}&report_lang={lang}&done={SAVED}#narrative-{section_id}",
        status_code=303,
    )
