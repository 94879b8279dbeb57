"""Readers for the far-right and Arabic pro-ISIS corpora, and which movement each source is.

The first corpora taught the model the 2015 ISIS-supporter milieu on Twitter; these add the
other half of the mission (far-right / neo-Nazi movements) and a second Arabic collection:

- `farright_telegram`: posts authored by official channels of Active Club, Patriot Front and
  Der III. Weg (en/de). Channel labels are provenance, so every post is annotated on its own
  (`post_annotations.FARRIGHT_FILE`: T/N/C/O/U and a TVEC category); a post without one falls
  back to `weak_labels.farright_post_label`, which calls posts without a word of the
  movement's message `other` (gym, hikes, jokes). Per-channel caps stop one template
  dominating. Split group: the channel; the two channels with over a thousand posts (half of
  all rows, and the only large German one) are split in blocks of consecutive posts instead,
  so neither language's far-right propaganda is wholly in one split.
- `latent_hatred`: tweets from US hate-group accounts and followers; implicit *threatening*
  and *incitement* -> `tvec` (categories in `weak_labels.LATENT_HATRED_CATEGORIES`), the rest
  -> `other`. Explicit hate was left out by the curators. No account ids: one row per group.
- `gab`: the Gab Hate Corpus; *call for violence* -> `tvec` (TVEC8), the rest -> `other`.
  Held out entirely (`datasets.HOLDOUT_SOURCES`): test only, never trained on.
- `alfifi`: Arabic tweets from pro-ISIS accounts vs generic Arabic tweets, each annotated on its
  own (`post_annotations.ALFIFI_FILE`); an unannotated tweet falls back to its account side
  (pro-ISIS -> `tvec`, else `other`). No account ids: one row per group.

None of these texts is in the repository: they are read from the shared data folder.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Iterator
from pathlib import Path

from takedown.classify import post_annotations, weak_labels
from takedown.classify.datasets import SEED, Example, _capped, _csv_rows

MOVEMENTS: dict[str, str] = {
    "fifthtribe": "jihadist",
    "alfifi": "jihadist",
    "syria_statements": "jihadist",
    "farright_telegram": "far-right",
    "latent_hatred": "far-right",
    "gab": "far-right",
    "stormfront": "far-right",
    "germeval": "far-right",
}
"""The movement whose milieu a source comes from (news, counter-speech, suites: none)."""

BLOCK_POSTS = 150
"""Consecutive posts per split group in a channel too large to be one group."""
LARGE_CHANNEL = 1000
OTHER_CAP = 3000
UNCLEAR = "unclear"
"""Placeholder label of a post its annotator could not judge: kept through the per-channel
caps (so the capped sample is the one that was annotated), then dropped."""


def movement_of(source: str) -> str:
    return MOVEMENTS.get(source, "none")


def _row_group(prefix: str, text: str) -> str:
    return f"{prefix}:" + hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()[:12]


def _rows(root: Path, folder: str) -> Iterator[dict[str, str]]:
    yield from _csv_rows(root / folder / "data.csv")


def farright_telegram(root: Path) -> list[Example]:
    rows = list(_rows(root, "farright_telegram_official_channels"))
    sizes: dict[str, int] = {}
    for row in rows:
        channel = row["orig_label"].split("=", 1)[1]
        sizes[channel] = sizes.get(channel, 0) + 1
    by_channel: dict[str, list[Example]] = {}
    for row in rows:
        channel = row["orig_label"].split("=", 1)[1]
        if row["lang"] not in ("en", "de"):
            continue
        group = f"tg:{channel}"
        if sizes[channel] > LARGE_CHANNEL:
            match = re.search(r"/(\d+)$", row["source"])
            post = int(match.group(1)) if match else 0
            group = f"tg:{channel}:{post // BLOCK_POSTS}"
        note = post_annotations.lookup(post_annotations.FARRIGHT_FILE, row["text"])
        if note is None:
            label, category = weak_labels.farright_post_label(row["text"]), ""
        else:
            label, category = note.label or UNCLEAR, note.category
        ex = Example(row["text"], label, row["lang"], "farright_telegram", group, category)
        by_channel.setdefault(channel, []).append(ex)
    out: list[Example] = []
    for channel, examples in sorted(by_channel.items()):
        out += _capped(examples, weak_labels.FARRIGHT_CAPS.get(channel, 10_000))
    return [ex for ex in out if ex.label != UNCLEAR]


def latent_hatred(root: Path) -> list[Example]:
    hits: list[Example] = []
    other: list[Example] = []
    for row in _rows(root, "latent_hatred"):
        text = row["text"]
        parts = row["orig_label"].split("/")
        category = weak_labels.LATENT_HATRED_CATEGORIES.get(parts[1]) if len(parts) > 1 else None
        if row["label"] == "P" and category:
            group = _row_group("lh", text)
            hits.append(Example(text, "tvec", "en", "latent_hatred", group, category))
        else:
            other.append(Example(text, "other", "en", "latent_hatred", _row_group("lh", text)))
    return _capped(hits, 10_000) + _capped(other, OTHER_CAP)


def gab(root: Path) -> list[Example]:
    hits: list[Example] = []
    other: list[Example] = []
    for row in _rows(root, "gab_hate_corpus_cv"):
        text = row["text"]
        if row["label"] == "P":
            hits.append(Example(text, "tvec", "en", "gab", _row_group("gab", text), "TVEC8"))
        else:
            other.append(Example(text, "other", "en", "gab", _row_group("gab", text)))
    return _capped(hits, 10_000) + _capped(other, OTHER_CAP)


def alfifi(root: Path) -> list[Example]:
    out = []
    for row in _rows(root, "alfifi_arabic_isis_tweets"):
        note = post_annotations.lookup(post_annotations.ALFIFI_FILE, row["text"])
        if note is None:
            label, category = ("tvec" if row["label"] == "P" else "other"), ""
        else:
            label, category = note.label or UNCLEAR, note.category
        group = _row_group("af", row["text"])
        out.append(Example(row["text"], label, "ar", "alfifi", group, category))
    return [ex for ex in _capped(out, 10_000) if ex.label != UNCLEAR]


LOADERS = (farright_telegram, latent_hatred, gab, alfifi)


def sample_for_annotation(root: Path, n: int = 150) -> list[Example]:
    """A seeded sample of far-right channel posts *before* the drop rule, for checking it."""
    rows = [
        Example(r["text"], "tvec", r["lang"], "farright_telegram", r["orig_label"])
        for r in _rows(root, "farright_telegram_official_channels")
        if r["lang"] in ("en", "de")
    ]
    return random.Random(SEED).sample(sorted(rows, key=lambda e: e.text), n)
