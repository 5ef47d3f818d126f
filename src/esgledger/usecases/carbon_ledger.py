"""The carbon ledger's use cases: read the postings an account may see, append one after
checking it against the rules, verify the hash chain against the audit log.

The rules, the chain and the balances are the pure library :mod:`esgledger.trading.ledger`;
this module reads and writes ``carbon_posting`` through :mod:`esgledger.store.carbon_ledger`,
checks the caller's permission and entity scope on every call and writes each posting to the
audit log with its hash. Postings are only appended: a mistake is
corrected by a new posting.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from esgledger import audit
from esgledger.auth.access import require
from esgledger.auth.accounts import Principal
from esgledger.auth.roles import Permission
from esgledger.domain.errors import Forbidden, NotFound
from esgledger.store import carbon_ledger as stored
from esgledger.store.engine import LedgerConnection as Connection
from esgledger.store.engine import LedgerEngine as Engine
from esgledger.store.engine import now as utc_now
from esgledger.store.engine import write_transaction
from esgledger.trading.ledger import (
    GENESIS,
    Problem,
    chain_problems,
    check_posting,
    check_scopes,
    compliance_flags,
    compliance_of,
    finite_number,
    holdings_of,
    inventory_emissions,
    posting_frame,
    posting_hash,
    validate_posting,
)

if TYPE_CHECKING:
    from esgledger.calc import InventoryResult
    from esgledger.store.ledger import Ledger

__all__ = [
    "compliance",
    "holdings",
    "positions",
    "post",
    "post_emissions",
    "post_inventory_emissions",
    "postings",
    "verify",
]

AUDIT_TYPE = "carbon_posting"


def verify(engine: Engine) -> list[Problem]:
    """Recompute the chain (every hash, every link, no gap in the sequence) and compare it
    with the audit log, which recorded each posting's hash when it was made."""
    rows = stored.posting_rows(engine)
    logged = {
        int(e["object_id"]): json.loads(e["after"])["hash"]
        for e in stored.audit_entries(engine, AUDIT_TYPE)
        if e["action"] == "post"
    }
    return chain_problems(rows, logged)


# -- reading ----------------------------------------------------------------------------------


def _frame(bind: Engine | Connection, entity_id: str | None = None) -> pd.DataFrame:
    return posting_frame(stored.posting_rows(bind, entity_id), list(stored.COLUMNS))


def _sees(who: Principal, entity_id: str, engine: Engine | None = None) -> None:
    """NotFound unless ``who`` sees the entity and (given the engine) the ledger has it."""
    if not who.sees(entity_id):
        raise NotFound(f"no entity {entity_id!r}")
    if engine is not None and not stored.has_entity(engine, entity_id):
        raise NotFound(f"no entity {entity_id!r} in the ledger")


def postings(engine: Engine, who: Principal, entity_id: str | None = None) -> pd.DataFrame:
    """The postings ``who`` may see (of one entity, or of all they see), oldest first."""
    require(who, Permission.VIEW)
    if entity_id is not None:
        _sees(who, entity_id, engine)
    frame = _frame(engine, entity_id)
    visible = frame["entity_id"].map(who.sees).astype(bool)
    return frame.loc[visible].reset_index(drop=True)


def holdings(engine: Engine, who: Principal, entity_id: str) -> pd.DataFrame:
    """Units held by unit type and vintage (allocations and purchases less sales,
    surrenders and retirements)."""
    return holdings_of(postings(engine, who, entity_id))


def compliance(engine: Engine, who: Principal, entity_id: str, year: int) -> dict[str, float]:
    """Verified emissions of ``year``, units surrendered for it (CEA and CCER), the gap
    (emissions − surrendered) and the most offsets may still cover."""
    return compliance_of(postings(engine, who, entity_id), year)


def positions(engine: Engine, who: Principal, entities: Iterable[str], year: int) -> pd.DataFrame:
    """Per entity: holdings by unit and the compliance status of ``year`` (a table)."""
    rows = []
    for entity in entities:
        status = compliance(engine, who, entity, year)
        held = holdings(engine, who, entity)
        rows.append(
            {
                "entity_id": entity,
                **status,
                "cea_held": float(held.loc[held["unit_type"] == "CEA", "held"].sum()),
                "ccer_held": float(held.loc[held["unit_type"] == "CCER", "held"].sum()),
                "flag": "; ".join(compliance_flags(status)),
            }
        )
    return pd.DataFrame(rows)


# -- writing ----------------------------------------------------------------------------------


def post(
    engine: Engine,
    who: Principal,
    entity_id: str,
    kind: str,
    quantity: float,
    *,
    unit_type: str = "tCO2e",
    vintage: int | None = None,
    compliance_year: int | None = None,
    price_cny: float | None = None,
    lineage: str = "",
    reference: str = "",
    note: str = "",
) -> int:
    """Append one posting after checking it against the rules; returns its sequence number."""
    require(who, Permission.EDIT)
    quantity = finite_number(quantity, "quantity")
    price = None if price_cny is None else finite_number(price_cny, "price_cny")
    validate_posting(kind, unit_type, vintage, compliance_year, quantity, price, note)
    with write_transaction(engine) as conn:
        if not stored.has_entity(conn, entity_id):
            raise NotFound(f"no entity {entity_id!r}")
        if not who.sees(entity_id):
            raise Forbidden(f"{who.username} may not post for {entity_id}")
        stored.lock_postings(conn)
        frame = _frame(conn, entity_id)
        check_posting(frame, entity_id, kind, unit_type, vintage, compliance_year, quantity)
        last = stored.last_posting(conn)
        seq, prev = (1, GENESIS) if last is None else (last[0] + 1, last[1])
        row: dict[str, Any] = {
            "seq": seq,
            "entity_id": entity_id,
            "kind": kind,
            "unit_type": unit_type,
            "vintage": vintage,
            "compliance_year": compliance_year,
            "quantity": quantity,
            "price_cny": price,
            "lineage": lineage,
            "reference": reference,
            "note": note,
            "posted_by": who.username,
            "posted_at": utc_now(),
            "prev_hash": prev,
        }
        row["hash"] = posting_hash(row)
        stored.insert_posting(conn, row)
        audit.append(
            conn,
            who.username,
            "post",
            AUDIT_TYPE,
            seq,
            entity_id=entity_id,
            after={k: v for k, v in row.items() if k not in ("posted_at", "prev_hash")},
        )
    return seq


def post_emissions(
    engine: Engine,
    who: Principal,
    entity_id: str,
    year: int,
    scopes: Sequence[str] = ("S1", "S2L"),
    *,
    inventory: InventoryResult,
    reference: str = "",
) -> int:
    """Post the entity's emissions of ``year`` in ``scopes`` (default scope 1 and
    location-based scope 2, the emissions an ETS covers) of ``inventory`` (one covering the
    year) as its verified emissions, with the lineage ids of the scope totals."""
    quantity, lineage = inventory_emissions(inventory, entity_id, year, scopes)
    return post(
        engine,
        who,
        entity_id,
        "emissions",
        quantity,
        compliance_year=year,
        lineage=lineage,
        reference=reference or f"inventory {inventory.library_version}",
        note=f"{' + '.join(scopes)} of the inventory",
    )


def post_inventory_emissions(
    ledger: Ledger,
    who: Principal,
    entity_id: str,
    year: int,
    scopes: Sequence[str] = ("S1", "S2L"),
    *,
    reference: str = "",
) -> int:
    """Post an entity's emissions of ``year`` in ``scopes`` as its verified emissions
    (:func:`post_emissions`) from the ledger's inventory of the year in its stored settings;
    the scopes are checked before the inventory is computed."""
    from esgledger import service  # noqa: PLC0415 (heavy import, only when posting)

    check_scopes(scopes)
    inventory = service.run_inventory(ledger, service.settings_from_ledger(ledger, years=(year,)))
    return post_emissions(
        ledger.engine, who, entity_id, year, scopes, inventory=inventory, reference=reference
    )
