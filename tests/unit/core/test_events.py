from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from takedown.core.events import (
    GENESIS,
    Event,
    canonical_json,
    chained_hash,
    event_hash,
    verify_chain,
)


def _chain(payloads: list[dict[str, int]]) -> list[Event]:
    events: list[Event] = []
    prev = GENESIS
    at = datetime(2026, 1, 1, tzinfo=UTC)
    for n, payload in enumerate(payloads, start=1):
        moment = at + timedelta(seconds=n)
        digest = event_hash(
            seq=n, type="t", subject="s", payload=payload, actor="a", at=moment, prev_hash=prev
        )
        events.append(Event(n, "t", "s", payload, "a", moment, prev, digest))
        prev = digest
    return events


@given(st.lists(st.dictionaries(st.text(max_size=5), st.integers(), max_size=3), max_size=20))
def test_an_untouched_chain_verifies(payloads: list[dict[str, int]]) -> None:
    assert verify_chain(_chain(payloads)) is None


@given(
    st.lists(
        st.dictionaries(st.text(max_size=5), st.integers(), max_size=3), min_size=2, max_size=20
    ),
    st.data(),
)
def test_editing_any_event_breaks_the_chain_there(
    payloads: list[dict[str, int]], data: st.DataObject
) -> None:
    events = _chain(payloads)
    victim = data.draw(st.integers(0, len(events) - 1))
    original = events[victim]
    events[victim] = Event(
        original.seq,
        original.type,
        original.subject,
        {**original.payload, "tampered": 1},
        original.actor,
        original.at,
        original.prev_hash,
        original.hash,
    )
    assert verify_chain(events) == original.seq


def test_deleting_an_event_is_detected() -> None:
    events = _chain([{"a": 1}, {"b": 2}, {"c": 3}])
    assert verify_chain([events[0], events[2]]) == 3


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(
    seq=st.integers(min_value=1, max_value=2**53),
    type=st.text(),
    subject=st.text(),
    payload=st.dictionaries(st.text(), _json_values, max_size=6),
    actor=st.text(),
    prev=st.text(alphabet="0123456789abcdef", min_size=64, max_size=64),
)
def test_chained_hash_equals_the_generic_event_hash(
    seq: int, type: str, subject: str, payload: dict[str, Any], actor: str, prev: str
) -> None:
    at = datetime(2026, 12, 7, 16, 30, 0, 123456, tzinfo=UTC)
    generic = event_hash(seq=seq, type=type, subject=subject, payload=payload, actor=actor,
                         at=at, prev_hash=prev)
    fast = chained_hash(seq=seq, type=type, subject=subject, payload_json=canonical_json(payload),
                        actor=actor, at=at, prev_hash=prev)
    assert fast == generic
