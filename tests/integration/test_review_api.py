"""Reviewer API and UI details on SQLite and PostgreSQL: user reports, escalation to a lead,
all-or-nothing bulk decisions, appeal refusals, and the web session (roles, CSRF, revocation)."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from takedown.api.app import create_app
from takedown.config import Settings
from takedown.storage.keys import Role, create_key, revoke_key
from takedown.storage.tables import api_keys, cases, decisions, reports

TEXTS = {
    "t-1": "A harbour festival with boats and music.",
    "t-2": "The bakery opens at nine on Sundays.",
    "t-3": "Lecture notes on the history of lighthouses.",
}


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def key(client: TestClient, role: Role, name: str | None = None) -> tuple[dict[str, str], str]:
    with client.app.state.runtime.engine.begin() as conn:  # type: ignore[attr-defined]
        raw = create_key(conn, role, name=name)
    return {"Authorization": f"Bearer {raw}"}, raw


def submit_all(client: TestClient, integrator: dict[str, str]) -> None:
    items = [{"id": i, "kind": "text", "account_id": "a-1", "text": t} for i, t in TEXTS.items()]
    assert (
        client.post("/v1/submissions", headers=integrator, json={"items": items}).status_code == 202
    )
    deadline = time.monotonic() + 15
    for item in TEXTS:
        while client.get(f"/v1/submissions/{item}", headers=integrator).json()["status"] != "done":
            assert time.monotonic() < deadline, f"{item} not decided"
            time.sleep(0.05)


def report(client: TestClient, integrator: dict[str, str], item: str, who: str) -> Any:
    return client.post(
        "/v1/reports",
        headers=integrator,
        json={"reporter": who, "item_id": item, "reason": "TVEC?"},
    )


def test_reports_open_and_raise_cases_and_are_counted_apart(client: TestClient) -> None:
    integrator, _ = key(client, Role.INTEGRATOR)
    submit_all(client, integrator)
    first = report(client, integrator, "t-1", "u-1")
    assert first.status_code == 201, first.text
    assert first.json()["case_opened"] is True and first.json()["priority"] == 20
    second = report(client, integrator, "t-1", "u-2").json()
    assert second["case_id"] == first.json()["case_id"] and second["priority"] == 30
    assert second["reports"] == 2 and second["case_opened"] is False
    assert report(client, integrator, "nope", "u-1").status_code == 404
    assert (
        client.post(
            "/v1/reports",
            headers=integrator,
            json={"reporter": "u", "item_id": "t-1", "reason": ""},
        ).status_code
        == 422
    )
    auditor, _ = key(client, Role.AUDITOR)
    events = client.get("/v1/events", headers=auditor, params={"limit": 1000}).json()["events"]
    received = [e for e in events if e["type"] == "report.received"]
    assert [e["payload"]["source"] for e in received] == ["user_report", "user_report"]
    assert all(e["subject"] == "item:t-1" for e in received)
    with client.app.state.runtime.engine.connect() as conn:  # type: ignore[attr-defined]
        assert len(conn.execute(select(reports)).all()) == 2


def test_escalated_cases_wait_for_a_lead(client: TestClient) -> None:
    integrator, _ = key(client, Role.INTEGRATOR)
    submit_all(client, integrator)
    case_id = report(client, integrator, "t-2", "u-1").json()["case_id"]
    reviewer, _ = key(client, Role.REVIEWER, "rita")
    lead, _ = key(client, Role.LEAD, "lena")
    escalated = client.post(
        f"/v1/cases/{case_id}/escalation", headers=reviewer, json={"reason": "Possible threat."}
    )
    assert escalated.status_code == 200
    body = {"action": "none", "label": "TVEC0", "reason": "Harmless."}
    refused = client.post(f"/v1/cases/{case_id}/decision", headers=reviewer, json=body)
    assert refused.status_code == 403 and "lead" in refused.json()["detail"]
    queue = client.get("/v1/review/queue", headers=lead, params={"state": "escalated"}).json()
    assert [c["id"] for c in queue["cases"]] == [case_id] and queue["cases"][0]["priority"] == 100
    decided = client.post(f"/v1/cases/{case_id}/decision", headers=lead, json=body)
    assert decided.status_code == 200 and decided.json()["decision"]["action"] == "none"
    again = client.post(f"/v1/cases/{case_id}/decision", headers=lead, json=body)
    assert again.status_code == 409


def test_bulk_decisions_are_all_or_nothing(client: TestClient) -> None:
    integrator, _ = key(client, Role.INTEGRATOR)
    submit_all(client, integrator)
    ids = [report(client, integrator, item, "u-1").json()["case_id"] for item in TEXTS]
    reviewer, _ = key(client, Role.REVIEWER)
    body = {"action": "none", "label": "TVEC0", "reason": "Benign."}
    bad = client.post(
        "/v1/cases/bulk-decision", headers=reviewer, json={**body, "case_ids": [*ids, 999]}
    )
    assert bad.status_code == 404
    with client.app.state.runtime.engine.connect() as conn:  # type: ignore[attr-defined]
        assert {r.state for r in conn.execute(select(cases.c.state))} == {"open"}
    good = client.post("/v1/cases/bulk-decision", headers=reviewer, json={**body, "case_ids": ids})
    assert good.status_code == 200 and len(good.json()["decided"]) == 3
    with client.app.state.runtime.engine.connect() as conn:  # type: ignore[attr-defined]
        assert {r.state for r in conn.execute(select(cases.c.state))} == {"decided"}


def test_appeals_are_refused_when_there_is_nothing_to_appeal(client: TestClient) -> None:
    integrator, _ = key(client, Role.INTEGRATOR)
    submit_all(client, integrator)
    body = {"item_id": "t-3", "appellant": "a-1", "reason": "Please."}
    nothing = client.post("/v1/appeals", headers=integrator, json=body)
    assert nothing.status_code == 400 and "cannot be appealed" in nothing.json()["detail"]
    reviewer, _ = key(client, Role.REVIEWER)
    assert client.post("/v1/appeals", headers=reviewer, json=body).status_code == 403
    missing = client.post("/v1/appeals", headers=integrator, json={**body, "item_id": "zz"})
    assert missing.status_code == 404


def test_web_sign_in_session_csrf_and_revocation(client: TestClient) -> None:
    _, integrator_key = key(client, Role.INTEGRATOR)
    _, reviewer_key = key(client, Role.REVIEWER, "rita")
    page = client.get("/review/", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/review/login")
    no_token = client.post("/review/login", data={"api_key": reviewer_key})
    assert no_token.status_code == 403 and "stale" in no_token.text
    login_page = client.get("/review/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', login_page.text)
    assert csrf is not None
    refused = client.post(
        "/review/login", data={"api_key": integrator_key, "csrf": csrf.group(1)}
    )
    assert refused.status_code == 401 and "cannot sign in" in refused.text
    signed = client.post(
        "/review/login",
        data={"api_key": reviewer_key, "next": "/review/", "csrf": csrf.group(1)},
        follow_redirects=False,
    )
    assert signed.status_code == 303
    cookie = signed.headers["set-cookie"].lower()
    assert (
        "httponly" in cookie and "samesite=strict" in cookie and reviewer_key.lower() not in cookie
    )
    queue = client.get("/review/")
    assert queue.status_code == 200 and "rita" in queue.text
    assert "script-src 'self'" in queue.headers["content-security-policy"]
    forged = client.post(
        "/review/bulk", data={"case_ids": "1", "csrf": "guess"}, follow_redirects=False
    )
    assert forged.status_code == 303 and "stale" in forged.headers["location"]
    with client.app.state.runtime.engine.begin() as conn:  # type: ignore[attr-defined]
        rita = select(api_keys.c.id).where(api_keys.c.name == "rita")
        revoke_key(conn, conn.execute(rita).scalar_one(), actor="test")
    after = client.get("/review/", follow_redirects=False)
    assert after.status_code == 303 and "/review/login" in after.headers["location"]


def test_two_reviewers_racing_on_one_case_cannot_both_decide(client: TestClient) -> None:
    integrator, _ = key(client, Role.INTEGRATOR)
    submit_all(client, integrator)
    case_id = report(client, integrator, "t-1", "u-1").json()["case_id"]
    heads = [key(client, Role.REVIEWER, f"r{n}")[0] for n in range(4)]
    barrier = threading.Barrier(len(heads))
    codes: list[int] = []

    def decide(headers: dict[str, str]) -> None:
        barrier.wait()
        response = client.post(
            f"/v1/cases/{case_id}/decision",
            headers=headers,
            json={"action": "none", "label": "TVEC0", "reason": "Benign."},
        )
        codes.append(response.status_code)

    threads = [threading.Thread(target=decide, args=(h,)) for h in heads]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(codes) == [200, 409, 409, 409]
    with client.app.state.runtime.engine.connect() as conn:  # type: ignore[attr-defined]
        stages = conn.execute(select(decisions.c.stage).where(decisions.c.stage == "review"))
        assert len(stages.all()) == 1


def test_the_case_page_escapes_untrusted_content(client: TestClient) -> None:
    integrator, _ = key(client, Role.INTEGRATOR)
    hostile = '<img src=x onerror="alert(1)"> see <b>this</b>'
    item = {"id": "x-1", "kind": "text", "account_id": "<a1>", "text": hostile}
    assert client.post("/v1/submissions", headers=integrator, json=item).status_code == 202
    deadline = time.monotonic() + 15
    while client.get("/v1/submissions/x-1", headers=integrator).json()["status"] != "done":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    case_id = report(client, integrator, "x-1", "<script>u</script>").json()["case_id"]
    _, reviewer_key = key(client, Role.REVIEWER)
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/review/login").text)
    assert token is not None
    client.post("/review/login", data={"api_key": reviewer_key, "csrf": token.group(1)})
    html = client.get(f"/review/cases/{case_id}").text
    # The classifier's evidence words are highlighted inside the escaped text (<mark>), so the
    # escaped form is looked for with the highlighting taken out.
    shown = re.sub(r"</?mark>", "", html)
    assert "&lt;img src=x onerror=" in shown and "&lt;script&gt;u&lt;/script&gt;" in shown
    assert "<img src=x" not in html and "<script>u" not in html and "<b>this" not in html
