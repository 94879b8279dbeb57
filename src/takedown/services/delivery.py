"""Delivers outbox messages at least once, with backoff between attempts.

Most messages are signed webhooks; a topic may have its own sender (the Mastodon connector's
admin-API calls). A sender raising `Unavailable` means no retry can help (e.g. Mastodon cannot
undelete): the message is kept as dead and the ledger says a person must act.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from takedown.actions.webhook import WebhookSender, next_retry
from takedown.config import Settings
from takedown.core.errors import DeliveryError, Unavailable
from takedown.core.redact import redact_text
from takedown.storage import outbox
from takedown.storage.ledger import append_event
from takedown.storage.outbox import OutboxMessage

log = logging.getLogger(__name__)

SEND_LEASE = timedelta(seconds=60)


Sender = Callable[[OutboxMessage], None]


class Deliverer:
    def __init__(
        self,
        engine: Engine,
        sender: WebhookSender,
        settings: Settings,
        *,
        topic_senders: Mapping[str, Sender] | None = None,
    ) -> None:
        self.engine = engine
        self.sender = sender
        self.settings = settings
        self.topic_senders = dict(topic_senders or {})
        # A deliverer killed mid-send leaves its claims; they come due again after this.
        self._lease = min(SEND_LEASE, timedelta(seconds=max(5.0, settings.lease_seconds)))

    def _send(self, message: OutboxMessage) -> None:
        special = self.topic_senders.get(message.topic)
        if special is not None:
            special(message)
        else:
            self.sender.send(message.target, message.idempotency_key, message.payload)

    def run_once(self, *, limit: int = 50) -> int:
        """Attempt every due message once; returns how many were attempted."""
        with self.engine.begin() as conn:
            due = outbox.claim_due(conn, limit=limit, lease=self._lease)
        for message in due:
            try:
                self._send(message)
            except Unavailable as error:
                with self.engine.begin() as conn:
                    outbox.mark_failed(
                        conn, message.id, error=redact_text(str(error)), retry_at=None
                    )
                    append_event(
                        conn,
                        "action.manual_needed",
                        f"outbox:{message.id}",
                        {"key": message.idempotency_key, "topic": message.topic,
                         "error": redact_text(str(error))},
                    )
                continue
            except DeliveryError as error:
                retry_at = next_retry(
                    datetime.now(UTC),
                    message.attempts,
                    base_seconds=self.settings.webhook_backoff_seconds,
                    max_attempts=self.settings.webhook_max_attempts,
                    max_seconds=self.settings.webhook_max_backoff_seconds,
                )
                with self.engine.begin() as conn:
                    outbox.mark_failed(
                        conn, message.id, error=redact_text(str(error)), retry_at=retry_at
                    )
                    if retry_at is None:
                        append_event(
                            conn,
                            "webhook.dead",
                            f"outbox:{message.id}",
                            {"key": message.idempotency_key, "error": redact_text(str(error))},
                        )
                continue
            with self.engine.begin() as conn:
                outbox.mark_delivered(conn, message.id)
                if message.attempts > 1:
                    # The target is back: what waited out its outage is due now.
                    outbox.wake_target(conn, message.target)
                append_event(
                    conn,
                    "webhook.delivered",
                    f"outbox:{message.id}",
                    {"key": message.idempotency_key, "attempts": message.attempts},
                )
        return len(due)

    def run_forever(
        self, stop: threading.Event, wake: threading.Event, *, idle: float = 0.5
    ) -> None:
        while not stop.is_set():
            try:
                busy = self.run_once()
            except Exception:  # noqa: BLE001 - keep delivering after transient database errors
                log.exception("delivery loop error")
                busy = 0
            if not busy:
                wake.wait(idle)
                wake.clear()
