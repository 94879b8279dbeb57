"""Text classifier: terrorist propaganda (`tvec`) vs `news`, `counter`-speech and `other`.

Two tiers: a hashed-free sparse linear model over words and character n-grams decides the clear
cases in microseconds; a multilingual sentence encoder (USE multilingual v3, pure numpy) re-scores
the uncertain ones. All weights are plain JSON/npz in `src/takedown/models/classifier/` (no
pickle: model files are a trust boundary) and prediction is reimplemented in numpy.
"""

from __future__ import annotations

LABELS: tuple[str, ...] = ("tvec", "news", "counter", "other")
"""Class order used in every weight matrix and score vector."""

LANGS: tuple[str, ...] = ("en", "ar", "fr", "de")
"""Languages we report figures for (others are classified, but not measured)."""
