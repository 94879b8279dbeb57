"""The ThreatExchange threat_updates client against a fake of the Graph API."""

from __future__ import annotations

import json

import httpx
import pytest
from exchange_sync import MiniNode
from fake_threatexchange import GRAPH, TOKEN, FakeThreatExchange

from takedown.exchange.client import (
    ExchangeClient,
    ExchangeError,
    Verdict,
    default_exchange_registry,
)

SUPPORTED = {"HASH_PDQ", "HASH_MD5", "HASH_VIDEO_MD5", "HASH_SHA256", "URI"}


def make(fake: FakeThreatExchange, **options: object) -> ExchangeClient:
    http = httpx.Client(transport=fake.transport())
    opts = {"access_token": TOKEN, "privacy_group": "303", "base_url": GRAPH, **options}
    return default_exchange_registry().create("threatexchange", opts, http)


def test_follows_paging_next_and_maps_indicators_tags_and_disputes() -> None:
    fake = FakeThreatExchange()
    node = MiniNode()
    node.drain(make(fake), limit=4)
    want = {u["id"] for u in fake.updates if u["type"] in SUPPORTED}
    assert set(node.live) == want and len(node.applied) == len(want)
    assert node.pages == 3
    assert fake.requests[1]["after"] and "after" not in fake.requests[0]
    assert TOKEN not in (node.cursor or "")
    first = node.live["5001"]
    assert first.signal_type == "md5" and first.disputed
    assert first.source_labels == ("behavior:Recruitment", "entity:example")
    assert first.label == "TVEC6" and first.contributor == "1001"
    assert first.extra["descriptor_ids"] == ["9001"]
    assert node.live["5006"].signal_type == "pdq" and node.live["5006"].label == "TVEC7"
    assert node.live["5006"].source_labels == ("gifct:glorification_of_terrorist_acts",)
    assert node.live["5002"].source_labels == ("imminent_credible_threat",)  # {"data": [...]}
    assert node.live["5002"].label == "TVEC2" and not node.live["5002"].disputed
    assert node.live["5004"].signal_type == "url" and node.live["5004"].label is None
    assert node.live["5004"].source_labels == ("something_new",)  # unmapped, kept verbatim


def test_deletions_and_updates_come_after_the_last_update_time() -> None:
    fake = FakeThreatExchange()
    node = MiniNode()
    client = make(fake)
    node.drain(client, limit=50)
    state = json.loads(node.cursor or "{}")
    assert state["start_time"] == max(u["last_updated"] for u in fake.updates)
    fake.touch("5001", should_delete=True)
    update = next(u for u in fake.updates if u["id"] == "5003")
    fake.touch("5003")
    del update["descriptors"]  # a tombstone without should_delete (pytx issue 834)
    node.drain(client, limit=50)
    assert "5001" not in node.live and "5003" not in node.live
    assert json.loads(node.cursor or "{}")["start_time"] == update["last_updated"]


def test_unsupported_indicator_types_are_skipped_with_a_count() -> None:
    fake = FakeThreatExchange()
    node = MiniNode()
    node.drain(make(fake, types="HASH_PDQ,HASH_TMK"), limit=50)
    assert {e.signal_type for e in node.live.values()} == {"pdq"}
    assert node.skipped == {"unsupported indicator type HASH_TMK": 2}


@pytest.mark.parametrize("fault", ["500", "truncate"])
def test_a_failed_page_raises_keeps_the_cursor_and_a_retry_resumes(fault: str) -> None:
    fake = FakeThreatExchange()
    node = MiniNode()
    client = make(fake)
    assert node.step(client, limit=4)
    cursor, applied = node.cursor, list(node.applied)
    fake.faults.append(fault)
    with pytest.raises(ExchangeError):
        node.step(client, limit=4)
    assert node.cursor == cursor and node.applied == applied
    node.drain(client, limit=4)
    assert len(node.applied) == len(set(node.applied)) == 12


def test_verdicts_become_reactions_on_every_descriptor() -> None:
    fake = FakeThreatExchange()
    client = make(fake)
    entry = next(e for e in client.fetch(None, limit=50).entries if e.external_id == "5006")
    client.send_feedback(entry, Verdict.SEEN)
    client.send_feedback(entry, Verdict.TRUE_POSITIVE)
    client.send_feedback("5007", Verdict.FALSE_POSITIVE)  # looks the descriptors up
    assert fake.reactions == [
        ("9006", "SAW_THIS_TOO"),
        ("9006", "HELPFUL"),
        ("9007", "DISAGREE_WITH_TAGS"),
    ]
    make(fake, false_positive_reaction="non_malicious").send_feedback(entry, Verdict.FALSE_POSITIVE)
    assert fake.reactions[-1] == ("9006", "NON_MALICIOUS")


def test_a_bad_token_is_an_exchange_error_that_does_not_echo_the_token() -> None:
    fake = FakeThreatExchange()
    with pytest.raises(ExchangeError, match="Invalid OAuth") as error:
        make(fake, access_token="999999999|wrongwrongwrongwrongwrong").fetch(None)
    assert "wrongwrong" not in str(error.value)
