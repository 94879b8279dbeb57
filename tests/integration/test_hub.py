"""The hub on both backends: roles (401/403), submissions, the delta feed, feedback and disputes,
retraction, sharing levels, rate limits and the audit ledger."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from hub_testing import drop_hub_tables, member_token, reset_hub_tables, running_hub
from takedown.exchange.hub_app import HubConfig, create_hub_app
from takedown.exchange.hub_members import HubRole
from takedown.exchange.hub_tables import hub_entries
from takedown.storage.db import make_engine

PDQ = "f" * 64
PDQ2 = "0" * 63 + "1"


@pytest.fixture
def hub_engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    reset_hub_tables(engine)
    yield engine
    drop_hub_tables(engine)
    engine.dispose()


@pytest.fixture
def hub(hub_engine: Engine, database_url: str) -> Iterator[TestClient]:
    app = create_hub_app(HubConfig(database_url, dispute_votes=2), engine=hub_engine)
    with TestClient(app) as client:
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_no_token_bad_token_and_wrong_role_are_refused(hub: TestClient, hub_engine: Engine) -> None:
    reader = bearer(member_token(hub_engine, "reader-org", HubRole.READER))
    entry = {"signal_type": "pdq", "value": PDQ, "label": "TVEC1"}
    assert hub.get("/v1/hub/deltas").status_code == 401
    bad = hub.get("/v1/hub/deltas", headers=bearer("thub_" + "x" * 40))
    assert bad.status_code == 401 and bad.headers["WWW-Authenticate"] == "Bearer"
    assert hub.post("/v1/hub/entries", headers=reader, json={"entries": [entry]}).status_code == 403
    forbidden = hub.post("/v1/hub/members", headers=reader, json={"name": "x", "role": "admin"})
    assert forbidden.status_code == 403
    assert hub.get("/v1/hub/deltas", headers=reader).status_code == 200


def test_submit_feed_dispute_and_retract(hub: TestClient, hub_engine: Engine) -> None:
    admin = bearer(member_token(hub_engine, "hub-admin", HubRole.ADMIN))
    made = hub.post("/v1/hub/members", headers=admin, json={"name": "org-a", "role": "contributor"})
    assert made.status_code == 201 and made.json()["token"].startswith("thub_")
    org_a = bearer(made.json()["token"])
    org_b = bearer(member_token(hub_engine, "org-b", HubRole.CONTRIBUTOR))
    readers = [bearer(member_token(hub_engine, f"r{n}", HubRole.READER)) for n in range(2)]

    sent = hub.post(
        "/v1/hub/entries",
        headers=org_a,
        json={
            "entries": [
                {
                    "signal_type": "pdq",
                    "value": PDQ.upper(),
                    "label": "tvec7",
                    "tags": ["ideology:x"],
                    "note": "from a video of an attack",
                    "severity": 4,
                },
                {
                    "signal_type": "md5",
                    "value": "a" * 32,
                    "label": "TVEC1",
                    "sharing": "contributors",
                },
            ]
        },
    )
    assert sent.status_code == 201, sent.text
    pdq_id = sent.json()["entries"][0]["id"]

    page = hub.get("/v1/hub/deltas", headers=readers[0], params={"limit": 1}).json()
    assert page["more"] is True and len(page["entries"]) == 1
    first = page["entries"][0]
    assert (first["value"], first["label"], first["contributor"]) == (PDQ.lower(), "TVEC7", "org-a")
    rest = hub.get("/v1/hub/deltas", headers=readers[0], params={"cursor": page["cursor"]}).json()
    assert rest["entries"] == [] and rest["more"] is False, "readers never see contributor-only"
    assert len(hub.get("/v1/hub/deltas", headers=org_b).json()["entries"]) == 2

    bad = hub.post(
        "/v1/hub/entries",
        headers=org_a,
        json={
            "entries": [
                {"signal_type": "pdq", "value": PDQ2, "label": "TVEC1"},
                {"signal_type": "pdq", "value": "a photo of", "label": "TVEC1"},
            ]
        },
    )
    assert bad.status_code == 400 and "entry 1" in bad.json()["detail"]
    with hub_engine.connect() as conn:
        assert conn.execute(select(hub_entries.c.value)).scalars().all().count(PDQ2) == 0

    cursor = rest["cursor"]
    for n, who in enumerate(readers):
        voted = hub.post(
            f"/v1/hub/entries/{pdq_id}/feedback", headers=who, json={"verdict": "false_positive"}
        )
        assert voted.status_code == 200 and voted.json()["disputed"] is (n == 1)
    again = hub.post(
        f"/v1/hub/entries/{pdq_id}/feedback", headers=readers[1], json={"verdict": "false_positive"}
    )
    assert again.json()["votes"] == {"false_positive": 2}
    changed = hub.get("/v1/hub/deltas", headers=readers[0], params={"cursor": cursor}).json()
    assert [(e["id"], e["disputed"]) for e in changed["entries"]] == [(pdq_id, True)]

    assert hub.delete(f"/v1/hub/entries/{pdq_id}", headers=org_b).status_code == 403
    assert hub.delete(f"/v1/hub/entries/{pdq_id}", headers=org_a).status_code == 200
    gone = hub.get("/v1/hub/deltas", headers=readers[0], params={"cursor": changed["cursor"]})
    assert [(e["id"], e["deleted"]) for e in gone.json()["entries"]] == [(pdq_id, True)]

    ledger = hub.get("/v1/hub/ledger/verify", headers=admin).json()
    assert ledger["intact"] is True and ledger["events"] >= 9


def test_feed_entries_read_the_same_as_the_single_entry_view(
    hub: TestClient, hub_engine: Engine
) -> None:
    """The feed reads raw columns for speed; each entry must still equal what `GET entry`
    (the row through SQLAlchemy's types) says, tags, times and deletion included."""
    org = bearer(member_token(hub_engine, "org-a", HubRole.CONTRIBUTOR))
    items = [
        {"signal_type": "pdq", "value": PDQ, "label": "TVEC7", "tags": ["ideology:x", "a"]},
        {"signal_type": "pdq", "value": PDQ2, "label": "TVEC1", "note": "n", "crisis": True},
        {"signal_type": "md5", "value": "b" * 32, "label": "TVEC2", "sharing": "contributors"},
    ]
    sent = hub.post("/v1/hub/entries", headers=org, json={"entries": items})
    assert sent.status_code == 201, sent.text
    crisis_id = sent.json()["entries"][1]["id"]
    assert hub.delete(f"/v1/hub/entries/{crisis_id}", headers=org).status_code == 200
    feed = hub.get("/v1/hub/deltas", headers=org).json()["entries"]
    assert len(feed) == 3 and sum(e["deleted"] for e in feed) == 1
    for entry in feed:
        single = hub.get(f"/v1/hub/entries/{entry['id']}", headers=org).json()
        del single["votes"]
        assert entry == single
    assert feed[0]["tags"] == ["ideology:x", "a"] and feed[0]["first_seen"].endswith("+00:00")


def test_long_poll_returns_as_soon_as_an_entry_commits(hub: TestClient, hub_engine: Engine) -> None:
    org = bearer(member_token(hub_engine, "org", HubRole.CONTRIBUTOR))
    result: dict[str, float] = {}

    def poll() -> None:
        started = time.monotonic()
        body = hub.get("/v1/hub/deltas", headers=org, params={"wait": 20}).json()
        result["elapsed"] = time.monotonic() - started
        result["count"] = len(body["entries"])

    waiter = threading.Thread(target=poll)
    waiter.start()
    time.sleep(0.3)  # let the poll start waiting; the assertion below is on its early return
    hub.post(
        "/v1/hub/entries",
        headers=org,
        json={"entries": [{"signal_type": "pdq", "value": PDQ, "label": "TVEC1", "crisis": True}]},
    )
    waiter.join(timeout=30)
    assert result["count"] == 1 and result["elapsed"] < 5


def test_a_member_over_its_rate_gets_429_with_retry_after(
    hub_engine: Engine, database_url: str
) -> None:
    now = [1000.0]
    app = create_hub_app(
        HubConfig(database_url, rate_per_minute=3), engine=hub_engine, clock=lambda: now[0]
    )
    reader = bearer(member_token(hub_engine, "busy", HubRole.READER))
    with TestClient(app) as hub:
        codes = [hub.get("/v1/hub/deltas", headers=reader).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        limited = hub.get("/v1/hub/deltas", headers=reader)
        assert limited.headers["Retry-After"] == "20"
        now[0] += 20
        assert hub.get("/v1/hub/deltas", headers=reader).status_code == 200


def test_with_redis_two_hub_processes_share_a_members_rate(
    hub_engine: Engine, database_url: str, redis_url: str
) -> None:
    reader = bearer(member_token(hub_engine, "busy-org", HubRole.READER))
    config = HubConfig(database_url, rate_per_minute=3, redis_url=redis_url)
    prefix = f"takedown-test:hub-rate:{uuid.uuid4().hex}:"
    apps = [create_hub_app(config, engine=hub_engine, rate_prefix=prefix) for _ in range(2)]
    with TestClient(apps[0]) as first, TestClient(apps[1]) as second:
        codes = [
            client.get("/v1/hub/deltas", headers=reader).status_code
            for client in (first, second, first, second)
        ]
        refused = second.get("/v1/hub/deltas", headers=reader)
    assert codes == [200, 200, 200, 429], "three a minute across both processes, not each"
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1


def test_the_feed_as_server_sent_events_pushes_a_new_entry_and_resumes(
    hub_engine: Engine, database_url: str
) -> None:
    import httpx

    contributor = bearer(member_token(hub_engine, "sse-org", HubRole.CONTRIBUTOR))
    reader = bearer(member_token(hub_engine, "sse-reader", HubRole.READER))
    with running_hub(HubConfig(database_url), hub_engine) as url, httpx.Client(timeout=30) as http:
        events: list[dict[str, str]] = []
        with http.stream(
            "GET", f"{url}/v1/hub/stream", headers=reader, params={"seconds": 20}
        ) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            lines = response.iter_lines()
            assert next(lines) == "retry: 1000"
            sent = time.monotonic()
            posted = http.post(
                f"{url}/v1/hub/entries",
                headers=contributor,
                json={"entries": [{"signal_type": "pdq", "value": PDQ2, "label": "TVEC1"}]},
            )
            assert posted.status_code == 201, posted.text
            event: dict[str, str] = {}
            for line in lines:
                if not line:
                    if event.get("event") == "entries":
                        events.append(event)
                        break
                    event = {}
                    continue
                field, _, value = line.partition(": ")
                event[field] = value
            delay = time.monotonic() - sent
        assert delay < 5, "pushed at once, not after the stream's end"
        page = json.loads(events[0]["data"])
        assert [e["value"] for e in page["entries"]] == [PDQ2]
        assert events[0]["id"] == page["cursor"]
        resumed = http.get(
            f"{url}/v1/hub/stream",
            headers={**reader, "Last-Event-ID": page["cursor"]},
            params={"seconds": 0.5},
        )
        assert resumed.status_code == 200 and "event: entries" not in resumed.text
