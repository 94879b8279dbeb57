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


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory) -> Iterator[schemathesis.BaseSchema]:
    data = Path(tmp_path_factory.mktemp("fuzz"))
    # The Mastodon connector is configured (to a closed loopback port) so its webhook route is
    # exercised rather than answering 503 "not configured".
    settings = Settings(
        data_dir=data,
        classifier=False,
        mastodon_url="http://127.0.0.1:9",
        mastodon_token="t",
        mastodon_webhook_secret="s",
    )
    app = create_app(settings, start_workers=False)
    with app.state.runtime.engine.begin() as conn:
        KEYS["admin"] = create_key(conn, Role.ADMIN)
    yield schemathesis.openapi.from_asgi("/openapi.json", app)
    app.state.runtime.close()


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
    database=None,
)
def test_no_operation_answers_with_a_server_error(case: schemathesis.Case) -> None:
    response = case.call(headers={"Authorization": f"Bearer {KEYS['admin']}"})
    assert response.status_code < 500, (case.method, case.path, response.text[:300])
