"""SQLite writers take the write lock at BEGIN by polling it (storage.db._begin_immediate):
no lost updates between concurrent writers, a bounded wait that ends in a clear error, and the
connection's busy timeout put back afterwards."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

from takedown.storage import db


def _engine(tmp_path: Path) -> Engine:
    engine = db.make_engine(f"sqlite:///{tmp_path / 'lock.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE counter (n INTEGER NOT NULL)"))
        conn.execute(text("INSERT INTO counter VALUES (0)"))
    return engine


def test_concurrent_writers_lose_no_update(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    errors: list[BaseException] = []

    def bump() -> None:
        try:
            for _ in range(50):
                with engine.begin() as conn:
                    n = conn.execute(text("SELECT n FROM counter")).scalar_one()
                    conn.execute(text("UPDATE counter SET n = :n"), {"n": n + 1})
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=bump) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    with db.reading(engine) as conn:
        assert conn.execute(text("SELECT n FROM counter")).scalar_one() == 200
        assert conn.execute(text("PRAGMA busy_timeout")).scalar_one() == db.BUSY_TIMEOUT_MS
    engine.dispose()


def test_a_writer_waits_a_bounded_time_then_fails_clearly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = _engine(tmp_path)
    monkeypatch.setattr(db, "BUSY_TIMEOUT_MS", 300)
    holding = threading.Event()
    waiter_done = threading.Event()

    def hold() -> None:
        with engine.begin() as conn:
            conn.execute(text("UPDATE counter SET n = 1"))
            holding.set()
            waiter_done.wait(timeout=60)

    holder = threading.Thread(target=hold)
    holder.start()
    assert holding.wait(timeout=60)
    try:
        with pytest.raises(OperationalError, match="locked"), engine.begin():
            pass
        with db.reading(engine) as conn:  # readers run beside the writer (WAL)
            assert conn.execute(text("SELECT n FROM counter")).scalar_one() == 0
            assert conn.execute(text("PRAGMA busy_timeout")).scalar_one() == 300
    finally:
        waiter_done.set()
        holder.join(timeout=60)
    with engine.begin() as conn:  # the lock is free again: the next writer gets it
        assert conn.execute(text("SELECT n FROM counter")).scalar_one() == 1
    engine.dispose()
