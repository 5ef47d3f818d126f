"""Every uploaded or imported table is read by one reader within declared limits: file size,
expanded size and compression ratio of an XLSX's parts (checked before openpyxl opens it),
rows and columns (counted while reading), and the number of problems a refusal lists. An
over-limit file is refused with one diagnostic naming the file (and row and column where there
is one) and the limit; nothing is imported."""

from __future__ import annotations

import io
import zipfile
from datetime import date
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from esgledger.auth.accounts import operator
from esgledger.domain.diagnostics import Diagnostic, Severity
from esgledger.ingest.importer import import_file
from esgledger.ingest.limits import IMPORT, UPLOAD, from_environment
from esgledger.ingest.reader import ReadError, cap_problems, read_csv, read_xlsx
from esgledger.ingest.schema import TEMPLATES
from esgledger.store.ledger import Ledger
from esgledger.usecases import registers
from esgledger.usecases.registers import RegisterRejected
from esgledger.workflow.request_template import HEADER_ROW, RequestSheet, request_template
from esgledger.workflow.request_upload import read_request_upload

MB = 1_000_000
REQUEST = RequestSheet(9, "S01", "x", 2024, date(2025, 3, 31), ("energy.gasoline",), {})


def with_part(data: bytes, name: str, size: int) -> bytes:
    """``data`` (an XLSX) with one more part of ``size`` spaces: small on disk (a space
    compresses about a thousand times), huge once expanded."""
    buffer = io.BytesIO(data)
    with (
        zipfile.ZipFile(buffer, "a", compression=zipfile.ZIP_DEFLATED) as archive,
        archive.open(name, "w", force_zip64=True) as part,
    ):
        chunk = b" " * MB
        for _ in range(size // MB):
            part.write(chunk)
    return buffer.getvalue()


def xlsx(rows: list[list[object]], title: str = "bcm") -> bytes:
    book = Workbook()
    sheet = book.active
    assert isinstance(sheet, Worksheet)
    sheet.title = title
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def raw_xlsx(sheet_rows: int, title: str = "bcm", *, last_row: int | None = None) -> bytes:
    """A workbook whose sheet holds a header and ``sheet_rows`` data rows (and a value in row
    ``last_row``), written as XML directly (openpyxl would take long to write many rows)."""
    base = xlsx([["risk_id"]], title)
    numbers = [*range(2, sheet_rows + 2), *([last_row] if last_row else [])]
    body = "".join(
        f'<row r="{n}"><c r="A{n}" t="inlineStr"><is><t>R{n}</t></is></c></row>' for n in numbers
    )
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(base)) as source,
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                text = content.decode()
                text = text.replace('"A1:A1"', f'"A1:A{numbers[-1] if numbers else 1}"')
                text = text.replace("</row></sheetData>", "</row>" + body + "</sheetData>")
                assert body in text
                content = text.encode()
            target.writestr(info.filename, content)
    return buffer.getvalue()


def rejected(content: bytes, name: str) -> Diagnostic:
    with pytest.raises(RegisterRejected) as caught:
        registers.read_table_file(content, name)
    assert len(caught.value.diagnostics) == 1, [str(d) for d in caught.value.diagnostics]
    return caught.value.diagnostics[0]


def nothing_imported(ledger: Ledger) -> None:
    assert registers.stored_frame(ledger.engine, "bcm", 2024).empty
    assert registers.imports(ledger.engine, operator("admin"), "bcm") == []


# -- rows and columns ---------------------------------------------------------------------------


def test_a_register_xlsx_past_the_row_limit_is_refused_and_nothing_imported(
    ledger: Ledger, tmp_path: Path
) -> None:
    assert UPLOAD.max_rows == 100_000
    path = tmp_path / "big.xlsx"
    path.write_bytes(raw_xlsx(UPLOAD.max_rows + 1))
    with pytest.raises(RegisterRejected) as caught:
        registers.import_register(ledger.engine, operator("admin"), "bcm", 2024, path)
    assert [str(d) for d in caught.value.diagnostics] == [
        "big.xlsx[bcm]:100002: more than 100,000 data rows below the header, over the limit: "
        "row 100,002 holds a value; nothing read [too-many-rows]"
    ]
    nothing_imported(ledger)


def test_a_value_a_million_blank_rows_down_is_refused_at_its_row() -> None:
    found = rejected(raw_xlsx(3, last_row=1_048_576), "far.xlsx")
    assert (found.code, found.file, found.row) == ("too-many-rows", "far.xlsx[bcm]", 1_048_576)


def test_a_register_csv_past_the_row_limit_is_refused() -> None:
    lines = ["risk_id", *(f"R{n}" for n in range(UPLOAD.max_rows + 1)), "", ""]
    found = rejected("\n".join(lines).encode(), "big.csv")
    assert (found.code, found.file, found.row) == ("too-many-rows", "big.csv", 100_002)
    # blank rows after the last one are not rows: at the limit, the file reads
    exact = "\n".join([*lines[: UPLOAD.max_rows + 1], "", "", ""]).encode()
    assert len(registers.read_table_file(exact, "exact.csv")) == UPLOAD.max_rows


def test_a_value_right_of_the_column_limit_is_refused_located() -> None:
    wide = UPLOAD.max_columns
    found = rejected(xlsx([["risk_id"], ["R1", *[None] * (wide - 1), "far"]]), "wide.xlsx")
    assert (found.code, found.file, found.row, found.column) == (
        "too-many-columns",
        "wide.xlsx[bcm]",
        2,
        "CW",
    )
    assert "more than 100 columns" in found.message
    csv_found = rejected(("risk_id\nR1" + "," * wide + "far\n").encode(), "wide.csv")
    assert (csv_found.code, csv_found.row, csv_found.column) == ("too-many-columns", 2, "CW")


def test_a_value_right_of_the_header_is_located() -> None:
    found = rejected(b"risk_id,entity_id\nR1,S01\nR2,S01,extra\n", "r.csv")
    assert (found.code, found.file, found.row, found.column) == ("row-width", "r.csv", 3, "C")


# -- the archive before openpyxl opens it ------------------------------------------------------


def test_a_zip_bomb_part_is_refused_before_opening() -> None:
    bomb = with_part(xlsx([["risk_id"], ["R1"]]), "xl/media/image1.png", 5 * MB)
    assert len(bomb) < 100_000  # small on disk
    found = rejected(bomb, "bomb.xlsx")
    assert (found.code, found.file) == ("too-large", "bomb.xlsx")
    assert "part xl/media/image1.png expands" in found.message
    assert "over the limit of 100 times" in found.message


def test_a_workbook_expanding_past_the_limit_is_refused() -> None:
    bomb = with_part(xlsx([["risk_id"], ["R1"]]), "xl/worksheets/sheet2.xml", 150 * MB)
    assert len(bomb) < 1_000_000
    found = rejected(bomb, "huge.xlsx")
    assert (found.code, found.file) == ("too-large", "huge.xlsx")
    assert "over the limit of 100,000,000 bytes" in found.message


def test_a_file_over_the_size_limit_is_refused() -> None:
    found = rejected(b"risk_id\n" + b"R\n" * (UPLOAD.max_bytes // 2), "big.csv")
    assert (found.code, found.file) == ("too-large", "big.csv")
    assert f"over the limit of {UPLOAD.max_bytes:,} bytes" in found.message


def test_the_request_upload_is_held_to_the_same_limits() -> None:
    template = request_template(REQUEST, "en")
    values, problems = read_request_upload(
        with_part(template, "xl/media/a.bin", 5 * MB), "t.xlsx", REQUEST
    )
    assert values == []
    assert [(p.code, p.file) for p in problems] == [("upload.too_large", "t.xlsx")]
    assert "expands" in problems[0].message


def test_the_bulk_import_is_held_to_the_archive_limits(ledger: Ledger, tmp_path: Path) -> None:
    header: list[object] = [c.name for c in TEMPLATES["activity"]]
    path = tmp_path / "activity.xlsx"
    path.write_bytes(with_part(xlsx([header], "activity"), "xl/media/a.bin", 5 * MB))
    report = import_file(ledger, path, kind="activity")
    assert not report.ok and report.batch_id is None
    assert [(d.code, d.file) for d in report.diagnostics] == [("too-large", "activity.xlsx")]
    assert ledger.batches().empty


# -- reported problems --------------------------------------------------------------------------


def test_a_request_upload_lists_at_most_the_limit_of_problems() -> None:
    book = load_workbook(io.BytesIO(request_template(REQUEST, "en")))
    sheet = book["request"]
    assert isinstance(sheet, Worksheet)
    for n in range(300):
        sheet[f"A{HEADER_ROW + 2 + n}"] = f"no.such.metric{n}"
        sheet[f"D{HEADER_ROW + 2 + n}"] = 1
    buffer = io.BytesIO()
    book.save(buffer)
    values, problems = read_request_upload(buffer.getvalue(), "t.xlsx", REQUEST)
    assert values == []
    assert len(problems) == UPLOAD.max_problems + 1
    assert all(p.code == "upload.unknown_metric" for p in problems[:-1])
    assert str(problems[-1]) == (
        "t.xlsx[request]: 100 more problems are not listed (the first 200 are) [more-problems]"
    )


def test_cap_problems() -> None:
    found = [Diagnostic("x", str(n), file="f.csv", row=n + 2) for n in range(5)]
    assert cap_problems(found, 5) == found
    capped = cap_problems(found, 2)
    assert capped[:2] == found[:2]
    assert (
        str(capped[2]) == "f.csv: 3 more problems are not listed (the first 2 are) [more-problems]"
    )
    assert capped[2].severity is Severity.ERROR


# -- the bulk import keeps its size -------------------------------------------------------------


def test_the_bulk_import_reads_more_rows_than_an_upload() -> None:
    assert IMPORT.max_rows >= 10_000_000 and IMPORT.max_bytes >= 1024**3
    data = ("record_id\n" + "".join(f"R{n}\n" for n in range(UPLOAD.max_rows + 50_000))).encode()
    assert len(read_csv(Path("big.csv"), data).rows) == UPLOAD.max_rows + 50_000


def test_a_bulk_read_over_a_given_limit_names_file_row_and_limit() -> None:
    with pytest.raises(ReadError) as caught:
        read_csv(Path("a.csv"), b"record_id\nA\nB\nC\n", IMPORT.replace(max_rows=2))
    assert str(caught.value.diagnostic) == (
        "a.csv:4: more than 2 data rows below the header, over the limit: row 4 holds a value; "
        "nothing read [too-many-rows]"
    )
    with pytest.raises(ReadError) as sheet:
        read_xlsx(
            Path("a.xlsx"),
            xlsx([["x"], ["1"], ["2"]], "activity"),
            "activity",
            IMPORT.replace(max_rows=1),
        )
    assert (sheet.value.diagnostic.file, sheet.value.diagnostic.row) == ("a.xlsx[activity]", 3)


def test_limits_come_from_the_environment() -> None:
    changed = from_environment("ESGLEDGER_UPLOAD_", UPLOAD, {"ESGLEDGER_UPLOAD_MAX_ROWS": "5_000"})
    assert changed == UPLOAD.replace(max_rows=5000)
    with pytest.raises(ValueError, match="ESGLEDGER_IMPORT_MAX_BYTES='-1'"):
        from_environment("ESGLEDGER_IMPORT_", IMPORT, {"ESGLEDGER_IMPORT_MAX_BYTES": "-1"})
