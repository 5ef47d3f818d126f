"""Files a user names on the command line (registers, a measure catalogue, the organisation
file) are read by the one shared reader, as an upload is: GB18030 as well as UTF-8, an XLSX's
first sheet, within the upload limits, every refusal one located diagnostic."""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from esgledger.assess.risks import BCM_COLUMNS, read_bcm_register
from esgledger.ingest.entities import read_entities
from esgledger.ingest.files import read_csv_strings
from esgledger.ingest.limits import UPLOAD

ROW = ["R1", "S01", "机房进水", "facilities", "3", "4", "BCP-1", "", "", "", "运维部", "", "t"]


def test_a_gbk_register_reads_as_an_uploaded_one(tmp_path: Path) -> None:
    path = tmp_path / "bcm.csv"
    text = ",".join(BCM_COLUMNS) + "\r\n" + ",".join(ROW) + "\r\n"
    path.write_bytes(text.encode("gb18030"))  # saved by a Chinese Excel
    frame, problems = read_bcm_register(path)
    assert problems == []
    assert frame.loc[0, "title"] == "机房进水" and frame.loc[0, "owner"] == "运维部"
    assert int(frame.loc[0, "likelihood"]) * int(frame.loc[0, "impact"]) == 3 * 4


def test_an_xlsx_register_reads_its_first_sheet(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert isinstance(sheet, Worksheet)
    sheet.append(list(BCM_COLUMNS))
    sheet.append(ROW)
    path = tmp_path / "bcm.xlsx"
    book.save(path)
    frame, name, problems = read_csv_strings(path, "register")
    assert problems == [] and name == "bcm.xlsx[Sheet]"
    assert frame is not None and list(frame.loc[0]) == ROW


def test_cells_are_kept_exactly_and_rows_keep_their_numbers(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("a,b\n 1 ,\n,\n3,x\n", encoding="utf-8")
    frame, _, problems = read_csv_strings(path, "register")
    assert problems == [] and frame is not None
    # the blank row between stays a row: row 4 of the file is frame row 2 (4 - 2)
    assert frame.values.tolist() == [[" 1 ", ""], ["", ""], ["3", "x"]]


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    path.write_text("a\n" + "1\n" * 100, encoding="utf-8")
    frame, name, problems = read_csv_strings(path, "register", UPLOAD.replace(max_bytes=50))
    assert frame is None and name == "big.csv"
    [found] = problems
    assert found.code == "too-large" and found.file == "big.csv"
    assert "202 bytes, over the limit of 50 bytes" in found.message  # 2 + 100 × 2 bytes


def test_rows_over_the_limit_are_refused_with_the_row(tmp_path: Path) -> None:
    path = tmp_path / "rows.csv"
    path.write_text("a\n" + "1\n" * 6, encoding="utf-8")
    frame, _, problems = read_csv_strings(path, "register", UPLOAD.replace(max_rows=5))
    assert frame is None
    [found] = problems
    assert (found.code, found.file, found.row) == ("too-many-rows", "rows.csv", 7)


def test_an_unreadable_file_is_one_diagnostic_with_the_callers_code(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text('a,b\n"open,1\n', encoding="utf-8")
    frame, _, problems = read_csv_strings(path, "catalogue")
    assert frame is None
    [found] = problems
    assert (found.code, found.file, found.row) == ("catalogue", "bad.csv", 2)
    assert found.message.startswith("expected a readable CSV: malformed CSV")
    _, _, missing = read_csv_strings(tmp_path / "none.csv", "catalogue")
    assert [d.code for d in missing] == ["catalogue"]


def test_the_organisation_file_goes_through_the_same_reader(tmp_path: Path) -> None:
    path = tmp_path / "entities.csv"
    path.write_bytes(
        (
            "entity_id,name,parent_id,kind,equity_share,operational_control,"
            "financial_control,region\r\nG,集团,,group,1,true,true,CN-GD\r\n"
        ).encode("gb18030")
    )
    found, problems = read_entities(path)
    assert problems == []
    assert [(e.entity_id, e.name, e.region) for e in found] == [("G", "集团", "CN-GD")]
    path.write_text("entity_id\n" + "x\n" * 3, encoding="utf-8")
    assert read_entities(path)[1][0].code == "column-missing"
