"""A minimal node for client tests: apply each page, then commit its cursor (as sync must)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from takedown.exchange.client import ExchangeClient, ExchangeEntry


@dataclass
class MiniNode:
    cursor: str | None = None
    live: dict[str, ExchangeEntry] = field(default_factory=dict)
    applied: list[str] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)
    pages: int = 0

    def step(self, client: ExchangeClient, limit: int) -> bool:
        """One page; the cursor moves only after the page is applied. Returns `more`."""
        page = client.fetch(self.cursor, limit=limit)
        for entry in page.entries:
            self.applied.append(entry.external_id)
            if entry.deleted:
                self.live.pop(entry.external_id, None)
            else:
                self.live[entry.external_id] = entry
        self.skipped.update(page.skipped)
        self.cursor = page.cursor
        self.pages += 1
        return page.more

    def drain(self, client: ExchangeClient, limit: int, max_pages: int = 1000) -> None:
        for _ in range(max_pages):
            if not self.step(client, limit):
                return
        raise AssertionError("the feed never ended")
