"""Write the malformed-input corpus (and the valid files) next to this script.

Run ``python tests/ingest/corpus/make_corpus.py`` after changing a case; commit its output.
Every malformed file holds exactly ONE defect; README.md lists the expected diagnostic of each.
CSV files are written byte-exact from the literals below (the tests check the checked-in files
still equal them); XLSX files are written with openpyxl (their zip timestamps vary, so the tests
only require that each one exists).
"""

from __future__ import annotations

import random
from pathlib import Path

from openpyxl import Workbook

HERE = Path(__file__).resolve().parent

ACTIVITY = (
    "record_id,entity_id,period,activity_type,quantity,unit,region,data_quality,"
    "activity_date,instrument_id,ef_value,ef_unit,note"
)
DIRECT = "record_id,entity_id,period,scope,category,tco2e,gas,scope2_basis,data_quality,provenance"
GOOD = "C-001,G00,2024-01,electricity,100.5,MWh,CN-BJ,measured,,,,,main meter"
GOOD_DIRECT = "CD-001,G00,2024,1,fugitive,12.5,CO2e,,reported,verifier statement 2024"


def activity(*rows: str) -> str:
    return "\n".join((ACTIVITY, *rows)) + "\n"


def direct(*rows: str) -> str:
    return "\n".join((DIRECT, *rows)) + "\n"


def drop_column(text: str, name: str) -> str:
    """``text`` without the column ``name`` (for files without quoted commas)."""
    lines = [line.split(",") for line in text.strip("\n").split("\n")]
    index = lines[0].index(name)
    return "\n".join(",".join(c for i, c in enumerate(line) if i != index) for line in lines) + "\n"


def bad(fields: str) -> str:
    """The second data row (spreadsheet row 3): record C-002 of entity S01 with ``fields``."""
    return f"C-002,S01,{fields}"


#: The earlier batch every malformed test imports first (record ids and a claimed GEC).
BASE = activity(
    "BASE-001,G00,2024-01,electricity,120.5,MWh,CN-BJ,measured,,,,,base batch",
    "BASE-002,S01,2024-01,gec,50,MWh,,measured,2024-01-31,GEC-2024-000001,,,certificate",
    "BASE-003,S02,2024-02,natural_gas,1200,m3,CN-JS,measured,,,,,boiler",
)

#: Valid, UTF-8 with a byte-order mark and CRLF line ends (what Excel's "CSV UTF-8" saves).
VALID_BOM = "\ufeff" + activity(
    'BOM-001,G00,2024-03,electricity,"1,234.50",MWh,北京市,measured,,,,,一号楼 总表（含空调）',
    "BOM-002,S03,2024-03,natural_gas,0.5,10^4 Nm3,CN-GD,estimated,,,,,食堂燃气 ≈ 5000 m³",
).replace("\n", "\r\n")

#: Valid, GBK (what Chinese Excel saves as "CSV (逗号分隔)"): Chinese notes and region names.
VALID_GBK = activity(
    "GBK-001,G00,2024-04,electricity,3815.20,MWh,北京,measured,,,,,总部大楼空调用电",
    "GBK-002,S02,2024-04,electricity,7.5,万千瓦时,江苏省,calculated,,,,,数据中心（二期）",
    "GBK-003,S03,2024-04,gasoline_vehicle,120,L,广东,measured,2024-04-15,,,,公务车加油 粤B·12345",
)

CSV: dict[str, str | bytes] = {
    # units and quantities
    "unit_wrong_dimension.csv": activity(GOOD, bad("2024-01,electricity,80,kg,,,,,,,")),
    "unit_unknown.csv": activity(GOOD, bad("2024-01,electricity,80,bananas,,,,,,,")),
    "quantity_text.csv": activity(GOOD, bad("2024-01,electricity,about 100,MWh,,,,,,,")),
    "quantity_negative.csv": activity(GOOD, bad("2024-01,electricity,-12.5,MWh,,,,,,,")),
    "quantity_empty.csv": activity(GOOD, bad("2024-01,electricity,,MWh,,,,,,,")),
    "quantity_nan.csv": activity(GOOD, bad("2024-01,electricity,NaN,MWh,,,,,,,")),
    "quantity_inf.csv": activity(GOOD, bad("2024-01,electricity,inf,MWh,,,,,,,")),
    "quantity_overflow.csv": activity(GOOD, bad("2024-01,electricity,1e999,MWh,,,,,,,")),
    "quantity_fullwidth.csv": activity(GOOD, bad("2024-01,electricity,１２３,MWh,,,,,,,")),
    "ef_value_fullwidth.csv": activity(
        GOOD, bad("2024-01,supplier_electricity,80,MWh,,,,PPA-7,０.４２,tCO2/MWh,")
    ),
    # codes and references
    "activity_type_unknown.csv": activity(GOOD, bad("2024-01,electricty,80,MWh,,,,,,,")),
    "entity_unknown.csv": activity(GOOD, "C-002,S99,2024-01,electricity,80,MWh,,,,,,,"),
    "region_unknown.csv": activity(GOOD, bad("2024-01,electricity,80,MWh,火星,,,,,,")),
    "data_quality_bad.csv": activity(GOOD, bad("2024-01,electricity,80,MWh,,guessed,,,,,")),
    # periods and dates
    "period_month13.csv": activity(GOOD, bad("2024-13,electricity,80,MWh,,,,,,,")),
    "period_two_digit.csv": activity(GOOD, bad("24,electricity,80,MWh,,,,,,,")),
    "period_empty.csv": activity(GOOD, bad(",electricity,80,MWh,,,,,,,")),
    "activity_date_bad.csv": activity(GOOD, bad("2024-02,electricity,80,MWh,,,2024-02-30,,,,")),
    # instruments
    "supplier_no_ef_value.csv": activity(
        GOOD, bad("2024-01,supplier_electricity,80,MWh,,,,PPA-7,,,")
    ),
    "instrument_missing.csv": activity(GOOD, bad("2024-01,gec,80,MWh,,,,,,,")),
    "instrument_duplicate.csv": activity(
        "C-001,G00,2024-01,gec,10,MWh,,,,GEC-2024-000777,,,",
        bad("2024-02,gec,20,MWh,,,,GEC-2024-000777,,,"),
    ),
    "instrument_claimed.csv": activity(
        "C-001,G00,2024-06,gec,10,MWh,,,,GEC-2024-000001,,,claimed again",
        bad("2024-06,electricity,80,MWh,,,,,,,"),
    ),
    # record ids
    "record_id_duplicate.csv": activity(
        GOOD, bad("2024-01,electricity,80,MWh,,,,,,,"), GOOD.replace("100.5", "7")
    ),
    "record_id_in_ledger.csv": activity(GOOD, "BASE-002,S01,2024-05,electricity,80,MWh,,,,,,,"),
    # structure
    "column_missing.csv": drop_column(
        activity(GOOD, bad("2024-01,electricity,80,MWh,,,,,,,")), "unit"
    ),
    "column_unknown.csv": (
        ACTIVITY + ",comment\n" + GOOD + ",\n" + bad("2024-01,electricity,80,MWh,,,,,,,,\n")
    ),
    "column_duplicate.csv": (ACTIVITY + ",note\n" + GOOD + ",again\n"),
    "row_too_wide.csv": activity(GOOD, bad("2024-01,electricity,80,MWh,,,,,,,,extra")),
    "empty.csv": "",
    "header_only.csv": ACTIVITY + "\n",
    "quote_unterminated.csv": activity(
        GOOD,
        bad('2024-01,electricity,80,MWh,,,,,,,"meter 12'),
        "C-003,S02,2024-01,electricity,81,MWh,,,,,,,",
        "C-004,S03,2024-01,electricity,82,MWh,,,,,,,",
    ),
    "legacy_excel.xls": activity(GOOD),
    # encodings
    "gbk_defect.csv": activity(
        "G-001,G00,2024-01,electricity,100,MWh,北京,measured,,,,,总部用电",
        "G-002,S01,2024-01,electricity,200,MWh,江苏,measured,,,,,分公司用电",
        "G-003,S02,2024-01,electricity,一百,MWh,广东,measured,,,,,手填数量",
    ).encode("gbk"),
    "utf16.csv": activity(GOOD).encode("utf-16"),
    # direct emissions
    "direct_scope4.csv": direct(
        GOOD_DIRECT, "CD-002,S01,2024,4,fugitive,3.1,CO2e,,reported,supplier report"
    ),
    "direct_no_provenance.csv": direct(
        GOOD_DIRECT, "CD-002,S01,2024,1,fugitive,3.1,CO2e,,reported,"
    ),
    "direct_provenance_column_missing.csv": drop_column(direct(GOOD_DIRECT), "provenance"),
    "direct_scope2_basis_bad.csv": direct(
        GOOD_DIRECT,
        "CD-002,S01,2024,2,purchased_electricity,3.1,CO2e,marketplace,reported,supplier report",
    ),
    "direct_tco2e_negative.csv": direct(
        GOOD_DIRECT, "CD-002,S01,2024,1,fugitive,-3.1,CO2e,,reported,supplier report"
    ),
}

VALID: dict[str, str | bytes] = {
    "base.csv": BASE,
    "bom_utf8.csv": VALID_BOM.encode("utf-8"),
    "gbk.csv": VALID_GBK.encode("gbk"),
}


def _rows(text: str) -> list[list[str]]:
    return [line.split(",") for line in text.strip("\n").split("\n")]


def _book(sheets: dict[str, list[list[object]]]) -> Workbook:
    book = Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    return book


def write_xlsx(folder: Path) -> None:
    good = [_rows(ACTIVITY)[0], [*_rows(GOOD)[0][:4], 100.5, *_rows(GOOD)[0][5:]]]

    _book({"Sheet1": good}).save(folder / "sheet_wrong_name.xlsx")

    formula = _book({"activity": [*good, ["C-002", "S01", "2024-01", "electricity"]]})
    formula["activity"]["E3"] = "=40*2"  # quantity as a formula
    formula["activity"]["F3"] = "MWh"
    formula.save(folder / "formula.xlsx")

    text = _book({"activity": [*good, ["C-002", "S01", "2024-01", "electricity", "n/a", "MWh"]]})
    text.save(folder / "xlsx_quantity_text.xlsx")

    both = _book({"activity": good, "direct": _rows(direct(GOOD_DIRECT))})
    both.save(folder / "xlsx_two_sheets.xlsx")

    noise = random.Random(20240101)  # deterministic "damaged download"
    (folder / "damaged.xlsx").write_bytes(b"PK\x03\x04" + noise.randbytes(2048))


def main(folder: Path = HERE) -> None:
    for name, content in CSV.items():
        data = content if isinstance(content, bytes) else content.encode("utf-8")
        (folder / name).write_bytes(data)
    (folder / "valid").mkdir(exist_ok=True)
    for name, content in VALID.items():
        data = content if isinstance(content, bytes) else content.encode("utf-8")
        (folder / "valid" / name).write_bytes(data)
    write_xlsx(folder)


if __name__ == "__main__":
    main()
