"""Submitting statements to the Transparency Database API: batches of 1–100, retries, a record
of what was accepted, and a PUID look-up before resending.

The database creates none of a batch when any statement is invalid (422, errors keyed
`statement_N`), and refuses a PUID it already holds. So a statement already attempted once is
first looked up (`GET /api/v1/statement/existing-puid/{puid}`: 302 found, 404 not) and only
sent if absent: a timeout after the database committed cannot create a duplicate. Look-ups are
retried in place; a batch whose outcome is unknown (timeout, server error) is retried as a new
round, which looks its PUIDs up first. Client errors are not retried (they need a fix).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx
from sqlalchemy import Connection, select, update

from takedown.core.errors import AuthError, DeliveryError, InvalidInput
from takedown.storage.ledger import append_event
from takedown.storage.legal_tables import sor_statements

MAX_BATCH = 100


class TdbClient:
    def __init__(
        self,
        http: httpx.Client,
        endpoint: str,
        token: str,
        *,
        max_attempts: int = 5,
        backoff: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.http = http
        self.base = endpoint.rstrip("/")
        self.headers = {
            "Authorization": f"Bearer {token}",
            "Accept": "application/json",
            "Content-Type": "application/json",
        }
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.sleep = sleep

    def _request(self, method: str, path: str, *, retry: bool, **kwargs: Any) -> httpx.Response:
        last = "no attempt made"
        attempts = self.max_attempts if retry else 1
        for attempt in range(1, attempts + 1):
            try:
                response = self.http.request(
                    method,
                    self.base + path,
                    headers=self.headers,
                    follow_redirects=False,
                    **kwargs,
                )
            except httpx.TransportError as error:
                last = f"{type(error).__name__}"
            else:
                if response.status_code == 401:
                    raise AuthError("the Transparency Database refused the token (401)")
                if response.status_code < 500 and response.status_code != 429:
                    return response
                last = f"HTTP {response.status_code}"
            if attempt < attempts:
                self.sleep(self.backoff * 2 ** (attempt - 1))
        raise DeliveryError(f"{method} {path} failed after {attempts} attempt(s): {last}")

    def existing(self, puid: str) -> str | None:
        """The database's uuid for `puid`, or None when it holds no such statement."""
        response = self._request(
            "GET", f"/api/v1/statement/existing-puid/{quote(puid)}", retry=True
        )
        if response.status_code == 404:
            return None
        if response.status_code == 302:
            return str(response.json().get("uuid", ""))
        raise DeliveryError(f"PUID look-up answered HTTP {response.status_code}")

    def submit(self, statements: Sequence[dict[str, Any]]) -> dict[str, str]:
        """Create 1–100 statements; returns puid → uuid for those created."""
        if not 1 <= len(statements) <= MAX_BATCH:
            raise InvalidInput(f"a batch holds 1 to {MAX_BATCH} statements")
        response = self._request(
            "POST", "/api/v1/statements", retry=False, json={"statements": statements}
        )
        if response.status_code == 422:
            errors = response.json().get("errors", {})
            raise InvalidInput(f"the Transparency Database rejected the batch: {errors}")
        if response.status_code not in (200, 201):
            raise DeliveryError(f"batch submission answered HTTP {response.status_code}")
        created = response.json().get("statements", [])
        return {str(s["puid"]): str(s.get("uuid", "")) for s in created}


@dataclass(frozen=True)
class SubmitResult:
    accepted: int
    already_there: int


def submit_pending(
    conn_factory: Callable[[], Any],
    client: TdbClient,
    *,
    batch_size: int = MAX_BATCH,
    actor: str = "automation",
    rounds: int = 5,
) -> SubmitResult:
    """Send every stored, unsubmitted statement; each batch's outcome is committed before the
    next is sent. `conn_factory` opens a transaction (engine.begin). A batch that fails with an
    unknown outcome is tried again (up to `rounds` times in all), PUIDs looked up first."""
    batch_size = max(1, min(MAX_BATCH, batch_size))
    accepted = found = failures = 0
    while True:
        with conn_factory() as conn:
            rows = _unsent(conn, batch_size)
            if not rows:
                return SubmitResult(accepted, found)
            conn.execute(
                update(sor_statements)
                .where(sor_statements.c.id.in_([r.id for r in rows]))
                .values(attempts=sor_statements.c.attempts + 1)
            )
        known: dict[str, str] = {}
        for row in rows:
            if row.attempts > 0:
                uuid = client.existing(row.puid)
                if uuid is not None:
                    known[row.puid] = uuid
        to_send = [dict(r.body) for r in rows if r.puid not in known]
        try:
            created = client.submit(to_send) if to_send else {}
        except DeliveryError:
            failures += 1
            if failures >= rounds:
                raise
            client.sleep(client.backoff * 2 ** (failures - 1))
            created = {}
            if not known:
                continue
        if not created and not known and to_send:
            raise DeliveryError("the Transparency Database accepted none of the batch")
        with conn_factory() as conn:
            now = datetime.now(UTC)
            for puid, uuid in {**created, **known}.items():
                conn.execute(
                    update(sor_statements)
                    .where(sor_statements.c.puid == puid)
                    .values(submitted_at=now, tdb_uuid=uuid)
                )
            append_event(
                conn,
                "sor.submitted",
                "transparency_database",
                {"accepted": len(created), "already_there": len(known)},
                actor=actor,
            )
        accepted += len(created)
        found += len(known)


def _unsent(conn: Connection, limit: int) -> list[Any]:
    return list(
        conn.execute(
            select(
                sor_statements.c.id,
                sor_statements.c.puid,
                sor_statements.c.body,
                sor_statements.c.attempts,
            )
            .where(sor_statements.c.submitted_at.is_(None))
            .order_by(sor_statements.c.id)
            .limit(limit)
        )
    )
