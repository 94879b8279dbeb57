"""Bounded hash lookups: how loose a query may be and how much one call may return.

A caller's `threshold` is capped per signal type. PDQ hashes are 256 bits and unrelated images
sit about 128 bits apart (binomial, standard deviation 8), so the chance that a random hash
falls within 70 bits is about 2e-13 (z ≈ -7.3): up to 70, even a bank of 10^8 entries answers
noise with nothing, while near-duplicates (the default 31, and looser experiments) still
match. From about 90 bits (z ≈ -4.75, 1e-6 per pair) a loose query starts returning large
shares of every bank, which is how `threshold: 256` returned a million matches. vPDQ and MinHash
distances are percentages (0-100) with defaults 20 and 40, capped at 50 and 60; TLSH is
unbounded with default 70, capped at 150 (beyond it TLSH pairs are routinely unrelated). Exact
types (md5, sha256, normalised text, URL, domain) have no meaningful looser match: cap 0.

Results are capped as well: each value returns at most `MAX_MATCHES_PER_VALUE` nearest matches
and one call at most `MAX_MATCHES_TOTAL`; a capped row says `truncated: true`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Engine

from takedown.core.errors import InvalidInput
from takedown.detect.hashmatch import HashMatchDetector
from takedown.services.exchange_evidence import provenance
from takedown.signals.registry import SignalRegistry

MAX_THRESHOLD: dict[str, int] = {"pdq": 70, "vpdq": 50, "minhash": 60, "tlsh": 150}
MAX_MATCHES_PER_VALUE = 100
MAX_MATCHES_TOTAL = 50_000


def max_threshold(registry: SignalRegistry, signal_type: str) -> int:
    """The cap for a type: the table above, else the type's own default (0 for exact types)."""
    if signal_type in MAX_THRESHOLD:
        return MAX_THRESHOLD[signal_type]
    return int(getattr(registry.get(signal_type), "threshold", 0) or 0)


def lookup(
    registry: SignalRegistry,
    matcher: HashMatchDetector,
    signal_type: str,
    values: Sequence[str],
    threshold: int | None,
    *,
    engine: Engine | None = None,
) -> dict[str, Any]:
    """Matches per value; with `engine`, each match names the exchange it came from, so a
    client gets hash, match and exchange metadata in one answer."""
    if signal_type not in registry.names():
        raise InvalidInput(
            f"unknown signal type {signal_type!r}", hint=f"known: {', '.join(registry.names())}"
        )
    cap = max_threshold(registry, signal_type)
    if threshold is not None and threshold > cap:
        raise InvalidInput(
            f"threshold {threshold} is over the {signal_type} cap of {cap}",
            hint=f"use a threshold of at most {cap}, or omit it for each bank's own threshold",
        )
    canonical = [registry.canonical(signal_type, v) for v in values]
    try:
        found = matcher.lookup(signal_type, canonical, threshold)
    except ValueError as error:
        raise InvalidInput(str(error)) from None
    budget = MAX_MATCHES_TOTAL
    kept = []
    for row in found:
        nearest = sorted(row, key=lambda m: (m[0], m[1].entry_id))
        keep = nearest[: min(MAX_MATCHES_PER_VALUE, budget)]
        budget -= len(keep)
        kept.append((keep, len(keep) < len(nearest)))
    ids = [e.entry_id for keep, _t in kept for _d, e, _b in keep]
    origin = provenance(engine, ids) if engine is not None else {}
    results = []
    for value, (keep, truncated) in zip(values, kept, strict=True):
        results.append(
            {
                "value": value,
                "matches": [
                    {
                        "distance": d,
                        "entry_id": e.entry_id,
                        "bank": b.name,
                        "label": b.label.value,
                        "bank_kind": b.kind.value,
                        "entry_value": e.value,
                        **({"exchange": origin[e.entry_id]} if e.entry_id in origin else {}),
                    }
                    for d, e, b in keep
                ],
                **({"truncated": True} if truncated else {}),
            }
        )
    return {"signal_type": signal_type, "results": results}
