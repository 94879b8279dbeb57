"""How a removal order reaches the review queue and the item's case: the order's item goes to
the top of the queue with the order's deadline, and acting on the order decides that case
through the ordinary case service (so webhooks and the statement of reasons follow)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select, update

from takedown.review.appeals import AppealService
from takedown.review.rules import MAX_PRIORITY
from takedown.review.service import Reviewer
from takedown.storage.ledger import append_event
from takedown.storage.reviews import SqlReviewStore
from takedown.storage.tables import cases, submissions


def submission_row(conn: Connection, item_id: str | None) -> Any:
    if not item_id:
        return None
    return conn.execute(select(submissions.c.id).where(submissions.c.item_id == item_id)).first()


def queue_case(
    conn: Connection,
    order_id: int,
    authority: str,
    item_id: str | None,
    deadline: datetime,
    now: datetime,
) -> int | None:
    """Put the item at the top of the review queue with the order's deadline."""
    sub = submission_row(conn, item_id)
    if sub is None:
        return None
    case = conn.execute(
        select(cases.c.id, cases.c.state)
        .where(cases.c.submission_id == sub.id)
        .order_by(cases.c.id.desc())
        .limit(1)
    ).first()
    if case is not None and case.state in ("open", "escalated"):
        conn.execute(
            update(cases)
            .where(cases.c.id == case.id)
            .values(due_at=deadline, priority=MAX_PRIORITY, updated_at=now)
        )
        return int(case.id)
    if case is not None:
        return int(case.id)
    store = SqlReviewStore(conn)
    latest = store.latest_decision(int(sub.id))
    case_id = store.open_case(
        int(sub.id),
        state="open",
        priority=MAX_PRIORITY,
        label=latest[2].label if latest else "TVEC0",
        reason=f"Removal order #{order_id} from {authority}"[:2000],
    )
    conn.execute(update(cases).where(cases.c.id == case_id).values(due_at=deadline))
    append_event(
        conn,
        "case.opened",
        f"case:{case_id}",
        {"item_id": item_id, "priority": MAX_PRIORITY, "source": "removal_order"},
        actor="automation",
    )
    return case_id


def decide_item(
    conn: Connection,
    order: dict[str, Any],
    *,
    actor: str,
    action: str,
    label: str,
    key_id: int,
    webhook_urls: Sequence[str],
    tenant_webhooks: Sequence[tuple[str, str]] = (),
) -> int | None:
    """Decide the item's open case; returns the decision id (the latest one when the case was
    already decided, None when Takedown does not hold the item)."""
    sub = submission_row(conn, order["item_id"])
    if sub is None:
        return None
    store = SqlReviewStore(conn)
    case = store.latest_case(int(sub.id))
    if case is None or case["state"] not in ("open", "escalated"):
        latest = store.latest_decision(int(sub.id))
        return None if latest is None else latest[0]
    service = AppealService(store, webhook_urls=webhook_urls, tenant_webhooks=tenant_webhooks)
    reason = f"Removal order #{order['id']} from {order['authority']}: {order['legal_basis']}"
    outcome = service.decide(
        int(case["id"]),
        Reviewer(key_id=key_id, actor=actor, is_lead=True),
        action=action,
        label=label,
        reason=reason[:2000],
    )
    return outcome.decision_id
