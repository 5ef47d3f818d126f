"""The materiality survey in the ledger: tokens, anonymous responses, rates, scoring, sign-off."""

from __future__ import annotations

import math
import shutil
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import select

from esgledger import audit
from esgledger.assess.demo import DEMO_WEIGHTS, RESPONDENTS, demo_responses
from esgledger.assess.materiality import score_responses, tiers
from esgledger.auth import accounts
from esgledger.auth.accounts import Principal
from esgledger.demo.assess import demo_topics
from esgledger.store.engine import TABLES
from esgledger.store.ledger import Ledger
from esgledger.usecases import survey, survey_results
from esgledger.usecases.survey import Answer, SurveyGroup
from esgledger.workflow.errors import Conflict, Forbidden, Invalid, NotFound

USERS = {
    "rev": ("reviewer", ["G00"]),
    "rev1": ("reviewer", ["S01"]),
    "com": ("approver", ["G00"]),
    "own": ("owner", ["S01"]),
}
GROUPS = (
    SurveyGroup("employees", "impact", 0.6, "employees", "员工", internal=True),
    SurveyGroup("customers", "impact", 0.4, "customers", "客户"),
    SurveyGroup("board", "financial", 1.0, "board", "董事会", internal=True),
)
IMPACT = Answer("climate_change", "impact", scale=4, scope=3, irremediability=5, likelihood=4)
FINANCIAL = Answer("climate_change", "financial", likelihood=3, magnitude=4)


@pytest.fixture(scope="module")
def template(demo_ledger_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("survey") / "survey.db"
    shutil.copy(demo_ledger_path, path)
    with Ledger.open(path) as ledger:
        for name, (role, entities) in USERS.items():
            accounts.create_user(
                ledger.engine, "t", name, f"{name}-password", role, entities=entities
            )
    return path


@pytest.fixture
def ledger(template: Path, tmp_path: Path) -> Iterator[Ledger]:
    path = tmp_path / "l.db"
    shutil.copy(template, path)
    with Ledger.open(path) as opened:
        yield opened


def who(ledger: Ledger, name: str) -> Principal:
    user_id = accounts.user_id_of(ledger.engine, name)
    assert user_id is not None
    found = accounts.get_principal(ledger.engine, user_id)
    assert found is not None
    return found


def closes() -> datetime:
    return datetime.now(UTC) + timedelta(days=30)


def campaign(ledger: Ledger, groups: tuple[SurveyGroup, ...] = GROUPS) -> int:
    return survey.create_campaign(
        ledger.engine, who(ledger, "rev"), 2024, "2024 materiality", closes(), groups
    )


def tokens(ledger: Ledger, campaign_id: int, group_id: str, count: int = 1) -> list[str]:
    return survey.issue_tokens(ledger.engine, who(ledger, "rev"), campaign_id, group_id, count)


def test_campaign_copies_the_topic_list_and_needs_a_group_wide_manager(ledger: Ledger) -> None:
    cid = campaign(ledger)
    with ledger.engine.connect() as conn:
        topics = list(conn.scalars(select(TABLES["materiality_topic"].c.topic_id)))
    assert "climate_change" in topics and len(topics) > 10
    for name in ("own", "com"):
        with pytest.raises(Forbidden, match="may not manage campaigns"):
            survey.create_campaign(ledger.engine, who(ledger, name), 2024, "x", closes(), GROUPS)
    with pytest.raises(Forbidden, match="group-wide"):
        survey.create_campaign(ledger.engine, who(ledger, "rev1"), 2024, "x", closes(), GROUPS)
    with pytest.raises(Forbidden, match="group-wide"):
        survey.issue_tokens(ledger.engine, who(ledger, "rev1"), cid, "employees", 1)
    with pytest.raises(Invalid, match="timezone-aware"):
        survey.create_campaign(
            ledger.engine, who(ledger, "rev"), 2024, "x", datetime(2099, 1, 1), GROUPS
        )
    with pytest.raises(Invalid, match="weight"):
        campaign(ledger, (SurveyGroup("g", "impact", 0.0),))
    with pytest.raises(NotFound, match="no group 'nobody'"):
        tokens(ledger, cid, "nobody")


def test_secrets_are_stored_as_hashes_only(ledger: Ledger) -> None:
    cid = campaign(ledger)
    issued = tokens(ledger, cid, "employees", 3)
    assert len(set(issued)) == 3
    with ledger.engine.connect() as conn:
        token = TABLES["survey_token"]
        stored = set(conn.scalars(select(token.c.token_hash).where(token.c.campaign_id == cid)))
    assert not stored & set(issued)
    assert len(stored) == 3


def test_an_expired_token_is_refused(ledger: Ledger) -> None:
    cid = campaign(ledger)
    (secret,) = tokens(ledger, cid, "employees")
    later = datetime.now(UTC) + timedelta(days=31)
    with pytest.raises(Conflict, match=r"closed at .*expired"):
        survey.submit_response(ledger.engine, secret, [IMPACT], now=later)
    survey.submit_response(ledger.engine, secret, [IMPACT])  # not used up by the refusal


def test_a_reused_token_is_refused(ledger: Ledger) -> None:
    cid = campaign(ledger)
    (secret,) = tokens(ledger, cid, "employees")
    survey.submit_response(ledger.engine, secret, [IMPACT])
    with pytest.raises(Conflict, match="already been used"):
        survey.submit_response(ledger.engine, secret, [IMPACT])
    with pytest.raises(NotFound, match="unknown survey token"):
        survey.submit_response(ledger.engine, secret + "x", [IMPACT])


def test_a_token_of_another_campaign_is_refused(ledger: Ledger) -> None:
    first, second = campaign(ledger), campaign(ledger)
    (secret,) = tokens(ledger, first, "employees")
    with pytest.raises(NotFound, match="unknown survey token"):
        survey.submit_response(ledger.engine, secret, [IMPACT], campaign_id=second)
    survey.submit_response(ledger.engine, secret, [IMPACT], campaign_id=first)


def test_wrong_answers_are_located_and_nothing_is_stored(ledger: Ledger) -> None:
    cid = campaign(ledger)
    (secret,) = tokens(ledger, cid, "employees")
    answers = [
        IMPACT,
        Answer("pollution", "impact", scale=6, scope=0, irremediability=3, likelihood=2),
        Answer("no_such_topic", "impact", scale=3, scope=3, irremediability=3, likelihood=3),
        Answer(
            "innovation_rd",
            "impact",
            scale=3,
            scope=3,
            irremediability=2,
            likelihood=3,
            positive=True,
        ),
        FINANCIAL,
        Answer("water", "impact", scale=3.5, scope=3, likelihood=3),  # type: ignore[arg-type]
    ]
    with pytest.raises(Invalid) as refused:
        survey.submit_response(ledger.engine, secret, answers)
    message = str(refused.value)
    for part in (
        "answer 1: scale: 6 is outside 1-5",
        "answer 1: scope: 0 is outside 1-5",
        "answer 2: topic_id: 'no_such_topic' is not a topic",
        "answer 3: irremediability: must be empty for a positive impact",
        "answer 4: axis: 'financial', but the token's group scores impact",
        "answer 5: scale: 3.5 is not an integer score",
        "answer 5: irremediability: missing",
    ):
        assert part in message
    assert "answer 0" not in message
    with ledger.engine.connect() as conn:
        response = TABLES["survey_response"]
        stmt = select(response.c.response_id).where(response.c.campaign_id == cid)
        assert conn.scalar(stmt) is None
    survey.submit_response(ledger.engine, secret, [IMPACT])  # the token was not used up


def _answers(rows: pd.DataFrame) -> list[Answer]:
    def score(value: float) -> int | None:
        return None if math.isnan(value) else int(value)

    return [
        Answer(
            r.topic_id,
            r.axis,
            scale=score(r.scale),
            scope=score(r.scope),
            irremediability=score(r.irremediability),
            likelihood=score(r.likelihood),
            magnitude=score(r.magnitude),
            positive=bool(r.positive),
        )
        for r in rows.itertuples()
    ]


def test_demo_responses_through_tokens_score_like_the_library(ledger: Ledger) -> None:
    cid = campaign(ledger, survey.demo_groups())
    demo = demo_responses(demo_topics())
    pool = {g: tokens(ledger, cid, g, n) for g, n in RESPONDENTS.items()}
    for _respondent, rows in demo.groupby("respondent", sort=True):
        group = str(rows["group"].iloc[0])
        survey.submit_response(ledger.engine, pool[group].pop(), _answers(rows))
    assert not any(pool.values())

    via_ledger = survey_results.score_campaign(ledger.engine, who(ledger, "com"), cid)
    direct = tiers(score_responses(demo, DEMO_WEIGHTS))
    assert via_ledger.index.tolist() == direct.index.tolist()
    assert via_ledger["tier"].tolist() == direct["tier"].tolist()
    pd.testing.assert_frame_equal(
        via_ledger[["impact", "financial"]], direct[["impact", "financial"]], rtol=1e-12
    )
    assert via_ledger["arithmetic"].tolist() == direct["arithmetic"].tolist()

    rate = survey_results.response_rate(ledger.engine, who(ledger, "com"), cid)
    assert rate["issued"] == rate["used"] == sum(RESPONDENTS.values())
    assert rate["external_share"] > 0.20

    survey_results.sign_off(ledger.engine, who(ledger, "com"), cid)
    signed = [e for e in audit.entries(ledger.engine) if e["action"] == "sign_off"]
    assert signed and '"tiers"' in signed[-1]["after"]


def test_one_token_two_concurrent_submissions_one_succeeds(ledger: Ledger) -> None:
    cid = campaign(ledger)
    (secret,) = tokens(ledger, cid, "employees")
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def submit() -> None:
        barrier.wait()
        try:
            survey.submit_response(ledger.engine, secret, [IMPACT])
            outcomes.append("ok")
        except Conflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["conflict", "ok"]
    with ledger.engine.connect() as conn:
        response = TABLES["survey_response"]
        rows = conn.execute(select(response).where(response.c.campaign_id == cid)).all()
    assert len(rows) == 1


def test_audit_verifies_and_holds_no_secret_nor_scores(ledger: Ledger) -> None:
    cid = campaign(ledger)
    issued = tokens(ledger, cid, "employees", 2)
    odd = Answer("climate_change", "impact", scale=2, scope=3, irremediability=1, likelihood=5)
    survey.submit_response(ledger.engine, issued[0], [odd])
    assert audit.verify(ledger.engine).ok
    text = "\n".join(
        f"{e['actor']} {e['action']} {e['object_id']} {e['before']} {e['after']}"
        for e in audit.entries(ledger.engine)
    )
    for secret in issued:
        assert secret not in text
        assert survey._digest(secret) not in text
    respond = [
        e
        for e in audit.entries(ledger.engine)
        if e["action"] == "respond" and str(e["object_id"]) == str(cid)
    ]
    assert len(respond) == 1
    assert "scale" not in respond[0]["after"] and '"answers":1' in respond[0]["after"]
    with ledger.engine.connect() as conn:
        columns = set(TABLES["survey_response"].c.keys())
        assert "token_id" not in columns and "token_hash" not in columns
        token = TABLES["survey_token"]
        used = select(token.c.used_at).where(token.c.campaign_id == cid).limit(1)
        assert conn.scalar(used) is not None


def test_response_rate_arithmetic(ledger: Ledger) -> None:
    cid = campaign(ledger)
    employees = tokens(ledger, cid, "employees", 4)
    customers = tokens(ledger, cid, "customers", 2)
    board = tokens(ledger, cid, "board", 5)
    for secret in employees[:3]:
        survey.submit_response(ledger.engine, secret, [IMPACT])
    survey.submit_response(ledger.engine, customers[0], [IMPACT])
    survey.submit_response(ledger.engine, board[0], [FINANCIAL])
    rate = survey_results.response_rate(ledger.engine, who(ledger, "own"), cid)
    by_group = {g["group_id"]: g for g in rate["groups"]}
    assert (by_group["employees"]["issued"], by_group["employees"]["used"]) == (4, 3)
    assert by_group["employees"]["rate"] == pytest.approx(0.75)
    assert by_group["customers"]["rate"] == pytest.approx(0.5)
    assert by_group["board"]["rate"] == pytest.approx(0.2)
    assert (rate["issued"], rate["used"]) == (11, 5)
    assert rate["rate"] == pytest.approx(5 / 11)
    assert rate["external_share"] == pytest.approx(1 / 5)


def _every_topic(ledger: Ledger, cid: int, answer: Answer) -> list[Answer]:
    from dataclasses import replace  # noqa: PLC0415

    topics = survey_results.campaign_topics(ledger.engine, cid)
    return [replace(answer, topic_id=t.topic_id) for t in topics]


def test_sign_off_needs_lock_and_closes_the_survey(ledger: Ledger) -> None:
    cid = campaign(ledger)
    first, second = tokens(ledger, cid, "employees", 2)
    (board,) = tokens(ledger, cid, "board")
    with pytest.raises(Conflict, match="no responses"):
        survey_results.sign_off(ledger.engine, who(ledger, "com"), cid)
    survey.submit_response(ledger.engine, first, _every_topic(ledger, cid, IMPACT))
    # issue 17: a topic with no answer on an axis scored 0 there and was tiered; now its
    # score is unknown and the campaign cannot be signed off until it is answered
    with pytest.raises(Conflict, match="topic climate_change has no financial answer"):
        survey_results.sign_off(ledger.engine, who(ledger, "com"), cid)
    survey.submit_response(ledger.engine, board, _every_topic(ledger, cid, FINANCIAL))
    for name in ("rev", "own"):
        with pytest.raises(Forbidden, match="may not lock"):
            survey_results.sign_off(ledger.engine, who(ledger, name), cid)
    survey_results.sign_off(ledger.engine, who(ledger, "com"), cid)
    with pytest.raises(Conflict, match="signed off by com"):
        survey.submit_response(ledger.engine, second, [IMPACT])
    with pytest.raises(Conflict, match="signed off by com"):
        tokens(ledger, cid, "employees")
    with pytest.raises(Conflict, match="already signed off"):
        survey_results.sign_off(ledger.engine, who(ledger, "com"), cid)
    with ledger.engine.connect() as conn:
        table = TABLES["materiality_campaign"]
        stmt = select(table).where(table.c.campaign_id == cid)
        row = conn.execute(stmt).mappings().one()
    assert (row["status"], row["signed_off_by"]) == ("closed", "com")
    assert row["signed_off_at"] is not None
    assert audit.verify(ledger.engine).ok


def test_topics_come_from_a_library_or_the_latest_list(ledger: Ledger) -> None:
    esrs = survey.create_campaign(
        ledger.engine, who(ledger, "rev"), 2025, "esrs", closes(), GROUPS, library="esrs"
    )
    topics = survey_results.campaign_topics(ledger.engine, esrs)
    assert len(topics) == 37
    assert topics[0].topic_id == "esrs.e1.adaptation" and topics[-1].dimension == "G"
    carried = survey.create_campaign(ledger.engine, who(ledger, "rev"), 2026, "c", closes(), GROUPS)
    assert [t.topic_id for t in survey_results.campaign_topics(ledger.engine, carried)] == [
        t.topic_id for t in demo_topics(2024)
    ]
    with pytest.raises(Invalid, match="no topic library 'gri'"):
        survey.create_campaign(
            ledger.engine, who(ledger, "rev"), 2024, "x", closes(), GROUPS, library="gri"
        )
    with pytest.raises(Invalid, match="no topic list in this ledger for 2020 or before"):
        survey.create_campaign(ledger.engine, who(ledger, "rev"), 2020, "x", closes(), GROUPS)
    created = [e for e in audit.entries(ledger.engine) if e["action"] == "create"]
    assert '"library":"ledger:2024"' in created[0]["after"]


def test_a_campaign_keeps_its_own_tier_rule(ledger: Ledger) -> None:
    from dataclasses import replace  # noqa: PLC0415

    from esgledger.assess.materiality import load_scales  # noqa: PLC0415

    strict = replace(load_scales(), impact_high=4.0, financial_high=4.0, floor=1.0)
    cid = survey.create_campaign(
        ledger.engine, who(ledger, "rev"), 2024, "strict", closes(), GROUPS, scales=strict
    )
    (secret,) = tokens(ledger, cid, "employees")
    # severity (4 + 3 + 5) / 3 = 4, x likelihood 4 / 5 = 3.2: high under 3.0, not under 4.0
    survey.submit_response(ledger.engine, secret, [IMPACT])
    scored = survey_results.score_campaign(ledger.engine, who(ledger, "rev"), cid)
    assert scored.loc["climate_change", "impact"] == pytest.approx(3.2)
    assert scored.loc["climate_change", "tier"] == "relatively high"
    assert survey_results.campaign_scales(ledger.engine, cid) == strict
    with pytest.raises(Invalid, match=r"floor 3\.5: expected at most the thresholds"):
        survey.create_campaign(
            ledger.engine,
            who(ledger, "rev"),
            2024,
            "x",
            closes(),
            GROUPS,
            scales=replace(load_scales(), floor=3.5),
        )
    with pytest.raises(Invalid, match=r"impact_high 9.0: expected a score in \(0, 5\]"):
        survey.create_campaign(
            ledger.engine,
            who(ledger, "rev"),
            2024,
            "x",
            closes(),
            GROUPS,
            scales=replace(load_scales(), impact_high=9.0),
        )


def test_silent_thin_and_missing_answers_are_warnings(ledger: Ledger) -> None:
    """Issue 17: a group with no responses was re-weighted silently. The arithmetic: the
    customers (0.4) gave no answer, so climate change's impact score is the employees' mean
    alone, (4 + 3 + 5) / 3 x 4 / 5 = 3.2, with weight 0.6 / 0.6 = 1."""
    cid = campaign(ledger)
    (employee,) = tokens(ledger, cid, "employees")
    (board,) = tokens(ledger, cid, "board")
    survey.submit_response(ledger.engine, employee, _every_topic(ledger, cid, IMPACT))
    answers = _every_topic(ledger, cid, FINANCIAL)
    survey.submit_response(ledger.engine, board, answers[1:])  # climate change left out
    scored = survey_results.score_campaign(ledger.engine, who(ledger, "com"), cid)
    assert scored.loc["climate_change", "impact"] == pytest.approx((4 + 3 + 5) / 3 * 4 / 5)
    warnings = survey_results.campaign_warnings(ledger.engine, who(ledger, "com"), cid)
    assert warnings == [
        "group customers (impact) gave no answer: its weight is spread over the other impact "
        "groups on every topic",
        "group board: 1 respondent, under 3: its mean is fragile",
        "group employees: 1 respondent, under 3: its mean is fragile",
        "topic climate_change has no financial answer: its financial score is unknown, not 0, "
        "and it cannot be tiered until it is answered",
    ]
    with pytest.raises(Conflict, match="topic climate_change has no financial answer"):
        survey_results.sign_off(ledger.engine, who(ledger, "com"), cid)
