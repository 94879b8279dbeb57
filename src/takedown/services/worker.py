"""The worker: claims submissions in batches, runs the pipeline on each batch, and commits the
whole batch (signals, findings, each item's one automated decision, review cases, outbox
messages, ledger events) in one transaction, so a kill at any moment leaves either nothing or
all of it.

A batch commit is all-or-nothing for the batch; if it fails, every item is committed again in a
transaction of its own, so one bad item never poisons its neighbours: it alone records its
error and is retried after its lease, and after `MAX_ATTEMPTS` it gets a fail-safe decision
(human review) — the dead-letter lane. The automated decision is unique per item (a database
constraint), so a re-delivered item whose decision was already committed elsewhere is skipped:
never two decisions.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, select, update
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
from takedown.storage.ledger import append_events
from takedown.storage.outbox import enqueue
from takedown.storage.submissions import StoredSubmission
from takedown.storage.tables import cases, decisions, findings, outbox, signals, submissions

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
REMOVAL_ORDER_WINDOW = timedelta(hours=1)

Actioner = Callable[[Connection, Submission, Decision, int], None]
"""Queues platform actions for a committed decision, inside the decision's transaction."""
Prefetch = Callable[[Sequence[Submission]], None]
"""Loads what the policy will ask about a whole batch in a few queries (StoredFacts.prefetch)."""
Observer = Callable[[str, Decision | None, float], None]
"""Told about each finished item: outcome ('decided', 'failed', 'skipped'), decision, and
seconds from receipt to commit (metrics)."""


@dataclass(frozen=True)
class _Ready:
    item: StoredSubmission
    outcome: Outcome
    error: str | None = None


class Worker:
    def __init__(
        self,
        engine: Engine,
        pipeline: Pipeline,
        settings: Settings,
        *,
        on_committed: Callable[[int], None] | None = None,
        actioners: Sequence[Actioner] = (),
        prefetch: Prefetch | None = None,
        observe: Observer | None = None,
    ) -> None:
        self.engine = engine
        self.pipeline = pipeline
        self.settings = settings
        self.on_committed = on_committed
        self.flood = FloodGuard(settings.flood_per_hour)
        self.actioners = list(actioners)
        self.prefetch = prefetch
        self.observe = observe
        self.batch_size = max(1, settings.worker_batch)
        self.budget = settings.batch_budget_seconds

    def run_once(self, *, limit: int | None = None, ids: list[int] | None = None) -> int:
        """Claim and process one batch of runnable items; returns how many were claimed."""
        with self.engine.begin() as conn:
            claimed = subs.claim(
                conn,
                limit=limit or self.batch_size,
                lease=timedelta(seconds=self.settings.lease_seconds),
                ids=ids,
            )
        if claimed:
            self.process_batch(claimed)
        return len(claimed)

    def process_batch(self, claimed: Sequence[StoredSubmission]) -> None:
        ready = [
            _Ready(item, _fail_safe(item), "gave up after repeated failures")
            for item in claimed
            if item.attempts > MAX_ATTEMPTS
        ]
        todo = [item for item in claimed if item.attempts <= MAX_ATTEMPTS]
        if todo:
            if self.prefetch is not None:
                try:
                    self.prefetch([item.submission for item in todo])
                except Exception:  # noqa: BLE001 - facts are then read per item
                    log.warning("facts prefetch failed", exc_info=True)
            result = self.pipeline.run_batch(
                [item.submission for item in todo],
                annotate=self._annotate,
                budget_seconds=self.budget,
            )
            for n, outcome in result.done:
                item = todo[n]
                if isinstance(outcome, Exception):
                    self._record_failure(item, outcome)
                    continue
                guarded = guard_decision(outcome.decision, outcome.findings)
                ready.append(_Ready(item, replace(outcome, decision=guarded)))
            if result.skipped:
                self._release([todo[n] for n in result.skipped])
        if ready:
            self._commit_batch(ready)

    def _annotate(self, found: list[list[Finding]]) -> list[list[Finding]]:
        """Flood state for every finding of the batch in one read."""
        if not any(f.entry_id is not None for group in found for f in group):
            return found
        flat = [f for group in found for f in group]
        with reading(self.engine) as conn:
            marked = self.flood.annotate(conn, flat)
        out: list[list[Finding]] = []
        pos = 0
        for group in found:
            out.append(marked[pos : pos + len(group)])
            pos += len(group)
        return out

    def _record_failure(self, item: StoredSubmission, error: Exception) -> None:
        log.error("processing %s failed: %s", item.row_id, type(error).__name__,
                  exc_info=error)
        with self.engine.begin() as conn:
            subs.record_error(conn, item.row_id, f"{type(error).__name__}: {error}"[:2000])
        if self.observe is not None:
            self.observe("failed", None, 0.0)

    def _release(self, items: Sequence[StoredSubmission]) -> None:
        """Items the batch had no time for go back to pending at once (attempt not counted)."""
        with self.engine.begin() as conn:
            conn.execute(
                update(submissions)
                .where(submissions.c.id.in_([i.row_id for i in items]),
                       submissions.c.status == subs.PROCESSING)
                .values(status=subs.PENDING, lease_until=None,
                        attempts=submissions.c.attempts - 1)
            )
        if self.observe is not None:
            for _ in items:
                self.observe("skipped", None, 0.0)

    def _commit_batch(self, ready: list[_Ready]) -> None:
        try:
            with self.engine.begin() as conn:
                committed = _store_batch(conn, ready, self.settings, self.actioners, self.flood)
        except Exception:  # noqa: BLE001 - each item is retried alone below
            log.warning("batch commit of %d items failed; committing one by one", len(ready),
                        exc_info=True)
            for entry in ready:
                try:
                    self._commit(entry)
                except Exception as error:  # noqa: BLE001 - retried after its lease
                    self._record_failure(entry.item, error)
            return
        self._after_commit(committed)

    def _commit(self, entry: _Ready) -> None:
        try:
            with self.engine.begin() as conn:
                committed = _store_batch(conn, [entry], self.settings, self.actioners, self.flood)
        except IntegrityError:
            log.info("item %s already decided elsewhere; skipping", entry.item.row_id)
            with self.engine.begin() as conn:
                subs.mark_done(conn, entry.item.row_id)
            return
        self._after_commit(committed)

    def _after_commit(self, committed: list[tuple[_Ready, int | None]]) -> None:
        now = datetime.now(UTC)
        for entry, decision_id in committed:
            if decision_id is None:
                continue
            if self.observe is not None:
                latency = (now - entry.item.received_at).total_seconds()
                self.observe("decided", entry.outcome.decision, latency)
        if self.on_committed is not None and any(d is not None for _e, d in committed):
            last = max(d for _e, d in committed if d is not None)
            self.on_committed(last)

    def run_forever(self, stop: threading.Event, queue: WorkQueue, *, idle: float = 0.5) -> None:
        """Take announced ids first, then sweep the table for anything a notification missed.
        With the queue unreachable (Redis restarting) the sweep alone keeps work moving."""
        last_sweep = 0.0
        queue_down = False
        while not stop.is_set():
            try:
                try:
                    received = queue.receive(idle)
                    if queue_down:
                        log.info("work queue reachable again")
                    queue_down = False
                except Exception as error:  # noqa: BLE001 - fall back to sweeping the table
                    if not queue_down:
                        log.warning("work queue unavailable (%s); sweeping the table",
                                    type(error).__name__)
                    queue_down = True
                    received = []
                    stop.wait(min(idle, 0.2))
                if received:
                    ids = [row_id for _tag, row_id in received]
                    for start in range(0, len(ids), self.batch_size):
                        chunk = ids[start : start + self.batch_size]
                        self.run_once(ids=chunk, limit=len(chunk))
                    with contextlib.suppress(Exception):
                        queue.ack([tag for tag, _ in received])
                if not received or time.monotonic() - last_sweep > idle:
                    while self.run_once() and not stop.is_set():
                        pass
                    last_sweep = time.monotonic()
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


def _store_batch(
    conn: Connection,
    ready: Sequence[_Ready],
    settings: Settings,
    actioners: Sequence[Actioner],
    flood: FloodGuard,
) -> list[tuple[_Ready, int | None]]:
    """Everything a batch produced, in a few multi-row statements inside the caller's
    transaction. Items whose automated decision already exists are only marked done (their
    decision id comes back as None)."""
    now = datetime.now(UTC)
    row_ids = [entry.item.row_id for entry in ready]
    already = set(
        conn.execute(
            select(decisions.c.submission_id).where(
                decisions.c.submission_id.in_(row_ids), decisions.c.stage == "auto"
            )
        ).scalars()
    )
    fresh = [entry for entry in ready if entry.item.row_id not in already]
    # Serialised once per item: the row, the ledger event and the webhook share them.
    bodies = {e.item.row_id: e.outcome.decision.to_json() for e in fresh}
    found = {e.item.row_id: [f.to_json() for f in e.outcome.findings] for e in fresh}
    decision_ids: dict[int, int] = {}
    if fresh:
        inserted = conn.execute(
            decisions.insert().returning(
                decisions.c.id, decisions.c.submission_id, sort_by_parameter_order=True
            ),
            [
                {
                    "submission_id": e.item.row_id,
                    "stage": "auto",
                    "action": e.outcome.decision.action.value,
                    "label": e.outcome.decision.label,
                    "body": bodies[e.item.row_id],
                    "created_at": now,
                }
                for e in fresh
            ],
        ).all()
        decision_ids = {int(r.submission_id): int(r.id) for r in inserted}
    signal_rows = [
        {"submission_id": e.item.row_id, "type": s.type, "value": s.value, "meta": s.meta}
        for e in fresh
        for s in e.outcome.signals
    ]
    if signal_rows:
        conn.execute(signals.insert(), signal_rows)
    finding_rows = [
        {"submission_id": e.item.row_id, "body": body}
        for e in fresh
        for body in found[e.item.row_id]
    ]
    if finding_rows:
        conn.execute(findings.insert(), finding_rows)
    with_case = [e for e in fresh if e.outcome.decision.open_case]
    case_ids: dict[int, int] = {}
    if with_case:
        opened = conn.execute(
            cases.insert().returning(
                cases.c.id, cases.c.submission_id, sort_by_parameter_order=True
            ),
            [_case_row(e, now) for e in with_case],
        ).all()
        case_ids = {int(r.submission_id): int(r.id) for r in opened}
    events: list[tuple[str, str, dict[str, Any], str]] = []
    messages: list[dict[str, Any]] = []
    for e in fresh:
        sub, decision = e.item.submission, e.outcome.decision
        decision_id = decision_ids[e.item.row_id]
        body = bodies[e.item.row_id]
        events.append((
            "decision.made",
            f"item:{sub.item_id}",
            {
                "decision_id": decision_id,
                "stage": "auto",
                "account_id": sub.account_id,
                "kind": sub.kind.value,
                "source": e.item.source,
                "findings": found[e.item.row_id],
                "decision": body,
            },
            decision.provenance.actor,
        ))
        case_id = case_ids.get(e.item.row_id)
        if case_id is not None:
            events.append((
                "case.opened",
                f"case:{case_id}",
                {"item_id": sub.item_id, "priority": decision.priority, "label": decision.label},
                "automation",
            ))
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
            messages.append({
                "idempotency_key": key,
                "target": target,
                "topic": "decision",
                "payload": {**payload, "id": key},
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            })
    append_events(conn, events, at=now)
    _enqueue_many(conn, messages)
    for e in fresh:
        decision_id = decision_ids[e.item.row_id]
        for actioner in actioners:
            actioner(conn, e.item.submission, e.outcome.decision, decision_id)
        if any(f.entry_id is not None for f in e.outcome.findings):
            flood.record(conn, e.item.row_id, e.outcome.findings)
    conn.execute(
        update(submissions)
        .where(submissions.c.id == bindparam("rid"))
        .values(status=subs.DONE, lease_until=None, done_at=now, last_error=bindparam("err")),
        [
            {
                "rid": e.item.row_id,
                "err": e.error or "; ".join(e.outcome.errors) or None,
            }
            for e in ready
        ],
    )
    return [(e, decision_ids.get(e.item.row_id)) for e in ready]


def _case_row(entry: _Ready, now: datetime) -> dict[str, Any]:
    decision = entry.outcome.decision
    return {
        "submission_id": entry.item.row_id,
        "state": "escalated" if decision.action is ActionKind.ESCALATE else "open",
        "due_at": removal_deadline(entry.item.submission, entry.item.received_at),
        "priority": decision.priority,
        "label": decision.label,
        "reason": decision.grounds,
        "opened_at": now,
        "updated_at": now,
    }


def _enqueue_many(conn: Connection, messages: list[dict[str, Any]]) -> None:
    """Outbox rows for the batch; keys already queued (a re-run) are left alone."""
    if not messages:
        return
    if len(messages) == 1:
        m = messages[0]
        enqueue(conn, key=m["idempotency_key"], target=m["target"], topic=m["topic"],
                payload=m["payload"])
        return
    keys = [m["idempotency_key"] for m in messages]
    existing = set(
        conn.execute(
            select(outbox.c.idempotency_key).where(outbox.c.idempotency_key.in_(keys))
        ).scalars()
    )
    rows = [m for m in messages if m["idempotency_key"] not in existing]
    if rows:
        conn.execute(outbox.insert(), rows)


def removal_deadline(submission: Submission, received_at: datetime) -> datetime | None:
    """A removal order must be acted on within one hour of receipt (TCO Art 3)."""
    if submission.metadata.get("removal_order"):
        return received_at + REMOVAL_ORDER_WINDOW
    return None
