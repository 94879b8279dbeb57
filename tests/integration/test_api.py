"""The HTTP API end to end through FastAPI's test client, on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import hashlib
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from takedown.actions.webhook import verify
from takedown.api.app import create_app
from takedown.config import Settings
from takedown.storage.keys import Role, create_key
from takedown.storage.tables import events, submissions

SECRET = "s3cret"
BANNED = b"\x89PNG pretend image bytes that are banked"


@pytest.fixture
def client(settings: Settings, webhook_sink: object) -> Iterator[TestClient]:
    settings = settings.with_(webhook_urls=(webhook_sink.url,), webhook_secret=SECRET)  # type: ignore[attr-defined]
    app = create_app(settings)
    with TestClient(app) as test_client:
        yield test_client


def _key(client: TestClient, role: Role) -> dict[str, str]:
    with client.app.state.runtime.engine.begin() as conn:  # type: ignore[attr-defined]
        return {"Authorization": f"Bearer {create_key(conn, role)}"}


def _wait_decided(client: TestClient, headers: dict[str, str], item_id: str) -> dict[str, object]:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        body = client.get(f"/v1/submissions/{item_id}", headers=headers).json()
        if body["status"] == "done":
            return body  # type: ignore[no-any-return]
        time.sleep(0.05)
    raise AssertionError(f"{item_id} was not decided in time")


def _bank(client: TestClient) -> None:
    admin = _key(client, Role.ADMIN)
    response = client.put(
        "/v1/banks/known", headers=admin, json={"name": "known", "label": "TVEC1", "severity": 4}
    )
    assert response.status_code == 200, response.text
    response = client.post(
        "/v1/banks/known/entries",
        headers=admin,
        json={
            "entries": [{"signal_type": "md5", "value": hashlib.md5(BANNED).hexdigest().upper()}]
        },
    )
    assert response.json() == {"added": 1, "already_present": 0}


def test_banked_file_is_removed_with_a_case_and_a_signed_webhook(
    client: TestClient, webhook_sink: object
) -> None:
    _bank(client)
    integrator = _key(client, Role.INTEGRATOR)
    response = client.post(
        "/v1/submissions",
        headers=integrator,
        files={"file": ("x.png", BANNED, "image/png")},
        data={"id": "up-1", "account_id": "acct"},
    )
    assert response.status_code == 202, response.text
    body = _wait_decided(client, integrator, "up-1")
    assert body["decision"]["action"] == "remove"  # type: ignore[index]
    assert body["decision"]["provenance"]["entry_ids"] == [1]  # type: ignore[index]
    assert body["kind"] == "image" and len(body["cases"]) == 1  # type: ignore[arg-type]
    deadline = time.monotonic() + 10
    while not webhook_sink.requests and time.monotonic() < deadline:  # type: ignore[attr-defined]
        time.sleep(0.05)
    hook = webhook_sink.requests[0]  # type: ignore[attr-defined]
    verify(SECRET, hook["headers"], hook["body"])
    assert hook["json"]["item_id"] == "up-1" and hook["json"]["decision"]["action"] == "remove"


def test_benign_text_gets_no_action_and_resends_create_nothing(client: TestClient) -> None:
    integrator = _key(client, Role.INTEGRATOR)
    item = {"id": "t-1", "kind": "text", "text": "Lovely weather at the harbour today."}
    assert client.post("/v1/submissions", headers=integrator, json=item).status_code == 202
    first = _wait_decided(client, integrator, "t-1")
    assert first["decision"]["action"] == "none"  # type: ignore[index]
    again = client.post("/v1/submissions", headers=integrator, json={**item, "text": "changed"})
    assert again.status_code == 200
    assert again.json()["decision"] == first["decision"] and again.json()["created"] is False
    with client.app.state.runtime.engine.connect() as conn:  # type: ignore[attr-defined]
        assert conn.execute(select(func.count()).select_from(submissions)).scalar() == 1


def test_batch_of_base64_items(client: TestClient) -> None:
    _bank(client)
    integrator = _key(client, Role.INTEGRATOR)
    items = [
        {
            "id": f"b-{n}",
            "kind": "image",
            "content_base64": base64.b64encode(BANNED if n == 0 else bytes([n])).decode(),
        }
        for n in range(5)
    ]
    response = client.post("/v1/submissions", headers=integrator, json={"items": items})
    assert response.status_code == 202 and len(response.json()["items"]) == 5
    actions = [_wait_decided(client, integrator, f"b-{n}")["decision"]["action"] for n in range(5)]  # type: ignore[index]
    assert actions == ["remove", "none", "none", "none", "none"]


@pytest.mark.parametrize(
    ("body", "content_type", "status", "fragment"),
    [
        (b"{not json", "application/json", 400, "not valid JSON"),
        (b"", "application/json", 400, "empty"),
        (b'{"id": "x", "kind": "podcast", "text": "a"}', "application/json", 400, "unknown kind"),
        (
            b'{"id": "x", "kind": "image", "content_base64": "%%%"}',
            "application/json",
            400,
            "base64",
        ),
        (b'{"id": "x", "kind": "text", "text": ""}', "application/json", 400, "non-empty"),
        (b"id=x", "text/plain", 415, "content type"),
        (
            b'{"items": [{"id": "ok", "text": "fine"}, {"id": "bad", "kind": "nope"}]}',
            "application/json",
            400,
            "items[1]",
        ),
    ],
)
def test_bad_input_is_refused_clearly_and_stores_nothing(
    client: TestClient, body: bytes, content_type: str, status: int, fragment: str
) -> None:
    integrator = _key(client, Role.INTEGRATOR)
    response = client.post(
        "/v1/submissions", headers={**integrator, "Content-Type": content_type}, content=body
    )
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert fragment in response.json()["detail"]
    with client.app.state.runtime.engine.connect() as conn:  # type: ignore[attr-defined]
        assert conn.execute(select(func.count()).select_from(submissions)).scalar() == 0


def test_body_limit(settings: Settings) -> None:
    app = create_app(settings.with_(max_body_bytes=1000), start_workers=False)
    with TestClient(app) as client:
        integrator = _key(client, Role.INTEGRATOR)
        response = client.post(
            "/v1/submissions", headers=integrator, json={"id": "big", "text": "a" * 5000}
        )
        assert response.status_code == 413 and "limit" in response.json()["detail"]


def test_every_endpoint_checks_its_role(client: TestClient) -> None:
    reviewer = _key(client, Role.REVIEWER)
    auditor = _key(client, Role.AUDITOR)
    assert client.post("/v1/submissions", json={"id": "1", "text": "x"}).status_code == 401
    assert (
        client.post("/v1/submissions", headers=reviewer, json={"id": "1", "text": "x"}).status_code
        == 403
    )
    assert (
        client.put(
            "/v1/banks/x", headers=reviewer, json={"name": "x", "label": "TVEC1"}
        ).status_code
        == 403
    )
    assert client.get("/v1/events", headers=reviewer).status_code == 403
    assert client.get("/v1/events/verify", headers=auditor).json() == {
        "ok": True,
        "first_broken_seq": None,
    }
    with client.app.state.runtime.engine.connect() as conn:  # type: ignore[attr-defined]
        assert conn.execute(select(func.count()).select_from(events)).scalar() > 0
