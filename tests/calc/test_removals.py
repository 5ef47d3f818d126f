"""GHG removals (issue 16; ISO 14064-1:2018 5.2.4, GHG Protocol): recorded as activity, kept
apart from every scope and total, never netted, consolidated like emissions, with lineage."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from esgledger import service
from esgledger.book import Book
from esgledger.domain.model import Entity, EntityKind
from esgledger.figures.registry import explain, value
from esgledger.ingest.importer import import_file
from esgledger.store.ledger import Ledger

RECORDS = (
    "record_id,entity_id,period,activity_type,quantity,unit\n"
    "e1,F1,2024,raw_coal,1000,t\n"
    "r1,F1,2024,removal_biological,1200,tCO2e\n"
    "r2,J1,2024,removal_biological,500,tCO2e\n"
    "r3,F1,2024,removal_technological,0.3,万吨二氧化碳当量\n"
)


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    opened = Ledger.open(tmp_path / "r.db")
    opened.init()
    opened.upsert_entities(
        [
            Entity("G", "Group", kind=EntityKind.GROUP, region="CN-HE"),
            Entity("F1", "Plant", parent_id="G", region="CN-HE"),
            Entity(
                "J1",
                "Forestry joint venture",
                parent_id="G",
                region="CN-YN",
                equity_share=0.4,
                operational_control=False,
                financial_control=False,
            ),
        ]
    )
    path = tmp_path / "a.csv"
    path.write_text(RECORDS, encoding="utf-8")
    assert import_file(opened, path, kind="activity", user="t").ok
    yield opened
    opened.close()


def test_removals_are_apart_from_every_scope_and_never_netted(ledger: Ledger) -> None:
    result = Book(ledger).inventory()
    totals = result.scope_totals(2024)
    # the total is the coal's scope 1 alone: 1000 t raw coal, nothing subtracted
    assert totals["total"] == pytest.approx(totals["scope1"]) and totals["scope1"] > 1800
    assert set(result.lines["activity_type"]) == {"raw_coal"}
    # operational control: F1 in (1200 + 0.3 x 10,000 = 4,200 t), J1 (no control) out
    assert result.removal_total(2024) == pytest.approx(1200 + 3000)
    assert value(ledger, "removals:2024") == pytest.approx(4200)
    assert value(ledger, "removals:2024:J1") == pytest.approx(0)
    notes = [d.message for d in result.diagnostics if d.code == "removals"]
    assert notes == [
        "2024: 4,200.00 tCO2 of removals recorded (figure removals:2024); reported apart from "
        "scopes 1-3, never netted against them"
    ]


def test_equity_share_consolidates_removals_like_emissions(ledger: Ledger) -> None:
    ledger.set_setting("approach", "equity_share")
    result = Book(ledger).inventory()
    # 1200 + 3000 (F1, 100 %) + 500 x 0.4 (J1) = 4,400 t
    assert result.removal_total(2024) == pytest.approx(4400)


def test_the_removal_figure_traces_to_its_records_and_is_a_catalogue_figure(ledger: Ledger) -> None:
    tree = explain(ledger, "removals:2024")
    records = {c.record for line in tree.children for c in line.children if c.record}
    assert records == {"r1", "r2", "r3"}  # J1's line is listed at its share, 0 %
    shares = {line.label.split(" / ")[0]: line.value for line in tree.children}
    assert shares["J1"] == 0 and tree.value == pytest.approx(4200)
    figures, _ = service.computed_figures(ledger, 2024)
    assert figures["ghg.removals"] == pytest.approx(4200)
    assert value(ledger, "removals:2023") is None
