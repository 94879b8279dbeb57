"""Which index serves which signal type, decided in one place.

PDQ gets its multi-index Hamming structure; equality types (cryptographic and normalised-text
hashes, URLs, domains) a dict; any other distance-based type (TLSH, MinHash, vPDQ) a linear scan
with the signal type's own `compare`. The detector asks for one index per signal type and never
needs to know which kind it holds, because all meet `takedown.index.base.Index`.
"""

from __future__ import annotations

from collections.abc import Callable

from takedown.index.base import Index
from takedown.index.exact import ExactIndex
from takedown.index.linear import LinearIndex
from takedown.index.local_features import LocalFeatureIndex, Resolver
from takedown.index.pdq import PdqIndex

HAMMING_SIGNAL_TYPES = frozenset({"pdq"})
LOCAL_FEATURE_SIGNAL_TYPES = frozenset({"orb"})
EXACT_SIGNAL_TYPES = frozenset({"md5", "sha256", "text_sha256", "url", "domain"})


def make_index(
    signal_type: str,
    compare: Callable[[str, str], int] | None = None,
    resolve: Resolver | None = None,
) -> Index:
    """A fresh, empty index for `signal_type`; without `compare` an unknown type is matched by
    equality. `resolve` turns a stored feature-set digest into its features (`orb` banks)."""
    if signal_type in HAMMING_SIGNAL_TYPES:
        return PdqIndex()
    if signal_type in LOCAL_FEATURE_SIGNAL_TYPES:
        return LocalFeatureIndex(resolve)
    if signal_type in EXACT_SIGNAL_TYPES or compare is None:
        return ExactIndex(signal_type)
    return LinearIndex(signal_type, compare)
