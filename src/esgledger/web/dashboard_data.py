"""The carbon panorama's figures and their lineage, for one caller: library code, no HTTP.

Every figure comes from the inventory the service computes (``service.run_inventory``, the
factors and consolidation of :mod:`esgledger.calc`); this module only selects, adds up and
labels. What a caller sees is filtered here, server-side, by ``Principal.sees``: an entity
outside the caller's scope contributes to nothing they are shown, and the group row (``*``)
is the sum over their visible entities. Group-level material (targets, consistency findings,
KRI warnings, and the lineage of group figures) is shown only to callers who see every entity.

The panorama's :class:`Snapshot` is memoised in the Book of the ledger's data version
(:mod:`esgledger.book`): every committed write the figures depend on moves the version
(store migration 0010), so the next request gets a new Book and a new snapshot; nothing else
recomputes it, and the inventory behind it is the Book's, shared with every other caller.
"""

from __future__ import annotations

import logging
import math
import threading
from collections import Counter, OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from esgledger import service
from esgledger.auth.accounts import Principal
from esgledger.book import Book, Source, current_book
from esgledger.calc import InventoryResult
from esgledger.calc.explain import Node
from esgledger.calc.outline import MAX_LINES
from esgledger.checks import evaluate, load_rules
from esgledger.domain.figure_id import FigureId
from esgledger.domain.model import Entity
from esgledger.figures.inventory import outline, outline_parts
from esgledger.store import provenance
from esgledger.store.ledger import Ledger
from esgledger.store.version import DataVersion
from esgledger.usecases.years import default_year
from esgledger.web.fresh import Latest
from esgledger.workflow import collection
from esgledger.workflow.errors import NotFound

#: The figures of the panorama, in display order.
FIGURES = ("scope1", "scope2_location", "scope2_market", "scope3", "total", "energy_tce")
GHG_CODES = {
    "scope1": "S1",
    "scope2_location": "S2L",
    "scope2_market": "S2M",
    "scope3": "S3",
    "total": "TOTAL",
}
UNITS = {**dict.fromkeys(GHG_CODES, "tCO2e"), "energy_tce": "tce"}
GROUP = "*"
DONE = ("approved", "locked")
EXPLAIN_CACHE_SIZE = 64
log = logging.getLogger(__name__)


# -- the cached inventory -------------------------------------------------------------------


@dataclass(frozen=True)
class EntityInfo:
    entity_id: str
    name: str
    name_zh: str | None
    parent_id: str | None


@dataclass
class GroupExtras:
    """Group-level material of a year: target statuses, consistency findings, KRI warnings."""

    targets: list[dict[str, Any]]
    findings: list[dict[str, Any]]
    kri: list[dict[str, Any]]
    pathway: dict[str, Any] | None = None
    """The year's progress on the group's pathway (:func:`pathway_row`), None without one."""


@dataclass
class Snapshot:
    """The inventory of every year at one data version, with what the pages derive from it."""

    version: DataVersion
    result: InventoryResult
    entities: dict[str, EntityInfo]
    roots: tuple[str, ...]
    book: Book
    """The Book the snapshot was made from (its lineage trees come from the same one)."""
    by_entity: dict[tuple[int, str], dict[str, float]]
    group: dict[int, dict[str, float]]
    years: list[int]
    computed_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    """When the snapshot was made (shown beside a previous version served during a rebuild)."""
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    """Guards ``explained`` (short holds)."""
    extras_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    """Held while the group extras of a year are computed."""
    extras: dict[int, GroupExtras] = field(default_factory=dict, repr=False)
    explained: OrderedDict[tuple[str, int, int], dict[str, Any]] = field(
        default_factory=OrderedDict, repr=False
    )

    @property
    def latest_year(self) -> int | None:
        return self.years[-1] if self.years else None


def _entity_figures(result: InventoryResult) -> dict[tuple[int, str], dict[str, float]]:
    """The figures of every (year, entity), with the filters of ``InventoryResult
    .scope_totals`` and ``energy_totals`` applied to all entities at once."""
    lines, energy = result.lines, result.energy
    scope, basis, tco2e = lines["scope"], lines["basis"], lines["tco2e"].astype("float64")
    parts = pd.DataFrame(
        {
            "year": lines["year"].astype("int64"),
            "entity_id": lines["entity_id"].astype(str),
            "scope1": tco2e.where(scope == 1, 0.0),
            "scope2_location": tco2e.where((scope == 2) & basis.isin(("both", "location")), 0.0),
            "scope2_market": tco2e.where((scope == 2) & basis.isin(("both", "market")), 0.0),
            "scope3": tco2e.where(scope == 3, 0.0),
        }
    )
    ghg = parts.groupby(["year", "entity_id"]).sum()
    total_basis = f"scope2_{result.settings.scope2_total_basis}"
    ghg["total"] = ghg["scope1"] + ghg[total_basis] + ghg["scope3"]
    tce = pd.DataFrame(
        {
            "year": energy["year"].astype("int64"),
            "entity_id": energy["entity_id"].astype(str),
            "energy_tce": energy["tce"].astype("float64"),
        }
    )
    joined = ghg.join(tce.groupby(["year", "entity_id"]).sum(), how="outer").fillna(0.0)
    flat = joined.reset_index()
    keys = zip(flat["year"].astype("int64"), flat["entity_id"].astype(str), strict=True)
    values = flat[list(FIGURES)].astype("float64").to_dict("records")
    return {
        (int(year), entity): {f: float(v[f]) for f in FIGURES}
        for (year, entity), v in zip(keys, values, strict=True)
    }


def _group_figures(result: InventoryResult) -> dict[int, dict[str, float]]:
    """The consolidated figures of each year, exactly as the inventory reports them."""
    return {
        year: {**result.scope_totals(year), "energy_tce": result.energy_totals(year)["tce"]}
        for year in result.years()
    }


def _info(entity: Entity) -> EntityInfo:
    return EntityInfo(entity.entity_id, entity.name, entity.name_zh, entity.parent_id)


def build_snapshot(book: Book) -> Snapshot:
    """The panorama's figures from the Book's inventory of every year (stored settings),
    with the records lineage reads."""
    result = book.inventory()
    organisation = book.organisation()
    return Snapshot(
        version=book.version,
        result=result,
        entities={e.entity_id: _info(e) for e in sorted(organisation, key=lambda e: e.entity_id)},
        roots=tuple(e.entity_id for e in organisation.roots()),
        book=book,
        by_entity=_entity_figures(result),
        group=_group_figures(result),
        years=result.years(),
    )


SNAPSHOT = ("dashboard.snapshot",)
SNAPSHOT_REST = 2.0
"""Under ``--fresh-wait``, the pause after a snapshot build, as a multiple of its time (on top
of the shared budget's): while data arrives in bursts the figures are rebuilt at most a third
of the time, the pages showing the previous complete ones, labelled, meanwhile."""


class InventoryCache:
    """The panorama's :class:`Snapshot` of the ledger's current Book (made once per Book).

    Thread-safe (the Book's memo): requests of one version share one snapshot. When a write
    has made a new version, ``wait`` says how a request gets its snapshot
    (:class:`esgledger.web.fresh.Latest`): None (the default) waits for the new one; a number
    of seconds builds it in the background and waits at most that long, then answers with the
    previous complete snapshot, whose ``version`` and ``computed_at`` the page shows (fresh or
    honest: a page never shows a partial computation, and data arriving in bursts makes one
    rebuild after the other, of the newest version, not one per version). ``esgledger serve``
    sets it (``--fresh-wait``).
    """

    def __init__(self, wait: float | None = None) -> None:
        self.wait = wait
        self._book: Book | None = None
        self._ledger: Ledger | None = None
        self._latest = self._new_slot()
        self._guard = threading.Lock()
        self.computations = 0
        """Snapshots built (one per data version built)."""

    @property
    def current(self) -> Snapshot | None:
        """The snapshot of the last Book asked for (None before the first computation)."""
        book = self._book
        return None if book is None else book.peek(SNAPSHOT)

    def book(self, ledger: Ledger) -> Book:
        """The ledger's current Book (:func:`esgledger.book.current_book`: the one every
        library call on this ledger object shares)."""
        book = self._book = current_book(ledger)
        return book

    def get(self, ledger: Ledger) -> Snapshot:
        """The snapshot of the current version, or, under ``wait``, the previous complete one
        while the current one is being built (see the class text)."""
        book = self.book(ledger)
        found: Snapshot | None = book.peek(SNAPSHOT)
        if found is not None:
            return found
        return self._slot(ledger).get(book.version, lambda: self._build(book)).value

    def is_current(self, snapshot: Snapshot, ledger: Ledger) -> bool:
        """Whether ``snapshot`` is of the ledger's current data version."""
        return snapshot.book is self.book(ledger)

    def _slot(self, ledger: Ledger) -> Latest[Snapshot]:
        with self._guard:
            if self._ledger is not ledger:  # another ledger: nothing of the last one applies
                self._ledger, self._latest = ledger, self._new_slot()
            return self._latest

    def _new_slot(self) -> Latest[Snapshot]:
        return Latest(self.wait, "snapshot", rest=SNAPSHOT_REST)

    def _build(self, book: Book) -> Snapshot:
        def build() -> Snapshot:
            self.computations += 1
            made = build_snapshot(book)
            if made.latest_year is not None:
                outline_parts(book, made.latest_year)  # what a group figure's tree lists
                try:  # with the figures, so that no group page computes them on its own
                    group_extras(made, made.latest_year)
                except Exception:  # a group page asks again and shows the error
                    log.exception("the group material of %s failed", made.latest_year)
            return made

        found: Snapshot = book.memo(SNAPSHOT, build)
        return found


# -- who sees what --------------------------------------------------------------------------


def group_wide(who: Principal, snapshot: Snapshot) -> bool:
    """True when the caller sees every entity: only then are group figures theirs."""
    return who.sees_all(snapshot.entities)


def visible_entities(who: Principal, snapshot: Snapshot) -> list[str]:
    return [e for e in snapshot.entities if who.sees(e)]


def _finite(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _zero() -> dict[str, float]:
    return dict.fromkeys(FIGURES, 0.0)


def _figures_of(snapshot: Snapshot, year: int, entity_ids: Iterable[str]) -> dict[str, float]:
    out = _zero()
    for entity_id in entity_ids:
        found = snapshot.by_entity.get((year, entity_id))
        if found is not None:
            for name in FIGURES:
                out[name] += found[name]
    return out


def _sum_row(who: Principal, snapshot: Snapshot, year: int, shown: list[str]) -> dict[str, float]:
    if group_wide(who, snapshot):
        return dict(snapshot.group.get(year, _zero()))
    return _figures_of(snapshot, year, shown)


# -- the dashboard --------------------------------------------------------------------------


def _completeness(listed: list[dict[str, Any]], year: int) -> dict[str, Any]:
    """The campaigns of the year (``collection.list_campaigns``, which counts the caller's
    visible requests only): approved or locked requests over all of them."""
    campaigns = []
    for c in listed:
        if int(c["year"]) != year:
            continue
        done = sum(int(c["by_status"].get(s, 0)) for s in DONE)
        requests = int(c["requests"])
        campaigns.append(
            {
                "campaign_id": int(c["campaign_id"]),
                "name": str(c["name"]),
                "status": str(c["status"]),
                "due_date": c["due_date"].isoformat(),
                "requests": requests,
                "done": done,
                "ratio": done / requests if requests else None,
                "by_status": {str(k): int(v) for k, v in c["by_status"].items()},
            }
        )
    done = sum(c["done"] for c in campaigns)
    requests = sum(c["requests"] for c in campaigns)
    return {
        "campaigns": campaigns,
        "done": done,
        "requests": requests,
        "ratio": done / requests if requests else None,
    }


def _target_row(status: Any) -> dict[str, Any]:
    target = status.target
    return {
        "target_id": target.target_id,
        "name_en": target.name("en"),
        "name_zh": target.name("zh"),
        "metric_id": target.metric_id,
        "entity_id": target.entity_id,
        "deadline_year": int(target.deadline_year),
        "evaluated_year": int(status.evaluated_year),
        "status": status.status.value,
        "reason": status.reason,
        "actual": _finite(status.actual),
        "required": _finite(status.required),
    }


def _finding_row(finding: Any) -> dict[str, Any]:
    return {
        "source": "check",
        "rule": finding.rule,
        "severity": finding.severity.value,
        "entity_id": finding.entity_id,
        "metric_id": finding.metric_id,
        "period": str(finding.year),
        "message": finding.message,
    }


def _kri_row(warning: Any) -> dict[str, Any]:
    return {
        "source": "kri",
        "rule": warning.rule_id,
        "severity": warning.severity.value,
        "entity_id": warning.entity_id,
        "metric_id": warning.metric_id,
        "period": warning.period,
        "message": warning.reason,
    }


def pathway_row(source: Source, year: int) -> dict[str, Any] | None:
    """The year's inventory total against the group's pathway to its milestones
    (:func:`esgledger.usecases.strategy_figures.pathway_progress`), with the lineage ids of both
    figures; None when the ledger cannot give one (no inventory of the year)."""
    from esgledger.usecases.strategy_figures import pathway_progress  # noqa: PLC0415
    from esgledger.usecases.targets import ledger_milestones  # noqa: PLC0415

    try:
        found = pathway_progress(source, year)
        marks = ledger_milestones(source)
    except (ValueError, ArithmeticError):
        return None
    base = found.base_year
    return {
        "base_year": base,
        "year": year,
        "status": found.status,
        "reason": found.reason,
        "actual_tco2e": _finite(found.actual_tco2e),
        "pathway_tco2e": _finite(found.group_tco2e),
        "contraction_tco2e": _finite(found.contraction_tco2e),
        "actual_id": str(FigureId.of("ghg", year, "TOTAL")),
        "pathway_id": str(FigureId.of("pathway", base, "group", year)),
        "contraction_id": str(FigureId.of("pathway", base, "contraction", year)),
        "milestones": {
            "peak": marks.peak,
            "neutrality": marks.neutrality,
            "net_zero": marks.net_zero,
        },
    }


def compute_extras(source: Source, year: int) -> GroupExtras:
    """Targets (``service.targets``), consistency findings (``service.check``), the KRI
    warnings of the year's months (the CLI's ``kri`` on the ledger's monthly series) and the
    progress on the group's pathway."""
    statuses, _problems = service.targets(source, year)
    findings = service.check(source, [year])
    rules, problems = load_rules()
    warnings = [] if problems else evaluate(service.monthly_series(source), rules)
    return GroupExtras(
        targets=[_target_row(s) for s in statuses],
        findings=[_finding_row(f) for f in findings],
        kri=[_kri_row(w) for w in warnings if str(w.period).startswith(f"{year}-")],
        pathway=pathway_row(source, year),
    )


def group_extras(snapshot: Snapshot, year: int) -> GroupExtras:
    """:func:`compute_extras` once per snapshot and year, from the snapshot's Book: the
    material of the figures shown (the latest year's is made with the snapshot)."""
    found = snapshot.extras.get(year)
    if found is not None:
        return found
    with snapshot.extras_lock:
        found = snapshot.extras.get(year)
        if found is None and not snapshot.entities:  # a new ledger: nothing to check yet
            found = GroupExtras([], [], [])
        if found is None:
            found = compute_extras(snapshot.book, year)
            snapshot.extras[year] = found
    return found


def _entity_json(snapshot: Snapshot, entity_id: str) -> dict[str, Any]:
    info = snapshot.entities[entity_id]
    return {"entity_id": entity_id, "name": info.name, "name_zh": info.name_zh}


def dashboard(
    ledger: Ledger, who: Principal, cache: InventoryCache, year: int | None = None
) -> dict[str, Any]:
    """Everything the panorama shows a caller for a year (default: the latest with records).

    ``entities`` are the caller's visible entities with their figures; ``group`` is their sum
    (the consolidated group figures for a caller who sees every entity); ``trend`` is the same
    sum for every year; ``targets`` and ``warnings`` are None unless the caller is group-wide.
    """
    snapshot = cache.get(ledger)
    listed = collection.list_campaigns(ledger.engine, who)
    campaign_years = {int(c["year"]) for c in listed}
    year = year or default_year(snapshot.book, otherwise=campaign_years)
    shown = visible_entities(who, snapshot)
    wide = group_wide(who, snapshot)
    entities = [
        {
            **_entity_json(snapshot, e),
            "figures": snapshot.by_entity.get((year, e), _zero()),
            "has_data": (year, e) in snapshot.by_entity,
        }
        for e in shown
    ]
    trend = [
        {"year": y, **_sum_row(who, snapshot, y, shown)}
        for y in snapshot.years
        if wide or any((y, e) in snapshot.by_entity for e in shown)
    ]
    out: dict[str, Any] = {
        "year": year,
        "years": sorted(set(snapshot.years) | campaign_years | {year}),
        "group_wide": wide,
        "units": UNITS,
        "scope2_total_basis": snapshot.result.settings.scope2_total_basis,
        "entities": entities,
        "group": {"entity_id": GROUP, "figures": _sum_row(who, snapshot, year, shown)},
        "trend": trend,
        "completeness": _completeness(listed, year),
        "targets": None,
        "warnings": None,
        "pathway": None,
        "as_of": {
            "version": str(snapshot.version),
            "computed_at": snapshot.computed_at.isoformat(timespec="seconds"),
            "current": cache.is_current(snapshot, ledger),
        },
    }
    if wide:
        # years with figures or campaigns only: any other year has nothing to report, and
        # computing it (several inventories) for every year a URL names would be a waste
        known = year in snapshot.years or year in campaign_years
        extras = group_extras(snapshot, year) if known else GroupExtras([], [], [])
        counts = Counter(t["status"] for t in extras.targets)
        out["targets"] = {"counts": dict(sorted(counts.items())), "items": extras.targets}
        out["warnings"] = [*extras.findings, *extras.kri]
        out["pathway"] = extras.pathway
    return out


def warm(ledger: Ledger, cache: InventoryCache) -> None:
    """Fill the cache: the inventory, and the group material of the latest year."""
    snapshot = cache.get(ledger)
    if snapshot.latest_year is not None:
        group_extras(snapshot, snapshot.latest_year)


# -- lineage --------------------------------------------------------------------------------


def figure_id(figure: str, year: int, entity_id: str | None = None) -> str:
    """The figure id of a panorama figure (the registry's grammar, ``domain.figure_id``)."""
    if figure not in UNITS:
        raise NotFound(f"no figure {figure!r}: one of {', '.join(FIGURES)}")
    entity = entity_id or None
    if figure == "energy_tce":
        return str(FigureId.of("energy", year, entity))
    return str(FigureId.of("ghg", year, GHG_CODES[figure], entity))


def _sources(ledger: Ledger, record_ids: set[str]) -> dict[str, dict[str, Any]]:
    """Where each record came from (file and row, form request or adjustment with reason)."""
    if not record_ids:
        return {}
    found = provenance.by_record_id(ledger.engine, record_ids)
    posted = [
        n
        for s in found.values()
        if (n := provenance.adjustment_number(s["source_kind"], s["source_file"])) is not None
    ]
    decided = provenance.adjustments(ledger.engine, posted) if posted else {}
    for source in found.values():
        source["link"] = None
        source["adjustment"] = None
        kind, _, number = str(source["source_file"]).partition(":")
        if source["source_kind"] == "form" and kind == "request" and number.isdigit():
            source["link"] = f"/requests/{number}"
        if source["source_kind"] == "adjustment" and number.isdigit():
            adjustment = decided.get(int(number))
            source["link"] = "/adjustments"
            if adjustment is not None:
                source["adjustment"] = {
                    "adjustment_id": int(adjustment["adjustment_id"]),
                    "metric_id": adjustment["metric_id"],
                    "reason": adjustment["reason"],
                    "before_value": _finite(adjustment["before_value"]),
                    "after_value": _finite(adjustment["after_value"]),
                    "unit": adjustment["unit"],
                    "proposed_by": adjustment["proposed_by"],
                    "decided_by": adjustment["decided_by"],
                    "status": adjustment["status"],
                }
    return found


def _kind(node: Node, depth: int) -> str:
    if node.kind:
        return node.kind
    if node.record is not None:
        return "record"
    if node.label.startswith("... "):
        return "more"
    if depth == 0:
        return "figure"
    # a line names the number of records it sums; an entity/category branch does not
    return "line" if "records" in node.detail else "group"


def _node_json(node: Node, sources: Mapping[str, dict[str, Any]], depth: int) -> dict[str, Any]:
    value = None if node.value is None or not math.isfinite(node.value) else float(node.value)
    entity = None if node.figure is None else FigureId.parse(node.figure).get("entity")
    return {
        "label": node.label,
        "kind": _kind(node, depth),
        "value": value,
        "unit": node.unit,
        "detail": {str(k): v for k, v in node.detail.items()},
        "source": None if node.record is None else sources.get(node.record),
        "figure_id": node.figure,
        "entity_id": None if entity is None else str(entity),
        "children": [_node_json(c, sources, depth + 1) for c in node.children],
    }


def lineage(
    ledger: Ledger,
    who: Principal,
    cache: InventoryCache,
    figure: str,
    *,
    year: int | None = None,
    entity_id: str | None = None,
    rows: int = 10,
    lines: int = MAX_LINES,
) -> dict[str, Any]:
    """The derivation tree of a panorama figure, one level at a time
    (:func:`esgledger.figures.inventory.outline`): a group figure's entities and their
    categories, each entity leading to its own figure; an entity's figure down to its largest
    ``lines`` lines per category, their factors and ``rows`` source records each.

    A group figure (no entity, or ``*``) is explained only to a caller who sees every entity;
    an entity's figure only to a caller who sees that entity. Anything else is NotFound, as
    for an object that does not exist.
    """
    snapshot = cache.get(ledger)
    year = year or snapshot.latest_year
    if year is None or year not in snapshot.years:
        raise NotFound(f"no figures for {year}")
    entity = None if entity_id in (None, "", GROUP) else entity_id
    if entity is None and not group_wide(who, snapshot):
        raise NotFound("no such figure: group figures are shown to those who see every entity")
    if entity is not None and (entity not in snapshot.entities or not who.sees(entity)):
        raise NotFound(f"unknown entity {entity}")
    fid = figure_id(figure, year, entity)
    key = (fid, rows, lines)
    with snapshot.lock:
        tree = snapshot.explained.get(key)
        if tree is not None:
            snapshot.explained.move_to_end(key)
    if tree is None:
        node = outline(snapshot.book, FigureId.parse(fid), rows, lines)
        tree = _node_json(node, _sources(ledger, node.records()), 0)
        with snapshot.lock:
            snapshot.explained[key] = tree
            while len(snapshot.explained) > EXPLAIN_CACHE_SIZE:
                snapshot.explained.popitem(last=False)
    return {
        "figure": figure,
        "figure_id": fid,
        "year": year,
        "entity": _entity_json(snapshot, entity) if entity else None,
        "unit": UNITS[figure],
        "tree": tree,
    }
