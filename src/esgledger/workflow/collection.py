"""Data collection: campaigns, per-entity data requests, values with versions, review.

A request moves ``draft -> submitted -> approved`` (or ``submitted -> returned -> submitted``)
and ``approved -> locked`` when the committee locks the year (:mod:`workflow.periods`).
Every value carries a version: an edit based on an older version is refused with
:class:`Conflict` (no lost updates). Approval posts the values to the ledger as one batch of
records (``source_kind='form'``, ``source_file='request:N'``) so that the calculation and
lineage see them like any imported record (:mod:`esgledger.workflow.posting`); evidence files
are in :mod:`esgledger.workflow.evidence`. Every function checks the caller's permission and
entity scope itself, whatever door it is called through; every change is audited in the same
transaction. The helpers that other workflow modules share (:func:`request_row`,
:func:`editable`) are here; the queries are in :mod:`esgledger.store.collection`, the
permission check is :func:`esgledger.auth.access.require`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from esgledger import audit
from esgledger.auth.access import require as require  # noqa: PLC0414 - re-export (report)
from esgledger.auth.accounts import Principal
from esgledger.auth.roles import Permission
from esgledger.domain.errors import Conflict, Invalid, NotFound
from esgledger.metrics.catalogue import Aggregation, Kind, Metric, load_catalogue
from esgledger.store import collection as store
from esgledger.store.engine import LedgerConnection as Connection
from esgledger.store.engine import LedgerEngine as Engine
from esgledger.store.engine import now, write_transaction
from esgledger.store.periods import year_locked
from esgledger.units import UnitError, conversion_factor
from esgledger.workflow.posting import post_records

EDITABLE = frozenset({"draft", "returned"})
STATUSES = ("draft", "submitted", "returned", "approved", "locked")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_GROUPED = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$")


# -- reading ------------------------------------------------------------------------------


def collectable_metrics() -> list[Metric]:
    """Catalogue metrics a campaign can ask an entity for: the inputs."""
    return [m for m in load_catalogue() if m.kind == Kind.INPUT]


def request_row(conn: Connection, who: Principal, request_id: int) -> dict[str, Any]:
    """A request with its campaign's ``year`` and ``campaign_name``, locked for the rest of a
    write transaction; NotFound when it does not exist or ``who`` does not see its entity."""
    row = store.request_for_update(conn, request_id)
    if row is None or not who.sees(row["entity_id"]):
        raise NotFound(f"no data request {request_id}")
    return row


def _campaign_row(conn: Connection, campaign_id: int) -> dict[str, Any]:
    row = store.campaign_row(conn, campaign_id)
    if row is None:
        raise NotFound(f"no campaign {campaign_id}")
    return row


def list_campaigns(engine: Engine, who: Principal) -> list[dict[str, Any]]:
    """Campaigns with the number of the user's visible requests by status."""
    require(who, Permission.VIEW)
    with engine.connect() as conn:
        campaigns = store.campaign_rows(conn)
        counts = store.request_statuses(conn)
    for campaign in campaigns:
        mine = [
            c
            for c in counts
            if c["campaign_id"] == campaign["campaign_id"] and who.sees(c["entity_id"])
        ]
        campaign["requests"] = len(mine)
        campaign["by_status"] = {s: sum(1 for c in mine if c["status"] == s) for s in STATUSES}
    return [
        c
        for c in campaigns
        if c["requests"] or who.scope is None or who.can(Permission.MANAGE_CAMPAIGNS)
    ]


def campaign_detail(
    engine: Engine, who: Principal, campaign_id: int, today: date | None = None
) -> dict[str, Any]:
    """A campaign, its metrics and the user's visible requests (overdue flagged)."""
    require(who, Permission.VIEW)
    today = today or date.today()
    with engine.connect() as conn:
        campaign = _campaign_row(conn, campaign_id)
        rows = store.campaign_requests(conn, campaign_id)
        requests = [r for r in rows if who.sees(r["entity_id"])]
        metric_ids = store.campaign_metric_ids(conn, campaign_id)
        filled = store.filled_counts(conn, [r["request_id"] for r in requests])
    if not requests and who.scope is not None and not who.can(Permission.MANAGE_CAMPAIGNS):
        raise NotFound(f"no campaign {campaign_id}")
    for r in requests:
        r["filled"] = int(filled.get(r["request_id"], 0))
        r["overdue"] = r["status"] in EDITABLE and r["due_date"] < today
    campaign["metrics"] = metric_ids
    campaign["requests"] = requests
    total = len(requests) or 1
    campaign["completeness"] = sum(r["status"] in ("approved", "locked") for r in requests) / total
    return campaign


def overdue(engine: Engine, who: Principal, today: date | None = None) -> list[dict[str, Any]]:
    """Reminders: the user's visible requests past their due date and not yet submitted."""
    require(who, Permission.VIEW)
    today = today or date.today()
    with engine.connect() as conn:
        rows = store.overdue_requests(conn, EDITABLE, today)
    return [
        {**r, "days_overdue": (today - r["due_date"]).days}
        for r in rows
        if who.sees(r["entity_id"])
    ]


def request_detail(engine: Engine, who: Principal, request_id: int) -> dict[str, Any]:
    """A request with its metrics (catalogue fields), values, comments and evidence list."""
    require(who, Permission.VIEW)
    catalogue = load_catalogue()
    with engine.connect() as conn:
        req = request_row(conn, who, request_id)
        metric_ids = store.campaign_metric_ids(conn, req["campaign_id"])
        values = store.request_values(conn, request_id)
        comments = store.request_comments(conn, request_id)
        evidence = store.request_evidence(conn, request_id)
        entity = store.entity_name(conn, req["entity_id"])
        locked = year_locked(conn, req["year"])
    items = []
    for metric_id in metric_ids:
        metric = catalogue.get(metric_id)
        items.append(
            {
                "metric_id": metric_id,
                "name_en": metric.name_en,
                "name_zh": metric.name_zh,
                "unit": metric.unit,
                "unit_label": metric.unit_label,
                "unit_label_zh": metric.unit_label_zh,
                "definition": metric.definition,
                "value": values.get(metric_id),
            }
        )
    req["entity_name"] = entity["name"] if entity else req["entity_id"]
    req["entity_name_zh"] = entity["name_zh"] if entity else None
    req["items"] = items
    req["comments"] = comments
    req["evidence"] = evidence
    req["period_locked"] = locked
    req["can_edit"] = who.can(Permission.EDIT) and req["status"] in EDITABLE and not locked
    req["can_review"] = who.can(Permission.REVIEW) and req["status"] == "submitted"
    return req


# -- campaigns ----------------------------------------------------------------------------


def create_campaign(
    engine: Engine,
    who: Principal,
    name: str,
    year: int,
    due_date: date,
    metric_ids: Sequence[str],
    entity_ids: Sequence[str],
    *,
    assignees: dict[str, int] | None = None,
    instructions: str | None = None,
) -> int:
    """A campaign and one draft request per entity (all entities must be in the user's
    scope; metrics must be catalogue inputs)."""
    require(who, Permission.MANAGE_CAMPAIGNS)
    _check_campaign(who, name, year, metric_ids, entity_ids)
    assignees = assignees or {}
    with write_transaction(engine) as conn:
        existing = store.existing_entities(conn, entity_ids)
        missing = [e for e in entity_ids if e not in existing]
        if missing:
            raise NotFound(f"unknown entities: {', '.join(missing)}")
        _refuse_collected(store.collecting_requests(conn, year, entity_ids, metric_ids), year)
        campaign_id = store.insert_campaign(
            conn,
            dict.fromkeys(metric_ids),
            name=name.strip(),
            year=year,
            due_date=due_date,
            status="open",
            instructions=instructions,
            created_by=who.username,
            created_at=now(),
        )
        for entity_id in dict.fromkeys(entity_ids):
            store.insert_request(
                conn,
                campaign_id=campaign_id,
                entity_id=entity_id,
                assignee_id=assignees.get(entity_id),
                status="draft",
                version=1,
                due_date=due_date,
            )
        audit.append(
            conn,
            who.username,
            "create",
            "campaign",
            campaign_id,
            after={
                "name": name,
                "year": year,
                "due_date": due_date,
                "metrics": list(metric_ids),
                "entities": list(entity_ids),
            },
        )
    return campaign_id


def _refuse_collected(found: Sequence[Mapping[str, Any]], year: int) -> None:
    """Conflict when a figure (entity, metric, year) is already asked for by a request: a
    figure is collected by one request, so that two approvals never post it twice."""
    if not found:
        return
    listed = [
        f"{r['entity_id']} {r['metric_id']} {year} by request {r['request_id']} "
        f"({r['status']}) of campaign {r['campaign_id']} '{r['campaign_name']}'"
        for r in found[:10]
    ]
    more = f"; and {len(found) - 10} more" if len(found) > 10 else ""
    raise Conflict(
        "a figure is collected by one request: " + "; ".join(listed) + more + ". Leave these "
        "out, or correct the value in that request (a locked year: propose an adjustment)"
    )


def _check_campaign(
    who: Principal, name: str, year: int, metric_ids: Sequence[str], entity_ids: Sequence[str]
) -> None:
    if not name.strip():
        raise Invalid("a campaign needs a name")
    if not 1900 < year < 2200:
        raise Invalid(f"year {year} is out of range")
    known = {m.metric_id for m in collectable_metrics()}
    wrong = [m for m in metric_ids if m not in known]
    if wrong:
        raise Invalid(f"not collectable catalogue metrics (inputs): {', '.join(wrong)}")
    if not metric_ids or not entity_ids:
        raise Invalid("a campaign needs at least one metric and one entity")
    foreign = [e for e in entity_ids if not who.sees(e)]
    if foreign:
        raise NotFound(f"unknown entities: {', '.join(foreign)}")


# -- values -------------------------------------------------------------------------------


def parse_value(text: str, unit: str, metric: Metric) -> float:
    """The number a user typed (``1,234.5`` allowed) in a unit convertible to the metric's."""
    raw = text.strip()
    plain = raw.replace(",", "") if _GROUPED.match(raw) else raw
    if not _NUMBER.match(plain):
        raise Invalid(f"{metric.metric_id}: {raw!r} is not a number")
    number = float(plain)
    if not math.isfinite(number):
        raise Invalid(f"{metric.metric_id}: {raw!r} is not a finite number")
    if number < 0 and metric.aggregation == Aggregation.SUM:
        raise Invalid(f"{metric.metric_id}: {raw} is negative; a quantity cannot be negative")
    try:
        conversion_factor(unit, metric.unit)
    except UnitError as exc:
        raise Invalid(f"{metric.metric_id}: {exc}") from exc
    return number


@dataclass(frozen=True)
class ValueEdit:
    """One value to enter: what the user typed and the value's version they saw (0 = new)."""

    metric_id: str
    value_text: str
    unit: str
    base_version: int
    note: str | None = None


def set_value(
    engine: Engine,
    who: Principal,
    request_id: int,
    metric_id: str,
    value_text: str,
    unit: str,
    *,
    base_version: int,
    note: str | None = None,
) -> int:
    """Enter or change one value; ``base_version`` is the value's version the user saw (0 for
    a value not entered yet). Returns the new version."""
    edit = ValueEdit(metric_id, value_text, unit, base_version, note)
    return set_values(engine, who, request_id, [edit])[metric_id]


def set_values(
    engine: Engine, who: Principal, request_id: int, edits: Sequence[ValueEdit]
) -> dict[str, int]:
    """Enter several values in one transaction: any invalid value or stale version and none is
    written. Returns each metric's new version."""
    require(who, Permission.EDIT)
    with engine.connect() as conn:  # refused edits answer without waiting for the write lock
        req, asked = _editable_request(conn, who, request_id)
        for edit in edits:
            _checked(conn, req, edit, asked)
    with write_transaction(engine) as conn:  # checked again: it may have changed meanwhile
        req, asked = _editable_request(conn, who, request_id)
        versions = {e.metric_id: _set_one(conn, who, req, e, asked) for e in edits}
        if versions:
            store.bump_request(conn, request_id)
    return versions


def _editable_request(
    conn: Connection, who: Principal, request_id: int
) -> tuple[dict[str, Any], set[str]]:
    """The request (which ``who`` sees and may edit now) and the metrics it asks for."""
    req = request_row(conn, who, request_id)
    editable(conn, req)
    return req, set(store.campaign_metric_ids(conn, req["campaign_id"]))


def _checked(
    conn: Connection, req: dict[str, Any], edit: ValueEdit, asked: set[str]
) -> tuple[float | None, str, dict[str, Any] | None, int]:
    """An edit's number, unit, the stored value row and its version, or the edit's refusal:
    NotFound (a metric not asked for), Invalid (a value that is no number of the unit) or
    Conflict (a stale ``base_version``)."""
    request_id, metric_id = int(req["request_id"]), edit.metric_id
    if metric_id not in asked:
        raise NotFound(f"metric {metric_id} is not asked for in request {request_id}")
    metric = load_catalogue().get(metric_id)
    unit = edit.unit.strip() or metric.unit
    number = parse_value(edit.value_text, unit, metric) if edit.value_text.strip() else None
    current = store.value_row(conn, request_id, metric_id)
    have = 0 if current is None else int(current["version"])
    if edit.base_version != have:
        raise Conflict(
            f"{metric_id} was changed by {current['updated_by'] if current else 'someone'} "
            f"(version {have}, you edited version {edit.base_version}): reload and re-enter",
            current_version=have,
        )
    return number, unit, current, have


def _set_one(
    conn: Connection, who: Principal, req: dict[str, Any], edit: ValueEdit, asked: set[str]
) -> int:
    request_id, metric_id = int(req["request_id"]), edit.metric_id
    number, unit, current, have = _checked(conn, req, edit, asked)
    fields = {
        "value": number,
        "value_text": edit.value_text.strip(),
        "unit": unit,
        "note": (edit.note or "").strip() or None,
        "version": have + 1,
        "updated_by": who.username,
        "updated_at": now(),
    }
    if current is None:
        store.insert_value(conn, request_id, metric_id, fields)
    else:
        updated = store.update_value(conn, current["value_id"], fields, version=have)
        if updated != 1:  # pragma: no cover - guarded by the write lock
            raise Conflict(f"{metric_id} changed while saving: reload", current_version=None)
    kept = ("value_text", "unit", "note", "version")
    audit.append(
        conn,
        who.username,
        "set_value",
        "request_value",
        f"{request_id}/{metric_id}",
        entity_id=req["entity_id"],
        before=None if current is None else {k: current[k] for k in kept},
        after={k: fields[k] for k in kept},
    )
    return have + 1


def editable(conn: Connection, req: dict[str, Any]) -> None:
    """Conflict unless the request may be edited: its year is not locked, it is a draft or
    returned."""
    if year_locked(conn, req["year"]):
        raise Conflict(f"period {req['year']} is locked: figures change only through an adjustment")
    if req["status"] not in EDITABLE:
        raise Conflict(f"request {req['request_id']} is {req['status']}: it cannot be edited")


def _check_version(req: dict[str, Any], base_version: int) -> None:
    if int(req["version"]) != base_version:
        raise Conflict(
            f"request {req['request_id']} changed since you opened it (version {req['version']}, "
            f"you saw {base_version}): reload",
            current_version=int(req["version"]),
        )


def add_comment(
    engine: Engine, who: Principal, request_id: int, body: str, metric_id: str | None = None
) -> int:
    require(who, Permission.COMMENT)
    if not body.strip():
        raise Invalid("a comment cannot be empty")
    with write_transaction(engine) as conn:
        req = request_row(conn, who, request_id)
        comment_id = _comment(conn, who, request_id, body, "comment", metric_id)
        audit.append(
            conn,
            who.username,
            "comment",
            "request",
            request_id,
            entity_id=req["entity_id"],
            after={"comment_id": comment_id, "metric_id": metric_id, "body": body.strip()},
        )
    return comment_id


def _comment(
    conn: Connection,
    who: Principal,
    request_id: int,
    body: str,
    kind: str,
    metric_id: str | None = None,
) -> int:
    return store.insert_comment(conn, request_id, who.username, body.strip(), kind, metric_id)


# -- transitions ----------------------------------------------------------------------------


def submit(engine: Engine, who: Principal, request_id: int, *, base_version: int) -> None:
    """Hand the request to the reviewers: every metric needs a value or a note saying why not."""
    require(who, Permission.EDIT)
    with write_transaction(engine) as conn:
        req = request_row(conn, who, request_id)
        editable(conn, req)
        _check_version(req, base_version)
        values = store.value_states(conn, request_id)
        missing = [
            m
            for m in store.campaign_metric_ids(conn, req["campaign_id"])
            if m not in values or (values[m]["value"] is None and not values[m]["note"])
        ]
        if missing:
            raise Invalid(
                f"enter a value, or a note saying why there is none, for: {', '.join(missing)}"
            )
        _transition(conn, who, req, "submitted", submitted_by=who.username, submitted_at=now())


def return_request(
    engine: Engine, who: Principal, request_id: int, comment: str, *, base_version: int
) -> None:
    """Send a submitted request back to its owner with the reason."""
    require(who, Permission.REVIEW)
    if not comment.strip():
        raise Invalid("say what needs fixing when returning a request")
    with write_transaction(engine) as conn:
        req = request_row(conn, who, request_id)
        _check_version(req, base_version)
        if req["status"] != "submitted":
            raise Conflict(f"request {request_id} is {req['status']}, not submitted")
        _comment(conn, who, request_id, comment, "return")
        _transition(
            conn, who, req, "returned", reviewed_by=who.username, reviewed_at=now(), comment=comment
        )


def approve(
    engine: Engine,
    who: Principal,
    request_id: int,
    *,
    base_version: int,
    comment: str | None = None,
) -> int:
    """Accept a submitted request and post its values to the ledger; returns the batch id."""
    require(who, Permission.REVIEW)
    with write_transaction(engine) as conn:
        req = request_row(conn, who, request_id)
        _check_version(req, base_version)
        if req["status"] != "submitted":
            raise Conflict(f"request {request_id} is {req['status']}, not submitted")
        if year_locked(conn, req["year"]):
            raise Conflict(f"period {req['year']} is locked")
        values = store.posted_values(conn, request_id)
        posted = store.collecting_requests(
            conn,
            int(req["year"]),
            [req["entity_id"]],
            [v["metric_id"] for v in values],
            statuses=("approved", "locked"),
            exclude_request=request_id,
        )
        _refuse_collected(posted, int(req["year"]))
        if comment and comment.strip():
            _comment(conn, who, request_id, comment, "approve")
        region = store.entity_region(conn, req["entity_id"])
        batch_id = post_records(
            conn,
            kind="form",
            label=f"request:{request_id}",
            entity_id=req["entity_id"],
            year=int(req["year"]),
            region=region,
            values=values,
            user=req["submitted_by"] or who.username,
            record_prefix=f"REQ{request_id}",
            stamp=str(req["version"]),
        )
        _transition(
            conn,
            who,
            req,
            "approved",
            reviewed_by=who.username,
            reviewed_at=now(),
            batch_id=batch_id,
        )
    return batch_id


def _transition(
    conn: Connection,
    who: Principal,
    req: dict[str, Any],
    status: str,
    *,
    comment: str | None = None,
    **fields: Any,
) -> None:
    store.set_request_status(conn, req["request_id"], req["version"], status, **fields)
    after: dict[str, Any] = {"status": status}
    if comment:
        after["comment"] = comment
    if "batch_id" in fields:
        after["batch_id"] = fields["batch_id"]
    audit.append(
        conn,
        who.username,
        status,
        "request",
        req["request_id"],
        entity_id=req["entity_id"],
        before={"status": req["status"]},
        after=after,
    )


# -- uploads ------------------------------------------------------------------------------


def apply_upload(
    engine: Engine, who: Principal, request_id: int, values: Sequence[Any], *, base_version: int
) -> int:
    """Enter the values of an uploaded template (all or nothing, one version check for the
    request); returns the request's new version."""
    require(who, Permission.EDIT)
    with write_transaction(engine) as conn:
        req = request_row(conn, who, request_id)
        editable(conn, req)
        _check_version(req, base_version)
        asked = set(store.campaign_metric_ids(conn, req["campaign_id"]))
        catalogue = load_catalogue()
        for item in values:
            if item.metric_id not in asked:
                raise Invalid(f"metric {item.metric_id} is not asked for in request {request_id}")
            parse_value(item.value_text, item.unit, catalogue.get(item.metric_id))
        current = store.request_values(conn, request_id)
        stamp = now()
        for item in values:
            old = current.get(item.metric_id)
            fields = {
                "value": float(item.value),
                "value_text": item.value_text,
                "unit": item.unit,
                "note": item.note,
                "version": 1 if old is None else int(old["version"]) + 1,
                "updated_by": who.username,
                "updated_at": stamp,
            }
            if old is None:
                store.insert_value(conn, request_id, item.metric_id, fields)
            else:
                store.update_value(conn, old["value_id"], fields)
        store.bump_request(conn, request_id)
        audit.append(
            conn,
            who.username,
            "upload",
            "request",
            request_id,
            entity_id=req["entity_id"],
            before={
                m: {"value_text": v["value_text"], "unit": v["unit"]} for m, v in current.items()
            },
            after={i.metric_id: {"value_text": i.value_text, "unit": i.unit} for i in values},
        )
    return int(req["version"]) + 1
