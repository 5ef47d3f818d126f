"""The company's own reference data on the web (issue 16: "validated where it is entered,
with the same rules everywhere (file, CLI, web)"): its own metrics, measured fuel properties
and factor packs, listed for group-wide callers, entered from the file the CLI takes (all or
nothing, the same located problems, audited) and downloaded as the CLI exports them."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from esgledger import audit
from esgledger.store.ledger import Ledger
from esgledger.usecases.factor_packs import factor_pack_csv
from esgledger.usecases.fuel_properties import fuel_properties_csv

Clients = Callable[[str], TestClient]
HTML = {"accept": "text/html"}
SLUGS = ("metrics", "measures", "fuel-properties", "factor-packs")
FUEL = (
    "activity_type,property,value,unit,entity_id,year,source\n"
    'raw_coal,ncv,23.45,GJ/t,,2026,"plant lab, GB/T 213 bomb calorimeter"\n'
)
PACK = (
    "factor_id,key,geography,year,published,gas,value,unit,source,edition,notes\n"
    "sg_ema_2017_om,grid.location,SG,2017,2018-10-31,CO2,0.4192,kgCO2/kWh,"
    '"EMA Singapore Energy Statistics 2018, grid emission factor 2017",SES 2018,\n'
)
METRICS = (
    "metric_id,name_en,name_zh,pillar,unit,unit_label,unit_label_zh,kind,aggregation,numerator,"
    "denominator,weight,scale,parent,dimension,member,period_rule,formula,precision,seed_row,"
    "definition,gri\n"
    "materials.packaging_paper,paper packaging material used,纸质包装材料使用量,E,t,t,吨,input,"
    "sum,,,,1,,,,flow,,1,,Paper and board packaging of finished products,301-1\n"
)


def _upload(client: TestClient, slug: str, text: str, name: str = "own.csv") -> object:
    files = {"file": (name, text.encode("utf-8"), "text/csv")}
    return client.post(f"/api/company/{slug}", files=files)


@pytest.mark.parametrize("slug", SLUGS)
def test_group_wide_callers_see_each_table_and_scoped_ones_are_refused(
    client_for: Clients, slug: str
) -> None:
    verifier = client_for("verifier")
    data = verifier.get(f"/api/company/{slug}").json()
    page = verifier.get(f"/company/{slug}", headers=HTML).text
    assert f'href="/company/{slug}.csv"' in page and data["columns"]
    if slug == "measures":  # the demo enters its 16 measures (illustrative costs)
        assert len(data["rows"]) == 16 and data["rows"][0]["measure_id"] == "led_retrofit"
        assert 'id="company-data"' in page
    else:  # the demo enters none: the header alone
        assert data["rows"] == [] and 'id="company-data-none"' in page
    assert 'id="company-data-upload"' not in page  # a verifier does not edit
    refused = client_for("viewer").get(f"/api/company/{slug}")  # a viewer of S02 only
    assert refused.status_code == 403 and "whole group" in refused.json()["detail"]


def test_a_fuel_property_file_is_checked_by_the_cli_rules_and_entered_whole(
    client_for: Clients, web_ledger: Ledger
) -> None:
    admin = client_for("admin")
    # 2.345 GJ/t is outside raw coal's physical range: the same refusal as `fuel import`
    bad = _upload(admin, "fuel-properties", FUEL.replace("23.45", "2.345"), "bad.csv")
    assert bad.status_code == 422  # type: ignore[attr-defined]
    assert "bad.csv:2:value" in bad.json()["detail"]  # type: ignore[attr-defined]
    assert web_ledger.fuel_properties().empty  # nothing written
    done = _upload(admin, "fuel-properties", FUEL)
    assert done.json() == {"count": 1, "changed": 1}  # type: ignore[attr-defined]
    again = _upload(admin, "fuel-properties", FUEL)
    assert again.json() == {"count": 1, "changed": 0}  # type: ignore[attr-defined]
    [row] = admin.get("/api/company/fuel-properties").json()["rows"]
    assert (row["activity_type"], row["property"], row["value"], row["year"]) == (
        "raw_coal",
        "ncv",
        "23.45",
        "2026",
    )
    [entry] = audit.entries(web_ledger.engine, object_type="fuel_property", limit=5)
    assert (entry["actor"], entry["action"]) == ("admin", "set")
    # the download is the CLI's export of the same rows, and is audited as an export
    download = admin.get("/company/fuel-properties.csv")
    stored = fuel_properties_csv(web_ledger.fuel_properties().to_dict("records"))
    assert download.content.decode("utf-8") == stored
    exports = audit.entries(web_ledger.engine, object_type="fuel_properties", limit=5)
    assert [e["action"] for e in exports] == ["export"]


def test_the_form_enters_a_factor_pack_and_shows_a_bad_one_located(
    client_for: Clients, web_ledger: Ledger
) -> None:
    admin = client_for("admin")
    csrf = {"csrf_token": admin.headers["X-CSRF-Token"]}
    response = admin.post(
        "/company/factor-packs",
        files={"file": ("sg.csv", PACK.encode("utf-8"), "text/csv")},
        data=csrf,
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/company/factor-packs?done=company_data_imported"
    page = admin.get("/company/factor-packs", headers=HTML).text
    assert "sg_ema_2017_om" in page and "0.4192" in page
    assert web_ledger.user_factors()["factor_id"].tolist() == ["sg_ema_2017_om"]
    assert admin.get("/company/factor-packs.csv").text == factor_pack_csv(
        web_ledger.user_factors().to_dict("records")
    )
    # 419.2 kgCO2/kWh is a thousand times any grid: refused, located, nothing changes
    wrong = admin.post(
        "/company/factor-packs",
        files={"file": ("x.csv", PACK.replace("0.4192", "419.2").encode(), "text/csv")},
        data=csrf,
        headers=HTML,
    )
    assert wrong.status_code == 422 and 'id="company-data-problems"' in wrong.text
    assert "x.csv:2:value" in wrong.text
    assert web_ledger.user_factors()["value"].tolist() == [0.4192]


def test_own_metrics_enter_the_catalogue_from_the_web(
    client_for: Clients, web_ledger: Ledger
) -> None:
    admin = client_for("admin")
    done = _upload(admin, "metrics", METRICS)
    assert done.json() == {"count": 1, "changed": 1}  # type: ignore[attr-defined]
    [row] = admin.get("/api/company/metrics").json()["rows"]
    assert (row["metric_id"], row["unit"], row["gri"]) == (
        "materials.packaging_paper",
        "t",
        "301-1",
    )
    [entry] = audit.entries(web_ledger.engine, object_type="metric_definitions", limit=5)
    assert (entry["actor"], entry["action"]) == ("admin", "import")
    # a unit pint does not know: the catalogue's rule, located at its cell
    bad = _upload(admin, "metrics", METRICS.replace(",E,t,t,", ",E,tonnez,t,"), "m.csv")
    assert bad.status_code == 422  # type: ignore[attr-defined]
    assert "m.csv:2:unit" in bad.json()["detail"]  # type: ignore[attr-defined]


def test_only_editors_enter_files(client_for: Clients) -> None:
    refused = _upload(client_for("verifier"), "fuel-properties", FUEL)
    assert refused.status_code == 403  # type: ignore[attr-defined]
