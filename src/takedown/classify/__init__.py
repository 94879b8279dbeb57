"""Text classifier: terrorist propaganda (`tvec`) vs `news`, `counter`-speech and `other`.

Two tiers: a hashed-free sparse linear model over words and character n-grams decides the clear
cases in microseconds; two multilingual sentence encoders (USE multilingual v3 and
multilingual-e5-small, both shipping their weights) re-score the uncertain ones. All weights are
plain JSON/npz in `src/takedown/models/classifier/` (no pickle: model files are a trust
boundary) and prediction is reimplemented in numpy.
"""

from __future__ import annotations

LABELS: tuple[str, ...] = ("tvec", "news", "counter", "other")
"""Class order used in every weight matrix and score vector."""

FACET_KINDS: tuple[str, ...] = ("posts", "suites", "corpora", "farright")
"""A class is learnt as one facet per kind of source (see `facet_of`), then summed back.

`tvec` in tweets (propaganda, Amaq relays) and `tvec` in the hate-speech test suites (threats)
share almost no words; one linear weight vector per class must average them and fits neither.
Each facet gets its own weights, and a class's probability is the sum of its facets'.
"""

TEST_SUITES: frozenset[str] = frozenset({"hatecheck", "mhc"})
FAR_RIGHT_SOURCES: frozenset[str] = frozenset({"farright_telegram", "latent_hatred", "gab"})
POST_SOURCES: frozenset[str] = frozenset({"fifthtribe", "alfifi"})


def facet_of(label: str, source: str) -> str:
    """`label/posts` for social-media posts, `label/suites` for the templated HateCheck test
    suites, `label/farright` for the far-right milieu's posts (its propaganda shares few words
    with jihadist tweets), `label/corpora` for the other curated corpora (news, CONAN, forums)."""
    if source in POST_SOURCES:
        kind = "posts"
    elif source in FAR_RIGHT_SOURCES:
        kind = "farright"
    elif source in TEST_SUITES:
        kind = "suites"
    else:
        kind = "corpora"
    return f"{label}/{kind}"


def facet_label(facet: str) -> str:
    return facet.split("/", 1)[0]


LANGS: tuple[str, ...] = ("en", "ar", "fr", "de")
"""Languages we report figures for (others are classified, but not measured)."""
