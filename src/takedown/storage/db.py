"""Engine creation and migrations: SQLite (WAL, in the data directory) or PostgreSQL by URL.

Migrations run on start-up so a new data directory or database is usable at once.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import OperationalError

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
READONLY = "takedown_readonly"
BUSY_TIMEOUT_MS = 30_000
"""How long a statement waits for a lock; also the bound on waiting for the write lock."""
_POLL_S = (0.0005, 0.001, 0.002, 0.004)
"""Pauses between tries for the write lock: the last one repeats."""


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.close()


def make_engine(url: str) -> Engine:
    """Build an engine with the per-backend settings durability needs. `hide_parameters`
    keeps bound values (submitted content, key digests) out of every error message and log."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            pool_pre_ping=True,
            hide_parameters=True,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        # SQLite's deferred BEGIN lets two writers deadlock on upgrade, so every transaction
        # takes the write lock at its start, except connections opened with `reading()`.
        event.listen(engine, "begin", _begin)
        _disable_pysqlite_autobegin(engine)
        return engine
    return create_engine(
        url, pool_pre_ping=True, pool_size=10, max_overflow=10, hide_parameters=True
    )


def _begin(conn: Connection) -> None:
    if conn.get_execution_options().get(READONLY, False):
        conn.exec_driver_sql("BEGIN")
        return
    _begin_immediate(conn.connection.driver_connection)


def _begin_immediate(dbapi: Any) -> None:
    """Take the write lock, trying again within a few milliseconds of its release. SQLite's
    own busy handler sleeps 1, 2, 5, 10 … up to 100 ms between tries, so under a stream of short
    writers (the API's accepts, another worker's commits) a waiter slept long past the lock's
    release and another writer took it first: accept waits of hundreds of milliseconds for a
    lock held a few."""
    dbapi.execute("PRAGMA busy_timeout=0")
    try:
        deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
        tries = 0
        while True:
            try:
                dbapi.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as error:
                busy = (getattr(error, "sqlite_errorcode", 0) & 0xFF) == sqlite3.SQLITE_BUSY
                if not busy or time.monotonic() >= deadline:
                    raise OperationalError("BEGIN IMMEDIATE", None, error) from error
            time.sleep(_POLL_S[min(tries, len(_POLL_S) - 1)])
            tries += 1
    finally:
        dbapi.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")


def reading(engine: Engine) -> Connection:
    """A connection for reads only: on SQLite it does not take the write lock, so reads run
    beside a writer (WAL). Writing through it may fail with `database is locked`."""
    return engine.connect().execution_options(**{READONLY: True})


def _disable_pysqlite_autobegin(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _no_autobegin(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None


def alembic_config(engine: Engine, migrations: Path = MIGRATIONS_DIR) -> Config:
    """Alembic's configuration for `engine` and a migration chain (the node's by default;
    the hub has its own)."""
    config = Config()
    config.set_main_option("script_location", str(migrations))
    config.attributes["engine"] = engine
    return config


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (idempotent)."""
    command.upgrade(alembic_config(engine), "head")
