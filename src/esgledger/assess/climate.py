"""The climate risk and opportunity register: entries, validation, heat map, changes, table.

A register is a CSV (the demo's is the seed's 2024 register,
``demo/data/climate_register_seed.csv``), one row per risk or opportunity, validated as a
whole against two packaged tables:

- ``data/climate_taxonomy.csv``: the (type, class, category) triples of TCFD / SZSE17
  Art 59 (physical acute / chronic; transition policy and legal / technology / market /
  reputation; the five TCFD opportunity categories);
- ``data/climate_horizons.csv``: the seed's time horizons (short under one year, medium one to
  five, long over five).

Likelihood and impact are 1-5 scores or empty (not yet assessed: the seed publishes none);
an unscored entry is listed apart by :func:`heat_map`, never placed at 0. Reading is all or
nothing: any located error (``file:row:column: expected ...``) and no entry is returned.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

import pandas as pd

from esgledger.assess.rows import RowCheck, missing_columns, read_csv_strings
from esgledger.assess.topics import read_data_csv
from esgledger.domain.diagnostics import Diagnostic
from esgledger.domain.figure_id import FigureId

__all__ = [
    "REGISTER_COLUMNS",
    "Change",
    "RegisterEntry",
    "heat_map",
    "load_horizons",
    "load_taxonomy",
    "read_register",
    "read_register_frame",
    "register_changes",
    "register_labels",
    "score_lineage",
    "unscored",
]

REGISTER_COLUMNS = (
    "entry_id",
    "year",
    "type",
    "class",
    "category",
    "title",
    "description",
    "value_chain",
    "horizons",
    "likelihood",
    "impact",
    "financial_effect",
    "financial_low_cny",
    "financial_high_cny",
    "responses",
    "owner",
    "review_date",
    "notes",
    "source",
)
OPTIONAL_COLUMNS = ("targets", "measures")
"""Optional columns: ``targets`` (``;``-separated ids of the targets in the ledger,
``esgledger targets import``) and ``measures`` (``;``-separated reduction measures or
projects the entry's responses rely on)."""
VALUE_CHAIN = ("upstream", "operations", "downstream")
SCORES = (1, 2, 3, 4, 5)
"""The likelihood and impact scale (the 1-5 scale of the materiality rule)."""

EntryType = Literal["risk", "opportunity"]
ChangeKind = Literal["added", "removed", "rescored", "horizons"]


@dataclass(frozen=True, slots=True)
class RegisterEntry:
    """One risk or opportunity of a year's register, with the file row it was read from."""

    entry_id: str
    year: int
    type: EntryType
    class_: str
    """The taxonomy class (``physical``, ``transition``, ``opportunity``)."""
    category: str
    title: str
    description: str = ""
    value_chain: tuple[str, ...] = ()
    """``upstream``, ``operations``, ``downstream``; empty when the source does not say."""
    horizons: tuple[str, ...] = ()
    likelihood: int | None = None
    """1-5, or None: not assessed."""
    impact: int | None = None
    financial_effect: str = ""
    financial_low_cny: float | None = None
    financial_high_cny: float | None = None
    responses: str = ""
    owner: str = ""
    review_date: dt.date | None = None
    notes: str = ""
    source: str = ""
    targets: tuple[str, ...] = ()
    """Ids of the ledger's targets the entry is linked to."""
    measures: tuple[str, ...] = ()
    file: str = ""
    row: int = 0

    @property
    def scored(self) -> bool:
        return self.likelihood is not None and self.impact is not None


@dataclass(frozen=True, slots=True)
class Change:
    """One difference between two registers, by ``entry_id``."""

    kind: ChangeKind
    entry_id: str
    before: str = ""
    after: str = ""

    def text(self) -> str:
        if self.kind in ("added", "removed"):
            return f"{self.kind} {self.entry_id}"
        return f"{self.kind} {self.entry_id}: {self.before} -> {self.after}"


@cache
def load_taxonomy() -> tuple[tuple[str, str, str], ...]:
    """The (type, class, category) triples of the packaged ``climate_taxonomy.csv``."""
    frame = read_data_csv("climate_taxonomy.csv")
    return tuple(zip(frame["type"], frame["class"], frame["category"], strict=True))


@cache
def load_horizons() -> tuple[str, ...]:
    """The horizon names of the packaged ``climate_horizons.csv``, shortest first."""
    return tuple(read_data_csv("climate_horizons.csv")["horizon"])


@cache
def register_labels() -> Mapping[str, Mapping[str, str]]:
    """The fixed words of the register table: ``{key: {"en": ..., "zh": ...}}``."""
    frame = read_data_csv("climate_labels.csv")
    return {r["key"]: {"en": r["en"], "zh": r["zh"]} for r in frame.to_dict("records")}


def _split(text: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in text.split(";") if p.strip())


class _RowCheck(RowCheck):
    """The checks of a climate register row: 1-5 scores and amounts in CNY."""

    def score(self, column: str, text: str) -> int | None:
        if not text:
            return None
        try:
            value = int(text)
        except ValueError:
            value = 0
        if value not in SCORES or str(value) != text:
            self.error(
                "score",
                column,
                f"expected an integer score {SCORES[0]}-{SCORES[-1]} or empty, got {text!r}",
            )
            return None
        return value

    def amount(self, column: str, text: str) -> float | None:
        if not text:
            return None
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not (math.isfinite(value) and value >= 0):
            self.error("amount", column, f"expected an amount in CNY >= 0 or empty, got {text!r}")
            return None
        return value


def _check_targets(text: str, check: _RowCheck, known: frozenset[str] | None) -> tuple[str, ...]:
    targets = _split(text)
    if known is None:
        return targets
    for target in targets:
        if target not in known:
            listed = ", ".join(sorted(known)[:8]) if known else "none is entered"
            check.error(
                "target",
                "targets",
                f"expected the id of a target in the ledger ({listed}), got {target!r}",
            )
    return targets


def _check_row(
    row: Mapping[str, str],
    check: _RowCheck,
    taxonomy: Sequence[tuple[str, str, str]],
    horizons: Sequence[str],
    known_targets: frozenset[str] | None,
) -> RegisterEntry | None:
    before = len(check.problems)
    entry_id = row["entry_id"]
    if not entry_id:
        check.error("entry-id", "entry_id", "expected an entry id, got an empty cell")
    try:
        year = int(row["year"])
    except ValueError:
        check.error("year", "year", f"expected a year, got {row['year']!r}")
        year = 0
    kind, klass, category = row["type"], row["class"], row["category"]
    types = tuple(dict.fromkeys(t for t, _, _ in taxonomy))
    if check.choice("type", kind, types, "a type of the climate taxonomy"):
        classes = tuple(dict.fromkeys(c for t, c, _ in taxonomy if t == kind))
        if check.choice("class", klass, classes, f"a class of {kind}"):
            categories = tuple(g for t, c, g in taxonomy if (t, c) == (kind, klass))
            check.choice("category", category, categories, f"a category of {kind}/{klass}")
    chain = _split(row["value_chain"])
    for part in chain:
        check.choice("value_chain", part, VALUE_CHAIN, "a value-chain stage")
    spans = _split(row["horizons"])
    if not spans:
        check.error("horizons", "horizons", f"expected one or more of ({', '.join(horizons)})")
    for span in spans:
        check.choice("horizons", span, horizons, "a time horizon")
    likelihood = check.score("likelihood", row["likelihood"])
    impact = check.score("impact", row["impact"])
    for column, value, other in (
        ("likelihood", row["likelihood"], row["impact"]),
        ("impact", row["impact"], row["likelihood"]),
    ):
        if not value and other:
            check.error("score", column, "expected a score: likelihood and impact go together")
    low = check.amount("financial_low_cny", row["financial_low_cny"])
    high = check.amount("financial_high_cny", row["financial_high_cny"])
    if low is not None and high is not None and low > high:
        check.error("amount", "financial_high_cny", f"expected an amount >= the low {low:g}")
    review = check.date("review_date", row["review_date"])
    targets = _check_targets(row.get("targets", ""), check, known_targets)
    if len(check.problems) > before:
        return None
    return RegisterEntry(
        entry_id=entry_id,
        year=year,
        type="risk" if kind == "risk" else "opportunity",
        class_=klass,
        category=category,
        title=row["title"],
        description=row["description"],
        value_chain=chain,
        horizons=spans,
        likelihood=likelihood,
        impact=impact,
        financial_effect=row["financial_effect"],
        financial_low_cny=low,
        financial_high_cny=high,
        responses=row["responses"],
        owner=row["owner"],
        review_date=review,
        notes=row["notes"],
        source=row["source"],
        targets=targets,
        measures=_split(row.get("measures", "")),
        file=check.file,
        row=check.line,
    )


def read_register(path: Path | str) -> tuple[tuple[RegisterEntry, ...], list[Diagnostic]]:
    """The entries of a register CSV, or diagnostics.

    Every row is checked against the packaged taxonomy and horizons; all problems are
    returned, located ``file:row:column`` (the header is row 1), and then no entry is.
    """
    read, name, problems = read_csv_strings(path, "register")
    if read is None:
        return (), problems
    return read_register_frame(read, name)


def read_register_frame(
    frame: pd.DataFrame, name: str, known_targets: frozenset[str] | None = None
) -> tuple[tuple[RegisterEntry, ...], list[Diagnostic]]:
    """:func:`read_register` of a frame of strings read from the file ``name`` (the rows of a
    register stored in the ledger are checked again this way). ``known_targets``: the ids of
    the ledger's targets, which the ``targets`` column may name (an import checks them); None
    reads the column as written (rows read back keep links to a target removed since)."""
    missing = missing_columns(frame, name, REGISTER_COLUMNS)
    if missing:
        return (), missing
    frame = frame.apply(lambda column: column.str.strip())
    taxonomy, horizons = load_taxonomy(), load_horizons()
    problems: list[Diagnostic] = []
    entries: list[RegisterEntry] = []
    first_row: dict[str, int] = {}
    records: list[dict[str, str]] = frame.to_dict("records")  # type: ignore[assignment]
    for index, row in enumerate(records):
        line = index + 2
        check = _RowCheck(name, line, problems)
        entry_id = row["entry_id"]
        if entry_id in first_row:
            check.error(
                "entry-id",
                "entry_id",
                f"expected a unique entry id, {entry_id!r} is on row {first_row[entry_id]}",
            )
        first_row.setdefault(entry_id, line)
        entry = _check_row(row, check, taxonomy, horizons, known_targets)
        if entry is not None:
            entries.append(entry)
    if problems:
        return (), problems
    return tuple(entries), []


def unscored(entries: Sequence[RegisterEntry]) -> tuple[str, ...]:
    """The ids of the entries without both scores, in register order."""
    return tuple(e.entry_id for e in entries if not e.scored)


def heat_map(entries: Sequence[RegisterEntry]) -> pd.DataFrame:
    """Entry counts by likelihood (index, 1-5) and impact (columns, 1-5).

    Entries without scores are not counted in any cell: their ids are in
    ``frame.attrs["unscored"]`` (the same as :func:`unscored`).
    """
    counts = Counter((e.likelihood, e.impact) for e in entries if e.scored)
    frame = pd.DataFrame(
        [[counts.get((lik, imp), 0) for imp in SCORES] for lik in SCORES],
        index=pd.Index(SCORES, name="likelihood"),
        columns=pd.Index(SCORES, name="impact"),
        dtype="int64",
    )
    frame.attrs["unscored"] = unscored(entries)
    return frame


def _scores(entry: RegisterEntry) -> str:
    def one(value: int | None) -> str:
        return "-" if value is None else str(value)

    return f"likelihood {one(entry.likelihood)}, impact {one(entry.impact)}"


def register_changes(
    previous: Sequence[RegisterEntry], current: Sequence[RegisterEntry]
) -> list[Change]:
    """The changes by ``entry_id``: in the order of ``current`` (added, rescored, horizons),
    then the removed entries in the order of ``previous``."""
    before = {e.entry_id: e for e in previous}
    now = {e.entry_id for e in current}
    changes: list[Change] = []
    for entry in current:
        old = before.get(entry.entry_id)
        if old is None:
            changes.append(Change("added", entry.entry_id))
            continue
        if (old.likelihood, old.impact) != (entry.likelihood, entry.impact):
            changes.append(Change("rescored", entry.entry_id, _scores(old), _scores(entry)))
        if set(old.horizons) != set(entry.horizons):
            changes.append(
                Change("horizons", entry.entry_id, ";".join(old.horizons), ";".join(entry.horizons))
            )
    changes.extend(Change("removed", e.entry_id) for e in previous if e.entry_id not in now)
    return changes


def score_lineage(entry: RegisterEntry, axis: Literal["likelihood", "impact"]) -> str:
    """The lineage id of a score: ``climate:<year>:<entry_id>:<axis>``."""
    return str(FigureId.of("climate", entry.year, entry.entry_id, axis))
