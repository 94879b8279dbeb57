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
            raise DeliveryError(f"webhook to {target} failed: {type(error).__name__}") from error
        if not 200 <= response.status_code < 300:
            raise DeliveryError(f"webhook to {target} answered HTTP {response.status_code}")


def next_retry(
    now: datetime,
    attempts: int,
    *,
    base_seconds: float,
    max_attempts: int,
    rng: random.Random | None = None,
) -> datetime | None:
    """Exponential backoff with full jitter, capped at an hour; None once attempts run out."""
    if attempts >= max_attempts:
        return None
    ceiling = min(3600.0, base_seconds * (2 ** max(0, attempts - 1)))
    jitter = (rng or random).uniform(0.5, 1.0)
    return now + timedelta(seconds=ceiling * jitter)
