"""Unit registry: conversions, Chinese spellings, dimension errors, unknown units.

Expected numbers are definitions, written out here:
* 1 MWh = 1 000 kWh; 1 m3 = 1 000 L.
* 1 kgce = 7 000 kcal x 4.1868 kJ/kcal = 29 307.6 kJ (GB/T 2589 s.3), so 1 tce = 29.3076 GJ.
* 1 万元 = 10^4 CNY; 1 亿元 = 10^8 CNY; 1 万 Nm3 = 10^4 Nm3.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from esgledger.units import UnitError, conversion_factor, parse_unit

REL = 1e-12


@pytest.mark.parametrize(
    ("source", "target", "expected"),
    [
        # energy
        ("kWh", "MWh", 1e-3),
        ("MWh", "kWh", 1e3),
        ("GWh", "MWh", 1e3),
        ("MWh", "GJ", 3.6),  # 1 MWh = 3.6e9 J = 3.6 GJ
        ("GJ", "MJ", 1e3),
        # volume
        ("L", "m3", 1e-3),
        ("m3", "L", 1e3),
        ("litre", "L", 1.0),
        # mass
        ("t", "kg", 1e3),
        ("tonne", "kg", 1e3),
        ("kg", "t", 1e-3),
        # standard coal: 1 kgce = 29 307.6 kJ = 29.3076 MJ; 1 tce = 29.3076 GJ
        ("kgce", "MJ", 29.3076),
        ("tce", "GJ", 29.3076),
        ("tce", "kgce", 1e3),
        ("tce", "MWh", 29.3076 / 3.6),  # 8.141 MWh per tce
        # money (one dimension per currency)
        ("10k CNY", "CNY", 1e4),
        ("RMB", "CNY", 1.0),
        # gas volumes: 10^4 Nm3 and m3 (metered m3 taken as Nm3)
        ("10^4 Nm3", "m3", 1e4),
        ("10^4 Nm3", "Nm3", 1e4),
        ("10^4 m3", "m3", 1e4),
        ("m3", "10^4 Nm3", 1e-4),
        # emissions
        ("tCO2e", "kgCO2e", 1e3),
        # activity units of travel and freight
        ("passenger.km", "passenger_km", 1.0),
        ("t.km", "tonne_km", 1.0),
        ("tonne-km", "tonne_km", 1.0),
        ("room-night", "room_night", 1.0),
    ],
)
def test_conversion_factors(source: str, target: str, expected: float) -> None:
    assert conversion_factor(source, target) == pytest.approx(expected, rel=REL)


@pytest.mark.parametrize(
    ("source", "target", "expected"),
    [
        ("千瓦时", "kWh", 1.0),
        ("度", "kWh", 1.0),  # 1 度 (electricity meter unit) = 1 kWh
        ("万千瓦时", "MWh", 10.0),  # 10^4 kWh = 10 MWh
        ("兆瓦时", "kWh", 1e3),
        ("吨", "kg", 1e3),
        ("公斤", "kg", 1.0),
        ("千克", "kg", 1.0),
        ("立方米", "L", 1e3),
        ("方", "m3", 1.0),
        ("升", "L", 1.0),
        ("万立方米", "m3", 1e4),
        ("万标准立方米", "Nm3", 1e4),
        ("标准立方米", "m3", 1.0),
        ("吨标准煤", "GJ", 29.3076),
        ("千克标准煤", "MJ", 29.3076),
        ("万吨标准煤", "tce", 1e4),
        ("万元", "CNY", 1e4),
        ("亿元", "CNY", 1e8),
        ("亿元", "万元", 1e4),
        ("元", "CNY", 1.0),
        ("吉焦", "GJ", 1.0),
        ("吨二氧化碳当量", "kgCO2e", 1e3),
        ("万吨二氧化碳当量", "tCO2e", 1e4),
        ("吨公里", "tonne_km", 1.0),
        ("人公里", "passenger_km", 1.0),
        ("间夜", "room_night", 1.0),
    ],
)
def test_chinese_spellings(source: str, target: str, expected: float) -> None:
    assert conversion_factor(source, target) == pytest.approx(expected, rel=REL)


@pytest.mark.parametrize(
    ("source", "target", "expected"),
    [
        ("m³", "L", 1e3),  # superscript three (NFKC folds it)
        ("Nm³", "m3", 1.0),
        ("ｋＷｈ", "MWh", 1e-3),  # full-width letters from Chinese spreadsheets
        ("KWH", "kWh", 1.0),  # case-insensitive spellings
        ("mwh", "kWh", 1e3),
        ("TCE", "GJ", 29.3076),
        (" MWh ", "kWh", 1e3),  # surrounding whitespace
    ],
)
def test_spelling_variants(source: str, target: str, expected: float) -> None:
    assert conversion_factor(source, target) == pytest.approx(expected, rel=REL)


# Regression: NFKC folding used to turn "10⁴" into "104" before the spelling lookup (fixed in
# 17ebb6b); the factor README writes "10⁴ Nm³".
@pytest.mark.parametrize("spelling", ["10⁴ Nm3", "10⁴Nm³", "10⁴nm3"])
def test_superscript_ten_thousand_nm3(spelling: str) -> None:
    assert conversion_factor(spelling, "m3") == pytest.approx(1e4, rel=REL)


# Regression: 'ton' used to parse silently as the US short ton (907.18474 kg); it must be the
# metric tonne or refused (refused since 17ebb6b).
@pytest.mark.parametrize("spelling", ["ton", "tons"])
def test_ton_is_metric_or_rejected(spelling: str) -> None:
    try:
        factor = conversion_factor(spelling, "kg")
    except UnitError:
        return
    assert factor == pytest.approx(1000.0, rel=REL)


@pytest.mark.parametrize(
    ("source", "target", "source_dim", "target_dim"),
    [
        ("kg", "m3", "mass", "volume"),
        ("MWh", "t", "energy", "mass"),
        ("kgCO2e", "kg", "emission", "mass"),  # a plain kg never passes as CO2e
        ("CNY", "USD", "CNY", "USD"),  # no constant exchange rate
        ("passenger_km", "tonne_km", "passenger distance", "freight distance"),
        ("km", "tonne_km", "distance", "freight distance"),
        ("room_night", "kg", "room-nights", "mass"),
        ("L", "kg", "volume", "mass"),  # density is a parameter, never a unit conversion
    ],
)
def test_dimension_mismatch_names_both_dimensions(
    source: str, target: str, source_dim: str, target_dim: str
) -> None:
    with pytest.raises(UnitError) as info:
        conversion_factor(source, target)
    message = str(info.value)
    assert source_dim in message
    assert target_dim in message
    assert repr(source) in message


def test_unit_error_is_a_value_error() -> None:
    assert issubclass(UnitError, ValueError)


@pytest.mark.parametrize("text", ["foobar", "kg/", "widgets", "kgCO2x", "1/0"])
def test_unknown_units_raise_unit_error(text: str) -> None:
    with pytest.raises(UnitError, match="unknown unit"):
        parse_unit(text)
    with pytest.raises(UnitError):
        conversion_factor(text, "kg")


@pytest.mark.parametrize("text", ["", "   "])
def test_empty_unit_raises(text: str) -> None:
    with pytest.raises(UnitError, match="empty"):
        parse_unit(text)


def test_nm3_is_not_cubic_nanometre() -> None:
    # 'nm3' would be nm**3 in pint; the spelling table maps it to normal cubic metres
    assert conversion_factor("nm3", "m3") == pytest.approx(1.0, rel=REL)


# --- property: a -> b -> a returns the input (within 1e-12 relative) ---

_GROUPS = [
    [
        "kWh",
        "MWh",
        "GWh",
        "GJ",
        "MJ",
        "TJ",
        "tce",
        "kgce",
        "千瓦时",
        "万千瓦时",
        "吨标准煤",
        "万吨标准煤",
        "度",
        "吉焦",
    ],
    ["L", "m3", "10^4 Nm3", "Nm3", "万立方米", "立方米", "升", "10^4 m3"],
    ["kg", "t", "吨", "公斤", "g", "tonne"],
    ["CNY", "万元", "亿元", "元", "10k CNY"],
    ["kgCO2e", "tCO2e", "吨二氧化碳当量", "万吨二氧化碳当量", "gCO2e"],
    ["tonne_km", "tkm", "吨公里", "t.km"],
    ["passenger_km", "pkm", "人公里", "passenger.km"],
]


@st.composite
def _unit_pair(draw: st.DrawFn) -> tuple[str, str]:
    group = draw(st.sampled_from(_GROUPS))
    return draw(st.sampled_from(group)), draw(st.sampled_from(group))


@settings(max_examples=100, deadline=None)
@given(
    pair=_unit_pair(),
    value=st.floats(min_value=1e-6, max_value=1e12, allow_nan=False, allow_infinity=False),
)
def test_round_trip_conversion(pair: tuple[str, str], value: float) -> None:
    a, b = pair
    there = value * conversion_factor(a, b)
    back = there * conversion_factor(b, a)
    assert back == pytest.approx(value, rel=1e-12)
