"""Removal orders (TCO Art 3) as their own resource: received, clocked, actioned, confirmed to
the authority, or declared unmet with a reason and resumed when the reason ceases.

An order for an item Takedown knows puts the item's case at the top of the queue with the
order's deadline (opening a case if there is none), and acting on the order decides that case
through the ordinary case service, so the decision, its webhooks and its statement of reasons
(ground: TCO Art 3) come from the one path every decision takes. Every step is a
`removal_order.*` ledger event; the transparency report counts those, not these rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select, update

from takedown.core.errors import Conflict, InvalidInput, NotFound
from takedown.legal.clock import (
    Clock,
    OrderState,
    UnmetReason,
    deadline_from,
    due_warnings,
    utc_now,
    view,
    within_deadline,
)
from takedown.legal.order_cases import decide_item, submission_row
from takedown.legal.order_cases import queue_case as move_to_queue
from takedown.storage.ledger import append_event
from takedown.storage.legal_tables import removal_orders
from takedown.storage.tables import cases, decisions, submissions

OPEN_STATES = (OrderState.RECEIVED.value, OrderState.PAUSED.value)
ACTIONS = ("remove", "restrict")


@dataclass(frozen=True)
class NewOrder:
    authority: str
    legal_basis: str
    authority_contact: str
    item_id: str | None = None
    url: str | None = None
    received_at: datetime | None = None

    def checked(self) -> NewOrder:
        for name in ("authority", "legal_basis", "authority_contact"):
            value = str(getattr(self, name) or "").strip()
            if not value:
                raise InvalidInput(f"a removal order needs '{name}'")
            if len(value) > (2000 if name == "legal_basis" else 256):
                raise InvalidInput(f"'{name}' is too long")
        if not (self.item_id or self.url):
            raise InvalidInput("a removal order names an item id or a URL (or both)")
        if self.received_at is not None and self.received_at.tzinfo is None:
            raise InvalidInput("'received_at' needs a time zone, e.g. 2026-01-01T10:00:00Z")
        return self


def _subject(order_id: int) -> str:
    return f"removal_order:{order_id}"


class RemovalOrders:
    """The order workflow over one transaction; `clock` is injected so tests control time."""

    def __init__(
        self,
        conn: Connection,
        *,
        clock: Clock = utc_now,
        webhook_urls: Sequence[str] = (),
        tenant_webhooks: Sequence[tuple[str, str]] = (),
    ) -> None:
        self.conn = conn
        self.clock = clock
        self.webhook_urls = tuple(webhook_urls)
        self.tenant_webhooks = tuple(tenant_webhooks)

    # -- reading ---------------------------------------------------------------------------

    def get(self, order_id: int, *, lock: bool = False) -> dict[str, Any]:
        query = select(removal_orders).where(removal_orders.c.id == order_id)
        if lock and self.conn.dialect.name == "postgresql":
            query = query.with_for_update()
        row = self.conn.execute(query).first()
        if row is None:
            raise NotFound(f"no removal order {order_id}")
        return self._json(row._mapping)

    def listing(self, *, open_only: bool = False, limit: int = 200) -> list[dict[str, Any]]:
        query = select(removal_orders).order_by(
            removal_orders.c.deadline_at.is_(None),
            removal_orders.c.deadline_at,
            removal_orders.c.id,
        )
        if open_only:
            query = query.where(removal_orders.c.state.in_(OPEN_STATES))
        return [self._json(r._mapping) for r in self.conn.execute(query.limit(limit))]

    def _json(self, row: Any) -> dict[str, Any]:
        clock = view(row["state"], row["deadline_at"], self.clock())
        iso = {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in row.items()}
        return {
            **iso,
            "clock": {
                "running": clock.running,
                "remaining_seconds": clock.remaining_seconds,
                "overdue": clock.overdue,
                "label": clock.label(),
            },
        }

    # -- the workflow ----------------------------------------------------------------------

    def receive(self, order: NewOrder, *, actor: str, queue_case: bool = True) -> dict[str, Any]:
        """Record the order and start its hour; `queue_case=False` when the worker opens the
        item's case itself (the `metadata.removal_order` alias)."""
        order = order.checked()
        now = self.clock()
        received = order.received_at or now
        deadline = deadline_from(received)
        inserted = self.conn.execute(
            removal_orders.insert().values(
                authority=order.authority.strip(),
                legal_basis=order.legal_basis.strip(),
                item_id=order.item_id,
                url=order.url,
                authority_contact=order.authority_contact.strip(),
                received_at=received,
                deadline_at=deadline,
                state=OrderState.RECEIVED.value,
                warned_minutes=0,
                created_at=now,
            )
        ).inserted_primary_key
        assert inserted is not None
        order_id = int(inserted[0])
        case_id = None
        if queue_case:
            case_id = move_to_queue(
                self.conn, order_id, order.authority, order.item_id, deadline, now
            )
        append_event(
            self.conn,
            "removal_order.received",
            _subject(order_id),
            {
                "order_id": order_id,
                "authority": order.authority.strip(),
                "legal_basis": order.legal_basis.strip(),
                "item_id": order.item_id,
                "url": order.url,
                "received_at": received.isoformat(),
                "deadline_at": deadline.isoformat(),
                "case_id": case_id,
            },
            actor=actor,
            at=now,
        )
        return self.get(order_id)

    def action(
        self,
        order_id: int,
        *,
        actor: str,
        action: str = "remove",
        label: str = "TVEC1",
        reviewer_key_id: int = 0,
    ) -> dict[str, Any]:
        """Act on the order: decide the item's open case (if Takedown holds the item) and
        record whether the hour was met."""
        if action not in ACTIONS:
            raise InvalidInput(f"action must be one of {', '.join(ACTIONS)}")
        order = self.get(order_id, lock=True)
        if order["state"] != OrderState.RECEIVED.value:
            raise Conflict(
                f"removal order {order_id} is {order['state']}",
                hint="resume a paused order first" if order["state"] == "paused" else None,
            )
        now = self.clock()
        deadline = datetime.fromisoformat(order["deadline_at"])
        decision_id = decide_item(
            self.conn,
            order,
            actor=actor,
            action=action,
            label=label,
            key_id=reviewer_key_id,
            webhook_urls=self.webhook_urls,
            tenant_webhooks=self.tenant_webhooks,
        )
        met = within_deadline(deadline, now)
        self.conn.execute(
            update(removal_orders)
            .where(removal_orders.c.id == order_id)
            .values(state=OrderState.ACTIONED.value, action=action, actioned_at=now)
        )
        append_event(
            self.conn,
            "removal_order.actioned",
            _subject(order_id),
            {
                "order_id": order_id,
                "action": action,
                "item_id": order["item_id"],
                "decision_id": decision_id,
                "within_deadline": met,
                "seconds_from_receipt": int(
                    (now - datetime.fromisoformat(order["received_at"])).total_seconds()
                ),
            },
            actor=actor,
            at=now,
        )
        return self.get(order_id)

    def confirm(self, order_id: int, *, reference: str, actor: str) -> dict[str, Any]:
        """Record the confirmation sent to the authority (TCO Annex II)."""
        order = self.get(order_id, lock=True)
        if order["state"] != OrderState.ACTIONED.value:
            raise Conflict(f"removal order {order_id} is {order['state']}, not actioned")
        reference = reference.strip()
        if not reference or len(reference) > 500:
            raise InvalidInput("'reference' (how and when the authority was told) is required")
        now = self.clock()
        self.conn.execute(
            update(removal_orders)
            .where(removal_orders.c.id == order_id)
            .values(state=OrderState.CONFIRMED.value, confirmed_at=now)
        )
        append_event(
            self.conn,
            "removal_order.confirmed",
            _subject(order_id),
            {"order_id": order_id, "reference": reference},
            actor=actor,
            at=now,
        )
        return self.get(order_id)

    def unmet(self, order_id: int, *, reason: str, detail: str, actor: str) -> dict[str, Any]:
        """Declare why the order cannot be met yet (Annex III); the clock stops."""
        why = UnmetReason.parse(reason)
        detail = detail.strip()
        if not detail or len(detail) > 2000:
            raise InvalidInput("'detail' (1 to 2000 characters) explains the reason")
        order = self.get(order_id, lock=True)
        if order["state"] != OrderState.RECEIVED.value:
            raise Conflict(f"removal order {order_id} is {order['state']}")
        now = self.clock()
        self.conn.execute(
            update(removal_orders)
            .where(removal_orders.c.id == order_id)
            .values(
                state=OrderState.PAUSED.value,
                reason=why.value,
                reason_detail=detail,
                paused_at=now,
            )
        )
        append_event(
            self.conn,
            "removal_order.unmet",
            _subject(order_id),
            {"order_id": order_id, "reason": why.value, "detail": detail},
            actor=actor,
            at=now,
        )
        return self.get(order_id)

    def resume(self, order_id: int, *, actor: str) -> dict[str, Any]:
        """The reason ceased (or the clarification arrived): a fresh hour starts now."""
        order = self.get(order_id, lock=True)
        if order["state"] != OrderState.PAUSED.value:
            raise Conflict(f"removal order {order_id} is {order['state']}, not paused")
        now = self.clock()
        deadline = deadline_from(now)
        self.conn.execute(
            update(removal_orders)
            .where(removal_orders.c.id == order_id)
            .values(
                state=OrderState.RECEIVED.value,
                deadline_at=deadline,
                paused_at=None,
                warned_minutes=0,
            )
        )
        sub = submission_row(self.conn, order["item_id"])
        if sub is not None:
            self.conn.execute(
                update(cases)
                .where(cases.c.submission_id == sub.id, cases.c.state.in_(("open", "escalated")))
                .values(due_at=deadline)
            )
        append_event(
            self.conn,
            "removal_order.resumed",
            _subject(order_id),
            {"order_id": order_id, "reason": order["reason"], "deadline_at": deadline.isoformat()},
            actor=actor,
            at=now,
        )
        return self.get(order_id)

    def reconcile(self) -> list[int]:
        """Mark running orders actioned whose item was removed or restricted some other way
        (the worker's removal-order rule for the `metadata.removal_order` alias, a reviewer
        deciding the case directly): the action time is the decision's, or the order's
        receipt when the item was already down."""
        done: list[int] = []
        rows = self.conn.execute(
            select(removal_orders).where(
                removal_orders.c.state == OrderState.RECEIVED.value,
                removal_orders.c.item_id.is_not(None),
            )
        ).all()
        for row in rows:
            decision = self.conn.execute(
                select(decisions.c.id, decisions.c.action, decisions.c.created_at)
                .join(submissions, submissions.c.id == decisions.c.submission_id)
                .where(submissions.c.item_id == row.item_id, decisions.c.action.in_(ACTIONS))
                .order_by(decisions.c.id)
                .limit(1)
            ).first()
            if decision is None:
                continue
            at = max(decision.created_at, row.received_at)
            self.conn.execute(
                update(removal_orders)
                .where(removal_orders.c.id == row.id)
                .values(state=OrderState.ACTIONED.value, action=decision.action, actioned_at=at)
            )
            append_event(
                self.conn,
                "removal_order.actioned",
                _subject(int(row.id)),
                {
                    "order_id": int(row.id),
                    "action": decision.action,
                    "item_id": row.item_id,
                    "decision_id": int(decision.id),
                    "within_deadline": within_deadline(row.deadline_at, at),
                    "seconds_from_receipt": int((at - row.received_at).total_seconds()),
                    "via": "decision",
                },
                actor="automation",
            )
            done.append(int(row.id))
        return done

    def tick(self) -> list[tuple[int, int]]:
        """Reconcile, then send the 30- and 50-minute warnings (and the overdue one) that are
        due; returns (order id, minutes) for each warning written."""
        self.reconcile()
        now = self.clock()
        sent: list[tuple[int, int]] = []
        rows = self.conn.execute(
            select(removal_orders).where(removal_orders.c.state == OrderState.RECEIVED.value)
        ).all()
        for row in rows:
            for minutes in due_warnings(row.deadline_at, now, int(row.warned_minutes)):
                # compare-and-set, so two housekeeping processes never both send a warning
                claimed = self.conn.execute(
                    update(removal_orders)
                    .where(
                        removal_orders.c.id == row.id,
                        removal_orders.c.warned_minutes < minutes,
                        removal_orders.c.state == OrderState.RECEIVED.value,
                    )
                    .values(warned_minutes=minutes)
                ).rowcount
                if not claimed:
                    continue
                remaining = int((row.deadline_at - now).total_seconds())
                append_event(
                    self.conn,
                    "removal_order.overdue" if minutes >= 60 else "removal_order.warning",
                    _subject(int(row.id)),
                    {"order_id": int(row.id), "minutes": minutes, "remaining_seconds": remaining},
                    actor="automation",
                    at=now,
                )
                sent.append((int(row.id), minutes))
        return sent
