"""A push signal that some process changed the banks, so every matcher process reads the change
feed at once instead of on its next poll.

* PostgreSQL: writers `NOTIFY takedown_banks` in the transaction that changes bank entries
  (`notify_changed`, delivered at commit, dropped on rollback); each follower holds one
  connection that `LISTEN`s.
* SQLite (one machine): `PRAGMA data_version` on a connection of the follower's own changes
  whenever any other connection commits to the file; checking it costs microseconds, so it is
  checked every 50 ms.

Either way the follower's one-second poll stays as the fallback: a missed signal (a dropped
listening connection, a write by a tool that does not notify) costs at most one interval.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from typing import Any

from sqlalchemy import Connection, Engine, text

log = logging.getLogger(__name__)

CHANNEL = "takedown_banks"
SQLITE_CHECK_SECONDS = 0.05
STOP_CHECK_SECONDS = 0.5


def notify_changed(conn: Connection) -> None:
    """Tell other processes, at this transaction's commit, that bank entries changed."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_notify(:channel, '')"), {"channel": CHANNEL})


class BankSignal:
    """`wait(timeout)` returns True as soon as another process may have changed the banks,
    False when the timeout passed with no sign of a change."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._raw: Any = None
        self._version: int | None = None
        self._lock = threading.Lock()

    def _sqlite_version(self) -> int:
        if self._raw is None:
            # Its own connection, not one of the pool's: it lives as long as the follower.
            self._raw = sqlite3.connect(str(self.engine.url.database), check_same_thread=False)
        row = self._raw.execute("PRAGMA data_version").fetchone()
        return int(row[0])

    def _wait_sqlite(self, timeout: float, stop: threading.Event) -> bool:
        if self._version is None:
            self._version = self._sqlite_version()
        deadline = timeout
        while deadline > 0:
            if stop.wait(min(SQLITE_CHECK_SECONDS, deadline)):
                return False
            deadline -= SQLITE_CHECK_SECONDS
            version = self._sqlite_version()
            if version != self._version:
                self._version = version
                return True
        return False

    def _listener(self) -> Any:
        if self._raw is None:
            import psycopg

            url = self.engine.url.set(drivername="postgresql")
            raw = psycopg.connect(url.render_as_string(hide_password=False), autocommit=True)
            raw.execute(f"LISTEN {CHANNEL}")
            self._raw = raw
        return self._raw

    def _wait_postgresql(self, timeout: float, stop: threading.Event) -> bool:
        """Listen in slices of STOP_CHECK_SECONDS so that `stop` ends a long wait promptly."""
        deadline = time.monotonic() + timeout
        try:
            raw = self._listener()
            while not stop.is_set():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                for _note in raw.notifies(timeout=min(left, STOP_CHECK_SECONDS), stop_after=1):
                    return not stop.is_set()
        except Exception as error:  # noqa: BLE001 - the poll is the fallback
            log.warning("bank change listener lost (%s); polling until it is back", error)
            self.close()
            stop.wait(max(0.0, deadline - time.monotonic()))
        return False

    def prime(self) -> None:
        """Start listening now (else on the first wait): a change after this is signalled."""
        with self._lock:
            sqlite = self.engine.dialect.name == "sqlite"
            if sqlite and self._sqlite_file() and self._version is None:
                self._version = self._sqlite_version()
            elif self.engine.dialect.name == "postgresql":
                self._listener()

    def _sqlite_file(self) -> bool:
        """An in-memory database has no other process to hear from."""
        return self.engine.url.database not in (None, "", ":memory:")

    def wait(self, timeout: float, stop: threading.Event | None = None) -> bool:
        stop = stop or threading.Event()
        with self._lock:
            if self.engine.dialect.name == "sqlite" and self._sqlite_file():
                return self._wait_sqlite(timeout, stop)
            if self.engine.dialect.name == "postgresql":
                return self._wait_postgresql(timeout, stop)
        stop.wait(timeout)
        return False

    def close(self) -> None:
        raw, self._raw = self._raw, None
        if raw is not None:
            try:
                raw.close()
            except Exception:  # noqa: BLE001 - closing a dead connection
                log.debug("closing the bank listener failed", exc_info=True)
