from __future__ import annotations

import base64

import pytest

from takedown.core.content import ContentKind, submission_from_json
from takedown.core.errors import InvalidInput
from takedown.core.taxonomy import TvecLabel, parse_label


def test_a_valid_image_submission_decodes_its_content() -> None:
    item = submission_from_json(
        {
            "id": 7,
            "kind": "image",
            "content_base64": base64.b64encode(b"\x89PNG").decode(),
            "account_id": "u1",
            "metadata": {"lang": "en"},
        },
        max_bytes=1000,
    )
    assert (item.item_id, item.kind, item.content, item.account_id) == (
        "7",
        ContentKind.IMAGE,
        b"\x89PNG",
        "u1",
    )


@pytest.mark.parametrize(
    ("obj", "fragment"),
    [
        ({"kind": "text", "text": "x"}, "'id'"),
        ({"id": "1", "kind": "sound", "text": "x"}, "unknown kind"),
        ({"id": "1", "kind": "text", "text": "   "}, "non-empty 'text'"),
        ({"id": "1", "kind": "image", "content_base64": "@@@"}, "not valid base64"),
        ({"id": "1", "kind": "image"}, "needs non-empty 'content_base64'"),
        ({"id": "1", "kind": "url"}, "non-empty 'url'"),
        ({"id": "1", "kind": "text", "text": "x", "metadata": []}, "'metadata'"),
        ({"id": "1", "kind": "image", "content_base64": "A" * 4000}, "limit"),
        (["not", "an", "object"], "JSON object"),
    ],
)
def test_bad_submissions_say_what_to_fix(obj: object, fragment: str) -> None:
    with pytest.raises(InvalidInput) as info:
        submission_from_json(obj, max_bytes=1000)
    assert fragment in str(info.value)


def test_labels_parse_loosely_but_reject_unknown_ones() -> None:
    assert parse_label("tvec7") is TvecLabel.PRAISE
    assert parse_label("2") is TvecLabel.THREAT_TO_LIFE
    with pytest.raises(InvalidInput):
        parse_label("TVEC42")
