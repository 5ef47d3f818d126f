"""The app's routers; every route declares a permission (``security.need``) or is listed in
``PUBLIC`` (the access-matrix test checks both)."""

from __future__ import annotations

from fastapi import APIRouter

from esgledger.web.routes import (
    admin,
    assess,
    auth,
    campaigns,
    company_data,
    dashboard,
    periods,
    report,
    requests,
    strategy,
    targets,
)

#: Routes open without signing in: (method, path).
PUBLIC: frozenset[tuple[str, str]] = frozenset(
    {
        ("GET", "/login"),
        ("POST", "/login"),
        ("POST", "/api/login"),
        ("GET", "/healthz"),
        # the respondent's survey: the one-time token is the credential (routes/assess.py)
        ("GET", "/survey/{materiality_id}"),
        ("POST", "/survey/{materiality_id}"),
    }
)

ROUTERS: list[APIRouter] = [
    auth.router,
    admin.router,
    campaigns.router,
    requests.router,
    periods.router,
    dashboard.router,
    report.router,
    assess.router,
    strategy.router,
    targets.router,
    company_data.router,
]
