"""Pulling a source's deltas into its local bank, one committed page at a time.

Each page's entries, their provenance and the source's cursor commit in one transaction
(`storage.exchange.apply_page`), so a sync killed at any point resumes from the last committed
cursor with no loss and no duplicate. Values are canonicalised with the signal registry so a
peer's upper-case hex matches what the node's hashers produce.
"""

from __future__ import annotations

import gc
import inspect
import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import Engine

from takedown.core.banks import Bank, BankKind
from takedown.core.errors import NotFound
from takedown.exchange.client import DeltaPage, ExchangeClient, ExchangeEntry
from takedown.services.exchange_sources import SourceConfig
from takedown.signals.registry import SignalRegistry
from takedown.storage import banks as bank_store
from takedown.storage import exchange as exchange_store
from takedown.storage.db import reading

# The SQLite page cache (KiB) a large batch gets, so that the value indexes' dirty leaves
# stay in memory until the commit.
CACHE_KIB = 98_304
CACHE_ROWS = 20_000
# Pages fetched ahead of the writer: enough to overlap, few enough to bound memory.
PREFETCH_PAGES = 2
# How long a batch waits for the next page before committing what it has.
BATCH_WAIT_SECONDS = 1.0
# The youngest generation's collection threshold during a bulk sync (Python's default: 700).
GC_THRESHOLD = 50_000


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


def _canonical_all(
    registry: SignalRegistry, entries: Sequence[ExchangeEntry]
) -> list[ExchangeEntry]:
    """The entries with values canonicalised by their signal type (a type the registry does
    not know is left alone); an entry whose value is already canonical is kept as it is."""
    names = set(registry.names())
    canonical: dict[str, Callable[[str], str]] = {}
    out: list[ExchangeEntry] = []
    for entry in entries:
        canon = canonical.get(entry.signal_type)
        if canon is None:
            known = entry.signal_type in names
            canon = registry.canonicalizer(entry.signal_type) if known else _unchanged
            canonical[entry.signal_type] = canon
        value = canon(entry.value)
        out.append(entry if value == entry.value else replace(entry, value=value))
    return out


def _unchanged(value: str) -> str:
    return value


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
    return apply_pages(engine, source, registry, [(page, after)], move=move)[0]


def apply_pages(
    engine: Engine,
    source: SourceConfig,
    registry: SignalRegistry,
    pages: Sequence[tuple[DeltaPage, str | None]],
    *,
    move: bool = True,
) -> list[exchange_store.PageResult]:
    """Commit consecutive pages (each with the cursor it was fetched from) in one transaction,
    stopping at the first one skipped. One commit per ~50,000 entries instead of per page is
    most of a large sync's speed on SQLite: a batch of random hashes dirties most leaves of
    the value indexes, and each commit writes every dirty leaf once, however many rows it got."""
    results: list[exchange_store.PageResult] = []
    with engine.begin() as conn:
        if conn.dialect.name == "sqlite" and sum(len(p.entries) for p, _ in pages) > CACHE_ROWS:
            conn.exec_driver_sql(f"PRAGMA cache_size=-{CACHE_KIB}")
        for page, after in pages:
            entries = _canonical_all(registry, page.entries)
            result = exchange_store.apply_page(
                conn,
                source.name,
                source.bank,
                entries,
                page.cursor,
                after=after,
                move=move,
                actor=f"exchange:{source.name}",
                own_banks=source.publish_banks,
            )
            results.append(result)
            if result.skipped:
                break
    return results


_gc_lock = threading.Lock()
_gc_state: dict[str, Any] = {"depth": 0, "threshold": None}


@contextmanager
def _fewer_collections() -> Iterator[None]:
    """Collect garbage less often during a bulk sync. A page makes some 50,000 objects (none
    in a cycle) and the default threshold runs a collection every 700 allocations, with full
    ones rescanning every object the process has (its imported modules too): that was about
    a third of parsing a page. The objects alive at the start are frozen out of the scans
    for the duration (reference counting still frees them) and unfrozen after; nested or
    concurrent syncs share one such period."""
    with _gc_lock:
        if _gc_state["depth"] == 0:
            _gc_state["threshold"] = gc.get_threshold()
            gc.freeze()
            gc.set_threshold(GC_THRESHOLD, *_gc_state["threshold"][1:])
        _gc_state["depth"] += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_state["depth"] -= 1
            if _gc_state["depth"] == 0:
                gc.set_threshold(*_gc_state["threshold"])
                gc.unfreeze()


class _Prefetcher:
    """Fetches pages ahead on one thread (the hub and the parse overlap the writes), at most
    `depth` pages ahead; a fetch error is handed to the reader in order."""

    def __init__(
        self, client: ExchangeClient, cursor: str | None, limit: int, depth: int, pages: int | None
    ) -> None:
        self._queue: queue.Queue[tuple[DeltaPage, str | None] | BaseException] = queue.Queue(depth)
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(client, cursor, limit, pages), name="prefetch", daemon=True
        )
        self._thread.start()

    def _run(
        self, client: ExchangeClient, cursor: str | None, limit: int, pages: int | None
    ) -> None:
        fetched = 0
        try:
            while not self._stop.is_set():
                page = fetch_page(client, cursor, limit, 0.0)
                fetched += 1
                self._put((page, cursor))
                cursor = page.cursor
                if not page.more or (pages is not None and fetched >= pages):
                    return
        except BaseException as error:  # noqa: BLE001 - re-raised on the reading thread
            self._put(error)

    def _put(self, item: tuple[DeltaPage, str | None] | BaseException) -> None:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.5)
                return
            except queue.Full:
                continue

    def get(self) -> tuple[DeltaPage, str | None]:
        item = self._queue.get()
        if isinstance(item, BaseException):
            raise item
        return item

    def ready(self, timeout: float) -> bool:
        """Whether a page (or an error) is there to get within `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while self._queue.empty():
            if time.monotonic() >= deadline or not self._thread.is_alive():
                return not self._queue.empty()
            time.sleep(0.005)
        return True

    def close(self) -> None:
        self._stop.set()
        self._thread.join()


def sync_source(
    engine: Engine,
    source: SourceConfig,
    client: ExchangeClient,
    registry: SignalRegistry,
    *,
    max_pages: int | None = None,
    on_page: Callable[[exchange_store.PageResult], None] | None = None,
    batch_entries: int | None = None,
) -> SyncOutcome:
    """Follow the source until it says there is nothing more (or `max_pages`). Pages commit
    in batches of about `batch_entries` (default: the source's), or fewer when the next page
    takes over BATCH_WAIT_SECONDS to come; the cursor only moves with the entries it covers."""
    prepare_source(engine, source)
    with reading(engine) as conn:
        cursor = exchange_store.source_cursor(conn, source.name)
    outcome = SyncOutcome(source.name, cursor=cursor)
    batch_entries = batch_entries or source.batch_entries
    with _fewer_collections():
        return _follow(engine, source, client, registry, outcome, max_pages, on_page, batch_entries)


def _follow(
    engine: Engine,
    source: SourceConfig,
    client: ExchangeClient,
    registry: SignalRegistry,
    outcome: SyncOutcome,
    max_pages: int | None,
    on_page: Callable[[exchange_store.PageResult], None] | None,
    batch_entries: int,
) -> SyncOutcome:
    fetcher = _Prefetcher(client, outcome.cursor, source.page_size, PREFETCH_PAGES, max_pages)
    try:
        done = False
        while not done:
            batch = [fetcher.get()]
            size = len(batch[0][0].entries)
            failure: BaseException | None = None
            while batch[-1][0].more and size < batch_entries and fetcher.ready(BATCH_WAIT_SECONDS):
                if max_pages is not None and outcome.pages + len(batch) >= max_pages:
                    break
                try:
                    batch.append(fetcher.get())
                except Exception as error:  # noqa: BLE001 - raised once the batch commits
                    failure = error
                    break
                size += len(batch[-1][0].entries)
            results = apply_pages(engine, source, registry, batch)
            for (page, _after), result in zip(batch, results, strict=False):
                if result.skipped:
                    return outcome  # another process is syncing this source; it carries on
                outcome.pages += 1
                outcome.received += len(page.entries)
                outcome.added += result.added
                outcome.removed += result.removed
                outcome.crisis.extend(result.crisis)
                outcome.cursor = page.cursor
                if on_page is not None:
                    on_page(result)
            if failure is not None:
                raise failure
            last = batch[-1][0]
            done = not last.more or (max_pages is not None and outcome.pages >= max_pages)
    finally:
        fetcher.close()
    return outcome
