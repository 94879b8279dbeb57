"""Crisis retro-scan: when a crisis entry arrives, look back through the node's own recent
submissions for it, and put every hit at the top of the review queue with the crisis named.

An item posted before the hash existed was matched against nothing; this is how it is caught
anyway. Only stored signals are compared (the node keeps hashes of what it saw), so a
retro-scan needs no content and is quick: one pass over the last N hours of one signal type.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, select, update

from takedown.exchange.client import ExchangeEntry
from takedown.review.rules import MAX_PRIORITY
from takedown.signals.registry import SignalRegistry
from takedown.storage.db import reading
from takedown.storage.ledger import append_event
from takedown.storage.tables import cases, signals, submissions

OPEN_STATES = ("open", "escalated")


@dataclass(frozen=True)
class CrisisHit:
    submission_id: int
    item_id: str
    entry_id: int
    distance: int
    case_id: int


def crisis_name(entry: ExchangeEntry) -> str:
    """A crisis is named by a `crisis:<name>` tag, else the entry's note, else its id."""
    for tag in entry.tags:
        if tag.lower().startswith("crisis:"):
            return tag.split(":", 1)[1].strip() or tag
    return (entry.note or f"crisis entry {entry.external_id}")[:200]


def _distance(registry: SignalRegistry, signal_type: str, a: str, others: Sequence[str]) -> int:
    compare = registry.get(signal_type).compare
    best = None
    for value in others:
        try:
            d = compare(a, value)
        except ValueError:
            continue
        best = d if best is None else min(best, d)
    return 10**6 if best is None else best


def retro_scan(
    engine: Engine,
    registry: SignalRegistry,
    entries: Sequence[tuple[int, ExchangeEntry]],
    *,
    source: str,
    hours: float,
    thresholds: Mapping[str, int],
) -> list[CrisisHit]:
    since = datetime.now(UTC) - timedelta(hours=hours)
    hits: list[CrisisHit] = []
    known = set(registry.names())
    for entry_id, entry in entries:
        if entry.signal_type not in known:
            continue
        threshold = thresholds.get(entry.signal_type, 0)
        with reading(engine) as conn:
            rows = conn.execute(
                select(
                    signals.c.submission_id, signals.c.value, signals.c.meta, submissions.c.item_id
                )
                .join(submissions, submissions.c.id == signals.c.submission_id)
                .where(signals.c.type == entry.signal_type, submissions.c.received_at >= since)
            ).all()
        matched: dict[int, tuple[str, int]] = {}
        for row in rows:
            variants = [row.value, *((row.meta or {}).get("query_hashes") or [])]
            distance = _distance(registry, entry.signal_type, entry.value, variants)
            if distance <= threshold:
                item = matched.get(int(row.submission_id))
                if item is None or distance < item[1]:
                    matched[int(row.submission_id)] = (str(row.item_id), distance)
        for submission_id, (item_id, distance) in sorted(matched.items()):
            case_id = _raise_case(engine, submission_id, item_id, entry_id, entry, distance, source)
            hits.append(CrisisHit(submission_id, item_id, entry_id, distance, case_id))
    return hits


def _raise_case(
    engine: Engine,
    submission_id: int,
    item_id: str,
    entry_id: int,
    entry: ExchangeEntry,
    distance: int,
    source: str,
) -> int:
    name = crisis_name(entry)
    reason = (
        f"Crisis '{name}': the item matches (distance {distance}) a crisis hash shared by "
        f"{entry.contributor or source} through {source}; found by the retro-scan of recent items."
    )
    label = entry.label or "TVEC1"
    now = datetime.now(UTC)
    with engine.begin() as conn:
        case = conn.execute(
            select(cases.c.id)
            .where(cases.c.submission_id == submission_id, cases.c.state.in_(OPEN_STATES))
            .order_by(cases.c.id.desc())
        ).first()
        if case is not None:
            case_id = int(case.id)
            conn.execute(
                update(cases)
                .where(cases.c.id == case_id)
                .values(priority=MAX_PRIORITY, reason=reason, updated_at=now)
            )
        else:
            inserted = conn.execute(
                cases.insert().values(
                    submission_id=submission_id,
                    state="open",
                    priority=MAX_PRIORITY,
                    label=label,
                    reason=reason,
                    opened_at=now,
                    updated_at=now,
                )
            ).inserted_primary_key
            assert inserted is not None
            case_id = int(inserted[0])
            append_event(
                conn,
                "case.opened",
                f"case:{case_id}",
                {
                    "item_id": item_id,
                    "priority": MAX_PRIORITY,
                    "label": label,
                    "source": "crisis_retro_scan",
                },
                actor=f"exchange:{source}",
            )
        append_event(
            conn,
            "exchange.crisis_hit",
            f"item:{item_id}",
            {
                "source": source,
                "crisis": name,
                "entry_id": entry_id,
                "case_id": case_id,
                "distance": distance,
            },
            actor=f"exchange:{source}",
        )
    return case_id
