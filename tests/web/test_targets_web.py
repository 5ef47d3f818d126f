"""The company's targets on the web (issue 16): listed for group-wide callers, entered from a
targets file (all or nothing, located problems, audited), downloaded as entered."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from esgledger import audit
from esgledger.store.ledger import Ledger

Clients = Callable[[str], TestClient]
HTML = {"accept": "text/html"}
OWN = (
    "target_id,metric_id,entity_id,kind,direction,value,unit,baseline_year,baseline_value,"
    "start_year,deadline_year,name_en,name_zh,source,note,milestone\n"
    "peak,ghg.total,*,qualitative,,,,,,2026,2030,carbon peak,碳达峰,Board 2026-01,,peak\n"
    "neutral,ghg.total,*,qualitative,,,,,,2026,2055,neutrality,碳中和,Board 2026-01,,neutrality\n"
    "netzero,ghg.total,*,qualitative,,,,,,2026,2060,net zero,净零,Board 2026-01,,net_zero\n"
)


def _upload(client: TestClient, text: str, name: str = "own.csv") -> object:
    return client.post("/api/targets", files={"file": (name, text.encode("utf-8"), "text/csv")})


def test_group_wide_callers_see_the_ledgers_targets(client_for: Clients) -> None:
    data = client_for("verifier").get("/api/targets").json()
    assert len(data["targets"]) == 24 and data["message"] is None  # the demo's
    marked = {t["milestone"]: t["deadline_year"] for t in data["targets"] if t["milestone"]}
    assert marked == {"peak": 2028, "neutrality": 2040, "net_zero": 2050}
    page = client_for("verifier").get("/targets", headers=HTML).text
    assert 'data-target="climate.carbon_peak"' in page
    refused = client_for("viewer").get("/api/targets")  # a viewer of S02 only
    assert refused.status_code == 403 and "whole group" in refused.json()["detail"]


def test_a_file_is_entered_whole_or_not_at_all(client_for: Clients, web_ledger: Ledger) -> None:
    admin = client_for("admin")
    bad = _upload(admin, OWN.replace("2060", "20x0"), "bad.csv")
    assert bad.status_code == 422  # type: ignore[attr-defined]
    assert "bad.csv:4:deadline_year" in bad.json()["detail"]  # type: ignore[attr-defined]
    assert len(admin.get("/api/targets").json()["targets"]) == 24  # nothing changed
    done = _upload(admin, OWN)
    assert done.status_code == 200  # type: ignore[attr-defined]
    body = done.json()  # type: ignore[attr-defined]
    assert (body["count"], body["added"], len(body["removed"])) == (
        3,
        ["peak", "neutral", "netzero"],
        24,
    )
    listed = admin.get("/api/targets").json()["targets"]
    assert [t["target_id"] for t in listed] == ["peak", "neutral", "netzero"]
    latest = audit.entries(web_ledger.engine, object_type="targets", limit=5)[0]
    assert (latest["seq"], latest["actor"], latest["action"]) == (
        body["audit_seq"],
        "admin",
        "import",
    )


def test_the_form_enters_the_file_and_the_download_gives_it_back(
    client_for: Clients, web_ledger: Ledger
) -> None:
    admin = client_for("admin")
    response = admin.post(
        "/targets",
        files={"file": ("own.csv", OWN.encode("utf-8"), "text/csv")},
        data={"csrf_token": admin.headers["X-CSRF-Token"]},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/targets?done=targets_imported"
    download = admin.get("/targets.csv")
    assert download.status_code == 200
    assert download.content.decode("utf-8-sig").replace("\r\n", "\n") == OWN
    exports = audit.entries(web_ledger.engine, object_type="targets", limit=5)
    assert [e["action"] for e in exports][:1] == ["export"]
    # a file with problems re-shows the page with each problem, located
    again = admin.post(
        "/targets",
        files={"file": ("x.csv", b"target_id\nA\n", "text/csv")},
        data={"csrf_token": admin.headers["X-CSRF-Token"]},
        headers=HTML,
    )
    assert again.status_code == 422 and 'id="targets-problems"' in again.text
    assert "x.csv:1:metric_id" in again.text
