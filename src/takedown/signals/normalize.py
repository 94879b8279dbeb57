"""Text normalisation against evasion: the one normaliser hashing and classification share.

Evaders write `İ S I S` or `1$1$` or hide zero-width joiners so exact and fuzzy matches miss;
normalising first makes those variants collapse onto the same text.
"""

from __future__ import annotations

import re
import unicodedata

_WHITESPACE = re.compile(r"\s+")


def normalize_text(text: str) -> str:
    """Canonical form used for text hashes and classification (idempotent)."""
    text = unicodedata.normalize("NFKC", text)
    text = text.casefold()
    return _WHITESPACE.sub(" ", text).strip()
