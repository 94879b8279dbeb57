"""Account enforcement end to end through the HTTP API: strikes → suspension (proactive or not),
signed account webhooks, the Mastodon admin suspend, ban-evader linking with evidence, appeals."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from fake_mastodon import TOKEN, FakeMastodon
from takedown.actions.webhook import verify
from takedown.api.app import create_app
from takedown.config import Settings
from takedown.core.tenancy import split_key
from takedown.storage.keys import Role, create_key
from takedown.storage.ledger import iter_events

SECRET = "s3cret"
BANNED = [f"pretend banked propaganda file {n}".encode() for n in range(3)]
AVATAR = "f0e1" * 16
PROFILE = {"display_name": "Abu Qaqa al-Shami", "bio": "Soldier of the caliphate. Baqiyah.",
           "avatar_pdq": AVATAR}


@pytest.fixture
def client(settings: Settings, webhook_sink: object,
           mastodon: tuple[FakeMastodon, str]) -> Iterator[TestClient]:
    fake, base_url = mastodon
    fake.accounts["m1"] = set()
    settings = settings.with_(webhook_urls=(webhook_sink.url,), webhook_secret=SECRET,  # type: ignore[attr-defined]
                              classifier=False, mastodon_url=base_url, mastodon_token=TOKEN,
                              mastodon_webhook_secret="hook")
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def _key(client: TestClient, role: Role) -> dict[str, str]:
    with client.app.state.runtime.engine.begin() as conn:  # type: ignore[attr-defined]
        return {"Authorization": f"Bearer {create_key(conn, role)}"}


def _until(check: Callable[[], object], what: str, limit: float = 20.0) -> object:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _post_file(client: TestClient, headers: dict[str, str], item_id: str, account: str,
               data: bytes) -> None:
    response = client.post("/v1/submissions", headers=headers,
                           files={"file": ("x.bin", data, "application/octet-stream")},
                           data={"id": item_id, "account_id": account})
    assert response.status_code == 202, response.text
    _until(lambda: client.get(f"/v1/submissions/{item_id}", headers=headers).json()["status"]
           == "done", f"{item_id} decided")


def _bank(client: TestClient) -> None:
    admin = _key(client, Role.ADMIN)
    assert client.put("/v1/banks/known", headers=admin,
                      json={"name": "known", "label": "TVEC1"}).status_code == 200
    entries = [{"signal_type": "md5", "value": hashlib.md5(b).hexdigest()} for b in BANNED]
    assert client.post("/v1/banks/known/entries", headers=admin,
                       json={"entries": entries}).status_code == 201


def test_strikes_suspend_proactively_and_an_evader_is_linked_then_reinstated_on_appeal(
    client: TestClient, webhook_sink: object, mastodon: tuple[FakeMastodon, str]
) -> None:
    _bank(client)
    integrator = _key(client, Role.INTEGRATOR)
    response = client.post("/v1/accounts", headers=integrator,
                           json={"account_id": "m1", "platform": "mastodon", **PROFILE})
    assert response.status_code == 200, response.text
    assert response.json()["state"] == "active" and response.json()["created"] is True
    for n, data in enumerate(BANNED):
        _post_file(client, integrator, f"m1-{n}", "m1", data)
    reviewer = _key(client, Role.REVIEWER)
    page = client.get("/v1/accounts/m1", headers=reviewer).json()
    assert page["state"] == "suspended"
    assert page["strikes"]["effective"] == pytest.approx(3.0, abs=0.01)
    assert {r["signal"] for r in page["reasons"]} >= {"matched", "banked_media"}
    suspend = [d for d in page["decisions"] if d["action"] == "suspend"]
    assert suspend and suspend[0]["rule"] == "strikes-suspend" and suspend[0]["proactive"]

    hooks = _until(lambda: [r for r in webhook_sink.requests  # type: ignore[attr-defined]
                            if r["json"].get("type") == "account_decision"
                            and r["json"]["action"] == "suspend"], "account webhook")
    hook = hooks[0]  # type: ignore[index]
    verify(SECRET, hook["headers"], hook["body"])
    assert hook["json"]["account_id"] == "m1" and hook["json"]["proactive"] is True
    fake, _ = mastodon
    _until(lambda: "suspend" in fake.accounts["m1"], "Mastodon admin suspend")
    assert ("POST", "/api/v1/admin/accounts/m1/action") in [(m, p) for m, p, _ in fake.requests]

    evader = client.post("/v1/accounts", headers=integrator,
                         json={"account_id": "m2", **PROFILE,
                               "display_name": "Abu Qaqa al-Shaami 2"}).json()
    assert evader["state"] == "suspended", evader
    assert evader["decision"]["rule"] == "evader-suspend"
    links = client.get("/v1/accounts/m2", headers=reviewer).json()["links"]
    assert links[0]["suspended_id"] == "m1"
    assert links[0]["evidence"]["avatar"]["pdq_distance"] == 0
    assert links[0]["evidence"]["display_name"]["similarity"] > 0.5
    bystander = client.post("/v1/accounts", headers=integrator,
                            json={"account_id": "b1", "display_name": "Harbour Bakery",
                                  "bio": "Fresh bread daily"}).json()
    assert bystander["state"] == "active" and bystander["evader_score"] == 0

    appeal = client.post("/v1/accounts/m2/appeals", headers=integrator,
                         json={"appellant": "m2", "reason": "I am a different person"})
    assert appeal.status_code == 201, appeal.text
    lead = _key(client, Role.LEAD)
    ruled = client.post(f"/v1/accounts/cases/{appeal.json()['case_id']}/appeal-decision",
                        headers=lead, json={"outcome": "overturn", "reason": "different user"})
    assert ruled.status_code == 200 and ruled.json()["state"] == "overturned", ruled.text
    assert client.get("/v1/accounts/m2", headers=reviewer).json()["state"] == "active"
    again = client.post("/v1/accounts/m2/appeals", headers=integrator,
                        json={"appellant": "m2", "reason": "again"})
    assert again.status_code == 409
    with client.app.state.runtime.engine.connect() as conn:  # type: ignore[attr-defined]
        kinds = [(e.type, e.payload) for e in iter_events(conn)]
    decided = [p for t, p in kinds if t == "account.decided"]
    assert {"account_id", "action", "proactive", "label", "decision_id"} <= set(decided[0])
    # The ledger names accounts by their per-tenant key (core/tenancy.py): this integrator
    # key has its own tenant.
    reinstated = [split_key(p["account_id"]) for t, p in kinds if t == "account.reinstated"]
    assert [account for _tenant, account in reinstated] == ["m2"]


def test_a_suspension_after_a_user_report_is_not_proactive(client: TestClient) -> None:
    _bank(client)
    integrator = _key(client, Role.INTEGRATOR)
    _post_file(client, integrator, "r1-0", "r1", b"an ordinary holiday photo")
    report = client.post("/v1/reports", headers=integrator,
                         json={"reporter": "u9", "item_id": "r1-0", "reason": "propaganda"})
    assert report.status_code == 201, report.text
    for n, data in enumerate(BANNED):
        _post_file(client, integrator, f"r1-{n + 1}", "r1", data)
    page = client.get("/v1/accounts/r1", headers=_key(client, Role.REVIEWER)).json()
    assert page["state"] == "suspended" and page["reports"] == 1
    assert [d["proactive"] for d in page["decisions"] if d["action"] == "suspend"] == [False]


def test_bad_account_input_is_refused_and_stores_nothing(client: TestClient) -> None:
    integrator = _key(client, Role.INTEGRATOR)
    bad = client.post("/v1/accounts", headers=integrator,
                      json={"accounts": [{"account_id": "ok"}, {"account_id": "x",
                                                                "avatar_pdq": "zz"}]})
    assert bad.status_code == 400 and "accounts[1]" in bad.json()["detail"]
    assert client.get("/v1/accounts/ok", headers=integrator).status_code == 404
    wrong = client.post("/v1/accounts/interactions", headers=integrator,
                        json={"interactions": [{"account_id": "a", "target_id": "b",
                                                "kind": "like"}]})
    assert wrong.status_code == 400 and "'like'" in wrong.json()["detail"]
    ok = client.post("/v1/accounts/interactions", headers=integrator,
                     json={"interactions": [{"account_id": "a", "target_id": "b",
                                             "kind": "follow"}]})
    assert ok.status_code == 200 and ok.json()["stored"] == 1
