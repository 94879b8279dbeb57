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
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, update
from sqlalchemy.exc import IntegrityError

from takedown.config import Settings
from takedown.core.content import Submission
from takedown.core.decisions import ActionKind, Decision, Provenance
from takedown.core.findings import Finding
from takedown.queue.base import WorkQueue
from takedown.services.batch_commit import (  # noqa: F401 - removal_deadline re-exported
    REMOVAL_ORDER_WINDOW,
    Actioner,
    BatchActioner,
    Ready,
    removal_deadline,
    store_batch,
)
from takedown.services.flood import FloodGuard, guard_decision
from takedown.services.pipeline import Outcome, Pipeline
from takedown.storage import submissions as subs
from takedown.storage.db import reading
from takedown.storage.submissions import StoredSubmission
from takedown.storage.tables import submissions

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5

Prefetch = Callable[[Sequence[Submission]], None]
"""Loads what the policy will ask about a whole batch in a few queries (StoredFacts.prefetch)."""
Observer = Callable[[str, Decision | None, float], None]
"""Told about each finished item: outcome ('decided', 'failed', 'skipped'), decision, and
seconds from receipt to commit (metrics)."""


class Worker:
    def __init__(
        self,
        engine: Engine,
        pipeline: Pipeline,
        settings: Settings,
        *,
        on_committed: Callable[[int], None] | None = None,
        actioners: Sequence[Actioner] = (),
        batch_actioners: Sequence[BatchActioner] = (),
        prefetch: Prefetch | None = None,
        observe: Observer | None = None,
    ) -> None:
        self.engine = engine
        self.pipeline = pipeline
        self.settings = settings
        self.on_committed = on_committed
        self.flood = FloodGuard(settings.flood_per_hour)
        self.actioners = list(actioners)
        self.batch_actioners = list(batch_actioners)
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
            Ready(item, _fail_safe(item), "gave up after repeated failures")
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
                ready.append(Ready(item, replace(outcome, decision=guarded)))
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

    def _commit_batch(self, ready: list[Ready]) -> None:
        try:
            with self.engine.begin() as conn:
                committed = store_batch(conn, ready, self.settings, self.actioners, self.flood,
                                        self.batch_actioners)
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

    def _commit(self, entry: Ready) -> None:
        try:
            with self.engine.begin() as conn:
                committed = store_batch(conn, [entry], self.settings, self.actioners, self.flood,
                                        self.batch_actioners)
        except IntegrityError:
            log.info("item %s already decided elsewhere; skipping", entry.item.row_id)
            with self.engine.begin() as conn:
                subs.mark_done(conn, entry.item.row_id)
            return
        self._after_commit(committed)

    def _after_commit(self, committed: list[tuple[Ready, int | None]]) -> None:
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
        With the queue unreachable (Redis restarting) the sweep alone keeps work moving.

        The first pass sweeps before waiting on the queue: a worker process started beside a
        backlog (or one whose queue never hears of the API's commits: the embedded queue in a
        separate `takedown worker`) starts on it at once, not after `idle` seconds; a sweep
        runs until nothing is runnable, so a backlog never waits on `receive`.

        Before its first claim the worker warms the pipeline (`Pipeline.warm`: models that load
        lazily), so the first batches under load do not spend seconds loading them while their
        leases run; a failure there is logged and the worker carries on."""
        try:
            self.pipeline.warm()
        except Exception:  # noqa: BLE001 - a cold model is slower, not broken
            log.warning("warming the pipeline failed; models load on first use", exc_info=True)
        last_sweep = -float("inf")
        queue_down = False
        while not stop.is_set():
            try:
                if time.monotonic() - last_sweep > idle:
                    while self.run_once() and not stop.is_set():
                        pass
                    last_sweep = time.monotonic()
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
                else:
                    last_sweep = -float("inf")  # nothing announced: sweep on the next pass
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

