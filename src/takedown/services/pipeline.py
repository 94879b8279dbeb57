"""One submission through extract → detect → decide, with no I/O of its own.

Keeping this pure means the worker, `takedown scan` and tests all run the exact same path.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from takedown.core.content import Submission
from takedown.core.decisions import Decision
from takedown.core.detection import Detector
from takedown.core.findings import Finding
from takedown.core.signals import Signal
from takedown.signals.registry import SignalRegistry

log = logging.getLogger(__name__)

DecideFn = Callable[[Submission, Sequence[Finding]], Decision]


@dataclass(frozen=True)
class Outcome:
    signals: list[Signal]
    findings: list[Finding]
    decision: Decision
    errors: tuple[str, ...] = ()


class Pipeline:
    def __init__(
        self, registry: SignalRegistry, detectors: Sequence[Detector], decide: DecideFn
    ) -> None:
        self.registry = registry
        self.detectors = list(detectors)
        self.decide = decide

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
        signals, errors = self.extract(submission)
        findings: list[Finding] = []
        for detector in self.detectors:
            findings.extend(detector.detect(submission, signals))
        if annotate is not None:
            findings = annotate(findings)
        decision = self.decide(submission, findings)
        return Outcome(signals, findings, decision, tuple(errors))
