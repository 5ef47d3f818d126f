"""Company-measured fuel properties (issue 16, GB/T 32150's measured tier): entered per fuel,
entity and year, checked where entered, and used for CO2, CH4/N2O, standard coal and the
conversion of a fuel recorded in an energy unit; everything they do not cover keeps the
library's figures. Expected values are worked by hand in each test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from esgledger import service
from esgledger.auth.accounts import operator
from esgledger.book import Book
from esgledger.calc import InventoryInput, compute_inventory
from esgledger.domain.errors import Invalid
from esgledger.domain.model import Entity, EntityKind
from esgledger.domain.organisation import Organisation
from esgledger.factors import CalcSettings, load_library
from esgledger.figures.registry import explain
from esgledger.ingest.importer import import_file
from esgledger.report.methodology import methodology
from esgledger.store.ledger import Ledger
from esgledger.usecases.fuel_properties import (
    FuelPropertiesRejected,
    fuel_properties_csv,
    import_fuel_properties,
    set_fuel_property,
)
from esgledger.usecases.reference import LockedPeriodChange
from esgledger.workflow.periods import lock_period

C = 44 / 12
WHO = operator("tester")


def _cells(**given: str) -> dict[str, str]:
    return {"entity_id": "", "year": "", "source": "lab report 2024-03", **given}


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    opened = Ledger.open(tmp_path / "f.db")
    opened.init()
    opened.upsert_entities(
        [
            Entity("G", "Group", kind=EntityKind.GROUP, region="CN-HE"),
            Entity("F1", "Plant 1", parent_id="G", region="CN-HE"),
            Entity("F2", "Plant 2", parent_id="G", region="CN-HE"),
        ]
    )
    rows = tmp_path / "a.csv"
    rows.write_text(
        "record_id,entity_id,period,activity_type,quantity,unit\n"
        "c1,F1,2024,raw_coal,1000,t\n"
        "c2,F2,2024,raw_coal,500,t\n"
        "c3,F1,2023,raw_coal,1000,t\n",
        encoding="utf-8",
    )
    assert import_file(opened, rows, kind="activity", user="t").ok
    yield opened
    opened.close()


def _co2(book: Book, entity: str, year: int) -> float:
    lines = book.inventory().lines
    mask = (lines["entity_id"] == entity) & (lines["year"] == year) & (lines["gas"] == "CO2")
    return float(lines.loc[mask, "t_gas"].sum())


def test_measured_properties_enter_co2_ch4_and_standard_coal(ledger: Ledger) -> None:
    set_fuel_property(
        ledger.engine,
        WHO,
        _cells(
            activity_type="raw_coal",
            property="ncv",
            value="23.0",
            unit="GJ/t",
            entity_id="F1",
            year="2024",
        ),
    )
    set_fuel_property(
        ledger.engine,
        WHO,
        _cells(
            activity_type="raw_coal",
            property="carbon_content",
            value="26.0",
            unit="kgC/GJ",
            entity_id="F1",
            year="2024",
        ),
    )
    set_fuel_property(
        ledger.engine,
        WHO,
        _cells(activity_type="raw_coal", property="oxidation_rate", value="98", unit="%"),
    )
    book = Book(ledger)
    # F1 2024: 1000 t x 23.0 GJ/t x 0.026 tC/GJ x 0.98 x 44/12 = 2,148.8133 t
    assert _co2(book, "F1", 2024) == pytest.approx(1000 * 23.0 * 0.026 * 0.98 * C, rel=1e-12)
    # F2 2024 keeps the library's NCV and carbon content, with the group's oxidation rate:
    # 500 t x 20.908 GJ/t x 0.02637 tC/GJ x 0.98 x 44/12 = 990.58 t
    assert _co2(book, "F2", 2024) == pytest.approx(500 * 20.908 * 0.02637 * 0.98 * C, rel=1e-12)
    # F1 2023: the group's oxidation rate (every year), the library's NCV and carbon content
    assert _co2(book, "F1", 2023) == pytest.approx(1000 * 20.908 * 0.02637 * 0.98 * C, rel=1e-12)
    lines = book.inventory().lines
    ch4 = lines[
        (lines["entity_id"] == "F1") & (lines["year"] == 2024) & lines["gas"].str.startswith("CH4")
    ]
    # CH4 on the measured heat: 1000 t x 23.0 GJ/t = 23 TJ x 10 kg/TJ (IPCC, coal) = 0.23 t
    assert float(ch4["t_gas"].sum()) == pytest.approx(23 * 10 / 1000, rel=1e-12)
    energy = book.inventory().energy
    tce = energy.groupby(["entity_id", "year"])["tce"].sum()
    # F1 2024: 23,000 GJ / 29.3076 GJ/tce = 784.78 tce; F2 keeps GB/T 2589's 0.7143 kgce/kg
    assert tce[("F1", 2024)] == pytest.approx(23_000 / 29.3076, rel=1e-12)
    assert tce[("F2", 2024)] == pytest.approx(500 * 0.7143, rel=1e-12)
    # one explanation names the measured rows; the diagnostics say they were used
    ids = set(lines.loc[(lines["entity_id"] == "F1") & (lines["year"] == 2024), "factor_id"])
    assert any(str(i).startswith("fuelprop:") for i in ids)
    notes = [d for d in book.inventory().diagnostics if d.code == "fuel-property"]
    assert notes and all("used" in d.message for d in notes)


def test_a_stated_tce_coefficient_enters_energy_only(ledger: Ledger) -> None:
    set_fuel_property(
        ledger.engine,
        WHO,
        _cells(activity_type="raw_coal", property="tce", value="0.75", unit="kgce/kg", year="2024"),
    )
    book = Book(ledger)
    energy = book.inventory().energy
    tce = energy[energy["year"] == 2024].groupby("entity_id")["tce"].sum()
    # 1000 t x 0.75 kgce/kg = 750 tce; 500 t -> 375 tce; 2023 keeps 0.7143
    assert (tce["F1"], tce["F2"]) == (pytest.approx(750.0), pytest.approx(375.0))
    assert float(energy.loc[energy["year"] == 2023, "tce"].sum()) == pytest.approx(714.3)
    assert _co2(book, "F1", 2024) == pytest.approx(1000 * 20.908 * 0.02637 * 0.94 * C, rel=1e-12)


def test_a_fuel_in_an_energy_unit_converts_through_its_ncv(tmp_path: Path) -> None:
    library = load_library()
    org = Organisation([Entity("H", "HK office", kind=EntityKind.GROUP, region="CN-HK")])
    records = pd.DataFrame(
        {
            "rid": [1, 2],
            "entity_id": ["H", "H"],
            "year": [2024, 2024],
            "activity_type": ["diesel_stationary", "purchased_heat"],
            "quantity": [10_000.0, 100.0],
            "unit": ["kWh", "t"],
            "region": [None, None],
        }
    )
    parameters = pd.DataFrame(
        {
            "name": ["enthalpy.steam"],
            "year": [2024],
            "value": [2763.0],
            "unit": ["kJ/kg"],
            "source": ["steam tables, 1.0 MPa saturated"],
        }
    )
    result = compute_inventory(
        InventoryInput(records, org, parameters=parameters), library, CalcSettings()
    )
    assert result.ok, result.diagnostics
    lines = result.lines
    diesel = lines[(lines["activity_type"] == "diesel_stationary") & (lines["gas"] == "CO2")]
    # 10,000 kWh = 36 GJ; / 42.652 GJ/t = 0.84404 t; CO2 = 36 GJ x 0.0202 tC/GJ x 0.98 x 44/12
    assert float(diesel["quantity_gross"].sum()) == pytest.approx(36 / 42.652, rel=1e-12)
    assert float(diesel["t_gas"].sum()) == pytest.approx(36 * 0.0202 * 0.98 * C, rel=1e-12)
    heat = lines[lines["activity_type"] == "purchased_heat"]
    # steam: 100 t x (2,763 - 83.74) kJ/kg x 1e-3 = 267.926 GJ x 0.11 tCO2/GJ = 29.472 t
    assert float(heat["quantity_gross"].sum()) == pytest.approx(100 * (2763 - 83.74) * 1e-3)
    assert float(heat["t_gas"].sum()) == pytest.approx(100 * (2763 - 83.74) * 1e-3 * 0.11)
    energy = result.energy.set_index("activity_type")
    # diesel: 0.84404 t x 1.4571 kgce/kg = 1.22985 tce
    assert energy.at["diesel_stationary", "tce"] == pytest.approx(36 / 42.652 * 1.4571)


def test_steam_without_its_enthalpy_is_a_located_unit_error() -> None:
    library = load_library()
    org = Organisation([Entity("H", "HK office", kind=EntityKind.GROUP, region="CN-HK")])
    records = pd.DataFrame(
        {
            "rid": [1],
            "entity_id": ["H"],
            "year": [2024],
            "activity_type": ["purchased_heat"],
            "quantity": [100.0],
            "unit": ["t"],
            "region": [None],
        }
    )
    result = compute_inventory(InventoryInput(records, org), library, CalcSettings())
    assert [d.code for d in result.diagnostics if d.code == "unit"] == ["unit"]
    assert "enthalpy.steam" in next(d.message for d in result.diagnostics if d.code == "unit")


@pytest.mark.parametrize(
    ("given", "column", "said"),
    [
        ({"value": "20908", "unit": "GJ/t"}, "value", "check the unit"),  # kJ/kg typed as GJ/t
        ({"value": "23", "unit": "kg/t"}, "unit", "unit 'kg/t'"),
        ({"activity_type": "electricity"}, "activity_type", "not a fuel burnt"),
        ({"property": "density"}, "property", "unknown property"),
        ({"value": "-3"}, "value", "not a positive number"),
        ({"entity_id": "X9"}, "entity_id", "unknown entity"),
        ({"year": "24"}, "year", "not a year"),
        ({"source": ""}, "source", "source is empty"),
    ],
)
def test_what_cannot_be_a_measurement_is_refused_where_entered(
    ledger: Ledger, given: dict[str, str], column: str, said: str
) -> None:
    cells = _cells(activity_type="raw_coal", property="ncv", value="23", unit="GJ/t")
    with pytest.raises(Invalid, match=f"{column}: .*{said}"):
        set_fuel_property(ledger.engine, WHO, {**cells, **given})
    assert ledger.fuel_properties().empty


def test_an_oxidation_rate_above_one_is_refused(ledger: Ledger) -> None:
    cells = _cells(activity_type="raw_coal", property="oxidation_rate", value="98", unit="fraction")
    with pytest.raises(Invalid, match=r"not within \(0, 1\]"):
        set_fuel_property(ledger.engine, WHO, cells)


def test_a_file_is_all_or_nothing_with_located_problems(ledger: Ledger) -> None:
    text = (
        "activity_type,property,value,unit,entity_id,year,source\n"
        "raw_coal,ncv,23.0,GJ/t,F1,2024,lab\n"
        "raw_coal,ncv,22.1,GJ/t,F1,2024,lab\n"
        "raw_coal,carbon_content,0.026,tC/TJ,,,lab\n"
    )
    with pytest.raises(FuelPropertiesRejected) as caught:
        import_fuel_properties(ledger.engine, WHO, text, "props.csv")
    found = {(p.row, p.column) for p in caught.value.problems}
    # row 3 repeats row 2's key; row 4's 0.026 tC/TJ is 0.000026 tC/GJ (a unit slip)
    assert found == {(3, None), (4, "value")}
    assert ledger.fuel_properties().empty
    good = "\n".join(text.splitlines()[:2]) + "\n"
    done = import_fuel_properties(ledger.engine, WHO, good, "props.csv")
    assert (done.count, len(done.changes)) == (1, 1)
    stored = ledger.fuel_properties()
    assert fuel_properties_csv(stored.to_dict("records")) == good
    again = import_fuel_properties(ledger.engine, WHO, good, "props.csv")
    assert again.changes == ()  # the same values again: nothing written, nothing audited


def test_a_locked_year_refuses_a_property_and_every_change_is_audited(ledger: Ledger) -> None:
    lock_period(ledger.engine, operator("chair"), 2023, force=True)
    cells = _cells(activity_type="raw_coal", property="ncv", value="23", unit="GJ/t")
    with pytest.raises(LockedPeriodChange):
        set_fuel_property(ledger.engine, WHO, cells)  # every year: 2023 is locked
    with pytest.raises(LockedPeriodChange):
        set_fuel_property(ledger.engine, WHO, {**cells, "year": "2023"})
    change = set_fuel_property(ledger.engine, WHO, {**cells, "year": "2024"})
    assert change.seq is not None and change.object_id == "raw_coal.ncv@group@2024"


def test_an_override_of_co2_says_the_measured_properties_are_not_used_for_it(
    ledger: Ledger,
) -> None:
    set_fuel_property(
        ledger.engine,
        WHO,
        _cells(activity_type="raw_coal", property="ncv", value="23", unit="GJ/t", entity_id="F1"),
    )
    ledger.add_override("raw_coal", None, None, "CO2", 2.0, "tCO2/t", "supplier certificate")
    book = Book(ledger)
    assert _co2(book, "F1", 2024) == pytest.approx(2000.0)  # 1000 t x 2.0 tCO2/t
    said = [d.message for d in book.inventory().diagnostics if d.code == "fuel-property"]
    assert any("not used for CO2" in m for m in said)
    # energy still reads the measured NCV: 23,000 GJ / 29.3076
    energy = book.inventory().energy
    f1 = energy[(energy["entity_id"] == "F1") & (energy["year"] == 2024)]
    assert float(f1["tce"].sum()) == pytest.approx(23_000 / 29.3076)


PROPERTY_ROWS = st.lists(
    st.tuples(
        st.sampled_from(["raw_coal", "diesel_stationary"]),
        st.sampled_from(["ncv", "carbon_content", "oxidation_rate", "tce"]),
        st.sampled_from([None, "F1", "F2"]),
        st.sampled_from([None, 2023, 2024]),
        st.floats(0.6, 1.0),
    ),
    max_size=6,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=PROPERTY_ROWS)
def test_lines_no_property_covers_keep_their_library_figures(
    rows: list[tuple[str, str, str | None, int | None, float]],
) -> None:
    """For any set of measured properties, the lines of a fuel, entity and year that no
    property row covers are exactly those of a calculation without properties."""
    library = load_library()
    org = Organisation(
        [
            Entity("G", "Group", kind=EntityKind.GROUP, region="CN-HE"),
            Entity("F1", "Plant 1", parent_id="G", region="CN-HE"),
            Entity("F2", "Plant 2", parent_id="G", region="CN-HE"),
        ]
    )
    keys = [
        (t, e, y)
        for t in ("raw_coal", "diesel_stationary")
        for e in ("F1", "F2")
        for y in (2023, 2024)
    ]
    records = pd.DataFrame(
        {
            "rid": range(1, len(keys) + 1),
            "entity_id": [k[1] for k in keys],
            "year": [k[2] for k in keys],
            "activity_type": [k[0] for k in keys],
            "quantity": [100.0 + i for i in range(len(keys))],
            "unit": ["t"] * len(keys),
            "region": [None] * len(keys),
        }
    )
    units = {
        "ncv": "GJ/t",
        "carbon_content": "tC/GJ",
        "oxidation_rate": "fraction",
        "tce": "kgce/kg",
    }
    defaults = {"ncv": 30.0, "carbon_content": 0.02, "oxidation_rate": 1.0, "tce": 1.0}
    props = pd.DataFrame(
        [
            {
                "id": i,
                "activity_type": t,
                "entity_id": e,
                "year": y,
                "property": p,
                "value": defaults[p] * f,
                "unit": units[p],
                "source": "s",
            }
            for i, (t, p, e, y, f) in enumerate(rows, start=1)
        ],
        columns=["id", "activity_type", "entity_id", "year", "property", "value", "unit", "source"],
    )
    plain = compute_inventory(InventoryInput(records, org), library, CalcSettings())
    measured = compute_inventory(
        InventoryInput(records, org, fuel_properties=props), library, CalcSettings()
    )

    def covered(t: str, e: str, y: int) -> bool:
        return any(r[0] == t and r[2] in (None, e) and r[3] in (None, y) for r in rows)

    for frame in ("lines", "energy"):
        before, after = getattr(plain, frame), getattr(measured, frame)
        keep_b = [
            not covered(t, e, y)
            for t, e, y in zip(
                before["activity_type"], before["entity_id"], before["year"], strict=True
            )
        ]
        keep_a = [
            not covered(t, e, y)
            for t, e, y in zip(
                after["activity_type"], after["entity_id"], after["year"], strict=True
            )
        ]
        pd.testing.assert_frame_equal(
            before[keep_b].reset_index(drop=True), after[keep_a].reset_index(drop=True)
        )


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_methodology_and_the_explanation_name_the_measured_values(
    ledger: Ledger, lang: str
) -> None:
    set_fuel_property(
        ledger.engine,
        WHO,
        _cells(
            activity_type="raw_coal",
            property="ncv",
            value="23.0",
            unit="GJ/t",
            entity_id="F1",
            year="2024",
        ),
    )
    text = "\n".join(i.text for i in methodology(ledger, 2024, lang))
    # 23.0 GJ/t = 23,000 MJ/t / 29.3076 MJ/kgce = 784.78 kgce/t
    assert "784.78" in text.replace(",", "")
    # 23.0 GJ/t x 1000 kg/t / 29.3076 MJ/kgce... = 784.78 kgce/t
    assert "fuelprop:1" in text and "23.0 GJ/t" in text and "lab report 2024-03" in text
    tree = explain(ledger, "ghg:2024:S1:F1")
    formulas = []
    stack = [tree]
    while stack:
        node = stack.pop()
        formulas.append(str(node.detail.get("formula", "")))
        stack.extend(node.children)
    assert any("NCV 23 GJ/t" in f and "measured: ncv 23.0 GJ/t, F1 2024" in f for f in formulas)


def test_the_key_table_lists_the_coal_a_company_burns(ledger: Ledger) -> None:
    """Issue 16: a manufacturer's main energy carrier appears in its KPI table."""
    table, _ = service.kpi_table(ledger, 2024, "en")
    rows = table.set_index("metric_id")
    # 1,000 t (F1) + 500 t (F2) of raw coal in 2024
    assert rows.loc["energy.raw_coal", "computed"] == pytest.approx(1500.0)
    # energy of a fuel in MWh is its standard coal: 1,500 t x 0.7143 tce/t (GB/T 2589) x
    # 29.3076 GJ/tce / 3.6 GJ/MWh = 8,722.67 MWh (no measured property entered)
    expected = 1500 * 0.7143 * 29.3076 / 3.6
    assert rows.loc["energy.total_mwh", "computed"] == pytest.approx(expected, abs=0.01)
