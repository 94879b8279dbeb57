"""Webhook delivery: signed, retried with backoff, at least once, with an idempotency key."""

from __future__ import annotations

import time

import httpx
import pytest
from sqlalchemy import Engine

from takedown.actions.webhook import SIGNATURE_HEADER, WebhookSender, sign, verify
from takedown.config import Settings
from takedown.core.errors import InvalidInput
from takedown.services.delivery import Deliverer
from takedown.storage import outbox
from takedown.storage.ledger import iter_events


def test_signature_covers_timestamp_and_body() -> None:
    body = b'{"a":1}'
    headers = {"Takedown-Timestamp": "1000", SIGNATURE_HEADER: sign("k", 1000, body)}
    verify("k", headers, body, now=1000)
    with pytest.raises(InvalidInput):
        verify("k", headers, b'{"a":2}', now=1000)
    with pytest.raises(InvalidInput):
        verify("other", headers, body, now=1000)
    with pytest.raises(InvalidInput, match="tolerance"):
        verify("k", headers, body, now=5000)


def test_failed_deliveries_are_retried_until_the_receiver_accepts(
    engine: Engine, settings: Settings, webhook_sink: object
) -> None:
    webhook_sink.fail_first = 2  # type: ignore[attr-defined]
    with engine.begin() as conn:
        outbox.enqueue(
            conn,
            key="d-1",
            target=webhook_sink.url,
            topic="decision",  # type: ignore[attr-defined]
            payload={"id": "d-1"},
        )
    with httpx.Client(timeout=5) as client:
        deliverer = Deliverer(engine, WebhookSender(client, "k"), settings)
        deadline = time.monotonic() + 10
        while not webhook_sink.requests and time.monotonic() < deadline:  # type: ignore[attr-defined]
            deliverer.run_once()
            time.sleep(0.02)
    assert len(webhook_sink.requests) == 1  # type: ignore[attr-defined]
    request = webhook_sink.requests[0]  # type: ignore[attr-defined]
    assert request["headers"]["Takedown-Id"] == "d-1"
    with engine.connect() as conn:
        assert outbox.counts(conn)["delivered"] == 1
        delivered = [e for e in iter_events(conn) if e.type == "webhook.delivered"]
    assert delivered[0].payload["attempts"] == 3


def test_a_message_gives_up_after_max_attempts_and_is_kept(
    engine: Engine, settings: Settings
) -> None:
    with engine.begin() as conn:
        outbox.enqueue(
            conn, key="d-2", target="http://127.0.0.1:9/nothing", topic="decision", payload={}
        )
    with httpx.Client(timeout=1) as client:
        deliverer = Deliverer(
            engine,
            WebhookSender(client, "k"),
            settings.with_(webhook_max_attempts=2, webhook_backoff_seconds=0.01),
        )
        for _ in range(50):
            deliverer.run_once()
            time.sleep(0.02)
    with engine.connect() as conn:
        assert outbox.counts(conn) == {"total": 1, "delivered": 0, "dead": 1, "pending": 0}
        assert any(e.type == "webhook.dead" for e in iter_events(conn))
