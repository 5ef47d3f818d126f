"""The hash-chained audit log: the hash layouts by hand (plain SHA-256 of the entries written
before the key, HMAC-SHA256 of keyed ones), and every tampering that verification must catch
(edits, deletions in the middle and at the end, a rewritten head, reordering), as examples and
as a property; concurrent appends keep one chain. The anchor outside the database (key file,
checkpoints) is tested in test_anchor.py and test_key.py."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Callable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, create_engine, delete, select, update
from sqlalchemy.pool import StaticPool

from esgledger import audit
from esgledger.store.audit_key import anchor_of, verifying_keys
from esgledger.store.audit_log import AUDIT, GENESIS, HEAD, canonical, entry_hash, entry_mac
from esgledger.store.engine import write_transaction
from esgledger.store.ledger import Ledger

FIELDS = ("at", "actor", "action", "object_type", "object_id", "entity_id", "before", "after")


# -- the layout, by hand --------------------------------------------------------------------


def test_entry_hash_known_answer() -> None:
    """The documented layout: the entry's fields but ``hash`` as JSON with sorted keys, no
    spaces, non-ASCII kept; ``at`` in ISO form with microseconds; SHA-256 of its UTF-8."""
    entry = {
        "seq": 7,
        "at": datetime(2025, 3, 4, 5, 6, 7, 89),
        "actor": "王丽",
        "action": "set_value",
        "object_type": "request_value",
        "object_id": "12/energy.electricity_purchased",
        "entity_id": "S01",
        "before": None,
        "after": '{"unit":"MWh","value_text":"1,234.5"}',
        "prev_hash": "ab" * 32,
    }
    text = (
        '{"action":"set_value","actor":"王丽",'
        '"after":"{\\"unit\\":\\"MWh\\",\\"value_text\\":\\"1,234.5\\"}",'
        '"at":"2025-03-04T05:06:07.000089","before":null,"entity_id":"S01",'
        '"object_id":"12/energy.electricity_purchased","object_type":"request_value",'
        f'"prev_hash":"{"ab" * 32}","seq":7}}'
    )
    by_hand = hashlib.sha256(text.encode("utf-8")).hexdigest()
    assert entry_hash(entry) == by_hand
    assert by_hand == "da25100cf0a69ee7307dfa464097eb5d5557a45def21f66f95597efdde53d878"
    assert entry_hash({**entry, "at": "2025-03-04T05:06:07.000089"}) == by_hand


def test_canonical_json_of_before_and_after() -> None:
    value = {"b": [1, 2.5], "a": date(2025, 6, 30), "中": "文"}
    assert canonical(value) == '{"a":"2025-06-30","b":[1,2.5],"中":"文"}'
    assert canonical(None) is None
    with pytest.raises(TypeError):
        canonical({"x": object()})


def memory_engine() -> Engine:
    engine = create_engine(
        "sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False}
    )
    AUDIT.create(engine)
    HEAD.create(engine)
    return engine


def append(engine: Engine, n: int, start: int = 0) -> None:
    with engine.begin() as conn:
        for i in range(start, start + n):
            audit.append(
                conn,
                f"user{i % 3}",
                "set_value",
                "request_value",
                f"{i}/m",
                entity_id=None if i % 4 == 0 else f"S0{1 + i % 2}",
                before=None if i == 0 else {"value_text": str(i - 1)},
                after={"value_text": str(i), "at": datetime(2025, 1, 1, i % 24)},
            )


def rows(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(AUDIT).order_by(AUDIT.c.seq)).mappings()]


def test_entry_mac_known_answer() -> None:
    """A keyed entry: the same layout with ``key_id`` added, HMAC-SHA256 under the key."""
    entry = {
        "seq": 1,
        "at": datetime(2026, 1, 2, 3, 4, 5, 6),
        "actor": "alice",
        "action": "lock",
        "object_type": "period",
        "object_id": "2025",
        "entity_id": None,
        "before": None,
        "after": '{"locked":true}',
        "prev_hash": GENESIS,
        "key_id": "0a1b2c3d",
    }
    text = (
        '{"action":"lock","actor":"alice","after":"{\\"locked\\":true}",'
        '"at":"2026-01-02T03:04:05.000006","before":null,"entity_id":null,'
        f'"key_id":"0a1b2c3d","object_id":"2025","object_type":"period","prev_hash":"{GENESIS}",'
        '"seq":1}'
    )
    key = bytes(range(32))
    by_hand = hmac.new(key, text.encode("utf-8"), hashlib.sha256).hexdigest()
    assert entry_mac(entry, key) == by_hand
    assert by_hand == "2af537629ce4dd5db7631982dcbcc07922516c248103f528cfbd80e74836540c"
    assert entry_mac({**entry, "key_id": "ffffffff"}, key) != by_hand  # the key id is covered
    assert entry_hash(entry) != by_hand


def test_appended_entries_hash_as_documented() -> None:
    engine = memory_engine()
    append(engine, 3)
    stored = rows(engine)
    keys = verifying_keys(anchor_of(engine.url))
    prev = GENESIS
    for row in stored:
        fields = {k: row[k] for k in ("seq", *FIELDS, "prev_hash", "key_id")}
        fields["at"] = row["at"].isoformat(timespec="microseconds")
        layout = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        key = keys[row["key_id"]]
        text = hmac.new(key, layout.encode("utf-8"), hashlib.sha256).hexdigest()
        assert row["prev_hash"] == prev
        assert row["hash"] == text
        prev = row["hash"]
    result = audit.verify(engine)
    assert result.ok
    assert (result.entries, result.head_seq, result.head_hash) == (3, 3, prev)


# -- tampering ------------------------------------------------------------------------------

Tamper = Callable[[Engine, int], None]


def edit_after(engine: Engine, seq: int) -> None:
    with engine.begin() as conn:
        conn.execute(update(AUDIT).where(AUDIT.c.seq == seq).values(after='{"value_text":"9"}'))


def delete_entry(engine: Engine, seq: int) -> None:
    with engine.begin() as conn:
        conn.execute(delete(AUDIT).where(AUDIT.c.seq == seq))


def delete_last_and_rewrite_head(engine: Engine, seq: int) -> None:
    """Delete the newest entry and make the head point at the one before: consistent."""
    with engine.begin() as conn:
        conn.execute(delete(AUDIT).where(AUDIT.c.seq == seq))
        prev = conn.execute(select(AUDIT.c.seq, AUDIT.c.hash).where(AUDIT.c.seq == seq - 1)).one()
        conn.execute(update(HEAD).values(seq=prev.seq, hash=prev.hash))


def swap(engine: Engine, first: int, second: int) -> None:
    """Exchange two entries' contents (a reordering), hashes included."""
    columns = [c for c in AUDIT.columns if c.name != "seq"]
    with engine.begin() as conn:
        one = conn.execute(select(*columns).where(AUDIT.c.seq == first)).one()._asdict()
        two = conn.execute(select(*columns).where(AUDIT.c.seq == second)).one()._asdict()
        # the hash column is unique: park one row's hash while swapping
        conn.execute(update(AUDIT).where(AUDIT.c.seq == first).values(hash="parked"))
        conn.execute(update(AUDIT).where(AUDIT.c.seq == second).values(**one))
        conn.execute(update(AUDIT).where(AUDIT.c.seq == first).values(**two))


def test_intact_log_verifies() -> None:
    engine = memory_engine()
    assert audit.verify(engine).ok  # empty
    append(engine, 5)
    assert audit.verify(engine).ok


def test_an_edited_entry_is_named() -> None:
    engine = memory_engine()
    append(engine, 5)
    edit_after(engine, 3)
    problems = audit.verify(engine).problems
    assert [(p.seq, "modified" in p.message) for p in problems] == [(3, True)]
    assert str(problems[0]).startswith("audit entry 3:")


def test_a_deleted_middle_entry_is_named() -> None:
    engine = memory_engine()
    append(engine, 5)
    delete_entry(engine, 3)
    problems = audit.verify(engine).problems
    assert {p.seq for p in problems} == {4}
    assert any("jumps from 2 to 4" in p.message for p in problems)


def test_a_deleted_last_entry_is_caught_by_the_head() -> None:
    engine = memory_engine()
    append(engine, 5)
    delete_entry(engine, 5)
    problems = audit.verify(engine).problems
    assert len(problems) == 1
    assert problems[0].seq is None
    assert "ends at entry 4" in problems[0].message


def test_a_rewritten_head_is_caught_only_by_a_saved_head() -> None:
    engine = memory_engine()
    append(engine, 5)
    saved = audit.verify(engine)
    delete_last_and_rewrite_head(engine, 5)
    assert audit.verify(engine).ok  # consistent inside the database
    problems = audit.verify(engine, (saved.head_seq, saved.head_hash)).problems
    assert len(problems) == 1
    assert "entry 5" in str(problems[0])


def test_reordered_entries_are_caught() -> None:
    engine = memory_engine()
    append(engine, 5)
    swap(engine, 2, 4)
    problems = audit.verify(engine).problems
    assert {p.seq for p in problems} >= {2, 4}
    assert all("modified" in p.message or "reordered" in p.message for p in problems)


# -- the property ---------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**9), 10**9) | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)
entries = st.lists(
    st.fixed_dictionaries(
        {
            "actor": st.text(min_size=1, max_size=10),
            "action": st.sampled_from(["create", "set_value", "approved", "lock", "login"]),
            "object_type": st.sampled_from(["request", "user", "adjustment", "period"]),
            "object_id": st.integers(1, 10**6).map(str),
            "entity_id": st.none() | st.sampled_from(["S01", "S02", "G00"]),
            "before": json_values,
            "after": json_values,
        }
    ),
    min_size=2,
    max_size=12,
)
TAMPERINGS = ("edit", "delete", "delete_last", "rewrite_head", "swap")


@st.composite
def tamperings(draw: st.DrawFn, size: int) -> tuple[str, int, int, str, str]:
    kind = draw(st.sampled_from(TAMPERINGS))
    seq = draw(st.integers(1, size))
    other = draw(st.integers(1, size).filter(lambda s: s != seq))
    column = draw(st.sampled_from(FIELDS))
    text = draw(st.text(min_size=1, max_size=8))
    return kind, seq, other, column, text


def edit(engine: Engine, seq: int, column: str, text: str) -> None:
    current = next(r for r in rows(engine) if r["seq"] == seq)
    value: Any = text
    if column == "at":
        value = (
            datetime(1999, 12, 31)
            if current["at"] != datetime(1999, 12, 31)
            else datetime(2000, 1, 1)
        )
    elif current[column] == text:
        value = text + "x"
    with engine.begin() as conn:
        conn.execute(update(AUDIT).where(AUDIT.c.seq == seq).values({column: value}))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), log=entries)
def test_any_single_tampering_is_detected(data: st.DataObject, log: list[dict[str, Any]]) -> None:
    engine = memory_engine()
    with engine.begin() as conn:
        for e in log:
            audit.append(
                conn,
                e["actor"],
                e["action"],
                e["object_type"],
                e["object_id"],
                entity_id=e["entity_id"],
                before=e["before"],
                after=e["after"],
            )
    saved = audit.verify(engine)
    assert saved.ok
    kind, seq, other, column, text = data.draw(tamperings(len(log)))
    last = len(log)
    if kind == "edit":
        edit(engine, seq, column, text)
    elif kind == "delete":
        delete_entry(engine, seq)
    elif kind == "delete_last":
        delete_entry(engine, last)
    elif kind == "rewrite_head":
        delete_last_and_rewrite_head(engine, last)
    else:
        swap(engine, seq, other)
    assert not audit.verify(engine, (saved.head_seq, saved.head_hash)).ok, kind
    if kind != "rewrite_head":
        assert not audit.verify(engine).ok, kind


# -- concurrency ----------------------------------------------------------------------------


@pytest.fixture
def ledger(store_url: str) -> Iterator[Ledger]:
    found = Ledger.open(Path(store_url) if "://" not in store_url else store_url)
    found.init()
    yield found
    found.close()


def test_appends_from_two_threads_make_one_chain(ledger: Ledger) -> None:
    per_thread, errors = 40, []

    def work(name: str) -> None:
        try:
            for i in range(per_thread):
                with write_transaction(ledger.engine) as conn:
                    audit.append(conn, name, "touch", "thing", i, after={"i": i})
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(f"t{n}",)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    stored = rows(ledger.engine)
    seqs = [r["seq"] for r in stored]
    assert seqs == list(range(1, 2 * per_thread + 1))
    assert {r["actor"] for r in stored} == {"t0", "t1"}
    result = audit.verify(ledger.engine)
    assert result.ok, [str(p) for p in result.problems]
    assert result.entries == 2 * per_thread
