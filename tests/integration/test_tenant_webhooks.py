"""Webhook receivers per tenant, on SQLite and PostgreSQL: a receiver registered for one
integrator hears only of decisions on that integrator's items (automated and by reviewers),
while the operator's global receivers hear of every tenant's, as a single-tenant install needs.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from takedown.api.app import create_app
from takedown.config import Settings
from takedown.core.errors import InvalidInput
from takedown.storage.keys import Role, create_key
from topology import Receiver


@pytest.fixture
def sinks() -> Iterator[dict[str, Receiver]]:
    made = {name: Receiver() for name in ("operator", "acme", "beta")}
    yield made
    for sink in made.values():
        sink.down()


def _key(client: TestClient, role: Role, tenant: str | None = None) -> dict[str, str]:
    with client.app.state.runtime.engine.begin() as conn:  # type: ignore[attr-defined]
        return {"Authorization": f"Bearer {create_key(conn, role, tenant=tenant)}"}


def _items(sink: Receiver) -> list[tuple[str, int]]:
    with sink.lock:
        return sorted((item, int(str(body["decision_id"])))
                      for item, bodies in sink.seen.items() for body in bodies)


def _wait(what: str, predicate: object, limit: float = 30.0) -> None:
    deadline = time.monotonic() + limit
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_a_tenants_receiver_hears_only_of_its_own_items(
    settings: Settings, sinks: dict[str, Receiver]
) -> None:
    configured = settings.with_(
        classifier=False,
        webhook_urls=(sinks["operator"].url,),
        tenant_webhook_urls=(("acme", sinks["acme"].url), ("beta", sinks["beta"].url)),
    )
    with TestClient(create_app(configured)) as client:
        acme = _key(client, Role.INTEGRATOR, tenant="acme")
        beta = _key(client, Role.INTEGRATOR, tenant="beta")
        other = _key(client, Role.INTEGRATOR, tenant="gamma")  # no receiver of its own
        for headers, ids in ((acme, ["1", "2"]), (beta, ["1", "3"]), (other, ["4"])):
            items = [{"id": i, "kind": "text", "text": f"post {i}"} for i in ids]
            assert client.post("/v1/submissions", json={"items": items},
                               headers=headers).status_code == 202
        _wait("every decision at the operator's receiver",
              lambda: len(_items(sinks["operator"])) == 5)
        _wait("acme's decisions", lambda: len(_items(sinks["acme"])) == 2)
        _wait("beta's decisions", lambda: len(_items(sinks["beta"])) == 2)
        acme_decisions = {d for _i, d in _items(sinks["acme"])}
        beta_decisions = {d for _i, d in _items(sinks["beta"])}
        assert [i for i, _d in _items(sinks["acme"])] == ["1", "2"]
        assert [i for i, _d in _items(sinks["beta"])] == ["1", "3"]
        assert not acme_decisions & beta_decisions, "the same id, two tenants, two decisions"
        assert {d for _i, d in _items(sinks["operator"])} >= acme_decisions | beta_decisions

        # A reviewer's decision on acme's item goes to acme and the operator, not to beta.
        reported = client.post("/v1/reports", headers=acme,
                               json={"reporter": "u1", "item_id": "2", "reason": "TVEC?"})
        assert reported.status_code == 201, reported.text
        case_id = reported.json()["case_id"]
        reviewer = _key(client, Role.REVIEWER)
        decided = client.post(f"/v1/cases/{case_id}/decision", headers=reviewer,
                              json={"action": "remove", "label": "TVEC7", "reason": "Praise."})
        assert decided.status_code == 200, decided.text
        _wait("the reviewer's decision at acme's receiver",
              lambda: len(_items(sinks["acme"])) == 3)
        _wait("the reviewer's decision at the operator's receiver",
              lambda: len(_items(sinks["operator"])) == 6)
        assert [i for i, _d in _items(sinks["acme"])] == ["1", "2", "2"]
        assert len(_items(sinks["beta"])) == 2
        assert set(sinks["acme"].seen) == {"1", "2"}


def test_without_tenant_receivers_the_global_ones_hear_everything(
    settings: Settings, sinks: dict[str, Receiver]
) -> None:
    configured = settings.with_(classifier=False, webhook_urls=(sinks["operator"].url,))
    with TestClient(create_app(configured)) as client:
        default = _key(client, Role.INTEGRATOR, tenant="")
        acme = _key(client, Role.INTEGRATOR, tenant="acme")
        for headers in (default, acme):
            assert client.post("/v1/submissions", json={"id": "x", "text": "post"},
                               headers=headers).status_code == 202
        _wait("both decisions", lambda: len(_items(sinks["operator"])) == 2)
    assert not sinks["acme"].seen and not sinks["beta"].seen


def test_tenant_receivers_are_read_from_the_environment() -> None:
    parsed = Settings.from_env({"TAKEDOWN_TENANT_WEBHOOK_URLS":
                                "acme=https://a.example/hook?token=x=y, beta=https://b.example/h"})
    assert parsed.tenant_webhook_urls == (("acme", "https://a.example/hook?token=x=y"),
                                          ("beta", "https://b.example/h"))
    assert parsed.webhook_targets("acme") == ("https://a.example/hook?token=x=y",)
    assert parsed.webhook_targets("gamma") == ()
    with pytest.raises(InvalidInput, match="TENANT=URL"):
        Settings.from_env({"TAKEDOWN_TENANT_WEBHOOK_URLS": "https://no-tenant.example/hook"})
