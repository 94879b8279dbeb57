"""Exchange provenance in match evidence: which source, contributor and labels a matched bank
entry came from, whether members dispute it, and when it was first seen.

A thin detector wrapper adds it to the hash matcher's findings (`evidence["exchange"]`), so
reviewers, policy and webhooks see it without the matcher knowing about exchanges. A disputed
entry is kept and still matches, and its finding says `evidence["disputed"] = true`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import Engine

from takedown.core.content import Submission
from takedown.core.detection import Detector
from takedown.core.findings import Finding
from takedown.core.signals import Signal
from takedown.storage import exchange as exchange_store
from takedown.storage.db import reading


def provenance(engine: Engine, entry_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    if not entry_ids:
        return {}
    with reading(engine) as conn:
        return exchange_store.provenance_for(conn, entry_ids)


class ProvenanceDetector:
    """Wraps a detector whose findings name bank entries; adds their exchange metadata."""

    def __init__(self, inner: Detector, engine: Engine) -> None:
        self.inner = inner
        self.engine = engine
        self.name = inner.name
        self.version = inner.version

    def detect(self, submission: Submission, signals: Sequence[Signal]) -> list[Finding]:
        findings = self.inner.detect(submission, signals)
        ids = [f.entry_id for f in findings if f.entry_id is not None]
        found = provenance(self.engine, ids)
        if not found:
            return findings
        out = []
        for finding in findings:
            meta = found.get(finding.entry_id) if finding.entry_id is not None else None
            if meta is None:
                out.append(finding)
                continue
            evidence = {**finding.evidence, "exchange": meta}
            if meta["disputed"]:
                evidence["disputed"] = True
            out.append(replace(finding, evidence=evidence))
        return out
