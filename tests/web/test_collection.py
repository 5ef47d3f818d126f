"""The data-collection workflow through the web app: campaigns, requests (values with
versions, submit, review), template upload, evidence, exports, period lock and adjustments."""

from __future__ import annotations

import csv
import hashlib
import io
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select
from typer.testing import CliRunner

from esgledger import figures
from esgledger.cli import app as cli
from esgledger.store.engine import TABLES
from esgledger.store.ledger import Ledger, PeriodLockedError

Client = Callable[[str], TestClient]
ELECTRICITY = "energy.electricity_purchased"
FATALITIES = "safety.fatalities"
METRICS = [ELECTRICITY, FATALITIES]


# -- helpers ----------------------------------------------------------------------------------


def _campaign(client: TestClient, entities: list[str] | None = None) -> int:
    response = client.post(
        "/api/campaigns",
        json={
            "name": "FY2025 data",
            "year": 2025,
            "due_date": "2026-03-31",
            "metric_ids": METRICS,
            "entity_ids": entities or ["S01"],
            "instructions": "annual figures",
        },
    )
    assert response.status_code == 201, response.text
    return int(response.json()["campaign_id"])


def _request_id(client: TestClient, campaign_id: int, entity_id: str) -> int:
    response = client.get(f"/api/campaigns/{campaign_id}")
    assert response.status_code == 200, response.text
    found = [r for r in response.json()["requests"] if r["entity_id"] == entity_id]
    assert len(found) == 1, response.json()
    return int(found[0]["request_id"])


def _detail(client: TestClient, request_id: int) -> dict[str, Any]:
    response = client.get(f"/api/requests/{request_id}")
    assert response.status_code == 200, response.text
    detail: dict[str, Any] = response.json()
    return detail


def _values(client: TestClient, request_id: int) -> dict[str, Any]:
    return {i["metric_id"]: i["value"] for i in _detail(client, request_id)["items"]}


def _put(
    client: TestClient, request_id: int, metric_id: str, text: str, base: int, **extra: Any
) -> Any:
    return client.put(
        f"/api/requests/{request_id}/values/{metric_id}",
        json={"value_text": text, "base_version": base, **extra},
    )


def _setup(client_for: Client, entities: list[str] | None = None) -> tuple[int, int]:
    campaign_id = _campaign(client_for("reviewer"), entities)
    return campaign_id, _request_id(client_for("reviewer"), campaign_id, "S01")


def _fill(owner: TestClient, request_id: int, electricity: str = "1234.5") -> None:
    values = _values(owner, request_id)
    for metric_id, text in ((ELECTRICITY, electricity), (FATALITIES, "0")):
        base = values[metric_id]["version"] if values[metric_id] else 0
        response = _put(owner, request_id, metric_id, text, base)
        assert response.status_code == 200, response.text


def _template(client: TestClient, request_id: int, lang: str = "en") -> bytes:
    response = client.get(f"/api/requests/{request_id}/template.xlsx?lang={lang}")
    assert response.status_code == 200, response.text
    assert response.headers["content-disposition"].startswith("attachment;")
    return response.content


def _edit(workbook: bytes, cells: dict[str, object]) -> bytes:
    book = load_workbook(io.BytesIO(workbook))
    sheet = book["request"]
    for address, value in cells.items():
        sheet[address] = value
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _upload(
    client: TestClient,
    request_id: int,
    content: bytes,
    name: str = "filled.xlsx",
    page: bool = False,
) -> Any:
    base = _detail(client, request_id)["version"]
    prefix = "" if page else "/api"
    return client.post(
        f"{prefix}/requests/{request_id}/upload",
        data={"base_version": str(base)},
        files={"file": (name, content, "application/octet-stream")},
    )


def _records(ledger: Ledger, year: int) -> pd.DataFrame:
    table = TABLES["activity_record"]
    stmt = select(
        table.c.record_id, table.c.source_kind, table.c.source_file, table.c.quantity
    ).where(table.c.year == year, table.c.entity_id == "S01")
    with ledger.engine.connect() as conn:
        return pd.DataFrame(conn.execute(stmt).mappings().all())


def _row(metric_id: str, text: str, unit: str, base: int, note: str = "") -> dict[str, str]:
    return {
        f"v.{metric_id}": text,
        f"u.{metric_id}": unit,
        f"n.{metric_id}": note,
        f"b.{metric_id}": str(base),
    }


# -- the whole flow -------------------------------------------------------------------------


def test_whole_flow_through_the_json_api(client_for: Client, web_ledger: Ledger) -> None:
    reviewer, owner, admin = client_for("reviewer"), client_for("owner"), client_for("admin")
    approver = client_for("approver")
    campaign_id, request_id = _setup(client_for)
    listed = owner.get("/api/campaigns").json()
    mine = [c for c in listed["campaigns"] if c["campaign_id"] == campaign_id]
    assert mine and mine[0]["by_status"]["draft"] == 1
    assert "entities" not in listed  # the owner does not create campaigns

    # the owner enters values; a second editor of the same figure with a stale version is refused
    assert _put(owner, request_id, ELECTRICITY, "1200", 0).json()["version"] == 1
    assert _put(admin, request_id, ELECTRICITY, "1234.5", 1, note="meter 7").json()["version"] == 2
    stale = _put(owner, request_id, ELECTRICITY, "999", 1)
    assert stale.status_code == 409
    assert stale.json()["current_version"] == 2
    assert "changed by admin" in stale.json()["detail"]
    kept = _values(owner, request_id)[ELECTRICITY]
    assert (kept["value_text"], kept["note"], kept["updated_by"]) == ("1234.5", "meter 7", "admin")
    assert _put(owner, request_id, FATALITIES, "0", 0).status_code == 200

    # submit needs the request's current version
    version = _detail(owner, request_id)["version"]
    old = owner.post(f"/api/requests/{request_id}/submit", json={"base_version": version - 1})
    assert old.status_code == 409
    submitted = owner.post(f"/api/requests/{request_id}/submit", json={"base_version": version})
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["status"] == "submitted"
    assert _put(owner, request_id, ELECTRICITY, "1", 2).status_code == 409  # not editable

    # the reviewer returns it with a comment; the owner fixes it and submits again
    version = submitted.json()["version"]
    no_reason = reviewer.post(
        f"/api/requests/{request_id}/return", json={"base_version": version, "comment": " "}
    )
    assert no_reason.status_code == 422
    returned = reviewer.post(
        f"/api/requests/{request_id}/return",
        json={"base_version": version, "comment": "electricity excludes the canteen"},
    )
    assert returned.json()["status"] == "returned"
    comments = _detail(owner, request_id)["comments"]
    assert [(c["kind"], c["author"]) for c in comments] == [("return", "reviewer")]
    assert _put(owner, request_id, ELECTRICITY, "1300", 2).status_code == 200
    version = _detail(owner, request_id)["version"]
    assert (
        owner.post(f"/api/requests/{request_id}/submit", json={"base_version": version}).json()[
            "status"
        ]
        == "submitted"
    )
    assert (
        owner.post(
            f"/api/requests/{request_id}/approve", json={"base_version": version + 1}
        ).status_code
        == 403
    )  # an owner does not review
    approved = reviewer.post(
        f"/api/requests/{request_id}/approve", json={"base_version": version + 1}
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved" and approved.json()["batch_id"]

    # the approver locks 2025; the figure then changes only through an adjustment
    assert reviewer.post("/api/periods/2025/lock", json={}).status_code == 403
    locked = approver.post("/api/periods/2025/lock", json={"note": "FY2025 report"})
    assert locked.json() == {"year": 2025, "locked_requests": 1}
    period = next(p for p in approver.get("/api/periods").json() if p["year"] == 2025)
    assert period["lock"]["locked_by"] == "approver" and period["requests"] == {"locked": 1}
    assert _detail(owner, request_id)["status"] == "locked"
    refused = _put(owner, request_id, ELECTRICITY, "1400", 3)
    assert refused.status_code == 409 and "locked" in refused.json()["detail"]
    _import_is_refused(web_ledger)

    # four eyes: the proposer does not decide
    own = admin.post(
        "/api/adjustments",
        json={
            "entity_id": "S01",
            "year": 2025,
            "metric_id": ELECTRICITY,
            "value_text": "1",
            "reason": "test four eyes",
        },
    ).json()["adjustment_id"]
    assert admin.post(f"/api/adjustments/{own}/approve", json={}).status_code == 403
    assert approver.post(f"/api/adjustments/{own}/reject", json={"note": "no"}).status_code == 200

    proposed = owner.post(
        "/api/adjustments",
        json={
            "entity_id": "S01",
            "year": 2025,
            "metric_id": ELECTRICITY,
            "value_text": "1,350",
            "unit": "MWh",
            "reason": "canteen meter was missed",
        },
    )
    assert proposed.status_code == 201, proposed.text
    adjustment_id = proposed.json()["adjustment_id"]
    assert owner.post(f"/api/adjustments/{adjustment_id}/approve", json={}).status_code == 403
    decided = approver.post(f"/api/adjustments/{adjustment_id}/approve", json={"note": "ok"})
    assert decided.status_code == 200 and decided.json()["batch_id"]
    listed_adjustments = owner.get("/api/adjustments?year=2025").json()
    assert [a["status"] for a in listed_adjustments] == ["approved", "rejected"]

    records = _records(web_ledger, 2025)
    assert sorted(records["source_kind"]) == ["adjustment", "form"]
    assert records["quantity"].sum() == pytest.approx(1350)
    assert set(records["source_file"]) == {f"request:{request_id}", f"adjustment:{adjustment_id}"}
    tree = str(figures.explain(web_ledger, "ghg:2025:S2L:S01", rows=10).to_dict())
    assert f"[request:{request_id}" in tree and f"[adjustment:{adjustment_id}" in tree


def _import_is_refused(ledger: Ledger) -> None:
    record = pd.DataFrame(
        [
            {
                "record_id": "LOCKED-1",
                "entity_id": "S01",
                "year": 2025,
                "month": 1,
                "activity_type": "electricity",
                "quantity": 1.0,
                "quantity_text": "1",
                "unit": "MWh",
                "data_quality": "measured",
            }
        ]
    )
    with pytest.raises(PeriodLockedError):
        ledger.write_batch("activity", "late.csv", "sha-late", activity=record)


def test_import_of_a_locked_year_through_the_cli_is_refused(
    client_for: Client, web_ledger: Ledger, tmp_path: Path
) -> None:
    assert (
        client_for("approver")
        .post("/api/periods/2025/lock", json={"force": True})
        .json()["locked_requests"]
        == 0
    )
    late = tmp_path / "late.csv"
    late.write_text(
        "record_id,entity_id,period,activity_type,quantity,unit,region,data_quality,"
        "activity_date,instrument_id,ef_value,ef_unit,note\n"
        "L-001,S01,2025-01,electricity,100.5,MWh,,measured,,,,,late bill\n",
        encoding="utf-8",
    )
    url = web_ledger.engine.url
    target = url.database if url.get_backend_name() == "sqlite" else None
    target = target or url.render_as_string(hide_password=False)
    result = CliRunner().invoke(cli, ["import", str(late), "--ledger", target])
    assert result.exit_code == 1
    assert "late.csv:2:period: period 2025 is locked" in " ".join(result.output.split())
    assert _records(web_ledger, 2025).empty


def test_two_editors_race_on_the_same_version_exactly_one_wins(client_for: Client) -> None:
    _, request_id = _setup(client_for)
    editors = [client_for("owner"), client_for("admin")]
    barrier = threading.Barrier(len(editors))
    statuses: dict[int, int] = {}

    def edit(index: int) -> None:
        barrier.wait()
        statuses[index] = _put(
            editors[index], request_id, ELECTRICITY, f"{index + 1}00", 0
        ).status_code

    threads = [threading.Thread(target=edit, args=(i,)) for i in range(len(editors))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(statuses.values()) == [200, 409]
    winner = next(i for i, s in statuses.items() if s == 200)
    value = _values(editors[0], request_id)[ELECTRICITY]
    assert value["version"] == 1 and value["value_text"] == f"{winner + 1}00"


# -- entity scope ---------------------------------------------------------------------------


def test_an_owner_cannot_read_or_write_another_entitys_request(client_for: Client) -> None:
    campaign_id = _campaign(client_for("reviewer"), ["S01", "S02"])
    reviewer, owner, owner2 = client_for("reviewer"), client_for("owner"), client_for("owner2")
    s02 = _request_id(reviewer, campaign_id, "S02")
    assert owner.get(f"/api/requests/{s02}").status_code == 404
    assert owner.get(f"/requests/{s02}").status_code == 404
    assert _put(owner, s02, ELECTRICITY, "5", 0).status_code == 404
    assert owner.post(f"/api/requests/{s02}/submit", json={"base_version": 1}).status_code == 404
    assert owner.get(f"/api/requests/{s02}/template.xlsx").status_code == 404
    assert _put(owner2, s02, ELECTRICITY, "5", 0).status_code == 200
    seen = owner.get(f"/api/campaigns/{campaign_id}").json()["requests"]
    assert [r["entity_id"] for r in seen] == ["S01"]
    exported = owner.get(f"/api/campaigns/{campaign_id}/export.csv").content.decode("utf-8-sig")
    assert {r["entity_id"] for r in csv.DictReader(io.StringIO(exported))} == {"S01"}
    viewer = client_for("viewer")  # sees S02, may not edit
    assert viewer.get(f"/api/requests/{s02}").status_code == 200
    assert _put(viewer, s02, ELECTRICITY, "6", 1).status_code == 403
    assert (
        owner.post(
            "/api/adjustments",
            json={
                "entity_id": "S02",
                "year": 2024,
                "metric_id": ELECTRICITY,
                "value_text": "1",
                "reason": "not mine to change",
            },
        ).status_code
        == 404
    )
    assert (
        owner.post(
            "/api/campaigns",
            json={
                "name": "x",
                "year": 2025,
                "due_date": "2026-01-01",
                "metric_ids": METRICS,
                "entity_ids": ["S01"],
            },
        ).status_code
        == 403
    )


def test_a_campaign_names_only_entities_in_the_managers_scope_and_known_users(
    client_for: Client,
) -> None:
    reviewer = client_for("reviewer")
    body = {"name": "x", "year": 2025, "due_date": "2026-01-01", "metric_ids": METRICS}
    assert reviewer.post("/api/campaigns", json={**body, "entity_ids": ["S99"]}).status_code == 404
    wrong_metric = {**body, "metric_ids": ["energy.total_tce"], "entity_ids": ["S01"]}
    assert reviewer.post("/api/campaigns", json=wrong_metric).status_code == 422
    unknown_user = {**body, "entity_ids": ["S01"], "assignees": {"S01": 99999}}
    assert reviewer.post("/api/campaigns", json=unknown_user).status_code == 422
    listed = reviewer.get("/api/campaigns").json()
    assert {e["entity_id"] for e in listed["entities"]} >= {"G00", "S01", "S16"}
    assert any(m["metric_id"] == ELECTRICITY for m in listed["metrics"])


# -- uploads ----------------------------------------------------------------------------------


def _nothing_written(client: TestClient, request_id: int, before: dict[str, Any]) -> None:
    after = _detail(client, request_id)
    assert after["version"] == before["version"]
    assert [i["value"] for i in after["items"]] == [i["value"] for i in before["items"]]


def test_a_filled_template_is_entered_all_at_once(client_for: Client) -> None:
    _, request_id = _setup(client_for)
    owner = client_for("owner")
    filled = _edit(_template(owner, request_id, "zh"), {"D9": 2500, "C9": "kWh", "D10": 0})
    response = _upload(owner, request_id, filled)
    assert response.status_code == 200, response.text
    assert response.json()["values"] == 2
    values = _values(owner, request_id)
    assert (values[ELECTRICITY]["value_text"], values[ELECTRICITY]["unit"]) == ("2500", "kWh")
    again = _template(owner, request_id)  # the template is prefilled with what was entered
    assert load_workbook(io.BytesIO(again))["request"]["D9"].value == 2500


def test_bad_uploads_get_located_errors_and_write_nothing(client_for: Client) -> None:
    campaign_id, request_id = _setup(client_for, ["S01", "S02"])
    owner, owner2 = client_for("owner"), client_for("owner2")
    _fill(owner, request_id)
    before = _detail(owner, request_id)
    template = _template(owner, request_id)

    other = _edit(_template(owner2, _request_id(owner2, campaign_id, "S02")), {"D9": 5})
    cases = {
        "upload.wrong_template": (other, "filled.xlsx", "cell B"),
        "upload.formula": (
            _edit(template, {"D9": '=HYPERLINK("http://evil.example","click")'}),
            "filled.xlsx",
            "cell D9",
        ),
        "upload.not_a_number": (_edit(template, {"D10": "several"}), "filled.xlsx", "cell D10"),
        "upload.too_large": (template + b"\0" * 5_000_001, "big.xlsx", "5,000,000"),
        "upload.not_xlsx": (b"%PDF-1.7 not a workbook", "renamed.xlsx", "not an XLSX"),
    }
    for code, (content, name, where) in cases.items():
        response = _upload(owner, request_id, content, name)
        assert response.status_code == 422, (code, response.text)
        found = response.json()["diagnostics"]
        assert code in [d["code"] for d in found], (code, found)
        problem = next(d for d in found if d["code"] == code)
        assert problem["file"].startswith(name) and where in problem["message"], problem
        _nothing_written(owner, request_id, before)

    page = _upload(owner, request_id, cases["upload.formula"][0], page=True)
    assert page.status_code == 422
    assert "cell D9" in page.text and "filled.xlsx[request]" in page.text
    _nothing_written(owner, request_id, before)


def test_an_upload_body_over_the_limit_is_refused_before_parsing(client_for: Client) -> None:
    _, request_id = _setup(client_for)
    owner = client_for("owner")
    before = _detail(owner, request_id)
    response = _upload(owner, request_id, b"PK\x03\x04" + b"\0" * 6_000_000)
    assert response.status_code == 413
    _nothing_written(owner, request_id, before)


def test_an_upload_with_a_stale_request_version_is_refused(client_for: Client) -> None:
    _, request_id = _setup(client_for)
    owner = client_for("owner")
    filled = _edit(_template(owner, request_id), {"D9": 7})
    version = _detail(owner, request_id)["version"]
    assert _put(owner, request_id, FATALITIES, "1", 0).status_code == 200
    response = owner.post(
        f"/api/requests/{request_id}/upload",
        data={"base_version": str(version)},
        files={"file": ("filled.xlsx", filled)},
    )
    assert response.status_code == 409
    assert _values(owner, request_id)[ELECTRICITY] is None


# -- exports and evidence -------------------------------------------------------------------


def test_exports_neutralise_text_that_starts_like_a_formula(client_for: Client) -> None:
    campaign_id, request_id = _setup(client_for)
    owner = client_for("owner")
    note = '=HYPERLINK("http://evil.example","click")'
    assert _put(owner, request_id, ELECTRICITY, "10", 0, note=note).status_code == 200

    exported = owner.get(f"/api/campaigns/{campaign_id}/export.csv")
    assert exported.status_code == 200
    assert exported.headers["content-disposition"].startswith("attachment;")
    rows = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig"))))
    row = next(r for r in rows if r["metric_id"] == ELECTRICITY)
    assert row["note"] == "'" + note and row["value"] == "10.0"

    book = owner.get(f"/api/campaigns/{campaign_id}/export.xlsx")
    assert book.status_code == 200
    sheet = load_workbook(io.BytesIO(book.content))["values"]
    header = [c.value for c in sheet[1]]
    notes = [r[header.index("note")] for r in sheet.iter_rows(min_row=2)]
    cell = next(c for c in notes if c.value)
    assert cell.value == "'" + note and cell.data_type == "s"
    assert client_for("viewer").get(f"/api/campaigns/{campaign_id}/export.csv").status_code == 403


def test_evidence_is_type_checked_and_downloaded_as_an_attachment(client_for: Client) -> None:
    _, request_id = _setup(client_for)
    owner = client_for("owner")

    def attach(name: str, content: bytes) -> Any:
        return owner.post(f"/api/requests/{request_id}/evidence", files={"file": (name, content)})

    assert attach("tool.exe", b"MZ\x90\x00").status_code == 422
    fake = attach("bill.pdf", b"<html><script>alert(1)</script></html>")
    assert fake.status_code == 422 and "not a .pdf" in fake.json()["detail"]
    pdf = b"%PDF-1.7\n% electricity bill\n"
    added = attach("电费单 2025.pdf", pdf)
    assert added.status_code == 201, added.text
    evidence_id = added.json()["evidence_id"]
    listed = _detail(owner, request_id)["evidence"]
    assert [e["sha256"] for e in listed] == [hashlib.sha256(pdf).hexdigest()]

    download = owner.get(f"/api/evidence/{evidence_id}")
    assert download.status_code == 200 and download.content == pdf
    assert download.headers["x-content-type-options"] == "nosniff"
    assert download.headers["content-type"] == "application/pdf"
    assert download.headers["content-disposition"].startswith("attachment;")
    assert "filename*=UTF-8''" in download.headers["content-disposition"]
    assert client_for("owner2").get(f"/api/evidence/{evidence_id}").status_code == 404


# -- the pages --------------------------------------------------------------------------------


def test_pages_render_in_both_languages(client_for: Client) -> None:
    campaign_id, request_id = _setup(client_for)
    owner = client_for("owner")
    for lang, word in (("zh", "外购电力"), ("en", "purchased electricity")):
        assert word in owner.get(f"/requests/{request_id}?lang={lang}").text
    for path in ("/campaigns", f"/campaigns/{campaign_id}", "/periods", "/adjustments"):
        for lang in ("zh", "en"):
            response = owner.get(f"{path}?lang={lang}")
            assert response.status_code == 200, (path, response.text)
    page = client_for("reviewer").get("/campaigns?lang=en").text
    assert 'name="metric_ids"' in page and 'value="S16"' in page
    assert "Environment" in page and "purchased electricity" in page


def test_the_campaign_form_creates_a_campaign(client_for: Client) -> None:
    reviewer = client_for("reviewer")
    response = reviewer.post(
        "/campaigns",
        data={
            "name": "Form campaign",
            "year": "2025",
            "due_date": "2026-02-28",
            "metric_ids": METRICS,
            "entity_ids": ["S01", "S02"],
        },
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    page = reviewer.get(response.headers["location"])
    assert "Form campaign" in page.text and 'data-entity="S02"' in page.text
    bad = reviewer.post("/campaigns", data={"name": "x", "year": "2025", "due_date": "soon"})
    assert bad.status_code == 422 and "soon" in bad.text


def test_a_row_saved_with_htmx_returns_the_row_and_a_stale_one_its_conflict(
    client_for: Client,
) -> None:
    _, request_id = _setup(client_for)
    owner, admin = client_for("owner"), client_for("admin")
    url = f"/requests/{request_id}/values/{ELECTRICITY}"
    saved = owner.put(url, data=_row(ELECTRICITY, "1500", "MWh", 0))
    assert saved.status_code == 200
    assert 'data-version="1"' in saved.text and 'id="rv-submit"' in saved.text
    assert _put(admin, request_id, ELECTRICITY, "1600", 1).status_code == 200
    stale = owner.put(url, data=_row(ELECTRICITY, "1700", "MWh", 1))
    assert stale.status_code == 409
    assert "changed by admin" in stale.text and 'value="1700"' in stale.text
    assert _values(owner, request_id)[ELECTRICITY]["value_text"] == "1600"
    invalid = owner.put(url, data=_row(ELECTRICITY, "lots", "MWh", 2))
    assert invalid.status_code == 422 and "not a number" in invalid.text


def test_the_plain_form_saves_every_row_or_none(client_for: Client) -> None:
    _, request_id = _setup(client_for)
    owner, admin = client_for("owner"), client_for("admin")
    url = f"/requests/{request_id}/values"
    rows = {**_row(ELECTRICITY, "800", "MWh", 0), **_row(FATALITIES, "none", "persons", 0)}
    invalid = owner.post(url, data=rows)
    assert invalid.status_code == 422 and "not a number" in invalid.text
    assert _values(owner, request_id) == {ELECTRICITY: None, FATALITIES: None}

    assert _put(admin, request_id, FATALITIES, "1", 0).status_code == 200
    rows = {**_row(ELECTRICITY, "800", "MWh", 0), **_row(FATALITIES, "2", "persons", 0)}
    stale = owner.post(url, data=rows)
    assert stale.status_code == 409 and "changed by admin" in stale.text
    values = _values(owner, request_id)
    assert values[ELECTRICITY] is None and values[FATALITIES]["value_text"] == "1"

    rows = {**_row(ELECTRICITY, "800", "MWh", 0), **_row(FATALITIES, "2", "persons", 1)}
    done = owner.post(url, data=rows, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"].endswith("done=values_saved")
    values = _values(owner, request_id)
    assert (values[ELECTRICITY]["value_text"], values[FATALITIES]["value_text"]) == ("800", "2")


def test_review_lock_and_adjustment_through_the_pages(client_for: Client) -> None:
    _, request_id = _setup(client_for)
    owner, reviewer, approver = client_for("owner"), client_for("reviewer"), client_for("approver")
    _fill(owner, request_id)
    early = approver.post("/periods/2025/lock", data={"note": ""})
    assert early.status_code == 409 and "not approved" in early.text

    version = _detail(owner, request_id)["version"]
    stale = owner.post(f"/requests/{request_id}/submit", data={"base_version": version - 1})
    assert stale.status_code == 409 and 'id="request-error"' in stale.text
    submitted = owner.post(
        f"/requests/{request_id}/submit", data={"base_version": version}, follow_redirects=False
    )
    assert submitted.status_code == 303
    page = reviewer.get(f"/requests/{request_id}")
    assert 'id="approve-form"' in page.text and 'id="upload-form"' not in page.text
    approved = reviewer.post(
        f"/requests/{request_id}/approve",
        data={"base_version": version + 1, "comment": "checked against bills"},
        follow_redirects=False,
    )
    assert approved.status_code == 303
    assert (
        owner.post(f"/requests/{request_id}/comments", data={"body": "thanks"}).status_code == 200
    )

    periods = approver.get("/periods?lang=en")
    assert 'data-lock="2025"' in periods.text
    locked = approver.post("/periods/2025/lock", data={"note": "FY2025"}, follow_redirects=False)
    assert locked.status_code == 303
    after = approver.get(locked.headers["location"] + "&lang=en").text
    assert 'data-year="2025" data-locked="1"' in after and "Period locked" in after

    proposed = owner.post(
        "/adjustments",
        data={
            "entity_id": "S01",
            "year": "2025",
            "metric_id": ELECTRICITY,
            "value_text": "1300",
            "unit": "",
            "reason": "a late bill",
        },
        follow_redirects=False,
    )
    assert proposed.status_code == 303
    adjustment_id = client_for("owner").get("/api/adjustments").json()[0]["adjustment_id"]
    assert f'data-approve="{adjustment_id}"' in approver.get("/adjustments").text
    assert f'data-approve="{adjustment_id}"' not in owner.get("/adjustments").text
    decided = approver.post(
        f"/adjustments/{adjustment_id}/approve", data={"note": ""}, follow_redirects=False
    )
    assert decided.status_code == 303
    assert owner.get("/api/adjustments").json()[0]["status"] == "approved"
