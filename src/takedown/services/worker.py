"""The worker: claims submissions, runs the pipeline, and commits everything an item produces
(signals, findings, its one automated decision, a review case, outbox messages, ledger events)
in one transaction, so a kill at any moment leaves either nothing or all of it.

The automated decision is unique per item (a database constraint), so a re-delivered item whose
decision was already committed by another worker is simply skipped: never two decisions.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import IntegrityError

from takedown.config import Settings
from takedown.core.content import Submission
from takedown.core.decisions import ActionKind, Decision, Provenance, webhook_key
from takedown.core.findings import Finding
from takedown.queue.base import WorkQueue
from takedown.services.flood import FloodGuard, guard_decision
from takedown.services.pipeline import Outcome, Pipeline
from takedown.storage import submissions as subs
from takedown.storage.db import reading
from takedown.storage.ledger import append_event
from takedown.storage.outbox import enqueue
from takedown.storage.submissions import StoredSubmission
from takedown.storage.tables import cases, decisions, findings, signals

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
REMOVAL_ORDER_WINDOW = timedelta(hours=1)

Actioner = Callable[[Connection, Submission, Decision, int], None]
"""Queues platform actions for a committed decision, inside the decision's transaction."""


class Worker:
    def __init__(
        self,
        engine: Engine,
        pipeline: Pipeline,
        settings: Settings,
        *,
        on_committed: Callable[[int], None] | None = None,
        actioners: Sequence[Actioner] = (),
    ) -> None:
        self.engine = engine
        self.pipeline = pipeline
        self.settings = settings
        self.on_committed = on_committed
        self.flood = FloodGuard(settings.flood_per_hour)
        self.actioners = list(actioners)

    def run_once(self, *, limit: int = 32, ids: list[int] | None = None) -> int:
        """Process one batch of runnable items; returns how many were claimed."""
        with self.engine.begin() as conn:
            claimed = subs.claim(
                conn, limit=limit, lease=timedelta(seconds=self.settings.lease_seconds), ids=ids
            )
        for item in claimed:
            self._process(item)
        return len(claimed)

    def _process(self, item: StoredSubmission) -> None:
        if item.attempts > MAX_ATTEMPTS:
            self._commit(item, _fail_safe(item), error="gave up after repeated failures")
            return
        try:
            outcome = self.pipeline.run(item.submission, annotate=self._annotate)
            outcome = replace(outcome, decision=guard_decision(outcome.decision, outcome.findings))
        except Exception as error:  # noqa: BLE001 - the lease expires and the item is retried
            log.exception("processing %s failed", item.submission.item_id)
            with self.engine.begin() as conn:
                subs.record_error(conn, item.row_id, f"{type(error).__name__}: {error}"[:2000])
            return
        self._commit(item, outcome)

    def _annotate(self, found: list[Finding]) -> list[Finding]:
        with reading(self.engine) as conn:
            return self.flood.annotate(conn, found)

    def _commit(
        self, item: StoredSubmission, outcome: Outcome, *, error: str | None = None
    ) -> None:
        try:
            with self.engine.begin() as conn:
                decision_id = _store_outcome(conn, item, outcome, self.settings)
                for actioner in self.actioners:
                    actioner(conn, item.submission, outcome.decision, decision_id)
                self.flood.record(conn, item.row_id, outcome.findings)
                subs.mark_done(conn, item.row_id, error=error or "; ".join(outcome.errors) or None)
        except IntegrityError:
            log.info("item %s already decided elsewhere; skipping", item.submission.item_id)
            with self.engine.begin() as conn:
                subs.mark_done(conn, item.row_id)
            return
        if self.on_committed is not None:
            self.on_committed(decision_id)

    def run_forever(self, stop: threading.Event, queue: WorkQueue, *, idle: float = 0.5) -> None:
        """Take announced ids first, then sweep the table for anything a notification missed."""
        while not stop.is_set():
            try:
                received = queue.receive(idle)
                if received:
                    ids = [row_id for _tag, row_id in received]
                    self.run_once(ids=ids, limit=len(ids))
                    queue.ack([tag for tag, _ in received])
                while self.run_once() and not stop.is_set():
                    pass
            except Exception:  # noqa: BLE001 - database hiccups must not kill the worker
                log.exception("worker loop error")
                stop.wait(idle)


def _fail_safe(item: StoredSubmission) -> Outcome:
    """An item that keeps failing still gets exactly one decision: a person looks at it."""
    decision = Decision(
        action=ActionKind.QUEUE,
        label="TVEC0",
        grounds="Automated processing failed repeatedly; queued for human review.",
        automated_detection=False,
        automated_decision=True,
        provenance=Provenance(policy="fail-safe", policy_version="1", rule="processing-failed"),
        open_case=True,
        priority=1,
    )
    return Outcome([], [], decision, ("processing failed",))


def _store_outcome(
    conn: Connection, item: StoredSubmission, outcome: Outcome, settings: Settings
) -> int:
    now = datetime.now(UTC)
    sub = item.submission
    decision = outcome.decision
    body = decision.to_json()
    inserted = conn.execute(
        decisions.insert().values(
            submission_id=item.row_id,
            stage="auto",
            action=decision.action.value,
            label=decision.label,
            body=body,
            created_at=now,
        )
    ).inserted_primary_key
    assert inserted is not None
    decision_id = int(inserted[0])
    if outcome.signals:
        conn.execute(
            signals.insert(),
            [
                {"submission_id": item.row_id, "type": s.type, "value": s.value, "meta": s.meta}
                for s in outcome.signals
            ],
        )
    if outcome.findings:
        conn.execute(
            findings.insert(),
            [{"submission_id": item.row_id, "body": f.to_json()} for f in outcome.findings],
        )
    subject = f"item:{sub.item_id}"
    append_event(
        conn,
        "decision.made",
        subject,
        {
            "decision_id": decision_id,
            "stage": "auto",
            "account_id": sub.account_id,
            "kind": sub.kind.value,
            "source": item.source,
            "findings": [f.to_json() for f in outcome.findings],
            "decision": body,
        },
        actor=decision.provenance.actor,
    )
    case_id = None
    if decision.open_case:
        case_row = conn.execute(
            cases.insert().values(
                submission_id=item.row_id,
                state="escalated" if decision.action is ActionKind.ESCALATE else "open",
                due_at=removal_deadline(sub, item.received_at),
                priority=decision.priority,
                label=decision.label,
                reason=decision.grounds,
                opened_at=now,
                updated_at=now,
            )
        ).inserted_primary_key
        assert case_row is not None
        case_id = int(case_row[0])
        append_event(
            conn,
            "case.opened",
            f"case:{case_id}",
            {"item_id": sub.item_id, "priority": decision.priority, "label": decision.label},
            actor="automation",
        )
    payload = {
        "type": "decision",
        "item_id": sub.item_id,
        "account_id": sub.account_id,
        "decision_id": decision_id,
        "case_id": case_id,
        "decision": body,
    }
    for target in settings.webhook_urls:
        key = webhook_key(decision_id, target)
        enqueue(conn, key=key, target=target, topic="decision", payload={**payload, "id": key})
    return decision_id


def removal_deadline(submission: Submission, received_at: datetime) -> datetime | None:
    """A removal order must be acted on within one hour of receipt (TCO Art 3)."""
    if submission.metadata.get("removal_order"):
        return received_at + REMOVAL_ORDER_WINDOW
    return None
