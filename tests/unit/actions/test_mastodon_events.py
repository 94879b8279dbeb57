"""Mastodon webhook payloads become Submissions, user reports and references to act on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from takedown.actions.mastodon_events import MastodonRef, html_to_text, parse_event
from takedown.core.content import ContentKind
from takedown.core.errors import InvalidInput

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "mastodon"


def body(name: str) -> bytes:
    return (FIXTURES / f"{name}.json").read_bytes()


def test_status_html_becomes_readable_text():
    text = html_to_text('<p>Tomatoes &amp; beans<br>up!</p><p><a href="x">#<span>garden</span>'
                        '</a> <span class="invisible">https://</span>example.org</p>')
    assert text == "Tomatoes & beans\nup!\n\n#garden https://example.org"


def test_status_created_yields_text_and_media_submissions():
    event = parse_event(body("status_created"))
    assert event.event == "status.created"
    assert event.account_id == "109000000000000042"
    text, image = event.submissions
    assert text.kind is ContentKind.TEXT
    assert text.item_id == "mastodon:status:113500000000000001"
    assert text.text.startswith("Tomatoes & beans are up!\nPhotos from the allotment:")
    assert "https://example.org/growing-guide" in text.text
    assert text.account_id == "109000000000000042"
    assert image.kind is ContentKind.URL, "media are referenced by URL unless fetching is on"
    assert image.item_id == "mastodon:status:113500000000000001:media:113500000000000777"
    assert image.url.endswith("/original/beans.png")
    assert image.text == "Bean seedlings in a raised bed"
    ref = MastodonRef.from_submission(image)
    assert (ref.kind, ref.status_id, ref.account_id, ref.media_id) == (
        "status", "113500000000000001", "109000000000000042", "113500000000000777")
    assert event.refs == (MastodonRef("status", "109000000000000042", "113500000000000001"),)


def test_media_fetcher_supplies_content_and_failures_fall_back_to_url():
    fetched = parse_event(body("status_created"), fetch=lambda url: b"\x89PNG fake bytes")
    image = fetched.submissions[1]
    assert image.kind is ContentKind.IMAGE and image.content == b"\x89PNG fake bytes"
    failed = parse_event(body("status_created"), fetch=lambda url: None)
    assert failed.submissions[1].kind is ContentKind.URL
    assert failed.submissions[1].metadata["media_fetch_failed"] is True


def test_report_created_is_a_user_notice_about_the_reported_statuses():
    event = parse_event(body("report_created"))
    report = event.report
    assert report is not None
    assert report.report_id == "8437" and report.category == "violation"
    assert report.reporter_account_id == "109000000000000001"
    assert report.target_account_id == "109000000000000099"
    assert report.status_ids == ("113500000000000555",)
    assert report.rule_ids == ("2",)
    (sub,) = event.submissions
    assert sub.text == "cw: test\n\nA placeholder sentence standing in for the reported text."
    assert sub.metadata["user_report"] == {
        "report_id": "8437", "category": "violation",
        "comment": "This post glorifies an attack"}
    ref = MastodonRef.from_submission(sub)
    assert ref.report_id == "8437" and ref.status_id == "113500000000000555"


def test_report_without_statuses_targets_the_account():
    payload = json.loads(body("report_created"))
    payload["object"]["statuses"] = []
    payload["object"]["target_account"]["account"]["note"] = "<p>bio text</p>"
    event = parse_event(json.dumps(payload).encode())
    assert event.refs == (MastodonRef("account", "109000000000000099", report_id="8437"),)
    assert event.submissions[0].text == "Poster\nbio text"


def test_account_created_scans_the_profile_text():
    event = parse_event(body("account_created"))
    (sub,) = event.submissions
    assert sub.item_id == "mastodon:account:109000000000000123"
    assert sub.text == "New Comer\nHello world\nI would like to join the gardening community."
    assert MastodonRef.from_submission(sub) == MastodonRef("account", "109000000000000123")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"not json", "not JSON"),
        (b"[]", "needs 'event'"),
        (b'{"event": "status.created"}', "needs 'event'"),
        (b'{"event": "account.approved", "object": {}}', "unsupported Mastodon event"),
        (b'{"event": "status.created", "object": {"content": "<p>x</p>"}}', "has no 'id'"),
    ],
)
def test_malformed_payloads_are_invalid_input(raw, message):
    with pytest.raises(InvalidInput, match=message):
        parse_event(raw)


def test_reference_round_trips_and_rejects_incomplete_ones():
    ref = MastodonRef("status", "1", "2", "3", "4")
    assert MastodonRef.from_json(ref.to_json()) == ref
    with pytest.raises(InvalidInput):
        MastodonRef.from_json({"kind": "status"})
    with pytest.raises(InvalidInput):
        MastodonRef.from_json({"kind": "page", "status_id": "1"})
