"""The virtual users of the load test (``bench/load.py``) and their statistics.

Two kinds of user, each with one HTTP connection and its own seeded random generator:

- group-wide (admin, reviewer, approver, verifier): the dashboard page and its JSON (the
  group's figures, targets and warnings), the report page and ``/api/report``, the lineage
  page of a group figure of the dashboard's year (``/explain/{figure}``, a random one of the
  six), the registers page;
- data owner (one entity): the dashboard page and its JSON (its entity), its request page, a
  ``PUT`` of the value with the version it knows (409: re-read ``/api/requests/{id}`` and
  retry, up to three times), one time in ten a comment.

Between two requests a user thinks for a uniform random time in [0.5, 1.5] x ``think``.

A response is *ok* with the expected status (201 for a comment, else 200), a *conflict* with
409, an *error* with a 5xx status or when the request failed (timeout, connection), and
*unexpected* with any other status (a 403 or 404 here means the script or the product is
wrong). Latency is from sending the request to reading the whole response.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

from load_ledger import METRIC, PASSWORD

LOGIN = "POST /api/login"
FIGURES = ("scope1", "scope2_location", "scope2_market", "scope3", "total", "energy_tce")
GROUP_ENDPOINTS = (
    "GET / [group]",
    "GET /api/dashboard [group]",
    "GET /report",
    "GET /api/report",
    "GET /explain/{figure}",
    "GET /registers",
)
OWNER_ENDPOINTS = (
    "GET / [owner]",
    "GET /api/dashboard [owner]",
    "GET /requests/{id}",
    "GET /api/requests/{id}",
    "PUT /api/requests/{id}/values/{metric}",
    "POST /api/requests/{id}/comments",
)
ENDPOINTS = (LOGIN, *GROUP_ENDPOINTS, *OWNER_ENDPOINTS)
HTML = {"accept": "text/html"}
SLOWEST_KEPT = 50


# -- statistics -----------------------------------------------------------------------------


@dataclass
class Endpoint:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    conflicts: int = 0
    unexpected: int = 0
    statuses: Counter[str] = field(default_factory=Counter)


@dataclass
class Stats:
    endpoints: dict[str, Endpoint] = field(
        default_factory=lambda: {e: Endpoint() for e in ENDPOINTS}
    )
    samples: list[str] = field(default_factory=list)
    """The first problems (errors and unexpected statuses), for the printout."""
    timeline: list[tuple[float, str, float, str]] = field(default_factory=list)
    """(wall-clock start, endpoint, ms, status) of every request after the sign-ins."""
    stale_dashboards: int = 0
    """``/api/dashboard`` answers labelled ``as_of.current: false`` (previous figures)."""
    timed: bool = False

    def add(self, name: str, start: float, ms: float, status: str, outcome: str) -> None:
        found = self.endpoints[name]
        found.latencies.append(ms)
        found.statuses[status] += 1
        if outcome == "conflict":
            found.conflicts += 1
        elif outcome == "error":
            found.errors += 1
        elif outcome == "unexpected":
            found.unexpected += 1
        if outcome in ("error", "unexpected") and len(self.samples) < 20:
            self.samples.append(f"{name}: {status}")
        if self.timed and name != LOGIN:
            self.timeline.append((start, name, ms, status))


def outcome_of(status: int, expected: int) -> str:
    if status == expected:
        return "ok"
    if status == 409:
        return "conflict"
    if status >= 500:
        return "error"
    return "unexpected"


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile of ``values`` (sorted here)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def summary(name: str, parts: list[Endpoint]) -> dict[str, Any]:
    latencies = [ms for e in parts for ms in e.latencies]
    return {
        "endpoint": name,
        "count": len(latencies),
        "p50_ms": percentile(latencies, 50),
        "p95_ms": percentile(latencies, 95),
        "p99_ms": percentile(latencies, 99),
        "max_ms": max(latencies) if latencies else math.nan,
        "errors": sum(e.errors for e in parts),
        "conflicts": sum(e.conflicts for e in parts),
        "unexpected": sum(e.unexpected for e in parts),
        "statuses": dict(sum((e.statuses for e in parts), Counter())),
    }


def report(stats: Stats, seconds: float) -> list[dict[str, Any]]:
    """One row per endpoint used, then the overall row (without the sign-ins)."""
    rows = [summary(n, [e]) for n, e in stats.endpoints.items() if e.latencies]
    steady = [e for n, e in stats.endpoints.items() if n != LOGIN]
    overall = summary("overall (without sign-in)", steady)
    overall["requests_per_s"] = overall["count"] / seconds if seconds else math.nan
    return [*rows, overall]


def slowest(stats: Stats, began: float, n: int = SLOWEST_KEPT) -> list[dict[str, Any]]:
    """The ``n`` slowest requests, with their start in seconds from the timed start."""
    ordered = sorted(stats.timeline, key=lambda r: r[2], reverse=True)[:n]
    return [
        {"at_s": round(at - began, 2), "endpoint": name, "ms": round(ms, 1), "status": status}
        for at, name, ms, status in ordered
    ]


# -- virtual users --------------------------------------------------------------------------


@dataclass
class User:
    client: httpx.AsyncClient
    stats: Stats
    think: float
    rng: random.Random
    kind: str
    request_id: int = 0
    version: int = 0
    year: int | None = None

    async def call(
        self, name: str, method: str, url: str, expected: int = 200, **kwargs: Any
    ) -> httpx.Response | None:
        wall = time.time()
        start = time.perf_counter()
        try:
            response = await self.client.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            ms = (time.perf_counter() - start) * 1000
            self.stats.add(name, wall, ms, type(exc).__name__, "error")
            return None
        ms = (time.perf_counter() - start) * 1000
        status = response.status_code
        self.stats.add(name, wall, ms, str(status), outcome_of(status, expected))
        return response

    async def pause(self) -> None:
        if self.think > 0:
            await asyncio.sleep(self.think * self.rng.uniform(0.5, 1.5))

    async def login(self, username: str) -> bool:
        body = {"username": username, "password": PASSWORD}
        response = await self.call(LOGIN, "POST", "/api/login", json=body)
        if response is None or response.status_code != 200:
            return False
        self.client.headers["X-CSRF-Token"] = response.json()["csrf_token"]
        return True

    async def dashboard(self) -> None:
        await self.call(f"GET / [{self.kind}]", "GET", "/", headers=HTML)
        await self.pause()
        response = await self.call(f"GET /api/dashboard [{self.kind}]", "GET", "/api/dashboard")
        if response is not None and response.status_code == 200:
            data = response.json()
            self.year = int(data["year"])
            if not data.get("as_of", {}).get("current", True):
                self.stats.stale_dashboards += 1
        await self.pause()

    # group-wide users

    async def group_loop(self, deadline: float) -> None:
        while time.monotonic() < deadline:
            await self.dashboard()
            await self.call("GET /report", "GET", "/report", headers=HTML)
            await self.pause()
            await self.call("GET /api/report", "GET", "/api/report")
            await self.pause()
            figure = self.rng.choice(FIGURES)
            query = f"?year={self.year}" if self.year is not None else ""
            await self.call(
                "GET /explain/{figure}", "GET", f"/explain/{figure}{query}", headers=HTML
            )
            await self.pause()
            await self.call("GET /registers", "GET", "/registers", headers=HTML)
            await self.pause()

    # data owners

    async def read_version(self) -> None:
        response = await self.call(
            "GET /api/requests/{id}", "GET", f"/api/requests/{self.request_id}"
        )
        if response is not None and response.status_code == 200:
            item = next(i for i in response.json()["items"] if i["metric_id"] == METRIC)
            self.version = int(item["value"]["version"]) if item["value"] else 0

    async def put_value(self) -> None:
        url = f"/api/requests/{self.request_id}/values/{METRIC}"
        for _attempt in range(3):
            body = {"value_text": str(self.rng.randint(1000, 9999)), "base_version": self.version}
            response = await self.call(
                "PUT /api/requests/{id}/values/{metric}", "PUT", url, json=body
            )
            if response is None:
                return
            if response.status_code == 200:
                self.version = int(response.json()["version"])
                return
            if response.status_code != 409:
                return
            await self.read_version()

    async def owner_loop(self, deadline: float) -> None:
        while time.monotonic() < deadline:
            await self.dashboard()
            await self.call(
                "GET /requests/{id}", "GET", f"/requests/{self.request_id}", headers=HTML
            )
            await self.pause()
            await self.put_value()
            await self.pause()
            if self.rng.random() < 0.1:
                await self.call(
                    "POST /api/requests/{id}/comments",
                    "POST",
                    f"/api/requests/{self.request_id}/comments",
                    expected=201,
                    json={"body": "checked against the meter readings"},
                )
                await self.pause()


@dataclass
class Settings:
    base: str
    think: float
    ramp: float
    timeout: float
    duration: float


async def virtual_user(
    settings: Settings,
    username: str,
    who: dict[str, Any],
    stats: Stats,
    seed_value: int,
    start: asyncio.Event,
    deadline: list[float],
) -> None:
    # one connection per user, dropped after 3 s idle: before uvicorn's 5 s keep-alive
    # timeout closes it (httpx's default expiry is also 5 s, a race on a reused connection)
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1, keepalive_expiry=3.0)
    async with httpx.AsyncClient(
        base_url=settings.base, timeout=settings.timeout, limits=limits
    ) as client:
        user = User(
            client,
            stats,
            settings.think,
            random.Random(seed_value),
            kind=str(who["kind"]),
            request_id=int(who.get("request_id", 0)),
        )
        await asyncio.sleep(user.rng.uniform(0, settings.ramp))
        if not await user.login(username):
            return
        await start.wait()
        # users arrive spread over one think cycle, not all in the same millisecond
        think = settings.think
        await asyncio.sleep(user.rng.uniform(0, 2 * think if think > 0 else 0.5))
        if user.kind == "group":
            await user.group_loop(deadline[0])
        else:
            await user.read_version()
            await user.owner_loop(deadline[0])


async def run_users(
    settings: Settings,
    users: dict[str, dict[str, Any]],
    on_start: Any = None,
) -> tuple[Stats, float, float]:
    """Sign every user in, call ``on_start()`` (e.g. start the importer), run the loops
    until ``settings.duration`` has passed; returns the statistics, the seconds of the timed
    part and its wall-clock start."""
    stats = Stats()
    start, deadline = asyncio.Event(), [0.0]
    tasks = [
        asyncio.create_task(virtual_user(settings, name, who, stats, i, start, deadline))
        for i, (name, who) in enumerate(users.items())
    ]
    # the timed loop starts once every user has signed in (Argon2 is slow on purpose)
    while len(stats.endpoints[LOGIN].latencies) < len(users) and not all(t.done() for t in tasks):
        await asyncio.sleep(0.1)
    if on_start is not None:
        on_start()
    began_wall = time.time()
    begin = time.monotonic()
    deadline[0] = begin + settings.duration
    stats.timed = True
    start.set()
    await asyncio.gather(*tasks)
    return stats, time.monotonic() - begin, began_wall
