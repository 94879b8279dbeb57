"""Every transparency figure, computed from the ledger's events alone (never from mutable rows),
so a report can be recomputed and checked against the signed chain it names.

Definitions (docs/transparency.md explains them for readers):
- an item is *actioned* in the period when its first restrictive decision (remove, restrict,
  suspend) is there; it counts under that decision's label and action;
- it is *proactive* when no user notice (`report.received`) for it came before that decision
  (Meta's proactive rate; Twitter's "found by internal tools" for accounts, from
  `account.decided` events' `proactive` flag);
- *time to action* runs from the removal order's receipt, the first notice, or the item's
  submission (source removal_order, user_notice, proactive) to the first restrictive decision;
- a removal order is *met* when its `removal_order.actioned` says within_deadline, *late* when
  not, *not acted on* when the period ends without action (with the reason declared, if any).
Kinds other branches write (`account.*`, `exchange.*`) count zero when absent.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from takedown.core.errors import InvalidInput
from takedown.core.events import Event

RESTRICTIVE = ("remove", "restrict", "suspend")
ACCOUNT_ACTIONS = ("warn", "restrict", "suspend")


def _item(event: Event) -> str | None:
    if event.subject.startswith("item:"):
        return event.subject[5:]
    value = event.payload.get("item_id")
    return None if value is None else str(value)


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100): a value that actually occurred."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))
    return ordered[int(rank) - 1]


@dataclass
class Figures:
    start: datetime
    end: datetime
    ledger_head: dict[str, Any] | None = None
    items_actioned: dict[str, dict[str, int]] = field(default_factory=dict)
    items_actioned_total: int = 0
    proactive_items: int = 0
    accounts_actioned: int = 0
    proactive_accounts: int = 0
    notices_received: int = 0
    notices_actioned: int = 0
    time_to_action: dict[str, dict[str, Any]] = field(default_factory=dict)
    removal_orders: dict[str, Any] = field(default_factory=dict)
    appeals: dict[str, int] = field(default_factory=dict)
    reinstatements: dict[str, int] = field(default_factory=dict)
    lawful_requests: dict[str, int] = field(default_factory=dict)
    exchange: dict[str, int] = field(default_factory=dict)
    evidence: dict[str, int] = field(default_factory=dict)
    automation: dict[str, int] = field(default_factory=dict)
    actions_by_day: dict[str, int] = field(default_factory=dict)
    durations: dict[str, list[float]] = field(default_factory=dict)
    events_in_period: int = 0

    @property
    def proactive_share_items(self) -> float | None:
        return _share(self.proactive_items, self.items_actioned_total)

    @property
    def proactive_share_accounts(self) -> float | None:
        return _share(self.proactive_accounts, self.accounts_actioned)

    def to_json(self) -> dict[str, Any]:
        return {
            "period": {"from": self.start.isoformat(), "to": self.end.isoformat()},
            "ledger_head": self.ledger_head,
            "items_actioned": {"total": self.items_actioned_total, "by_label": self.items_actioned},
            "proactive": {
                "items": self.proactive_items,
                "items_share": self.proactive_share_items,
                "accounts_actioned": self.accounts_actioned,
                "accounts_proactive": self.proactive_accounts,
                "accounts_share": self.proactive_share_accounts,
            },
            "notices": {"received": self.notices_received, "actioned": self.notices_actioned},
            "time_to_action_seconds": self.time_to_action,
            "removal_orders": self.removal_orders,
            "appeals": self.appeals,
            "reinstatements": self.reinstatements,
            "lawful_requests": self.lawful_requests,
            "exchange": self.exchange,
            "evidence": self.evidence,
            "automation": self.automation,
            "actions_by_day": self.actions_by_day,
            "events_in_period": self.events_in_period,
        }


def _share(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(part / whole, 4)


def compute(events: Iterable[Event], start: datetime, end: datetime) -> Figures:
    """Figures for events with start <= at < end; earlier events give context (a notice
    before the period still makes an action in it notice-driven)."""
    fig = Figures(start, end)
    first_notice: dict[str, datetime] = {}
    submitted: dict[str, datetime] = {}
    ordered: dict[str, datetime] = {}
    actioned: set[str] = set()
    notices: list[tuple[str, datetime]] = []
    action_at: dict[str, datetime] = {}
    by_label: dict[str, Counter[str]] = defaultdict(Counter)
    durations: dict[str, list[float]] = defaultdict(list)
    orders: dict[int, dict[str, Any]] = {}
    counts: Counter[str] = Counter()
    days: Counter[str] = Counter()
    automation: Counter[str] = Counter()
    for event in events:
        if event.at >= end:
            continue
        in_period = start <= event.at
        fig.events_in_period += in_period
        kind, item, p = event.type, _item(event), event.payload
        if kind == "submission.received" and item:
            submitted.setdefault(item, event.at)
        elif kind == "report.received" and item:
            first_notice.setdefault(item, event.at)
            if in_period:
                notices.append((item, event.at))
        elif kind == "removal_order.received":
            if p.get("item_id"):
                received = p.get("received_at")
                began = datetime.fromisoformat(received) if received else event.at
                ordered.setdefault(str(p["item_id"]), began)
            if in_period:
                orders[int(p["order_id"])] = {"state": "open", "reason": None}
        elif kind.startswith("removal_order.") and int(p.get("order_id", 0)) in orders:
            order = orders[int(p["order_id"])]
            if kind == "removal_order.actioned":
                order["state"] = "met" if p.get("within_deadline") else "late"
            elif kind == "removal_order.unmet":
                order["reason"] = p.get("reason")
        elif kind == "decision.made" and item:
            decision = p.get("decision", {})
            action = str(decision.get("action"))
            if action in RESTRICTIVE and item not in actioned:
                actioned.add(item)
                action_at[item] = event.at
                if not in_period:
                    continue
                label = str(decision.get("label"))
                by_label[label][action] += 1
                days[event.at.date().isoformat()] += 1
                notice = first_notice.get(item)
                if item in ordered:
                    source, began = "removal_order", ordered[item]
                elif notice is not None and notice <= event.at:
                    source, began = "user_notice", notice
                else:
                    source, began = "proactive", submitted.get(item, event.at)
                    fig.proactive_items += 1
                durations[source].append(max(0.0, (event.at - began).total_seconds()))
                automation[
                    "fully_automated" if decision.get("automated_decision") else "human_decided"
                ] += 1
                automation["automated_detection"] += bool(decision.get("automated_detection"))
            elif action == "restore" and in_period:
                after = "after_complaint" if p.get("stage") == "appeal" else "after_review"
                counts[f"reinstated_{after}"] += 1
        elif not in_period:
            continue
        elif kind == "account.decided" and p.get("action") in ACCOUNT_ACTIONS:
            fig.accounts_actioned += 1
            fig.proactive_accounts += bool(p.get("proactive"))
        elif kind == "account.reinstated":
            counts["accounts_reinstated"] += 1
        elif kind == "appeal.filed":
            counts["appeals_filed"] += 1
        elif kind == "appeal.decided":
            counts[f"appeals_{p.get('outcome', 'decided')}"] += 1
        elif kind.startswith("lawful_request."):
            counts[kind] += 1
        elif kind in ("exchange.received", "exchange.published"):
            counts[kind] += int(p.get("count", 0))
        elif kind in ("exchange.feedback_sent", "evidence.preserved", "evidence.purged"):
            counts[kind] += 1
    fig.items_actioned = {label: dict(sorted(c.items())) for label, c in sorted(by_label.items())}
    fig.items_actioned_total = sum(sum(c.values()) for c in by_label.values())
    fig.notices_received = len(notices)
    fig.notices_actioned = sum(
        1 for item, at in notices if item in action_at and action_at[item] >= at
    )
    fig.durations = {k: sorted(v) for k, v in durations.items()}
    fig.time_to_action = {
        source: {
            "count": len(values),
            "median": statistics.median(values),
            "p90": percentile(values, 90),
        }
        for source, values in sorted(durations.items())
    }
    states = Counter(o["state"] for o in orders.values())
    reasons = Counter(
        o["reason"] or "no reason recorded" for o in orders.values() if o["state"] == "open"
    )
    fig.removal_orders = {
        "received": len(orders),
        "met_within_one_hour": states["met"],
        "actioned_late": states["late"],
        "not_acted_on": states["open"],
        "not_acted_on_reasons": dict(sorted(reasons.items())),
    }
    fig.appeals = {
        "filed": counts["appeals_filed"],
        "upheld": counts["appeals_upheld"],
        "overturned": counts["appeals_overturned"],
    }
    fig.reinstatements = {
        "after_complaint": counts["reinstated_after_complaint"],
        "after_review": counts["reinstated_after_review"],
        "accounts": counts["accounts_reinstated"],
    }
    fig.lawful_requests = {
        "received": counts["lawful_request.received"],
        "approved": counts["lawful_request.approved"],
        "refused": counts["lawful_request.refused"],
        "answered": counts["lawful_request.exported"] + counts["lawful_request.refused"],
    }
    fig.exchange = {
        "hashes_received": counts["exchange.received"],
        "hashes_contributed": counts["exchange.published"],
        "feedback_sent": counts["exchange.feedback_sent"],
    }
    fig.evidence = {
        "preserved": counts["evidence.preserved"],
        "purged": counts["evidence.purged"],
    }
    fig.automation = dict(sorted(automation.items()))
    fig.actions_by_day = dict(sorted(days.items()))
    return fig


def parse_day(value: str, *, end: bool = False) -> datetime:
    """A --from/--to date (YYYY-MM-DD, UTC); `end` makes the day inclusive."""
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{value!r} is not a date", hint="use YYYY-MM-DD") from None
    moment = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return moment + timedelta(days=1) if end else moment
