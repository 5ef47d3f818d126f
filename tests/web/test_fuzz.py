"""Property-based fuzzing of the JSON API from its own OpenAPI spec (schemathesis).

Every operation of ``/api/openapi.json`` gets a bounded number of generated requests (valid
and invalid ones), sent as the administrator with a bearer API token, over a ledger that has
objects for the generated ids to hit (a campaign with requests, values, evidence, a locked
year with an adjustment). The checks: no 5xx, and responses conform to the schema where the
route declares one. Generation is derandomized so a failure reproduces.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import response_schema_conformance

from esgledger.auth import accounts
from esgledger.auth.accounts import Principal
from esgledger.store.ledger import Ledger
from esgledger.web.app import create_app
from esgledger.workflow import collection, periods
from esgledger.workflow.evidence import add_evidence

MAX_EXAMPLES = 25
METRICS = ("energy.electricity_purchased", "water.withdrawal")


@dataclass
class Target:
    """The app under test and the administrator's token (made again if a fuzzed request
    revokes it)."""

    app: FastAPI
    ledger: Ledger
    admin_id: int
    secret: str = field(default="")

    @property
    def session(self) -> asgi.ASGIClient:
        """A client of the app that does not run its lifespan (the dashboard's background
        warm-up would outlive the test)."""
        return asgi.get_client(self.app)

    def token(self) -> str:
        if not self.secret or accounts.token_principal(self.ledger.engine, self.secret) is None:
            _, self.secret = accounts.create_token(
                self.ledger.engine, "test", self.admin_id, "fuzz", days=1
            )
        return self.secret


def _who(ledger: Ledger, username: str) -> Principal:
    user_id = accounts.user_id_of(ledger.engine, username)
    found = None if user_id is None else accounts.get_principal(ledger.engine, user_id)
    assert found is not None
    return found


def populate(ledger: Ledger) -> None:
    """Objects with small ids, so that generated path parameters find some."""
    engine = ledger.engine
    reviewer, owner = _who(ledger, "reviewer"), _who(ledger, "owner")
    campaign = collection.create_campaign(
        engine, reviewer, "Fuzz 2025", 2025, date(2025, 6, 30), METRICS, ["S01", "S02"]
    )
    request_id = int(
        collection.campaign_detail(engine, owner, campaign)["requests"][0]["request_id"]
    )
    collection.set_value(engine, owner, request_id, METRICS[0], "1200", "", base_version=0)
    collection.add_comment(engine, owner, request_id, "=fuzz comment")
    add_evidence(engine, owner, request_id, "bill.txt", b"electricity bill\n")
    periods.lock_period(engine, _who(ledger, "approver"), 2024)
    periods.propose_adjustment(
        engine, owner, "S01", 2024, METRICS[0], "1300", "", "meter misread in March"
    )


@pytest.fixture
def target(web_ledger: Ledger) -> Target:
    populate(web_ledger)
    admin_id = accounts.user_id_of(web_ledger.engine, "admin")
    assert admin_id is not None
    return Target(create_app(web_ledger), web_ledger, admin_id)


def _schema() -> schemathesis.BaseSchema:
    """The spec (``/api/openapi.json``), read at collection from the app over an empty
    in-memory ledger (the spec does not depend on the data); each test then sends its requests
    to an app of its own."""
    config = SchemathesisConfig.from_dict(
        {
            "seed": 20250630,
            "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True},
            "phases": {"stateful": {"enabled": False}},
        }
    )
    with Ledger.open("sqlite://") as ledger:
        spec = create_app(ledger).openapi()
    return schemathesis.openapi.from_dict(spec, config=config)


schema = _schema()


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_api(case: schemathesis.Case, target: Target) -> None:
    case.call_and_validate(
        base_url="http://testserver",
        session=target.session,
        headers={"Authorization": f"Bearer {target.token()}"},
        checks=[not_a_server_error, response_schema_conformance],
    )
