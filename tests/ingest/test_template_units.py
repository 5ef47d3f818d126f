"""The import template's unit drop-down offers every unit its instructions name, and each of
them is one the calculation converts for the activity types it is named for (issue 16)."""

from __future__ import annotations

import re
from pathlib import Path

from openpyxl import load_workbook

from esgledger.factors import load_library
from esgledger.ingest.template import UNIT_CHOICES, UNITS_BY_BASIS, write_template
from esgledger.units import conversion_factor, parse_unit


def test_every_unit_the_instructions_name_is_in_the_drop_down(tmp_path: Path) -> None:
    named = {
        u.strip()
        for text in UNITS_BY_BASIS.values()
        for u in re.split(r"[,(]", re.sub(r"\([^)]*\)", "", text))
        if u.strip() and not u.strip().startswith("t of")
    }
    assert named - set(UNIT_CHOICES) == set()
    book = load_workbook(write_template(tmp_path / "t.xlsx"))
    listed = [c.value for c in book["lists"]["A"] if c.value]
    assert {"万千瓦时", "升", "吨", "万升", "万吨"} <= set(listed)


def test_every_choice_is_a_unit_and_the_chinese_ones_are_the_right_size() -> None:
    for unit in UNIT_CHOICES:
        parse_unit(unit)  # raises on a unit the registry does not know
    # 1 万升 = 10,000 L; 1 万吨 = 10,000 t; 1 万千瓦时 = 10 MWh; 1 万立方米 = 10^4 m3
    assert conversion_factor("万升", "L") == 10_000
    assert conversion_factor("万吨", "t") == 10_000
    assert conversion_factor("万千瓦时", "MWh") == 10
    assert conversion_factor("万立方米", "10^4 Nm3") == 1
    assert set(UNITS_BY_BASIS) >= set(load_library().activity_types["basis_unit"])


def test_the_importer_takes_every_unit_the_instructions_name_for_a_basis() -> None:
    """The instructions promise fuels in GJ, TJ, MWh, kWh and heat in tonnes of steam; the
    importer once refused them though the calculation converted them. Both now follow one
    rule (``calc.normalise.route_kind``): every unit named for a basis is accepted for every
    activity type of that basis whose method the condition names."""
    from esgledger.calc.normalise import route_kind  # noqa: PLC0415

    library = load_library()
    conditional = {"(with a density)": "density_fuel", "(at the fuel's NCV)": "combustion"}
    for basis, text in UNITS_BY_BASIS.items():
        types = [(n, r) for n, r in library.type_rows.items() if r["basis_unit"] == basis]
        for part in re.split(r"(?<=\)),", text):
            condition = next((c for c in conditional if c in part), None)
            units = [u.strip() for u in re.sub(r"\([^)]*\)", "", part).split(",") if u.strip()]
            for unit in (u for u in units if not u.startswith("t of")):
                for name, row in types:
                    if condition == "(with a density)" and not row["density_fuel"]:
                        continue
                    if condition == "(at the fuel's NCV)" and row["method"] != "combustion":
                        continue
                    assert route_kind(row, unit) is not None, (name, unit)
    steam = next(r for r in library.type_rows.values() if r["method"] == "heat")
    assert route_kind(steam, "t") == "steam"
    electricity = library.type_rows["electricity"]
    assert route_kind(electricity, "t") is None  # refused, with a located error
