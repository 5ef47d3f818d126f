"""Factor packs: emission factors of the user's own sources, imported into the ledger.

A pack is a CSV with the columns of :data:`COLUMNS`: one factor per row, keyed like the
packaged ones (``key`` as an activity type reads it, ``geography``, ``year``, ``gas``), with
its value, unit and source. The calculation sees them beside the packaged factors of the same
key, with the same resolution (finest geography first, then the exact or nearest earlier
year): a factor of ``grid.location`` for ``SG`` is the grid factor of every Singapore entity;
one for ``CN-HK-CLP`` that of every site in CLP Power's supply area.

A file is imported all or nothing; every row is checked first, with the same rule wherever
it comes from (:func:`check_row`):

* ``factor_id`` is new to the packaged library and unique in the file (the same id again in
  a later import replaces the stored factor);
* ``key`` is read by an activity type (``esgledger factors list --kind types``; purchased
  electricity reads every grid series' keys);
* ``geography`` is a known region (code, name or alias; stored as the code), ``year`` a year,
  ``published`` blank or a date, ``gas`` one of the GWP table's;
* ``unit`` converts to tonnes of gas per the basis unit of each activity type reading the key,
  and the value, converted, lies within :data:`PLAUSIBLE` times the packaged factors of the
  key: outside, it is a unit slip (g typed as kg), not a factor;
* ``source`` is given.

A factor changes the figures of the years it can be resolved for: its year and later, and the
earlier years for which its key has no factor of an earlier year. A change of one of them
that is locked is refused. Every factor written has its audit entry.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from esgledger.auth.accounts import Principal
from esgledger.domain.diagnostics import Diagnostic
from esgledger.domain.errors import Invalid, Rejected
from esgledger.factors import load_library
from esgledger.factors.library import (
    USER_FACTOR_COLUMNS,
    USER_PACK,
    FactorLibrary,
    ef_to_tonnes_per,
    reachable_keys,
    unknown_region,
    with_user_factors,
)
from esgledger.store import ledger as records
from esgledger.store import user_factors as stored
from esgledger.store.engine import LedgerConnection as Connection
from esgledger.store.engine import LedgerEngine as Engine
from esgledger.store.engine import write_transaction
from esgledger.units import UnitError
from esgledger.usecases.csv_files import positive_number, read_rows
from esgledger.usecases.reference import Change, _apply, _Plan, require_group_editor

COLUMNS = USER_FACTOR_COLUMNS
REQUIRED = ("factor_id", "key", "geography", "year", "gas", "value", "unit", "source")
PLAUSIBLE = 5.0
"""A factor is refused outside 1/5 to 5 times the range of the packaged factors of its key."""


class FactorPackRejected(Rejected):
    """A factor pack with problems: nothing of it was written."""

    def __init__(self, problems: Sequence[Diagnostic]) -> None:
        super().__init__("factor pack", problems)


@dataclass(frozen=True, slots=True)
class PackImport:
    """What an import wrote: the factors read and the changes made (unchanged: none)."""

    count: int
    changes: tuple[Change, ...]


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _plausible(library: FactorLibrary, key: str, tonnes: float, basis: str) -> str | None:
    ef = library.emission_factors
    packaged = ef[(ef["key"] == key) & (ef["pack"] != USER_PACK)]
    if packaged.empty:
        return None
    values = [
        float(v) * ef_to_tonnes_per(str(u), basis)
        for v, u in zip(packaged["value"], packaged["unit"], strict=True)
    ]
    low, high = min(values) / PLAUSIBLE, max(values) * PLAUSIBLE
    if low <= tonnes <= high:
        return None
    return (
        f"the value is {tonnes:g} t per {basis}, outside {low:g}-{high:g} (1/{PLAUSIBLE:g} to "
        f"{PLAUSIBLE:g} times the packaged factors of {key}): check the unit"
    )


def _cell_problems(text: Mapping[str, str], library: FactorLibrary) -> list[tuple[str, str]]:
    """Problems of the cells that need no conversion (column, message)."""
    problems = [(c, f"{c} is empty") for c in REQUIRED if not text[c]]
    ef = library.emission_factors
    packaged = set(ef.loc[ef["pack"] != USER_PACK, "factor_id"])
    if text["factor_id"] in packaged:
        problems.append(("factor_id", f"{text['factor_id']!r} is a packaged factor's id"))
    if text["factor_id"] and any(ch.isspace() for ch in text["factor_id"]):
        problems.append(("factor_id", "factor_id has a space"))
    keys = reachable_keys(library)
    if text["key"] and text["key"] not in keys:
        problems.append(
            (
                "key",
                f"no activity type reads key {text['key']!r} (one of {', '.join(sorted(keys))})",
            )
        )
    if text["geography"] and library.normalise_region(text["geography"]) is None:
        problems.append(("geography", unknown_region(text["geography"])))
    year = text["year"]
    if year and not (year.isdigit() and 1990 <= int(year) <= 2100):
        problems.append(("year", f"year {year!r} is not a year (YYYY)"))
    if text["published"] and _date(text["published"]) is None:
        problems.append(("published", f"published {text['published']!r} is not a date YYYY-MM-DD"))
    gases = sorted(set(library.gwp["gas"]))
    if text["gas"] and text["gas"] not in gases:
        problems.append(("gas", f"unknown gas {text['gas']!r}: one of {', '.join(gases)}"))
    if text["value"] and positive_number(text["value"]) is None:
        problems.append(("value", f"value {text['value']!r} is not a positive number"))
    return problems


def check_row(
    cells: Mapping[str, str], library: FactorLibrary
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The factor to store and its problems as (column, message); nothing to store when there
    is a problem."""
    text = {c: str(cells.get(c) or "").strip() for c in COLUMNS}
    problems = _cell_problems(text, library)
    if problems:
        return {}, problems
    value = positive_number(text["value"])
    assert value is not None  # checked above
    for name in reachable_keys(library)[text["key"]]:
        basis = str(library.type_rows[name]["basis_unit"])
        try:
            tonnes = value * ef_to_tonnes_per(text["unit"], basis)
        except UnitError as exc:
            return {}, [("unit", f"unit {text['unit']!r} for {name} (per {basis}): {exc}")]
        if why := _plausible(library, text["key"], tonnes, basis):
            return {}, [("value", why)]
    published = _date(text["published"]) if text["published"] else None
    row = {
        "factor_id": text["factor_id"],
        "key": text["key"],
        "geography": library.normalise_region(text["geography"]),
        "year": int(text["year"]),
        "published": published,
        "gas": text["gas"],
        "value": value,
        "value_text": text["value"],
        "unit": text["unit"],
        "source": text["source"],
        "edition": text["edition"] or None,
        "notes": text["notes"] or None,
    }
    return row, []


def _years(conn: Connection, library: FactorLibrary, key: str, year: int) -> frozenset[int]:
    """The years with data whose figures a factor of ``key`` and ``year`` can enter: its year
    and later, and earlier years without a factor of the key of an earlier year."""
    known = [c.year for c in library.ef_index.get(key, ())]
    return frozenset(
        y for y in records.data_years(conn) if y >= year or not any(k <= y for k in known)
    )


def _write(
    conn: Connection, who: Principal, library: FactorLibrary, row: Mapping[str, Any]
) -> Change:
    before = stored.user_factor_row(conn, str(row["factor_id"]))
    after = {
        k: (row[k].isoformat() if k == "published" and row[k] else row[k]) for k in stored.SHOWN
    }
    plan = _Plan(
        what=f"factor {row['factor_id']} ({row['key']} {row['geography']} {row['year']})",
        why="it can be resolved for these years; give the factor of a year that is not locked",
        action="set",
        object_type="user_factor",
        object_id=str(row["factor_id"]),
        before=before,
        after=after,
        years=_years(conn, library, str(row["key"]), int(row["year"])),
    )
    fields = {**row, "entered_by": who.username}
    return _apply(conn, who, plan, lambda: stored.write_user_factor(conn, **fields))


def import_factor_pack(engine: Engine, who: Principal, text: str, name: str) -> PackImport:
    """Set every factor of a pack CSV, all or nothing; every problem located
    ``file:row:column`` (:class:`FactorPackRejected`)."""
    rows, problems = read_rows(text, name, COLUMNS, REQUIRED, "factor-pack")
    if problems:
        raise FactorPackRejected(problems)
    with write_transaction(engine) as conn:
        require_group_editor(conn, who, "a factor pack")
        library = with_user_factors(load_library(), stored.user_factors(conn))
        checked: list[dict[str, Any]] = []
        seen: dict[str, int] = {}
        for number, cells in rows:
            row, found = check_row(cells, library)
            problems += [
                Diagnostic("factor-pack", m, file=name, row=number, column=c) for c, m in found
            ]
            factor_id = str(cells.get("factor_id") or "").strip()
            if factor_id in seen:
                problems.append(
                    Diagnostic(
                        "factor-pack",
                        f"factor_id {factor_id!r} is also row {seen[factor_id]}",
                        file=name,
                        row=number,
                        column="factor_id",
                    )
                )
            seen.setdefault(factor_id, number)
            if row:
                checked.append(row)
        if problems:
            raise FactorPackRejected(problems)
        changes = [_write(conn, who, library, row) for row in checked]
    return PackImport(len(checked), tuple(c for c in changes if c.seq is not None))


def remove_user_factor(engine: Engine, who: Principal, factor_id: str) -> Change:
    """Remove a factor of the ledger's packs (the packaged factors apply again)."""
    with write_transaction(engine) as conn:
        require_group_editor(conn, who, "a factor pack")
        before = stored.user_factor_row(conn, factor_id)
        if before is None:
            raise Invalid(f"no factor {factor_id!r} in the ledger's factor packs")
        library = with_user_factors(load_library(), stored.user_factors(conn))
        plan = _Plan(
            what=f"removing factor {factor_id}",
            why="it can be resolved for these years",
            action="delete",
            object_type="user_factor",
            object_id=factor_id,
            before=before,
            after={},
            years=_years(conn, library, str(before["key"]), int(before["year"])),
        )
        return _apply(conn, who, plan, lambda: stored.delete_user_factor(conn, factor_id))


def factor_pack_csv(rows: Iterable[Mapping[str, Any]]) -> str:
    """The ledger's factors as a pack file (the values as entered)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        published = row["published"]
        writer.writerow(
            [
                row["factor_id"],
                row["key"],
                row["geography"],
                int(row["year"]),
                published.isoformat() if isinstance(published, date) else (published or ""),
                row["gas"],
                row["value_text"],
                row["unit"],
                row["source"],
                row["edition"] or "",
                row["notes"] or "",
            ]
        )
    return out.getvalue()
