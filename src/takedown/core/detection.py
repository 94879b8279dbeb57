"""The contracts that plug-ins implement: signal types and detectors.

Kept as Protocols in the core so that hashing, indexing and classification code depends on the
domain, never the other way round.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from takedown.core.content import ContentKind, Submission
from takedown.core.findings import Finding
from takedown.core.signals import Signal


@runtime_checkable
class SignalType(Protocol):
    """Turns content of declared kinds into canonical string signals and compares them."""

    name: str
    kinds: frozenset[ContentKind]

    def extract(self, submission: Submission) -> Sequence[Signal]: ...

    def compare(self, a: str, b: str) -> int:
        """Distance between two signal values; 0 means identical."""
        ...

    def examples(self) -> Sequence[tuple[Submission, str]]:
        """(content, expected signal value) pairs, so one contract test covers every type."""
        ...


@runtime_checkable
class Detector(Protocol):
    """`detect` turns one submission (and its signals) into findings."""

    name: str
    version: str

    def detect(self, submission: Submission, signals: Sequence[Signal]) -> list[Finding]: ...
