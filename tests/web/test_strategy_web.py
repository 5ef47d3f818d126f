"""The carbon strategy and carbon ledger pages over HTTP: each page and its JSON twin show the
numbers of the library (LMDI, pathway, forecast, MACC and the optimised plan, uncertainty),
only to group-wide callers; the carbon ledger records postings through its form (CSRF,
post/redirect/get), refuses what the rules forbid without changing anything, and shows each
caller only the entities they see."""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from esgledger import service
from esgledger.ingest.importer import import_file
from esgledger.store.engine import TABLES
from esgledger.store.ledger import Ledger
from esgledger.strategy import abatement
from esgledger.strategy.kaya import KAYA_NO_ENERGY_FACTORS
from esgledger.strategy.lmdi import KAYA_FACTORS
from esgledger.trading.ledger import KINDS, SCOPES
from esgledger.usecases.strategy import (
    baseline_from_ledger,
    forecast_from_ledger,
    kaya_decomposition,
    uncertainty_from_ledger,
)
from esgledger.usecases.strategy_figures import pathway_table

HTML = {"accept": "text/html"}
LATEST = 2024  # the demo's latest inventory year
PAGES = (
    "/strategy",
    "/strategy/forecast",
    "/strategy/decomposition",
    "/strategy/pathway",
    "/strategy/abatement",
    "/strategy/uncertainty",
)
APIS = tuple("/api" + p for p in PAGES)


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, "no CSRF field on the page"
    return found.group(1)


def _close(a: float | None, b: float | None, tol: float = 1e-6) -> bool:
    if a is None or b is None or (isinstance(b, float) and math.isnan(b)):
        return (a is None or math.isnan(a)) and (b is None or math.isnan(b))
    return abs(a - b) <= tol * max(1.0, abs(a), abs(b))


def _postings(ledger: Ledger) -> int:
    table = TABLES["carbon_posting"]
    with ledger.engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(table)) or 0)


# -- strategy ---------------------------------------------------------------------------------


def test_every_strategy_page_answers_in_both_languages(
    client_for: Callable[[str], TestClient],
) -> None:
    reviewer = client_for("reviewer")  # the whole group (G00)
    for path in PAGES:
        for lang in ("en", "zh"):
            page = reviewer.get(path, params={"lang": lang}, headers=HTML)
            assert page.status_code == 200, (path, lang, page.text[:300])
            assert "<caption>" in page.text, path
            assert 'class="subnav"' in page.text
    for path in APIS:
        answer = reviewer.get(path)
        assert answer.status_code == 200, (path, answer.text[:300])
        assert answer.headers["content-type"].startswith("application/json")


def test_a_scoped_caller_is_refused_the_groups_strategy(
    client_for: Callable[[str], TestClient],
) -> None:
    for username in ("owner", "viewer"):
        client = client_for(username)
        for path in PAGES + APIS:
            answer = client.get(path, headers=HTML if not path.startswith("/api") else {})
            assert answer.status_code == 403, (username, path, answer.text[:200])
        assert "whole group" in client.get("/api/strategy").json()["detail"]


def test_the_decomposition_is_the_librarys(
    client_for: Callable[[str], TestClient], web_ledger: Ledger
) -> None:
    result, _ = kaya_decomposition(web_ledger, LATEST - 1, LATEST)
    client = client_for("verifier")
    data = client.get("/api/strategy/decomposition").json()
    assert (data["year_from"], data["year_to"]) == (LATEST - 1, LATEST)
    assert _close(data["change"], result.change)
    assert _close(data["total1"] - data["total0"], result.change)
    assert _close(sum(f["effect_tco2e"] for f in data["factors"]), data["change"])
    assert _close(math.prod(f["index"] for f in data["factors"]), data["ratio"])
    assert [f["factor"] for f in data["factors"]] == list(result.table()["factor"])
    page = client.get("/strategy/decomposition", headers=HTML).text
    assert f'id="lmdi-change">{result.change:,.2f}<' in page
    # another driver and structure: the same as the library's
    scope, _ = kaya_decomposition(web_ledger, LATEST - 1, LATEST, activity="revenue", by="scope")
    other = client.get("/api/strategy/decomposition", params={"by": "scope"}).json()
    assert _close(other["change"], scope.change)
    # years the library cannot compare: a clear 422, on the page with the form kept
    refused = client.get("/api/strategy/decomposition", params={"year_from": 2030})
    assert refused.status_code == 422
    assert "2030" in refused.json()["detail"]
    page_refused = client.get(
        "/strategy/decomposition", params={"year_from": 2019, "year_to": 2020}, headers=HTML
    )
    assert page_refused.status_code == 422
    assert 'id="strategy-error"' in page_refused.text
    assert 'name="year_from" type="number" min="1901" max="2199" value="2019"' in page_refused.text


def test_the_pathway_and_overview_are_the_librarys(
    client_for: Callable[[str], TestClient], web_ledger: Ledger
) -> None:
    frame, notes = pathway_table(web_ledger, LATEST)
    client = client_for("approver")
    data = client.get("/api/strategy/pathway").json()
    assert data["base_year"] == LATEST
    assert data["notes"] == notes
    assert [r["year"] for r in data["rows"]] == [int(y) for y in frame["year"]]
    for row, (_, expected) in zip(data["rows"], frame.iterrows(), strict=True):
        for column in ("bau", "bau_lower", "bau_upper", "contraction", "group", "gap"):
            assert _close(row[column], float(expected[column])), (row["year"], column)
    assert data["milestones"]["peak"] < data["milestones"]["neutrality"]
    page = client.get("/strategy/pathway", headers=HTML).text
    last = data["rows"][-1]
    assert f"{last['group']:,.2f}" in page
    assert 'id="pathway-chart-data"' in page

    overview = client.get("/api/strategy").json()
    base = float(frame.loc[frame["year"] == LATEST, "bau"].iloc[0])
    assert _close(overview["base_total_tco2e"], base)
    inventory = service.run_inventory(web_ledger, service.settings_from_ledger(web_ledger))
    assert _close(overview["base_total_tco2e"], inventory.scope_totals(LATEST)["total"])
    assert [r["year"] for r in overview["next_years"]] == list(range(LATEST + 1, LATEST + 7))
    assert overview["milestones"] == data["milestones"]
    html = client.get("/strategy", headers=HTML).text
    assert f'id="base-total">{base:,.2f}<' in html
    # a base year without an inventory
    assert client.get("/api/strategy/pathway", params={"base_year": 2030}).status_code == 422


def test_the_forecast_is_the_librarys(
    client_for: Callable[[str], TestClient], web_ledger: Ledger
) -> None:
    expected = forecast_from_ledger(web_ledger, 3).forecasts
    client = client_for("reviewer")
    data = client.get("/api/strategy/forecast", params={"horizon": 3}).json()
    assert len(data["forecasts"]) == len(expected)
    total = [r for r in data["forecasts"] if r["series"] == "total"]
    wanted = expected[expected["series"] == "total"]
    assert [r["year"] for r in total] == [int(y) for y in wanted["year"]]
    for row, (_, want) in zip(total, wanted.iterrows(), strict=True):
        assert _close(row["forecast"], float(want["forecast"]))
        assert _close(row["lower"], float(want["lower"]))
        assert _close(row["upper"], float(want["upper"]))
        assert row["model"] == want["model"]
    assert sum(1 for b in data["backtests"] if b["series"] == "total" and b["chosen"]) == 1
    assert data["diagnostics"]
    page = client.get("/strategy/forecast", params={"horizon": 3}, headers=HTML).text
    assert f"{total[-1]['forecast']:,.2f}" in page
    assert 'id="forecast-chart-data"' in page
    assert client.get("/api/strategy/forecast", params={"horizon": 31}).status_code == 422


def test_the_abatement_plan_meets_its_cap_and_is_verified(
    client_for: Callable[[str], TestClient], web_ledger: Ledger
) -> None:
    base = baseline_from_ledger(web_ledger, LATEST)
    baseline = base.total(basis="market")
    client = client_for("admin")
    data = client.get("/api/strategy/abatement").json()
    # the default: like `esgledger strategy optimise --year 2030 --reduction 0.3`
    assert data["year"] == LATEST and data["basis"] == "market"
    assert data["target"] == {
        "year": LATEST + 6,
        "reduction": 0.3,
        "cap_tco2e": data["target"]["cap_tco2e"],
    }
    assert _close(data["baseline_tco2e"], baseline)
    assert _close(data["target"]["cap_tco2e"], baseline * 0.7)
    plan = data["plan"]
    assert plan["verified"] is True and plan["verification_problems"] == []
    assert plan["abatement_t"] >= baseline - data["target"]["cap_tco2e"] - 1e-6
    assert plan["emissions_t"] <= data["target"]["cap_tco2e"] + 1e-6
    assert _close(sum(a["abatement_t_per_year"] for a in plan["adoptions"]), plan["abatement_t"])
    assert any(b.startswith("cap") for b in plan["binding"])
    # the same plan as the library's
    catalogue = abatement.load_catalogue(None, grid_factor=base.market_grid_factor)
    expected = abatement.plan_for_cap(
        catalogue, baseline, baseline * 0.7, LATEST + 6, electricity_mwh=base.electricity_mwh
    )
    assert _close(plan["total_cost_cny"], expected.total_cost_cny)
    assert _close(plan["shadow_price_cny_per_t"], expected.shadow_price)
    curve = abatement.macc(catalogue)
    assert [m["measure_id"] for m in data["macc"]] == list(curve["measure_id"])
    page = client.get("/strategy/abatement", headers=HTML)
    assert page.status_code == 200
    assert 'id="plan-verified" class="ok"' in page.text
    assert f"{expected.shadow_price:,.2f} CNY/tCO2e" in page.text
    assert "<svg" in page.text  # the MACC chart
    # an explicit cap on the location basis
    capped = client.get(
        "/api/strategy/abatement", params={"basis": "location", "cap": 30000, "target_year": 2028}
    ).json()
    assert capped["target"] == {"year": 2028, "reduction": None, "cap_tco2e": 30000.0}
    assert capped["plan"]["emissions_t"] <= 30000 + 1e-6


def test_an_infeasible_target_is_a_clear_refusal(client_for: Callable[[str], TestClient]) -> None:
    client = client_for("admin")
    answer = client.get("/api/strategy/abatement", params={"reduction": 0.9})
    assert answer.status_code == 422
    body = answer.json()
    assert "no choice of measures meets the cap" in body["detail"]
    assert body["shortfall"][0]["required_t"] > body["shortfall"][0]["achievable_t"]
    page = client.get("/strategy/abatement", params={"reduction": 0.9}, headers=HTML)
    assert page.status_code == 422
    assert 'id="plan-infeasible"' in page.text
    assert 'id="macc-table"' in page.text  # the curve is still shown
    both = client.get("/api/strategy/abatement", params={"reduction": 0.3, "cap": 1000})
    assert both.status_code == 422


def test_the_uncertainty_is_the_librarys(
    client_for: Callable[[str], TestClient], web_ledger: Ledger
) -> None:
    expected = uncertainty_from_ledger(web_ledger, LATEST, iterations=500, seed=7).summary
    client = client_for("reviewer")
    params = {"iterations": 500, "seed": 7}
    data = client.get("/api/strategy/uncertainty", params=params).json()
    assert data["year"] == LATEST
    assert [r["output"] for r in data["summary"]] == list(expected["output"])
    for row, (_, want) in zip(data["summary"], expected.iterrows(), strict=True):
        for column in ("deterministic", "mean", "lower", "upper", "approach1_lower"):
            assert _close(row[column], float(want[column])), (row["output"], column)
    assert client.get("/api/strategy/uncertainty", params=params).json() == data
    total = next(r for r in data["summary"] if r["output"] == "total")
    page = client.get("/strategy/uncertainty", params=params, headers=HTML).text
    assert f"{total['lower']:,.2f}" in page and f"{total['upper']:,.2f}" in page
    over = client.get("/api/strategy/uncertainty", params={"iterations": 20_001})
    assert over.status_code == 422
    assert client.get("/api/strategy/uncertainty", params={"year": 2030}).status_code == 422


# -- the carbon ledger ------------------------------------------------------------------------


def _record(client: TestClient, csrf: str, **fields: str) -> Any:
    return client.post(
        "/carbon/postings",
        data={"csrf_token": csrf, **fields},
        headers=HTML,
        follow_redirects=False,
    )


def _position(client: TestClient, entity: str, year: int) -> dict[str, Any]:
    answer = client.get("/api/carbon/position", params={"entity": entity, "year": year})
    assert answer.status_code == 200, answer.text
    rows = answer.json()["positions"]
    assert [r["entity_id"] for r in rows] == [entity]
    return dict(rows[0])


def test_the_form_records_postings_and_refuses_what_the_rules_forbid(
    client_for: Callable[[str], TestClient], web_ledger: Ledger
) -> None:
    owner = client_for("owner")  # S01
    page = owner.get("/carbon", headers=HTML)
    assert page.status_code == 200
    csrf = _csrf(page.text)
    # the entity lists: the owner's entities only
    assert 'value="S01"' in page.text and 'value="S02"' not in page.text
    assert 'id="carbon-verify"' not in page.text  # no audit_read

    before = _postings(web_ledger)
    done = _record(
        owner, csrf, kind="allocation", entity="S01", quantity="1,000", unit="CEA", vintage="2024"
    )
    assert done.status_code == 303, done.text[:300]
    assert done.headers["location"] == "/carbon?entity=S01&done=carbon_posted"
    assert _postings(web_ledger) == before + 1
    shown = owner.get(done.headers["location"], headers=HTML).text
    assert "The posting was recorded." in shown or "记账已保存。" in shown
    rows = owner.get("/api/carbon/postings", params={"entity": "S01"}).json()["postings"]
    assert len(rows) == 1
    assert (rows[0]["kind"], rows[0]["quantity"], rows[0]["unit_type"], rows[0]["vintage"]) == (
        "allocation",
        1000.0,
        "CEA",
        2024,
    )
    assert rows[0]["posted_by"] == "owner"
    assert _position(owner, "S01", LATEST)["cea_held"] == 1000.0

    # the inventory's emissions of the year, then a surrender
    emissions = owner.post(
        "/carbon/post-emissions",
        data={"csrf_token": csrf, "entity": "S01", "year": str(LATEST), "scopes": ["S1", "S2L"]},
        headers=HTML,
        follow_redirects=False,
    )
    assert emissions.status_code == 303, emissions.text[:300]
    inventory = service.run_inventory(web_ledger, service.settings_from_ledger(web_ledger))
    totals = inventory.scope_totals(LATEST, entity_id="S01")
    verified = float(totals["scope1"]) + float(totals["scope2_location"])
    assert _close(_position(owner, "S01", LATEST)["verified_emissions"], verified)

    # more than held: refused, the input kept, nothing changes
    before = _postings(web_ledger)
    refused = _record(
        owner,
        csrf,
        kind="surrender",
        entity="S01",
        quantity="2500",
        unit="CEA",
        vintage="2024",
        year=str(LATEST),
        reference="ref-kept-42",
    )
    assert refused.status_code == 409, refused.text[:300]
    assert "S01 holds 1,000.00 CEA of vintage 2024: cannot surrender 2,500.00" in refused.text
    assert 'id="carbon-error"' in refused.text
    assert 'name="quantity" inputmode="decimal" required value="2500"' in refused.text
    assert 'value="ref-kept-42"' in refused.text
    assert '<option value="surrender" selected>' in refused.text
    assert _postings(web_ledger) == before
    # a malformed number: 422, nothing changes
    bad = _record(owner, csrf, kind="purchase", entity="S01", quantity="lots", unit="CEA")
    assert bad.status_code == 422
    assert "quantity: &#39;lots&#39; is not a number" in bad.text
    assert _postings(web_ledger) == before

    ok = _record(
        owner,
        csrf,
        kind="surrender",
        entity="S01",
        quantity="600",
        unit="CEA",
        vintage="2024",
        year=str(LATEST),
    )
    assert ok.status_code == 303
    assert ok.headers["location"] == f"/carbon?entity=S01&year={LATEST}&done=carbon_posted"
    position = _position(owner, "S01", LATEST)
    assert position["surrendered_cea"] == 600.0
    assert position["cea_held"] == 400.0
    assert _close(position["gap"], verified - 600.0)
    # the page's position table shows it
    html = owner.get("/carbon", params={"entity": "S01", "year": LATEST}, headers=HTML).text
    assert f"{verified - 600.0:,.2f}" in html

    # another entity's owner sees none of it, and cannot post for S01
    owner2 = client_for("owner2")  # S02
    assert owner2.get("/api/carbon/postings").json()["postings"] == []
    assert owner2.get("/api/carbon/postings", params={"entity": "S01"}).status_code == 404
    assert owner2.get("/carbon", params={"entity": "S01"}, headers=HTML).status_code == 404
    before = _postings(web_ledger)
    foreign = owner2.post(
        "/api/carbon/postings",
        json={
            "entity_id": "S01",
            "kind": "allocation",
            "quantity": 5,
            "unit_type": "CEA",
            "vintage": 2024,
        },
    )
    assert foreign.status_code == 403
    assert _postings(web_ledger) == before

    # the chain check: for those who may read the audit log
    verifier = client_for("verifier")
    assert verifier.get("/api/carbon/verify").json() == {"ok": True, "problems": []}
    assert 'id="carbon-verify"' in verifier.get("/carbon", headers=HTML).text
    assert owner.get("/api/carbon/verify").status_code == 403
    # a group-wide reader sees every entity's postings
    assert {r["entity_id"] for r in verifier.get("/api/carbon/postings").json()["postings"]} == {
        "S01"
    }


def test_a_json_posting_needs_a_session_and_its_csrf_token(
    client_for: Callable[[str], TestClient], anonymous: TestClient, web_ledger: Ledger
) -> None:
    body = {
        "entity_id": "S01",
        "kind": "purchase",
        "quantity": 250.5,
        "unit_type": "CEA",
        "vintage": 2024,
        "price_cny": 98.5,
        "reference": "trade-1",
    }
    before = _postings(web_ledger)
    assert anonymous.post("/api/carbon/postings", json=body).status_code == 401
    owner = client_for("owner")
    token = owner.headers.pop("X-CSRF-Token")
    no_csrf = owner.post("/api/carbon/postings", json=body)
    assert no_csrf.status_code == 403
    assert "CSRF" in no_csrf.json()["detail"]
    wrong = owner.post("/api/carbon/postings", json=body, headers={"X-CSRF-Token": "nope"})
    assert wrong.status_code == 403
    form = owner.post(
        "/carbon/postings",
        data={
            "kind": "purchase",
            "entity": "S01",
            "quantity": "1",
            "unit": "CEA",
            "vintage": "2024",
        },
        headers=HTML,
        follow_redirects=False,
    )
    assert form.status_code == 403
    assert _postings(web_ledger) == before
    done = owner.post("/api/carbon/postings", json=body, headers={"X-CSRF-Token": token})
    assert done.status_code == 201, done.text
    seq = done.json()["seq"]
    rows = owner.get("/api/carbon/postings").json()["postings"]
    assert [(r["seq"], r["quantity"], r["price_cny"], r["reference"]) for r in rows] == [
        (seq, 250.5, 98.5, "trade-1")
    ]
    # a sale beyond the holding: 409, nothing changes
    sale = {**body, "kind": "sale", "quantity": 300}
    refused = owner.post("/api/carbon/postings", json=sale, headers={"X-CSRF-Token": token})
    assert refused.status_code == 409
    assert "holds 250.50 CEA" in refused.json()["detail"]
    assert _postings(web_ledger) == before + 1
    # a scope named twice would count its emissions twice: refused, nothing written
    twice = owner.post(
        "/api/carbon/post-emissions",
        json={"entity_id": "S01", "year": LATEST, "scopes": ["S1", "S1"]},
        headers={"X-CSRF-Token": token},
    )
    assert twice.status_code == 422 and "at most once" in twice.json()["detail"]
    assert _postings(web_ledger) == before + 1
    # the inventory's scope 1 of S01
    emissions = owner.post(
        "/api/carbon/post-emissions",
        json={"entity_id": "S01", "year": LATEST, "scopes": ["S1"]},
        headers={"X-CSRF-Token": token},
    )
    assert emissions.status_code == 201, emissions.text
    inventory = service.run_inventory(web_ledger, service.settings_from_ledger(web_ledger))
    scope1 = float(inventory.scope_totals(LATEST, entity_id="S01")["scope1"])
    posted = owner.get("/api/carbon/postings", params={"entity": "S01"}).json()["postings"][-1]
    assert (posted["kind"], posted["lineage"]) == ("emissions", f"ghg:{LATEST}:S1:S01")
    assert _close(posted["quantity"], scope1)
    assert _close(_position(owner, "S01", LATEST)["verified_emissions"], scope1)
    # a viewer may not post at all
    viewer = client_for("viewer")
    assert viewer.post("/api/carbon/postings", json={**body, "entity_id": "S02"}).status_code == 403


# -- messages ---------------------------------------------------------------------------------


def _messages() -> dict[str, dict[str, str]]:
    text = (resources.files("esgledger.web") / "data" / "messages.csv").read_text("utf-8")
    return {r["key"]: r for r in csv.DictReader(io.StringIO(text))}


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_message_of_the_templates_exists_in_both_languages(lang: str) -> None:
    """Every message the templates name literally, and the keys the strategy, carbon and
    dashboard pages build from values."""
    table = _messages()
    folder = resources.files("esgledger.web") / "templates"
    used: set[str] = set()
    for item in folder.iterdir():
        if item.name.endswith(".html"):
            used |= set(re.findall(r"t\(lang, '([a-z0-9_]+)'\)", item.read_text("utf-8")))
    # keys the strategy and carbon templates build from values
    used |= {f"carbon_kind_{k}" for k in KINDS} | {f"carbon_scope_{s}" for s in SCOPES}
    used |= {f"st_factor_{f}" for f in (*KAYA_FACTORS, *KAYA_NO_ENERGY_FACTORS)}
    series = ("scope1", "scope2_location", "scope2_market", "scope3", "total")
    used |= {f"st_series_{s}" for s in (*series, "energy_mwh", "energy_tce")}
    used |= {f"st_milestone_{m}" for m in ("peak", "neutrality", "net_zero")}
    used |= {"st_activity_revenue", "st_activity_headcount", "st_by_entity", "st_by_scope"}
    used |= {"st_basis_market", "st_basis_location"}
    used |= {"st_check_ok", "st_check_failed", "carbon_posted", "carbon_emissions_posted"}
    used |= {f"dash_pathway_{s}" for s in ("on_track", "off_track", "no_data", "base_year")}
    missing = sorted(k for k in used if not table.get(k, {}).get(lang, "").strip())
    assert not missing, f"messages without {lang}: {missing}"


def test_a_new_year_without_revenue_leaves_the_default_decomposition_working(
    client_for: Callable[[str], TestClient], web_ledger: Ledger, tmp_path: Path
) -> None:
    """One record of a new year (no group revenue yet) made the page's default pair (the
    latest year and the one before) a 422 for every group-wide user; the default now shows
    the latest pair that can be decomposed and says why (issue 15's property test found it)."""
    records = tmp_path / "late.csv"
    records.write_text(
        "record_id,entity_id,period,activity_type,quantity,unit\n"
        f"N-1,S01,{LATEST + 1},electricity,10,MWh\n",
        encoding="utf-8",
    )
    assert import_file(web_ledger, records, kind="activity", user="t").ok
    client = client_for("verifier")
    data = client.get("/api/strategy/decomposition").json()
    assert (data["year_from"], data["year_to"]) == (LATEST - 1, LATEST)
    assert data["notes"][0].startswith(f"{LATEST}-{LATEST + 1} not decomposed (no group revenue")
    page = client.get("/strategy/decomposition", headers=HTML)
    assert page.status_code == 200
    assert f'name="year_to" type="number" min="1901" max="2199" value="{LATEST}"' in page.text
    # asked for explicitly, the pair is still refused with its reason
    refused = client.get("/api/strategy/decomposition", params={"year_to": LATEST + 1})
    assert refused.status_code == 422
