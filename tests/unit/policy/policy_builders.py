"""Small builders for findings, so each policy test states only the fields it is about."""

from __future__ import annotations

from takedown.core.findings import Finding


def bank_finding(
    label: str = "TVEC7",
    *,
    signal_type: str = "pdq",
    distance: int = 0,
    bank: str = "tvec-local",
    entry_id: int = 1,
    detector: str = "hash-match@1",
) -> Finding:
    return Finding(
        detector=detector,
        label=label,
        score=1.0,
        bank=bank,
        entry_id=entry_id,
        distance=distance,
        signal_type=signal_type,
        evidence={"matched": signal_type},
    )


def classifier_finding(label: str = "TVEC7", score: float = 0.95) -> Finding:
    return Finding(detector="text-classifier@3", label=label, score=score,
                   evidence={"spans": [[0, 4]]})
