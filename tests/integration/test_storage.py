"""The same storage tests on SQLite and PostgreSQL (see the `database_url` fixture)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, select

from takedown.core.banks import Bank
from takedown.core.content import ContentKind, make_submission
from takedown.core.errors import AuthError, NotFound
from takedown.core.events import verify_chain
from takedown.core.taxonomy import TvecLabel
from takedown.storage import banks as bank_store
from takedown.storage import outbox
from takedown.storage import submissions as subs
from takedown.storage.keys import Role, authenticate, create_key, revoke_key
from takedown.storage.ledger import append_event, append_events, iter_events
from takedown.storage.tables import events


def _text(item_id: str) -> object:
    return make_submission(item_id=item_id, kind=ContentKind.TEXT, text=f"text {item_id}")


def test_inserting_the_same_item_twice_creates_one_row(engine: Engine) -> None:
    with engine.begin() as conn:
        first = subs.insert_submission(conn, _text("a"))  # type: ignore[arg-type]
        second = subs.insert_submission(conn, _text("a"))  # type: ignore[arg-type]
    assert first[1] is True and second == (first[0], False)


def test_claims_lease_items_and_expired_leases_are_claimed_again(engine: Engine) -> None:
    with engine.begin() as conn:
        for n in range(3):
            subs.insert_submission(conn, _text(str(n)))  # type: ignore[arg-type]
    with engine.begin() as conn:
        first = subs.claim(conn, limit=10, lease=timedelta(seconds=-1))
    assert [c.attempts for c in first] == [1, 1, 1]
    with engine.begin() as conn:
        again = subs.claim(conn, limit=10, lease=timedelta(seconds=60))
    assert sorted(c.row_id for c in again) == sorted(c.row_id for c in first)
    assert {c.attempts for c in again} == {2}
    with engine.begin() as conn:
        assert subs.claim(conn, limit=10, lease=timedelta(seconds=60)) == []


def test_concurrent_claims_never_hand_out_an_item_twice(engine: Engine) -> None:
    with engine.begin() as conn:
        for n in range(60):
            subs.insert_submission(conn, _text(str(n)))  # type: ignore[arg-type]
    got: list[int] = []
    lock = threading.Lock()

    def claimer() -> None:
        while True:
            with engine.begin() as conn:
                batch = subs.claim(conn, limit=4, lease=timedelta(seconds=60))
            if not batch:
                return
            with lock:
                got.extend(c.row_id for c in batch)

    threads = [threading.Thread(target=claimer) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(got) == 60 and len(set(got)) == 60


def test_ledger_chain_holds_across_concurrent_appends(engine: Engine) -> None:
    def writer(n: int) -> None:
        for k in range(10):
            with engine.begin() as conn:
                append_event(conn, "test", f"w{n}", {"k": k})

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with engine.connect() as conn:
        stored = list(iter_events(conn))
    assert [e.seq for e in stored] == list(range(1, 41))
    assert verify_chain(stored) is None


def test_tampering_with_a_stored_event_is_detected(engine: Engine) -> None:
    with engine.begin() as conn:
        for k in range(3):
            append_event(conn, "test", "s", {"k": k})
        conn.execute(events.update().where(events.c.seq == 2).values(payload={"k": 99}))
    with engine.connect() as conn:
        assert verify_chain(iter_events(conn)) == 2


def test_bank_entries_follow_a_change_feed(engine: Engine) -> None:
    before = datetime.now(UTC) - timedelta(seconds=1)
    with engine.begin() as conn:
        bank_store.upsert_bank(conn, Bank("b", TvecLabel.PRAISE), actor="t")
        added, present = bank_store.add_entries(
            conn,
            "b",
            [("md5", "a" * 32, None), ("md5", "b" * 32, "x"), ("md5", "a" * 32, None)],
            actor="t",
        )
    assert (added, present) == (2, 1)
    with engine.connect() as conn:
        entries = bank_store.active_entries(conn)
    with engine.begin() as conn:
        bank_store.remove_entry(conn, entries[0].entry_id, actor="t")
    with engine.connect() as conn:
        new, removed = bank_store.entries_changed_since(conn, before)
        assert [e.value for e in bank_store.active_entries(conn)] == ["b" * 32]
    assert removed == [entries[0].entry_id]
    assert [e.value for e in new] == ["b" * 32]
    with engine.begin() as conn, pytest.raises(NotFound):
        bank_store.add_entries(conn, "nope", [("md5", "c" * 32, None)], actor="t")


def test_keys_are_stored_hashed_and_can_be_revoked(engine: Engine) -> None:
    with engine.begin() as conn:
        key = create_key(conn, Role.REVIEWER, name="r")
    with engine.connect() as conn:
        principal = authenticate(conn, key)
        from takedown.storage.tables import api_keys

        stored = conn.execute(select(api_keys.c.key_hash)).scalar()
    assert principal.role is Role.REVIEWER
    assert key not in str(stored)
    with engine.connect() as conn, pytest.raises(AuthError):
        authenticate(conn, key[:-2] + "xx")
    with engine.begin() as conn:
        revoke_key(conn, principal.key_id, actor="t")
    with engine.connect() as conn, pytest.raises(AuthError):
        authenticate(conn, key)


def test_outbox_is_idempotent_and_claims_due_messages_once(engine: Engine) -> None:
    with engine.begin() as conn:
        assert outbox.enqueue(conn, key="k1", target="http://x", topic="t", payload={"a": 1})
        assert not outbox.enqueue(conn, key="k1", target="http://x", topic="t", payload={"a": 2})
    with engine.begin() as conn:
        due = outbox.claim_due(conn, limit=10, lease=timedelta(seconds=60))
    assert [(m.idempotency_key, m.payload, m.attempts) for m in due] == [("k1", {"a": 1}, 1)]
    with engine.begin() as conn:
        assert outbox.claim_due(conn, limit=10, lease=timedelta(seconds=60)) == []
        outbox.mark_delivered(conn, due[0].id)
        assert outbox.counts(conn) == {"total": 1, "delivered": 1, "dead": 0, "pending": 0}


def test_batched_ledger_events_mask_secrets_anywhere_and_keep_the_rest_verbatim(
    engine: Engine,
) -> None:
    plain = {"findings": [{"label": "TVEC7", "score": 0.93, "evidence": {"terms": ["baqiyah"]}}],
             "text": "ünïcode stays", "n": 3}
    leaky = {"outer": [{"error": "POST https://hooks.example/x?token=abc123 failed"}],
             "note": "key tdk_ABCDEFGH12345 pasted"}
    with engine.begin() as conn:
        append_events(conn, [("t.plain", "s:1", plain, "test"), ("t.leaky", "s:2", leaky, "test")])
    with engine.connect() as conn:
        stored = {e.type: e.payload for e in iter_events(conn)}
        assert verify_chain(list(iter_events(conn))) is None
    assert stored["t.plain"] == plain
    assert stored["t.leaky"] == {
        "outer": [{"error": "POST https://hooks.example/x?token=*** failed"}],
        "note": "key tdk_*** pasted"}


def test_a_batch_insert_returns_its_own_tenants_rows(engine: Engine) -> None:
    """Two integrators may use the same ids: each request gets back the rows it created."""
    items = [_text(f"shared-{n}") for n in range(5)]
    with engine.begin() as conn:
        first, _ = subs.insert_many(conn, items, tenant="a")  # type: ignore[arg-type]
    with engine.begin() as conn:
        second, _ = subs.insert_many(conn, items, tenant="b")  # type: ignore[arg-type]
    with engine.connect() as conn:
        owner = {int(r.id): str(r.tenant) for r in conn.execute(
            select(subs.submissions.c.id, subs.submissions.c.tenant))}
    assert all(created for _row, created in first + second)
    assert [owner[row] for row, _ in first] == ["a"] * 5
    assert [owner[row] for row, _ in second] == ["b"] * 5
