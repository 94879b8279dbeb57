"""Ban-evader linking: is this new or changed account a suspended one back under a new name?

Suspended accounts are indexed by every signal an evader tends to keep: the display name and
bio (character 3-grams of the normalised text, in a MinHash LSH so a homoglyph or digit swap
still collides), the avatar (PDQ, in the same multi-index Hamming structure as the banks), the
URLs and media it posted and the accounts it interacted with (inverted indexes). A candidate is
found through any index in sub-linear time, then compared on all signals; the link records each
signal's similarity as evidence, so a reviewer sees *why* two accounts look like one person.

Evidence combines as a noisy-OR of weighted similarities: one weak signal (a shared news URL,
a common first name) stays below the review threshold, two independent ones rarely do.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from datasketch import MinHash, MinHashLSH

from takedown.index.pdq import PdqIndex
from takedown.signals.normalize import normalize_text

NUM_PERM = 64
LSH_THRESHOLD = 0.3
AVATAR_CANDIDATE_DISTANCE = 90
AVATAR_SAME_DISTANCE = 31
MAX_POSTING = 500
"""An inverted-index key shared by more suspended accounts than this (a popular URL, a hub
account everyone follows) says nothing about identity and is skipped for candidate generation."""
MAX_CANDIDATES = 200

WEIGHTS: dict[str, float] = {
    "display_name": 0.55,
    "bio": 0.5,
    "avatar": 0.7,
    "urls": 0.4,
    "media": 0.6,
    "neighbours": 0.7,
}
"""How far one perfectly matching signal alone goes towards 1.0 (see module docstring)."""
IDENTITY_SIGNALS = ("avatar", "urls", "media", "neighbours")
TEXT_ONLY_CAP = 0.79
"""Boilerplate bios and common names are shared by strangers: without an avatar, media, URL or
contact in common, a link stays below the default policy's suspension threshold (0.8)."""


def profile_text(text: str | None) -> str:
    """The normaliser (homoglyphs, leetspeak, marks) plus punctuation folded to spaces."""
    if not text:
        return ""
    return " ".join(re.sub(r"[\W_]+", " ", normalize_text(text)).split())


def shingles(text: str, n: int = 3) -> frozenset[str]:
    padded = f" {text} "
    if len(padded) <= n:
        return frozenset({padded}) if text else frozenset()
    return frozenset(padded[i:i + n] for i in range(len(padded) - n + 1))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


def overlap(a: frozenset[str], b: frozenset[str]) -> float:
    """Share of the smaller set found in the larger: an evader reuses a subset of its URLs."""
    if not a or not b:
        return 0.0
    return len(a & b) / min(len(a), len(b))


def hamming(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()


@dataclass(frozen=True)
class Fingerprint:
    """What the index keeps of one account: identity-bearing signals only, no content."""

    account_id: str
    display_name: str = ""
    bio: str = ""
    avatar_pdq: str | None = None
    urls: frozenset[str] = frozenset()
    media: frozenset[str] = frozenset()
    neighbours: frozenset[str] = frozenset()

    @classmethod
    def of(cls, account_id: str, *, display_name: str | None = None, bio: str | None = None,
           avatar_pdq: str | None = None, urls: Iterable[str] = (), media: Iterable[str] = (),
           neighbours: Iterable[str] = ()) -> Fingerprint:
        return cls(account_id, profile_text(display_name), profile_text(bio), avatar_pdq,
                   frozenset(urls), frozenset(media), frozenset(neighbours) - {account_id})


@dataclass(frozen=True)
class EvaderLink:
    """`account_id` looks like suspended `suspended_id`; `evidence` has one entry per signal."""

    account_id: str
    suspended_id: str
    score: float
    evidence: dict[str, Any] = field(default_factory=dict)


def _scaled(similarity: float, floor: float) -> float:
    """Similarity below `floor` is noise (two unrelated names share a few 3-grams)."""
    return 0.0 if similarity <= floor else min(1.0, (similarity - floor) / (1.0 - floor))


def compare(new: Fingerprint, old: Fingerprint) -> tuple[float, dict[str, Any]]:
    """The combined score and the per-signal evidence for one pair."""
    evidence: dict[str, Any] = {}
    sims: dict[str, float] = {}
    if new.display_name and old.display_name:
        raw = jaccard(shingles(new.display_name), shingles(old.display_name))
        sims["display_name"] = _scaled(raw, 0.3)
        evidence["display_name"] = {"similarity": round(raw, 3), "new": new.display_name,
                                    "suspended": old.display_name}
    if new.bio and old.bio:
        raw = jaccard(shingles(new.bio), shingles(old.bio))
        sims["bio"] = _scaled(raw, 0.25)
        evidence["bio"] = {"similarity": round(raw, 3)}
    if new.avatar_pdq and old.avatar_pdq:
        distance = hamming(new.avatar_pdq, old.avatar_pdq)
        span = AVATAR_CANDIDATE_DISTANCE - AVATAR_SAME_DISTANCE
        sims["avatar"] = max(0.0, min(1.0, (AVATAR_CANDIDATE_DISTANCE - distance) / span))
        evidence["avatar"] = {"pdq_distance": distance}
    for name, mine, theirs in (("urls", new.urls, old.urls), ("media", new.media, old.media)):
        shared = mine & theirs
        if shared:
            sims[name] = overlap(mine, theirs)
            evidence[name] = {"shared": sorted(shared)[:5], "count": len(shared)}
    shared_neighbours = new.neighbours & old.neighbours
    if shared_neighbours:
        raw = jaccard(new.neighbours, old.neighbours)
        sims["neighbours"] = min(1.0, 2.0 * raw)
        evidence["neighbours"] = {"jaccard": round(raw, 3), "shared": len(shared_neighbours)}
    remaining = 1.0
    for name, similarity in sims.items():
        remaining *= 1.0 - WEIGHTS[name] * similarity
        if name in evidence:
            evidence[name]["contribution"] = round(WEIGHTS[name] * similarity, 3)
    score = 1.0 - remaining
    if not any(sims.get(name, 0.0) > 0 for name in IDENTITY_SIGNALS):
        score = min(score, TEXT_ONLY_CAP)
        evidence["capped"] = {"reason": "name and bio alone never reach suspension"}
    return score, evidence


class EvaderIndex:
    """Suspended accounts, indexed for candidate lookup; `links` compares a new account."""

    def __init__(self) -> None:
        self._lsh = MinHashLSH(threshold=LSH_THRESHOLD, num_perm=NUM_PERM)
        self._pdq = PdqIndex(background=False)
        self._ids: dict[str, int] = {}
        self._names: dict[int, str] = {}
        self._prints: dict[str, Fingerprint] = {}
        self._postings: dict[str, dict[str, set[str]]] = {
            "urls": {}, "media": {}, "neighbours": {}}

    def __len__(self) -> int:
        return len(self._prints)

    def __contains__(self, account_id: object) -> bool:
        return account_id in self._prints

    _permutations: object = None
    _scheme: object = None

    @classmethod
    def _minhash(cls, text: str) -> MinHash | None:
        grams = shingles(text)
        if not grams:
            return None
        if cls._permutations is None:
            first = MinHash(num_perm=NUM_PERM, seed=12)
            cls._permutations, cls._scheme = first.permutations, getattr(first, "scheme", None)
        extra = {"scheme": cls._scheme} if cls._scheme is not None else {}
        sketch = MinHash(num_perm=NUM_PERM, seed=12, permutations=cls._permutations, **extra)
        sketch.update_batch([g.encode("utf-8") for g in grams])
        return sketch

    def add(self, fp: Fingerprint) -> None:
        """Index a suspended account (replacing what was indexed for it before)."""
        if fp.account_id in self._prints:
            self.remove(fp.account_id)
        number = self._ids.setdefault(fp.account_id, len(self._ids) + 1)
        self._names[number] = fp.account_id
        self._prints[fp.account_id] = fp
        sketch = self._minhash(f"{fp.display_name} {fp.bio}".strip())
        if sketch is not None:
            self._lsh.insert(fp.account_id, sketch)
        if fp.avatar_pdq:
            self._pdq.add(number, fp.avatar_pdq)
        for name, values in (("urls", fp.urls), ("media", fp.media),
                             ("neighbours", fp.neighbours)):
            for value in values:
                self._postings[name].setdefault(value, set()).add(fp.account_id)

    def remove(self, account_id: str) -> bool:
        """A reinstated account stops being a reference for evasion."""
        fp = self._prints.pop(account_id, None)
        if fp is None:
            return False
        if account_id in self._lsh:
            self._lsh.remove(account_id)
        self._pdq.remove(self._ids[account_id])
        for name, values in (("urls", fp.urls), ("media", fp.media),
                             ("neighbours", fp.neighbours)):
            for value in values:
                self._postings[name].get(value, set()).discard(account_id)
        return True

    def candidates(self, fp: Fingerprint) -> set[str]:
        found: set[str] = set()
        sketch = self._minhash(f"{fp.display_name} {fp.bio}".strip())
        if sketch is not None:
            found.update(self._lsh.query(sketch))
        if fp.avatar_pdq:
            for _distance, number in self._pdq.query(fp.avatar_pdq, AVATAR_CANDIDATE_DISTANCE):
                found.add(self._names[number])
        for name, values in (("urls", fp.urls), ("media", fp.media),
                             ("neighbours", fp.neighbours)):
            for value in values:
                posting = self._postings[name].get(value)
                if posting and len(posting) <= MAX_POSTING:
                    found.update(posting)
        found.discard(fp.account_id)
        return found

    def links(self, fp: Fingerprint, *, min_score: float = 0.3) -> list[EvaderLink]:
        """Suspended accounts this one resembles, best first, each with its evidence."""
        out = []
        for other in sorted(self.candidates(fp))[:MAX_CANDIDATES]:
            score, evidence = compare(fp, self._prints[other])
            if score >= min_score:
                out.append(EvaderLink(fp.account_id, other, round(score, 4), evidence))
        out.sort(key=lambda link: (-link.score, link.suspended_id))
        return out
