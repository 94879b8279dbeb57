"""Mastodon end to end: a signed admin webhook in, a decision, the admin-API call out."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from fake_mastodon import SECRET, TOKEN, FakeMastodon
from takedown.api.app import create_app
from takedown.config import Settings
from takedown.core.banks import Bank
from takedown.core.taxonomy import TvecLabel
from takedown.signals.exact import text_sha256
from takedown.storage import banks as bank_store

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "mastodon"


@pytest.fixture
def app_client(settings: Settings, mastodon: tuple[FakeMastodon, str]) -> Iterator[TestClient]:
    _, base_url = mastodon
    settings = settings.with_(mastodon_url=base_url, mastodon_token=TOKEN,
                              mastodon_webhook_secret=SECRET)
    with TestClient(create_app(settings, start_workers=False)) as client:
        yield client


def _signed(client: TestClient, body: bytes) -> dict[str, str]:
    connector = client.app.state.runtime.mastodon  # type: ignore[attr-defined]
    return {"X-Hub-Signature": connector.signature(body), "Content-Type": "application/json"}


def test_a_banked_status_is_deleted_through_the_admin_api(
    app_client: TestClient, mastodon: tuple[FakeMastodon, str]
) -> None:
    fake, _ = mastodon
    payload = json.loads((FIXTURES / "status_created.json").read_text())
    status_id = payload["object"]["id"]
    fake.statuses[status_id] = {"account": payload["object"]["account"]["id"]}
    runtime = app_client.app.state.runtime  # type: ignore[attr-defined]
    body = json.dumps(payload).encode()
    event = runtime.mastodon.parse(body)
    text = next(s.text for s in event.submissions if s.text)
    with runtime.engine.begin() as conn:
        bank_store.upsert_bank(conn, Bank("known", TvecLabel.PRAISE), actor="t")
        bank_store.add_entries(conn, "known", [("text_sha256", text_sha256(text), None)], actor="t")
    runtime.follower.poll()

    unsigned = app_client.post("/v1/connectors/mastodon/webhook", content=body,
                               headers={"Content-Type": "application/json"})
    assert unsigned.status_code == 401
    response = app_client.post("/v1/connectors/mastodon/webhook", content=body,
                               headers=_signed(app_client, body))
    assert response.status_code == 202, response.text
    while runtime.worker.run_once():
        pass
    runtime.deliverer.run_once()
    assert fake.statuses[status_id].get("deleted") is True
    deletes = [r for r in fake.requests if r[1] == f"/api/v1/admin/statuses/{status_id}/action"]
    assert len(deletes) == 1 and deletes[0][2]["type"] == "delete"
    runtime.deliverer.run_once()
    assert len([r for r in fake.requests if r[1].endswith("/action")]) == 1
