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
