"""The issue's 'done when', through the HTTP API alone, on SQLite and PostgreSQL: an image at PDQ
distance 20 from a TVEC bank entry goes to review (default policy), a reviewer decides `remove`
TVEC7, the platform gets a signed webhook, the user appeals, a different reviewer overturns, the
platform gets a signed restore webhook, and the ledger holds every step with its provenance."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from takedown.actions.webhook import verify
from takedown.api.app import create_app
from takedown.config import Settings
from takedown.storage.keys import Role, create_key
from takedown.storage.tables import false_positives

SECRET = "review-secret"
DISTANCE = 20


def textured_png() -> bytes:
    """A deterministic, benign, textured picture (PDQ needs texture for a good-quality hash)."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(7)
    pixels = rng.integers(0, 255, size=(24, 32, 3), dtype=np.uint8)
    image = Image.fromarray(pixels).resize((256, 192), Image.Resampling.BICUBIC)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def pdq_at_distance(content: bytes, distance: int) -> str:
    """The image's own PDQ hash with `distance` bits flipped: a bank entry exactly that far."""
    from takedown.core.content import ContentKind, make_submission
    from takedown.signals.registry import default_registry

    item = make_submission(item_id="probe", kind=ContentKind.IMAGE, content=content)
    value = default_registry().get("pdq").extract(item)[0].value
    flipped = int(value, 16) ^ ((1 << distance) - 1) << 100
    return f"{flipped:064x}"


@pytest.fixture
def client(settings: Settings, webhook_sink: Any) -> Iterator[TestClient]:
    app = create_app(settings.with_(webhook_urls=(webhook_sink.url,), webhook_secret=SECRET))
    with TestClient(app) as test_client:
        yield test_client


def key(client: TestClient, role: Role, name: str | None = None) -> dict[str, str]:
    with client.app.state.runtime.engine.begin() as conn:  # type: ignore[attr-defined]
        return {"Authorization": f"Bearer {create_key(conn, role, name=name)}"}


def wait_for(predicate: Any, what: str, timeout: float = 15) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def bank_and_submit(client: TestClient, item_id: str = "post-1") -> dict[str, str]:
    admin = key(client, Role.ADMIN)
    assert (
        client.put(
            "/v1/banks/tvec", headers=admin, json={"name": "tvec", "label": "TVEC1", "severity": 4}
        ).status_code
        == 200
    )
    image = textured_png()
    entry = {"signal_type": "pdq", "value": pdq_at_distance(image, DISTANCE)}
    assert (
        client.post("/v1/banks/tvec/entries", headers=admin, json={"entries": [entry]}).status_code
        == 201
    )
    integrator = key(client, Role.INTEGRATOR, "forum")
    response = client.post(
        "/v1/submissions",
        headers=integrator,
        files={"file": ("poster.png", image, "image/png")},
        data={"id": item_id, "account_id": "user-7"},
    )
    assert response.status_code == 202, response.text
    wait_for(
        lambda: (
            client.get(f"/v1/submissions/{item_id}", headers=integrator).json()["status"] == "done"
        ),
        "the automated decision",
    )
    return integrator


def hooks_for(sink: Any, item_id: str, count: int) -> list[dict[str, Any]]:
    return wait_for(  # type: ignore[no-any-return]
        lambda: (
            (found := [r for r in sink.requests if r["json"].get("item_id") == item_id])
            and len(found) >= count
            and found
        ),
        f"{count} webhooks for {item_id}",
    )


def test_remove_appeal_overturn_restore_through_the_api(
    client: TestClient, webhook_sink: Any
) -> None:
    integrator = bank_and_submit(client)
    alice = key(client, Role.REVIEWER, "alice")
    bob = key(client, Role.REVIEWER, "bob")

    queue = client.get("/v1/review/queue", headers=alice).json()["cases"]
    assert [c["item_id"] for c in queue] == ["post-1"]
    case_id = queue[0]["id"]
    detail = client.get(f"/v1/cases/{case_id}", headers=alice).json()
    match = next(f for f in detail["findings"] if f.get("bank") == "tvec")
    assert (match["signal_type"], match["distance"]) == ("pdq", DISTANCE)
    auto = detail["decisions"][0]
    assert (auto["stage"], auto["action"]) == ("auto", "queue")
    assert auto["provenance"]["entry_ids"] == [1] and auto["provenance"]["policy_version"]

    decided = client.post(
        f"/v1/cases/{case_id}/decision",
        headers=alice,
        json={"action": "remove", "label": "TVEC7", "reason": "Praises a terrorist attack."},
    )
    assert decided.status_code == 200, decided.text
    review_decision = decided.json()["decision_id"]
    assert decided.json()["decision"]["provenance"]["entry_ids"] == [1]

    hooks = hooks_for(webhook_sink, "post-1", 2)
    assert hooks[0]["json"]["decision"]["action"] == "queue"
    human = next(h for h in hooks if h["json"].get("stage") == "review")
    verify(SECRET, human["headers"], human["body"])
    assert human["json"]["decision"]["action"] == "remove"
    assert human["json"]["decision"]["label"] == "TVEC7"

    appeal = client.post(
        "/v1/appeals",
        headers=integrator,
        json={"item_id": "post-1", "appellant": "user-7", "reason": "It is a news report."},
    )
    assert appeal.status_code == 201, appeal.text
    appeal_id = appeal.json()["appeal_id"]
    retried = client.post(
        "/v1/appeals",
        headers=integrator,
        json={"item_id": "post-1", "appellant": "user-7", "reason": "It is a news report."},
    )
    assert retried.json()["appeal_id"] == appeal_id and retried.json()["created"] is False
    assert appeal.json()["contested_decision_id"] == review_decision
    listed = client.get("/v1/appeals", headers=bob, params={"mine": True}).json()["appeals"]
    assert [a["id"] for a in listed] == [appeal_id]

    refused = client.post(
        f"/v1/appeals/{appeal_id}/decision",
        headers=alice,
        json={"outcome": "overturn", "reason": "I was wrong."},
    )
    assert refused.status_code == 403 and "another reviewer" in refused.json()["detail"]

    overturned = client.post(
        f"/v1/appeals/{appeal_id}/decision",
        headers=bob,
        json={"outcome": "overturn", "reason": "News reporting, not praise.", "label": "TVEC.01"},
    )
    assert overturned.status_code == 200, overturned.text
    assert overturned.json()["decision"]["action"] == "restore"
    restore_id = overturned.json()["decision_id"]

    restore = next(
        h for h in hooks_for(webhook_sink, "post-1", 3) if h["json"].get("stage") == "appeal"
    )
    verify(SECRET, restore["headers"], restore["body"])
    assert restore["json"]["decision"]["action"] == "restore"
    assert restore["json"]["supersedes"] == review_decision

    case = client.get(f"/v1/cases/{case_id}", headers=bob).json()
    assert case["state"] == "overturned"
    with client.app.state.runtime.engine.connect() as conn:  # type: ignore[attr-defined]
        charged = conn.execute(select(false_positives)).all()
    assert [(r.entry_id, r.decision_id, r.source) for r in charged] == [
        (1, review_decision, "appeal")
    ]

    auditor = key(client, Role.AUDITOR)
    events = client.get("/v1/events", headers=auditor, params={"limit": 1000}).json()["events"]
    types = [e["type"] for e in events]
    for step in (
        "decision.made",
        "case.opened",
        "case.decided",
        "appeal.filed",
        "appeal.decided",
        "feedback.false_positive",
        "webhook.delivered",
    ):
        assert step in types, step
    made = [e for e in events if e["type"] == "decision.made" and e["subject"] == "item:post-1"]
    assert [e["payload"]["stage"] for e in made] == ["auto", "review", "appeal"]
    assert made[1]["actor"].endswith(":alice") and made[2]["actor"].endswith(":bob")
    assert made[2]["payload"]["decision"]["provenance"]["entry_ids"] == [1]
    assert made[2]["payload"]["decision"]["provenance"]["rule"] == "appeal:overturn"
    assert client.get("/v1/events/verify", headers=auditor).json()["ok"] is True

    sor = client.get(f"/v1/decisions/{restore_id}/statement", headers=integrator).json()
    assert sor["decision"]["action"] == "restore" and sor["stage"] == "appeal"
    assert sor["automated_decision"] is False and sor["automated_detection"] is True
    first = client.get(f"/v1/decisions/{review_decision}/statement", headers=integrator).json()
    assert first["dsa"]["category_specification"] == ["KEYWORD_TERRORIST_CONTENT"]
    assert first["ground"]["type"] == "DECISION_GROUND_INCOMPATIBLE_CONTENT"
    assert any(r["kind"] == "internal_complaint" for r in first["redress"])
