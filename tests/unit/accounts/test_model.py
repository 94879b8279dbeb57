"""Profiles and interactions are validated before anything is stored; a decided item becomes
a post observation (matched, flagged, banked media, propaganda link) for its author."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from takedown.accounts.model import AccountProfile, AccountState, Interaction
from takedown.core.content import ContentKind, make_submission
from takedown.core.decisions import ActionKind, Decision, Provenance
from takedown.core.errors import InvalidInput
from takedown.core.findings import Finding
from takedown.services.accounts import observe

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def test_profiles_are_validated_with_clear_errors() -> None:
    profile = AccountProfile.from_json({"account_id": 7, "display_name": "A", "bio": "b",
                                        "avatar_pdq": "AB" * 32,
                                        "created_at": "2026-01-01T00:00:00Z"})
    assert profile.account_id == "7" and profile.avatar_pdq == "ab" * 32
    assert profile.created_at == NOW
    for bad, message in (({"display_name": "x"}, "account_id"),
                         ({"account_id": "a", "bio": 3}, "'bio' must be a string"),
                         ({"account_id": "a", "avatar_pdq": "xyz"}, "PDQ"),
                         ({"account_id": "a", "created_at": "yesterday"}, "ISO 8601")):
        with pytest.raises(InvalidInput, match=message):
            AccountProfile.from_json(bad)
    with pytest.raises(InvalidInput, match="itself"):
        Interaction.from_json({"account_id": "a", "target_id": "a", "kind": "follow"}, now=NOW)


def test_states_are_ordered_by_severity() -> None:
    assert [s.severity for s in AccountState] == [0, 1, 2, 3, 4]
    assert AccountState.SUSPENDED.severity > AccountState.REVIEW.severity


def test_a_decided_item_becomes_an_observation_of_its_author() -> None:
    image = make_submission(item_id="i", kind=ContentKind.IMAGE, account_id="a",
                            content=b"x", metadata={"posted_at": "2026-01-01T00:00:00Z"})
    bank_hit = Finding("hashmatch@1", "TVEC1", 0.98, {"bank_kind": "block"}, bank="b",
                       entry_id=1, distance=4, signal_type="pdq")
    removed = Decision(ActionKind.REMOVE, "TVEC1", "g", True, True,
                       Provenance("p", "1", "near-identical-media"))
    post, label = observe(image, removed, [bank_hit], [("pdq", "ab" * 32)])
    assert post.at == NOW and post.matched and post.banked_media and post.enforced
    assert post.media == ("ab" * 32,) and label == "TVEC1" and not post.flagged
    text = make_submission(item_id="t", kind=ContentKind.TEXT, account_id="a", text="t")
    classifier = Finding("text-classifier@1", "TVEC7", 0.95)
    allowed = Finding("hashmatch@1", "TVEC1", 1.0, {"bank_kind": "allow"}, bank="ok",
                      entry_id=2, distance=0, signal_type="url")
    none = Decision(ActionKind.QUEUE, "TVEC7", "g", True, False, Provenance("p", "1", "c"))
    post, _ = observe(text, none, [classifier, allowed], [("url", "https://x.example/")])
    assert post.flagged and not post.matched and not post.propaganda_link
    assert post.urls == ("https://x.example/",)
