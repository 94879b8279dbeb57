"""Sending what reviewers learn back to the sources, and publishing opt-in banks.

Feedback follows the node's own ledger from a stored checkpoint instead of hooking the review
service: every overturn already lands there (`feedback.false_positive` for a restored item,
`case.decided` for each reviewer decision), so nothing in review has to know about exchanges,
and a send that fails is retried from the checkpoint (the hub counts one vote per member, so a
repeat is harmless).

  feedback.false_positive                      -> false_positive for each entry charged
  case.decided, action remove/restrict/suspend -> true_positive for the entries it rests on
  case.decided, action none (a queued match judged not TVEC) -> false_positive
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Engine, select

from takedown.exchange.client import ExchangeClient, ExchangeError, Verdict
from takedown.services.exchange_sources import SourceConfig
from takedown.storage import exchange as exchange_store
from takedown.storage import exchange_outbound as outbound
from takedown.storage.db import reading
from takedown.storage.ledger import append_event, iter_events
from takedown.storage.tables import banks, decisions

log = logging.getLogger(__name__)

CHECKPOINT = "feedback"
ENFORCING = frozenset({"remove", "restrict", "suspend"})
MAX_ATTEMPTS = 5
BATCH = 500


def _verdicts(engine: Engine, event: Any) -> list[tuple[int, Verdict]]:
    if event.type == "feedback.false_positive":
        return [(int(e), Verdict.FALSE_POSITIVE) for e in event.payload.get("entry_ids") or []]
    if event.type != "case.decided":
        return []
    action = event.payload.get("action")
    if action in ENFORCING:
        verdict = Verdict.TRUE_POSITIVE
    elif action == "none":
        verdict = Verdict.FALSE_POSITIVE
    else:
        return []
    with reading(engine) as conn:
        row = conn.execute(
            select(decisions.c.body).where(decisions.c.id == event.payload.get("decision_id"))
        ).first()
    entry_ids = ((row.body or {}).get("provenance") or {}).get("entry_ids") if row else None
    return [(int(e), verdict) for e in entry_ids or []]


class FeedbackSender:
    def __init__(self, engine: Engine, clients: Mapping[str, ExchangeClient]) -> None:
        self.engine = engine
        self.clients = clients
        self._failures: dict[int, int] = {}

    def run_once(self) -> int:
        """Send verdicts for ledger events after the checkpoint; returns how many were sent."""
        with reading(self.engine) as conn:
            after = outbound.checkpoint(conn, CHECKPOINT)
            events = list(iter_events(conn, after=after, limit=BATCH))
        sent = 0
        for event in events:
            try:
                sent += self._send(event)
            except ExchangeError as error:
                attempts = self._failures[event.seq] = self._failures.get(event.seq, 0) + 1
                if attempts < MAX_ATTEMPTS:
                    log.warning("feedback for event %s not sent yet: %s", event.seq, error)
                    return sent
                log.error("feedback for event %s given up: %s", event.seq, error)
                with self.engine.begin() as conn:
                    append_event(
                        conn,
                        "exchange.feedback_failed",
                        event.subject,
                        {"event_seq": event.seq, "error": str(error)[:300]},
                    )
            with self.engine.begin() as conn:
                outbound.set_checkpoint(conn, CHECKPOINT, event.seq)
        return sent

    def _send(self, event: Any) -> int:
        sent = 0
        for entry_id, verdict in _verdicts(self.engine, event):
            with reading(self.engine) as conn:
                origin = exchange_store.source_of(conn, entry_id)
            if origin is None or origin[0] not in self.clients:
                continue
            source, external_id = origin
            self.clients[source].send_feedback(external_id, verdict, note=None)
            with self.engine.begin() as conn:
                append_event(
                    conn,
                    "exchange.feedback_sent",
                    f"source:{source}",
                    {
                        "source": source,
                        "verdict": verdict.value,
                        "entry_id": entry_id,
                        "external_id": external_id,
                        "event_seq": event.seq,
                    },
                )
            sent += 1
        return sent


class Publisher:
    """Pushes entries of a source's `publish_banks` to it, and retracts those removed locally.
    Only clients that can publish (the Takedown hub) are given banks to publish."""

    def __init__(
        self, engine: Engine, sources: Sequence[SourceConfig], clients: Mapping[str, Any]
    ) -> None:
        self.engine = engine
        self.sources = [
            s for s in sources if s.publish_banks and hasattr(clients[s.name], "publish")
        ]
        self.clients = clients

    def run_once(self) -> int:
        published = 0
        for source in self.sources:
            client = self.clients[source.name]
            with reading(self.engine) as conn:
                rows = outbound.unpublished(conn, source.name, source.publish_banks, BATCH)
                gone = outbound.withdrawn(conn, source.name, source.publish_banks)
                meta = {
                    r.name: r
                    for r in conn.execute(
                        select(banks).where(banks.c.name.in_(list(source.publish_banks)))
                    )
                }
            if rows:
                items = [
                    {
                        "signal_type": r.signal_type,
                        "value": r.value,
                        "label": meta[r.bank].label,
                        "severity": int(meta[r.bank].severity),
                        "note": r.note,
                        "tags": [f"bank:{r.bank}"],
                    }
                    for r in rows
                ]
                ids = client.publish(items)
                with self.engine.begin() as conn:
                    outbound.mark_published(
                        conn, source.name, [(int(r.id), x) for r, x in zip(rows, ids, strict=True)]
                    )
                published += len(rows)
            for row in gone:
                client.retract(row.external_id)
                with self.engine.begin() as conn:
                    outbound.mark_retracted(conn, source.name, int(row.entry_id))
        return published
