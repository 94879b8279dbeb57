"""Committing a worker batch: everything the batch's items produced (decisions, signals,
findings, review cases, ledger events, outbox messages, platform actions) in a few multi-row
statements inside one transaction, so the batch costs a handful of round trips, not dozens per
item. The caller owns the transaction and decides what to do when it fails (the worker then
commits each item alone).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, select, update

from takedown.config import Settings
from takedown.core.content import Submission
from takedown.core.decisions import ActionKind, Decision, webhook_key
from takedown.core.findings import Finding
from takedown.core.tenancy import account_key
from takedown.services.flood import FloodGuard
from takedown.services.pipeline import Outcome
from takedown.storage import submissions as subs
from takedown.storage.ledger import append_events
from takedown.storage.outbox import enqueue
from takedown.storage.submissions import StoredSubmission
from takedown.storage.tables import cases, decisions, findings, outbox, signals, submissions

REMOVAL_ORDER_WINDOW = timedelta(hours=1)

Actioner = Callable[[Connection, Submission, Decision, int], None]
"""Queues platform actions for a committed decision, inside the decision's transaction."""


@dataclass(frozen=True)
class Committed:
    """A decision just written, with what it was made from (so an actioner need not read the
    findings and signals back)."""

    submission: Submission
    decision: Decision
    decision_id: int
    findings: Sequence[Finding]
    values: Sequence[tuple[str, str]]
    """(signal type, value) of the item's signals."""


BatchActioner = Callable[[Connection, Sequence[Committed]], None]
"""Like an Actioner, for all of a batch's fresh decisions at once, in batch order."""


@dataclass(frozen=True)
class Ready:
    """One claimed item with its outcome, ready to commit (`error` is recorded on the item)."""

    item: StoredSubmission
    outcome: Outcome
    error: str | None = None


def store_batch(
    conn: Connection,
    ready: Sequence[Ready],
    settings: Settings,
    actioners: Sequence[Actioner],
    flood: FloodGuard,
    batch_actioners: Sequence[BatchActioner] = (),
) -> list[tuple[Ready, int | None]]:
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
        conn.execute(
            decisions.insert(),
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
        )
        # Read back instead of RETURNING, which SQLite's driver would run row by row.
        decision_ids = {
            int(r.submission_id): int(r.id)
            for r in conn.execute(
                select(decisions.c.id, decisions.c.submission_id).where(
                    decisions.c.submission_id.in_([e.item.row_id for e in fresh]),
                    decisions.c.stage == "auto",
                )
            )
        }
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
        conn.execute(cases.insert(), [_case_row(e, now) for e in with_case])
        for r in conn.execute(
            select(cases.c.id, cases.c.submission_id)
            .where(cases.c.submission_id.in_([e.item.row_id for e in with_case]))
            .order_by(cases.c.id)
        ):
            case_ids[int(r.submission_id)] = int(r.id)  # the newest: the one just opened
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
        for target in settings.webhook_targets(e.item.tenant):
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
    _enqueue_many(conn, messages)
    for e in fresh:
        decision_id = decision_ids[e.item.row_id]
        for actioner in actioners:  # account history is per tenant: they see the account's key
            actioner(conn, _account_scoped(e.item.submission), e.outcome.decision, decision_id)
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
    # Last, just before the commit: account rows (locked per account) and the ledger head
    # (one lock for every writer, the API's accepts included) are held for as short a time as
    # the transaction allows.
    if batch_actioners and fresh:
        committed = [
            Committed(_account_scoped(e.item.submission), e.outcome.decision,
                      decision_ids[e.item.row_id], e.outcome.findings,
                      [(s.type, s.value) for s in e.outcome.signals])
            for e in fresh
        ]
        for batch_actioner in batch_actioners:
            batch_actioner(conn, committed)
    append_events(conn, events, at=now)
    return [(e, decision_ids.get(e.item.row_id)) for e in ready]


def _case_row(entry: Ready, now: datetime) -> dict[str, Any]:
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


def _account_scoped(submission: Submission) -> Submission:
    """The item as account actioners see it: its account named by its per-tenant key."""
    if not submission.account_id or not submission.tenant:
        return submission
    return replace(submission, account_id=account_key(submission.tenant, submission.account_id))


def removal_deadline(submission: Submission, received_at: datetime) -> datetime | None:
    """A removal order must be acted on within one hour of receipt (TCO Art 3)."""
    if submission.metadata.get("removal_order"):
        return received_at + REMOVAL_ORDER_WINDOW
    return None
