"""Account history per tenant, on SQLite and PostgreSQL: two integrators' accounts named "u1"
are two accounts. One's removals give it strikes and risk; the other's stays clean, sees only
its own accounts, and the policy's account facts for its items count only its own history."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from takedown.api.app import create_app
from takedown.config import Settings
from takedown.core.banks import Bank
from takedown.core.content import ContentKind, Submission
from takedown.core.taxonomy import TvecLabel
from takedown.services.facts import StoredFacts
from takedown.signals.exact import text_sha256
from takedown.storage import banks as bank_store
from takedown.storage.keys import Role, create_key

BANNED = "the banned propaganda text number {n}"


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings.with_(classifier=False))) as test_client:
        with test_client.app.state.runtime.engine.begin() as conn:  # type: ignore[attr-defined]
            bank_store.upsert_bank(conn, Bank("known", TvecLabel.PRAISE), actor="test")
            bank_store.add_entries(conn, "known", [
                ("text_sha256", text_sha256(BANNED.format(n=n)), None) for n in range(3)
            ], actor="test")
        test_client.app.state.runtime.follower.poll()  # type: ignore[attr-defined]
        yield test_client


def _key(client: TestClient, tenant: str | None, role: Role = Role.INTEGRATOR) -> dict[str, str]:
    with client.app.state.runtime.engine.begin() as conn:  # type: ignore[attr-defined]
        return {"Authorization": f"Bearer {create_key(conn, role, tenant=tenant)}"}


def _all_done(client: TestClient, headers: dict[str, str], ids: list[str]) -> None:
    deadline = time.monotonic() + 30
    for item in ids:
        while client.get(f"/v1/submissions/{item}", headers=headers).json()["status"] != "done":
            assert time.monotonic() < deadline, f"{item} not decided"
            time.sleep(0.05)


def test_the_same_account_id_at_two_tenants_has_two_histories(client: TestClient) -> None:
    acme, beta = _key(client, "acme"), _key(client, "beta")
    bad = [{"id": f"a{n}", "kind": "text", "account_id": "u1", "text": BANNED.format(n=n)}
           for n in range(3)]
    assert client.post("/v1/submissions", json={"items": bad}, headers=acme).status_code == 202
    benign = [{"id": "b0", "kind": "text", "account_id": "u1", "text": "hello there"}]
    assert client.post("/v1/submissions", json={"items": benign}, headers=beta).status_code == 202
    _all_done(client, acme, ["a0", "a1", "a2"])
    _all_done(client, beta, ["b0"])

    mine = client.get("/v1/accounts/u1", headers=acme)
    theirs = client.get("/v1/accounts/u1", headers=beta)
    assert mine.status_code == 200 and theirs.status_code == 200
    assert mine.json()["account_id"] == "u1" and theirs.json()["account_id"] == "u1"
    assert len(mine.json()["strikes"]["items"]) == 3
    assert theirs.json()["strikes"]["items"] == [], "acme's removals are not beta's strikes"
    assert theirs.json()["risk"] < mine.json()["risk"]
    assert [i["item_id"] for i in theirs.json()["items"]] == ["b0"]
    assert sorted(i["item_id"] for i in mine.json()["items"]) == ["a0", "a1", "a2"]

    listed = client.get("/v1/accounts", headers=beta).json()["accounts"]
    assert [a["account_id"] for a in listed] == ["u1"]
    assert len(client.get("/v1/accounts", headers=_key(client, None, Role.REVIEWER))
               .json()["accounts"]) == 2, "a reviewer sees both tenants' accounts"
    assert client.get("/v1/accounts/u1", headers=_key(client, "gamma")).status_code == 404

    facts = StoredFacts(client.app.state.runtime.engine)  # type: ignore[attr-defined]
    new = {t: Submission(f"new-{t}", ContentKind.TEXT, account_id="u1", text="x", tenant=t)
           for t in ("acme", "beta")}
    assert facts(new["acme"]).account_risk > 0.5
    assert facts(new["beta"]).account_risk == 0.0
    facts.prefetch(list(new.values()))
    assert facts(new["acme"]).account_risk > 0.5
    assert facts(new["beta"]).account_risk == 0.0


def test_profiles_and_interactions_are_per_tenant(client: TestClient) -> None:
    acme, beta = _key(client, "acme"), _key(client, "beta")
    made = client.post("/v1/accounts", json={"account_id": "u1", "display_name": "Acme U1"},
                       headers=acme)
    assert made.status_code == 200, made.text
    assert made.json()["account_id"] == "u1"
    assert client.get("/v1/accounts/u1", headers=beta).status_code == 404
    linked = client.post("/v1/accounts/interactions", headers=beta, json={
        "interactions": [{"account_id": "u2", "target_id": "u1", "kind": "follow"}]})
    assert linked.status_code == 200, linked.text
    assert [a["account_id"] for a in linked.json()["accounts"]] == ["u2"]
    assert client.get("/v1/accounts/u1", headers=beta).json()["profile"]["display_name"] is None
    assert client.get("/v1/accounts/u1", headers=acme).json()["profile"]["display_name"] == (
        "Acme U1")
