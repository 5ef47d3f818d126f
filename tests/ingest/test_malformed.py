"""The malformed-input corpus: every file is refused with a located diagnostic, nothing written.

The expectations are the table of ``corpus/README.md`` (file, code, row, column, reported file,
message text); valid files (BOM, GBK) import, keep their text exactly, and re-import as no-ops.
"""

from __future__ import annotations

import csv
import importlib.util
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from typer.testing import CliRunner

from esgledger.cli import app
from esgledger.domain.diagnostics import Severity
from esgledger.factors.library import FactorLibrary
from esgledger.ingest.importer import import_file
from esgledger.store.ledger import Ledger

CORPUS = Path(__file__).resolve().parent / "corpus"
State = Callable[[Ledger], tuple[dict[str, int], list[dict[str, Any]]]]

BUGS: dict[str, str] = {}  # corpus files whose expected diagnostic is a known src bug


@dataclass(frozen=True)
class Case:
    file: str
    defect: str
    code: str
    row: int | None
    column: str | None
    reported: str
    mentions: str


def _cases() -> list[Case]:
    lines = (CORPUS / "README.md").read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| file |"))
    cases = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        file, defect, code, row, column, reported, mentions = (
            cell.strip() for cell in line.strip().strip("|").split(" | ")
        )
        cases.append(
            Case(
                file,
                defect,
                code,
                None if row == "—" else int(row),
                None if column == "—" else column,
                reported,
                mentions,
            )
        )
    return cases


CASES = _cases()


def _make_corpus() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_corpus", CORPUS / "make_corpus.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# -- the corpus itself ----------------------------------------------------------------------


def test_corpus_has_a_readme_row_for_every_file_and_a_file_for_every_row() -> None:
    on_disk = {p.name for p in CORPUS.iterdir() if p.is_file()} - {"README.md", "make_corpus.py"}
    listed = [c.file for c in CASES]
    assert len(listed) == len(set(listed))
    assert set(listed) == on_disk
    assert len(listed) >= 25


def test_checked_in_files_equal_make_corpus_output(tmp_path: Path) -> None:
    make = _make_corpus()
    make.main(tmp_path)
    for name in make.CSV:
        assert (CORPUS / name).read_bytes() == (tmp_path / name).read_bytes(), name
    for name in make.VALID:
        assert (CORPUS / "valid" / name).read_bytes() == (tmp_path / "valid" / name).read_bytes()
    written = {p.name for p in tmp_path.iterdir() if p.is_file()}
    assert written == {c.file for c in CASES}


def test_encoded_files_really_use_their_encoding() -> None:
    bom = (CORPUS / "valid" / "bom_utf8.csv").read_bytes()
    assert bom.startswith(b"\xef\xbb\xbfrecord_id,") and b"\r\n" in bom
    for name in ("valid/gbk.csv", "gbk_defect.csv"):
        data = (CORPUS / name).read_bytes()
        with pytest.raises(UnicodeDecodeError):
            data.decode("utf-8")  # so the import has to take the GBK path
        assert "总部" in data.decode("gbk")
    assert (CORPUS / "empty.csv").stat().st_size == 0


# -- every malformed file -------------------------------------------------------------------


def _param(case: Case) -> Any:
    marks = [pytest.mark.xfail(strict=True, reason=BUGS[case.file])] if case.file in BUGS else []
    return pytest.param(case, id=case.file, marks=marks)


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_malformed_file_is_refused_located_and_writes_nothing(
    case: Case, seeded: Ledger, library: FactorLibrary, state: State
) -> None:
    before = state(seeded)
    dry = import_file(seeded, CORPUS / case.file, library=library, dry_run=True)
    report = import_file(seeded, CORPUS / case.file, library=library)

    assert state(seeded) == before, "a refused file must write nothing"
    assert not report.ok and report.batch_id is None and report.duplicate_of is None
    assert dry.diagnostics == report.diagnostics
    shown = [f"{d.code}@{d.location()}: {d.message}" for d in report.diagnostics]
    errors = [d for d in report.diagnostics if d.severity is Severity.ERROR]
    assert len(errors) == 1, f"one defect should give one error: {shown}"
    found = errors[0]
    assert (found.code, found.file, found.row, found.column) == (
        case.code,
        case.reported,
        case.row,
        case.column,
    ), shown
    assert case.mentions in found.message, shown
    where = ":".join(str(p) for p in (case.reported, case.row, case.column) if p is not None)
    assert str(found) == f"{where}: {found.message} [{case.code}]"


@pytest.fixture(scope="module")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """100,000 data rows (spreadsheet rows 2-100001); only the last one is bad."""
    path = tmp_path_factory.mktemp("big") / "big_100k.csv"
    header = (CORPUS / "valid" / "base.csv").read_text(encoding="utf-8").splitlines()[0]
    ids = ("G00", "S01", "S02", "S03", "S04")
    lines = [header]
    lines += [
        f"BIG-{i:06d},{ids[i % 5]},2024-{i % 12 + 1:02d},electricity,{i % 997}.{i % 100:02d},"
        f"MWh,,measured,,,,,meter {i % 31}"
        for i in range(99_999)
    ]
    lines.append('BIG-099999,S01,2024-12,electricity,"12,5",MWh,,measured,,,,,decimal comma')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_bad_last_row_of_100k_rows(
    big_file: Path, seeded: Ledger, library: FactorLibrary, state: State
) -> None:
    before = state(seeded)
    report = import_file(seeded, big_file, library=library)
    assert not report.ok and report.rows == 100_000
    assert [str(d) for d in report.diagnostics] == [
        "big_100k.csv:100001:quantity: quantity '12,5' is not a number [number]"
    ]
    assert state(seeded) == before


# -- valid files ----------------------------------------------------------------------------

VALID = {"bom_utf8.csv": "utf-8-sig", "gbk.csv": "gbk"}


@pytest.mark.parametrize("name", list(VALID))
def test_valid_encoded_file_imports_and_keeps_text_exactly(
    name: str, seeded: Ledger, library: FactorLibrary, state: State
) -> None:
    path = CORPUS / "valid" / name
    expected = list(csv.DictReader(io.StringIO(path.read_bytes().decode(VALID[name]))))
    assert expected[0].keys() >= {"record_id", "quantity", "note"}  # BOM not in the header
    counts, _ = state(seeded)

    report = import_file(seeded, path, library=library)

    assert report.ok and report.rows == len(expected), [str(d) for d in report.diagnostics]
    assert report.batch_id == 2
    assert seeded.counts()["activity_record"] == counts["activity_record"] + len(expected)
    stored = seeded.activity_frame()
    stored = stored[stored["batch_id"] == report.batch_id].reset_index(drop=True)
    assert stored["record_id"].tolist() == [r["record_id"] for r in expected]
    assert stored["quantity_text"].tolist() == [r["quantity"] for r in expected]
    assert stored["note"].tolist() == [r["note"] for r in expected]
    assert stored["region_text"].tolist() == [r["region"] for r in expected]
    assert stored["quantity"].tolist() == [float(r["quantity"].replace(",", "")) for r in expected]
    assert stored["unit"].tolist() == [r["unit"] for r in expected]
    assert stored["source_row"].tolist() == list(range(2, len(expected) + 2))
    assert stored["source_file"].eq(name).all()
    assert stored["region"].str.startswith("CN-").all()  # Chinese names resolved to codes


@pytest.mark.parametrize("name", list(VALID))
def test_reimporting_a_valid_file_is_idempotent(
    name: str, seeded: Ledger, ledger_path: Path, library: FactorLibrary, state: State
) -> None:
    path = CORPUS / "valid" / name
    first = import_file(seeded, path, library=library)
    assert first.ok and first.batch_id is not None
    after_first = state(seeded)

    again = import_file(seeded, path, library=library)
    assert again.ok and again.batch_id is None and again.duplicate_of == first.batch_id
    assert [d.code for d in again.diagnostics] == ["already-imported"]
    assert again.diagnostics[0].severity is Severity.INFO
    assert state(seeded) == after_first

    result = CliRunner().invoke(app, ["import", str(path), "--ledger", str(ledger_path)])
    assert result.exit_code == 0, result.output
    assert f"already imported (batch {first.batch_id})" in result.stdout
    assert state(seeded) == after_first


def test_a_file_with_thousands_of_bad_rows_lists_the_first_and_counts_the_rest(
    seeded: Ledger, tmp_path: Path, library: FactorLibrary
) -> None:
    path = tmp_path / "many.csv"
    body = "".join(f"M-{i},G00,2024,electricity,abc,MWh\n" for i in range(1500))
    path.write_text(
        "record_id,entity_id,period,activity_type,quantity,unit\n" + body, encoding="utf-8"
    )
    report = import_file(seeded, path, library=library)
    assert not report.ok
    listed = [d for d in report.diagnostics if d.code == "number"]
    assert len(listed) == 1000 and listed[0].row == 2
    assert report.diagnostics[-1].code == "more-problems"
    assert report.diagnostics[-1].message.startswith("500 more problems")
