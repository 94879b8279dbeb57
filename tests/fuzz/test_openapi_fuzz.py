"""Schemathesis against the app's own OpenAPI spec: whatever it generates for any operation,
the answer is never a 5xx. Bounded (few examples per operation) so the run stays under a minute;
the fuzzer sends well-typed and malformed bodies, odd strings and missing headers alike."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from takedown.api.app import create_app
from takedown.config import Settings
from takedown.storage.keys import Role, create_key

KEYS: dict[str, str] = {}


def _schema(settings: Settings) -> tuple[schemathesis.BaseSchema, object]:
    app = create_app(settings, start_workers=False)
    backend = "postgresql" if settings.database_url else "sqlite"
    with app.state.runtime.engine.begin() as conn:
        KEYS[backend] = create_key(conn, Role.ADMIN)
    return schemathesis.openapi.from_asgi("/openapi.json", app), app


def _settings(data: Path, database_url: str | None) -> Settings:
    # The Mastodon connector is configured (to a closed loopback port) so its webhook route is
    # exercised rather than answering 503 "not configured".
    return Settings(
        data_dir=data,
        database_url=database_url,
        classifier=False,
        mastodon_url="http://127.0.0.1:9",
        mastodon_token="t",
        mastodon_webhook_secret="s",
    )


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory) -> Iterator[schemathesis.BaseSchema]:
    schema, app = _schema(_settings(Path(tmp_path_factory.mktemp("fuzz")), None))
    yield schema
    app.state.runtime.close()  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def api_schema_pg(
    tmp_path_factory: pytest.TempPathFactory, pg_database_url: str
) -> Iterator[schemathesis.BaseSchema]:
    """PostgreSQL enforces what SQLite does not (column lengths, NUL): fuzz it too."""
    schema, app = _schema(_settings(Path(tmp_path_factory.mktemp("fuzz-pg")), pg_database_url))
    yield schema
    app.state.runtime.close()  # type: ignore[attr-defined]


schema = schemathesis.pytest.from_fixture("api_schema")
schema_pg = schemathesis.pytest.from_fixture("api_schema_pg")


@schema.parametrize()
@settings(
    max_examples=10,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
    database=None,
)
def test_no_operation_answers_with_a_server_error(case: schemathesis.Case) -> None:
    response = case.call(headers={"Authorization": f"Bearer {KEYS['sqlite']}"})
    assert response.status_code < 500, (case.method, case.path, response.text[:300])


@schema_pg.parametrize()
@settings(
    max_examples=5,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
    database=None,
)
def test_no_operation_answers_with_a_server_error_on_postgresql(case: schemathesis.Case) -> None:
    response = case.call(headers={"Authorization": f"Bearer {KEYS['postgresql']}"})
    assert response.status_code < 500, (case.method, case.path, response.text[:300])
