"""Submissions through extract → detect → decide, one at a time or as a batch, with no I/O of
its own.

Keeping this pure means the worker, `takedown scan` and tests all run the exact same path.
`run_batch` is the worker's hot path: detectors that offer `detect_batch` (the classifier runs
one model call per batch) get the whole batch; the others are called per item. One item failing
(a detector raising on it) fails only that item: its slot in the result holds the error.
"""

from __future__ import annotations

import inspect
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from takedown.core.content import Submission
from takedown.core.decisions import Decision
from takedown.core.detection import Detector
from takedown.core.findings import Finding
from takedown.core.signals import Signal
from takedown.signals.registry import SignalRegistry

log = logging.getLogger(__name__)

DecideFn = Callable[[Submission, Sequence[Finding]], Decision]
AnnotateBatch = Callable[[list[list[Finding]]], list[list[Finding]]]

DEFAULT_MAX_TEXT_CHARS = 100_000
"""Text beyond this is not analysed (a 30 MB post would tie a worker up for minutes); the item
keeps its full text and records the truncation."""


@dataclass(frozen=True)
class Outcome:
    signals: list[Signal]
    findings: list[Finding]
    decision: Decision
    errors: tuple[str, ...] = ()


@dataclass(frozen=True)
class BatchResult:
    """What `run_batch` made of the items it got to: an Outcome, or the exception that failed
    that item alone. `skipped` items were not started because the batch ran out of time."""

    done: list[tuple[int, Outcome | Exception]]
    skipped: list[int]


class Pipeline:
    def __init__(
        self,
        registry: SignalRegistry,
        detectors: Sequence[Detector],
        decide: DecideFn,
        *,
        max_text_chars: int = DEFAULT_MAX_TEXT_CHARS,
    ) -> None:
        self.registry = registry
        self.detectors = list(detectors)
        self.decide = decide
        self.max_text_chars = max_text_chars

    def warm(self) -> None:
        """Let every detector that has a `warm()` load what it loads lazily (the classifier:
        language id, encoder, an OCR engine), before the first batch rather than inside it.
        A detector failing to warm is logged and skipped: it loads lazily later, as before."""
        for detector in self.detectors:
            method = getattr(detector, "warm", None)
            if not callable(method):
                continue
            started = time.monotonic()
            try:
                method()
            except Exception:  # noqa: BLE001 - warming is an optimisation, never fatal
                log.warning("warming detector %s failed; it loads on first use",
                            detector.name, exc_info=True)
                continue
            log.info("warmed detector %s in %.1f s", detector.name, time.monotonic() - started)

    def bounded(self, submission: Submission) -> tuple[Submission, list[str]]:
        """The submission as analysed: text capped at `max_text_chars`."""
        text = submission.text
        if text is None or len(text) <= self.max_text_chars:
            return submission, []
        note = f"text: analysed the first {self.max_text_chars} of {len(text)} characters"
        return replace(submission, text=text[: self.max_text_chars]), [note]

    def extract(self, submission: Submission) -> tuple[list[Signal], list[str]]:
        """Every applicable signal; one type failing (a corrupt image, say) spoils no other."""
        signals: list[Signal] = []
        errors: list[str] = []
        for signal_type in self.registry:
            if submission.kind not in signal_type.kinds or getattr(signal_type, "on_demand", False):
                continue  # on-demand types (local features) are computed by their matcher
            try:
                signals.extend(signal_type.extract(submission))
            except Exception as error:  # noqa: BLE001 - recorded on the item, never dropped
                errors.append(f"{signal_type.name}: {error}")
                log.warning(
                    "signal %s failed on %s: %s", signal_type.name, submission.item_id, error
                )
        return signals, errors

    def run(
        self,
        submission: Submission,
        *,
        annotate: Callable[[list[Finding]], list[Finding]] | None = None,
    ) -> Outcome:
        """`annotate` lets the caller mark findings with facts only it knows (flood state)."""
        submission, notes = self.bounded(submission)
        signals, errors = self.extract(submission)
        findings: list[Finding] = []
        for detector in self.detectors:
            findings.extend(detector.detect(submission, signals))
        if annotate is not None:
            findings = annotate(findings)
        decision = self.decide(submission, findings)
        return Outcome(signals, findings, decision, tuple(notes + errors))

    def run_batch(
        self,
        submissions: Sequence[Submission],
        *,
        annotate: AnnotateBatch | None = None,
        budget_seconds: float | None = None,
    ) -> BatchResult:
        """Run many items; extraction stops starting new items once `budget_seconds` is spent
        (those come back in `skipped`), so one slow item cannot hold a whole batch."""
        started = time.monotonic()
        live: list[int] = []
        skipped: list[int] = []
        failed: dict[int, Exception] = {}
        items: dict[int, Submission] = {}
        extracted: dict[int, tuple[list[Signal], list[str]]] = {}
        for n, original in enumerate(submissions):
            if budget_seconds is not None and live and time.monotonic() - started > budget_seconds:
                skipped.append(n)
                continue
            item, notes = self.bounded(original)
            try:
                signals, errors = self.extract(item)
            except Exception as error:  # noqa: BLE001 - this item fails alone
                failed[n] = error
                continue
            items[n] = item
            extracted[n] = (signals, notes + errors)
            live.append(n)
        found: dict[int, list[Finding]] = {n: [] for n in live}
        for detector in self.detectors:
            ok = [n for n in live if n not in failed]
            for n, result in zip(ok, self._detect(detector, [items[n] for n in ok],
                                                  [extracted[n][0] for n in ok]), strict=True):
                if isinstance(result, Exception):
                    failed[n] = result
                else:
                    found[n].extend(result)
        ok = [n for n in live if n not in failed]
        annotated = annotate([found[n] for n in ok]) if annotate is not None else None
        done: list[tuple[int, Outcome | Exception]] = []
        for pos, n in enumerate(ok):
            findings = annotated[pos] if annotated is not None else found[n]
            try:
                decision = self.decide(items[n], findings)
            except Exception as error:  # noqa: BLE001 - this item fails alone
                failed[n] = error
                continue
            signals, errors = extracted[n]
            done.append((n, Outcome(signals, findings, decision, tuple(errors))))
        done.extend(failed.items())
        done.sort(key=lambda pair: pair[0])
        return BatchResult(done, skipped)

    def _detect(
        self, detector: Detector, items: list[Submission], signals: list[list[Signal]]
    ) -> list[list[Finding] | Exception]:
        """The detector's batch method when it has one, else (or when the batch call fails)
        one call per item, so a failure is pinned on the item that caused it."""
        if not items:
            return []
        batch = _batch_method(detector)
        if batch is not None:
            try:
                results = list(batch(items, signals))
                if len(results) == len(items):
                    return [list(r) for r in results]
                log.warning("%s.detect_batch returned %d results for %d items",
                            detector.name, len(results), len(items))
            except Exception:  # noqa: BLE001 - retried per item below to find the culprit
                log.warning("%s.detect_batch failed; retrying per item", detector.name,
                            exc_info=True)
        out: list[list[Finding] | Exception] = []
        for item, item_signals in zip(items, signals, strict=True):
            try:
                out.append(list(detector.detect(item, item_signals)))
            except Exception as error:  # noqa: BLE001 - pinned on this item
                out.append(error)
        return out


def _batch_method(
    detector: Detector,
) -> Callable[[list[Submission], list[list[Signal]]], Sequence[Sequence[Finding]]] | None:
    """`detect_batch(submissions, signals)` or `detect_batch(submissions)`, adapted to one form."""
    method = getattr(detector, "detect_batch", None)
    if method is None or not callable(method):
        return None
    try:
        params = [
            p for p in inspect.signature(method).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty
        ]
    except (TypeError, ValueError):
        params = []
    if len(params) >= 2:
        return method  # type: ignore[no-any-return]
    return lambda items, _signals: method(items)
