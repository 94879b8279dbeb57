"""Which index serves which signal type, decided in one place.

Distance-based signal types get their own structure (PDQ: multi-index hashing); everything
else is matched by equality, where a dict is already optimal. The detector asks this factory
for one index per signal type and feeds it bank entries; it never needs to know which kind it
holds, because both meet `takedown.index.base.Index`.
"""

from __future__ import annotations

from takedown.index.base import Index
from takedown.index.exact import ExactIndex
from takedown.index.pdq import PdqIndex

HAMMING_SIGNAL_TYPES = frozenset({"pdq"})


def make_index(signal_type: str) -> Index:
    """A fresh, empty index for `signal_type` (PdqIndex for "pdq", ExactIndex otherwise)."""
    if signal_type in HAMMING_SIGNAL_TYPES:
        return PdqIndex()
    return ExactIndex(signal_type)
