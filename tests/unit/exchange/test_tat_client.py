"""The TAT hash list v2 client against a fake that follows the published format."""

from __future__ import annotations

import httpx
import pytest
from exchange_sync import MiniNode
from fake_tat import BASE, FakeTat

from takedown.exchange.client import (
    ExchangeClient,
    ExchangeError,
    Verdict,
    default_exchange_registry,
)
from takedown.exchange.tat import TatHashListClient


def make(fake: FakeTat, **options: object) -> ExchangeClient:
    http = httpx.Client(transport=fake.transport())
    opts = {"username": "platform", "password": "secret", "base_url": BASE, **options}
    return default_exchange_registry().create("tat", opts, http)


def supported(fake: FakeTat) -> dict[str, dict]:
    return {
        str(r["id"]): r for r in fake.records if r["algorithm"] != "SHA512" and not r["deleted"]
    }


def test_pages_through_the_list_by_checkpoint_and_skips_sha512_with_a_count() -> None:
    fake = FakeTat()
    node = MiniNode()
    client = make(fake)
    assert isinstance(client, TatHashListClient)
    node.drain(client, limit=5)
    want = supported(fake)
    assert set(node.live) == set(want)
    assert len(node.applied) == len(set(node.applied)) == len(want)
    sha512 = sum(r["algorithm"] == "SHA512" for r in fake.records)
    assert sha512 == 6 and node.skipped == {"unsupported signal type sha512": sha512}
    assert node.pages == 5  # 23 records, 5 per page
    assert node.cursor == f"{int(fake.records[-1]['updated_on'])},{fake.records[-1]['id']}"
    # every request resumed from the previous page's checkpoint, never from an offset
    assert [p["offset"] for p in fake.list_requests] == ["0"] * 5
    assert fake.list_requests[1]["after"] == "1704085500,105"
    entry = node.live["101"]
    assert entry.signal_type == "sha256" and entry.value == fake.records[0]["hash_digest"]
    assert entry.label == "TVEC1" and entry.source_labels == ("islamist",)
    assert "file_type:jpg" in entry.tags and entry.first_seen is not None
    assert entry.updated_at is not None and entry.updated_at.timestamp() == 1704085260.0


def test_updates_and_deletions_arrive_after_the_checkpoint() -> None:
    fake = FakeTat()
    node = MiniNode()
    client = make(fake)
    node.drain(client, limit=10)
    fake.update(101, deleted=True)
    fake.update(102, ideology="far-right")
    fake.add(
        {
            "id": 200,
            "hash_digest": "ab" * 16,
            "algorithm": "MD5",
            "ideology": "islamist",
            "file_type": "mp4",
            "deleted": False,
            "created_on": "2024-02-01T00:00:00Z",
        }
    )
    before = len(node.applied)
    node.drain(client, limit=10)
    assert node.applied[before:] == ["101", "102", "200"]
    assert "101" not in node.live
    assert node.live["102"].source_labels == ("far-right",)
    assert node.live["200"].signal_type == "md5"
    # nothing new: an empty page keeps the cursor
    cursor = node.cursor
    assert node.step(client, limit=10) is False and node.cursor == cursor


@pytest.mark.parametrize("fault", ["503", "truncate"])
def test_a_failed_page_raises_keeps_the_cursor_and_a_retry_resumes(fault: str) -> None:
    fake = FakeTat()
    node = MiniNode()
    client = make(fake)
    assert node.step(client, limit=5)
    cursor, applied = node.cursor, list(node.applied)
    fake.faults.append(fault)
    with pytest.raises(ExchangeError):
        node.step(client, limit=5)
    assert node.cursor == cursor and node.applied == applied
    node.drain(client, limit=5)
    assert len(node.applied) == len(set(node.applied)) == len(supported(fake))


def test_an_expired_token_logs_in_again_and_bad_credentials_fail_clearly() -> None:
    fake = FakeTat()
    client = make(fake)
    first = client.fetch(None, limit=3)
    fake.expire_tokens()
    again = client.fetch(None, limit=3)
    assert again.cursor == first.cursor == "1704085380,103"
    assert fake.logins == 2
    with pytest.raises(ExchangeError, match="refused") as error:
        make(fake, password="wrong").fetch(None, limit=3)
    assert "wrong" not in str(error.value)


def test_ideology_filter_and_feedback_is_a_documented_no_op() -> None:
    fake = FakeTat()
    node = MiniNode()
    client = make(fake, ideology="far-right")
    node.drain(client, limit=50)
    assert {e.source_labels for e in node.live.values()} == {("far-right",)}
    assert client.send_feedback("101", Verdict.FALSE_POSITIVE) is None
    assert client.accepts_feedback is False


def test_a_record_without_a_hash_fails_the_page() -> None:
    fake = FakeTat()
    del fake.records[0]["hash_digest"]
    with pytest.raises(ExchangeError, match="record 0"):
        make(fake).fetch(None, limit=5)
