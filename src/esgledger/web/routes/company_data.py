"""The company's own reference data on the web: its own metrics, its measure catalogue, its
measured fuel properties and its factor packs. Each is listed as entered, downloaded as the
file the CLI exports and entered from such a file (all or nothing, every problem located
``file:row:column``): the same use cases as ``esgledger metrics|strategy measures|fuel|factors
import`` (:mod:`esgledger.usecases`), which check that the caller edits the whole group,
refuse a change that would alter a locked year's figures and write the audit log. The data
are the group's, so a caller who does not see every entity is refused here (403) before any
read.

One table (:data:`TABLES`) declares the four; :func:`_add_routes` gives each the same five
routes: ``GET /company/<slug>`` (page), ``GET /company/<slug>.csv``, ``POST /company/<slug>``
(form), ``GET|POST /api/company/<slug>``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any

import pandas as pd
from fastapi import APIRouter, Depends, File, Request, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel

from esgledger.auth import access
from esgledger.auth.accounts import Principal
from esgledger.auth.roles import Permission
from esgledger.domain.errors import Rejected
from esgledger.store.engine import LedgerEngine as Engine
from esgledger.store.ledger import Ledger
from esgledger.usecases import factor_packs, fuel_properties, measures, metric_definitions
from esgledger.usecases.csv_files import TableImport
from esgledger.usecases.exports import record_export
from esgledger.web.routes.common import Viewer, attachment, engine_of, page, see_other
from esgledger.web.security import Caller, ledger, need
from esgledger.workflow.errors import Invalid, WorkflowError

router = APIRouter()

Editor = Annotated[Caller, Depends(need(Permission.EDIT))]
MAX_BYTES = 2_000_000
"""A reference file is at most a few thousand rows: two megabytes is far beyond any."""
FLASHES = frozenset({"company_data_imported"})


@dataclass(frozen=True, slots=True)
class Table:
    """One kind of company reference data: where it lives and how it is read and entered."""

    slug: str
    title: str
    """The i18n key of its name."""
    hint: str
    """The i18n key of what its file holds."""
    audit_type: str
    """The object type of its audit entries (the CLI's export writes the same)."""
    csv_text: Callable[[Ledger], str]
    """The file as the CLI's export writes it."""
    enter: Callable[[Engine, Principal, str, str], Any]
    """The use case that enters a file (text, file name)."""
    changed: Callable[[Any], int]
    """How many rows an entry changed (0: the same file again)."""


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): v for k, v in row.items()} for row in frame.to_dict("records")]


def _replaced(done: TableImport) -> int:
    return len(done.added) + len(done.changed) + len(done.removed)


def _changes(done: fuel_properties.FuelImport | factor_packs.PackImport) -> int:
    return len(done.changes)


TABLES: Mapping[str, Table] = {
    t.slug: t
    for t in (
        Table(
            "metrics",
            "company_metrics",
            "company_metrics_hint",
            "metric_definitions",
            lambda led: metric_definitions.metrics_csv(led.metric_definition_rows()),
            metric_definitions.import_metrics,
            _replaced,
        ),
        Table(
            "measures",
            "company_measures",
            "company_measures_hint",
            "measure_catalogue",
            lambda led: measures.measures_csv(led.measure_rows()),
            measures.import_measures,
            _replaced,
        ),
        Table(
            "fuel-properties",
            "company_fuel",
            "company_fuel_hint",
            "fuel_properties",
            lambda led: fuel_properties.fuel_properties_csv(_records(led.fuel_properties())),
            fuel_properties.import_fuel_properties,
            _changes,
        ),
        Table(
            "factor-packs",
            "company_packs",
            "company_packs_hint",
            "user_factor",
            lambda led: factor_packs.factor_pack_csv(_records(led.user_factors())),
            factor_packs.import_factor_pack,
            _changes,
        ),
    )
}


class RowsOut(BaseModel):
    columns: list[str]
    rows: list[dict[str, str]]
    """The cells as entered (the file's text)."""


class EnteredOut(BaseModel):
    count: int
    """Rows of the file."""
    changed: int
    """Rows added, changed or removed (0: the ledger held the same)."""


def _group_wide(request: Request, caller: Caller, table: Table) -> None:
    access.require_group_wide(engine_of(request), caller.who, f"the company's {table.slug}")


def _rows(table: Table, request: Request) -> RowsOut:
    reader = csv.reader(io.StringIO(table.csv_text(ledger(request))))
    header = next(reader, [])
    return RowsOut(columns=header, rows=[dict(zip(header, r, strict=False)) for r in reader])


def _enter(table: Table, request: Request, caller: Caller, upload: UploadFile) -> EnteredOut:
    name = (upload.filename or f"{table.slug}.csv").replace("\\", "/").rsplit("/", 1)[-1]
    content = upload.file.read(MAX_BYTES + 1)
    if len(content) > MAX_BYTES:
        raise Invalid(f"{name}: over {MAX_BYTES:,} bytes; split the file")
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Invalid(f"{name}: not UTF-8 text ({exc.reason})") from exc
    done = table.enter(engine_of(request), caller.who, text, name)
    return EnteredOut(count=int(done.count), changed=table.changed(done))


def _problems(exc: WorkflowError) -> list[str]:
    if isinstance(exc, Rejected):
        return [f"{p.location()}: {p.message}" for p in exc.problems]
    return [str(exc)]


def _page(
    table: Table, request: Request, caller: Caller, status_code: int = 200, **context: Any
) -> Response:
    listed = _rows(table, request)
    return page(
        request,
        caller,
        "company_data.html",
        status_code,
        FLASHES,
        table=table,
        tables=list(TABLES.values()),
        listed=listed,
        **context,
    )


def _add_routes(table: Table) -> None:
    """The five routes of one table (closures over ``table``)."""
    path = f"/company/{table.slug}"

    @router.get(path, include_in_schema=False, name=f"{table.slug}_page")
    def data_page(request: Request, caller: Viewer) -> Response:
        _group_wide(request, caller, table)
        return _page(table, request, caller)

    @router.get(f"/api{path}", tags=["company data"], name=f"api_{table.slug}")
    def api_rows(request: Request, caller: Viewer) -> RowsOut:
        _group_wide(request, caller, table)
        return _rows(table, request)

    @router.get(f"{path}.csv", include_in_schema=False, name=f"{table.slug}_download")
    def download(request: Request, caller: Viewer) -> Response:
        """The file as entered, recorded in the audit log as an export."""
        _group_wide(request, caller, table)
        content = table.csv_text(ledger(request)).encode("utf-8")
        rows = content.count(b"\n") - 1
        record_export(
            engine_of(request), caller.who, table.audit_type, "all", content, fmt="csv", rows=rows
        )
        return attachment(content, "text/csv; charset=utf-8", f"{table.slug}.csv")

    @router.post(path, include_in_schema=False, name=f"{table.slug}_upload")
    def upload_form(
        request: Request, caller: Editor, file: Annotated[UploadFile, File()]
    ) -> Response:
        _group_wide(request, caller, table)
        try:
            _enter(table, request, caller, file)
        except WorkflowError as exc:
            return _page(table, request, caller, exc.status, problems=_problems(exc))
        return see_other(path, "company_data_imported")

    @router.post(f"/api{path}", tags=["company data"], name=f"api_{table.slug}_upload")
    def api_upload(
        request: Request,
        caller: Editor,
        file: Annotated[UploadFile, File(description="the file (CSV, UTF-8)")],
    ) -> EnteredOut:
        """Enter a file, all or nothing: a rejected file is 422 with every problem located
        (``file:row:column``) in ``detail``; nothing is stored. A change that would alter a
        locked year's figures is 409."""
        _group_wide(request, caller, table)
        return _enter(table, request, caller, file)


for _table in TABLES.values():
    _add_routes(_table)
