"""A new company's first ledger (issue 16): one entity in Guangdong, one electricity record.
Its key performance table, targets, pathway and report are its own: computed from its record,
"no targets entered" where it has none, prompts where it wrote no text, and nothing of the
reference company (whose texts and targets are only the demo's).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from esgledger import service
from esgledger.demo.build import DEMO_DATA
from esgledger.domain.model import Entity, EntityKind
from esgledger.ingest.importer import import_file
from esgledger.metrics import load_catalogue
from esgledger.report import build_report, render
from esgledger.report.coverage import facts
from esgledger.report.model import Narrative
from esgledger.report.narrative import prompts, read_narrative_file
from esgledger.store.ledger import Ledger
from esgledger.usecases.strategy import ledger_pathway
from esgledger.usecases.targets import MilestonesMissingError

SEED_FACTS = ("北京", "无锡", "Beijing", "Wuxi", "90,759", "31,935", "2,605", "未发生环境污染事件")
"""What the reference company's report says of itself (places, headcount, verified total,
suppliers, incidents): none of it may reach another company's report."""


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ledger]:
    folder = tmp_path_factory.mktemp("new")
    opened = Ledger.open(folder / "new.db")
    opened.init()
    opened.upsert_entities([Entity("A", "Acme", kind=EntityKind.GROUP, region="CN-GD")])
    records = folder / "a.csv"
    records.write_text(
        "record_id,entity_id,period,activity_type,quantity,unit\nr1,A,2024,electricity,1000,MWh\n",
        encoding="utf-8",
    )
    assert import_file(opened, records, kind="activity", user="t").ok
    yield opened
    opened.close()


def test_kpi_targets_and_pathway_are_the_companys_or_say_there_are_none(ledger: Ledger) -> None:
    table, _ = service.kpi_table(ledger, 2024, "en")
    row = table.set_index("metric_id").loc["energy.electricity_purchased"]
    assert (row["computed"], row["unit"]) == (1000.0, "MWh")
    # 1,000 MWh x 0.4403 tCO2/MWh, the Guangdong grid factor of the entity's region
    scope2 = table.set_index("metric_id").loc["ghg.scope2", "computed"]
    assert scope2 == pytest.approx(440.3, abs=0.05)
    statuses, problems = service.targets(ledger, 2024)
    assert statuses == [] and [p.code for p in problems] == ["targets-none"]
    with pytest.raises(MilestonesMissingError, match="no targets entered in this ledger"):
        ledger_pathway(ledger, 2024)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_report_holds_nothing_of_the_reference_company(ledger: Ledger, lang: str) -> None:
    report = build_report(ledger, 2024, lang)
    texts = [b for s in report.sections for w in s.walk() for b in w.blocks]
    narratives = [b for b in texts if isinstance(b, Narrative)]
    assert narratives and {n.origin for n in narratives} == {"prompt"}
    assert {n.text for n in narratives} <= set(prompts(lang).values())
    page = render(report, "html").decode("utf-8")
    visible = re.sub(r"<[^>]+>", " ", re.sub(r"<(style|script)\b.*?</\1>", " ", page, flags=re.S))
    assert [fact for fact in SEED_FACTS if fact in visible] == []
    demo_texts, _ = read_narrative_file(DEMO_DATA / "narratives.csv")
    borrowed = [e.section_id for e in demo_texts if e.text.split("\n")[0][:30] in visible]
    assert borrowed == []
    # the pathway block says why there is none, in the report's language
    assert ("尚未在目标中录入其气候里程碑" if lang == "zh" else "has not entered its climate") in (
        visible
    )


def _content(source: Ledger) -> dict[str, bool]:
    report = build_report(source, 2024, "en")
    return {f.section.section_id: f.content for f in facts(report.sections, "en", load_catalogue())}


def test_a_section_with_only_its_prompt_has_no_content_for_the_indexes(
    ledger: Ledger, demo_ledger: Ledger
) -> None:
    """The content indexes and the gap list read a section's content: a prompt is none (the
    chairman's letter holds text only), the demo's written text is."""
    assert _content(ledger)["chairman"] is False
    assert _content(demo_ledger)["chairman"] is True


def test_the_demo_ledger_keeps_the_demo_texts(demo_ledger: Ledger) -> None:
    report = build_report(demo_ledger, 2024, "zh")
    narratives = [
        b for s in report.sections for w in s.walk() for b in w.blocks if isinstance(b, Narrative)
    ]
    assert {n.origin for n in narratives} == {"ledger"}
    demo_texts, _ = read_narrative_file(DEMO_DATA / "narratives.csv")
    assert {n.text for n in narratives} == {e.text for e in demo_texts if e.lang == "zh"}
