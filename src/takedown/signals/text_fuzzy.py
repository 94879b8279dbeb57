"""Near-duplicate text signals: TLSH and MinHash over the normalised text.

Propaganda is re-posted with a word changed, a line added or a link swapped, so the exact
`text_sha256` misses it. Both types hash `normalize_text(text)`:

* `tlsh` — Trend Micro's locality-sensitive hash (`py-tlsh`). Needs ≥ 50 bytes of varied
  text (shorter texts yield no signal). Distance: TLSH's own score (0 = same; it grows with
  differences and has no upper bound). Default match threshold `TLSH_THRESHOLD`.
* `minhash` — 64 MinHash permutations of character 5-grams (`datasketch`). Works on short
  texts too. Distance: 100 × (1 − estimated Jaccard similarity), 0–100. Default threshold
  `MINHASH_THRESHOLD`. `minhash_object` rebuilds a `datasketch.MinHash`, so an index can
  put values into `MinHashLSH` bands instead of comparing pairwise.

Per-bank thresholds override the defaults (Bank.thresholds); the defaults were chosen on
edited copies of real tweets (bench/robustness_text.py) to give no false matches there.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from takedown.core.content import ContentKind, Submission, make_submission
from takedown.core.errors import InvalidInput
from takedown.core.signals import Signal
from takedown.signals.normalize import normalize_text

TEXT_KINDS = frozenset({ContentKind.TEXT, ContentKind.IMAGE, ContentKind.VIDEO, ContentKind.URL})
TLSH_MIN_BYTES = 50
TLSH_THRESHOLD = 70
MINHASH_PERMUTATIONS = 64
MINHASH_SEED = 1
MINHASH_SCHEME = "affine32"
"""datasketch ≥ 2's 32-bit scheme: every minimum fits the 4 bytes the value stores."""
MINHASH_SHINGLE = 5
MINHASH_THRESHOLD = 40
_MINHASH_PREFIX = "mh64:"

EXAMPLE_TEXT = (
    "The quick brown fox jumps over the lazy dog while the five boxing wizards jump quickly "
    "and a wizard's job is to vex chumps quickly in fog."
)


def tlsh_hash(text: str) -> str | None:
    """TLSH of the normalised text, or None when it is too short or too uniform to hash."""
    import tlsh

    data = normalize_text(text).encode("utf-8")
    if len(data) < TLSH_MIN_BYTES:
        return None
    value = tlsh.hash(data)
    return None if not value or value == "TNULL" else value


def tlsh_distance(a: str, b: str) -> int:
    import tlsh

    try:
        return int(tlsh.diff(a, b))
    except (ValueError, TypeError):
        raise InvalidInput("not a TLSH value", hint="e.g. T1 followed by 70 hex digits") from None


def shingles(text: str, size: int = MINHASH_SHINGLE) -> set[bytes]:
    """Character n-grams of the normalised text (the whole text if it is shorter)."""
    return set(_shingles(text, size))


@lru_cache(maxsize=1024)
def _shingles(text: str, size: int) -> frozenset[bytes]:
    """Cached: the signal's value and its meta both need the same post's shingles."""
    norm = normalize_text(text)
    if len(norm) <= size:
        return frozenset({norm.encode("utf-8")} if norm else ())
    return frozenset(norm[i : i + size].encode("utf-8") for i in range(len(norm) - size + 1))


def minhash_object(value: str | None = None, *, text: str | None = None):  # type: ignore[no-untyped-def]
    """A `datasketch.MinHash` from a stored value or from text (for LSH indexes)."""
    from datasketch import MinHash

    if value is not None:
        return MinHash(num_perm=MINHASH_PERMUTATIONS, seed=MINHASH_SEED,
                       hashvalues=_decode_minhash(value), scheme=MINHASH_SCHEME)
    sketch = MinHash(num_perm=MINHASH_PERMUTATIONS, seed=MINHASH_SEED, scheme=MINHASH_SCHEME,
                     permutations=_permutations())
    sketch.update_batch(sorted(_shingles(text or "", MINHASH_SHINGLE)))
    return sketch


@lru_cache(maxsize=1)
def _permutations():  # type: ignore[no-untyped-def]
    """The seeded permutation parameters, drawn once: drawing them is half of a MinHash's cost,
    and they depend only on the seed, so reusing them leaves every value unchanged."""
    from datasketch import MinHash

    return MinHash(num_perm=MINHASH_PERMUTATIONS, seed=MINHASH_SEED,
                   scheme=MINHASH_SCHEME).permutations


def minhash_value(text: str) -> str | None:
    """Canonical string form: 'mh64:' + 64 32-bit minima as hex, or None for empty text."""
    if not _shingles(text, MINHASH_SHINGLE):
        return None
    values = np.asarray(minhash_object(text=text).hashvalues, dtype=np.uint64)
    return _MINHASH_PREFIX + values.astype(">u4").tobytes().hex()


def _decode_minhash(value: str) -> np.ndarray:
    body = value[len(_MINHASH_PREFIX) :] if value.startswith(_MINHASH_PREFIX) else ""
    try:
        raw = bytes.fromhex(body)
    except ValueError:
        raw = b""
    if len(raw) != 4 * MINHASH_PERMUTATIONS:
        raise InvalidInput("not a minhash value", hint="'mh64:' followed by 512 hex digits")
    return np.frombuffer(raw, dtype=">u4").astype(np.uint64)


def minhash_distance(a: str, b: str) -> int:
    """100 × (1 − share of equal minima), the estimated Jaccard distance in percent."""
    same = float(np.mean(_decode_minhash(a) == _decode_minhash(b)))
    return round(100.0 * (1.0 - same))


def _text_of(submission: Submission) -> str | None:
    text = submission.text
    return text if text and text.strip() else None


class TlshSignal:
    """`tlsh`: meta holds `chars` (normalised length)."""

    name = "tlsh"
    kinds = TEXT_KINDS
    threshold = TLSH_THRESHOLD

    def extract(self, submission: Submission) -> Sequence[Signal]:
        text = _text_of(submission)
        value = tlsh_hash(text) if text else None
        if value is None:
            return []
        return [Signal(self.name, value, {"chars": len(normalize_text(text or ""))})]

    def compare(self, a: str, b: str) -> int:
        return tlsh_distance(a, b)

    def examples(self) -> Sequence[tuple[Submission, str]]:
        item = make_submission(item_id="ex-tlsh", kind=ContentKind.TEXT, text=EXAMPLE_TEXT)
        return [(item, EXAMPLE_TLSH)]


class MinHashSignal:
    """`minhash`: meta holds `shingles` (how many 5-grams the text has)."""

    name = "minhash"
    kinds = TEXT_KINDS
    threshold = MINHASH_THRESHOLD

    def extract(self, submission: Submission) -> Sequence[Signal]:
        text = _text_of(submission)
        value = minhash_value(text) if text else None
        if value is None:
            return []
        return [Signal(self.name, value, {"shingles": len(_shingles(text or "", MINHASH_SHINGLE))})]

    def compare(self, a: str, b: str) -> int:
        return minhash_distance(a, b)

    def examples(self) -> Sequence[tuple[Submission, str]]:
        item = make_submission(item_id="ex-minhash", kind=ContentKind.TEXT, text=EXAMPLE_TEXT)
        return [(item, EXAMPLE_MINHASH)]


EXAMPLE_TLSH = "T10FC02B53F24032E55D3C1C0C8BCE20F193CCC90866708520A4302242180C027CCF9AA7"
EXAMPLE_MINHASH = (
    "mh64:0090501a0031adea031ce73c013b49620004afaf004db2d603d76c8f01dd0e3405449cc201c920e5012"
    "832a50293a15102dd8e04007c667401e5120c039af774019601e80016ab5109ea66e6006540930008a4fa026"
    "3a9cf0285e9620247849100bad6d700f6e25b01a446af015dc3190876384601dea22700d79f7e03ffa117040"
    "fc9da013b6b66031bd83a00747137059915a1017183080014d08a02c57d7000152784002c045400704783071"
    "827a30096d7460000e95d0194d73e0541c1dc00c716b00daac21906748ec100c1080600929473007179b9028"
    "4745100a9342b016f0509002c700a002edb93004d2801008c2dd3012b154e01724eb400cc7847"
)
