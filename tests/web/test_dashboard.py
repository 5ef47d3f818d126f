"""Carbon panorama and lineage: figures equal the inventory's, each caller sees only their
entities, group material only for group-wide callers, the cache follows the data, and an
adjustment shows in the lineage with its reason."""

from __future__ import annotations

import html
import re
import threading
import time
from collections.abc import Callable
from typing import Any

import pandas as pd
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from esgledger import figures, service
from esgledger.auth import accounts
from esgledger.auth.accounts import Principal
from esgledger.store.ledger import Ledger
from esgledger.web import dashboard_data
from esgledger.web.app import create_app
from esgledger.web.dashboard_data import FIGURES, InventoryCache
from esgledger.web.routes.dashboard import Dashboard, Lineage
from esgledger.workflow import periods

Clients = Callable[[str], TestClient]
GHG = ("scope1", "scope2_location", "scope2_market", "scope3", "total")


def _who(ledger: Ledger, username: str) -> Principal:
    user_id = accounts.user_id_of(ledger.engine, username)
    assert user_id is not None
    found = accounts.get_principal(ledger.engine, user_id)
    assert found is not None
    return found


def _inventory(ledger: Ledger) -> object:
    return service.run_inventory(ledger, service.settings_from_ledger(ledger))


def _cell(page: str, figure: str, entity: str) -> str:
    """The text of the cell ``<td data-figure=... data-entity=...>`` (links stripped)."""
    pattern = rf'<td[^>]*data-figure="{figure}" data-entity="{re.escape(entity)}"[^>]*>(.*?)</td>'
    found = re.search(pattern, page, re.S)
    assert found, (figure, entity)
    return html.unescape(re.sub(r"<[^>]+>", "", found.group(1))).strip()


def test_group_figures_equal_the_inventory(client_for: Clients, web_ledger: Ledger) -> None:
    body = client_for("admin").get("/api/dashboard", params={"year": 2024}).json()
    result = service.run_inventory(web_ledger, service.settings_from_ledger(web_ledger))
    expected = {**result.scope_totals(2024), "energy_tce": result.energy_totals(2024)["tce"]}
    assert body["year"] == 2024
    assert body["group_wide"] is True
    assert body["group"]["entity_id"] == "*"
    assert body["group"]["figures"] == pytest.approx(expected, rel=1e-12)
    assert round(body["group"]["figures"]["total"], 2) == 31925.01
    assert round(body["group"]["figures"]["energy_tce"], 2) == 5580.87
    entities = {e["entity_id"]: e["figures"] for e in body["entities"]}
    assert set(entities) == {"G00", *(f"S{i:02d}" for i in range(1, 17))}
    for entity_id, shown in entities.items():
        own = {
            **result.scope_totals(2024, entity_id=entity_id),
            "energy_tce": result.energy_totals(2024, entity_id)["tce"],
        }
        assert shown == pytest.approx(own, rel=1e-9, abs=1e-9), entity_id
    for name in FIGURES:  # the entities add up to the group
        assert sum(f[name] for f in entities.values()) == pytest.approx(expected[name])
    assert [t["year"] for t in body["trend"]] == [2020, 2021, 2022, 2023, 2024]
    assert body["trend"][-1]["total"] == pytest.approx(expected["total"])
    assert body["targets"]["items"]
    assert sum(body["targets"]["counts"].values()) == len(body["targets"]["items"])
    assert {w["source"] for w in body["warnings"]} <= {"check", "kri"}
    assert any(w["severity"] == "error" for w in body["warnings"])


def test_the_default_year_is_the_latest_with_records(client_for: Clients) -> None:
    body = client_for("admin").get("/api/dashboard").json()
    assert body["year"] == 2024
    assert client_for("admin").get("/api/dashboard", params={"year": 1800}).status_code == 422


def test_an_owner_sees_only_their_entity(client_for: Clients) -> None:
    body = client_for("owner").get("/api/dashboard", params={"year": 2024}).json()
    assert [e["entity_id"] for e in body["entities"]] == ["S01"]
    assert body["group_wide"] is False
    assert body["group"]["figures"] == body["entities"][0]["figures"]
    assert body["group"]["figures"]["total"] < 2000  # not the group's 31,925
    assert body["targets"] is None
    assert body["warnings"] is None
    admin = client_for("admin").get("/api/dashboard", params={"year": 2024}).json()
    s01 = next(e for e in admin["entities"] if e["entity_id"] == "S01")
    assert body["group"]["figures"] == s01["figures"]
    for year in body["trend"]:
        other = client_for("owner").get("/api/dashboard", params={"year": year["year"]}).json()
        assert {k: year[k] for k in FIGURES} == other["entities"][0]["figures"]


def test_the_group_row_sums_the_visible_entities_only(web_ledger: Ledger) -> None:
    """Library level: a caller granted two subsidiaries gets their sum, not the group's."""
    who = _who(web_ledger, "owner")
    both = Principal(
        who.user_id,
        who.username,
        who.display_name,
        who.role,
        who.locale,
        False,
        frozenset({"S01", "S02"}),
        frozenset({"S01", "S02"}),
    )
    cache = InventoryCache()
    data = dashboard_data.dashboard(web_ledger, both, cache, 2024)
    rows = {e["entity_id"]: e["figures"] for e in data["entities"]}
    assert set(rows) == {"S01", "S02"}
    for name in FIGURES:
        assert data["group"]["figures"][name] == pytest.approx(
            rows["S01"][name] + rows["S02"][name]
        )
    assert data["targets"] is None
    assert not dashboard_data.group_wide(both, cache.get(web_ledger))
    with pytest.raises(dashboard_data.NotFound):
        dashboard_data.lineage(web_ledger, both, cache, "total", year=2024)
    found = dashboard_data.lineage(web_ledger, both, cache, "total", year=2024, entity_id="S02")
    assert found["tree"]["value"] == pytest.approx(rows["S02"]["total"])


def test_lineage_is_refused_outside_the_callers_entities(client_for: Clients) -> None:
    owner2 = client_for("owner2")  # an owner of S02
    for params in ({"year": 2024}, {"year": 2024, "entity": "*"}, {"year": 2024, "entity": "S01"}):
        assert owner2.get("/api/explain/total", params=params).status_code == 404, params
        assert owner2.get("/explain/scope1", params=params).status_code == 404, params
    assert owner2.get("/api/explain/total", params={"entity": "S99"}).status_code == 404
    mine = owner2.get("/api/explain/total", params={"year": 2024, "entity": "S02"})
    assert mine.status_code == 200
    assert mine.json()["entity"]["entity_id"] == "S02"
    viewer = client_for("viewer")  # S02, read-only dashboards: no lineage at all
    assert viewer.get("/api/explain/total", params={"entity": "S02"}).status_code == 403
    assert viewer.get("/api/explain/total").status_code == 403
    assert viewer.get("/api/dashboard").json()["entities"][0]["entity_id"] == "S02"
    assert client_for("admin").get("/api/explain/total", params={"year": 1999}).status_code == 404
    assert client_for("admin").get("/api/explain/scope4").status_code == 422


def _branches(tree: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["label"]: c for c in tree["children"]}


def test_lineage_equals_the_service_explanation(client_for: Clients, web_ledger: Ledger) -> None:
    """The page's tree lists the service's whole tree (``esgledger explain``) one level at a
    time: a group figure's entities, each the sum of its categories' branches of the whole
    tree; an entity's categories with their lines, the same values."""
    admin = client_for("admin")
    body = admin.get("/api/explain/total", params={"year": 2024}).json()
    whole = figures.explain(web_ledger, "ghg:2024:TOTAL", rows=10).to_dict()
    assert body["figure_id"] == "ghg:2024:TOTAL"
    assert body["tree"]["kind"] == "figure"
    assert body["tree"]["value"] == pytest.approx(whole["value"])
    entities = body["tree"]["children"]
    assert {e["kind"] for e in entities} == {"entity"}
    for entity in entities:
        of_entity = [b for b in whole["children"] if b["label"].startswith(entity["label"] + " /")]
        assert entity["value"] == pytest.approx(sum(b["value"] for b in of_entity))
        assert entity["figure_id"] == f"ghg:2024:TOTAL:{entity['label']}"
        assert entity["entity_id"] == entity["label"]
        assert [c["label"] for c in entity["children"]] == [b["label"] for b in of_entity]
        assert all(c["children"] == [] for c in entity["children"])  # lines on the entity's page
    assert round(body["tree"]["value"], 2) == 31925.01
    assert round(sum(e["value"] for e in entities), 2) == 31925.01
    for figure, figure_id, entity_id in (
        ("scope2_market", "ghg:2022:S2M:S03", "S03"),
        ("total", "ghg:2024:TOTAL:S01", "S01"),
    ):
        params = {"year": int(figure_id.split(":")[1]), "entity": entity_id}
        body = admin.get(f"/api/explain/{figure}", params=params).json()
        whole = figures.explain(web_ledger, figure_id, rows=10).to_dict()
        assert body["figure_id"] == figure_id
        assert body["tree"]["value"] == pytest.approx(whole["value"])
        shown, reference = _branches(body["tree"]), _branches(whole)
        assert list(shown) == list(reference)
        for label, branch in shown.items():
            assert branch["kind"] == "group"
            lines = {(c["label"], round(c["value"], 9)) for c in branch["children"]}
            assert lines == {
                (c["label"], round(c["value"], 9)) for c in reference[label]["children"]
            }
    energy = admin.get("/api/explain/energy_tce", params={"year": 2024, "entity": "S01"}).json()
    whole = figures.explain(web_ledger, "energy:2024:S01", rows=10).to_dict()
    assert energy["tree"]["value"] == pytest.approx(whole["value"])
    assert sorted(c["label"] for c in energy["tree"]["children"]) == sorted(
        c["label"] for c in whole["children"]
    )
    line = next(c for c in body["tree"]["children"][0]["children"] if c["kind"] == "line")
    record = next(c for c in line["children"] if c["kind"] == "record")
    assert record["source"]["source_kind"] == "file"
    assert record["source"]["source_file"].endswith(".csv")
    assert record["source"]["source_row"] is not None


def test_an_entitys_lines_are_listed_largest_first_up_to_the_limit(
    client_for: Clients, web_ledger: Ledger
) -> None:
    """``lines`` caps the lines of each category, largest (absolute) first; a ``more`` node
    counts the others, and the page links to more of them."""
    admin = client_for("admin")
    params = {"year": 2024, "entity": "S01", "lines": 1}
    body = admin.get("/api/explain/total", params=params).json()
    whole = _branches(figures.explain(web_ledger, "ghg:2024:TOTAL:S01", rows=10).to_dict())
    for label, branch in _branches(body["tree"]).items():
        every = whole[label]["children"]
        lines = [c for c in branch["children"] if c["kind"] == "line"]
        assert len(lines) == 1
        assert abs(lines[0]["value"]) == max(abs(c["value"]) for c in every)
        more = [c for c in branch["children"] if c["kind"] == "more"]
        if len(every) > 1:
            assert more[0]["detail"] == {"lines": len(every) - 1}
            assert more[0]["label"] == f"... {len(every) - 1} more lines"
        else:
            assert more == []
        assert branch["value"] == pytest.approx(sum(c["value"] for c in every))
    page = admin.get("/explain/total", params=params)
    assert page.status_code == 200
    assert "lines=4" in page.text  # the link to more lines


def test_the_page_shows_every_figure_cell_with_its_lineage_link(client_for: Clients) -> None:
    page = client_for("admin").get("/", params={"year": 2024})
    assert page.status_code == 200
    text = page.text
    assert _cell(text, "total", "*") == "31,925.01"
    assert _cell(text, "energy_tce", "*") == "5,580.87"
    for name in FIGURES:
        for entity in ("*", "S01", "G00"):
            assert re.fullmatch(r"-?[\d,]+\.\d\d", _cell(text, name, entity)), (name, entity)
        assert f'href="/explain/{name}?year=2024"' in text
        assert f'href="/explain/{name}?year=2024&amp;entity=S01"' in text
    assert 'id="trend-chart"' in text
    assert 'id="targets"' in text
    assert 'id="warnings"' in text
    lineage = client_for("admin").get("/explain/total", params={"year": 2024})
    assert lineage.status_code == 200
    assert "31,925.01" in lineage.text


def test_an_owners_page_has_their_entity_only(client_for: Clients) -> None:
    text = client_for("owner").get("/", params={"year": 2024, "lang": "zh"}).text
    assert 'data-entity="S01"' in text
    assert 'data-entity="S02"' not in text
    assert 'data-entity="G00"' not in text
    assert _cell(text, "total", "*") == _cell(text, "total", "S01")
    assert "子公司01" in text
    assert 'id="targets"' not in text
    assert 'id="warnings"' not in text
    assert 'href="/explain/total?year=2024&amp;entity=S01"' in text


def test_echarts_is_served_from_the_vendor_folder(client_for: Clients) -> None:
    admin = client_for("admin")
    text = admin.get("/").text
    assert '<script src="/static/vendor/echarts.min.js" defer></script>' in text
    assert '<script src="/static/dashboard.js" defer></script>' in text
    assert not re.search(r'<script[^>]+src="(https?:)?//', text)  # no CDN
    assert admin.get("/static/vendor/echarts.min.js").status_code == 200
    script = admin.get("/static/dashboard.js")
    assert script.status_code == 200
    assert "echarts.init" in script.text
    data = re.search(r'<script type="application/json" id="dashboard-data">(.*?)</script>', text)
    assert data and '"trend"' in data.group(1)


def _batch(entity_id: str, year: int, litres: float) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "record_id": [f"TEST-{entity_id}-{year}-{litres}"],
            "entity_id": [entity_id],
            "year": [year],
            "activity_type": ["gasoline_vehicle"],
            "quantity": [litres],
            "quantity_text": [str(litres)],
            "unit": ["L"],
            "data_quality": ["measured"],
            "source_row": [2],
        }
    )


def test_the_cache_is_recomputed_after_a_new_batch_only(
    app: FastAPI, client_for: Clients, web_ledger: Ledger
) -> None:
    admin = client_for("admin")
    before = admin.get("/api/dashboard", params={"year": 2023}).json()
    cache: InventoryCache = app.state.inventory_cache
    assert cache.computations == 1
    admin.get("/api/dashboard", params={"year": 2023})
    admin.get("/", params={"year": 2022})
    client_for("owner").get("/api/dashboard")
    assert cache.computations == 1
    web_ledger.write_batch("activity", "more.csv", "sha-more", activity=_batch("S01", 2023, 1000))
    after = admin.get("/api/dashboard", params={"year": 2023}).json()
    assert cache.computations == 2

    def s01(body: dict[str, object]) -> float:
        rows = body["entities"]
        assert isinstance(rows, list)
        return float(next(e for e in rows if e["entity_id"] == "S01")["figures"]["scope1"])

    assert s01(after) > s01(before) + 2  # 1000 L of gasoline is about 2.3 tCO2e
    expected = service.run_inventory(web_ledger, service.settings_from_ledger(web_ledger))
    assert after["group"]["figures"]["total"] == pytest.approx(expected.scope_totals(2023)["total"])
    web_ledger.set_setting("scope2_total_basis", "market")  # settings are part of the version
    market = admin.get("/api/dashboard", params={"year": 2023}).json()
    assert cache.computations == 3
    assert market["scope2_total_basis"] == "market"


def test_an_adjustment_shows_in_the_lineage_with_its_reason(
    client_for: Clients, web_ledger: Ledger
) -> None:
    owner = client_for("owner")
    before = owner.get("/api/dashboard", params={"year": 2024}).json()["group"]["figures"]
    engine = web_ledger.engine
    periods.lock_period(engine, _who(web_ledger, "approver"), 2024, force=True)
    reason = "fuel card statement of December was missing"
    adjustment_id = periods.propose_adjustment(
        engine, _who(web_ledger, "owner"), "S01", 2024, "energy.gasoline", "1600", "L", reason
    )
    periods.decide_adjustment(engine, _who(web_ledger, "approver"), adjustment_id, True)
    after = owner.get("/api/dashboard", params={"year": 2024}).json()["group"]["figures"]
    assert after["scope1"] > before["scope1"]
    body = owner.get(
        "/api/explain/scope1", params={"year": 2024, "entity": "S01", "rows": 2}
    ).json()
    records = [
        r
        for branch in body["tree"]["children"]
        for line in branch["children"]
        for r in line["children"]
        if r["kind"] == "record"
    ]
    adjusted = [r for r in records if r["source"]["source_kind"] == "adjustment"]
    assert adjusted, "the adjustment record is listed first, within the rows shown"
    source = adjusted[0]["source"]
    assert source["source_file"] == f"adjustment:{adjustment_id}"
    assert source["source_user"] == "owner"
    assert source["adjustment"]["reason"] == reason
    assert source["adjustment"]["decided_by"] == "approver"
    page = owner.get("/explain/scope1", params={"year": 2024, "entity": "S01", "rows": 2})
    assert reason in page.text
    assert 'data-kind="adjustment"' in page.text


def test_the_cache_is_warmed_when_the_app_starts(web_ledger: Ledger) -> None:
    app = create_app(web_ledger)
    with TestClient(app):  # runs the lifespan: a background thread fills the cache
        deadline = time.monotonic() + 60
        while getattr(app.state, "inventory_cache", None) is None and time.monotonic() < deadline:
            time.sleep(0.05)
        cache: InventoryCache = app.state.inventory_cache
        snapshot = None
        while time.monotonic() < deadline:
            snapshot = cache.current
            if snapshot is not None and 2024 in snapshot.extras:
                break
            time.sleep(0.05)
        assert snapshot is not None
        assert cache.computations == 1
        assert 2024 in snapshot.extras  # the latest year's targets and warnings too


def test_a_year_without_figures_shows_zeros_and_no_group_material(client_for: Clients) -> None:
    body = client_for("admin").get("/api/dashboard", params={"year": 2150}).json()
    assert body["year"] == 2150
    assert body["group"]["figures"] == dict.fromkeys(FIGURES, 0.0)
    assert body["targets"] == {"counts": {}, "items": []}
    assert body["warnings"] == []
    assert 2150 in body["years"]


def test_the_json_has_exactly_the_documented_shape(client_for: Clients) -> None:
    """The API routes return their data as it is (no second validation by FastAPI): it must
    be exactly what the OpenAPI response models say."""
    for username in ("admin", "owner"):
        client = client_for(username)
        body = client.get("/api/dashboard", params={"year": 2024}).json()
        assert Dashboard.model_validate(body).model_dump(mode="json") == body
    admin = client_for("admin")
    for params in ({"year": 2024}, {"year": 2024, "entity": "S01", "rows": 3}):
        body = admin.get("/api/explain/total", params=params).json()
        assert Lineage.model_validate(body).model_dump(mode="json") == body
    spec = admin.get("/api/openapi.json").json()
    ok = spec["paths"]["/api/dashboard"]["get"]["responses"]["200"]["content"]
    assert ok["application/json"]["schema"]["$ref"].endswith("/Dashboard")


def test_pathway_progress_is_the_strategy_figure(client_for: Clients, web_ledger: Ledger) -> None:
    """The panorama's pathway card is :func:`pathway_progress` with lineage ids the service
    explains to the same values; group-wide callers only."""
    from esgledger.usecases.strategy_figures import pathway_progress  # noqa: PLC0415

    body = client_for("admin").get("/api/dashboard", params={"year": 2024}).json()
    card = body["pathway"]
    expected = pathway_progress(web_ledger, 2024)
    assert card["status"] == expected.status == "base year"
    assert card["base_year"] == 2024
    assert card["actual_tco2e"] == pytest.approx(31925.008, abs=0.01)
    assert card["pathway_tco2e"] == pytest.approx(expected.group_tco2e)
    assert card["milestones"] == {"peak": 2028, "neutrality": 2040, "net_zero": 2050}
    for key in ("actual", "pathway", "contraction"):
        node = figures.explain(web_ledger, card[f"{key}_id"])
        assert node.value == pytest.approx(card[f"{key}_tco2e"]), key
    page = client_for("admin").get("/", params={"year": 2024}).text
    assert 'id="pathway"' in page
    assert 'href="/strategy/pathway?base_year=2024"' in page
    owner = client_for("owner").get("/api/dashboard", params={"year": 2024}).json()
    assert owner["pathway"] is None
    assert 'id="pathway"' not in client_for("owner").get("/", params={"year": 2024}).text
    assert (
        client_for("admin").get("/api/dashboard", params={"year": 2150}).json()["pathway"] is None
    )


def test_during_a_rebuild_the_previous_complete_figures_are_served_labelled(
    app: FastAPI, web_ledger: Ledger, client_for: Clients, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With ``fresh_wait`` (``esgledger serve --fresh-wait``), a request arriving while the
    figures of new data are computed gets the previous complete ones, with their version and
    time, instead of waiting; then the new ones, once built. Never a partial computation."""
    app.state.fresh_wait = 0.0  # what serve sets: the cache is made on first use
    admin = client_for("admin")
    first = admin.get("/api/dashboard", params={"year": 2023}).json()
    assert first["as_of"]["current"] is True
    release = threading.Event()
    real = dashboard_data.build_snapshot

    def slow(book: object) -> object:
        release.wait(30)
        return real(book)  # type: ignore[arg-type]

    monkeypatch.setattr(dashboard_data, "build_snapshot", slow)
    web_ledger.write_batch("activity", "more.csv", "sha-more", activity=_batch("S01", 2023, 1000))
    during = admin.get("/api/dashboard", params={"year": 2023}).json()
    assert during["as_of"] == first["as_of"] | {"current": False}
    assert during["group"] == first["group"]  # the previous version's figures, whole
    release.set()
    cache: InventoryCache = app.state.inventory_cache
    for _ in range(300):  # the background build finishes
        if cache.current is not None:
            break
        time.sleep(0.05)
    after = admin.get("/api/dashboard", params={"year": 2023}).json()
    assert after["as_of"]["current"] is True
    assert after["as_of"]["version"] != first["as_of"]["version"]
    # 1,000 L of gasoline more at S01: about 2.3 tCO2e more in scope 1
    assert after["group"]["figures"]["scope1"] > first["group"]["figures"]["scope1"] + 2


def test_the_page_says_when_its_figures_are_of_a_previous_version(
    app: FastAPI, web_ledger: Ledger, client_for: Clients, monkeypatch: pytest.MonkeyPatch
) -> None:
    app.state.fresh_wait = 0.0
    admin = client_for("admin")
    assert 'id="as-of"' not in admin.get("/", params={"year": 2023}).text
    release = threading.Event()
    real = dashboard_data.build_snapshot
    monkeypatch.setattr(
        dashboard_data, "build_snapshot", lambda book: (release.wait(30), real(book))[1]
    )
    web_ledger.write_batch("activity", "more.csv", "sha-more", activity=_batch("S01", 2023, 10))
    page = admin.get("/", params={"year": 2023}).text
    release.set()
    cache: InventoryCache = app.state.inventory_cache
    for _ in range(300):  # let the background build finish before the ledger closes
        if cache.current is not None:
            break
        time.sleep(0.05)
    assert 'id="as-of"' in page and "新数据正在计算中" in page  # the page is in Chinese by default


def test_gasoline_in_tonnes_counts_in_litres_and_breaks_no_page(
    client_for: Clients, web_ledger: Ledger
) -> None:
    """A valid import of gasoline in tonnes (its basis unit) made the group dashboard, kpi and
    targets fail: the KPI in litres had no route from tonnes. It converts through the density
    the calculation uses (0.73 kg/L in the demo): 2.5 t = 2,500 kg / 0.73 kg/L = 3,424.66 L."""
    before = service.computed_figures(web_ledger, 2024)[0]["energy.gasoline"]
    batch = _batch("S01", 2024, 2.5).assign(unit="t", record_id="TONNES-1")
    web_ledger.write_batch("activity", "tonnes.csv", "sha-tonnes", activity=batch)
    admin = client_for("admin")
    assert admin.get("/api/dashboard", params={"year": 2024}).status_code == 200
    assert admin.get("/", params={"year": 2024}).status_code == 200
    after, problems = service.computed_figures(web_ledger, 2024)
    assert after["energy.gasoline"] == pytest.approx(before + 2500 / 0.73, rel=1e-9)
    assert not [p for p in problems if p.code == "unit"]


def test_a_ledger_without_targets_says_so_on_the_dashboard(
    client_for: Clients, web_ledger: Ledger
) -> None:
    """The targets card of a ledger whose company entered none says how to enter them,
    instead of an empty table (issue 16)."""
    from esgledger.store.engine import write_transaction  # noqa: PLC0415
    from esgledger.store.targets import replace_targets  # noqa: PLC0415

    admin = client_for("admin")
    assert 'id="targets-none"' not in admin.get("/", params={"year": 2024}).text
    with write_transaction(web_ledger.engine) as conn:
        replace_targets(conn, [])
    page = admin.get("/", params={"year": 2024}).text
    assert 'id="targets-none"' in page and "esgledger targets import" in page
