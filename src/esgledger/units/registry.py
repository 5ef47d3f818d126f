"""Unit registry: pint's defaults plus the project's own definitions file.

Every quantity in esgledger passes through :data:`registry`. Bulk calculation does not build
pint quantities per row: it asks this module for one conversion factor per distinct
(unit, target) pair and multiplies columns by it, so the hot path stays vectorised.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from importlib import resources
from typing import Any

import pint

_DEFINITIONS = "definitions.txt"

# Spellings that pint's parser cannot take as they are (superscripts, spaces, slashes inside
# names). Keys are compared after Unicode NFKC folding and whitespace trimming.
_SPELLINGS: dict[str, str] = {
    "m³": "m3",
    "nm3": "Nm3",
    "nm³": "Nm3",
    "10^4 nm3": "wan_Nm3",
    "10^4nm3": "wan_Nm3",
    "10⁴nm3": "wan_Nm3",
    "10⁴ nm3": "wan_Nm3",
    "10⁴ nm³": "wan_Nm3",
    "10⁴nm³": "wan_Nm3",
    "10^4 m3": "wan_m3",
    "tco2e": "tCO2e",
    "kgco2e": "kgCO2e",
    "t co2e": "tCO2e",
    "passenger-km": "passenger_km",
    "passenger km": "passenger_km",
    "passenger.km": "passenger_km",
    "p-km": "passenger_km",
    "tonne-km": "tonne_km",
    "tonne km": "tonne_km",
    "tonne.km": "tonne_km",
    "t-km": "tonne_km",
    "t.km": "tonne_km",
    "room-night": "room_night",
    "room per night": "room_night",
    "room nights": "room_night",
    "l": "liter",
    "litre": "liter",
    "litres": "liter",
    "liters": "liter",
    "kwh": "kWh",
    "mwh": "MWh",
    "gwh": "GWh",
    "gj": "GJ",
    "mj": "MJ",
    "tj": "TJ",
    "t": "metric_ton",
    "tonne": "metric_ton",
    "tonnes": "metric_ton",
    "kg": "kilogram",
    "g": "gram",
    "km": "kilometer",
    "cny": "CNY",
    "rmb": "CNY",
    "usd": "USD",
    "10k cny": "wan_yuan",
    "10k_cny": "wan_yuan",
    "100m cny": "yi_yuan",
    "100m_cny": "yi_yuan",
    "tce": "tce",
    "kgce": "kgce",
}


class UnitError(ValueError):
    """A unit string that the registry cannot read, or a conversion between dimensions."""


def _build() -> Any:
    reg: Any = pint.UnitRegistry(autoconvert_offset_to_baseunit=True)
    text = resources.files("esgledger.units").joinpath(_DEFINITIONS).read_text(encoding="utf-8")
    reg.load_definitions(text.splitlines())
    return reg


registry: Any = _build()
Quantity: Any = registry.Quantity


# Names pint knows but that mean different masses in different countries: refused, because a
# wrong guess would be a silent 9-10 % error (a US short ton is 907 kg, a tonne 1,000 kg).
AMBIGUOUS = {
    "ton": "t (tonne) or 吨",
    "tons": "t (tonne) or 吨",
    "gallon": "L",
    "gallons": "L",
    "gal": "L",
}


def _canonical_spelling(text: str) -> str:
    raw = text.strip()
    if raw.lower() in _SPELLINGS:  # before NFKC, which would turn 10⁴ into 104
        return _SPELLINGS[raw.lower()]
    folded = unicodedata.normalize("NFKC", raw)
    # NFKC turns m³ into m3; map the remaining common spellings case-insensitively.
    return _SPELLINGS.get(folded.lower(), folded)


@lru_cache(maxsize=4096)
def parse_unit(text: str) -> pint.Unit:
    """Parse a unit as written in a data file; raise :class:`UnitError` when it is unknown."""
    if not text or not text.strip():
        raise UnitError("empty unit")
    if text.strip().lower() in AMBIGUOUS:
        raise UnitError(f"ambiguous unit {text!r}: write {AMBIGUOUS[text.strip().lower()]}")
    spelling = _canonical_spelling(text)
    try:
        unit: pint.Unit = registry.parse_units(spelling)
    except (
        pint.errors.UndefinedUnitError,
        pint.errors.DefinitionSyntaxError,
        ValueError,
        AttributeError,
        TypeError,
    ) as exc:
        raise UnitError(f"unknown unit {text!r}") from exc
    except Exception as exc:  # pint's tokenizer raises assorted errors on odd input
        raise UnitError(f"unknown unit {text!r}") from exc
    return unit


@lru_cache(maxsize=4096)
def conversion_factor(source: str, target: str) -> float:
    """Multiplier that turns a number in ``source`` units into ``target`` units.

    Raises :class:`UnitError` naming both dimensions when they differ.
    """
    src = parse_unit(source)
    dst = parse_unit(target)
    if src.dimensionality != dst.dimensionality:
        raise UnitError(
            f"unit {source!r} is {_describe(src)}, expected {_describe(dst)} (like {target!r})"
        )
    return float(registry.Quantity(1.0, src).to(dst).magnitude)


_DIMENSION_EXAMPLES = {
    "kg": "a mass",
    "m3": "a volume",
    "MWh": "an energy",
    "tCO2e": "an emission (CO2e)",
    "passenger_km": "a passenger distance",
    "tonne_km": "a freight distance (mass x distance)",
    "km": "a distance",
    "room_night": "a number of room-nights",
    "CNY": "an amount in CNY",
    "USD": "an amount in USD",
    "person": "a headcount",
}
_DIMENSION_NAMES = {
    str(registry.parse_units(_canonical_spelling(u)).dimensionality): name
    for u, name in _DIMENSION_EXAMPLES.items()
}


def _describe(unit: pint.Unit) -> str:
    dim = str(unit.dimensionality)
    return _DIMENSION_NAMES.get(dim, f"of dimension {dim}")
