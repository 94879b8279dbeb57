"""The running system, assembled once from Settings: engine, pipeline, worker, deliverer.

`serve` starts it with in-process worker threads; `worker` starts only workers; `scan` drives it
synchronously. Everything is built here, so nothing below reads configuration on its own.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable

import httpx
from sqlalchemy import Engine

from takedown.actions.mastodon import MastodonConnector
from takedown.actions.webhook import WebhookSender
from takedown.config import Settings
from takedown.core.detection import Detector
from takedown.detect.classifier import ClassifierDetector
from takedown.detect.hashmatch import HashMatchDetector
from takedown.index.factory import make_index
from takedown.policy import PolicyDecider, load_default_policy, load_policy
from takedown.queue.base import WorkQueue, make_queue
from takedown.services import mastodon, pdq_snapshot
from takedown.services.accountability import Accountability
from takedown.services.accounts import AccountService
from takedown.services.banks_follow import BankFollower
from takedown.services.casework import Casework
from takedown.services.delivery import Deliverer
from takedown.services.exchange_evidence import ProvenanceDetector
from takedown.services.exchange_node import ExchangeNode
from takedown.services.facts import StoredFacts
from takedown.services.media_banking import feature_resolver
from takedown.services.metrics import observe_item
from takedown.services.native_threads import limit_native_threads
from takedown.services.pipeline import Pipeline
from takedown.services.priority import lower_thread_priority
from takedown.services.worker import Worker
from takedown.signals.registry import default_registry
from takedown.storage.db import make_engine, migrate

log = logging.getLogger(__name__)


@functools.cache
def shared_classifier() -> ClassifierDetector:
    """The shipped classifier, loaded once per process (~70 MB) and shared by every runtime:
    classification is read-only and thread-safe."""
    return ClassifierDetector()


class Runtime:
    def __init__(
        self,
        settings: Settings,
        *,
        engine: Engine | None = None,
        http_client: httpx.Client | None = None,
        queue: WorkQueue | None = None,
        extra_detectors: list[Detector] | None = None,
    ) -> None:
        self.settings = settings
        limit_native_threads(settings.native_threads)
        self.engine = engine or make_engine(settings.effective_database_url)
        migrate(self.engine)
        self.queue = queue or make_queue(settings.queue_url)
        self.registry = default_registry()
        self.matcher = HashMatchDetector(
            lambda signal_type: make_index(
                signal_type, self._distance_for(signal_type), feature_resolver(self.engine)
            ),
            {t.name: int(t.threshold) for t in self.registry if hasattr(t, "threshold")},
        )
        self.follower = BankFollower(
            self.engine, self.matcher, snapshot=settings.effective_pdq_index_file,
            interval=settings.bank_poll_seconds,
        )
        self.follower.load_all()
        detectors: list[Detector] = [
            ProvenanceDetector(self.matcher, self.engine),
            *(extra_detectors or []),
        ]
        if settings.classifier:
            detectors.append(shared_classifier())
        self.policy = load_policy(settings.policy_path) if settings.policy_path else (
            load_default_policy()
        )
        self.facts = StoredFacts(self.engine)
        self.pipeline = Pipeline(
            self.registry,
            detectors,
            PolicyDecider(self.policy, facts=self.facts),
            max_text_chars=settings.max_text_chars,
        )
        self._http = http_client or httpx.Client(timeout=10.0)
        self.exchange = ExchangeNode.from_settings(
            settings, self.engine, self.registry, self._http, matcher=self.matcher
        )
        self.delivery_wake = threading.Event()
        self.casework = Casework(self.engine, settings, self.delivery_wake)
        self.mastodon = self._mastodon_connector()
        self.accounts = AccountService(self.engine, self.policy, settings,
                                       mastodon_enabled=self.mastodon is not None)
        self.worker = Worker(
            self.engine,
            self.pipeline,
            settings,
            on_committed=lambda _id: self.delivery_wake.set(),
            actioners=[mastodon.enqueue_action] if self.mastodon else [],
            batch_actioners=[self.accounts.on_batch_decisions],
            prefetch=self.facts.prefetch,
            observe=observe_item,
        )
        self.deliverer = Deliverer(
            self.engine,
            WebhookSender(self._http, settings.webhook_secret),
            settings,
            topic_senders={mastodon.TOPIC: mastodon.sender_for(self.mastodon)}
            if self.mastodon
            else None,
        )
        self.accountability = Accountability(self.engine, settings)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def _mastodon_connector(self) -> MastodonConnector | None:
        if not self.settings.mastodon_url:
            return None
        return MastodonConnector(
            self.settings.mastodon_url,
            self.settings.mastodon_token,
            self.settings.mastodon_webhook_secret,
            self._http,
            status_removal=self.settings.mastodon_status_removal,
        )

    def _distance_for(self, signal_type: str) -> Callable[[str, str], int] | None:
        """A bank may hold a type this install cannot extract (vPDQ without FFmpeg): such
        entries still load, matched by equality only."""
        if signal_type in self.registry.names():
            return self.registry.get(signal_type).compare
        return None

    def start(self, *, workers: bool = True, delivery: bool = True) -> None:
        self._stop.clear()
        limit_native_threads(self.settings.native_threads)  # pools of libraries loaded since
        jobs: list[tuple[str, Callable[[], None]]] = [
            ("banks", lambda: self.follower.run_forever(self._stop)),
            ("accountability", lambda: self.accountability.run_forever(self._stop)),
        ]
        if self.exchange is not None:
            jobs.extend(self.exchange.jobs(self._stop))
        if self.settings.pdq_snapshot_seconds > 0:
            jobs.append(("pdq-snapshot", lambda: pdq_snapshot.run_forever(
                self.engine, self.settings.effective_pdq_index_file,
                self.settings.pdq_snapshot_seconds, self._stop)))
        if workers:
            for n in range(max(1, self.settings.worker_threads)):
                jobs.append((f"worker-{n}", self._work))
        if delivery:
            jobs.append(
                ("delivery", lambda: self.deliverer.run_forever(self._stop, self.delivery_wake))
            )
        for name, target in jobs:
            thread = threading.Thread(target=target, name=f"takedown-{name}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def _work(self) -> None:
        """One worker thread: at the configured lower priority, so the API's threads and
        processes on the same cores answer first (`TAKEDOWN_WORKER_NICE`)."""
        lower_thread_priority(self.settings.worker_nice)
        self.worker.run_forever(self._stop, self.queue)

    def stop(self) -> None:
        self._stop.set()
        self.delivery_wake.set()
        self.queue.close()
        for thread in self._threads:
            thread.join(timeout=10)
        self._threads.clear()

    def close(self) -> None:
        self.stop()
        self._http.close()
        self.engine.dispose()
