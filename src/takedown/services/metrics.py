"""Prometheus metrics: what the process did (counters, histograms) and the state of the work
(queue depth, outbox) read at scrape time.

Counters are per process, as Prometheus expects: scrape every API and worker process
(`takedown worker --metrics-port`). State gauges come from the shared database and queue, so
any one process reports them for the whole deployment. The metric objects live on a private
registry built on first use, so importing this module changes nothing.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Engine, func, select

from takedown.core.decisions import Decision
from takedown.storage.db import reading
from takedown.storage.tables import outbox, submissions

log = logging.getLogger(__name__)

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)


@dataclass(frozen=True)
class Metrics:
    registry: CollectorRegistry
    decisions: Counter
    items: Counter
    decision_latency: Histogram
    requests: Histogram


@functools.cache
def metrics() -> Metrics:
    """The process's metrics, created once."""
    registry = CollectorRegistry(auto_describe=True)
    return Metrics(
        registry=registry,
        decisions=Counter(
            "takedown_decisions", "Automated decisions committed, by action and label",
            ["action", "label"], registry=registry,
        ),
        items=Counter(
            "takedown_worker_items", "Items a worker finished, by outcome "
            "(decided, failed: retried later, skipped: batch out of time)",
            ["outcome"], registry=registry,
        ),
        decision_latency=Histogram(
            "takedown_submit_to_decision_seconds", "From receipt to committed decision",
            buckets=LATENCY_BUCKETS, registry=registry,
        ),
        requests=Histogram(
            "takedown_http_request_seconds", "HTTP request latency, by route and status",
            ["method", "route", "status"], buckets=LATENCY_BUCKETS, registry=registry,
        ),
    )


def observe_item(outcome: str, decision: Decision | None, latency: float) -> None:
    """The worker's observer: one call per finished item."""
    m = metrics()
    m.items.labels(outcome).inc()
    if decision is not None:
        m.decisions.labels(decision.action.value, decision.label).inc()
        m.decision_latency.observe(max(0.0, latency))


class StateCollector(Collector):
    """Queue depth and outbox state, read when Prometheus scrapes (cheap indexed counts)."""

    def __init__(self, engine: Engine, queue_depth: Callable[[], dict[str, int]] | None) -> None:
        self.engine = engine
        self.queue_depth = queue_depth

    def collect(self) -> Iterator[Any]:
        items = GaugeMetricFamily(
            "takedown_queue_items", "Submissions waiting or in progress", labels=["status"]
        )
        messages = GaugeMetricFamily(
            "takedown_outbox_messages",
            "Webhook/connector messages by state (retrying = pending after a failed attempt)",
            labels=["state"],
        )
        try:
            with reading(self.engine) as conn:
                by_status: dict[str, int] = dict(
                    conn.execute(
                        select(submissions.c.status, func.count())
                        .where(submissions.c.status.in_(("pending", "processing")))
                        .group_by(submissions.c.status)
                    ).all()
                )
                pending, retrying, dead = conn.execute(
                    select(
                        func.count().filter(outbox.c.delivered_at.is_(None),
                                            outbox.c.dead_at.is_(None)),
                        func.count().filter(outbox.c.delivered_at.is_(None),
                                            outbox.c.dead_at.is_(None),
                                            outbox.c.last_error.is_not(None)),
                        func.count(outbox.c.dead_at),
                    )
                ).one()
        except Exception:  # noqa: BLE001 - a scrape during an outage shows the gap, not a 500
            log.warning("metrics: database unavailable", exc_info=True)
            return
        for status in ("pending", "processing"):
            items.add_metric([status], int(by_status.get(status, 0)))
        yield items
        messages.add_metric(["pending"], int(pending))
        messages.add_metric(["retrying"], int(retrying))
        messages.add_metric(["dead"], int(dead))
        yield messages
        if self.queue_depth is not None:
            stream = GaugeMetricFamily(
                "takedown_stream_entries", "Work-queue stream entries", labels=["kind"]
            )
            try:
                for kind, value in self.queue_depth().items():
                    stream.add_metric([kind], value)
            except Exception:  # noqa: BLE001 - queue outage: gauge left out
                log.warning("metrics: queue unavailable", exc_info=True)
                return
            yield stream


_STATE: dict[str, StateCollector] = {}


def install_state_collector(engine: Engine, queue: object) -> None:
    """Point the state gauges at this runtime's database and queue (registered once per
    process; a later runtime, as in tests, takes them over)."""
    depth = getattr(queue, "depth", None)
    reader = depth if callable(depth) else None
    current = _STATE.get("collector")
    if current is None:
        current = _STATE["collector"] = StateCollector(engine, reader)
        metrics().registry.register(current)
    current.engine, current.queue_depth = engine, reader


def serve_metrics(runtime: Any, host: str, port: int) -> None:
    """A worker process's own /metrics endpoint (a daemon thread of prometheus_client)."""
    from prometheus_client import start_http_server

    install_state_collector(runtime.engine, runtime.queue)
    start_http_server(port, addr=host, registry=metrics().registry)
