"""Integrator tenancy and bounded lookups, on SQLite and PostgreSQL: an integrator sees only its
own items and statements, the same external id from two integrators is two items, reviewers
see all; lookups refuse loose thresholds and cap their answers."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from takedown.api.app import create_app
from takedown.config import Settings
from takedown.services import lookup as bounded
from takedown.storage.keys import Role, create_key


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings.with_(classifier=False))) as test_client:
        yield test_client


def _key(client: TestClient, role: Role, tenant: str | None = None) -> dict[str, str]:
    with client.app.state.runtime.engine.begin() as conn:  # type: ignore[attr-defined]
        return {"Authorization": f"Bearer {create_key(conn, role, tenant=tenant)}"}


def _decided(client: TestClient, headers: dict[str, str], item_id: str) -> dict[str, object]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        body = client.get(f"/v1/submissions/{item_id}", headers=headers).json()
        if body.get("status") == "done":
            return body  # type: ignore[no-any-return]
        time.sleep(0.05)
    raise AssertionError(f"{item_id} was not decided in time")


def test_the_same_id_from_two_integrators_is_two_items_each_seen_only_by_its_owner(
    client: TestClient,
) -> None:
    acme = _key(client, Role.INTEGRATOR, tenant="acme")
    other = _key(client, Role.INTEGRATOR)
    one = client.post("/v1/submissions", json={"id": "42", "text": "acme's post"}, headers=acme)
    assert one.status_code == 202 and one.json()["created"]
    two = client.post("/v1/submissions", json={"id": "42", "text": "another post"}, headers=other)
    assert two.status_code == 202 and two.json()["created"], "a second tenant's id is new"
    only_acme = client.post("/v1/submissions", json={"id": "7", "text": "x"}, headers=acme)
    assert only_acme.status_code == 202
    assert client.get("/v1/submissions/7", headers=other).status_code == 404
    assert client.get("/v1/submissions/7?tenant=acme", headers=other).status_code == 404
    decided = _decided(client, acme, "42")
    decision_id = decided["decision"]["id"]  # type: ignore[index]
    assert client.get(f"/v1/decisions/{decision_id}/statement", headers=acme).status_code == 200
    assert client.get(f"/v1/decisions/{decision_id}/statement", headers=other).status_code == 404
    reviewer = _key(client, Role.REVIEWER)
    assert client.get(f"/v1/decisions/{decision_id}/statement", headers=reviewer).status_code == 200
    assert client.get("/v1/submissions/7", headers=reviewer).status_code == 200
    ambiguous = client.get("/v1/submissions/42", headers=reviewer)
    assert ambiguous.status_code == 409 and "tenant" in ambiguous.json()["hint"]
    named = client.get("/v1/submissions/42?tenant=acme", headers=reviewer)
    assert named.status_code == 200 and named.json()["decision"]["id"] == decision_id


def test_a_replacement_key_with_the_same_tenant_sees_the_same_items(client: TestClient) -> None:
    old = _key(client, Role.INTEGRATOR, tenant="acme")
    assert client.post("/v1/submissions", json={"id": "a", "text": "x"}, headers=old).status_code
    new = _key(client, Role.INTEGRATOR, tenant="acme")
    assert client.get("/v1/submissions/a", headers=new).status_code == 200
    resent = client.post("/v1/submissions", json={"id": "a", "text": "x"}, headers=new)
    assert resent.status_code == 200 and not resent.json()["created"]


def test_reports_and_appeals_cannot_name_another_tenants_item(client: TestClient) -> None:
    acme, other = _key(client, Role.INTEGRATOR), _key(client, Role.INTEGRATOR)
    client.post("/v1/submissions", json={"id": "mine", "text": "x"}, headers=acme)
    report = {"item_id": "mine", "reporter": "u1", "reason": "looks bad"}
    assert client.post("/v1/reports", json=report, headers=other).status_code == 404
    assert client.post("/v1/reports", json=report, headers=acme).status_code == 201


def _pdq_bank(client: TestClient, values: list[str]) -> None:
    admin = _key(client, Role.ADMIN)
    client.put("/v1/banks/p", headers=admin, json={"name": "p", "label": "TVEC1", "severity": 4})
    response = client.post(
        "/v1/banks/p/entries",
        headers=admin,
        json={"entries": [{"signal_type": "pdq", "value": v} for v in values]},
    )
    assert response.status_code == 201, response.text
    client.app.state.runtime.follower.poll()  # type: ignore[attr-defined]


def _flip(hex_value: str, bits: int) -> str:
    number = int(hex_value, 16) ^ ((1 << bits) - 1)
    return f"{number:064x}"


def test_lookup_thresholds_are_capped_with_a_hint(client: TestClient) -> None:
    integrator = _key(client, Role.INTEGRATOR)
    query = {"signal_type": "pdq", "values": ["f" * 64], "threshold": 256}
    refused = client.post("/v1/lookup", json=query, headers=integrator)
    assert refused.status_code == 400
    assert "70" in refused.json()["hint"]
    exact = client.post(
        "/v1/lookup",
        json={"signal_type": "md5", "values": ["0" * 32], "threshold": 1},
        headers=integrator,
    )
    assert exact.status_code == 400
    assert client.post(
        "/v1/lookup", json={**query, "threshold": 70}, headers=integrator
    ).status_code == 200


def test_lookup_results_are_capped_per_value(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = "a5" * 32
    _pdq_bank(client, [_flip(base, n) for n in range(1, 13)])
    monkeypatch.setattr(bounded, "MAX_MATCHES_PER_VALUE", 5)
    integrator = _key(client, Role.INTEGRATOR)
    body = client.post(
        "/v1/lookup",
        json={"signal_type": "pdq", "values": [base], "threshold": 31},
        headers=integrator,
    ).json()
    row = body["results"][0]
    assert row["truncated"] is True
    assert [m["distance"] for m in row["matches"]] == [1, 2, 3, 4, 5]
