"""The access matrix: EVERY route of the app, called by every demo user and anonymously, on an
object of an entity the caller sees ("own") and on one of an entity they do not ("foreign").

The routes are enumerated from ``app.routes``, so a new route is tested as soon as it exists;
the test fails when it cannot cover one: a route without a declared permission (and not in
``routes.PUBLIC``), or a path (or required query) parameter it does not know how to fill.

Expectations come from the route's declared permission (``security.permission_of``) and the
role table (``auth.roles.permissions``):

- anonymous: 401 for ``/api`` routes, a redirect to ``/login`` for pages;
- a role without the permission: 403, and nothing changes;
- a caller with the permission, on objects they see: neither 401 nor 403;
- a caller with the permission on a route of the group's report (``GROUP_WIDE_ROUTES``) whose
  scope is short of the whole group: 403;
- a caller with the permission, on an object of an entity outside their scope: never a 2xx or
  a redirect, nothing changes (row counts and contents of the platform tables, audit head);
- whatever the route, a response to a caller with a limited scope never contains the data of
  an entity outside it (marker texts planted in values, notes, comments, evidence, reasons);
- any refused write (4xx) changes nothing; no route answers 5xx.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import shutil
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, params
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from pydantic import BaseModel
from sqlalchemy import Engine, func, select
from starlette.routing import BaseRoute

from esgledger.auth import accounts
from esgledger.auth.accounts import Principal
from esgledger.auth.roles import Permission, Role, permissions
from esgledger.store.engine import TABLES
from esgledger.store.ledger import Ledger
from esgledger.web.app import create_app
from esgledger.web.routes import PUBLIC
from esgledger.web.security import SESSION_COOKIE, permission_of
from esgledger.workflow import collection, periods
from esgledger.workflow.evidence import add_evidence

#: Routes outside the matrix: static files and the API documentation.
SKIPPED_PATHS = frozenset({"/static", "/api/openapi.json", "/api/docs", "/docs/oauth2-redirect"})
#: The callers, anonymous first; the administrator last (their writes touch other users).
CALLERS: tuple[str | None, ...] = (
    None,
    "viewer",
    "owner",
    "owner2",
    "verifier",
    "approver",
    "reviewer",
    "admin",
)
OWN_ENTITY = {"owner2": "S02", "viewer": "S02"}  # everyone else: S01
ENTITIES = ("S01", "S02")
YEAR = 2025  # the campaigns' year
LOCKED_YEAR = 2024  # locked, with a proposed adjustment for each entity
METRICS = ("energy.electricity_purchased", "water.withdrawal")
METRIC = METRICS[0]
#: Parameters naming an object that belongs to an entity.
ENTITY_LINKED = frozenset(
    {
        "request_id",
        "campaign_id",
        "evidence_id",
        "adjustment_id",
        "entity_id",
        "entity_ids",
        "entity",
        "lineage_id",
    }
)
#: Parameters naming a user's own things (refused for another user's on signed-in routes).
USER_LINKED = frozenset({"user_id", "token_id"})
BROWSER = "text/html,application/xhtml+xml,*/*;q=0.8"


def password(username: str) -> str:
    return f"{username}-password-1"


# -- the world ------------------------------------------------------------------------------


def markers(entity: str) -> dict[str, str]:
    """Texts planted in an entity's objects: none may reach a caller who does not see it."""
    tag = hashlib.sha256(entity.encode()).hexdigest()[:6]
    numbers = {"S01": ("31415.926", "16180.339"), "S02": ("27182.818", "14142.136")}[entity]
    return {
        "value": numbers[0],
        "water": numbers[1],
        "note": f"note-{entity}-{tag}",
        "comment": f"comment-{entity}-{tag}",
        "file": f"evidence-{entity}-{tag}.txt",
        "content": f"content-{entity}-{tag}",
        "reason": f"reason-{entity}-{tag}",
        "pending": f"pending-{entity}-{tag}",
        "campaign": f"campaign-{entity}-only-{tag}",
    }


@dataclass(frozen=True)
class World:
    """A ledger file with the objects the matrix points at, and their ids."""

    path: Path
    users: dict[str, int]  # username -> user_id
    tokens: dict[str, int]  # username -> id of one of their API tokens
    campaign: int  # the 2025 campaign with requests for S01 and S02
    only: dict[str, int]  # entity -> a 2025 campaign with that entity's request only
    requests: dict[str, int]  # entity -> its request of the shared campaign
    evidence: dict[str, int]
    adjustments: dict[str, int]  # entity -> a proposed adjustment (an approved one exists too)
    scopes: dict[str, frozenset[str] | None]  # username -> entities seen (None: all)
    names: dict[str, tuple[str, ...]]  # entity -> its names (English, Chinese)

    def sees(self, username: str, entity: str) -> bool:
        scope = self.scopes[username]
        return scope is None or entity in scope


def _principal(engine: Engine, users: dict[str, int], username: str) -> Principal:
    found = accounts.get_principal(engine, users[username])
    assert found is not None
    return found


def build_world(path: Path) -> World:
    with Ledger.open(path) as ledger:
        engine = ledger.engine
        users = {str(u["username"]): int(str(u["user_id"])) for u in accounts.list_users(engine)}
        who = {name: _principal(engine, users, name) for name in users}
        due = date(YEAR, 6, 30)
        shared = collection.create_campaign(
            engine, who["reviewer"], "Matrix 2025", YEAR, due, METRICS, ENTITIES
        )
        only = {  # the next year's: a figure of an entity and year is asked for once
            e: collection.create_campaign(
                engine, who["reviewer"], markers(e)["campaign"], YEAR + 1, due, METRICS, [e]
            )
            for e in ENTITIES
        }
        detail = collection.campaign_detail(engine, who["admin"], shared)
        requests = {r["entity_id"]: int(r["request_id"]) for r in detail["requests"]}
        solo = {
            e: int(collection.campaign_detail(engine, who["admin"], c)["requests"][0]["request_id"])
            for e, c in only.items()
        }
        evidence, adjustments = {}, {}
        periods.lock_period(engine, who["approver"], LOCKED_YEAR, note="matrix")
        for entity, owner in (("S01", "owner"), ("S02", "owner2")):
            mark = markers(entity)
            for request_id in (requests[entity], solo[entity]):
                collection.set_value(
                    engine,
                    who[owner],
                    request_id,
                    METRIC,
                    mark["value"],
                    "",
                    base_version=0,
                    note=mark["note"],
                )
                collection.set_value(
                    engine, who[owner], request_id, METRICS[1], mark["water"], "", base_version=0
                )
            collection.add_comment(engine, who[owner], requests[entity], mark["comment"])
            evidence[entity] = add_evidence(
                engine, who[owner], requests[entity], mark["file"], mark["content"].encode()
            )
            approved = periods.propose_adjustment(
                engine, who[owner], entity, LOCKED_YEAR, METRIC, "12345", "", mark["reason"]
            )
            periods.decide_adjustment(engine, who["approver"], approved, approve=True)
            adjustments[entity] = periods.propose_adjustment(
                engine, who[owner], entity, LOCKED_YEAR, METRIC, "23456", "", mark["pending"]
            )
        tokens = {
            name: accounts.create_token(engine, "test", user_id, "matrix")[0]
            for name, user_id in users.items()
        }
        scopes = scopes_of(engine, users)
        table = TABLES["entity"]
        with engine.connect() as conn:
            names = {
                r.entity_id: tuple(n for n in (r.name, r.name_zh) if n)
                for r in conn.execute(select(table))
            }
    return World(path, users, tokens, shared, only, requests, evidence, adjustments, scopes, names)


def scopes_of(engine: Engine, users: dict[str, int]) -> dict[str, frozenset[str] | None]:
    """The entities each user sees, worked out here from the grants and the entity tree
    (not by the code under test): the granted entities and their descendants; all for
    administrators and for grants covering every entity."""
    entity, grant, user = TABLES["entity"], TABLES["user_entity"], TABLES["app_user"]
    with engine.connect() as conn:
        parents = {r.entity_id: r.parent_id for r in conn.execute(select(entity))}
        grants = [(r.user_id, r.entity_id) for r in conn.execute(select(grant))]
        roles = {r.user_id: r.role for r in conn.execute(select(user))}

    def under(node: str, root: str) -> bool:
        while node:
            if node == root:
                return True
            node = parents.get(node) or ""
        return False

    out: dict[str, frozenset[str] | None] = {}
    for name, user_id in users.items():
        roots = {e for u, e in grants if u == user_id}
        seen = frozenset(e for e in parents if any(under(e, r) for r in roots))
        out[name] = None if roles[user_id] == "admin" or seen == set(parents) else seen
    return out


@pytest.fixture(scope="session")
def world_template(web_template: Path, tmp_path_factory: pytest.TempPathFactory) -> World:
    path = tmp_path_factory.mktemp("matrix") / "matrix.db"
    shutil.copy(web_template, path)
    return build_world(path)


@dataclass
class Matrix:
    """One fresh copy of the world with its app and client."""

    world: World
    ledger: Ledger
    app: FastAPI
    client: TestClient
    problems: list[str] = field(default_factory=list)


@pytest.fixture
def matrix(world_template: World, tmp_path: Path) -> Iterator[Matrix]:
    path = tmp_path / "matrix.db"
    shutil.copy(world_template.path, path)
    world = World(**{**world_template.__dict__, "path": path})
    ledger = Ledger.open(path)
    app = create_app(ledger)
    client = TestClient(app)  # not as a context: no lifespan (the dashboard's cache warm-up)
    yield Matrix(world, ledger, app, client)
    client.close()
    ledger.close()


# -- routes ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RouteInfo:
    method: str
    path: str
    route: APIRoute

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def is_api(self) -> bool:
        return self.path.startswith("/api/") or self.path == "/api"

    @property
    def permission(self) -> str | None:
        return permission_of(self.route.dependant)

    @property
    def path_params(self) -> list[str]:
        return [p.name for p in self.route.dependant.path_params]

    @property
    def required_query(self) -> list[str]:
        return [q.name for q in self.route.dependant.query_params if q.field_info.is_required()]

    @property
    def selecting_query(self) -> list[str]:
        """Optional query parameters the matrix fills (``QUERY_FILLERS``)."""
        return [
            q.name
            for q in self.route.dependant.query_params
            if not q.field_info.is_required() and q.name in QUERY_FILLERS
        ]

    def body_names(self) -> set[str]:
        names: set[str] = set()
        for body in self.route.dependant.body_params:
            annotation = body.field_info.annotation
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                names |= set(annotation.model_fields)
            else:
                names.add(body.name)
        return names

    def linked(self) -> bool:
        """Whether the route names an object of an entity (path, required query or body)."""
        names = set(self.path_params) | set(self.required_query) | set(self.selecting_query)
        names |= self.body_names()
        return bool(names & ENTITY_LINKED)


def _flatten(routes: Sequence[BaseRoute], prefix: str = "") -> Iterator[tuple[str, BaseRoute]]:
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:  # FastAPI keeps included routers as nodes of the route tree
            context = getattr(route, "include_context", None)
            yield from _flatten(inner.routes, prefix + str(getattr(context, "prefix", "")))
        else:
            yield prefix + str(getattr(route, "path", "")), route


def app_routes(app: FastAPI) -> tuple[list[RouteInfo], list[str]]:
    """Every (method, path) of the app, and the routes the matrix cannot drive."""
    found, strange = [], []
    for path, route in _flatten(app.routes):
        if path in SKIPPED_PATHS:
            continue
        if not isinstance(route, APIRoute):
            strange.append(f"{type(route).__name__} {path}: not an API route")
            continue
        found.extend(RouteInfo(m, path, route) for m in sorted(route.methods or ()))
    return found, strange


def _collect_keys() -> list[str]:
    with Ledger.open("sqlite://") as ledger:
        routes, _ = app_routes(create_app(ledger))
    return [r.key for r in routes]


ROUTE_KEYS = _collect_keys()


# -- filling parameters and bodies ----------------------------------------------------------


@dataclass(frozen=True)
class Call:
    """Who calls, and on whose objects."""

    username: str | None
    own: bool
    world: World
    engine: Engine

    @property
    def own_entity(self) -> str:
        return OWN_ENTITY.get(self.username or "", "S01")

    @property
    def entity(self) -> str:
        if self.own:
            return self.own_entity
        return next(e for e in ENTITIES if e != self.own_entity)

    @property
    def user(self) -> str:
        """Whose user id and token the call names."""
        if self.own and self.username is not None:
            return self.username
        return "owner" if self.username == "owner2" else "owner2"

    @property
    def label(self) -> str:
        return f"{self.username or 'anonymous'} on {'own' if self.own else 'foreign'} objects"

    def request_version(self) -> int:
        table = TABLES["data_request"]
        with self.engine.connect() as conn:
            found = conn.scalar(
                select(table.c.version).where(
                    table.c.request_id == self.world.requests[self.entity]
                )
            )
        return int(found or 0)

    def value_version(self) -> int:
        table = TABLES["request_value"]
        with self.engine.connect() as conn:
            found = conn.scalar(
                select(table.c.version).where(
                    table.c.request_id == self.world.requests[self.entity],
                    table.c.metric_id == METRIC,
                )
            )
        return int(found or 0)


_names = itertools.count(1)


def _risk_of(call: Call) -> str:
    """The lineage id of a business-continuity risk of the call's entity (demo registers)."""
    table = TABLES["register_entry"]
    with call.engine.connect() as conn:
        key = conn.scalar(
            select(table.c.row_key)
            .where(
                table.c.kind == "bcm",
                table.c.year == LOCKED_YEAR,
                table.c.entity_id == call.entity,
                table.c.superseded_by.is_(None),
            )
            .order_by(table.c.row_key)
            .limit(1)
        )
    assert key is not None, f"the demo has no {LOCKED_YEAR} bcm risk of {call.entity}"
    return f"bcm:{LOCKED_YEAR}:{key}"


#: Path and required query parameters: the contract's names.
PATH_FILLERS: dict[str, Callable[[Call], object]] = {
    "request_id": lambda c: c.world.requests[c.entity],
    "campaign_id": lambda c: c.world.campaign if c.own else c.world.only[c.entity],
    "evidence_id": lambda c: c.world.evidence[c.entity],
    "adjustment_id": lambda c: c.world.adjustments[c.entity],
    "user_id": lambda c: c.world.users[c.user],
    "token_id": lambda c: c.world.tokens[c.user],
    "year": lambda c: LOCKED_YEAR,
    "entity_id": lambda c: c.entity,
    "metric_id": lambda c: METRIC,
    "figure": lambda c: "scope2_location",  # electricity: the adjustments show in its lineage
    "lang": lambda c: "en",  # the report's language
    "fmt": lambda c: "html",  # the report's format (the quickest to build)
    "section_id": lambda c: "climate",  # a section of the report
    "materiality_id": lambda c: 1,  # the demo's signed-off 2024 materiality campaign
    "kind": lambda c: "bcm",  # a per-entity assessment register
    "lineage_id": _risk_of,  # an assessment figure of the call's entity
}

#: Routes serving the group's report (group-level material): a caller with the permission
#: whose scope is short of the whole group is refused (403), whatever entity they own.
GROUP_WIDE_ROUTES = frozenset(
    {
        "GET /api/report/{year}/{lang}.{fmt}",
        "PUT /api/report/{year}/{lang}/narratives/{section_id}",
        "POST /report/{year}/{lang}/narratives/{section_id}",
        # the company's targets (routes/targets.py)
        "GET /targets",
        "GET /api/targets",
        "GET /targets.csv",
        "POST /targets",
        "POST /api/targets",
        # the company's own reference data (routes/company_data.py)
        *(
            route
            for slug in ("metrics", "measures", "fuel-properties", "factor-packs")
            for route in (
                f"GET /company/{slug}",
                f"GET /api/company/{slug}",
                f"GET /company/{slug}.csv",
                f"POST /company/{slug}",
                f"POST /api/company/{slug}",
            )
        ),
        # the carbon strategy: group aggregates (routes/strategy.py)
        *(
            f"GET {api}/strategy{page}"
            for api in ("", "/api")
            for page in (
                "",
                "/forecast",
                "/decomposition",
                "/pathway",
                "/abatement",
                "/uncertainty",
            )
        ),
    }
)

#: Optional query parameters that select the object a route serves (filled when present).
QUERY_FILLERS: dict[str, Callable[[Call], object]] = {
    "entity": lambda c: c.entity,
    "year": lambda c: LOCKED_YEAR,
}

#: Body and form fields, by name (any other field gets a value from its schema).
FIELD_FILLERS: dict[str, Callable[[Call], object]] = {
    "entity_id": lambda c: c.entity,
    "entity_ids": lambda c: [c.entity],
    "entities": lambda c: [c.entity],
    "entity": lambda c: c.entity,  # the carbon ledger's forms
    "metric_id": lambda c: METRIC,
    "metric_ids": lambda c: list(METRICS),
    "year": lambda c: LOCKED_YEAR,
    "due_date": lambda c: "2025-12-31",
    "value_text": lambda c: "42.5",
    "unit": lambda c: "",
    "reason": lambda c: "matrix test reason",
    "comment": lambda c: "matrix test comment",
    "note": lambda c: "matrix test note",
    "body": lambda c: "matrix test comment",
    "name": lambda c: "matrix",
    "username": lambda c: f"matrix_user_{next(_names)}",
    "role": lambda c: "viewer",
    "locale": lambda c: "en",
    "password": lambda c: "matrix-password-1",
    "current_password": lambda c: password(c.username or "nobody"),
    "new_password": lambda c: "matrix-new-password-1",
    "display_name": lambda c: "Matrix",
    "active": lambda c: False,
    "force": lambda c: False,
    "days": lambda c: 1,
    "next": lambda c: "/",
}

#: Routes that read their form themselves (no declared body): the fields they expect.
MANUAL_FORMS: dict[str, Callable[[Call], dict[str, str]]] = {
    "PUT /requests/{request_id}/values/{metric_id}": lambda c: {
        f"v.{METRIC}": "42.5",
        f"u.{METRIC}": "",
        f"n.{METRIC}": "",
        f"b.{METRIC}": str(c.value_version()),
    },
    "POST /requests/{request_id}/values": lambda c: {
        f"v.{METRIC}": "42.5",
        f"u.{METRIC}": "",
        f"n.{METRIC}": "",
        f"b.{METRIC}": str(c.value_version()),
    },
}


def _version(call: Call, route: RouteInfo) -> int:
    if "metric_id" in route.path_params:
        return call.value_version()
    return call.request_version()


Fillers = dict[str, Callable[[Call], object]]


def example(
    schema: dict[str, Any], defs: dict[str, Any], name: str | None, call: Call, fillers: Fillers
) -> Any:
    """A small valid value for a JSON schema (named fields from ``fillers``)."""
    if name is not None and name in fillers:
        return fillers[name](call)
    schema = _resolve(schema, defs)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    if schema.get("type") == "object":
        required = set(schema.get("required", ()))
        return {
            key: example(sub, defs, key, call, fillers)
            for key, sub in schema.get("properties", {}).items()
            if key in required or key in fillers
        }
    if schema.get("type") == "array":
        item = example(schema.get("items", {}), defs, None, call, fillers)
        return [item] * max(1, int(schema.get("minItems", 1)))
    return _scalar(schema)


def _resolve(schema: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    """The schema behind references and unions (the first non-null option)."""
    while True:
        if "$ref" in schema:
            schema = defs[schema["$ref"].rsplit("/", 1)[-1]]
            continue
        union = next((k for k in ("anyOf", "oneOf", "allOf") if k in schema), None)
        if union is None:
            return schema
        options = [o for o in schema[union] if o.get("type") != "null"]
        schema = options[0] if options else {"type": "null"}


def _scalar(schema: dict[str, Any]) -> Any:
    kind = schema.get("type")
    if kind == "string":
        dates = {"date": "2025-12-31", "date-time": "2025-12-31T00:00:00"}
        shortest = int(schema.get("minLength", 0))
        return dates.get(schema.get("format", ""), "matrix" + "x" * max(0, shortest - 6))
    if kind == "integer":
        return max(1, int(schema.get("minimum", 1)))
    return {"number": 1.0, "boolean": False}.get(str(kind))


@dataclass
class Prepared:
    url: str
    params: dict[str, str]
    json: Any = None
    data: dict[str, Any] | None = None
    files: dict[str, tuple[str, bytes, str]] | None = None


def prepare(route: RouteInfo, call: Call, csrf: str | None) -> Prepared:
    url = route.path
    for name in route.path_params:
        url = url.replace("{" + name + "}", str(PATH_FILLERS[name](call)))
    query = {name: str(PATH_FILLERS[name](call)) for name in route.required_query}
    query |= {name: str(QUERY_FILLERS[name](call)) for name in route.selecting_query}
    fillers: Fillers = {**FIELD_FILLERS, "base_version": lambda c: _version(c, route)}
    json_body: dict[str, Any] | None = None
    data: dict[str, Any] = {}
    files: dict[str, tuple[str, bytes, str]] = {}
    for body in route.route.dependant.body_params:
        info, annotation = body.field_info, body.field_info.annotation
        if isinstance(info, params.File):
            files[body.name] = ("matrix.txt", b"matrix evidence\n", "text/plain")
        elif isinstance(info, params.Form):
            if body.name in fillers:
                data[body.name] = fillers[body.name](call)
            elif body.name == "csrf_token":
                data[body.name] = csrf or ""
            else:
                data[body.name] = "1" if annotation is int else "matrix"
        elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
            schema = annotation.model_json_schema()
            json_body = example(schema, schema.get("$defs", {}), None, call, fillers)
    if route.key in MANUAL_FORMS:
        data.update(MANUAL_FORMS[route.key](call))
    if not route.is_api and route.method != "GET":
        data.setdefault("csrf_token", csrf or "")
    return Prepared(
        url, query, json_body, {k: _form(v) for k, v in data.items()} or None, files or None
    )


def _form(value: object) -> object:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return [str(v) for v in value]
    return str(value)


# -- state and leaks ------------------------------------------------------------------------

PLATFORM_TABLES = (
    "app_user",
    "user_entity",
    "api_token",
    "campaign",
    "campaign_metric",
    "data_request",
    "request_value",
    "request_comment",
    "evidence",
    "period_lock",
    "adjustment",
    "audit_head",
    "report_narrative",
)


def state(engine: Engine) -> dict[str, object]:
    """Row counts of every table, and the contents of the platform's tables."""
    out: dict[str, object] = {}
    with engine.connect() as conn:
        for name, table in TABLES.items():
            if name in PLATFORM_TABLES:
                rows = sorted(repr(tuple(r)) for r in conn.execute(select(table)))
                out[name] = hashlib.sha256("\n".join(rows).encode()).hexdigest()
            elif name not in ("web_session", "login_attempt"):
                out[name] = conn.scalar(select(func.count()).select_from(table))
    return out


def readable(response: httpx.Response) -> str:
    """The body as text; the members of a ZIP (XLSX) body included."""
    content = response.content
    if content.startswith(b"PK\x03\x04"):
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            content = b"\n".join(archive.read(n) for n in archive.namelist())
    return content.decode("utf-8", errors="replace")


def hidden_markers(world: World, username: str | None) -> dict[str, str]:
    """Markers and names of the entities the caller must not see."""
    if username is None:
        return {}
    planted = {
        f"{entity} {kind}": text
        for entity in ENTITIES
        if not world.sees(username, entity)
        for kind, text in markers(entity).items()
    }
    named = {
        f"{entity} name": name
        for entity, names in world.names.items()
        if not world.sees(username, entity)
        for name in names
    }
    return planted | named


def hidden_entities(world: World, username: str | None, response: httpx.Response) -> set[str]:
    """Entities outside the caller's scope named by an ``entity_id`` (or ``entity``) field of
    a JSON answer."""
    if username is None or world.scopes[username] is None:
        return set()
    if not response.headers.get("content-type", "").startswith("application/json"):
        return set()
    found: set[str] = set()
    stack = [response.json()]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("entity_id", "entity") and isinstance(value, str):
                    found.add(value)
                stack.append(value)
        elif isinstance(node, list):
            stack.extend(node)
    return {e for e in found - {"*", ""} if not world.sees(username, e)}


# -- driving one route ----------------------------------------------------------------------


def allowed(role: str, permission: str) -> bool:
    if permission == "signed_in":
        return True
    return Permission(permission) in permissions()[Role(role)]


def session_for(engine: Engine, user_id: int) -> tuple[str, str]:
    return accounts.start_session(engine, user_id)


def send(
    m: Matrix, route: RouteInfo, call: Call, users: dict[str, int]
) -> tuple[httpx.Response, Principal | None]:
    headers = {"accept": BROWSER if not route.is_api else "application/json"}
    csrf, who = None, None
    m.client.cookies.clear()
    if call.username is not None:
        who = accounts.get_principal(m.ledger.engine, users[call.username])
        secret, csrf = session_for(m.ledger.engine, users[call.username])
        headers["cookie"] = f"{SESSION_COOKIE}={secret}"
        headers["x-csrf-token"] = csrf
    prepared = prepare(route, call, csrf)
    response = m.client.request(
        route.method,
        prepared.url,
        params=prepared.params,
        json=prepared.json,
        data=prepared.data,
        files=prepared.files,
        headers=headers,
        follow_redirects=False,
    )
    return response, who


def _is_success(response: httpx.Response) -> bool:
    return response.status_code < 400 and not _to_login(response)


def _to_login(response: httpx.Response) -> bool:
    """The sign-in redirect of a page asked for without a session (not a sign-out's)."""
    return response.status_code in (302, 303, 307) and response.headers.get(
        "location", ""
    ).startswith("/login?next=")


def check_call(m: Matrix, route: RouteInfo, call: Call) -> None:
    """Send one call and record what is wrong with the answer in ``m.problems``."""
    engine = m.ledger.engine
    public = (route.method, route.path) in PUBLIC
    writes = route.method not in ("GET", "HEAD", "OPTIONS")
    before = state(engine) if writes else None
    response, who = send(m, route, call, m.world.users)
    status = response.status_code
    where = f"{route.key} as {call.label}: {status} {response.text[:200]!r}"
    if status >= 500:
        m.problems.append(f"server error: {where}")
        return
    for what, text in hidden_markers(m.world, call.username).items():
        if text in readable(response):
            m.problems.append(f"leaks {what} ({text}): {where}")
    leaked = hidden_entities(m.world, call.username, response)
    if leaked:
        m.problems.append(f"names entities outside the scope {sorted(leaked)}: {where}")
    if before is not None and status >= 400 and not public and state(engine) != before:
        m.problems.append(f"refused but changed the database: {where}")
    if not public and route.permission is not None:
        problem = expectation(route, call, who, response)
        if problem:
            m.problems.append(f"{problem}: {where}")


def expectation(
    route: RouteInfo, call: Call, who: Principal | None, response: httpx.Response
) -> str | None:
    """What is wrong with the answer to a call, given the route's permission."""
    status, permission = response.status_code, str(route.permission)
    if who is None:
        turned_away = status == 401 if route.is_api else _to_login(response)
        return None if turned_away else "anonymous not turned away"
    if status == 401 or _to_login(response):
        return "signed-in caller taken for anonymous"
    if not allowed(who.role.value, permission):
        return None if status == 403 else f"role {who.role.value} lacks {permission}, not 403"
    if route.key in GROUP_WIDE_ROUTES and call.world.scopes[str(call.username)] is not None:
        return None if status == 403 else "group-wide route served to a limited scope"
    sees = call.username is not None and call.world.sees(call.username, call.entity)
    refused = (not call.own and route.linked() and not sees) or (
        not call.own and permission == "signed_in" and set(route.path_params) & USER_LINKED
    )
    if refused:
        return "foreign object served" if _is_success(response) else None
    return "permitted caller refused" if status == 403 else None


def calls(route: RouteInfo, world: World, engine: Engine) -> Iterator[Call]:
    for username in CALLERS:
        variants = (False, True) if username is not None and _has_variants(route) else (True,)
        for own in variants:
            yield Call(username, own, world, engine)


def _has_variants(route: RouteInfo) -> bool:
    return route.linked() or bool(set(route.path_params) & USER_LINKED)


# -- the tests ------------------------------------------------------------------------------


def test_every_route_is_covered(app: FastAPI) -> None:
    """Each route declares a permission or is public, and the matrix can fill its
    parameters: a new route without them fails here."""
    routes, strange = app_routes(app)
    problems = list(strange)
    for route in routes:
        if route.permission is None and (route.method, route.path) not in PUBLIC:
            problems.append(f"{route.key}: no permission declared and not in routes.PUBLIC")
        unknown = (set(route.path_params) | set(route.required_query)) - set(PATH_FILLERS)
        if unknown:
            problems.append(f"{route.key}: the matrix cannot fill {sorted(unknown)}")
    stale = {f"{m} {p}" for m, p in PUBLIC} - {r.key for r in routes}
    problems += [f"routes.PUBLIC names a route that does not exist: {k}" for k in stale]
    assert not problems, "\n".join(problems)
    assert sorted(r.key for r in routes) == sorted(ROUTE_KEYS)


def test_markers_are_visible_to_those_who_see_them(matrix: Matrix) -> None:
    """The leak check is not vacuous: the markers do reach callers who see the entity."""
    for username, entity in (("admin", "S02"), ("owner", "S01"), ("viewer", "S02")):
        call = Call(username, True, matrix.world, matrix.ledger.engine)
        user_id = matrix.world.users[username]
        secret, _ = session_for(matrix.ledger.engine, user_id)
        request_id = matrix.world.requests[entity]
        body = matrix.client.get(
            f"/api/requests/{request_id}", headers={"cookie": f"{SESSION_COOKIE}={secret}"}
        ).text
        mark = markers(entity)
        assert mark["note"] in body, call.label
        assert mark["comment"] in body, call.label
        assert mark["file"] in body, call.label


@pytest.mark.parametrize("key", ROUTE_KEYS)
def test_route_access(key: str, matrix: Matrix) -> None:
    routes, _ = app_routes(matrix.app)
    route = next(r for r in routes if r.key == key)
    unknown = (set(route.path_params) | set(route.required_query)) - set(PATH_FILLERS)
    assert not unknown, f"{key}: add a filler for {sorted(unknown)} (see PATH_FILLERS)"
    for call in calls(route, matrix.world, matrix.ledger.engine):
        check_call(matrix, route, call)
    assert not matrix.problems, "\n".join(matrix.problems)


# -- a sample of own writes succeeds with the bodies the matrix builds ----------------------

#: (caller, on objects of S01 (else S02), route key, expected status), in order: each builds
#: on the previous ones.
OWN_WRITES: tuple[tuple[str, str, str, int], ...] = (
    ("owner", "S01", "PUT /api/requests/{request_id}/values/{metric_id}", 200),
    ("owner", "S01", "POST /api/requests/{request_id}/comments", 201),
    ("owner", "S01", "POST /requests/{request_id}/comments", 303),
    ("owner", "S01", "POST /api/requests/{request_id}/evidence", 201),
    ("owner", "S01", "POST /api/requests/{request_id}/submit", 200),
    ("reviewer", "S01", "POST /api/requests/{request_id}/approve", 200),
    ("owner2", "S02", "PUT /requests/{request_id}/values/{metric_id}", 200),
    ("owner2", "S02", "POST /requests/{request_id}/submit", 303),
    ("reviewer", "S02", "POST /requests/{request_id}/return", 303),
    ("owner", "S01", "POST /api/adjustments", 201),
    ("approver", "S01", "POST /api/adjustments/{adjustment_id}/approve", 200),
    ("reviewer", "S01", "POST /api/campaigns", 201),
    ("owner", "S01", "DELETE /api/tokens/{token_id}", 200),
    ("admin", "S01", "POST /api/users", 201),
    ("admin", "S01", "POST /api/users/{user_id}/grants", 200),
    ("verifier", "S01", "GET /api/audit", 200),
    ("verifier", "S01", "GET /api/report/{year}/{lang}.{fmt}", 200),
    ("owner", "S01", "GET /api/report/{year}/{lang}.{fmt}", 403),
)


def test_own_writes_succeed(matrix: Matrix) -> None:
    routes = {r.key: r for r in app_routes(matrix.app)[0]}
    missing = [key for _, _, key, _ in OWN_WRITES if key not in routes]
    assert not missing, f"routes gone: {missing} (update OWN_WRITES)"
    for username, entity, key, expected in OWN_WRITES:
        own = OWN_ENTITY.get(username, "S01") == entity
        call = Call(username, own, matrix.world, matrix.ledger.engine)
        response, _ = send(matrix, routes[key], call, matrix.world.users)
        assert response.status_code == expected, f"{key} as {username}: {response.text[:300]}"


# -- a committee member with a limited scope ------------------------------------------------


def test_an_approver_of_one_entity_cannot_lock_the_groups_year(matrix: Matrix) -> None:
    engine = matrix.ledger.engine
    user_id = accounts.create_user(
        engine, "test", "approver_s01", password("approver_s01"), "approver", entities=["S01"]
    )
    secret, csrf = session_for(engine, user_id)
    headers = {"cookie": f"{SESSION_COOKIE}={secret}", "x-csrf-token": csrf}
    pending = matrix.client.post(f"/api/periods/{YEAR}/lock", json={}, headers=headers)
    assert "S02" not in pending.text
    forced = matrix.client.post(f"/api/periods/{YEAR}/lock", json={"force": True}, headers=headers)
    assert forced.status_code in (403, 404)
    assert not periods.is_locked(engine, YEAR)
