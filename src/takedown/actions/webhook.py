"""Signed webhooks: how platforms learn about decisions.

Each request carries `Takedown-Id` (the idempotency key: a receiver that sees it twice must act
once), `Takedown-Timestamp` (unix seconds) and `Takedown-Signature: v1=<hex>`, the HMAC-SHA256 of
`"{timestamp}.{body}"` under the shared secret. Signing the timestamp lets receivers refuse
replays older than a few minutes.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx

from takedown.core.errors import DeliveryError, InvalidInput
from takedown.core.redact import redact_url

SIGNATURE_HEADER = "Takedown-Signature"
TIMESTAMP_HEADER = "Takedown-Timestamp"
ID_HEADER = "Takedown-Id"
DEFAULT_TOLERANCE_SECONDS = 300


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"v1={mac.hexdigest()}"


def verify(
    secret: str,
    headers: dict[str, str],
    body: bytes,
    *,
    now: float | None = None,
    tolerance: int = DEFAULT_TOLERANCE_SECONDS,
) -> None:
    """What a receiving platform runs; raises InvalidInput when the request is not authentic."""
    lowered = {k.lower(): v for k, v in headers.items()}
    try:
        timestamp = int(lowered[TIMESTAMP_HEADER.lower()])
        signature = lowered[SIGNATURE_HEADER.lower()]
    except (KeyError, ValueError):
        raise InvalidInput("missing or malformed webhook signature headers") from None
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        raise InvalidInput("webhook timestamp outside the tolerance window (replay?)")
    if not hmac.compare_digest(sign(secret, timestamp, body), signature):
        raise InvalidInput("webhook signature does not match")


def encode_body(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":")).encode("utf-8")


@dataclass(frozen=True)
class WebhookSender:
    """Sends one signed request; the outbox decides about retries."""

    client: httpx.Client
    secret: str

    def send(self, target: str, idempotency_key: str, payload: dict[str, Any]) -> None:
        body = encode_body(payload)
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/json",
            ID_HEADER: idempotency_key,
            TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: sign(self.secret, timestamp, body),
        }
        try:
            response = self.client.post(target, content=body, headers=headers)
        except httpx.HTTPError as error:
            raise DeliveryError(
                f"webhook to {redact_url(target)} failed: {type(error).__name__}"
            ) from None
        if not 200 <= response.status_code < 300:
            raise DeliveryError(
                f"webhook to {redact_url(target)} answered HTTP {response.status_code}"
            )


def next_retry(
    now: datetime,
    attempts: int,
    *,
    base_seconds: float,
    max_attempts: int,
    max_seconds: float = 10.0,
    rng: random.Random | None = None,
) -> datetime | None:
    """Exponential backoff with jitter, capped at `max_seconds`; None once attempts run out.

    The cap is short on purpose: a receiver that was down for minutes gets its first retry
    seconds after it is back (an hour-long cap made a 2-minute outage cost up to 2 minutes
    more), and the first success wakes the rest of that target's queue (see the deliverer)."""
    if attempts >= max_attempts:
        return None
    ceiling = min(max_seconds, base_seconds * (2 ** max(0, attempts - 1)))
    jitter = (rng or random).uniform(0.5, 1.0)
    return now + timedelta(seconds=ceiling * jitter)
