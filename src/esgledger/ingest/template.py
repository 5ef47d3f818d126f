"""Write the blank XLSX import template: data sheets, drop-down lists, instructions."""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from esgledger.factors.library import FactorLibrary, load_library
from esgledger.ingest.schema import DATA_QUALITY, TEMPLATES

UNITS_BY_BASIS = {
    "MWh": "MWh, kWh, 万千瓦时, GJ",
    "GJ": "GJ, MJ, 百万千焦, tce, t of steam (with parameter enthalpy.steam)",
    "t": "t, 吨, 万吨, kg, L, 升, 万升 (with a density), GJ, TJ, MWh, kWh (at the fuel's NCV)",
    "10^4 Nm3": "m3, Nm3, 10^4 Nm3, 万立方米, GJ, MWh (at the fuel's NCV)",
    "kg": "kg, t",
    "tonne_km": "tonne_km",
    "passenger_km": "passenger_km",
    "km": "km",
    "room_night": "room_night",
    "USD": "CNY, 万元, USD (CNY with fx.CNY_per_USD)",
    "tCO2e": "tCO2e, kgCO2e (removals: CO2 removed)",
}
UNIT_CHOICES = (
    "MWh",
    "kWh",
    "万千瓦时",
    "GJ",
    "MJ",
    "百万千焦",
    "TJ",
    "tce",
    "m3",
    "Nm3",
    "10^4 Nm3",
    "万立方米",
    "L",
    "升",
    "万升",
    "kg",
    "t",
    "吨",
    "万吨",
    "tonne_km",
    "passenger_km",
    "km",
    "room_night",
    "CNY",
    "万元",
    "USD",
    "tCO2e",
    "kgCO2e",
)


def _drop_down(sheet: Worksheet, names: list[str], column: str, formula: str) -> None:
    """A list validation on a column of the data sheet, from a range of sheet 'lists'."""
    letter = chr(ord("A") + names.index(column))
    rule = DataValidation(type="list", formula1=formula, allow_blank=True)
    rule.error = f"choose a value from the list for {column}"
    sheet.add_data_validation(rule)
    rule.add(f"{letter}2:{letter}100000")


def write_template(path: Path, library: FactorLibrary | None = None) -> Path:
    library = library or load_library()
    book = Workbook()
    intro = book.create_sheet("instructions", 0)
    book.remove(book["Sheet"])  # the default empty sheet of a new workbook
    bold = Font(bold=True)
    intro.append(["esgledger import template"])
    intro["A1"].font = Font(bold=True, size=14)
    intro.append(
        [
            "Fill the sheet 'activity' (quantities) or 'direct' (figures already in "
            "tCO2e) and import with: esgledger import FILE.xlsx"
        ]
    )
    intro.append(
        [
            "Values only: formula cells are refused. One row per record; record_id must "
            "be unique. A file is imported whole or not at all."
        ]
    )
    intro.append([])
    for kind, columns in TEMPLATES.items():
        intro.append([f"sheet {kind}"])
        intro.cell(intro.max_row, 1).font = bold
        intro.append(["column", "required", "meaning", "example"])
        for c in columns:
            intro.append([c.name, "yes" if c.required else "no", c.description, c.example])
        intro.append([])
    intro.column_dimensions["A"].width = 18
    intro.column_dimensions["C"].width = 90

    lists = book.create_sheet("lists")
    lists.append(["activity_type", "name_en", "name_zh", "scope", "category", "units"])
    for name, at in library.activity_types.iterrows():
        lists.append(
            [
                str(name),
                at["name_en"],
                at["name_zh"],
                int(at["scope"]),
                at["category"],
                UNITS_BY_BASIS.get(at["basis_unit"], at["basis_unit"]),
            ]
        )
    first = lists.max_row + 2
    lists.cell(first, 1, "unit").font = bold
    for i, unit in enumerate(UNIT_CHOICES, start=first + 1):
        lists.cell(i, 1, unit)
    q_first = first + len(UNIT_CHOICES) + 2
    lists.cell(q_first, 1, "data_quality").font = bold
    for i, value in enumerate(DATA_QUALITY, start=q_first + 1):
        lists.cell(i, 1, value)
    n_types = len(library.activity_types)

    fill = PatternFill("solid", fgColor="DDEBF7")
    for kind, columns in TEMPLATES.items():
        sheet = book.create_sheet(kind)
        sheet.append([c.name for c in columns])
        for cell in sheet[1]:
            cell.font = bold
            cell.fill = fill
        names = [c.name for c in columns]

        if kind == "activity":
            _drop_down(sheet, names, "activity_type", f"=lists!$A$2:$A${n_types + 1}")
            _drop_down(
                sheet, names, "unit", f"=lists!$A${first + 1}:$A${first + len(UNIT_CHOICES)}"
            )
        _drop_down(
            sheet,
            names,
            "data_quality",
            f"=lists!$A${q_first + 1}:$A${q_first + len(DATA_QUALITY)}",
        )
        for i, _ in enumerate(names):
            sheet.column_dimensions[chr(ord("A") + i)].width = 16
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    return path
