"""Removal orders: the one-hour clock with warnings at 30 and 50 minutes, action and
confirmation, an unmet order paused with its reason and given a fresh hour when the reason
ceases (TCO Art 3(7)/(8)), the `metadata.removal_order` alias, the API and the queue banner."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from takedown.api.app import create_app
from takedown.config import Settings
from takedown.core.content import ContentKind, make_submission
from takedown.core.errors import Conflict, InvalidInput
from takedown.legal.orders import NewOrder, RemovalOrders
from takedown.queue.embedded import EmbeddedQueue
from takedown.services.ingest import accept
from takedown.storage import submissions as subs
from takedown.storage.keys import Role, create_key
from takedown.storage.ledger import iter_events
from takedown.storage.legal_tables import removal_orders
from takedown.storage.statements import statement_facts
from takedown.storage.tables import cases

T0 = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)


class FakeClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def at(self, minutes: float) -> None:
        self.now = T0 + timedelta(minutes=minutes)


def _order(item_id: str | None = "post-1") -> NewOrder:
    return NewOrder(
        authority="Europol IRU",
        legal_basis="Regulation (EU) 2021/784, Article 3",
        authority_contact="iru@example.org",
        item_id=item_id,
        url=None if item_id else "https://forum.example/t/9",
    )


def _submit(engine: Engine, item_id: str = "post-1") -> None:
    with engine.begin() as conn:
        subs.insert_submission(
            conn,
            make_submission(item_id=item_id, kind=ContentKind.TEXT, text="benign"),
            source="api",
        )


def _kinds(engine: Engine, prefix: str) -> list[tuple[str, dict[str, object]]]:
    with engine.connect() as conn:
        return [(e.type, e.payload) for e in iter_events(conn) if e.type.startswith(prefix)]


def test_an_order_met_in_time_with_warnings_and_confirmation(engine: Engine) -> None:
    _submit(engine)
    clock = FakeClock(T0)
    with engine.begin() as conn:
        order = RemovalOrders(conn, clock=clock).receive(_order(), actor="test")
        case = conn.execute(select(cases)).one()
    assert order["deadline_at"] == (T0 + timedelta(hours=1)).isoformat()
    assert order["clock"]["remaining_seconds"] == 3600
    assert case.due_at == T0 + timedelta(hours=1) and case.priority == 100
    for minute, expected in ((29.9, []), (30, [30]), (49, []), (50.5, [50])):
        clock.at(minute)
        with engine.begin() as conn:
            assert [m for _, m in RemovalOrders(conn, clock=clock).tick()] == expected
    clock.at(55)
    with engine.begin() as conn:
        orders = RemovalOrders(conn, clock=clock)
        done = orders.action(order["id"], actor="reviewer:ann", label="TVEC7")
        with pytest.raises(Conflict):
            orders.action(order["id"], actor="reviewer:ann")
        confirmed = orders.confirm(order["id"], reference="Annex II form sent", actor="ann")
        facts = statement_facts(conn, done_decision(conn))
    assert done["state"] == "actioned" and confirmed["state"] == "confirmed"
    assert facts["removal_order"] is True
    events = _kinds(engine, "removal_order.")
    assert [k for k, _ in events] == [
        "removal_order.received",
        "removal_order.warning",
        "removal_order.warning",
        "removal_order.actioned",
        "removal_order.confirmed",
    ]
    assert events[3][1]["within_deadline"] is True
    assert events[3][1]["seconds_from_receipt"] == 55 * 60


def done_decision(conn: object) -> int:
    from takedown.storage.tables import decisions

    return int(conn.execute(select(decisions.c.id)).scalar_one())  # type: ignore[attr-defined]


def test_unmet_order_pauses_and_resumes_with_a_fresh_hour(engine: Engine) -> None:
    clock = FakeClock(T0)
    with engine.begin() as conn:
        orders = RemovalOrders(conn, clock=clock)
        order = orders.receive(_order(item_id=None), actor="test")
        clock.at(10)
        paused = orders.unmet(
            order["id"],
            reason="technical_impossibility",
            detail="storage cluster down",
            actor="ops",
        )
        assert paused["clock"]["running"] is False and paused["clock"]["label"] == "paused"
        with pytest.raises(Conflict):
            orders.action(order["id"], actor="ops")
        clock.at(80)
        assert orders.tick() == []  # no warnings while paused
        clock.at(90)
        resumed = orders.resume(order["id"], actor="ops")
        assert resumed["deadline_at"] == (T0 + timedelta(minutes=150)).isoformat()
        clock.at(121)
        assert [m for _, m in orders.tick()] == [30]
        clock.at(145)
        orders.action(order["id"], actor="ops")
    actioned = [p for k, p in _kinds(engine, "removal_order.actioned")]
    assert actioned[0]["within_deadline"] is True  # 55 minutes into the fresh hour


def test_a_late_order_is_recorded_as_late(engine: Engine) -> None:
    clock = FakeClock(T0)
    with engine.begin() as conn:
        orders = RemovalOrders(conn, clock=clock)
        order = orders.receive(_order(item_id=None), actor="test")
        clock.at(70)
        assert [m for _, m in orders.tick()] == [30, 50, 60]
        assert orders.get(order["id"])["clock"]["label"] == "overdue by 10:00"
        orders.action(order["id"], actor="ops")
    assert [p["within_deadline"] for _, p in _kinds(engine, "removal_order.actioned")] == [False]
    assert [k for k, _ in _kinds(engine, "removal_order.overdue")] == ["removal_order.overdue"]


def test_bad_orders_are_refused_and_store_nothing(engine: Engine) -> None:
    with engine.begin() as conn:
        orders = RemovalOrders(conn)
        with pytest.raises(InvalidInput):
            orders.receive(NewOrder("", "basis", "contact", item_id="x"), actor="t")
        with pytest.raises(InvalidInput):
            orders.receive(NewOrder("EU", "basis", "contact"), actor="t")
        order = orders.receive(_order(item_id=None), actor="t")
        with pytest.raises(InvalidInput):
            orders.unmet(order["id"], reason="bored", detail="x", actor="t")
    with engine.connect() as conn:
        rows = conn.execute(select(removal_orders.c.state)).scalars().all()
    assert rows == ["received"]  # only the good order; the bad reason changed nothing


def test_metadata_flag_is_an_alias_for_an_order(engine: Engine) -> None:
    item = make_submission(
        item_id="flagged",
        kind=ContentKind.TEXT,
        text="benign",
        metadata={"removal_order": {"authority": "DSC Ireland", "contact": "dsc@example.ie"}},
    )
    accept(engine, EmbeddedQueue(), [item])
    with engine.connect() as conn:
        row = conn.execute(select(removal_orders)).one()
    assert (row.item_id, row.authority, row.state) == ("flagged", "DSC Ireland", "received")


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    app = create_app(settings.with_(classifier=False), start_workers=False)
    with TestClient(app) as test_client:
        yield test_client


def _key(client: TestClient, role: Role) -> dict[str, str]:
    with client.app.state.runtime.engine.begin() as conn:  # type: ignore[attr-defined]
        return {"Authorization": f"Bearer {create_key(conn, role)}"}


def test_api_and_queue_banner(client: TestClient) -> None:
    clock = FakeClock(T0)
    client.app.state.runtime.accountability.clock = clock  # type: ignore[attr-defined]
    reviewer = _key(client, Role.REVIEWER)
    integrator = _key(client, Role.INTEGRATOR)
    body = {
        "authority": "Europol IRU",
        "legal_basis": "TCO Art 3",
        "authority_contact": "iru@example.org",
        "url": "https://forum.example/t/1",
    }
    created = client.post("/v1/removal-orders", json=body, headers=integrator)
    assert created.status_code == 201, created.text
    order_id = created.json()["id"]
    assert (
        client.post(
            "/v1/removal-orders", json={**body, "authority": ""}, headers=integrator
        ).status_code
        == 422
    )
    assert client.get("/v1/removal-orders", headers=integrator).status_code == 403
    clock.at(31)
    listed = client.get("/v1/removal-orders?open=true", headers=reviewer).json()["orders"]
    assert [o["clock"]["remaining_seconds"] for o in listed] == [29 * 60]
    unmet = client.post(
        f"/v1/removal-orders/{order_id}/unmet",
        headers=reviewer,
        json={"reason": "manifest_error", "detail": "URL does not exist"},
    )
    assert unmet.json()["state"] == "paused"
    wrong = client.post(f"/v1/removal-orders/{order_id}/action", headers=reviewer, json={})
    assert wrong.status_code == 409
    assert client.post(f"/v1/removal-orders/{order_id}/resume", headers=reviewer).status_code == 200
    acted = client.post(f"/v1/removal-orders/{order_id}/action", headers=reviewer, json={})
    assert acted.json()["state"] == "actioned"


def test_auditor_endpoints(client: TestClient) -> None:
    integrator = _key(client, Role.INTEGRATOR)
    auditor = _key(client, Role.AUDITOR)
    body = {
        "authority": "Europol IRU",
        "legal_basis": "TCO Art 3",
        "authority_contact": "iru@example.org",
        "url": "https://forum.example/t/1",
    }
    assert client.post("/v1/removal-orders", json=body, headers=integrator).status_code == 201
    client.app.state.runtime.accountability.checkpoint()  # type: ignore[attr-defined]
    verified = client.get("/v1/audit/verify", headers=auditor).json()
    assert verified["ok"] is True and verified["signed_through"] == verified["events"]
    today = datetime.now(UTC).date().isoformat()
    figures = client.get(f"/v1/transparency?from={today}&to={today}", headers=auditor).json()
    assert figures["removal_orders"]["received"] == 1
    assert client.get("/v1/audit/verify", headers=integrator).status_code == 403
    bad = client.get("/v1/transparency?from=yesterday&to=today", headers=auditor)
    assert bad.status_code == 400
