"""Period locks and the restatement trail.

The ESG committee locks a reporting year: its requests become ``locked`` and the ledger refuses
any further record of that year (imports and forms alike, see ``Ledger.post_batch``). A locked
figure then changes only through an adjustment: proposed with a reason and the value it
replaces, decided by a committee member other than the proposer, and on approval posted as a
record of the difference (``source_kind='adjustment'``) so the original records stay as they
were and lineage shows both.
"""

from __future__ import annotations

from typing import Any

from esgledger import audit
from esgledger.auth import access
from esgledger.auth.access import require
from esgledger.auth.accounts import Principal
from esgledger.auth.roles import Permission
from esgledger.domain.errors import Conflict, Forbidden, Invalid, NotFound
from esgledger.metrics.catalogue import Aggregation, Kind, load_catalogue
from esgledger.store import periods as store
from esgledger.store.collection import entity_region
from esgledger.store.engine import LedgerConnection as Connection
from esgledger.store.engine import LedgerEngine as Engine
from esgledger.store.engine import now, write_transaction
from esgledger.units import conversion_factor
from esgledger.workflow.collection import parse_value
from esgledger.workflow.posting import current_figure, is_activity_metric, post_records


def periods(engine: Engine, who: Principal) -> list[dict[str, Any]]:
    """Years with campaigns or locks: lock state and request counts by status (visible ones)."""
    require(who, Permission.VIEW)
    with engine.connect() as conn:
        locks = store.lock_rows(conn)
        rows = store.request_years(conn)
    years = sorted({int(r["year"]) for r in rows} | set(locks), reverse=True)
    out = []
    for year in years:
        mine = [r for r in rows if int(r["year"]) == year and who.sees(r["entity_id"])]
        counts: dict[str, int] = {}
        for r in mine:
            counts[r["status"]] = counts.get(r["status"], 0) + 1
        out.append({"year": year, "lock": locks.get(year), "requests": counts})
    return out


def lock_period(
    engine: Engine, who: Principal, year: int, *, note: str | None = None, force: bool = False
) -> int:
    """Lock a year; refused while requests of the year are not approved unless ``force``
    (recorded). Returns the number of requests locked."""
    require(who, Permission.LOCK)
    with write_transaction(engine) as conn:
        if not access.is_group_wide(conn, who):
            raise Forbidden("locking a year locks every entity: only a group-wide approver may")
        store.guard_years(conn, [year], exclusive=True)  # waits for writes that found it open
        if store.year_locked(conn, year):
            raise Conflict(f"period {year} is already locked")
        rows = store.requests_of_year(conn, year)
        pending = [r for r in rows if r["status"] != "approved"]
        if pending and not force:
            listed = ", ".join(
                f"{r['request_id']} ({r['entity_id']}: {r['status']})" for r in pending[:20]
            )
            raise Conflict(
                f"{len(pending)} request(s) of {year} are not approved: {listed}; "
                "approve or return them first, or lock anyway with force"
            )
        store.insert_lock(conn, year, who.username, note)
        approved = [int(r["request_id"]) for r in rows if r["status"] == "approved"]
        if approved:
            store.lock_requests(conn, approved)
        audit.append(
            conn,
            who.username,
            "lock",
            "period",
            year,
            after={
                "note": note,
                "locked_requests": approved,
                "forced_with_pending": [int(r["request_id"]) for r in pending],
            },
        )
    return len(approved)


def adjustable_metric(metric_id: str) -> None:
    metric = load_catalogue().get(metric_id) if metric_id in load_catalogue() else None
    if metric is None or metric.kind != Kind.INPUT:
        raise Invalid(f"{metric_id} is not a catalogue input metric")
    if metric.aggregation != Aggregation.SUM:
        raise Invalid(
            f"{metric_id} aggregates by {metric.aggregation.value}: only additive (sum) "
            "figures can be restated by a difference record"
        )


def propose_adjustment(
    engine: Engine,
    who: Principal,
    entity_id: str,
    year: int,
    metric_id: str,
    value_text: str,
    unit: str,
    reason: str,
) -> int:
    """Propose a new value for a figure of a locked year, with the reason."""
    require(who, Permission.PROPOSE_ADJUSTMENT)
    if not who.sees(entity_id):
        raise NotFound(f"unknown entity {entity_id}")
    if len(reason.strip()) < 5:
        raise Invalid("an adjustment needs a reason (what was wrong, which evidence)")
    adjustable_metric(metric_id)
    metric = load_catalogue().get(metric_id)
    unit = unit.strip() or metric.unit
    new = parse_value(value_text, unit, metric) * conversion_factor(unit, metric.unit)
    with write_transaction(engine) as conn:
        if not store.entity_exists(conn, entity_id):
            raise NotFound(f"unknown entity {entity_id}")
        if not store.year_locked(conn, year):
            raise Conflict(f"period {year} is not locked: change the figure in its data request")
        before = current_figure(conn, entity_id, year, metric_id)
        adjustment_id = store.insert_adjustment(
            conn,
            year=year,
            entity_id=entity_id,
            metric_id=metric_id,
            before_value=before,
            after_value=new,
            unit=metric.unit,
            reason=reason.strip(),
            status="proposed",
            proposed_by=who.username,
            proposed_at=now(),
        )
        audit.append(
            conn,
            who.username,
            "propose",
            "adjustment",
            adjustment_id,
            entity_id=entity_id,
            before={"metric_id": metric_id, "year": year, "value": before, "unit": metric.unit},
            after={"value": new, "typed": f"{value_text} {unit}", "reason": reason.strip()},
        )
    return adjustment_id


def decide_adjustment(
    engine: Engine, who: Principal, adjustment_id: int, approve: bool, note: str | None = None
) -> int | None:
    """Approve (posting the difference to the ledger; returns its batch id) or reject."""
    require(who, Permission.DECIDE_ADJUSTMENT)
    with write_transaction(engine) as conn:
        row = store.adjustment_for_update(conn, adjustment_id)
        if row is None or not who.sees(row["entity_id"]):
            raise NotFound(f"no adjustment {adjustment_id}")
        if row["status"] != "proposed":
            raise Conflict(f"adjustment {adjustment_id} is already {row['status']}")
        if row["proposed_by"] == who.username:
            raise Forbidden("an adjustment is decided by someone other than its proposer")
        batch_id = _post_difference(conn, who, row) if approve else None
        status = "approved" if approve else "rejected"
        store.decide(
            conn,
            adjustment_id,
            status=status,
            decided_by=who.username,
            decided_at=now(),
            decision_note=note,
            batch_id=batch_id,
        )
        audit.append(
            conn,
            who.username,
            status,
            "adjustment",
            adjustment_id,
            entity_id=row["entity_id"],
            before={"status": "proposed"},
            after={"status": status, "note": note, "batch_id": batch_id},
        )
    return batch_id


def _post_difference(conn: Connection, who: Principal, row: dict[str, Any]) -> int:
    """Post an approved adjustment; its batch id (Conflict when the figure changed since the
    adjustment was proposed). A figure of activity records (the inventory sums them) gets a
    record of the difference; a reported figure (a metric value) gets its restated value, a
    new version that supersedes the current one (one current value per figure)."""
    adjustment_id = row["adjustment_id"]
    current = current_figure(conn, row["entity_id"], int(row["year"]), row["metric_id"])
    if abs(current - float(row["before_value"])) > 1e-9 * max(1.0, abs(current)):
        raise Conflict(
            f"the figure changed since the adjustment was proposed ({row['before_value']} "
            f"then, {current} now): propose it again"
        )
    delta = float(row["after_value"]) - current
    additive = is_activity_metric(row["metric_id"])
    posted = delta if additive else float(row["after_value"])
    region = entity_region(conn, row["entity_id"])
    values = [
        {
            "metric_id": row["metric_id"],
            "value": posted,
            "value_text": f"{posted:+.10g}" if additive else f"{posted:.10g}",
            "unit": row["unit"],
        }
    ]
    return post_records(
        conn,
        kind="adjustment",
        label=f"adjustment:{adjustment_id}",
        entity_id=row["entity_id"],
        year=int(row["year"]),
        region=region,
        values=values,
        user=row["proposed_by"],
        record_prefix=f"ADJ{adjustment_id}",
        stamp="1",
        notes=[f"restatement: {row['reason']} (approved by {who.username})"],
    )


def adjustments(
    engine: Engine, who: Principal, *, year: int | None = None, entity_id: str | None = None
) -> list[dict[str, Any]]:
    """The adjustments ``who`` sees (of ``year`` and ``entity_id`` when given), newest first."""
    require(who, Permission.VIEW)
    with engine.connect() as conn:
        rows = store.adjustment_rows(conn, year=year, entity_id=entity_id)
    return [r for r in rows if who.sees(r["entity_id"])]


def is_locked(engine: Engine, year: int) -> bool:
    """Whether the committee locked ``year``."""
    with engine.connect() as conn:
        return store.year_locked(conn, year)


__all__ = [
    "adjustments",
    "decide_adjustment",
    "is_locked",
    "lock_period",
    "periods",
    "propose_adjustment",
]
