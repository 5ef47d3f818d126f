"""Import a file into the ledger: read, validate everything, then write in one transaction."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from esgledger.checks.plausibility import plausibility
from esgledger.domain.diagnostics import Diagnostic, Severity, has_errors
from esgledger.factors.library import FactorLibrary, load_library
from esgledger.ingest.metric_values import metric_frame
from esgledger.ingest.reader import ReadError, Table, read_csv, read_xlsx, sheet_names
from esgledger.ingest.schema import TEMPLATES
from esgledger.ingest.validate import (
    Collector,
    check_activity,
    check_entities,
    duplicates,
    frame_of,
    parse_numbers,
    parse_periods,
    required_text,
)
from esgledger.metrics import load_catalogue
from esgledger.metrics.ledger_catalogue import extend
from esgledger.store.ledger import Ledger, PeriodLockedError

SUFFIXES = {".csv": "csv", ".txt": "csv", ".xlsx": "xlsx", ".xlsm": "xlsx"}


@dataclass(frozen=True)
class ImportReport:
    file: str
    kind: str | None
    rows: int
    batch_id: int | None
    duplicate_of: int | None = None  # batch id of an identical earlier import
    diagnostics: tuple[Diagnostic, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not has_errors(self.diagnostics)


def _detect_kind(path: Path, data: bytes, kind: str | None) -> tuple[str, Table]:
    fmt = SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        raise ReadError(
            Diagnostic(
                "format",
                f"unsupported file type {path.suffix!r}: use .csv or .xlsx",
                file=path.name,
            )
        )
    if fmt == "xlsx":
        if kind is not None:
            return kind, read_xlsx(path, data, kind)
        names = sheet_names(path, data)
        tables = {n: read_xlsx(path, data, n) for n in TEMPLATES if n in names}
        filled = {n: t for n, t in tables.items() if t.rows}
        if len(filled) == 1:
            return next(iter(filled.items()))
        if not tables:
            raise ReadError(
                Diagnostic(
                    "sheet",
                    f"no sheet named {' or '.join(TEMPLATES)}; the workbook has "
                    f"{', '.join(names)} (use the template from `esgledger template`)",
                    file=path.name,
                )
            )
        if not filled:
            return next(iter(tables.items()))  # reported as a header without rows
        raise ReadError(
            Diagnostic(
                "sheet",
                f"sheets {' and '.join(filled)} both hold rows: import them as separate "
                "files or pass --kind",
                file=path.name,
            )
        )
    table = read_csv(path, data)
    if kind is None:
        kind = (
            "metrics"
            if "metric_id" in table.header
            else "direct"
            if "tco2e" in table.header
            else "activity"
        )
    return kind, table


def _dates(values: pd.Series) -> pd.Series:
    parsed = pd.to_datetime(values.replace("", None), format="%Y-%m-%d", errors="coerce")
    return pd.Series(
        [d.date() if pd.notna(d) else None for d in parsed], index=values.index, dtype=object
    )


def _common_checks(
    frame: pd.DataFrame,
    required: tuple[str, ...],
    entity_ids: frozenset[str],
    problems: Collector,
) -> tuple[pd.Series, pd.Series]:
    """Checks every kind of file shares; returns the parsed (year, month) columns."""
    for column in ("record_id", "entity_id", *required):
        required_text(frame, column, problems)
    duplicates(frame, "record_id", problems)
    check_entities(frame, entity_ids, problems)
    return parse_periods(frame["period"], problems)


def _activity_frame(
    table: Table,
    library: FactorLibrary,
    entity_ids: frozenset[str],
    problems: Collector,
    user: str | None,
) -> pd.DataFrame | None:
    frame = frame_of(table, "activity", problems)
    if frame is None:
        return None
    years, months = _common_checks(frame, ("activity_type", "unit"), entity_ids, problems)
    quantity = parse_numbers(frame["quantity"], "quantity", problems)
    check_activity(frame, library, problems)
    ef_value = parse_numbers(frame["ef_value"], "ef_value", problems, allow_empty=True)
    return pd.DataFrame(
        {
            "record_id": frame["record_id"].str.strip(),
            "entity_id": frame["entity_id"].str.strip(),
            "year": years,
            "month": months,
            "activity_type": frame["activity_type"].str.strip(),
            "quantity": quantity,
            "quantity_text": frame["quantity"],
            "unit": frame["unit"],
            "region": frame["region_code"],
            "region_text": frame["region"].replace("", None),
            "data_quality": frame["data_quality"].str.lower().replace("", "measured"),
            "activity_date": _dates(frame["activity_date"]),
            "instrument_id": frame["instrument_id"].str.strip().replace("", None),
            "ef_value": ef_value,
            "ef_unit": frame["ef_unit"].replace("", None),
            "note": frame["note"].replace("", None),
            "source_kind": "file",
            "source_file": table.file,
            "source_row": pd.Series(range(2, len(frame) + 2), index=frame.index),
            "source_user": user,
        }
    )


def _direct_frame(
    table: Table, entity_ids: frozenset[str], problems: Collector, user: str | None
) -> pd.DataFrame | None:
    frame = frame_of(table, "direct", problems)
    if frame is None:
        return None
    years, months = _common_checks(frame, ("category", "provenance"), entity_ids, problems)
    tco2e = parse_numbers(frame["tco2e"], "tco2e", problems)
    scope = frame["scope"].astype(str).str.strip()
    problems.cells(
        ~scope.isin(("1", "2", "3")),
        "scope",
        "scope",
        lambda v: f"scope {v!r} is not 1, 2 or 3",
        scope,
    )
    basis = frame["scope2_basis"].astype(str).str.strip().str.lower().replace("", "both")
    problems.cells(
        ~basis.isin(("location", "market", "both")),
        "scope2_basis",
        "scope2-basis",
        lambda v: f"scope2_basis {v!r} is not location, market or both",
        basis,
    )
    return pd.DataFrame(
        {
            "record_id": frame["record_id"].str.strip(),
            "entity_id": frame["entity_id"].str.strip(),
            "year": years,
            "month": months,
            "scope": pd.to_numeric(scope, errors="coerce").astype("Int64"),
            "category": frame["category"].str.strip(),
            "gas": frame["gas"].replace("", "CO2e"),
            "tco2e": tco2e,
            "tco2e_text": frame["tco2e"],
            "scope2_basis": basis,
            "data_quality": frame["data_quality"].str.lower().replace("", "reported"),
            "provenance": frame["provenance"],
            "source_kind": "file",
            "source_file": table.file,
            "source_row": pd.Series(range(2, len(frame) + 2), index=frame.index),
            "source_user": user,
        }
    )


def _ledger_conflicts(ledger: Ledger, frame: pd.DataFrame, kind: str, problems: Collector) -> None:
    taken = ledger.existing_record_ids(frame["record_id"].dropna().unique(), table=kind)
    if taken:
        problems.cells(
            frame["record_id"].isin(taken),
            "record_id",
            "duplicate",
            lambda v: f"record_id {v!r} is already in the ledger",
            frame["record_id"],
        )
    if kind == "activity":
        ids = frame["instrument_id"].dropna().unique()
        used = ledger.existing_instrument_ids(ids) if len(ids) else set()
        if used:
            problems.cells(
                frame["instrument_id"].isin(used),
                "instrument_id",
                "double-count",
                lambda v: (
                    f"instrument {v!r} is already claimed in the ledger; a "
                    "certificate can be counted once"
                ),
                frame["instrument_id"],
            )


def import_file(
    ledger: Ledger,
    path: Path,
    kind: str | None = None,
    user: str | None = None,
    dry_run: bool = False,
    library: FactorLibrary | None = None,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Validate ``path`` completely, then store it in one transaction (or not at all)."""
    library = library or load_library()
    try:
        data = path.read_bytes()
    except OSError as exc:
        return ImportReport(
            path.name,
            kind,
            0,
            None,
            diagnostics=(Diagnostic("io", f"cannot read file: {exc.strerror}", file=str(path)),),
        )
    sha = hashlib.sha256(data).hexdigest()
    earlier = ledger.has_batch(sha)
    if earlier is not None:
        return ImportReport(
            path.name,
            kind,
            0,
            None,
            duplicate_of=earlier,
            diagnostics=(
                Diagnostic(
                    "already-imported",
                    f"identical file already imported as batch {earlier}; nothing added",
                    Severity.INFO,
                    file=path.name,
                ),
            ),
        )
    try:
        kind, table = _detect_kind(path, data, kind)
    except ReadError as exc:
        return ImportReport(path.name, kind, 0, None, diagnostics=(exc.diagnostic,))
    if kind not in TEMPLATES:
        return ImportReport(
            path.name,
            kind,
            0,
            None,
            diagnostics=(Diagnostic("kind", f"unknown kind {kind!r}", file=path.name),),
        )
    problems = Collector(table)
    entity_ids = ledger.organisation().ids()
    if kind == "activity":
        frame = _activity_frame(table, library, entity_ids, problems, user)
    elif kind == "direct":
        frame = _direct_frame(table, entity_ids, problems, user)
    else:
        own = extend(load_catalogue(), ledger.metric_definition_rows())[0]
        frame = metric_frame(table, entity_ids, problems, user, own)
    if frame is not None and not problems.items:
        _ledger_conflicts(ledger, frame, kind, problems)
    diagnostics = problems.all()
    if frame is not None:
        diagnostics = (*diagnostics, *_locked_years(ledger, frame, table.file))
    if frame is not None and kind == "activity" and not has_errors(diagnostics):
        diagnostics = (*diagnostics, *_implausible(ledger, frame, library, table.file))
    if frame is None or has_errors(diagnostics) or dry_run:
        return ImportReport(
            table.file, kind, 0 if frame is None else len(frame), None, diagnostics=diagnostics
        )
    return _write(ledger, kind, path.name, sha, frame, user, progress, table.file, diagnostics)


def _write(
    ledger: Ledger,
    kind: str,
    name: str,
    sha: str,
    frame: pd.DataFrame,
    user: str | None,
    progress: Callable[[int], None] | None,
    file: str,
    diagnostics: tuple[Diagnostic, ...],
) -> ImportReport:
    try:
        batch = ledger.write_batch(
            kind,
            name,
            sha,
            activity=frame if kind == "activity" else None,
            direct=frame if kind == "direct" else None,
            metrics=frame if kind == "metrics" else None,
            imported_by=user,
            progress=progress,
        )
    except PeriodLockedError as exc:  # locked between the check and the write
        locked = Diagnostic("locked", str(exc), file=file)
        return ImportReport(file, kind, len(frame), None, diagnostics=(*diagnostics, locked))
    return ImportReport(file, kind, len(frame), batch, diagnostics=diagnostics)


def _implausible(
    ledger: Ledger, frame: pd.DataFrame, library: FactorLibrary, file: str
) -> list[Diagnostic]:
    """Warnings of :func:`esgledger.checks.plausibility.plausibility`: years far above the
    entity's own history of the activity type (the import goes ahead)."""
    stored = ledger.activity_sums(
        frame["entity_id"].unique().tolist(), frame["activity_type"].unique().tolist()
    )
    return plausibility(frame, stored, library, file)


def _locked_years(ledger: Ledger, frame: pd.DataFrame, file: str) -> list[Diagnostic]:
    """One error per locked year the file has rows for, at its first row."""
    locked = set(ledger.locked_years())
    if not locked:
        return []
    found = []
    for year in sorted(locked & {int(y) for y in frame["year"].unique()}):
        rows = frame.loc[frame["year"] == year, "source_row"] if "source_row" in frame else None
        first = int(rows.min()) if rows is not None and len(rows) else None
        found.append(
            Diagnostic(
                "locked",
                f"period {year} is locked by the ESG committee: its figures change only through "
                "an approved adjustment, not by import",
                file=file,
                row=first,
                column="period",
            )
        )
    return found
