"""The one interface every hash exchange is reached through, and its registry.

A client turns a peer's feed into ordered pages of `ExchangeEntry` with an opaque cursor, and
sends reviewer verdicts back. The cursor is opaque on purpose: the node stores it in the same
transaction as the entries it covers, so a crash between pages resumes without loss or duplicate,
whatever paging scheme (offset, `after=<time>,<id>` checkpoint, `next` URL) the peer uses.

Clients register like signal types do: built-ins and third-party packages through the
`takedown.exchanges` entry-point group, each a factory `(options, http) -> ExchangeClient`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from importlib.metadata import entry_points
from typing import Any, Protocol, runtime_checkable

import httpx

from takedown.core.errors import Conflict, DeliveryError, NotFound


class ExchangeError(DeliveryError):
    """A peer refused, failed or sent something unreadable; the sync retries from its cursor."""

    title = "Exchange failed"


class Verdict(StrEnum):
    """What a node tells a source about one of its entries."""

    SEEN = "seen"
    TRUE_POSITIVE = "true_positive"
    FALSE_POSITIVE = "false_positive"


@dataclass(frozen=True)
class ExchangeEntry:
    """One shared hash as a peer describes it, already in Takedown's vocabulary.

    `label` is the internal TVEC label the peer's labels map to; `source_labels` keeps the peer's
    own labels verbatim so nothing a contributor said is ever dropped.
    """

    external_id: str
    signal_type: str
    value: str
    label: str | None = None
    source_labels: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    severity: int | None = None
    contributor: str | None = None
    note: str | None = None
    deleted: bool = False
    disputed: bool = False
    crisis: bool = False
    first_seen: datetime | None = None
    updated_at: datetime | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DeltaPage:
    """Entries changed since a cursor, in the peer's order, and the cursor that follows them.

    `skipped` counts records the peer sent that Takedown cannot use (reason → count, e.g. an
    unsupported signal type such as SHA-512), so a sync can report them instead of hiding them.
    """

    entries: Sequence[ExchangeEntry]
    cursor: str | None
    more: bool
    skipped: Mapping[str, int] = field(default_factory=dict)


@runtime_checkable
class ExchangeClient(Protocol):
    """Fetch deltas and send feedback; nothing else is needed to follow a peer."""

    name: str

    def fetch(self, cursor: str | None, *, limit: int = 1000) -> DeltaPage: ...

    def send_feedback(
        self, entry: ExchangeEntry | str, verdict: Verdict, *, note: str | None = None
    ) -> None: ...


ClientFactory = Callable[[Mapping[str, Any], httpx.Client | None], ExchangeClient]


class ExchangeRegistry:
    def __init__(self) -> None:
        self._factories: dict[str, ClientFactory] = {}

    def register(self, kind: str, factory: ClientFactory) -> None:
        if kind in self._factories:
            raise Conflict(f"exchange kind {kind!r} is registered twice")
        self._factories[kind] = factory

    def create(
        self, kind: str, options: Mapping[str, Any], http: httpx.Client | None = None
    ) -> ExchangeClient:
        try:
            factory = self._factories[kind]
        except KeyError:
            raise NotFound(
                f"unknown exchange kind {kind!r}", hint=f"known: {', '.join(self.kinds())}"
            ) from None
        return factory(options, http)

    def kinds(self) -> list[str]:
        return sorted(self._factories)

    def __iter__(self) -> Iterator[str]:
        return iter(self.kinds())


def default_exchange_registry() -> ExchangeRegistry:
    """Built-in exchanges plus installed plug-ins, built fresh (no import-time global state)."""
    registry = ExchangeRegistry()
    for ep in sorted(entry_points(group="takedown.exchanges"), key=lambda e: e.name):
        registry.register(ep.name, ep.load())
    return registry
