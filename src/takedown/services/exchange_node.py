"""A node's exchange side, assembled once from Settings: its sources and their clients, the
followers that keep banks in step, feedback and publication, and the crisis retro-scan.

`serve` and `worker` run `jobs()` as threads beside the workers; `takedown sync` calls
`sync_all()` once. After each committed page its entries go straight into the node's matcher,
so a new entry is matchable as soon as it commits, without a rebuild; a page with crisis
entries then triggers the retro-scan of the last N hours of submissions.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import httpx
from sqlalchemy import Engine

from takedown.config import Settings
from takedown.detect.hashmatch import DEFAULT_THRESHOLDS, HashMatchDetector
from takedown.exchange.client import ExchangeClient, ExchangeError, default_exchange_registry
from takedown.services.crisis import CrisisHit, retro_scan
from takedown.services.exchange_feedback import FeedbackSender, Publisher
from takedown.services.exchange_sources import SourceConfig, load_sources
from takedown.services.exchange_sync import (
    SyncOutcome,
    apply,
    fetch_page,
    prepare_source,
    supports_crisis,
    supports_wait,
    sync_source,
)
from takedown.signals.registry import SignalRegistry
from takedown.storage import banks as bank_store
from takedown.storage import exchange as exchange_store
from takedown.storage.db import reading
from takedown.storage.exchange import PageResult

log = logging.getLogger(__name__)

BACKOFF_SECONDS = (1.0, 2.0, 5.0, 15.0, 30.0)


class ExchangeNode:
    def __init__(
        self,
        engine: Engine,
        registry: SignalRegistry,
        sources: Sequence[SourceConfig],
        clients: Mapping[str, ExchangeClient],
        *,
        retro_hours: float = 24.0,
        matcher: HashMatchDetector | None = None,
        feedback_interval: float = 1.0,
    ) -> None:
        self.engine = engine
        self.registry = registry
        self.sources = list(sources)
        self.clients = dict(clients)
        self.retro_hours = retro_hours
        self.matcher = matcher
        self.feedback_interval = feedback_interval
        self.feedback = FeedbackSender(engine, self.clients)
        self.publisher = Publisher(engine, self.sources, self.clients)
        self.crisis_hits: list[CrisisHit] = []
        self.thresholds = {
            **DEFAULT_THRESHOLDS,
            **{t.name: int(t.threshold) for t in registry if hasattr(t, "threshold")},
        }
        for source in self.sources:
            prepare_source(engine, source)

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        engine: Engine,
        registry: SignalRegistry,
        http: httpx.Client | None = None,
        *,
        matcher: HashMatchDetector | None = None,
    ) -> ExchangeNode | None:
        if settings.exchange_sources is None:
            return None
        sources = load_sources(settings.exchange_sources)
        kinds = default_exchange_registry()
        clients = {
            s.name: kinds.create(s.kind, {"name": s.name, **s.options}, http) for s in sources
        }
        return cls(
            engine,
            registry,
            sources,
            clients,
            retro_hours=settings.crisis_retro_hours,
            matcher=matcher,
        )

    def bank_thresholds(self, bank: str) -> dict[str, int]:
        """The thresholds the bank's own matches use: its own, else each type's default."""
        with reading(self.engine) as conn:
            own = bank_store.get_bank(conn, bank).thresholds
        return {**self.thresholds, **{k: int(v) for k, v in own.items()}}

    def _committed(self, source: SourceConfig, result: PageResult) -> None:
        if self.matcher is not None and (result.live or result.gone):
            # Straight into this process's indexes (no change-feed round trip): matchable as
            # soon as the page commits. Other processes follow through the change feed.
            with reading(self.engine) as conn:
                self.matcher.set_banks(bank_store.list_banks(conn))
            self.matcher.apply_changes(result.live, result.gone)
        if result.crisis:
            hits = retro_scan(
                self.engine,
                self.registry,
                result.crisis,
                source=source.name,
                hours=self.retro_hours,
                thresholds=self.bank_thresholds(source.bank),
            )
            self.crisis_hits.extend(hits)
            log.warning(
                "crisis entries from %s: %d, retro-scan hits: %d",
                source.name,
                len(result.crisis),
                len(hits),
            )

    def sync_all(self, names: Sequence[str] | None = None) -> list[SyncOutcome]:
        outcomes = []
        for source in self.sources:
            if names and source.name not in names:
                continue
            outcomes.append(
                sync_source(
                    self.engine,
                    source,
                    self.clients[source.name],
                    self.registry,
                    on_page=lambda r, s=source: self._committed(s, r),  # type: ignore[misc]
                )
            )
        return outcomes

    def follow(self, source: SourceConfig, stop: threading.Event) -> None:
        """Follow one source until `stop`: long-poll where the client can, else poll."""
        client = self.clients[source.name]
        failures = 0
        while not stop.is_set():
            try:
                with reading(self.engine) as conn:
                    cursor = exchange_store.source_cursor(conn, source.name)
                page = fetch_page(client, cursor, source.page_size, source.wait)
                if page.entries or page.cursor != cursor:
                    self._committed(source, apply(self.engine, source, self.registry, page, cursor))
                failures = 0
                long_poll = source.wait > 0 and supports_wait(client)
                if not page.more and not page.entries and not long_poll:
                    stop.wait(self.feedback_interval)
            except ExchangeError as error:
                delay = BACKOFF_SECONDS[min(failures, len(BACKOFF_SECONDS) - 1)]
                failures += 1
                log.warning("source %s: %s; retrying in %.0f s", source.name, error, delay)
                stop.wait(delay)
            except Exception:  # noqa: BLE001 - a follower must outlive one bad page
                log.exception("source %s: sync failed", source.name)
                stop.wait(BACKOFF_SECONDS[-1])

    def follow_crisis(self, source: SourceConfig, stop: threading.Event) -> None:
        """The crisis fast lane: long-poll crisis entries only, from where the feed stands
        when this starts, and apply them without moving the feed's cursor, so a node far
        behind on a large backlog still gets a crisis hash within seconds."""
        client = self.clients[source.name]
        with reading(self.engine) as conn:
            cursor = exchange_store.source_cursor(conn, source.name)
        failures = 0
        while not stop.is_set():
            try:
                page = client.fetch(  # type: ignore[call-arg]
                    cursor, limit=source.page_size, wait=max(source.wait, 1.0), crisis=True
                )
                if page.entries:
                    result = apply(self.engine, source, self.registry, page, None, move=False)
                    self._committed(source, result)
                cursor = page.cursor
                failures = 0
            except ExchangeError as error:
                delay = BACKOFF_SECONDS[min(failures, len(BACKOFF_SECONDS) - 1)]
                failures += 1
                log.warning("crisis lane of %s: %s; retrying in %.0f s", source.name, error, delay)
                stop.wait(delay)
            except Exception:  # noqa: BLE001 - the lane must outlive one bad page
                log.exception("crisis lane of %s failed", source.name)
                stop.wait(BACKOFF_SECONDS[-1])

    def send_once(self) -> dict[str, int]:
        """One round of feedback and publication (each source's failures stay its own)."""
        counts = {"feedback": 0, "published": 0}
        try:
            counts["feedback"] = self.feedback.run_once()
        except ExchangeError as error:
            log.warning("feedback not sent: %s", error)
        try:
            counts["published"] = self.publisher.run_once()
        except ExchangeError as error:
            log.warning("publication not sent: %s", error)
        return counts

    def _send_forever(self, stop: threading.Event) -> None:
        while not stop.wait(self.feedback_interval):
            try:
                self.send_once()
            except Exception:  # noqa: BLE001 - retried on the next round
                log.exception("exchange feedback round failed")

    def jobs(self, stop: threading.Event) -> list[tuple[str, Callable[[], None]]]:
        jobs: list[tuple[str, Callable[[], None]]] = [
            (f"exchange-{s.name}", lambda s=s: self.follow(s, stop))  # type: ignore[misc]
            for s in self.sources
            if s.follow
        ]
        jobs += [
            (f"exchange-{s.name}-crisis", lambda s=s: self.follow_crisis(s, stop))  # type: ignore[misc]
            for s in self.sources
            if s.follow and supports_crisis(self.clients[s.name])
        ]
        jobs.append(("exchange-feedback", lambda: self._send_forever(stop)))
        return jobs

    def status(self) -> list[dict[str, Any]]:
        with reading(self.engine) as conn:
            return exchange_store.list_sources(conn)
