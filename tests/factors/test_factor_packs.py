"""Factor packs (issue 16): a user's own emission factors (another country's grid factor, a
Hong Kong utility's) imported into the ledger with their source, checked where they enter,
resolved beside the packaged factors, with lineage. Expected values are worked by hand."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from esgledger.auth.accounts import operator
from esgledger.book import Book
from esgledger.domain.model import Entity, EntityKind
from esgledger.figures.registry import explain
from esgledger.ingest.importer import import_file
from esgledger.report.methodology import methodology
from esgledger.store.ledger import Ledger
from esgledger.usecases.factor_packs import (
    COLUMNS,
    FactorPackRejected,
    factor_pack_csv,
    import_factor_pack,
    remove_user_factor,
)
from esgledger.usecases.reference import LockedPeriodChange
from esgledger.workflow.periods import lock_period

WHO = operator("tester")
HEADER = ",".join(COLUMNS) + "\n"
SG = (
    "sg_ema_2017_om,grid.location,Singapore,2017,2018-10-31,CO2,0.4192,kgCO2/kWh,"
    '"EMA Singapore Energy Statistics 2018, grid emission factor (average operating margin) '
    '2017",SES 2018,\n'
)


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    opened = Ledger.open(tmp_path / "p.db")
    opened.init()
    opened.upsert_entities(
        [
            Entity("G", "Group", kind=EntityKind.GROUP, region="CN-GD"),
            Entity("SGP", "Singapore office", parent_id="G", region="SG"),
            Entity("K", "Kowloon office", parent_id="G", region="CN-HK-CLP"),
            Entity("C", "Central office", parent_id="G", region="CN-HK-HKE"),
        ]
    )
    path = tmp_path / "a.csv"
    path.write_text(
        "record_id,entity_id,period,activity_type,quantity,unit\n"
        "s1,SGP,2017,electricity,1000,MWh\n"
        "k1,K,2017,electricity,200,MWh\n"
        "c1,C,2017,electricity,100,MWh\n",
        encoding="utf-8",
    )
    assert import_file(opened, path, kind="activity", user="t").ok
    yield opened
    opened.close()


def _scope2(ledger: Ledger, entity: str) -> float:
    return Book(ledger).inventory().scope_totals(2017, entity_id=entity)["scope2_location"]


def test_a_country_factor_replaces_the_china_fallback(ledger: Ledger) -> None:
    before = Book(ledger).inventory()
    said = [d.message for d in before.diagnostics if d.code == "factor-fallback"]
    assert any("SG" in m and "-> CN" in m for m in said)  # the fallback was never silent
    done = import_factor_pack(ledger.engine, WHO, HEADER + SG, "sg.csv")
    assert (done.count, len(done.changes)) == (1, 1)
    # 1,000 MWh x 0.4192 kgCO2/kWh = 419.2 tCO2
    assert _scope2(ledger, "SGP") == pytest.approx(1000 * 0.4192)
    after = Book(ledger).inventory()
    location = [d.message for d in after.diagnostics if d.message.startswith("electricity")]
    assert not any("SG" in m for m in location)  # the market-based residual still falls back
    tree = explain(ledger, "ghg:2017:S2L:SGP")
    detail = tree.children[0].children[0].detail
    assert detail["factor"].startswith("sg_ema_2017_om (SES 2018; user-supplied)")
    assert "EMA Singapore Energy Statistics 2018" in detail["source"]
    text = "\n".join(i.text for i in methodology(ledger, 2017, "en"))
    assert "sg_ema_2017_om" in text and "pack user" in text


def test_a_utility_area_takes_its_own_factor_before_the_territory(ledger: Ledger) -> None:
    # test values: a utility-area factor and a territory-wide one (not published figures)
    pack = HEADER + (
        "t_clp_2017,grid.location,中电,2017,,CO2e,0.51,kgCO2e/kWh,test utility factor,,\n"
        "t_hk_2017,grid.location,香港,2017,,CO2e,0.70,kgCO2e/kWh,test territory factor,,\n"
    )
    import_factor_pack(ledger.engine, WHO, pack, "hk.csv")
    # Kowloon (CLP area): 200 MWh x 0.51 = 102 t; Central (HK Electric area, no factor of its
    # own): 100 MWh x 0.70 = 70 t, the territory's, with a fallback warning
    assert _scope2(ledger, "K") == pytest.approx(102.0)
    assert _scope2(ledger, "C") == pytest.approx(70.0)
    said = [d.message for d in Book(ledger).inventory().diagnostics]
    assert any("fallback CN-HK-HKE -> CN-HK" in m or "-> CN-HK" in m for m in said)


@pytest.mark.parametrize(
    ("row", "column", "said"),
    [
        (SG.replace("grid.location", "grid.nowhere"), "key", "no activity type reads"),
        (SG.replace("Singapore", "Atlantis"), "geography", "unknown region"),
        (SG.replace("0.4192", "419.2"), "value", "check the unit"),
        (SG.replace("kgCO2/kWh", "kgCO2/kg"), "unit", "unit 'kgCO2/kg'"),
        (SG.replace(",CO2,", ",C02,"), "gas", "unknown gas"),
        (SG.replace("sg_ema_2017_om", "cn_2021_national"), "factor_id", "packaged factor"),
        (SG.replace("2018-10-31", "31/10/2018"), "published", "not a date"),
    ],
)
def test_what_cannot_be_a_factor_is_refused_and_nothing_is_written(
    ledger: Ledger, row: str, column: str, said: str
) -> None:
    with pytest.raises(FactorPackRejected) as caught:
        import_factor_pack(ledger.engine, WHO, HEADER + SG + row.replace("sg_ema", "x_sg"), "p.csv")
    problems = caught.value.problems
    assert [(p.row, p.column) for p in problems] == [(3, column)], problems
    assert said in problems[0].message
    assert ledger.user_factors().empty  # row 2 was good: all or nothing


def test_the_same_id_twice_and_a_missing_source_are_located(ledger: Ledger) -> None:
    empty_source = SG.replace(
        '"EMA Singapore Energy Statistics 2018, grid emission factor (average operating margin) '
        '2017"',
        "",
    )
    with pytest.raises(FactorPackRejected) as caught:
        import_factor_pack(ledger.engine, WHO, HEADER + SG + SG + empty_source, "p.csv")
    found = {(p.row, p.column) for p in caught.value.problems}
    assert found == {(3, "factor_id"), (4, "factor_id"), (4, "source")}


def test_export_gives_the_pack_back_and_the_same_pack_again_changes_nothing(
    ledger: Ledger,
) -> None:
    import_factor_pack(ledger.engine, WHO, HEADER + SG, "sg.csv")
    exported = factor_pack_csv(ledger.user_factors().to_dict("records"))
    assert exported == HEADER + SG.replace(",Singapore,", ",SG,")  # the region as its code
    assert import_factor_pack(ledger.engine, WHO, exported, "again.csv").changes == ()


def test_a_locked_year_refuses_a_factor_it_would_resolve(ledger: Ledger) -> None:
    lock_period(ledger.engine, operator("chair"), 2017, force=True)
    with pytest.raises(LockedPeriodChange):
        import_factor_pack(ledger.engine, WHO, HEADER + SG, "sg.csv")
    # a 2025 factor of SG would be the nearest later year for SG's 2017 records: refused too
    with pytest.raises(LockedPeriodChange):
        import_factor_pack(ledger.engine, WHO, HEADER + SG.replace(",2017,", ",2025,"), "sg.csv")
    assert ledger.user_factors().empty


def test_removing_a_factor_restores_the_packaged_resolution(ledger: Ledger) -> None:
    import_factor_pack(ledger.engine, WHO, HEADER + SG, "sg.csv")
    remove_user_factor(ledger.engine, WHO, "sg_ema_2017_om")
    # back to the national factor of the nearest later year, 2021: 0.5568 tCO2/MWh
    assert _scope2(ledger, "SGP") == pytest.approx(1000 * 0.5568)
