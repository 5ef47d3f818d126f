"""The carbon ledger's rules: an entity's verified emissions and its allowance account, as
hash-chained postings. Pure: postings (rows or a frame) in, checks and balances out; reading
and appending them (with the permission, entity scope and audit log) are the use cases of
:mod:`esgledger.usecases.carbon_ledger`.

Postings (``carbon_posting``) are of these kinds:

- ``emissions`` (unit ``tCO2e``): the verified emissions of a compliance year, posted from an
  inventory (:func:`inventory_emissions`: the entity's scope totals of the year, the lineage
  ids ``ghg:<year>:<scope>:<entity>`` kept with the posting; posted by
  :func:`esgledger.usecases.carbon_ledger.post_emissions`) or entered (an external
  verification); ``adjustment``: a signed correction of them, with its reason;
- ``allocation``, ``purchase``, ``sale``, ``surrender``, ``retire`` of units ``CEA``
  (allowances, with their vintage) and ``CCER`` (offsets, with their vintage): allocation
  and purchase add to the holding of that unit and vintage, sale, surrender (for a compliance
  year) and voluntary retirement take from it.

Rules (``data/rules.csv``, with sources): a sale, surrender or retirement larger than the
holding of that unit and vintage is refused; allowances of a later vintage cannot be
surrendered for an earlier year (no borrowing); offsets may cover at most a share of the
year's verified emissions (5 % in the national ETS); no unit is surrendered for a year whose
verified emissions are not posted. The compliance gap of a year is its verified emissions
minus the units surrendered for it that count (positive: units still to surrender): offsets
beyond the limit, e.g. after a downward adjustment of the emissions, do not count and are
flagged (:func:`compliance_flags`).

Every posting is chained: its hash is the SHA-256 of its fields and the previous posting's
hash, so :func:`chain_problems` finds an edited, deleted or reordered posting; each posting
is also written to the audit log with its hash, so deleting the newest postings is found
against the (audit-headed) log. Postings are only appended: a mistake is corrected by a new
posting.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from importlib import resources
from io import StringIO
from typing import TYPE_CHECKING, Any

import pandas as pd

from esgledger.domain.errors import Conflict, Invalid

if TYPE_CHECKING:
    from esgledger.calc import InventoryResult

__all__ = [
    "EMISSION_KINDS",
    "GENESIS",
    "KINDS",
    "SCOPES",
    "SIGN",
    "TAKING",
    "UNITS",
    "UNIT_KINDS",
    "Problem",
    "Rules",
    "chain_problems",
    "check_posting",
    "check_scopes",
    "compliance_flags",
    "compliance_of",
    "finite_number",
    "holdings_of",
    "inventory_emissions",
    "load_rules",
    "posting_frame",
    "posting_hash",
    "validate_posting",
]

GENESIS = "0" * 64
"""The ``prev_hash`` of the first posting."""

UNITS = ("CEA", "CCER", "tCO2e")
SIGN = {
    "emissions": 1,
    "adjustment": 1,
    "allocation": 1,
    "purchase": 1,
    "sale": -1,
    "surrender": -1,
    "retire": -1,
}
"""Kinds and the sign their (positive) quantity takes in a balance; an adjustment carries its
own sign."""
KINDS = tuple(SIGN)
EMISSION_KINDS = ("emissions", "adjustment")
UNIT_KINDS = ("allocation", "purchase", "sale", "surrender", "retire")
TAKING = ("sale", "surrender", "retire")
SCOPES = ("S1", "S2L", "S2M", "S3")
_SCOPE_TOTALS = {"S1": "scope1", "S2L": "scope2_location", "S2M": "scope2_market", "S3": "scope3"}


@dataclass(frozen=True, slots=True)
class Rules:
    offset_max_share: float
    borrowing: bool


@cache
def load_rules() -> Rules:
    text = resources.files("esgledger.trading").joinpath("data", "rules.csv").read_text("utf-8")
    frame = pd.read_csv(StringIO(text), dtype=str, keep_default_na=False)
    value = dict(zip(frame["parameter"], frame["value"], strict=True))
    share = float(value["offset.max_share"])
    if not 0 <= share <= 1:
        raise ValueError(f"rules.csv: offset.max_share {share}: expected a share 0-1")
    return Rules(offset_max_share=share, borrowing=value["cea.borrowing"] == "yes")


# -- the chain --------------------------------------------------------------------------------


def posting_hash(row: Mapping[str, Any]) -> str:
    """SHA-256 of a posting's fields (all but ``hash``) in a fixed layout."""
    at = row["posted_at"]
    fields = {
        "seq": int(row["seq"]),
        "entity_id": row["entity_id"],
        "kind": row["kind"],
        "unit_type": row["unit_type"],
        "vintage": None if row["vintage"] is None else int(row["vintage"]),
        "compliance_year": None if row["compliance_year"] is None else int(row["compliance_year"]),
        "quantity": repr(float(row["quantity"])),
        "price_cny": None if row["price_cny"] is None else repr(float(row["price_cny"])),
        "lineage": row["lineage"],
        "reference": row["reference"],
        "note": row["note"],
        "posted_by": row["posted_by"],
        "posted_at": at.isoformat(timespec="microseconds") if isinstance(at, datetime) else at,
        "prev_hash": row["prev_hash"],
    }
    text = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class Problem:
    seq: int | None
    message: str

    def __str__(self) -> str:
        where = "carbon ledger" if self.seq is None else f"carbon posting {self.seq}"
        return f"{where}: {self.message}"


def chain_problems(rows: Sequence[Mapping[str, Any]], logged: Mapping[int, str]) -> list[Problem]:
    """Recompute the chain of ``rows`` (the postings, by ``seq``: every hash, every link, no
    gap in the sequence) and compare it with ``logged``, the hash the audit log recorded for
    each posting's ``seq`` when it was made."""
    problems: list[Problem] = []
    prev, expected = GENESIS, 1
    for row in rows:
        seq = int(row["seq"])
        if seq != expected:
            problems.append(Problem(seq, f"sequence jumps from {expected - 1} to {seq}: deleted"))
        if row["prev_hash"] != prev:
            problems.append(Problem(seq, "does not follow the previous posting: deleted or moved"))
        if posting_hash(row) != row["hash"]:
            problems.append(Problem(seq, "content does not match its hash: modified"))
        prev, expected = str(row["hash"]), seq + 1
    stored = {int(r["seq"]): str(r["hash"]) for r in rows}
    for seq, digest in sorted(logged.items()):
        if seq not in stored:
            problems.append(Problem(seq, "in the audit log but not in the ledger: deleted"))
        elif stored[seq] != digest:
            problems.append(Problem(seq, "hash differs from the one in the audit log: rewritten"))
    for seq in sorted(set(stored) - set(logged)):
        problems.append(Problem(seq, "not in the audit log: inserted outside esgledger"))
    return problems


# -- balances ---------------------------------------------------------------------------------


def posting_frame(rows: Iterable[Mapping[str, Any]], columns: Sequence[str]) -> pd.DataFrame:
    """The postings ``rows`` (with ``columns``) as a frame, with their ``signed`` quantity."""
    frame = pd.DataFrame([dict(r) for r in rows], columns=list(columns))
    frame["signed"] = frame["quantity"].astype(float) * frame["kind"].map(SIGN).astype(float)
    return frame


def holdings_of(frame: pd.DataFrame) -> pd.DataFrame:
    """Units held by entity, unit type and vintage in a postings frame (allocations and
    purchases less sales, surrenders and retirements)."""
    units = frame[frame["kind"].isin(UNIT_KINDS)]
    if units.empty:
        return pd.DataFrame(columns=["entity_id", "unit_type", "vintage", "held"])
    grouped = units.groupby(["entity_id", "unit_type", "vintage"])["signed"].sum()
    return grouped.rename("held").reset_index()


def compliance_of(frame: pd.DataFrame, year: int) -> dict[str, float]:
    """Verified emissions of ``year`` in a postings frame (adjustments included), units
    surrendered for it (CEA and CCER), the most offsets may cover (``offset_limit``), the
    offsets surrendered beyond it (``ccer_over_limit``: after a downward adjustment, say; they
    do not count) and the gap: emissions − (CEA + the offsets that count)."""
    of_year = frame[frame["compliance_year"] == year]
    emissions = float(of_year.loc[of_year["kind"].isin(EMISSION_KINDS), "signed"].sum())
    surrendered = of_year[of_year["kind"] == "surrender"]
    cea = float(surrendered.loc[surrendered["unit_type"] == "CEA", "quantity"].sum())
    ccer = float(surrendered.loc[surrendered["unit_type"] == "CCER", "quantity"].sum())
    limit = load_rules().offset_max_share * max(emissions, 0.0)
    counted = min(ccer, limit)
    return {
        "year": year,
        "verified_emissions": emissions,
        "surrendered_cea": cea,
        "surrendered_ccer": ccer,
        "surrendered": cea + ccer,
        "gap": emissions - (cea + counted),
        "offset_limit": limit,
        "ccer_over_limit": ccer - counted,
    }


def compliance_flags(status: Mapping[str, float]) -> list[str]:
    """What needs attention in a year's status (:func:`compliance_of`), as sentences."""
    over = float(status["ccer_over_limit"])
    if over <= 1e-9:
        return []
    return [
        f"CCER surrendered for {int(status['year'])} ({status['surrendered_ccer']:,.2f} t) "
        f"exceed the limit {status['offset_limit']:,.2f} t "
        f"({load_rules().offset_max_share:.0%} of {status['verified_emissions']:,.2f} t "
        f"verified): {over:,.2f} t do not count and are part of the gap (surrender CEA)"
    ]


# -- a new posting -----------------------------------------------------------------------------


def finite_number(value: float, what: str) -> float:
    """``value`` as a float; refused (:class:`Invalid`) unless a finite number."""
    if isinstance(value, bool) or not math.isfinite(float(value)):
        raise Invalid(f"{what} {value!r}: expected a finite number")
    return float(value)


def check_posting(
    frame: pd.DataFrame,
    entity_id: str,
    kind: str,
    unit_type: str,
    vintage: int | None,
    year: int | None,
    quantity: float,
) -> None:
    """Refuse (:class:`Conflict`) a posting of ``entity_id`` the rules forbid given the
    postings so far (``frame``; module doc), naming the figures at stake."""
    rules = load_rules()
    mine = frame[frame["entity_id"] == entity_id]
    if kind in TAKING:
        held = mine[
            (mine["kind"].isin(UNIT_KINDS))
            & (mine["unit_type"] == unit_type)
            & (mine["vintage"] == vintage)
        ]["signed"].sum()
        if quantity > float(held) + 1e-9:
            raise Conflict(
                f"{entity_id} holds {float(held):,.2f} {unit_type} of vintage {vintage}: "
                f"cannot {kind} {quantity:,.2f}"
            )
    if kind != "surrender" or year is None:
        return
    if compliance_of(mine, year)["verified_emissions"] <= 0:
        raise Conflict(
            f"no verified emissions of {year} posted for {entity_id}: a surrender covers "
            "them, so post them first (esgledger carbon post-emissions)"
        )
    if unit_type == "CEA" and vintage is not None and vintage > year and not rules.borrowing:
        raise Conflict(
            f"CEA of vintage {vintage} cannot be surrendered for {year}: no borrowing of "
            "later allowances (rules.csv cea.borrowing)"
        )
    if unit_type == "CCER":
        status = compliance_of(mine, year)
        if status["surrendered_ccer"] + quantity > status["offset_limit"] + 1e-9:
            raise Conflict(
                f"CCER for {year} would reach {status['surrendered_ccer'] + quantity:,.2f} t, "
                f"over the limit {status['offset_limit']:,.2f} t "
                f"({rules.offset_max_share:.0%} of {status['verified_emissions']:,.2f} t)"
            )


def validate_posting(
    kind: str,
    unit_type: str,
    vintage: int | None,
    year: int | None,
    quantity: float,
    price_cny: float | None,
    note: str,
) -> None:
    """Refuse (:class:`Invalid`) a posting whose fields do not fit its kind, naming them all."""
    problems = []
    if kind not in KINDS:
        problems.append(f"kind {kind!r}: expected one of {', '.join(KINDS)}")
    elif kind in EMISSION_KINDS:
        if unit_type != "tCO2e":
            problems.append(f"unit {unit_type!r}: emissions are in tCO2e")
        if year is None:
            problems.append("compliance_year: expected the year the emissions are of")
        if kind == "adjustment" and not note.strip():
            problems.append("note: an adjustment needs its reason")
    else:
        if unit_type not in ("CEA", "CCER"):
            problems.append(f"unit {unit_type!r}: expected CEA or CCER")
        if vintage is None:
            problems.append("vintage: expected the year the units were issued for")
        if kind == "surrender" and year is None:
            problems.append("compliance_year: expected the year the units are surrendered for")
    if kind != "adjustment" and quantity <= 0:
        problems.append(f"quantity {quantity:g}: expected a positive quantity")
    if price_cny is not None and price_cny < 0:
        problems.append(f"price_cny {price_cny:g}: expected a price >= 0")
    if problems:
        raise Invalid("; ".join(problems))


def check_scopes(scopes: Sequence[str]) -> None:
    """Refuse (:class:`Invalid`) scopes that would count emissions twice or are unknown."""
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown or not scopes or len(set(scopes)) != len(scopes):
        raise Invalid(
            f"scopes {list(scopes)}: expected some of {', '.join(SCOPES)}, each at most once"
        )
    if "S2L" in scopes and "S2M" in scopes:
        raise Invalid("scopes: S2L and S2M are two measures of one scope 2: expected one")


def inventory_emissions(
    inventory: InventoryResult, entity_id: str, year: int, scopes: Sequence[str]
) -> tuple[float, str]:
    """The emissions of ``entity_id`` in ``year`` and ``scopes`` in ``inventory`` (one covering
    the year) and the lineage ids of their scope totals; refused (:class:`Invalid`,
    :class:`Conflict`) for scopes that would count emissions twice or when there are none."""
    check_scopes(scopes)
    totals = inventory.scope_totals(year, entity_id=entity_id)
    quantity = float(sum(totals.get(_SCOPE_TOTALS[s], 0.0) or 0.0 for s in scopes))
    if quantity <= 0:
        raise Conflict(
            f"the inventory has no {'+'.join(scopes)} emissions of {entity_id} in {year}"
        )
    return quantity, ";".join(f"ghg:{year}:{s}:{entity_id}" for s in scopes)
