"""What the classifier reads: the shared normaliser's output with dataset artefacts removed.

Training tweets carry artefacts of *where* they were collected (t.co links, @mentions, "RT",
HTML entities, the "…" of truncated retweets). A model that learns them scores the platform,
not the message, and fails on posts from elsewhere; so they are removed before features are
built, both in training and at prediction time. Hashtags keep their word ("#khilafah" reads as
"khilafah"). Evasion (homoglyphs, zero-width characters, leetspeak) is undone by the project's
one normaliser, `takedown.signals.normalize.normalize_text`, which this module only calls.
"""

from __future__ import annotations

import html
import re

from takedown.signals.normalize import normalize_text

_URL = re.compile(r"(?:https?://|www\.)\S*|\b[a-z0-9.-]+\.(?:com|net|org|ly|co|me)/\S*", re.I)
_MENTION = re.compile(r"(?<!\w)@\w+")
_RT = re.compile(r"(?:^|\s)(?:rt|mt)(?=\s|:|$):?", re.I)
_VIA = re.compile(r"\bvia\s*$", re.I)
_HASH = re.compile(r"#(?=\w)")
_TRUNC = re.compile(r"(?:…|\.\.\.)\s*$")
_SPACE = re.compile(r"\s+")
_ELONGATED = re.compile(r"([^\W\d_])\1{2,}")
_TAG = re.compile(r"(?<!\w)#\w+")
_SIGNOFF = re.compile(
    r"(?:folgt uns|folge uns|follow us|join us|join your local|subscribe|abonniert|abonniere"
    r"|zum artikel|read more|weiterlesen|mehr unter|telegram|kontakt\b)",
    re.I,
)
SIGNOFF_TAIL = 300
"""A sign-off phrase starting in a text's last this-many characters cuts the text there."""

MAX_CHARS = 10_000
"""Longer texts are cut here (bounded cost); up to it, both tiers read the whole text."""


def strip_artefacts(text: str) -> str:
    """Remove URLs, @mentions, RT markers, HTML entities, truncation marks; keep hashtag words."""
    text = html.unescape(text)
    text = _URL.sub(" ", text)
    text = _MENTION.sub(" ", text)
    text = _RT.sub(" ", text)
    text = _HASH.sub("", text)
    text = _SPACE.sub(" ", text).strip()
    text = _TRUNC.sub("", text)
    text = _VIA.sub("", text)
    return text.strip(" :")


def mask_fingerprints(text: str) -> str:
    """The raw text without its source's fingerprints: hashtags dropped whole (campaign and
    channel tags such as "#PatriotFront") and a channel sign-off near the end cut ("DER III.
    WEG: Folgt uns bei Telegram! ...", "Join us on Telegram").

    A model that learns a channel's footer scores the channel, not the post; on a source it
    never saw, the footer is absent and the score goes with it. Only the tail is searched, so
    a post that *discusses* Telegram in its first lines keeps them.
    """
    text = _TAG.sub(" ", text)
    start = max(0, len(text) - SIGNOFF_TAIL)
    match = _SIGNOFF.search(text, start)
    if match:
        text = text[: match.start()]
    return _SPACE.sub(" ", text).strip()


def _shorten_run(match: re.Match[str]) -> str:
    letter = match.group(1)
    return letter if "\u0600" <= letter <= "\u06ff" else letter * 2


def collapse_elongation(text: str) -> str:
    """Letters repeated for emphasis cut back: three or more of one letter become two
    ("killlll" -> "kill", "sooo" -> "soo"), or one in Arabic script, which writes a doubled
    consonant with a mark rather than twice ("هجررررم" -> "هجرم").

    Elongation is how people shout in writing, and it dodges both tiers: the fast tier's
    n-grams and the encoder's word pieces never saw "killlll". It lives here, not in the
    shared normaliser, because text hashes that peers already hold must not change.
    """
    return _ELONGATED.sub(_shorten_run, text)


def clean_text(text: str) -> str:
    """Canonical input of both tiers: artefacts stripped, the shared evasion normaliser,
    elongated letters cut back."""
    text = strip_artefacts(text[:MAX_CHARS])
    return collapse_elongation(strip_artefacts(normalize_text(text)))


def word_count(text: str) -> int:
    return len(re.findall(r"\w+", text))
