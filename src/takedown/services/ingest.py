"""Ingestion: validate every item first, then store the whole request in one transaction, then
announce it. A request with any bad item stores nothing; a resent item returns its first result.

A batch is stored with one multi-row insert and one ledger append, and announced with one
queue call, so a 1,000-item request costs a few statements rather than thousands."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import IntegrityError

from takedown.core.content import Submission
from takedown.core.errors import InvalidInput, NotFound
from takedown.legal.orders import NewOrder, RemovalOrders
from takedown.queue.base import WorkQueue
from takedown.storage import submissions as subs
from takedown.storage.db import reading
from takedown.storage.ledger import append_events


@dataclass(frozen=True)
class Accepted:
    item_id: str
    row_id: int
    created: bool
    received_at: datetime | None = None


def accept(
    engine: Engine,
    queue: WorkQueue,
    items: Sequence[Submission],
    *,
    source: str = "api",
    actor: str = "api",
    tenant: str = "",
) -> list[Accepted]:
    """Store `items` for `tenant` (the integrator's id space; "" is the default tenant)."""
    seen: set[str] = set()
    for item in items:
        if item.item_id in seen:
            raise InvalidInput(f"item id {item.item_id!r} appears twice in one request")
        seen.add(item.item_id)
    try:
        results = _store(engine, items, source=source, actor=actor, tenant=tenant)
    except IntegrityError:
        # Another request stored one of these ids between our lookup and insert: once more,
        # and the ids it stored now count as known.
        results = _store(engine, items, source=source, actor=actor, tenant=tenant)
    new_ids = [r.row_id for r in results if r.created]
    if new_ids:
        queue.publish(new_ids)
    return results


def _order_alias(conn: Connection, item: Submission, actor: str) -> None:
    """`metadata.removal_order` (true, or an object with authority, legal_basis and contact)
    still works: it files a removal order resource for the item; the worker opens its case
    with the order's deadline."""
    given = item.metadata.get("removal_order")
    info = given if isinstance(given, dict) else {}
    RemovalOrders(conn).receive(
        NewOrder(
            authority=str(info.get("authority") or "unnamed authority (metadata.removal_order)"),
            legal_basis=str(info.get("legal_basis") or "Regulation (EU) 2021/784, Article 3"),
            authority_contact=str(info.get("contact") or "not given"),
            item_id=item.item_id,
        ),
        actor=actor,
        queue_case=False,
    )


def _store(
    engine: Engine, items: Sequence[Submission], *, source: str, actor: str, tenant: str
) -> list[Accepted]:
    """One transaction: the rows (one multi-row insert) and their ledger events."""
    with engine.begin() as conn:
        stored, received_at = subs.insert_many(conn, items, source=source, tenant=tenant)
        append_events(
            conn,
            [
                (
                    "submission.received",
                    f"item:{item.item_id}",
                    {
                        **item.payload_summary(),
                        "account_id": item.account_id,
                        "source": source,
                        **({"tenant": tenant} if tenant else {}),
                    },
                    actor,
                )
                for item, (_row, created) in zip(items, stored, strict=True)
                if created
            ],
            at=received_at,
        )
        for item, (_row, created) in zip(items, stored, strict=True):
            if created and item.metadata.get("removal_order"):
                _order_alias(conn, item, actor)
    return [
        Accepted(item.item_id, row_id, created, received_at if created else None)
        for item, (row_id, created) in zip(items, stored, strict=True)
    ]


def describe(
    engine: Engine, items: Sequence[Submission], accepted: Sequence[Accepted]
) -> list[dict[str, object]]:
    """The API's answer for each accepted item. A new item is pending with no results yet, so
    it is described from what was just stored; resent items are read back in a few queries."""
    known = [r.row_id for r in accepted if not (r.created and r.received_at is not None)]
    stored: dict[int, dict[str, object]] = {}
    if known:
        with reading(engine) as conn:
            rows = subs.summaries(conn, known)
            results = subs.load_results_many(conn, known)
        stored = {row_id: {**rows[row_id], **results[row_id]} for row_id in known}
    out: list[dict[str, object]] = []
    for item, result in zip(items, accepted, strict=True):
        if result.created and result.received_at is not None:
            view: dict[str, object] = {
                "id": item.item_id,
                "account_id": item.account_id,
                "kind": item.kind.value,
                "status": subs.PENDING,
                "received_at": result.received_at.isoformat(),
                "findings": [],
                "decision": None,
                "decisions": {},
                "cases": [],
            }
        else:
            view = dict(stored[result.row_id])
        out.append(view | {"created": result.created})
    return out


def status(engine: Engine, item_id: str, *, tenant: str | None = "") -> dict[str, object]:
    """What an integrator sees for one of its items: state, findings, decision, cases. With
    `tenant` None (reviewers, auditors) the item of any tenant."""
    with reading(engine) as conn:
        stored = subs.get_by_item_id(conn, item_id, tenant=tenant)
        if stored is None:
            raise NotFound(f"no submission with id {item_id!r}")
        results = subs.load_results(conn, stored.row_id)
    sub = stored.submission
    return {
        "id": sub.item_id,
        "account_id": sub.account_id,
        "kind": sub.kind.value,
        "status": stored.status,
        "received_at": stored.received_at.isoformat(),
        **results,
    }
