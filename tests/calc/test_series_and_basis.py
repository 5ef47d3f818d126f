"""Grid-factor series and GHG bases a Chinese listed group's report may use (issue 16).

- ``grid_series``: the MEE/NBS yearly factors (default), the MEE enterprise-reporting national
  factor (0.5703 tCO2/MWh, 2022 data), the NDRC regional grid averages (2012 data: South
  0.5271, Central 0.5257, which covered Sichuan and Chongqing);
- ``factor_as_of`` before the MEE/NBS series existed says so and names the setting;
- ``ghg_basis`` ``cn_guideline``: fuel combustion counts CO2 only, and the CH4 and N2O left out
  are reported, so that both totals are known.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from esgledger.calc import InventoryInput, InventoryResult, compute_inventory
from esgledger.domain import Entity, Organisation
from esgledger.factors import CalcSettings, load_library

ORG = Organisation.of(
    [
        Entity("G", "Group", None, region="CN-GD"),
        Entity("SC", "Chengdu site", "G", region="CN-SC"),
    ]
)
COLUMNS = ["rid", "entity_id", "year", "activity_type", "quantity", "unit", "region"]


def _run(rows: list[tuple[object, ...]], **chosen: object) -> InventoryResult:
    records = pd.DataFrame(rows, columns=COLUMNS)
    return compute_inventory(InventoryInput(records, ORG), load_library(), CalcSettings(**chosen))  # type: ignore[arg-type]


def _tonnes(result: InventoryResult, entity: str, basis: str = "location") -> float:
    lines = result.basis_lines(basis)
    return float(lines.loc[lines["entity_id"] == entity, "tco2e"].sum())


ELECTRICITY = [(1, "G", 2022, "electricity", 1000.0, "MWh", None)]


def test_the_default_series_is_the_mee_nbs_provincial_factor() -> None:
    result = _run(ELECTRICITY)
    assert result.ok
    # 1,000 MWh x 0.4403 tCO2/MWh (MEE/NBS 2022, Guangdong)
    assert _tonnes(result, "G") == pytest.approx(1000 * 0.4403, abs=1e-6)


def test_the_mee_enterprise_series_is_the_national_reporting_factor() -> None:
    result = _run(ELECTRICITY, grid_series="mee_enterprise")
    assert result.ok
    assert _tonnes(result, "G") == pytest.approx(1000 * 0.5703, abs=1e-6)  # 570.3 t
    assert set(result.lines["factor_id"]) == {"cn_ent_2022_reporting"}


def test_the_ndrc_series_is_the_regional_average_with_its_year_said() -> None:
    rows = [*ELECTRICITY, (2, "SC", 2022, "electricity", 1000.0, "MWh", None)]
    result = _run(rows, grid_series="ndrc_regional")
    assert result.ok
    assert _tonnes(result, "G") == pytest.approx(1000 * 0.5271, abs=1e-6)  # South grid
    assert _tonnes(result, "SC") == pytest.approx(1000 * 0.5257, abs=1e-6)  # NDRC Central
    fallbacks = [d.message for d in result.diagnostics if d.code == "factor-fallback"]
    assert any("nearest earlier year 2022 -> 2012" in m for m in fallbacks)


def test_an_unknown_series_is_refused_by_the_settings() -> None:
    problems = CalcSettings(grid_series="ndrc").validate(load_library())
    assert [p.message for p in problems] == [
        "grid_series must be one of ['mee_nbs', 'mee_enterprise', 'ndrc_regional']"
    ]
    assert CalcSettings(ghg_basis="cn").validate(load_library())[0].message == (
        "ghg_basis must be one of ['ghg_protocol', 'cn_guideline']"
    )


def test_factors_as_of_before_the_mee_nbs_series_say_which_setting_to_use() -> None:
    result = _run(ELECTRICITY, factor_as_of=date(2023, 6, 30))
    [missing] = [d for d in result.diagnostics if d.code == "factor-missing"]
    assert "factor_as_of 2023-06-30 is before the first grid.location factor was published " in (
        missing.message
    )
    assert "(setting grid_series)" in missing.message
    # the MEE enterprise factor was published 2023-02-28: it was the one in use then
    earlier = _run(ELECTRICITY, factor_as_of=date(2023, 6, 30), grid_series="mee_enterprise")
    assert earlier.ok
    assert _tonnes(earlier, "G") == pytest.approx(570.3, abs=1e-6)
    # a series without a residual mix: market-based scope 2 takes its grid average, and says so
    assert _tonnes(earlier, "G", "market") == pytest.approx(570.3, abs=1e-6)
    notes = [d.message for d in earlier.diagnostics if d.code == "factor-fallback"]
    assert any("grid series mee_enterprise has no residual mix" in m for m in notes)


DIESEL = [(1, "G", 2024, "diesel_stationary", 1.0, "t", None)]


def test_cn_guideline_counts_the_co2_of_combustion_only_and_reports_the_rest() -> None:
    protocol = _run(DIESEL)
    guideline = _run(DIESEL, ghg_basis="cn_guideline")
    assert set(protocol.lines["gas"]) == {"CO2", "CH4_nonfossil", "N2O"}
    assert set(guideline.lines["gas"]) == {"CO2"}
    # 1 t of diesel: 42.652 GJ; CH4 3 kg/TJ x 27.0, N2O 0.6 kg/TJ x 273 (IPCC 2006 stationary)
    left_out = 42.652e-3 * 3e-3 * 27.0 + 42.652e-3 * 0.6e-3 * 273.0
    assert _tonnes(protocol, "G") - _tonnes(guideline, "G") == pytest.approx(left_out, rel=1e-9)
    assert _tonnes(guideline, "G") == pytest.approx(3.0959, abs=5e-5)  # published tCO2/t
    [note] = [d for d in guideline.diagnostics if d.code == "ghg-basis"]
    assert f"{left_out:,.4f} tCO2e of scope 1, are left out" in note.message
    assert guideline.scope_totals(2024)["scope1"] == pytest.approx(_tonnes(guideline, "G"))


@settings(max_examples=30, deadline=None)
@given(
    quantities=st.lists(
        st.tuples(
            st.sampled_from(["diesel_stationary", "natural_gas", "electricity", "refrigerant_r32"]),
            st.floats(min_value=0.001, max_value=1e6, allow_nan=False),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_the_bases_differ_only_by_the_ch4_and_n2o_of_combustion(
    quantities: list[tuple[str, float]],
) -> None:
    units = {"diesel_stationary": "t", "natural_gas": "10^4 Nm3", "electricity": "MWh"}
    rows = [
        (i, "G", 2024, kind, q, units.get(kind, "kg"), None)
        for i, (kind, q) in enumerate(quantities, start=1)
    ]
    protocol, guideline = _run(rows), _run(rows, ghg_basis="cn_guideline")
    lines = protocol.lines
    combustion_other = lines["method"].eq("combustion") & lines["gas"].ne("CO2")
    kept = lines[~combustion_other].reset_index(drop=True)
    assert float(guideline.lines["tco2e"].sum()) == pytest.approx(float(kept["tco2e"].sum()))
    assert len(guideline.lines) == len(kept)
