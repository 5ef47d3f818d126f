"""The assessment pages over HTTP: registers seen within the caller's entity scope, register
uploads (all or nothing, every problem located), materiality campaigns with one-time survey
links answered anonymously, and the committee's sign-off."""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import delete, func, select, update

from esgledger.auth.accounts import operator
from esgledger.store.engine import TABLES
from esgledger.store.ledger import Ledger
from esgledger.usecases import registers, survey_results
from esgledger.web.routes.assess import RedactSurveyTokens

HTML = {"accept": "text/html"}
YEAR = 2024  # the demo's registers and signed-off campaign
NEW_YEAR = 2025  # no register yet: uploads go there


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, "no CSRF field on the page"
    return found.group(1)


def _bcm_csv(ledger: Ledger, entity: str, **changes: tuple[int, str, str]) -> bytes:
    """The demo's 2024 business-continuity rows of ``entity`` as a register file; ``changes``
    name -> (row index, column, new text)."""
    frame = registers.current_frame(ledger.engine, operator("test"), "bcm", YEAR)
    frame = frame[frame["entity_id"] == entity].drop(columns=["_import_id", "_line"])
    frame = frame.reset_index(drop=True).astype(str)
    for index, column, text in changes.values():
        frame.loc[index, column] = text
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    return buffer.getvalue().encode("utf-8")


def _imports(ledger: Ledger) -> int:
    table = TABLES["register_import"]
    with ledger.engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(table)) or 0)


# -- registers --------------------------------------------------------------------------------


def test_a_scoped_owner_sees_only_their_entitys_rows(
    client_for: Callable[[str], TestClient],
) -> None:
    owner = client_for("owner")  # S01
    for kind in ("bcm", "suppliers", "infosec"):
        answer = owner.get(f"/api/registers/{kind}", params={"year": YEAR})
        assert answer.status_code == 200, answer.text
        rows = answer.json()["rows"]
        assert rows, kind
        assert {r["entity_id"] for r in rows} == {"S01"}, kind
        # the demo's imports hold several entities: none is shown to an owner of one
        assert answer.json()["imports"] == []
    for kind in ("climate", "supplier_evaluations"):  # group-level registers
        answer = owner.get(f"/api/registers/{kind}", params={"year": YEAR})
        assert answer.status_code == 200
        assert answer.json()["rows"] == [], kind
    page = owner.get("/registers/bcm", params={"year": YEAR}, headers=HTML)
    assert page.status_code == 200
    assert "syn-BCM-002" in page.text  # an S01 risk
    assert "syn-BCM-001" not in page.text  # an S06 risk
    assert 'id="heat-map"' in page.text
    # the CSV of all visible rows
    csv_text = owner.get("/registers/suppliers.csv", params={"year": YEAR}).text
    assert ",S02," not in csv_text and ",S01," in csv_text

    reviewer = client_for("reviewer")  # the whole group
    rows = reviewer.get("/api/registers/bcm", params={"year": YEAR}).json()["rows"]
    assert len({r["entity_id"] for r in rows}) > 1
    suppliers = reviewer.get("/registers/suppliers", params={"year": YEAR}, headers=HTML)
    assert 'id="register-cap"' in suppliers.text  # 2,650 rows: the first 200 shown


def test_a_register_page_names_the_rules_of_its_year(
    client_for: Callable[[str], TestClient], web_ledger: Ledger
) -> None:
    """The demo's 2024 BCM register was imported with the rules then in force, kept for the
    year; a year without rules of its own says that it follows the rules in force."""
    admin = client_for("admin")
    answer = admin.get("/api/registers/bcm", params={"year": YEAR}).json()
    assert answer["rules"]["frozen"] is True
    assert (
        answer["rules"]["rules"].startswith("frozen ")
        and "bcm_grades packaged" in answer["rules"]["rules"]
    )
    page = admin.get("/registers/bcm", params={"year": YEAR}, headers=HTML).text
    assert '<p class="muted" id="register-rules">' in page
    table = TABLES["register_rules"]
    with web_ledger.engine.begin() as conn:
        conn.execute(delete(table).where(table.c.kind == "bcm"))
    assert admin.get("/api/registers/bcm", params={"year": YEAR}).json()["rules"]["frozen"] is False
    page = admin.get("/registers/bcm", params={"year": YEAR}, headers=HTML).text
    assert '<p class="warning" id="register-rules">本年度未保存评级规则' in page
    assert admin.get("/api/registers/climate", params={"year": YEAR}).json()["rules"] is None


def test_lineage_of_a_row_within_the_scope_only(client_for: Callable[[str], TestClient]) -> None:
    owner = client_for("owner")
    rows = owner.get("/api/registers/bcm", params={"year": YEAR}).json()["rows"]
    mine = rows[0]["lineage"]["score"]
    assert mine.startswith(f"bcm:{YEAR}:")
    assert owner.get(f"/api/explain/assessment/{mine}").status_code == 200
    assert owner.get(f"/explain/assessment/{mine}", headers=HTML).status_code == 200
    assert owner.get(f"/api/explain/assessment/bcm:{YEAR}:syn-BCM-001").status_code == 404
    # group figures: only for those who see the whole group
    group = f"materiality:{YEAR}:anti_corruption:impact"
    assert owner.get(f"/api/explain/assessment/{group}").status_code == 404
    verifier = client_for("verifier")
    tree = verifier.get(f"/api/explain/assessment/{group}")
    assert tree.status_code == 200, tree.text
    assert tree.json()["tree"]["children"]


def test_a_rejected_upload_locates_every_problem_and_stores_nothing(
    client_for: Callable[[str], TestClient], web_ledger: Ledger
) -> None:
    owner = client_for("owner")
    before = _imports(web_ledger)
    bad = _bcm_csv(web_ledger, "S01", a=(0, "likelihood", "9"), b=(1, "impact", "x"))
    page = owner.post(
        "/registers/bcm",
        data={"year": str(NEW_YEAR)},
        files={"file": ("bcm_bad.csv", bad, "text/csv")},
        headers=HTML,
    )
    assert page.status_code == 422, page.text[:300]
    assert "bcm_bad.csv:2:likelihood" in page.text
    assert "bcm_bad.csv:3:impact" in page.text
    answer = owner.post(
        "/api/registers/bcm",
        data={"year": str(NEW_YEAR)},
        files={"file": ("bcm_bad.csv", bad, "text/csv")},
    )
    assert answer.status_code == 422
    assert len(answer.json()["problems"]) == 2
    assert _imports(web_ledger) == before
    assert owner.get("/api/registers/bcm", params={"year": NEW_YEAR}).json()["rows"] == []


def test_an_upload_is_imported_whole(
    client_for: Callable[[str], TestClient], web_ledger: Ledger
) -> None:
    owner = client_for("owner")
    good = _bcm_csv(web_ledger, "S01")
    page = owner.post(
        "/registers/bcm",
        data={"year": str(NEW_YEAR)},
        files={"file": ("bcm_s01.csv", good, "text/csv")},
        headers=HTML,
        follow_redirects=False,
    )
    assert page.status_code == 303, page.text[:300]
    assert page.headers["location"].startswith(f"/registers/bcm?year={NEW_YEAR}")
    shown = owner.get("/api/registers/bcm", params={"year": NEW_YEAR}).json()
    expected = len(good.decode().strip().splitlines()) - 1
    assert len(shown["rows"]) == expected
    assert all(r["score"] == r["likelihood"] * r["impact"] for r in shown["rows"])
    assert [i["file_name"] for i in shown["imports"]] == ["bcm_s01.csv"]
    # another entity's rows are refused, nothing stored
    other = _bcm_csv(web_ledger, "S02")
    refused = owner.post(
        "/api/registers/bcm",
        data={"year": str(NEW_YEAR)},
        files={"file": ("bcm_s02.csv", other, "text/csv")},
    )
    assert refused.status_code == 403
    assert len(owner.get("/api/registers/bcm", params={"year": NEW_YEAR}).json()["rows"]) == (
        expected
    )


def test_a_viewer_cannot_upload(client_for: Callable[[str], TestClient]) -> None:
    viewer = client_for("viewer")
    refused = viewer.post(
        "/api/registers/bcm",
        data={"year": str(NEW_YEAR)},
        files={"file": ("x.csv", b"risk_id\n", "text/csv")},
    )
    assert refused.status_code == 403


# -- materiality ------------------------------------------------------------------------------


def _campaign(reviewer: TestClient, closes: str = "2099-12-31") -> int:
    created = reviewer.post(
        "/api/materiality", json={"year": YEAR, "title": "Web survey", "closes_on": closes}
    )
    assert created.status_code == 201, created.text
    return int(created.json()["campaign_id"])


def _links(reviewer: TestClient, cid: int, group: str, count: int) -> list[str]:
    issued = reviewer.post(
        f"/api/materiality/{cid}/links", json={"group_id": group, "count": count}
    )
    assert issued.status_code == 201, issued.text
    assert issued.headers["cache-control"] == "no-store"
    links = issued.json()["links"]
    assert len(links) == count
    return [link.removeprefix("http://testserver") for link in links]


def _token(link: str) -> str:
    return link.split("token=", 1)[1]


def _fill(page: str, score: int = 4) -> dict[str, str]:
    """Every select of the survey form set to ``score`` (as the respondent would)."""
    fields = {"csrf_token": _csrf(page)}
    fields["token"] = re.search(r'name="token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    for name in re.findall(r'<select name="([^"]+)"', page):
        fields[name] = str(score)
    return fields


def test_the_survey_round_trip(
    app: FastAPI, client_for: Callable[[str], TestClient], web_ledger: Ledger
) -> None:
    reviewer = client_for("reviewer")
    cid = _campaign(reviewer)
    link, spare = _links(reviewer, cid, "employees", 2)
    respondent = TestClient(app)  # anonymous
    page = respondent.get(link)
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert 'lang="zh-CN"' in page.text  # the respondent's default language
    topics = re.findall(r'<tr data-topic="([^"]+)"', page.text)
    assert topics
    assert "irremediability" in page.text and 'class="positive"' in page.text

    # incomplete: every missing score is named, nothing is stored, the token still works
    incomplete = {**_fill(page.text), f"{topics[0]}.scale": ""}
    refused = respondent.post(f"/survey/{cid}", data=incomplete)
    assert refused.status_code == 422
    assert "scale: missing" in refused.text
    assert survey_results.response_rate(web_ledger.engine, operator("t"), cid)["used"] == 0

    # a positive impact: irremediability is not asked (the disabled select sends nothing)
    answers = _fill(page.text, 3)
    answers[f"{topics[0]}.positive"] = "1"
    del answers[f"{topics[0]}.irremediability"]
    thanks = respondent.post(f"/survey/{cid}", data=answers)
    assert thanks.status_code == 200, thanks.text[:500]
    assert 'id="survey-thanks"' in thanks.text
    assert "<select" not in thanks.text
    for topic in topics:
        assert topic not in thanks.text  # no answer is echoed
    assert "selected" not in thanks.text and ".scale" not in thanks.text
    assert survey_results.response_rate(web_ledger.engine, operator("t"), cid)["used"] == 1

    # the link answers once: reopened or posted again, it is refused (409)
    again = respondent.get(link)
    assert again.status_code == 409
    assert 'data-reason="survey_used"' in again.text
    reposted = respondent.post(f"/survey/{cid}", data=answers)
    assert reposted.status_code == 409

    # an unknown token and a token of another campaign are refused alike (404)
    other = _campaign(reviewer)
    foreign = _token(_links(reviewer, other, "employees", 1)[0])
    unknown = respondent.get(f"/survey/{cid}", params={"token": "not-a-token"})
    crossed = respondent.get(f"/survey/{cid}", params={"token": foreign})
    missing = respondent.get(f"/survey/{cid}")
    assert unknown.status_code == crossed.status_code == missing.status_code == 404
    assert unknown.text == crossed.text == missing.text
    shifted = respondent.get(f"/survey/{other}", params={"token": _token(spare)})
    assert shifted.status_code == 404
    assert shifted.text == unknown.text
    posted = respondent.post(
        f"/survey/{other}", data={**answers, "token": _token(spare)}
    )  # a token of cid posted to the other campaign
    assert posted.status_code == 404
    assert posted.text == unknown.text

    # the rates show on the campaign's page
    detail = reviewer.get(f"/api/materiality/{cid}").json()
    employees = next(g for g in detail["rates"]["groups"] if g["group_id"] == "employees")
    assert (employees["issued"], employees["used"]) == (2, 1)
    assert detail["results"]


def test_the_survey_form_needs_its_csrf_cookie(
    app: FastAPI, client_for: Callable[[str], TestClient], web_ledger: Ledger
) -> None:
    reviewer = client_for("reviewer")
    cid = _campaign(reviewer)
    (link,) = _links(reviewer, cid, "board", 1)
    respondent = TestClient(app)
    page = respondent.get(link)
    answers = _fill(page.text)
    stranger = TestClient(app)  # another site posting through a visitor: no cookie
    forged = stranger.post(f"/survey/{cid}", data=answers)
    assert forged.status_code == 403
    assert survey_results.response_rate(web_ledger.engine, operator("t"), cid)["used"] == 0
    assert respondent.post(f"/survey/{cid}", data=answers).status_code == 200


def test_an_expired_campaign_refuses_its_links(
    app: FastAPI, client_for: Callable[[str], TestClient], web_ledger: Ledger
) -> None:
    reviewer = client_for("reviewer")
    cid = _campaign(reviewer)
    (link,) = _links(reviewer, cid, "board", 1)
    respondent = TestClient(app)
    page = respondent.get(f"{link}&lang=en")
    assert page.status_code == 200
    answers = _fill(page.text)
    table = TABLES["materiality_campaign"]
    past = (datetime.now(UTC) - timedelta(days=1)).replace(tzinfo=None)
    with web_ledger.engine.begin() as conn:
        conn.execute(update(table).where(table.c.campaign_id == cid).values(closes_at=past))
    expired = respondent.post(f"/survey/{cid}", data=answers)
    assert expired.status_code == 409
    assert 'data-reason="survey_expired"' in expired.text
    assert respondent.get(link).status_code == 409
    assert survey_results.response_rate(web_ledger.engine, operator("t"), cid)["used"] == 0


def test_links_page_shows_the_links_once_with_their_csv(
    client_for: Callable[[str], TestClient], web_ledger: Ledger
) -> None:
    reviewer = client_for("reviewer")
    cid = _campaign(reviewer)
    detail = reviewer.get(f"/materiality/{cid}", headers=HTML)
    assert 'id="issue-links"' in detail.text
    shown = reviewer.post(
        f"/materiality/{cid}/links",
        data={"group_id": "customers", "count": "3", "csrf_token": _csrf(detail.text)},
        headers=HTML,
    )
    assert shown.status_code == 200
    assert shown.headers["cache-control"] == "no-store"
    links = re.findall(r"<code>(http://testserver/survey/\d+\?token=[^<]+)</code>", shown.text)
    assert len(links) == 3
    assert 'download="survey-' in shown.text and "data:text/csv" in shown.text
    # the secrets are stored nowhere: neither in the audit log nor as tokens
    secret = _token(links[0])
    with web_ledger.engine.connect() as conn:
        for name in ("audit_log", "survey_token"):
            rows = conn.execute(select(TABLES[name])).all()
            assert all(secret not in repr(r) for r in rows), name
    # not for an owner, who may not manage campaigns
    owner = client_for("owner")
    refused = owner.post(
        f"/api/materiality/{cid}/links", json={"group_id": "customers", "count": 1}
    )
    assert refused.status_code == 403


def _answered(app: FastAPI, reviewer: TestClient) -> int:
    cid = _campaign(reviewer)
    respondent = TestClient(app)
    for group in ("employees", "board"):
        (link,) = _links(reviewer, cid, group, 1)
        page = respondent.get(link)
        assert respondent.post(f"/survey/{cid}", data=_fill(page.text)).status_code == 200
    return cid


def test_sign_off_by_the_approver_only(
    app: FastAPI, client_for: Callable[[str], TestClient]
) -> None:
    reviewer = client_for("reviewer")
    cid = _answered(app, reviewer)
    refused = reviewer.post(f"/api/materiality/{cid}/sign-off")
    assert refused.status_code == 403
    approver = client_for("approver")
    page = approver.get(f"/materiality/{cid}", headers=HTML)
    assert 'id="sign-off"' in page.text and "<svg" in page.text
    signed = approver.post(
        f"/materiality/{cid}/sign-off",
        data={"csrf_token": _csrf(page.text)},
        headers=HTML,
        follow_redirects=False,
    )
    assert signed.status_code == 303
    detail: dict[str, Any] = approver.get(f"/api/materiality/{cid}").json()
    assert detail["campaign"]["status"] == "closed"
    assert detail["campaign"]["signed_off_by"] == "approver"
    assert approver.post(f"/api/materiality/{cid}/sign-off").status_code == 409
    # no more links for a signed-off campaign
    again = reviewer.post(f"/api/materiality/{cid}/links", json={"group_id": "board", "count": 1})
    assert again.status_code == 409


def test_campaign_forms(client_for: Callable[[str], TestClient]) -> None:
    reviewer = client_for("reviewer")
    listing = reviewer.get("/materiality", headers=HTML)
    assert 'id="new-materiality"' in listing.text
    created = reviewer.post(
        "/materiality",
        data={
            "year": str(YEAR),
            "title": "Form survey",
            "closes_on": "2099-01-31",
            "csrf_token": _csrf(listing.text),
        },
        headers=HTML,
        follow_redirects=False,
    )
    assert created.status_code == 303
    assert re.match(r"^/materiality/\d+\?done=materiality_created$", created.headers["location"])
    past = reviewer.post(
        "/materiality",
        data={
            "year": str(YEAR),
            "title": "Too late",
            "closes_on": "2001-01-31",
            "csrf_token": _csrf(listing.text),
        },
        headers=HTML,
    )
    assert past.status_code == 422
    assert "not in the future" in past.text
    esrs = reviewer.post(
        "/api/materiality",
        json={"year": YEAR, "title": "ESRS", "closes_on": "2099-01-31", "library": "esrs"},
    )
    assert esrs.status_code == 201, esrs.text
    seed = reviewer.get(f"/api/materiality/{_campaign(reviewer)}").json()["topics"]
    topics = reviewer.get(f"/api/materiality/{esrs.json()['campaign_id']}").json()["topics"]
    assert topics and {t["topic_id"] for t in topics} != {t["topic_id"] for t in seed}
    viewer = client_for("viewer")
    assert 'id="new-materiality"' not in viewer.get("/materiality", headers=HTML).text
    assert viewer.get("/api/materiality").status_code == 200


def test_the_access_log_never_shows_a_token() -> None:
    secret = "abc123secret"
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:1", "GET", f"/survey/1?token={secret}&lang=en", "1.1", 200),
        None,
    )
    assert RedactSurveyTokens().filter(record)
    assert secret not in record.getMessage()
    assert "lang=en" in record.getMessage()
