"""Assessment registers in the ledger: imports of register files, their rows, their history.

Each register kind (:data:`KINDS`: the climate risk and opportunity register, suppliers,
supplier evaluations, business-continuity risks, information-security risks) is a file of
rows that its library (``assess/climate.py``, ``assess/supplier_rows.py``,
``assess/risks.py``) validates and computes from. The ledger keeps the rows exactly as the
file held them (``register_entry.data``: the file's columns as strings), so nothing a user
entered is changed on the way in, and every computed score can be re-derived from the stored
rows.

Rules:

- an import is all or nothing: the file is read and validated whole by the register's
  library, and any problem rejects it with every diagnostic located ``file:row:column``
  (:class:`RegisterRejected`);
- a register with an entity column (suppliers, risks) is per entity: a user may import rows
  only of entities they may edit, and sees only the rows of entities they may see; an import
  replaces the year's rows of the entities it holds. A group-level register (climate) is
  imported by a group-wide user and replaces the whole year;
- replaced rows are kept (``superseded_by`` the import that replaced them): the history of a
  register is every import with its file name, SHA-256, author and time;
- a year locked by the ESG committee takes no import; every import is one transaction with
  its audit entry (kind, year, file, SHA-256, rows, entities replaced, the rules' digests);
- a rated register (supplier evaluations, BCM, information security) is checked and graded
  with the rules of its year: the first import of a year freezes the rules then in force for
  it, in the import's transaction, and later imports use those
  (:mod:`esgledger.usecases.rules`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from esgledger import audit
from esgledger.assess import climate, results, risks, supplier_rows
from esgledger.assess.rule_tables import KIND_TABLES, RegisterRules
from esgledger.auth import access
from esgledger.auth.access import require
from esgledger.auth.accounts import Principal
from esgledger.auth.roles import Permission
from esgledger.domain.diagnostics import Diagnostic
from esgledger.domain.errors import Conflict, Forbidden, Invalid
from esgledger.ingest import limits as ingest_limits
from esgledger.ingest.limits import UPLOAD, Limits
from esgledger.ingest.reader import UNREADABLE, ReadError, cap_problems, read_rows, string_frame
from esgledger.store import registers as stored
from esgledger.store import targets as stored_targets
from esgledger.store.engine import LedgerConnection as Connection
from esgledger.store.engine import LedgerEngine as Engine
from esgledger.store.engine import entity_ids, write_transaction
from esgledger.store.periods import year_locked
from esgledger.usecases import rules as register_rules

__all__ = [
    "KINDS",
    "RegisterKind",
    "RegisterRejected",
    "current_frame",
    "import_frame",
    "import_register",
    "import_rows",
    "imports",
    "read_table_file",
    "register_kind",
    "stored_frame",
    "template",
    "years",
]

AUDIT_TYPE = "register"
MAX_BYTES = ingest_limits.UPLOAD.max_bytes
"""A register file's size (the web route reads at most one byte more)."""

Validator = Callable[[pd.DataFrame, str, Engine, int], list[Diagnostic]]
"""The library's check of a frame of strings from the file ``name``, for a year of a ledger
(a register may check its rows against another: evaluations name suppliers)."""


class RegisterRejected(Invalid):
    """A register file with problems: nothing was imported; ``diagnostics`` locates each."""

    def __init__(self, diagnostics: Sequence[Diagnostic]) -> None:
        found = len(diagnostics)
        self.diagnostics = tuple(cap_problems(diagnostics, UPLOAD.max_problems))
        shown = "; ".join(str(d) for d in self.diagnostics[:20])
        more = found - 20
        super().__init__(
            f"nothing imported, {found} problem(s): {shown}"
            + (f"; and {more} more" if more > 0 else "")
        )


@dataclass(frozen=True, slots=True)
class RegisterKind:
    """What the ledger needs to know of a register: the column that names a row, the column
    of its entity (None: group-level), the column of its year if the file has one, and the
    library's validation of a frame of strings."""

    kind: str
    title_en: str
    title_zh: str
    key: str
    entity_column: str | None
    year_column: str | None
    validate: Validator
    columns: tuple[str, ...] = ()
    """The file's columns, in template order."""


def _climate(frame: pd.DataFrame, name: str, engine: Engine, _year: int) -> list[Diagnostic]:
    known = frozenset(row["target_id"] for row in stored_targets.target_rows(engine))
    return climate.read_register_frame(frame, name, known)[1]


def _suppliers(frame: pd.DataFrame, name: str, _engine: Engine, _year: int) -> list[Diagnostic]:
    return supplier_rows.check_suppliers(frame, name)[1]


def _evaluations(frame: pd.DataFrame, name: str, engine: Engine, year: int) -> list[Diagnostic]:
    listed = stored_frame(engine, "suppliers", year)
    known = None if listed.empty else frozenset(listed["supplier_id"].astype(str).str.strip())
    if known is None:
        return [
            Diagnostic(
                "suppliers",
                f"expected the suppliers of {year} in the ledger first (esgledger register "
                f"import suppliers --year {year} FILE): evaluations name them",
                file=name,
            )
        ]
    return supplier_rows.check_evaluations(frame, name, known)[1]


def _bcm(frame: pd.DataFrame, name: str, _engine: Engine, _year: int) -> list[Diagnostic]:
    return risks.check_bcm_frame(frame, name)[1]


def _infosec(frame: pd.DataFrame, name: str, _engine: Engine, _year: int) -> list[Diagnostic]:
    return risks.check_infosec_frame(frame, name)[1]


KINDS: Mapping[str, RegisterKind] = {
    spec.kind: spec
    for spec in (
        RegisterKind(
            "climate",
            "climate risks and opportunities",
            "气候风险与机遇",
            "entry_id",
            None,
            "year",
            _climate,
            (*climate.REGISTER_COLUMNS, *climate.OPTIONAL_COLUMNS),
        ),
        RegisterKind(
            "suppliers",
            "suppliers",
            "供应商",
            "supplier_id",
            "entity_id",
            None,
            _suppliers,
            supplier_rows.SUPPLIER_COLUMNS,
        ),
        RegisterKind(
            "supplier_evaluations",
            "supplier evaluations",
            "供应商评价",
            "supplier_id",
            None,
            "year",
            _evaluations,
            supplier_rows.EVALUATION_COLUMNS,
        ),
        RegisterKind(
            "bcm",
            "business-continuity risks",
            "业务连续性风险",
            "risk_id",
            "entity_id",
            None,
            _bcm,
            risks.BCM_COLUMNS,
        ),
        RegisterKind(
            "infosec",
            "information-security risks",
            "信息安全风险",
            "risk_id",
            "entity_id",
            None,
            _infosec,
            risks.INFOSEC_COLUMNS,
        ),
    )
}
"""The registers. Supplier evaluations are group-level (the group's procurement evaluates
suppliers for every entity); a supplier's or a risk's ``entity_id`` makes its row per entity
(an empty supplier ``entity_id`` is a supplier of the group, a group-level row)."""


def template(kind: str, path: Path) -> None:
    """Write an empty register file (the header row) to the new file ``path``: XLSX when it
    ends in ``.xlsx`` (cells formatted as text, so ids like ``007`` stay as typed), else CSV
    (UTF-8 with a byte-order mark, so spreadsheets open Chinese text)."""
    spec = register_kind(kind)
    if path.suffix.lower() == ".xlsx":
        from openpyxl import Workbook  # noqa: PLC0415 (only for templates)
        from openpyxl.utils import get_column_letter  # noqa: PLC0415

        book = Workbook()
        sheet = book.active
        assert sheet is not None
        sheet.title = kind
        sheet.append(list(spec.columns))
        for index in range(1, len(spec.columns) + 1):
            sheet.column_dimensions[get_column_letter(index)].number_format = "@"
        sheet.freeze_panes = "A2"
        with path.open("xb") as fh:
            book.save(fh)
        return
    with path.open("x", encoding="utf-8-sig", newline="") as fh:
        fh.write(",".join(spec.columns) + "\r\n")


def register_kind(kind: str) -> RegisterKind:
    try:
        return KINDS[kind]
    except KeyError:
        raise Invalid(f"unknown register {kind!r}: expected one of {', '.join(KINDS)}") from None


# -- reading files ----------------------------------------------------------------------------


def read_table_file(content: bytes, name: str, limits: Limits | None = None) -> pd.DataFrame:
    """The rows of a CSV (UTF-8, with or without BOM; else GB18030) or XLSX file (its first
    sheet; a formula cell gives its cached value) as strings, exactly as written (surrounding
    blanks are the library's to judge), read by the shared reader within ``limits`` (the
    uploads', :data:`esgledger.ingest.limits.UPLOAD`, by default: size, expansion, rows,
    columns). Unreadable or over-limit files are rejected with a located diagnostic."""
    try:
        where, rows = read_rows(content, name, limits or ingest_limits.UPLOAD)
        return string_frame(rows, where)
    except ReadError as exc:
        found = exc.diagnostic
        if found.code in UNREADABLE:
            found = dataclasses.replace(
                found, code="file", message=f"expected a readable CSV or XLSX file: {found.message}"
            )
        raise RegisterRejected([found]) from exc


# -- import -----------------------------------------------------------------------------------


def _check_year(spec: RegisterKind, frame: pd.DataFrame, year: int, name: str) -> list[Diagnostic]:
    if spec.year_column is None or spec.year_column not in frame.columns:
        return []
    return [
        Diagnostic(
            "year",
            f"expected the import's year {year}, found {value!r}",
            file=name,
            row=i + 2,
            column=spec.year_column,
        )
        for i, value in enumerate(frame[spec.year_column].str.strip())
        if value != str(year)
    ]


def _unknown_entities(
    known: set[str], spec: RegisterKind, frame: pd.DataFrame, name: str
) -> list[Diagnostic]:
    """A located problem per row whose entity is not one of ``known`` (the ledger's); none
    when the file has no entity column (the library's check says it is missing)."""
    if spec.entity_column is None or spec.entity_column not in frame.columns:
        return []
    column = frame[spec.entity_column].str.strip()
    or_group = " or empty (the group)" if spec.kind == "suppliers" else ""
    return [
        Diagnostic(
            "entity",
            f"expected an entity of the ledger{or_group}, found {value!r}",
            file=name,
            row=i + 2,
            column=spec.entity_column,
        )
        for i, value in enumerate(column)
        if value not in known and not (value == "" and spec.kind == "suppliers")
    ]


def _check_entities(
    conn: Connection, who: Principal, spec: RegisterKind, frame: pd.DataFrame, name: str
) -> list[str] | None:
    """The entities the file holds (None for a group-level register), after checking that
    each exists and that ``who`` may edit it."""
    if spec.entity_column is None:
        if not access.is_group_wide(conn, who):
            raise Forbidden(
                f"the {spec.title_en} register covers the whole group: only a group-wide "
                "user may import it"
            )
        return None
    problems = _unknown_entities(set(entity_ids(conn)), spec, frame, name)
    if problems:  # an entity removed since the first pass
        raise RegisterRejected(problems)
    held = sorted(set(frame[spec.entity_column].str.strip()))
    group_wide = access.is_group_wide(conn, who)
    outside = [e if e else "the group" for e in held if not (who.sees(e) if e else group_wide)]
    if outside:
        raise Forbidden(
            f"{name}: rows of {', '.join(outside)}, which {who.username} may not edit: "
            "nothing imported"
        )
    return held


def _refuse_taken_keys(
    conn: Connection, spec: RegisterKind, year: int, keys: list[str], name: str
) -> None:
    """A row id is unique in a register and year across the group: an id the import reuses
    from another entity's current rows (the import's own entities' rows are superseded by
    then) is a located error, and nothing is imported."""
    taken = stored.current_keys(conn, spec.kind, year, keys)
    if not taken:
        return
    problems = []
    for i, key in enumerate(keys):
        if key in taken:
            held = taken[key]
            owner = held["entity_id"] or "the group"
            problems.append(
                Diagnostic(
                    "duplicate",
                    f"expected an id unique in the {spec.title_en} register of {year}: "
                    f"{key!r} is a row of {owner} (import {held['import_id']}, line "
                    f"{held['line']})",
                    file=name,
                    row=i + 2,
                    column=spec.key,
                )
            )
    raise RegisterRejected(problems)


def _replace_rows(
    conn: Connection,
    spec: RegisterKind,
    year: int,
    frame: pd.DataFrame,
    entities: list[str] | None,
    import_id: int,
    name: str,
) -> int:
    """Supersede the year's current rows of ``entities`` (all of a group-level register) by
    the import's rows; returns the number of rows replaced."""
    kind = spec.kind
    replaced = stored.supersede_entries(conn, kind, year, entities, import_id)
    records = frame.to_dict("records")
    _refuse_taken_keys(conn, spec, year, [str(r[spec.key]).strip() for r in records], name)
    stored.insert_entries(
        conn,
        [
            {
                "import_id": import_id,
                "kind": kind,
                "year": year,
                "row_key": str(row[spec.key]).strip(),
                "entity_id": None
                if spec.entity_column is None
                else str(row[spec.entity_column]).strip() or None,
                "line": i + 2,
                "data": json.dumps(row, ensure_ascii=False),
            }
            for i, row in enumerate(records)
        ],
    )
    return replaced


def _grading_rules(
    conn: Connection, spec: RegisterKind, year: int, frame: pd.DataFrame, name: str
) -> tuple[RegisterRules | None, bool]:
    """For a rated register: the rules of the year (frozen, else those in force, new to the
    year: the import freezes them) and whether they are new, once the file's rows are graded
    with them (a located problem otherwise); (None, False) for a register without results."""
    if spec.kind not in KIND_TABLES:
        return None, False
    rules, new = register_rules.rules_for_import(conn, spec.kind, year)
    try:
        results.graded(spec.kind, frame, rules)
    except ValueError as exc:
        found = Diagnostic(
            "rules",
            f"expected rows the rules of {year} grade ({rules.describe()}): {exc}",
            file=name,
        )
        raise RegisterRejected([found]) from exc
    return rules, new


def import_frame(
    engine: Engine,
    who: Principal,
    kind: str,
    year: int,
    frame: pd.DataFrame,
    name: str,
    sha256: str,
) -> int:
    """Import a register already read into strings (:func:`read_table_file`); returns the
    import id. Raises :class:`RegisterRejected` with every located problem."""
    require(who, Permission.EDIT)
    spec = register_kind(kind)
    frame = frame.astype(str)
    problems = spec.validate(frame, name, engine, year) + _check_year(spec, frame, year, name)
    # every problem in one pass: an unknown entity too, not only once the rest is fixed
    problems += _unknown_entities(set(entity_ids(engine)), spec, frame, name)
    if frame.empty:
        problems.append(Diagnostic("empty", "expected at least one row", file=name, row=2))
    if problems:
        raise RegisterRejected(problems)
    with write_transaction(engine) as conn:
        if year_locked(conn, year):
            raise Conflict(
                f"period {year} is locked by the ESG committee: its registers take no import"
            )
        entities = _check_entities(conn, who, spec, frame, name)
        rules, new_rules = _grading_rules(conn, spec, year, frame, name)
        import_id = stored.insert_import(
            conn,
            kind,
            year,
            file_name=name,
            sha256=sha256,
            rows=len(frame),
            entities=entities,
            imported_by=who.username,
        )
        replaced = _replace_rows(conn, spec, year, frame, entities, import_id, name)
        if rules is not None and new_rules:
            register_rules.freeze(conn, kind, year, rules, who.username, import_id)
        audit.append(
            conn,
            who.username,
            "import",
            AUDIT_TYPE,
            import_id,
            after={
                "kind": kind,
                "year": year,
                "file": name,
                "sha256": sha256,
                "rows": len(frame),
                "replaced_rows": replaced,
                "entities": entities,
                "rules": None if rules is None else rules.sha256s(),
                "rules_frozen": new_rules,
            },
        )
    return import_id


def import_register(engine: Engine, who: Principal, kind: str, year: int, path: Path) -> int:
    """Import the register file ``path`` (CSV or XLSX) for ``year``; all or nothing."""
    content = path.read_bytes()
    frame = read_table_file(content, path.name)
    return import_frame(
        engine, who, kind, year, frame, path.name, hashlib.sha256(content).hexdigest()
    )


# -- reading the ledger -----------------------------------------------------------------------


def stored_frame(
    engine: Engine, kind: str, year: int, *, as_of_import: int | None = None
) -> pd.DataFrame:
    """Every current row of a register and year, whatever the entity (the report, lineage
    and KPI feeds of the whole group; the web and CLI go through :func:`current_frame`)."""
    register_kind(kind)
    return stored.stored_frame(engine, kind, year, as_of_import=as_of_import)


def current_frame(
    engine: Engine, who: Principal, kind: str, year: int, *, as_of_import: int | None = None
) -> pd.DataFrame:
    """The current rows of a register and year that ``who`` may see, as the file held them
    (strings; in import then file order), with ``_import_id`` and ``_line``. With
    ``as_of_import``, the rows current just after that import (the register's history)."""
    require(who, Permission.VIEW)
    register_kind(kind)
    rows = stored.entries(engine, kind, year, as_of_import=as_of_import)
    if who.scope is not None:
        group_wide = access.is_group_wide(engine, who)
        rows = [r for r in rows if (who.sees(r[2]) if r[2] is not None else group_wide)]
    return stored.entry_frame(rows)


def imports(
    engine: Engine, who: Principal, kind: str | None = None, year: int | None = None
) -> list[dict[str, Any]]:
    """The imports (newest first) whose entities ``who`` may see, with their counts."""
    require(who, Permission.VIEW)
    checked = None if kind is None else register_kind(kind).kind
    rows = stored.imports_newest_first(engine, checked, year)
    out = []
    for row in rows:
        entities = None if row["entities"] is None else json.loads(row["entities"])
        if entities is None and who.scope is not None:
            continue
        if entities is not None and not all(who.sees(e) for e in entities):
            continue
        row["entities"] = entities
        out.append(row)
    return out


def import_rows(engine: Engine, kind: str, year: int) -> list[dict[str, Any]]:
    """Every import of a register and year (no access filter: for lineage of group figures)."""
    return stored.imports_of(engine, register_kind(kind).kind, year)


def years(engine: Engine, kind: str) -> list[int]:
    """The years with a current row of the register."""
    return stored.register_years(engine, register_kind(kind).kind)
