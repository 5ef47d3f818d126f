"""Factor overrides replace exactly what they name (issue 16): the gases an override does not
name keep their library factor, two overrides of one gas never both count, an override no
record uses is reported, and a record whose geography is unknown says which factor it got.

Hand arithmetic (fuel_parameters.csv): diesel NCV 42.652 GJ/t (cn_diesel), CH4 3 kg/TJ and
N2O 0.6 kg/TJ (IPCC 2006 stationary, ipcc_st_diesel): per tonne of diesel,
CH4 = 42.652 GJ x 1e-3 TJ/GJ x 3 kg/TJ x 1e-3 t/kg = 1.27956e-4 t and
N2O = 42.652 x 1e-3 x 0.6 x 1e-3 = 2.55912e-5 t.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from esgledger.factors import CalcSettings, load_library
from esgledger.factors.library import FactorLibrary
from esgledger.factors.resolve import gas_slot, resolve_factors

LIB = load_library()


def _keys(rows: list[tuple[str, str | None, int]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["activity_type", "region", "year"])


def _overrides(rows: list[tuple[object, ...]]) -> pd.DataFrame:
    return pd.DataFrame(
        rows, columns=["activity_type", "region", "year", "gas", "value", "unit", "source", "id"]
    )


def _gases(resolved: pd.DataFrame) -> dict[str, tuple[str, float]]:
    assert resolved["gas"].is_unique, resolved
    return {r.gas: (r.factor_id, r.ef) for r in resolved.itertuples()}


def test_a_co2_override_keeps_the_fuels_ch4_and_n2o() -> None:
    keys = _keys([("diesel_stationary", "CN-BJ", 2024)])
    base, _ = resolve_factors(keys, LIB, CalcSettings())
    overrides = _overrides(
        [("diesel_stationary", None, None, "CO2", 3.10, "tCO2/t", "lab report", 7)]
    )
    resolved, diagnostics = resolve_factors(keys, LIB, CalcSettings(), overrides)
    got, library = _gases(resolved), _gases(base)
    assert got["CO2"] == ("override:7", pytest.approx(3.10))
    ch4 = next(g for g in got if g.startswith("CH4"))
    assert got[ch4] == library[ch4]
    assert got[ch4][1] == pytest.approx(42.652e-3 * 3 * 1e-3, rel=1e-9)
    assert got["N2O"] == library["N2O"]
    assert got["N2O"][1] == pytest.approx(42.652e-3 * 0.6 * 1e-3, rel=1e-9)
    (note,) = [d for d in diagnostics if d.code == "factor-override"]
    assert "replaces CO2" in note.message


def test_a_co2e_override_replaces_every_gas() -> None:
    keys = _keys([("diesel_stationary", "CN-BJ", 2024)])
    overrides = _overrides(
        [("diesel_stationary", None, 2024, "CO2e", 3.2, "tCO2e/t", "supplier", 1)]
    )
    resolved, diagnostics = resolve_factors(keys, LIB, CalcSettings(), overrides)
    assert _gases(resolved) == {"CO2e": ("override:1", pytest.approx(3.2))}
    (note,) = [d for d in diagnostics if d.code == "factor-override"]
    assert "replaces CH4" in note.message and "CO2" in note.message


def test_two_overrides_of_one_gas_count_once_the_latest_wins() -> None:
    """Before: both rows of the same specificity were used, doubling the gas."""
    keys = _keys([("electricity", "CN-BJ", 2024)])
    overrides = _overrides(
        [
            ("electricity", "CN-BJ", 2024, "CO2", 0.50, "kgCO2/kWh", "first", 3),
            ("electricity", "CN-BJ", 2024, "CO2", 0.45, "kgCO2/kWh", "restated", 4),
        ]
    )
    resolved, diagnostics = resolve_factors(keys, LIB, CalcSettings(), overrides)
    assert _gases(resolved) == {"CO2": ("override:4", pytest.approx(0.45))}
    assert [d.code for d in diagnostics if d.code == "override-unused"] == ["override-unused"]
    assert "override 3 " in next(d.message for d in diagnostics if d.code == "override-unused")


def test_an_override_no_record_uses_is_reported() -> None:
    keys = _keys([("electricity", "CN-HK", 2024)])
    overrides = _overrides([("electricity", "CN-SH", None, "CO2", 0.6, "kgCO2/kWh", "x", 9)])
    resolved, diagnostics = resolve_factors(keys, LIB, CalcSettings(), overrides)
    assert "override:9" not in set(resolved["factor_id"])
    (unused,) = [d for d in diagnostics if d.code == "override-unused"]
    assert "override 9 (electricity CO2 CN-SH)" in unused.message
    assert unused.severity.value == "warning"


def test_a_record_with_no_region_says_it_got_the_national_grid_factor() -> None:
    keys = _keys([("electricity", None, 2022), ("diesel_stationary", None, 2022)])
    resolved, diagnostics = resolve_factors(keys, LIB, CalcSettings())
    electricity = resolved[resolved["activity_type"] == "electricity"].iloc[0]
    assert electricity["factor_geography"] == "CN"
    (note,) = [d for d in diagnostics if d.code == "factor-fallback"]
    assert note.message.startswith("electricity 2022: no region")
    assert "-> CN" in note.message
    assert "region(s)" not in note.message  # no region list of "-"
    # a fuel's factor does not depend on the region: nothing to say
    assert not any("diesel" in d.message for d in diagnostics)


TYPES = ["electricity", "diesel_stationary", "natural_gas"]
REGIONS = [None, "CN-BJ", "CN-GD"]
YEARS = [2022, 2024]
GASES = ["CO2", "CH4_fossil", "N2O", "CO2e"]
UNITS = {"electricity": "kg{}/kWh", "diesel_stationary": "t{}/t", "natural_gas": "kg{}/m3"}


def _unit(activity_type: str, gas: str) -> str:
    return UNITS[activity_type].format("CO2e" if gas == "CO2e" else "CO2")


overrides_st = st.lists(
    st.tuples(
        st.sampled_from(TYPES),
        st.sampled_from(REGIONS),
        st.sampled_from([None, *YEARS]),
        st.sampled_from(GASES),
        st.floats(0.001, 10),
    ),
    max_size=6,
)


def _applies(row: pd.Series, key: tuple[str, str | None, int]) -> bool:
    name, region, year = key
    return bool(
        row["activity_type"] == name
        and (pd.isna(row["region"]) or row["region"] == region)
        and (pd.isna(row["year"]) or row["year"] == year)
    )


def _check_key(
    lib: FactorLibrary,
    key: tuple[str, str | None, int],
    base: pd.DataFrame,
    got: pd.DataFrame,
    overrides: pd.DataFrame,
) -> None:
    del lib
    mine = [o for _, o in overrides.iterrows() if _applies(o, key)]
    named = {gas_slot(str(o["gas"])) for o in mine}
    slots = [gas_slot(g) for g in got["gas"]]
    assert len(slots) == len(set(slots)), got  # a gas counts once
    for slot in named:
        (row,) = got[[s == slot for s in slots]].itertuples()
        assert row.factor_id.startswith("override:")
    if "CO2e" in named or (base["gas"] == "CO2e").any():
        return  # all gases in one: replaced whole
    kept = base[[gas_slot(g) not in named for g in base["gas"]]]
    assert _plain(got[[gas_slot(g) not in named for g in got["gas"]]]) == _plain(kept)


def _plain(frame: pd.DataFrame) -> list[dict[str, object]]:
    """Rows as dicts, a missing value as None whatever the column's dtype."""
    return [
        {
            k: None if v is None or (isinstance(v, float) and math.isnan(v)) else v
            for k, v in r.items()
        }
        for r in frame.to_dict("records")
    ]


@settings(max_examples=60, deadline=None)
@given(rows=overrides_st)
def test_what_an_override_does_not_name_keeps_its_library_factor(
    rows: list[tuple[str, str | None, int | None, str, float]],
) -> None:
    keys = _keys([(t, r, y) for t in TYPES for r in REGIONS for y in YEARS])
    overrides = _overrides(
        [(t, r, y, g, v, _unit(t, g), "test", i) for i, (t, r, y, g, v) in enumerate(rows)]
    ).astype({"year": "Int64"})
    base, _ = resolve_factors(keys, LIB, CalcSettings())
    resolved, _ = resolve_factors(keys, LIB, CalcSettings(), overrides)
    for key in keys.itertuples(index=False):
        k = (key.activity_type, None if pd.isna(key.region) else key.region, key.year)

        def of(frame: pd.DataFrame, k: tuple[str, str | None, int] = k) -> pd.DataFrame:
            region = frame["region"].isna() if k[1] is None else frame["region"] == k[1]
            mask = (frame["activity_type"] == k[0]) & region & (frame["year"] == k[2])
            return frame[mask]

        _check_key(LIB, k, of(base), of(resolved), overrides)
