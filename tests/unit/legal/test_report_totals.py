"""Property: the transparency report's totals equal the ledger's own counts, whatever the mix
and order of events (DESIGN §10.6)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from takedown.core.events import Event
from takedown.reports.metrics import compute

START = datetime(2026, 1, 1, tzinfo=UTC)
END = START + timedelta(days=10)
ITEMS = [f"i{n}" for n in range(6)]

kind = st.sampled_from(
    ["submission", "report", "decision", "order", "actioned", "appeal", "exchange", "account"]
)
step = st.tuples(
    kind,
    st.sampled_from(ITEMS),
    st.sampled_from(["remove", "restrict", "none", "restore", "queue"]),
    st.sampled_from(["TVEC1", "TVEC7", "TVEC0"]),
    st.integers(min_value=0, max_value=60 * 24 * 14),  # minutes after START - 2 days
    st.integers(min_value=0, max_value=20),
    st.booleans(),
)


def _events(steps: list[tuple[Any, ...]]) -> list[Event]:
    made: list[Event] = []
    orders = 0
    times = sorted(s[4] for s in steps)
    for seq, (what, item, action, label, _t, count, flag) in enumerate(steps, 1):
        at = START - timedelta(days=2) + timedelta(minutes=times[seq - 1])
        subject, payload = f"item:{item}", {}
        if what == "submission":
            type_ = "submission.received"
        elif what == "report":
            type_ = "report.received"
        elif what == "decision":
            type_, payload = (
                "decision.made",
                {
                    "stage": "auto",
                    "decision": {"action": action, "label": label, "automated_decision": flag},
                },
            )
        elif what == "order":
            orders += 1
            type_, subject = "removal_order.received", f"removal_order:{orders}"
            payload = {"order_id": orders, "item_id": item if flag else None}
        elif what == "actioned":
            type_, subject = "removal_order.actioned", f"removal_order:{max(orders, 1)}"
            payload = {"order_id": max(orders, 1), "within_deadline": flag}
        elif what == "appeal":
            type_ = "appeal.filed"
        elif what == "exchange":
            type_, payload = "exchange.received", {"count": count}
        else:
            type_, subject = "account.decided", f"account:{item}"
            payload = {"action": "suspend", "proactive": flag}
        made.append(Event(seq, type_, subject, payload, "test", at, "0" * 64, "0" * 64))
    return made


def _in(events: list[Event], type_: str) -> list[Event]:
    return [e for e in events if e.type == type_ and START <= e.at < END]


@settings(max_examples=150, deadline=None)
@given(st.lists(step, max_size=60))
def test_report_totals_equal_ledger_counts(steps: list[tuple[Any, ...]]) -> None:
    events = _events(steps)
    fig = compute(events, START, END)
    assert fig.notices_received == len(_in(events, "report.received"))
    assert fig.appeals["filed"] == len(_in(events, "appeal.filed"))
    assert fig.exchange["hashes_received"] == sum(
        e.payload["count"] for e in _in(events, "exchange.received")
    )
    accounts = _in(events, "account.decided")
    assert fig.accounts_actioned == len(accounts)
    assert fig.proactive_accounts == sum(e.payload["proactive"] for e in accounts)
    orders = fig.removal_orders
    assert orders["received"] == len(_in(events, "removal_order.received"))
    assert (
        orders["met_within_one_hour"] + orders["actioned_late"] + orders["not_acted_on"]
        == (orders["received"])
    )
    first: dict[str, Event] = {}
    for e in events:
        if e.type == "decision.made" and e.payload["decision"]["action"] in (
            "remove",
            "restrict",
            "suspend",
        ):
            first.setdefault(e.subject, e)
    actioned = [e for e in first.values() if START <= e.at < END]
    assert fig.items_actioned_total == len(actioned)
    assert sum(sum(a.values()) for a in fig.items_actioned.values()) == len(actioned)
    assert sum(len(v) for v in fig.durations.values()) == len(actioned)
    assert fig.proactive_items == len(fig.durations.get("proactive", []))
    assert fig.notices_actioned <= fig.notices_received
    assert sum(fig.actions_by_day.values()) == len(actioned)
