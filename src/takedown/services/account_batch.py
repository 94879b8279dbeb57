"""What an account assessment reads and writes, two ways: straight from the database (one
account at a time: profile upserts, interactions, appeals) or from a cache filled for a whole
worker batch in a handful of queries.

The batch view exists because the per-item path cost about a dozen queries per decided item
(row lock, stats write, neighbours, bad neighbours, strikes, report count, risk write), which
made account upkeep the largest part of the worker's time. The cache keeps item-by-item
semantics exactly: items are applied in batch order, every read sees the writes of the items
before it (an overlay on the loaded rows), and before an account decision — which reads and
writes the database itself — the account's pending writes are flushed and its row re-read.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Connection

from takedown.accounts.strikes import Strike
from takedown.storage import accounts as store


class AccountView(Protocol):
    conn: Connection

    def row(self, account_id: str) -> dict[str, Any]: ...
    def get(self, account_id: str) -> dict[str, Any] | None: ...
    def neighbours(self, account_id: str) -> set[str]: ...
    def bad_neighbours(self, ids: set[str]) -> int: ...
    def identity_neighbours(self, ids: set[str]) -> set[str]: ...
    def strikes(self, account_id: str) -> list[Strike]: ...
    def add_strike(self, account_id: str, decision_id: int | None, strike: Strike) -> None: ...
    def reports(self, account_id: str) -> int: ...
    def save(self, account_id: str, **values: Any) -> None: ...
    def before_decision(self, account_id: str) -> None: ...
    def after_decision(self, account_id: str) -> None: ...


class DatabaseView:
    """Every read and write goes to the database at once."""

    def __init__(self, conn: Connection, now: datetime) -> None:
        self.conn = conn
        self.now = now

    def row(self, account_id: str) -> dict[str, Any]:
        return store.ensure(self.conn, account_id, self.now)[0]

    def get(self, account_id: str) -> dict[str, Any] | None:
        return store.get(self.conn, account_id)

    def neighbours(self, account_id: str) -> set[str]:
        return store.neighbours(self.conn, account_id)

    def bad_neighbours(self, ids: set[str]) -> int:
        return store.bad_neighbours(self.conn, ids)

    def identity_neighbours(self, ids: set[str]) -> set[str]:
        return store.identity_neighbours(self.conn, ids)

    def strikes(self, account_id: str) -> list[Strike]:
        return store.strikes(self.conn, account_id)

    def add_strike(self, account_id: str, decision_id: int | None, strike: Strike) -> None:
        store.add_strike(self.conn, account_id, decision_id, strike)

    def reports(self, account_id: str) -> int:
        return store.report_count(self.conn, account_id)

    def save(self, account_id: str, **values: Any) -> None:
        store.save(self.conn, account_id, **values)

    def before_decision(self, account_id: str) -> None:
        """Nothing pending: every write already went to the database."""

    def after_decision(self, account_id: str) -> None:
        """Nothing cached: the next read goes to the database."""


class BatchView:
    """The accounts of one worker batch, loaded (and locked, in id order) up front; writes stay
    in memory until `flush`, which writes every touched row in one executemany."""

    def __init__(self, conn: Connection, account_ids: Sequence[str], now: datetime) -> None:
        self.conn = conn
        ids = sorted(set(account_ids))
        self.rows = store.lock_many(conn, ids)
        self.rows.update(store.create_many(conn, [a for a in ids if a not in self.rows], now))
        self.hoods = store.neighbours_many(conn, ids)
        outside = set().union(*self.hoods.values()) - set(ids)
        self.bad_outside = store.bad_among(conn, outside)
        self._strikes = store.strikes_many(conn, ids)
        self._reports = store.report_counts(conn, ids)
        self.dirty: set[str] = set()
        self.pending: dict[str, list[tuple[str, int | None, Strike]]] = {}

    def row(self, account_id: str) -> dict[str, Any]:
        return self.rows[account_id]

    def get(self, account_id: str) -> dict[str, Any] | None:
        if account_id in self.rows:
            return self.rows[account_id]
        return store.get(self.conn, account_id)

    def neighbours(self, account_id: str) -> set[str]:
        return set(self.hoods[account_id])

    def bad_neighbours(self, ids: set[str]) -> int:
        return sum(1 for n in ids if (store.is_bad(self.rows[n]) if n in self.rows
                                      else n in self.bad_outside))

    def identity_neighbours(self, ids: set[str]) -> set[str]:
        return store.identity_neighbours(self.conn, ids)

    def strikes(self, account_id: str) -> list[Strike]:
        return list(self._strikes[account_id])

    def add_strike(self, account_id: str, decision_id: int | None, strike: Strike) -> None:
        held = self._strikes[account_id]
        held.append(strike)
        held.sort(key=lambda s: s.at)
        self.pending.setdefault(account_id, []).append((account_id, decision_id, strike))

    def reports(self, account_id: str) -> int:
        return self._reports[account_id]

    def save(self, account_id: str, **values: Any) -> None:
        self.rows[account_id].update(values)
        self.dirty.add(account_id)

    def before_decision(self, account_id: str) -> None:
        self.flush([account_id])

    def after_decision(self, account_id: str) -> None:
        fresh = store.get(self.conn, account_id)
        assert fresh is not None
        self.rows[account_id] = fresh

    def flush(self, account_ids: Sequence[str] | None = None) -> None:
        ids = sorted(self.dirty if account_ids is None else set(account_ids) & self.dirty)
        store.save_many(self.conn, [self.rows[a] for a in ids])
        self.dirty.difference_update(ids)
        strikes = [s for a in sorted(self.pending if account_ids is None else account_ids)
                   for s in self.pending.pop(a, [])]
        store.add_strikes(self.conn, strikes)
