"""Shared fixtures: a database per backend (SQLite always; PostgreSQL and Redis when reachable).

With CI=true a missing PostgreSQL or Redis fails the run instead of skipping, so CI can never
go green without having tested the real backends.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from takedown.config import Settings
from takedown.storage.db import make_engine, migrate
from takedown.storage.tables import metadata
from takedown_testing import PG_ADMIN_URL, need_module, need_service

REDIS_URL = os.environ.get("TAKEDOWN_TEST_REDIS", "redis://127.0.0.1:6379/15")


@pytest.fixture
def vpdq_lib() -> None:
    need_module("vpdq", "pip install '.[video]'")


@pytest.fixture(scope="session")
def pg_database_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, dropped afterwards."""
    need_service("PostgreSQL", "127.0.0.1", 5432)
    name = f"takedown_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    engine = make_engine(url)
    migrate(engine)
    engine.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _truncate_pg(engine: Engine) -> None:
    names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Every storage test runs on both backends."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'takedown.db'}"
        return
    url = request.getfixturevalue("pg_database_url")
    engine = make_engine(url)
    _truncate_pg(engine)
    engine.dispose()
    yield url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    eng = make_engine(database_url)
    migrate(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        webhook_backoff_seconds=0.05,
        lease_seconds=5,
    )


@pytest.fixture
def redis_url() -> str:
    need_service("Redis", "127.0.0.1", 6379)
    return REDIS_URL


class WebhookSink:
    """A real HTTP server on loopback that records webhook requests; can fail the first N."""

    def __init__(self, fail_first: int = 0) -> None:
        import http.server
        import json as _json

        self.requests: list[dict[str, object]] = []
        self.fail_first = fail_first
        self._lock = threading.Lock()
        sink = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with sink._lock:
                    failing = sink.fail_first > 0
                    if failing:
                        sink.fail_first -= 1
                    else:
                        sink.requests.append(
                            {"headers": dict(self.headers), "body": body, "json": _json.loads(body)}
                        )
                self.send_response(503 if failing else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                return

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhook_sink() -> Iterator[WebhookSink]:
    sink = WebhookSink()
    yield sink
    sink.close()


from fake_mastodon import mastodon  # noqa: E402,F401 - a fixture shared by unit and integration tests
