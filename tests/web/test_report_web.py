"""The report page and its API: downloads in four formats (group-wide callers only, audited),
the narrative editor's round trip (JSON and form), 409 on a stale version or a locked year,
CSRF on the form, and what callers with a limited scope see. SQLite and PostgreSQL (see
``conftest.web_ledger``)."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from esgledger import audit
from esgledger.auth import accounts
from esgledger.report import MEDIA_TYPES, narrative
from esgledger.store.ledger import Ledger
from esgledger.workflow import periods

YEAR = 2023  # a demo year whose report text nobody has written (2024 has the demo's)
Clients = Callable[[str], TestClient]
MAGIC = {"pdf": b"%PDF-", "docx": b"PK\x03\x04", "xlsx": b"PK\x03\x04", "html": b"<!"}


def _narrative_url(section: str = "climate", year: int = YEAR, lang: str = "en") -> str:
    return f"/api/report/{year}/{lang}/narratives/{section}"


def _section(client: TestClient, section: str, year: int = YEAR) -> dict[str, object]:
    response = client.get("/api/report", params={"year": year, "lang": "en"})
    assert response.status_code == 200, response.text
    return next(s for s in response.json()["sections"] if s["section_id"] == section)


def test_the_administrator_downloads_every_format_and_each_is_audited(
    client_for: Clients, web_ledger: Ledger
) -> None:
    admin = client_for("admin")
    data = admin.get("/api/report", params={"year": YEAR, "lang": "en"}).json()
    assert data["group_wide"] and data["can_download"] and data["build_error"] is None
    assert isinstance(data["gaps"], list)
    for fmt, url in data["downloads"].items():
        response = admin.get(url)
        assert response.status_code == 200, (fmt, response.text[:300])
        assert response.headers["content-type"] == MEDIA_TYPES[fmt]
        assert response.content.startswith(MAGIC[fmt]), fmt
        disposition = response.headers["content-disposition"]
        assert f'filename="esgledger-report-{YEAR}-en.{fmt}"' in disposition
        if fmt in ("docx", "xlsx"):
            assert zipfile.ZipFile(io.BytesIO(response.content)).namelist()
    exports = audit.entries(web_ledger.engine, object_type="report")
    assert sorted(e["object_id"] for e in exports) == sorted(
        f"{YEAR}/en.{fmt}" for fmt in MEDIA_TYPES
    )
    assert all(e["action"] == "export" and e["actor"] == "admin" for e in exports)
    assert '"sha256"' in str(exports[0]["after"])


@pytest.mark.parametrize("username", ["owner", "owner2", "viewer"])
def test_callers_who_do_not_see_the_whole_group_cannot_download(
    client_for: Clients, web_ledger: Ledger, username: str
) -> None:
    client = client_for(username)
    response = client.get(f"/api/report/{YEAR}/en.html")
    assert response.status_code == 403
    data = client.get("/api/report", params={"year": YEAR}).json()
    assert not data["group_wide"] and not data["can_download"] and not data["can_edit"]
    assert data["downloads"] is None and data["gaps"] is None
    assert all(s["text"] is None for s in data["sections"])
    page = client.get("/report", params={"year": YEAR})
    assert page.status_code == 200
    assert 'id="report-group-only"' in page.text and "/api/report/" not in page.text
    assert audit.entries(web_ledger.engine, object_type="report") == []


def test_a_reviewer_of_one_entity_neither_downloads_nor_edits(
    client_for: Clients, web_ledger: Ledger
) -> None:
    accounts.create_user(
        web_ledger.engine,
        "test",
        "reviewer_s01",
        "reviewer_s01-password-1",
        "reviewer",
        entities=["S01"],
    )
    client = client_for("reviewer_s01")
    assert client.get(f"/api/report/{YEAR}/en.xlsx").status_code == 403
    refused = client.put(_narrative_url(), json={"text": "Mine.", "base_version": 0})
    assert refused.status_code == 403
    assert narrative.narratives(web_ledger.engine, YEAR, "en") == {}


def test_the_narrative_round_trip_and_a_stale_version(client_for: Clients) -> None:
    reviewer, admin = client_for("reviewer"), client_for("admin")
    before = _section(reviewer, "climate")
    assert (before["origin"], before["version"]) == ("prompt", 0)
    assert before["edit_url"] == _narrative_url()

    text = "First paragraph.\r\n\r\nSecond **bold** paragraph.  "
    saved = reviewer.put(_narrative_url(), json={"text": text, "base_version": 0})
    assert saved.status_code == 200, saved.text
    assert saved.json() == {"year": YEAR, "lang": "en", "section_id": "climate", "version": 1}
    after = _section(admin, "climate")
    assert after["text"] == "First paragraph.\n\nSecond **bold** paragraph.  "
    assert (after["origin"], after["version"], after["updated_by"]) == ("ledger", 1, "reviewer")

    stale = admin.put(_narrative_url(), json={"text": "Overwrite?", "base_version": 0})
    assert stale.status_code == 409
    assert stale.json()["current_version"] == 1
    assert _section(admin, "climate")["text"] == after["text"]

    unknown = admin.put(_narrative_url("nowhere"), json={"text": "x", "base_version": 0})
    assert unknown.status_code == 404
    blank = admin.put(_narrative_url("tax"), json={"text": "  \n", "base_version": 0})
    assert blank.status_code == 422


def test_roles_without_edit_report_are_refused(client_for: Clients) -> None:
    for username in ("approver", "verifier", "owner", "viewer"):
        response = client_for(username).put(
            _narrative_url(), json={"text": "Text.", "base_version": 0}
        )
        assert response.status_code == 403, username


def test_an_edit_shows_in_the_next_download(client_for: Clients) -> None:
    admin = client_for("admin")
    first = admin.get(f"/api/report/{YEAR}/en.html")
    assert first.status_code == 200
    marker = "Narrative edited after the first download."
    assert marker not in first.text
    admin.put(_narrative_url("tax"), json={"text": marker, "base_version": 0})
    second = admin.get(f"/api/report/{YEAR}/en.html")
    assert marker in second.text


def test_the_form_saves_with_a_redirect_and_escapes_the_text(client_for: Clients) -> None:
    reviewer = client_for("reviewer")
    page = reviewer.get("/report", params={"year": YEAR, "report_lang": "en"})
    assert page.status_code == 200
    assert f'action="/report/{YEAR}/en/narratives/climate"' in page.text
    text = "Line <script>alert(1)</script> & more."
    response = reviewer.post(
        f"/report/{YEAR}/en/narratives/climate",
        data={"text": text, "base_version": "0", "csrf_token": reviewer.headers["X-CSRF-Token"]},
        follow_redirects=False,
    )
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith(f"/report?year={YEAR}&report_lang=en&done=narrative_saved")
    shown = reviewer.get(location)
    assert "<script>alert(1)</script>" not in shown.text
    assert "Line &lt;script&gt;alert(1)&lt;/script&gt; &amp; more." in shown.text
    assert 'role="status"' in shown.text  # the flash message


def test_a_stale_form_is_409_and_keeps_the_users_text(client_for: Clients) -> None:
    admin, reviewer = client_for("admin"), client_for("reviewer")
    admin.put(_narrative_url(), json={"text": "Admin's version.", "base_version": 0})
    mine = "My long draft that must not be lost."
    response = reviewer.post(
        f"/report/{YEAR}/en/narratives/climate",
        data={"text": mine, "base_version": "0", "csrf_token": reviewer.headers["X-CSRF-Token"]},
    )
    assert response.status_code == 409
    assert mine in response.text  # kept in the box
    assert "Admin&#39;s version." in response.text  # what was saved meanwhile
    assert 'name="base_version" value="1"' in response.text  # saving again merges
    assert _section(admin, "climate")["text"] == "Admin's version."


def test_the_form_needs_the_csrf_token(client_for: Clients, web_ledger: Ledger) -> None:
    reviewer = client_for("reviewer")
    del reviewer.headers["X-CSRF-Token"]
    response = reviewer.post(
        f"/report/{YEAR}/en/narratives/climate", data={"text": "Text.", "base_version": "0"}
    )
    assert response.status_code == 403
    forged = reviewer.post(
        f"/report/{YEAR}/en/narratives/climate",
        data={"text": "Text.", "base_version": "0", "csrf_token": "not-the-token"},
    )
    assert forged.status_code == 403
    assert narrative.narratives(web_ledger.engine, YEAR, "en") == {}


def test_a_locked_year_freezes_the_text(client_for: Clients, web_ledger: Ledger) -> None:
    approver_id = accounts.user_id_of(web_ledger.engine, "approver")
    assert approver_id is not None
    approver = accounts.get_principal(web_ledger.engine, approver_id)
    assert approver is not None
    periods.lock_period(web_ledger.engine, approver, YEAR, force=True)
    admin = client_for("admin")
    refused = admin.put(_narrative_url(), json={"text": "Too late.", "base_version": 0})
    assert refused.status_code == 409 and "locked" in refused.json()["detail"]
    data = admin.get("/api/report", params={"year": YEAR, "lang": "en"}).json()
    assert data["locked"] and not data["can_edit"]
    assert all(s["edit_url"] is None for s in data["sections"])
    page = admin.get("/report", params={"year": YEAR})
    assert 'id="report-locked"' in page.text and "<textarea" not in page.text


def test_a_year_without_figures_has_no_report_but_takes_text(client_for: Clients) -> None:
    admin = client_for("admin")
    assert admin.get("/api/report/2019/en.html").status_code == 404
    data = admin.get("/api/report", params={"year": 2031, "lang": "en"}).json()
    assert not data["has_data"] and data["downloads"] is None and data["gaps"] is None
    assert data["can_edit"] and YEAR in data["years"] and 2031 in data["years"]
    saved = admin.put(_narrative_url(year=2031), json={"text": "Early draft.", "base_version": 0})
    assert saved.status_code == 200
    page = admin.get("/report", params={"year": 2031, "report_lang": "en"})
    assert 'id="report-no-data"' in page.text and "Early draft." in page.text
    assert admin.get("/api/report").json()["year"] == 2024  # default: the latest with data


def test_a_register_import_gives_a_new_report_and_its_hash_in_the_log(
    client_for: Callable[[str], TestClient], web_ledger: Ledger
) -> None:
    """The built report was cached without the register imports in its key: after a new
    register the XLSX still showed the old counts, and its download was audited with the
    stale file's hash. The cache is keyed by the data version, which an import moves."""
    import hashlib  # noqa: PLC0415
    import json  # noqa: PLC0415

    from esgledger.assess.risks import BCM_COLUMNS  # noqa: PLC0415
    from esgledger.usecases import registers  # noqa: PLC0415

    admin = client_for("admin")
    url = f"/api/report/{YEAR}/en.xlsx"
    before = admin.get(url)
    assert admin.get(url).content == before.content  # the same version: the cached file
    row = "R-NEW,S01,data centre flood,facilities,5,5,BCP-9,2024-03-01,2024-06-01,2025-06-01,ops,,t"
    csv = f"{','.join(BCM_COLUMNS)}\n{row}\n".encode()
    registers.import_frame(
        web_ledger.engine,
        accounts.operator("admin"),
        "bcm",
        YEAR,
        registers.read_table_file(csv, "bcm.csv"),
        "bcm.csv",
        hashlib.sha256(csv).hexdigest(),
    )
    after = admin.get(url)
    assert after.status_code == 200 and after.content != before.content  # built again
    (entry,) = audit.entries(web_ledger.engine, object_type="report", limit=1)
    assert json.loads(entry["after"])["sha256"] == hashlib.sha256(after.content).hexdigest()


def test_during_a_rebuild_the_page_shows_the_previous_report_labelled(
    app: FastAPI, client_for: Clients, web_ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under ``esgledger serve --fresh-wait`` the report page does not wait for the report of
    new data: it shows the previous complete report's gaps with its data version and time,
    and the new one once built (the load test's report pages waited for whole rebuilds)."""
    import threading  # noqa: PLC0415
    import time  # noqa: PLC0415

    import pandas as pd  # noqa: PLC0415

    from esgledger import report  # noqa: PLC0415

    app.state.fresh_wait = 0.0  # what serve sets: the caches are made on first use
    admin = client_for("admin")
    first = admin.get("/api/report", params={"year": YEAR, "lang": "en"}).json()
    deadline = time.monotonic() + 60
    while first["building"] and time.monotonic() < deadline:  # the first report of the year
        time.sleep(0.1)
        first = admin.get("/api/report", params={"year": YEAR, "lang": "en"}).json()
    assert first["as_of"]["current"] is True and first["gaps"] is not None
    release = threading.Event()
    real = report.build_report
    monkeypatch.setattr(
        report, "build_report", lambda *a, **k: (release.wait(30), real(*a, **k))[1]
    )
    batch = pd.DataFrame(
        {
            "record_id": ["REPORT-REBUILD-1"],
            "entity_id": ["S01"],
            "year": [YEAR],
            "activity_type": ["gasoline_vehicle"],
            "quantity": [10.0],
            "quantity_text": ["10"],
            "unit": ["L"],
            "data_quality": ["measured"],
            "source_row": [2],
        }
    )
    web_ledger.write_batch("activity", "more.csv", "sha-more", activity=batch)
    try:
        during = admin.get("/api/report", params={"year": YEAR, "lang": "en"}).json()
        page = admin.get("/report", params={"year": YEAR, "report_lang": "en", "lang": "en"})
    finally:
        release.set()
    assert during["as_of"]["current"] is False
    assert during["as_of"]["version"] == first["as_of"]["version"]
    assert during["gaps"] == first["gaps"]
    assert 'id="report-as-of"' in page.text
    assert first["as_of"]["version"] in page.text
    deadline = time.monotonic() + 60
    after = during
    while time.monotonic() < deadline and not after["as_of"]["current"]:
        time.sleep(0.1)
        after = admin.get("/api/report", params={"year": YEAR, "lang": "en"}).json()
    assert after["as_of"]["current"] is True
    assert after["as_of"]["version"] != first["as_of"]["version"]


def test_the_first_report_of_a_year_is_built_while_the_page_says_so(
    app: FastAPI, client_for: Clients, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under ``--fresh-wait`` the page does not wait for the first report of a year and
    language either: it says the report is being built, then shows its gaps."""
    import threading  # noqa: PLC0415
    import time  # noqa: PLC0415

    from esgledger import report  # noqa: PLC0415

    app.state.fresh_wait = 0.0
    release = threading.Event()
    real = report.build_report
    monkeypatch.setattr(
        report, "build_report", lambda *a, **k: (release.wait(30), real(*a, **k))[1]
    )
    admin = client_for("admin")
    try:
        first = admin.get("/api/report", params={"year": YEAR, "lang": "en"}).json()
        page = admin.get("/report", params={"year": YEAR, "report_lang": "en", "lang": "en"})
    finally:
        release.set()
    assert first["building"] is True
    assert first["gaps"] is None and first["as_of"] is None and first["build_error"] is None
    assert 'id="report-building"' in page.text
    deadline = time.monotonic() + 60
    after = first
    while time.monotonic() < deadline and after["building"]:
        time.sleep(0.1)
        after = admin.get("/api/report", params={"year": YEAR, "lang": "en"}).json()
    assert after["building"] is False and after["gaps"] is not None
    assert after["as_of"]["current"] is True
