"""Operations surface: liveness, readiness, Prometheus metrics and the JSON request log."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from takedown.api.app import create_app
from takedown.api.ops import JsonFormatter
from takedown.config import Settings
from takedown.storage.keys import Role, create_key

SECRET_TEXT = "a post whose words must never reach a log line"


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings.with_(classifier=False))) as test_client:
        yield test_client


def _headers(client: TestClient) -> dict[str, str]:
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    with runtime.engine.begin() as conn:
        return {"Authorization": f"Bearer {create_key(conn, Role.INTEGRATOR)}"}


def test_liveness_readiness_and_the_healthz_alias(client: TestClient) -> None:
    assert client.get("/livez").json()["ok"] is True
    assert client.get("/healthz").json()["ok"] is True
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"]["database"] == "ok"


def test_readiness_fails_when_the_queue_is_unreachable(client: TestClient) -> None:
    runtime = client.app.state.runtime  # type: ignore[attr-defined]

    class DownQueue:
        def ping(self) -> None:
            raise ConnectionError("gone")

    real, runtime.queue = runtime.queue, DownQueue()
    try:
        response = client.get("/readyz")
    finally:
        runtime.queue = real
    assert response.status_code == 503
    assert response.json()["checks"]["queue"].startswith("unavailable")
    assert client.get("/livez").status_code == 200


def test_metrics_count_decisions_latency_and_queue_depth(client: TestClient) -> None:
    headers = _headers(client)
    response = client.post("/v1/submissions", headers=headers,
                           json={"id": "m1", "kind": "text", "text": "hello there"})
    assert response.status_code == 202
    deadline = time.monotonic() + 15
    while client.get("/v1/submissions/m1", headers=headers).json()["status"] != "done":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    body = client.get("/metrics").text
    assert 'takedown_decisions_total{action="none",label="TVEC0"}' in body
    assert "takedown_submit_to_decision_seconds_count" in body
    assert 'takedown_queue_items{status="pending"} 0.0' in body
    assert 'takedown_outbox_messages{state="dead"}' in body
    assert 'takedown_http_request_seconds_count{method="POST",route="/v1/submissions"' in body


def test_one_json_line_per_request_and_never_the_content(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    headers = _headers(client)
    with caplog.at_level(logging.INFO, logger="takedown.access"):
        client.post("/v1/submissions?token=hunter2", headers=headers,
                    json={"id": "log-1", "kind": "text", "text": SECRET_TEXT})
        client.get("/v1/submissions/log-1", headers=headers)
    lines = [JsonFormatter().format(r) for r in caplog.records if r.name == "takedown.access"]
    assert len(lines) == 2
    parsed = [json.loads(line) for line in lines]
    assert [(p["method"], p["route"], p["status"]) for p in parsed] == [
        ("POST", "/v1/submissions", 202),
        ("GET", "/v1/submissions/{item_id}", 200),
    ]
    assert all(isinstance(p["ms"], float) and p["request_id"] for p in parsed)
    joined = "\n".join(lines)
    assert SECRET_TEXT not in joined and "hunter2" not in joined and "Bearer" not in joined
