"""Pipeline.warm: every detector with a `warm()` is warmed; one failing is logged and skipped,
and the classifier detector's warm loads its models and tolerates missing OCR."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import pytest

from takedown.classify.ocr import TesseractOcr
from takedown.core.content import Submission
from takedown.core.decisions import ActionKind, Decision, Provenance
from takedown.core.findings import Finding
from takedown.core.signals import Signal
from takedown.detect.classifier import ClassifierDetector
from takedown.services.pipeline import Pipeline
from takedown.signals.registry import default_registry


def _decide(submission: Submission, findings: Sequence[Finding]) -> Decision:
    return Decision(
        action=ActionKind.NONE, label="TVEC0", grounds="test", automated_detection=False,
        automated_decision=True, provenance=Provenance(policy="t", policy_version="1", rule="r"),
    )


class Warmable:
    version = "1"

    def __init__(self, name: str, *, fail: bool = False) -> None:
        self.name = name
        self.fail = fail
        self.warmed = 0

    def warm(self) -> None:
        self.warmed += 1
        if self.fail:
            raise RuntimeError("model file missing")

    def detect(self, submission: Submission, signals: Sequence[Signal]) -> list[Finding]:
        return []


class Plain:
    name, version = "plain", "1"

    def detect(self, submission: Submission, signals: Sequence[Signal]) -> list[Finding]:
        return []


def test_warm_reaches_every_detector_past_a_failing_one(caplog: pytest.LogCaptureFixture) -> None:
    broken, fine = Warmable("broken", fail=True), Warmable("fine")
    pipeline = Pipeline(default_registry(), [broken, Plain(), fine], _decide)
    with caplog.at_level(logging.WARNING, logger="takedown.services.pipeline"):
        pipeline.warm()
    assert (broken.warmed, fine.warmed) == (1, 1)
    assert any("warming detector broken failed" in r.getMessage() for r in caplog.records)


class FakeClassifier:
    version = "test"

    def __init__(self) -> None:
        self.warmed = 0

    def warm(self) -> None:
        self.warmed += 1


def test_classifier_detector_warms_its_model_and_survives_missing_ocr() -> None:
    classifier = FakeClassifier()
    missing = TesseractOcr(binary="no-such-tesseract-binary", library="no-such-tesseract-library")
    detector = ClassifierDetector(classifier, ocr=missing)  # type: ignore[arg-type]
    detector.warm()
    assert classifier.warmed == 1
    assert not missing.is_available()
