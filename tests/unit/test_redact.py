"""The redaction trigger: a text or JSON document it passes over holds nothing to mask, so the
ledger may skip the per-string walk for it."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from takedown.core.events import canonical_json
from takedown.core.redact import might_hold_secret, redact_text, redact_value

SECRETS = [
    "https://hooks.example/x?token=abc123",
    "see https://user:hunter2@db.example/x",
    "key tdk_abcdefgh12345678 pasted",
    "Authorization: BEARER abcdefgh12345678",
    "a?api-key=zzz&x=1",
    "failed: https://h.example/p;sessionid=s3cr3t",
]

pieces = st.sampled_from([*SECRETS, "score=0.91", "a@b", "://", "\x01", "\n", '"', "\\",
                          "tdk", "é", "x", " ", "=", "?", "&"])
texts = st.lists(pieces, max_size=6).map("".join) | st.text(max_size=40)
values = st.recursive(
    st.none() | st.integers() | st.booleans() | texts,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=12,
)


def test_every_secret_example_is_triggered_and_masked() -> None:
    for text in SECRETS:
        assert might_hold_secret(text)
        assert might_hold_secret(canonical_json({"error": text}))
        assert redact_text(text) != text


def test_ordinary_findings_do_not_trigger() -> None:
    payload = {"rule": "classifier>=0.9", "scores": {"tvec": 0.93}, "evidence": "a=b",
               "email": "mod@example.org"}
    assert not might_hold_secret(canonical_json(payload))


@settings(max_examples=400, deadline=None)
@given(values)
def test_a_document_the_trigger_passes_needs_no_masking(value: object) -> None:
    encoded = canonical_json(value)
    if not might_hold_secret(encoded):
        assert canonical_json(redact_value(value)) == encoded


@settings(max_examples=400, deadline=None)
@given(texts)
def test_a_text_the_trigger_passes_is_unchanged(text: str) -> None:
    if not might_hold_secret(text):
        assert redact_text(text) == text
