"""Keeps a HashMatchDetector in step with the banks on disk through the change feed.

The feed is read as soon as another process signals a bank change (`storage.bank_signal`:
PostgreSQL NOTIFY, or SQLite's data_version), and at least every `interval` seconds as the
fallback, with a small overlap since timestamps come from many processes. So a hash banked by
any process matches everywhere within a fraction of a second, with no rebuild.

At start-up the PDQ entries come from the compact snapshot file when there is a usable one
(services/pdq_snapshot.py): the file is mapped, the other signal types are read from the
database, and the feed is replayed from the snapshot's position, so a matcher started from an
old file still sees every entry added or removed since. Without a file, everything is read from
the database as before.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine

from takedown.core.banks import BankEntry
from takedown.detect.hashmatch import HashMatchDetector
from takedown.services import pdq_snapshot
from takedown.storage import banks as bank_store
from takedown.storage.bank_signal import BankSignal
from takedown.storage.db import reading

log = logging.getLogger(__name__)

OVERLAP = timedelta(seconds=5)


class BankFollower:
    def __init__(
        self, engine: Engine, detector: HashMatchDetector, *, snapshot: Path | None = None,
        interval: float = 1.0,
    ) -> None:
        self.engine = engine
        self.interval = interval
        self.detector = detector
        self.snapshot = snapshot
        self._since: datetime | None = None
        self.loaded_from: str = ""
        # Polls run from the follower's thread and from callers that need the banks current
        # now (tests, the CLI). Unserialised, a poll that read the banks before a change could
        # install its stale list after a later poll had installed the new one.
        self._lock = threading.RLock()

    def load_all(self) -> None:
        with self._lock:
            self._load_all()

    def _load_all(self) -> None:
        started = datetime.now(UTC)
        loaded = pdq_snapshot.load_snapshot(self.snapshot) if self.snapshot else None
        with reading(self.engine) as conn:
            self.detector.set_banks(bank_store.list_banks(conn))
            if loaded is None:
                self.detector.apply_changes(bank_store.active_entries(conn))
                self._since = started
                self.loaded_from = "database"
                return
            index, snapshot = loaded
            self.detector.install(pdq_snapshot.SIGNAL_TYPE, index, self._resolve)
            self.detector.apply_changes(
                bank_store.active_entries(conn, except_types=[pdq_snapshot.SIGNAL_TYPE]))
        self._since = snapshot.covers_until
        self.loaded_from = str(snapshot.path)
        self.poll()  # the feed since the snapshot: what was banked or removed after it
        log.info("banks: %d PDQ entries from %s, then the change feed since %s",
                 snapshot.count, snapshot.path, snapshot.covers_until.isoformat())

    def _resolve(self, entry_ids: list[int]) -> Iterable[BankEntry]:
        with reading(self.engine) as conn:
            return bank_store.active_entries_by_id(conn, entry_ids)

    def poll(self) -> None:
        with self._lock:
            if self._since is None:
                self._load_all()
                return
            started = datetime.now(UTC)
            with reading(self.engine) as conn:
                self.detector.set_banks(bank_store.list_banks(conn))
                added, removed = bank_store.entries_changed_since(conn, self._since - OVERLAP)
            self.detector.apply_changes(added, removed)
            self._since = started

    def run_forever(
        self,
        stop: threading.Event,
        *,
        interval: float | None = None,
        signal: BankSignal | None = None,
    ) -> None:
        signal = signal or BankSignal(self.engine)
        try:
            while not stop.is_set():
                signal.wait(self.interval if interval is None else interval, stop)
                if stop.is_set():
                    return
                try:
                    self.poll()
                except Exception:  # noqa: BLE001 - a missed poll is retried on the next
                    log.exception("bank follow failed")
        finally:
            signal.close()
