"""Ingestion: validate every item first, then store the whole request in one transaction, then
announce it. A request with any bad item stores nothing; a resent item returns its first result."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Engine

from takedown.core.content import Submission
from takedown.core.errors import InvalidInput, NotFound
from takedown.queue.base import WorkQueue
from takedown.storage import submissions as subs
from takedown.storage.db import reading
from takedown.storage.ledger import append_event


@dataclass(frozen=True)
class Accepted:
    item_id: str
    row_id: int
    created: bool


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
    results: list[Accepted] = []
    with engine.begin() as conn:
        for item in items:
            row_id, created = subs.insert_submission(conn, item, source=source, tenant=tenant)
            if created:
                append_event(
                    conn,
                    "submission.received",
                    f"item:{item.item_id}",
                    {
                        **item.payload_summary(),
                        "account_id": item.account_id,
                        "source": source,
                        **({"tenant": tenant} if tenant else {}),
                    },
                    actor=actor,
                )
            results.append(Accepted(item.item_id, row_id, created))
    new_ids = [r.row_id for r in results if r.created]
    if new_ids:
        queue.publish(new_ids)
    return results


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
