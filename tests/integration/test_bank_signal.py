"""A bank entry committed by another process is matchable here at once, on the push signal
(PostgreSQL NOTIFY, SQLite data_version), not on the follower's fallback poll."""

from __future__ import annotations

import random
import subprocess
import sys
import threading
import time

from sqlalchemy import Engine

from takedown.core.banks import Bank, BankKind
from takedown.core.taxonomy import TvecLabel
from takedown.detect.hashmatch import HashMatchDetector
from takedown.index.factory import make_index
from takedown.services.banks_follow import BankFollower
from takedown.storage import banks as bank_store
from takedown.storage.bank_signal import BankSignal

WRITER = """
import sys
from takedown.storage import banks
from takedown.storage.db import make_engine
engine = make_engine(sys.argv[1])
with engine.begin() as conn:
    banks.add_entries(conn, "pushed", [("pdq", sys.argv[2], None)], actor="other-process")
"""


def test_a_commit_by_another_process_is_seen_before_the_fallback_poll(
    engine: Engine, database_url: str
) -> None:
    with engine.begin() as conn:
        bank_store.upsert_bank(
            conn,
            Bank(name="pushed", label=TvecLabel.BRANDED, severity=3, kind=BankKind.BLOCK),
            actor="test",
        )
    detector = HashMatchDetector(lambda t: make_index(t, None, None), {"pdq": 31})
    follower = BankFollower(engine, detector, interval=30.0)
    follower.load_all()
    stop = threading.Event()
    signal = BankSignal(engine)
    signal.prime()
    thread = threading.Thread(target=lambda: follower.run_forever(stop, signal=signal), daemon=True)
    thread.start()
    try:
        value = f"{random.Random(9).getrandbits(256):064x}"
        subprocess.run([sys.executable, "-c", WRITER, database_url, value], check=True)
        committed = time.monotonic()
        deadline = committed + 10.0
        while not detector.lookup("pdq", [value], 0)[0]:
            assert time.monotonic() < deadline, "not seen within 10 s (fallback poll is 30 s)"
            time.sleep(0.01)
        assert time.monotonic() - committed < 10.0
    finally:
        stop.set()
        thread.join(timeout=5)
    assert not thread.is_alive()
