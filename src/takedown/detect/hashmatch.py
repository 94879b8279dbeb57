"""Hash matching: signals against banks, with per-bank thresholds and allow-lists.

The detector holds one index per signal type and follows bank changes incrementally
(`apply_changes`), so a newly banked hash matches within one change-feed poll, with no rebuild.
An allow-list match (e.g. known news footage) suppresses block findings for the same item and
is itself reported, so reviewers can see why nothing happened.

Degenerate hashes never match on their own: a PDQ query of quality < 50 (flat, blank, tiny) is
not looked up, and a banked PDQ value that looks degenerate is skipped (`is_degenerate_pdq`).
An index that verifies local features (`orb`) is asked only when nothing else matched the item,
so images PDQ already matched cost nothing extra; its findings carry the verification (inliers,
matched region) as evidence. A video vPDQ did not match (a logo or caption over every frame)
is asked the same way with a few key frames, and matches on several of them. An image the
whole-picture lookup did not match and that looks like a screenshot is looked up once more by
the picture inside it (`signals/local_inset.py`).

An index may also be installed whole (`install`, a PDQ snapshot mapped from its file): its
entries are then known only by id until one matches, and are resolved through the given
`resolve` (one database read per match, cached), so start-up costs no per-entry objects.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace

import cv2

from takedown.core.banks import Bank, BankEntry, BankKind
from takedown.core.content import ContentKind, Submission
from takedown.core.errors import TakedownError
from takedown.core.findings import Finding
from takedown.core.signals import Signal
from takedown.index.base import Index
from takedown.index.factory import make_index
from takedown.index.local_features import FeatureMatch
from takedown.signals.pdq import is_degenerate_pdq
from takedown.signals.video_frames import key_frame_features

# Default distance thresholds per signal type; a bank may set its own (Bank.thresholds).
DEFAULT_THRESHOLDS: dict[str, int] = {"pdq": 31, "vpdq": 31, "tlsh": 40, "minhash": 30, "orb": 86}


ON_DEMAND = frozenset({ContentKind.IMAGE, ContentKind.VIDEO})
MIN_KEY_FRAMES = 2
"""Key frames of an upload that must each be verified in one bank before a video matches."""

IndexFactory = Callable[[str], Index]
Resolve = Callable[[list[int]], Iterable[BankEntry]]


class HashMatchDetector:
    name = "hashmatch"
    version = "1"

    def __init__(
        self,
        index_factory: IndexFactory = make_index,
        default_thresholds: dict[str, int] | None = None,
    ) -> None:
        self._index_factory = index_factory
        self._defaults = {**DEFAULT_THRESHOLDS, **(default_thresholds or {})}
        self._indexes: dict[str, Index] = {}
        self._entries: dict[int, BankEntry] = {}
        self._banks: dict[str, Bank] = {}
        self._lock = threading.RLock()
        self._installed: set[str] = set()
        self._resolve: Resolve | None = None

    def install(self, signal_type: str, index: Index, resolve: Resolve) -> None:
        """Serve `signal_type` from a prebuilt index whose entries `resolve` looks up by id."""
        with self._lock:
            self._indexes[signal_type] = index
            self._installed.add(signal_type)
            self._resolve = resolve

    def _entry(self, entry_id: int) -> BankEntry | None:
        entry = self._entries.get(entry_id)
        if entry is None and self._resolve is not None:
            for found in self._resolve([entry_id]):
                if found.signal_type in self._installed:
                    self._entries[found.entry_id] = found
            entry = self._entries.get(entry_id)
        return entry

    def set_banks(self, banks: Iterable[Bank]) -> None:
        with self._lock:
            self._banks = {bank.name: bank for bank in banks}

    def apply_changes(self, added: Iterable[BankEntry], removed: Iterable[int] = ()) -> None:
        with self._lock:
            unresolved: list[int] = []
            for entry_id in removed:
                entry = self._entries.pop(entry_id, None)
                if entry is not None:
                    self._indexes[entry.signal_type].remove(entry_id)
                else:  # perhaps an installed index's entry, never resolved
                    unresolved.append(entry_id)
            for signal_type in self._installed if unresolved else ():
                installed = self._indexes[signal_type]
                remove_many = getattr(installed, "remove_many", None)
                if remove_many is not None:  # one pass over the segment, not one per id
                    remove_many(unresolved)
                else:
                    for entry_id in unresolved:
                        installed.remove(entry_id)
            by_type: dict[str, list[BankEntry]] = {}
            for entry in added:
                by_type.setdefault(entry.signal_type, []).append(entry)
            for signal_type, entries in by_type.items():
                index = self._indexes.get(signal_type)
                if index is None:
                    index = self._indexes[signal_type] = self._index_factory(signal_type)
                add_many = getattr(index, "add_many", None)
                if add_many is not None and len(entries) > 1:
                    # One bulk call: the PDQ index would otherwise merge every few thousand adds.
                    add_many([e.entry_id for e in entries], [e.value for e in entries])
                else:
                    for entry in entries:
                        index.add(entry.entry_id, entry.value)
                for entry in entries:
                    self._entries[entry.entry_id] = entry

    def entry_count(self) -> int:
        with self._lock:
            resolved = sum(1 for e in self._entries.values() if e.signal_type in self._installed)
            return (len(self._entries) - resolved
                    + sum(len(self._indexes[t]) for t in self._installed))

    def lookup(
        self, signal_type: str, values: Sequence[str], threshold: int | None = None
    ) -> list[list[tuple[int, BankEntry, Bank]]]:
        """Batch lookup for hash-only clients: matches per value in enabled banks, one index
        call for the whole batch. Without `threshold` each bank's own threshold applies."""
        with self._lock:
            index = self._indexes.get(signal_type)
            if index is None:
                return [[] for _ in values]
            widest = threshold if threshold is not None else max(
                [self._threshold(b, signal_type) for b in self._banks.values()] or [0]
            )
            results: list[list[tuple[int, BankEntry, Bank]]] = []
            for value, matches in zip(values, index.query_many(list(values), widest), strict=True):
                row: list[tuple[int, BankEntry, Bank]] = []
                degenerate = signal_type == "pdq" and is_degenerate_pdq(value)
                for distance, entry_id in [] if degenerate else matches:
                    entry = self._entry(entry_id)
                    bank = self._banks.get(entry.bank) if entry else None
                    if entry is None or bank is None or not bank.enabled:
                        continue
                    if signal_type == "pdq" and is_degenerate_pdq(entry.value):
                        continue
                    if threshold is None and distance > self._threshold(bank, signal_type):
                        continue
                    row.append((distance, entry, bank))
                results.append(row)
        return results

    def _threshold(self, bank: Bank, signal_type: str) -> int:
        return bank.thresholds.get(signal_type, self._defaults.get(signal_type, 0))

    def detect(self, submission: Submission, signals: Sequence[Signal]) -> list[Finding]:
        block: list[Finding] = []
        allow: list[Finding] = []
        with self._lock:
            for signal in signals:
                index = self._indexes.get(signal.type)
                if index is None or (signal.type == "pdq" and signal.meta.get("low_quality")):
                    continue
                widest = max([self._threshold(b, signal.type) for b in self._banks.values()] or [0])
                for distance, entry_id in _query_variants(index, signal, widest):
                    entry = self._entry(entry_id)
                    bank = self._banks.get(entry.bank) if entry else None
                    if entry is None or bank is None or not bank.enabled:
                        continue
                    if distance > self._threshold(bank, signal.type):
                        continue
                    if signal.type == "pdq" and is_degenerate_pdq(entry.value):
                        continue
                    finding = Finding(
                        detector=f"{self.name}@{self.version}",
                        label=bank.label.value,
                        score=_score(distance),
                        bank=bank.name,
                        entry_id=entry_id,
                        distance=distance,
                        signal_type=signal.type,
                        evidence={
                            "signal": signal.value,
                            "bank_kind": bank.kind.value,
                            "severity": bank.severity,
                            **({"note": entry.note} if entry.note else {}),
                        },
                    )
                    (allow if bank.kind is BankKind.ALLOW else block).append(finding)
        if not block and not allow and submission.content and submission.kind in ON_DEMAND:
            for finding in self._on_demand(submission.kind, submission.content):
                (allow if finding.evidence["bank_kind"] == "allow" else block).append(finding)
        if allow:
            return allow
        return _dedupe(block)

    def _on_demand(self, kind: ContentKind, content: bytes) -> list[Finding]:
        """Findings from indexes that verify local features: an image's own, or a video's key
        frames. Extraction (~30 ms a picture) runs outside the detector's lock, so other
        workers' lookups are not held up by it; undecodable content finds nothing here (the
        signal extractors already reported it)."""
        with self._lock:
            indexes = [(t, i) for t, i in self._indexes.items()
                       if getattr(i, "query_features", None) is not None and len(i) > 0]
        if not indexes:
            return []
        found: list[Finding] = []
        try:
            if kind is ContentKind.IMAGE:
                for signal_type, index in indexes:
                    matches = index.query_content(content)  # type: ignore[attr-defined]
                    with self._lock:
                        found += self._local_findings(signal_type, matches)
                return found
            frames = key_frame_features(content)
        except (TakedownError, cv2.error):
            return []
        for signal_type, index in indexes:
            per_frame: list[tuple[float | None, list[FeatureMatch]]] = [
                (at, index.query_features(q)) for at, q in frames]  # type: ignore[attr-defined]
            with self._lock:
                found += self._key_frame_findings(signal_type, per_frame)
        return found

    def _key_frame_findings(
        self, signal_type: str, per_frame: list[tuple[float | None, list[FeatureMatch]]]
    ) -> list[Finding]:
        """A video matches a bank when `MIN_KEY_FRAMES` of its key frames (all of them, for a
        shorter clip) are each verified against a picture or key frame banked there: one
        frame could be a shared still, several are the same footage. Each entry's finding
        keeps its best frame's verification and names every frame that matched."""
        frames: dict[str, set[float]] = {}
        best: dict[int, tuple[Finding, list[float]]] = {}
        for at, matches in per_frame:
            for finding in self._local_findings(signal_type, matches[:1]):
                assert finding.bank is not None and finding.entry_id is not None and at is not None
                frames.setdefault(finding.bank, set()).add(at)
                kept, times = best.get(finding.entry_id, (finding, []))
                best[finding.entry_id] = (max(kept, finding, key=lambda f: f.score), [*times, at])
        needed = min(MIN_KEY_FRAMES, len(per_frame))
        return [
            replace(finding, evidence={**finding.evidence, "key_frames": {
                "verified": len(frames[finding.bank or ""]), "of": len(per_frame),
                "at_s": [round(t, 2) for t in sorted(times)]}})
            for finding, times in best.values() if len(frames[finding.bank or ""]) >= needed
        ]

    def _local_findings(self, signal_type: str, matches: list[FeatureMatch]) -> list[Finding]:
        found: list[Finding] = []
        for match in matches:
            entry = self._entries.get(match.entry_id)
            bank = self._banks.get(entry.bank) if entry else None
            if entry is None or bank is None or not bank.enabled:
                continue
            if match.distance > self._threshold(bank, signal_type):
                continue
            found.append(Finding(
                detector=f"{self.name}@{self.version}",
                label=bank.label.value,
                score=match.verification.score,
                bank=bank.name,
                entry_id=match.entry_id,
                distance=match.distance,
                signal_type=signal_type,
                evidence={
                    "bank_kind": bank.kind.value,
                    "severity": bank.severity,
                    "local_match": match.verification.evidence(),
                    **({"note": entry.note} if entry.note else {}),
                },
            ))
        return found


def _query_variants(index: Index, signal: Signal, threshold: int) -> list[tuple[int, int]]:
    """A signal may carry extra query forms (PDQ's rotations, mirrors and border-trimmed
    variants in `meta["query_hashes"]`); each entry keeps its closest distance."""
    variants = signal.meta.get("query_hashes") or [signal.value]
    best: dict[int, int] = {}
    for matches in index.query_many(list(variants), threshold):
        for distance, entry_id in matches:
            if distance < best.get(entry_id, threshold + 1):
                best[entry_id] = distance
    return sorted((d, e) for e, d in best.items())


def _score(distance: int) -> float:
    """1.0 for an exact match, falling linearly with distance over a 256-bit hash."""
    return max(0.0, 1.0 - distance / 256)


def _dedupe(findings: list[Finding]) -> list[Finding]:
    best: dict[tuple[int | None, str | None], Finding] = {}
    for finding in findings:
        key = (finding.entry_id, finding.signal_type)
        current = best.get(key)
        if current is None or (finding.distance or 0) < (current.distance or 0):
            best[key] = finding
    return sorted(best.values(), key=lambda f: (f.distance or 0, f.entry_id or 0))

