"""Pulling a source's deltas into its local bank, one committed page at a time.

Each page's entries, their provenance and the source's cursor commit in one transaction
(`storage.exchange.apply_page`), so a sync killed at any point resumes from the last committed
cursor with no loss and no duplicate. Values are canonicalised with the signal registry so a
peer's upper-case hex matches what the node's hashers produce.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace

from sqlalchemy import Engine

from takedown.core.banks import Bank, BankKind
from takedown.core.errors import NotFound
from takedown.exchange.client import DeltaPage, ExchangeClient, ExchangeEntry
from takedown.services.exchange_sources import SourceConfig
from takedown.signals.registry import SignalRegistry
from takedown.storage import banks as bank_store
from takedown.storage import exchange as exchange_store
from takedown.storage.db import reading


@dataclass
class SyncOutcome:
    source: str
    pages: int = 0
    received: int = 0
    added: int = 0
    removed: int = 0
    crisis: list[tuple[int, ExchangeEntry]] = field(default_factory=list)
    cursor: str | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "source": self.source,
            "pages": self.pages,
            "received": self.received,
            "added": self.added,
            "removed": self.removed,
            "crisis": len(self.crisis),
            "cursor": self.cursor,
        }


def prepare_source(engine: Engine, source: SourceConfig) -> None:
    """Create the source's bank (once) and its cursor row."""
    with engine.begin() as conn:
        try:
            bank_store.get_bank(conn, source.bank)
        except NotFound:
            bank_store.upsert_bank(
                conn,
                Bank(
                    name=source.bank,
                    label=source.label,
                    severity=source.severity,
                    source=f"exchange:{source.name}",
                    kind=BankKind.BLOCK,
                ),
                actor=f"exchange:{source.name}",
            )
        exchange_store.ensure_source(conn, source.name, source.kind, source.bank)


def supports_wait(client: ExchangeClient) -> bool:
    return "wait" in inspect.signature(client.fetch).parameters


def supports_crisis(client: ExchangeClient) -> bool:
    """Whether the client has a crisis-only lane (the Takedown hub does)."""
    return "crisis" in inspect.signature(client.fetch).parameters


def fetch_page(client: ExchangeClient, cursor: str | None, limit: int, wait: float) -> DeltaPage:
    if wait > 0 and supports_wait(client):
        return client.fetch(cursor, limit=limit, wait=wait)  # type: ignore[call-arg]
    return client.fetch(cursor, limit=limit)


def _canonical(registry: SignalRegistry, names: set[str], entry: ExchangeEntry) -> ExchangeEntry:
    if entry.signal_type not in names:
        return entry
    value = registry.canonical(entry.signal_type, entry.value)
    return entry if value == entry.value else replace(entry, value=value)


def apply(
    engine: Engine,
    source: SourceConfig,
    registry: SignalRegistry,
    page: DeltaPage,
    after: str | None,
    *,
    move: bool = True,
) -> exchange_store.PageResult:
    """Commit one page fetched from cursor `after` (skipped if the source moved on since);
    `move=False` applies entries fetched ahead of the feed without moving its cursor."""
    names = set(registry.names())
    entries = [_canonical(registry, names, e) for e in page.entries]
    with engine.begin() as conn:
        return exchange_store.apply_page(
            conn,
            source.name,
            source.bank,
            entries,
            page.cursor,
            after=after,
            move=move,
            actor=f"exchange:{source.name}",
        )


def sync_source(
    engine: Engine,
    source: SourceConfig,
    client: ExchangeClient,
    registry: SignalRegistry,
    *,
    max_pages: int | None = None,
    on_page: Callable[[exchange_store.PageResult], None] | None = None,
) -> SyncOutcome:
    """Follow the source until it says there is nothing more (or `max_pages`)."""
    prepare_source(engine, source)
    with reading(engine) as conn:
        cursor = exchange_store.source_cursor(conn, source.name)
    outcome = SyncOutcome(source.name, cursor=cursor)
    # The next page is fetched while this one commits (the hub and the parse overlap the
    # writes); the cursor still only moves with a committed page.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="prefetch") as pool:
        pending = pool.submit(fetch_page, client, cursor, source.page_size, 0.0)
        while True:
            page = pending.result()
            fetched_after, cursor = cursor, page.cursor
            last = not page.more or (max_pages is not None and outcome.pages + 1 >= max_pages)
            if not last:
                pending = pool.submit(fetch_page, client, page.cursor, source.page_size, 0.0)
            result = apply(engine, source, registry, page, fetched_after)
            if result.skipped:
                break  # another process is syncing this source; it carries on from here
            outcome.pages += 1
            outcome.received += len(page.entries)
            outcome.added += result.added
            outcome.removed += result.removed
            outcome.crisis.extend(result.crisis)
            outcome.cursor = page.cursor
            if on_page is not None:
                on_page(result)
            if last:
                break
    return outcome
