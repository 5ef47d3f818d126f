"""A state machine of the collection workflow (issue 15): no sequence of permitted actions by
scoped users can make a group-wide page fail or break the audit chain.

Each run starts from a fresh copy of the demo ledger with one user per role (the
``web_template`` fixture) and takes, in any order, actions the platform permits:

- a reviewer opens a campaign for some entities and metrics of an open year (2025, 2026);
- the owner of a request's entity (``owner``: S01, ``owner2``: S02) enters a value of each
  metric and submits;
- the reviewer returns or approves a submitted request;
- an approver locks a year, sometimes forcing past pending requests;
- an owner proposes a new value of a figure of a locked year, and an approver approves or
  rejects it;
- an owner imports a register file (business-continuity, information-security, suppliers)
  with rows of their entity, sometimes reusing a row id that another entity's rows of the year
  use;
- an owner imports a small file of reported figures of their entity (template ``metrics``).

An action the platform refuses with its own errors (``Conflict``, ``Forbidden``, ``Invalid``,
``NotFound``, ``RegisterRejected``, ``PeriodLockedError``, an import report with errors) is
fine: the rule notes the refusal (``Workflow.log``) and the run goes on.

After every step, the invariant:

- the audit chain verifies (``audit.verify``);
- every GET page and ``/api`` route, enumerated from ``app.routes``, without path parameters
  or with only those the machine can fill (``FILLED``: a register kind, a campaign or request
  it made, a year, the report's language and format), answers 200 to the group-wide users
  (admin, reviewer, approver, verifier) whose role has the route's permission. Routes with a
  ``year`` are also asked for the demo year and each year an action changed; a year other
  than the demo's may have no figures, and then the documented refusal (a redirect, 404 or
  422) is fine, a 5xx never is.

What it costs, and what is asked when: on the demo ledger every successful action makes a new
data version, and each new version is recomputed by the first page that reads it (measured on
2 cores: the dashboard about 1-1.5 s, the report 1-1.6 s, the Monte Carlo uncertainty about
1-1.6 s, the forecast and abatement curve 0.3-0.6 s each, every other route together about
0.5 s). Asking all of them after every step would take about 5 s a step. So:

- after every step, each route except those of ``AT_THE_END`` is asked once: without a year,
  and with one of the years in turn; with one set of path parameters in turn; as one of the
  group-wide users in turn (the pages differ between them only in their buttons);
- at the end of each run (``teardown``), every route, ``AT_THE_END`` included, with every year
  and every set of path parameters;
- a state already found good (same data version and audit head) is not asked again: every run
  starts from the template's state.

With 5 runs of at most 8 steps (derandomized: every run of the suite tries the same
sequences) the test takes about 80 s on 2 cores; shrinking a failure adds minutes, each
replayed step being asked again.
"""

from __future__ import annotations

import itertools
import re
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pandas as pd
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import Engine
from starlette.routing import BaseRoute

from esgledger import audit
from esgledger.auth import accounts
from esgledger.auth.accounts import Principal
from esgledger.auth.roles import Permission, Role, permissions
from esgledger.ingest.importer import import_file
from esgledger.store.ledger import Ledger, PeriodLockedError
from esgledger.usecases import registers
from esgledger.web.app import create_app
from esgledger.web.security import SESSION_COOKIE, permission_of
from esgledger.workflow import collection, periods
from esgledger.workflow.errors import Conflict, Forbidden, Invalid, NotFound

#: The group-wide users of the ``web_template`` fixture, and their roles.
GROUP_WIDE = {
    "admin": "admin",
    "reviewer": "reviewer",
    "approver": "approver",
    "verifier": "verifier",
}
#: The scoped owners of the ``web_template`` fixture, and the entity each may edit.
OWNERS = {"owner": "S01", "owner2": "S02"}
DEMO_YEAR = 2024  # the demo ledger's year: figures, inventory, registers
OPEN_YEARS = (2025, 2026)
YEARS = (DEMO_YEAR, *OPEN_YEARS)
METRICS = ("energy.electricity_purchased", "water.withdrawal")
#: Figures an owner imports in a ``metrics`` file, and their units (water: also collected).
REPORTED = {"water.withdrawal": "t", "workforce.headcount": "persons"}
REGISTERS = ("bcm", "infosec", "suppliers")
#: The platform's refusals: a rule that meets one notes it, nothing else.
REFUSALS = (Conflict, Forbidden, Invalid, NotFound, PeriodLockedError)
#: Routes outside the check: static files and the API's own documentation.
SKIPPED_PATHS = frozenset({"/static", "/api/openapi.json", "/api/docs", "/docs/oauth2-redirect"})
#: What a year without figures may answer: a redirect, not found, an invalid year.
NO_DATA = frozenset({302, 303, 307, 404, 422})
#: Path parameters the machine fills. Routes with any other one (lineage, evidence,
#: materiality, survey) are the access matrix's (tests/web/test_access_matrix.py).
FILLED = ("kind", "campaign_id", "request_id", "year", "lang", "fmt")
#: Routes asked at the end of each run, not after every step: the report, built for every
#: new data version (1-1.6 s), and the carbon strategy, whose forecast, abatement curve and
#: Monte Carlo uncertainty are too (0.3-1.6 s each), page or ``/api`` alike.
AT_THE_END = ("/report", "/api/report", "/strategy", "/api/strategy")

SETTINGS = settings(
    max_examples=5,
    stateful_step_count=8,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)


# -- routes ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    """A GET route the invariant asks."""

    path: str
    permission: str | None  # None: public
    params: tuple[str, ...]  # its path parameters, all in FILLED
    takes_year: bool  # an optional ``year`` query

    @property
    def at_the_end(self) -> bool:
        return any(self.path == p or self.path.startswith(p + "/") for p in AT_THE_END)

    def allows(self, role: str) -> bool:
        if self.permission is None or self.permission == "signed_in":
            return True
        return Permission(self.permission) in permissions()[Role(role)]

    def url(self, values: Sequence[object]) -> str:
        url = self.path
        for name, value in zip(self.params, values, strict=True):
            url = url.replace("{" + name + "}", str(value))
        return url


def _flatten(routes: Sequence[BaseRoute], prefix: str = "") -> Iterator[tuple[str, BaseRoute]]:
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:  # FastAPI keeps included routers as nodes of the route tree
            context = getattr(route, "include_context", None)
            yield from _flatten(inner.routes, prefix + str(getattr(context, "prefix", "")))
        else:
            yield prefix + str(getattr(route, "path", "")), route


def group_wide_routes() -> tuple[Route, ...]:
    """Every GET route of the app (pages and ``/api``) whose path parameters, if any, are all
    in ``FILLED``."""
    with Ledger.open("sqlite://") as ledger:
        app = create_app(ledger)
    found = []
    for path, route in _flatten(app.routes):
        if path in SKIPPED_PATHS or not isinstance(route, APIRoute):
            continue
        params = tuple(p.name for p in route.dependant.path_params)
        if "GET" not in (route.methods or ()) or not set(params) <= set(FILLED):
            continue
        takes_year = any(q.name == "year" for q in route.dependant.query_params)
        found.append(Route(path, permission_of(route.dependant), params, takes_year))
    return tuple(found)


ROUTES = group_wide_routes()


class InvariantError(AssertionError):
    """A group-wide view failed, or the audit chain does not verify."""


_ERRORS: dict[str, type[InvariantError]] = {}


def broken(where: str) -> type[InvariantError]:
    """The failure of an area (the dashboard, the registers, the report, the audit chain...):
    one exception type each, so that hypothesis reports and shrinks each on its own."""
    if where not in _ERRORS:
        name = "".join(w.title() for w in re.split(r"\W+", where) if w) + "Error"
        _ERRORS[where] = type(name, (InvariantError,), {"__module__": __name__})
    return _ERRORS[where]


def area(url: str) -> str:
    """The area of a page or API route: its first path segment (the dashboard for ``/``)."""
    parts = [p for p in url.split("/") if p]
    if parts[:1] == ["api"]:
        parts = parts[1:]
    return parts[0].split(".")[0] if parts else "dashboard"


# -- the ledger -----------------------------------------------------------------------------


def copy_ledger(source: Path, target: Path) -> None:
    """An SQLite ledger file with the files kept beside it (``<name>.*``: the audit anchor)."""
    shutil.copy(source, target)
    for sibling in source.parent.glob(f"{source.name}.*"):
        shutil.copy(sibling, target.parent / f"{target.name}{sibling.name[len(source.name) :]}")


def register_rows(template: Path) -> dict[tuple[str, str], pd.DataFrame]:
    """Valid register rows to import, by (kind, entity): the first demo rows of each owner's
    entity, as the file held them."""
    out = {}
    with Ledger.open(template) as ledger:
        for kind in REGISTERS:
            frame = registers.stored_frame(ledger.engine, kind, DEMO_YEAR)
            frame = frame.drop(columns=[c for c in frame.columns if c.startswith("_")])
            for entity in OWNERS.values():
                rows = frame[frame["entity_id"] == entity].head(3).reset_index(drop=True)
                assert not rows.empty, f"the demo has no {kind} rows of {entity}"
                out[kind, entity] = rows.astype(str)
    return out


def principal(engine: Engine, username: str) -> Principal:
    user_id = accounts.user_id_of(engine, username)
    assert user_id is not None, f"the web template has no user {username}"
    found = accounts.get_principal(engine, user_id)
    assert found is not None
    return found


# -- the machine ----------------------------------------------------------------------------


class Workflow(RuleBasedStateMachine):
    """The workflow on one fresh ledger; the test sets the class attributes."""

    template: ClassVar[Path]
    workdir: ClassVar[Path]
    rows: ClassVar[dict[tuple[str, str], pd.DataFrame]]
    verified: ClassVar[set[tuple[object, ...]]] = set()
    """States found good: (at the end, data version, audit head seq and hash)."""

    requests = Bundle("requests")
    submitted = Bundle("submitted")
    locked = Bundle("locked")

    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="machine-", dir=self.workdir))
        path = self.dir / "ledger.db"
        copy_ledger(self.template, path)
        self.ledger = Ledger.open(path)
        self.engine = self.ledger.engine
        self.app = create_app(self.ledger)
        # not as a context: no lifespan (the dashboard's cache warm-up); server errors raise
        self.client = TestClient(self.app)
        self.who = {name: principal(self.engine, name) for name in (*GROUP_WIDE, *OWNERS)}
        self.cookies = {
            name: accounts.start_session(self.engine, self.who[name].user_id)[0]
            for name in GROUP_WIDE
        }
        self.campaigns: list[int] = []
        self.entity_of: dict[int, str] = {}  # request id -> entity
        self.years: set[int] = set()  # the years an action changed
        self.serial = 0
        self.steps = 0
        self.failed = False
        self.log: list[str] = []  # the refusals met

    def teardown(self) -> None:
        """Every route, ``AT_THE_END`` included, with every year and every set of path
        parameters, on the final state (unless a step already failed)."""
        try:
            if not self.failed:
                self._check(final=True)
        finally:
            self.client.close()
            self.ledger.close()
            shutil.rmtree(self.dir, ignore_errors=True)

    # -- helpers --------------------------------------------------------------------------

    def _next(self) -> int:
        self.serial += 1
        return self.serial

    def _refused(self, action: str, reason: BaseException | str) -> None:
        text = reason if isinstance(reason, str) else f"{type(reason).__name__}: {reason}"
        self.log.append(f"refused {action}: {text[:300]}")

    def _version(self, username: str, request_id: int) -> int:
        detail = collection.request_detail(self.engine, self.who[username], request_id)
        return int(detail["version"])

    # -- rules ----------------------------------------------------------------------------

    @rule(
        target=requests,
        year=st.sampled_from(OPEN_YEARS),
        entities=st.lists(st.sampled_from(sorted(OWNERS.values())), min_size=1, unique=True),
        metrics=st.lists(st.sampled_from(METRICS), min_size=1, unique=True),
    )
    def create_campaign(self, year: int, entities: list[str], metrics: list[str]) -> Any:
        """A reviewer asks the entities for the metrics of an open year."""
        reviewer = self.who["reviewer"]
        try:
            campaign = collection.create_campaign(
                self.engine,
                reviewer,
                f"machine {self._next()}",
                year,
                date(year + 1, 3, 31),
                metrics,
                entities,
            )
        except REFUSALS as exc:
            self._refused(f"campaign of {year}", exc)
            return multiple()
        self.campaigns.append(campaign)
        self.years.add(year)
        detail = collection.campaign_detail(self.engine, reviewer, campaign)
        for r in detail["requests"]:
            self.entity_of[int(r["request_id"])] = str(r["entity_id"])
        return multiple(*(int(r["request_id"]) for r in detail["requests"]))

    @rule(target=submitted, request=requests, value=st.integers(min_value=0, max_value=10**6))
    def enter_and_submit(self, request: int, value: int) -> Any:
        """The owner of the request's entity enters a value of each metric and submits."""
        owner = next(name for name, e in OWNERS.items() if e == self.entity_of[request])
        who = self.who[owner]
        try:
            detail = collection.request_detail(self.engine, who, request)
            for item in detail["items"]:
                base = int(item["value"]["version"]) if item["value"] else 0
                collection.set_value(
                    self.engine, who, request, item["metric_id"], str(value), "", base_version=base
                )
            collection.submit(self.engine, who, request, base_version=self._version(owner, request))
        except REFUSALS as exc:
            self._refused(f"values of request {request}", exc)
            return multiple()
        return request

    @rule(request=consumes(submitted), approve=st.booleans())
    def review(self, request: int, approve: bool) -> None:
        """The reviewer approves a submitted request, or returns it to its owner."""
        reviewer = self.who["reviewer"]
        try:
            version = self._version("reviewer", request)
            if approve:
                collection.approve(self.engine, reviewer, request, base_version=version)
            else:
                collection.return_request(
                    self.engine, reviewer, request, "please check", base_version=version
                )
        except REFUSALS as exc:
            self._refused(f"review of request {request}", exc)

    @rule(target=locked, year=st.sampled_from(YEARS), force=st.booleans())
    def lock(self, year: int, force: bool) -> Any:
        """An approver locks a year (forcing it past pending requests, sometimes)."""
        try:
            periods.lock_period(self.engine, self.who["approver"], year, force=force)
        except REFUSALS as exc:
            self._refused(f"lock of {year}", exc)
            return multiple()
        self.years.add(year)
        return year

    @rule(
        year=locked,
        owner=st.sampled_from(sorted(OWNERS)),
        metric=st.sampled_from(METRICS),
        value=st.integers(min_value=0, max_value=10**6),
        approve=st.booleans(),
    )
    def adjust(self, year: int, owner: str, metric: str, value: int, approve: bool) -> None:
        """An owner proposes a new value of a figure of a locked year; an approver decides."""
        entity = OWNERS[owner]
        try:
            proposed = periods.propose_adjustment(
                self.engine, self.who[owner], entity, year, metric, str(value), "", "re-read"
            )
            periods.decide_adjustment(self.engine, self.who["approver"], proposed, approve)
        except REFUSALS as exc:
            self._refused(f"adjustment of {entity} {year} {metric}", exc)

    @rule(
        owner=st.sampled_from(sorted(OWNERS)),
        kind=st.sampled_from(REGISTERS),
        year=st.sampled_from(YEARS),
        count=st.integers(min_value=1, max_value=3),
        reuse=st.booleans(),
    )
    def import_register(self, owner: str, kind: str, year: int, count: int, reuse: bool) -> None:
        """An owner imports register rows of their entity, the first row sometimes under an
        id that another entity's current rows of the year use."""
        entity, key = OWNERS[owner], registers.register_kind(kind).key
        frame = self.rows[kind, entity].head(count).copy()
        serial = self._next()
        frame[key] = [f"machine-{kind}-{serial}-{i}" for i in range(len(frame))]
        if reuse:
            current = registers.stored_frame(self.engine, kind, year)
            taken = sorted(
                str(k)
                for k, e in zip(current.get(key, ()), current.get("entity_id", ()), strict=True)
                if str(e) not in ("", entity, "None", "nan")
            )
            if taken:
                frame.loc[0, key] = taken[0]
        path = self.dir / f"{kind}-{serial}.csv"
        frame.to_csv(path, index=False)
        try:
            registers.import_register(self.engine, self.who[owner], kind, year, path)
        except REFUSALS as exc:
            self._refused(f"{kind} register of {entity} {year}", exc)
            return
        self.years.add(year)

    @rule(
        owner=st.sampled_from(sorted(OWNERS)),
        year=st.sampled_from(YEARS),
        metric=st.sampled_from(sorted(REPORTED)),
        value=st.integers(min_value=0, max_value=10**6),
    )
    def import_metrics(self, owner: str, year: int, metric: str, value: int) -> None:
        """An owner imports a reported figure of their entity (template ``metrics``)."""
        entity, serial = OWNERS[owner], self._next()
        path = self.dir / f"metrics-{serial}.csv"
        path.write_text(
            "record_id,entity_id,period,metric_id,value,unit,numerator,denominator,"
            "data_quality,provenance,note\n"
            f"SM{serial},{entity},{year},{metric},{value},{REPORTED[metric]},,,"
            "measured,state machine,\n",
            encoding="utf-8",
        )
        try:
            report = import_file(self.ledger, path, kind="metrics", user=owner)
        except REFUSALS as exc:
            self._refused(f"{metric} of {entity} {year}", exc)
            return
        if not report.ok:
            self._refused(f"{metric} of {entity} {year}", "; ".join(map(str, report.diagnostics)))
            return
        self.years.add(year)

    # -- the invariant --------------------------------------------------------------------

    @invariant()
    def group_wide_views_answer_and_the_chain_verifies(self) -> None:
        self.steps += 1
        self._check(final=False)

    def _check(self, *, final: bool) -> None:
        verification = audit.verify(self.engine)
        problems = [("audit chain", f"audit chain: {p}") for p in verification.problems]
        state = (final, self.ledger.data_version(), verification.head_seq, verification.head_hash)
        if state not in self.verified:
            problems += self._views(final)
        if not problems:
            self.verified.add(state)
            return
        self.failed = True
        raise broken(problems[0][0])("\n".join(text for _, text in problems))

    def _views(self, final: bool) -> list[tuple[str, str]]:
        """Ask the routes: see the module's docstring for which, when."""
        years = sorted(self.years | {DEMO_YEAR})
        filled: dict[str, list[object]] = {
            "kind": list(REGISTERS),
            "campaign_id": list(self.campaigns),
            "request_id": sorted(self.entity_of),
            "year": list(years),
            "lang": ["zh"],  # the demo users' language: the report page builds it too
            "fmt": ["html"],
        }
        problems: list[tuple[str, str]] = []
        calls = 0
        for route in ROUTES:
            if route.at_the_end and not final:
                continue
            users = [name for name, role in GROUP_WIDE.items() if route.allows(role)]
            combos = list(itertools.product(*(filled[p] for p in route.params)))
            if not final:
                combos = combos[self.steps % len(combos) :][:1] if combos else []
            queried: list[int | None] = [None]
            if route.takes_year:
                queried += years if final else [years[self.steps % len(years)]]
            for combo in combos:
                in_path = dict(zip(route.params, combo, strict=True)).get("year")
                for year in queried:
                    username = users[(calls + self.steps) % len(users)]
                    calls += 1
                    asked = year if year is not None else in_path
                    url = route.url(combo)
                    problem = self._ask(url, username, year, asked)
                    if problem:
                        problems.append((area(url), problem))
        return problems

    def _ask(self, url: str, username: str, query: int | None, year: object) -> str | None:
        """The problem with the answer to one GET (None: fine). ``year`` is the year asked
        for, in the path or the query."""
        where = f"GET {url}{'' if query is None else f'?year={query}'} as {username}"
        try:
            response: httpx.Response = self.client.get(
                url,
                params={} if query is None else {"year": str(query)},
                headers={"cookie": f"{SESSION_COOKIE}={self.cookies[username]}"},
                follow_redirects=False,
            )
        except Exception as exc:  # an exception the app did not handle: a 500
            return f"{where}: 500, {type(exc).__name__}: {str(exc)[:300]}"
        status = response.status_code
        if status in (302, 303, 307) and "/login" in response.headers.get("location", ""):
            return f"{where}: sent to sign in"
        if status == 200:
            return None
        if year is not None and year != DEMO_YEAR and status in NO_DATA:
            return None  # a year without figures, refused as documented
        return f"{where}: {status} {response.text[:300]!r}"


# -- the test -------------------------------------------------------------------------------


def test_no_permitted_sequence_breaks_a_group_wide_view(web_template: Path, tmp_path: Path) -> None:
    template = tmp_path / "template.db"
    copy_ledger(web_template, template)
    with Ledger.open(template) as ledger:
        start = audit.verify(ledger.engine)
    assert start.ok, f"the web template's audit chain does not verify before any step: {start}"
    asked = {r.path for r in ROUTES}
    assert {"/", "/api/dashboard", "/registers/{kind}", "/api/report/{year}/{lang}.{fmt}"} <= asked
    Workflow.template = template
    Workflow.workdir = tmp_path
    Workflow.rows = register_rows(template)
    Workflow.verified = set()
    run_state_machine_as_test(Workflow, settings=SETTINGS)
