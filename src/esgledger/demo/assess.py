"""The demo group's assessments: its topic lists (2023, 2024), the 2024 double-materiality
survey (SYNTHETIC responses, see :mod:`esgledger.assess.demo`) taken through one-time tokens
and signed off, the seed's
climate risk and opportunity register (with the seed group's targets it links), and SYNTHETIC
registers of suppliers (reproducing the seed's counts: 2,605 suppliers, 2,405 mainland, 200
elsewhere, 652 newly certified), their 2024 evaluations, business-continuity risks
(reproducing the seed's 6/33/13/14 grades) and information-security risks, each imported into
the ledger as a register file would be.

Idempotent like :func:`esgledger.demo.build_demo`: a year that already has a signed-off
campaign, or a register, is left as it is. The actor is the demo's own administrator
principal ``demo`` (the audit log names it).
"""

from __future__ import annotations

import csv
import hashlib
import io
from datetime import UTC, datetime, timedelta
from importlib import resources

import pandas as pd

from esgledger.assess import risks, suppliers
from esgledger.assess.demo import demo_responses
from esgledger.assess.topics import Topic, check_topics
from esgledger.auth.accounts import operator
from esgledger.store.ledger import Ledger
from esgledger.usecases import registers, survey, survey_results
from esgledger.usecases.measures import example_catalogue, import_measures
from esgledger.usecases.targets import import_targets
from esgledger.usecases.topic_lists import import_topic_list

__all__ = ["DEMO_ACTOR", "demo_topics", "load_demo_assessments"]

YEAR = 2024
DEMO_ACTOR = operator("demo")
"""The group-wide principal the demo loads its assessments as (not a user account: nobody
can sign in as it)."""


TOPIC_YEARS = (2023, 2024)
"""The years of the demo group's topic lists (``data/topics_<year>.csv``: 2024 the seed
report's, 2023 reconstructed from its change notes)."""


def _topic_text(year: int) -> str:
    return (
        resources.files("esgledger.demo").joinpath("data", f"topics_{year}.csv").read_text("utf-8")
    )


def demo_topics(year: int = YEAR) -> tuple[Topic, ...]:
    """The demo group's topic list of ``year`` (2023 or 2024), as the ledger holds it."""
    rows = list(csv.DictReader(io.StringIO(_topic_text(year))))
    topics, problems = check_topics(rows, f"topics_{year}.csv")
    if topics is None:  # pragma: no cover - the packaged demo lists pass (tests)
        raise ValueError("; ".join(str(p) for p in problems))
    return topics


def _materiality(ledger: Ledger) -> None:
    for year in TOPIC_YEARS:  # the same lists again change nothing
        name = f"topics_{year}.csv"
        import_topic_list(ledger.engine, DEMO_ACTOR, year, _topic_text(year), name)
    if survey_results.signed_off(ledger.engine, YEAR) is not None:
        return
    engine = ledger.engine
    cid = survey.create_campaign(
        engine,
        DEMO_ACTOR,
        YEAR,
        f"{YEAR} double-materiality survey (synthetic demo responses)",
        datetime.now(UTC) + timedelta(days=30),
        survey.demo_groups(),
    )
    responses = demo_responses(demo_topics(YEAR), seed=YEAR)
    by_respondent = list(responses.groupby("respondent", sort=True))
    counts = responses.groupby("group")["respondent"].nunique()
    pool = {
        str(g): survey.issue_tokens(engine, DEMO_ACTOR, cid, str(g), int(n))
        for g, n in counts.items()
    }
    for _respondent, rows in by_respondent:
        secret = pool[str(rows["group"].iloc[0])].pop()
        survey.submit_response(engine, secret, survey.answers_of(rows))
    survey_results.sign_off(engine, DEMO_ACTOR, cid)


def _climate(ledger: Ledger) -> None:
    """The demo's climate register, after the demo group's targets that its rows link to (the
    same targets again change nothing)."""
    text = resources.files("esgledger.demo").joinpath("data", "targets.csv").read_text("utf-8")
    import_targets(ledger.engine, DEMO_ACTOR, text, "targets.csv")
    if YEAR in registers.years(ledger.engine, "climate"):
        return
    name = "climate_register_seed.csv"
    content = resources.files("esgledger.demo").joinpath("data", name).read_bytes()
    registers.import_frame(
        ledger.engine,
        DEMO_ACTOR,
        "climate",
        YEAR,
        registers.read_table_file(content, name),
        name,
        hashlib.sha256(content).hexdigest(),
    )


def _import(ledger: Ledger, kind: str, frame: pd.DataFrame, name: str) -> None:
    """Import a demo frame as the CSV file it would be (its bytes hashed, read back as
    strings by the same reader as any upload)."""
    if YEAR in registers.years(ledger.engine, kind):
        return
    content = frame.to_csv(index=False, date_format="%Y-%m-%d").encode("utf-8")
    rows = registers.read_table_file(content, name)
    registers.import_frame(
        ledger.engine, DEMO_ACTOR, kind, YEAR, rows, name, hashlib.sha256(content).hexdigest()
    )


def load_demo_assessments(ledger: Ledger) -> None:
    """Load the demo's assessments into ``ledger`` (module doc)."""
    _materiality(ledger)
    _climate(ledger)
    # the demo group's measure catalogue (illustrative costs), the one its plans choose from
    import_measures(ledger.engine, DEMO_ACTOR, example_catalogue(), "measures_demo.csv")
    listed = suppliers.demo_suppliers(seed=YEAR)
    _import(ledger, "suppliers", listed, "suppliers_2024_synthetic.csv")
    evaluations = suppliers.demo_evaluations(seed=YEAR, suppliers=listed)
    _import(
        ledger,
        "supplier_evaluations",
        evaluations[evaluations["year"].astype(int) == YEAR],
        "supplier_evaluations_2024_synthetic.csv",
    )
    _import(ledger, "bcm", risks.demo_bcm_register(seed=YEAR), "bcm_2024_synthetic.csv")
    _import(ledger, "infosec", risks.demo_infosec_register(seed=YEAR), "infosec_2024_synthetic.csv")
