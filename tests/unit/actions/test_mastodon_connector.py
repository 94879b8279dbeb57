"""The connector against a loopback Mastodon: a real HTTP server implementing the admin endpoints.

The fake server keeps state (statuses, accounts, reports) and answers the way Mastodon's
controllers do (401 on a bad token, 404 "Record not found", 422 on an unknown action type), so
the tests check what happened on the server, not only which requests were sent.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fake_mastodon import SECRET, TOKEN
from takedown.actions.mastodon import ApiCall, MastodonConnector
from takedown.actions.mastodon_events import MastodonRef
from takedown.core.content import ContentKind
from takedown.core.decisions import ActionKind, Decision, Provenance
from takedown.core.errors import (
    AuthError,
    DeliveryError,
    InvalidInput,
    PayloadTooLarge,
    Unavailable,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "mastodon"


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5) as c:
        yield c


def decision(action: ActionKind, actor: str = "automation") -> Decision:
    return Decision(
        action=action, label="TVEC7", grounds=f"Grounds for {action.value}.",
        automated_detection=True, automated_decision=actor == "automation",
        provenance=Provenance("takedown-default", "2026.1+abc", "rule", actor=actor),
    )


def connector(base_url: str, client: httpx.Client, **kwargs) -> MastodonConnector:
    return MastodonConnector(base_url, TOKEN, SECRET, client, **kwargs)


def test_signature_matches_mastodons_hmac_and_rejects_tampering(client):
    conn = connector("http://unused", client)
    raw = (FIXTURES / "status_created.json").read_bytes()
    expected = "sha256=" + hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
    conn.verify({"X-Hub-Signature": expected}, raw)
    conn.verify({"x-hub-signature": expected.upper().replace("SHA256=", "sha256=")}, raw)
    event = conn.receive(httpx.Headers({"X-Hub-Signature": expected}), raw)
    assert event.event == "status.created"
    for headers in ({}, {"X-Hub-Signature": "sha1=" + "0" * 40},
                    {"X-Hub-Signature": expected[:-2] + "00"}, {"X-Hub-Signature": "sha256="}):
        with pytest.raises(AuthError):
            conn.verify(headers, raw)
    with pytest.raises(AuthError):
        conn.verify({"X-Hub-Signature": expected}, raw + b" ")
    with pytest.raises(PayloadTooLarge):
        connector("http://unused", client, max_body_bytes=10).verify({}, raw)
    with pytest.raises(InvalidInput):
        MastodonConnector("http://unused", TOKEN, "", client)


def test_remove_status_deletes_it_and_resolves_the_report(mastodon, client):
    state, url = mastodon
    state.statuses["555"] = {"account": "99"}
    state.reports["8437"] = {"target": "99", "action_taken": False}
    conn = connector(url, client)
    ref = MastodonRef("status", "99", "555", report_id="8437")
    calls = conn.execute(decision(ActionKind.REMOVE), ref, decision_id="d-1")
    assert [(c.method, c.path, c.status) for c in calls] == [
        ("POST", "/api/v1/admin/statuses/555/action", 200),
        ("POST", "/api/v1/admin/reports/8437/resolve", 200),
    ]
    assert state.statuses["555"]["deleted"] is True
    assert state.reports["8437"]["action_taken"] is True
    method, path, form = state.requests[0]
    assert form == {"type": "delete", "text": "Grounds for remove.",
                    "send_email_notification": "true", "report_id": "8437"}


def test_execute_is_idempotent_per_decision_id(mastodon, client):
    state, url = mastodon
    state.accounts["99"] = set()
    conn = connector(url, client)
    ref = MastodonRef("status", "99", "555")
    first = conn.execute(decision(ActionKind.SUSPEND), ref, decision_id="d-2")
    again = conn.execute(decision(ActionKind.SUSPEND), ref, decision_id="d-2")
    assert first == again and len(state.requests) == 1
    assert state.accounts["99"] == {"suspend"}
    conn.execute(decision(ActionKind.SUSPEND), ref)
    conn.execute(decision(ActionKind.SUSPEND), ref)
    assert len(state.requests) == 2, "without an id the decision's content is the key"


def test_a_retry_after_failure_skips_steps_already_done(mastodon, client):
    state, url = mastodon
    state.accounts["99"] = set()
    state.reports["1"] = {"target": "other", "action_taken": False}
    conn = connector(url, client)
    ref = MastodonRef("account", "99", report_id="1")
    conn.plan(decision(ActionKind.SUSPEND), ref)  # pure: no request
    assert state.requests == []
    original = state.handle

    def fail_resolve(method, path, form, auth):
        if path.endswith("/resolve") and not getattr(fail_resolve, "done", False):
            fail_resolve.done = True
            state.requests.append((method, path, form))
            return 503, {"error": "busy"}
        return original(method, path, form, auth)

    state.handle = fail_resolve
    with pytest.raises(DeliveryError, match="503"):
        conn.execute(decision(ActionKind.SUSPEND), ref, decision_id="d-3")
    calls = conn.execute(decision(ActionKind.SUSPEND), ref, decision_id="d-3")
    paths = [p for _, p, _ in state.requests]
    assert paths.count("/api/v1/admin/accounts/99/action") == 1
    assert paths.count("/api/v1/admin/reports/1/resolve") == 2
    assert [c.status for c in calls] == [200, 200]
    assert state.reports["1"]["action_taken"] is True


def test_already_deleted_status_counts_as_removed(mastodon, client):
    state, url = mastodon
    state.statuses["555"] = {"account": "99", "deleted": True}
    calls = connector(url, client).execute(decision(ActionKind.REMOVE),
                                           MastodonRef("status", "99", "555"))
    assert calls == [ApiCall("POST", "/api/v1/admin/statuses/555/action", calls[0].form, 404)]


def test_owner_mode_uses_the_documented_status_delete(mastodon, client):
    state, url = mastodon
    state.statuses["1"] = {"account": "owner-of-token"}
    state.statuses["2"] = {"account": "someone-else"}
    conn = connector(url, client, status_removal="owner")
    calls = conn.execute(decision(ActionKind.REMOVE), MastodonRef("status", "x", "1"))
    assert [(c.method, c.path) for c in calls] == [("DELETE", "/api/v1/statuses/1")]
    assert state.statuses["1"]["deleted"]
    with pytest.raises(DeliveryError, match="404") as caught:
        # Mastodon answers "Record not found" for other people's statuses here, so a 404 must
        # never pass for a removal in owner mode.
        conn.execute(decision(ActionKind.REMOVE), MastodonRef("status", "x", "2"))
    assert "does not own" in caught.value.hint
    assert not state.statuses["2"].get("deleted")


def test_restrict_and_restore_map_to_sensitive_silence_and_their_undo(mastodon, client):
    state, url = mastodon
    state.statuses["5"] = {"account": "9"}
    state.accounts["9"] = set()
    conn = connector(url, client, notify_users=False)
    conn.execute(decision(ActionKind.RESTRICT), MastodonRef("status", "9", "5"))
    assert state.statuses["5"]["sensitive"] is True
    assert state.requests[-1][2]["send_email_notification"] == "false"
    conn.execute(decision(ActionKind.RESTRICT), MastodonRef("account", "9"))
    assert state.accounts["9"] == {"silence"}
    conn.execute(decision(ActionKind.REMOVE), MastodonRef("account", "9"))
    assert state.accounts["9"] == {"silence", "suspend"}
    restore = decision(ActionKind.RESTORE, actor="reviewer:2")
    conn.execute(restore, MastodonRef("account", "9"), reverses=ActionKind.REMOVE)
    conn.execute(restore, MastodonRef("account", "9"), reverses=ActionKind.RESTRICT)
    assert state.accounts["9"] == set()
    conn.execute(restore, MastodonRef("status", "9", "5"), reverses=ActionKind.RESTRICT)
    assert state.statuses["5"]["sensitive"] is False
    with pytest.raises(Unavailable, match="undelete"):
        conn.execute(restore, MastodonRef("status", "9", "5"), reverses=ActionKind.REMOVE)
    with pytest.raises(InvalidInput, match="which action it reverses"):
        conn.execute(restore, MastodonRef("status", "9", "5"))


def test_review_outcomes_touch_mastodon_only_to_close_a_human_decided_report(mastodon, client):
    state, url = mastodon
    state.reports["7"] = {"target": "9", "action_taken": False}
    conn = connector(url, client)
    ref = MastodonRef("status", "9", "5", report_id="7")
    assert conn.execute(decision(ActionKind.QUEUE), ref) == []
    assert conn.execute(decision(ActionKind.ESCALATE), ref) == []
    assert conn.execute(decision(ActionKind.NONE), ref) == []
    assert state.requests == []
    calls = conn.execute(decision(ActionKind.NONE, actor="reviewer:1"), ref)
    assert [c.path for c in calls] == ["/api/v1/admin/reports/7/resolve"]
    assert state.reports["7"]["action_taken"] is True


def test_refusals_become_delivery_errors_with_hints(mastodon, client):
    state, url = mastodon
    state.accounts["9"] = set()
    bad_token = MastodonConnector(url, "wrong", SECRET, client)
    with pytest.raises(DeliveryError) as caught:
        bad_token.execute(decision(ActionKind.SUSPEND), MastodonRef("account", "9"))
    assert "401" in str(caught.value) and "admin:write" in caught.value.hint
    with pytest.raises(DeliveryError, match="Record not found"):
        connector(url, client).execute(decision(ActionKind.SUSPEND), MastodonRef("account", "1"))
    unreachable = connector("http://127.0.0.1:9", client)
    with pytest.raises(DeliveryError, match="unreachable"):
        unreachable.execute(decision(ActionKind.SUSPEND), MastodonRef("account", "9"))
    with pytest.raises(InvalidInput, match="account unknown"):
        connector(url, client).execute(decision(ActionKind.SUSPEND),
                                       MastodonRef("status", None, "5"))


def test_media_are_fetched_through_the_injected_client_with_a_size_limit(mastodon, client):
    state, url = mastodon
    state.media["beans.png"] = b"\x89PNG" + bytes(100)
    payload = json.loads((FIXTURES / "status_created.json").read_text())
    payload["object"]["media_attachments"][0]["url"] = f"{url}/media/beans.png"
    raw = json.dumps(payload).encode()
    event = connector(url, client, fetch_media=True).parse(raw)
    image = event.submissions[1]
    assert image.kind is ContentKind.IMAGE and image.content == state.media["beans.png"]
    small = connector(url, client, fetch_media=True, max_media_bytes=50).parse(raw)
    assert small.submissions[1].kind is ContentKind.URL
    assert small.submissions[1].metadata["media_fetch_failed"] is True


@pytest.fixture(scope="module")
def signer() -> Iterator[MastodonConnector]:
    with httpx.Client() as unused:
        yield connector("http://unused", unused)


@settings(max_examples=100, deadline=None)
@given(body=st.binary(min_size=1, max_size=512), data=st.data())
def test_any_change_to_a_signed_body_is_refused(signer, body, data):
    headers = {"X-Hub-Signature": signer.signature(body)}
    signer.verify(headers, body)
    index = data.draw(st.integers(0, len(body) - 1))
    flipped = body[:index] + bytes([body[index] ^ 0x01]) + body[index + 1:]
    with pytest.raises(AuthError):
        signer.verify(headers, flipped)
