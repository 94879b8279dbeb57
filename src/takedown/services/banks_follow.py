"""Keeps a HashMatchDetector in step with the banks on disk through the change feed.

The feed is read as soon as another process signals a bank change (`storage.bank_signal`:
PostgreSQL NOTIFY, or SQLite's data_version), and at least every `interval` seconds as the
fallback, with a small overlap since timestamps come from many processes. So a hash banked by
any process matches everywhere within a fraction of a second, with no rebuild.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from takedown.detect.hashmatch import HashMatchDetector
from takedown.storage import banks as bank_store
from takedown.storage.bank_signal import BankSignal
from takedown.storage.db import reading

log = logging.getLogger(__name__)

OVERLAP = timedelta(seconds=5)


class BankFollower:
    def __init__(
        self, engine: Engine, detector: HashMatchDetector, *, interval: float = 1.0
    ) -> None:
        self.engine = engine
        self.interval = interval
        self.detector = detector
        self._since: datetime | None = None

    def load_all(self) -> None:
        started = datetime.now(UTC)
        with reading(self.engine) as conn:
            self.detector.set_banks(bank_store.list_banks(conn))
            self.detector.apply_changes(bank_store.active_entries(conn))
        self._since = started

    def poll(self) -> None:
        if self._since is None:
            self.load_all()
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
