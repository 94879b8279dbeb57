"""Pipeline.run_batch: batch detectors in either signature, per-item fallback, isolation."""

from __future__ import annotations

from collections.abc import Sequence

from takedown.core.content import ContentKind, Submission, make_submission
from takedown.core.decisions import ActionKind, Decision, Provenance
from takedown.core.findings import Finding
from takedown.core.signals import Signal
from takedown.services.pipeline import Pipeline
from takedown.signals.registry import default_registry


def _decide(submission: Submission, findings: Sequence[Finding]) -> Decision:
    return Decision(
        action=ActionKind.REMOVE if findings else ActionKind.NONE,
        label="TVEC7" if findings else "TVEC0",
        grounds="test",
        automated_detection=bool(findings),
        automated_decision=True,
        provenance=Provenance(policy="t", policy_version="1", rule="r"),
    )


def _finding(name: str) -> Finding:
    return Finding(detector=f"{name}@1", label="TVEC7", score=0.9)


class OneArgBatch:
    """`detect_batch(submissions)`, the shape a classifier batch API may take."""

    name, version = "one-arg", "1"

    def __init__(self) -> None:
        self.calls: list[int] = []

    def detect(self, submission: Submission, signals: Sequence[Signal]) -> list[Finding]:
        raise AssertionError("the batch method should have been used")

    def detect_batch(self, submissions: Sequence[Submission]) -> list[list[Finding]]:
        self.calls.append(len(submissions))
        return [[_finding(self.name)] if "bad" in (s.text or "") else [] for s in submissions]


class BrokenBatch:
    """A batch method that raises: the pipeline falls back to `detect` per item."""

    name, version = "broken", "1"

    def detect(self, submission: Submission, signals: Sequence[Signal]) -> list[Finding]:
        if submission.text == "explode":
            raise ValueError("cannot read this one")
        return []

    def detect_batch(
        self, submissions: Sequence[Submission], signals: Sequence[Sequence[Signal]]
    ) -> list[list[Finding]]:
        raise RuntimeError("batch failed")


def _items(*texts: str) -> list[Submission]:
    return [make_submission(item_id=f"i{n}", kind=ContentKind.TEXT, text=t)
            for n, t in enumerate(texts)]


def test_a_one_argument_batch_method_is_called_once_per_batch() -> None:
    detector = OneArgBatch()
    pipeline = Pipeline(default_registry(), [detector], _decide)
    result = pipeline.run_batch(_items("fine", "bad post", "also fine"))
    assert detector.calls == [3]
    actions = [outcome.decision.action for _n, outcome in result.done]  # type: ignore[union-attr]
    assert actions == [ActionKind.NONE, ActionKind.REMOVE, ActionKind.NONE]
    assert result.skipped == []


def test_a_failing_batch_falls_back_per_item_and_pins_the_failure() -> None:
    pipeline = Pipeline(default_registry(), [BrokenBatch()], _decide)
    result = pipeline.run_batch(_items("one", "explode", "three"))
    kinds = [type(outcome).__name__ for _n, outcome in result.done]
    assert kinds == ["Outcome", "ValueError", "Outcome"]


def test_batch_and_single_paths_agree() -> None:
    pipeline = Pipeline(default_registry(), [OneArgBatch()], _decide)
    items = _items("bad post", "a good post about the weather")
    batch = [outcome for _n, outcome in pipeline.run_batch(items).done]
    single = Pipeline(default_registry(), [], _decide)
    for item, outcome in zip(items, batch, strict=True):
        alone = single.run(item)
        assert [s.value for s in alone.signals] == [s.value for s in outcome.signals]  # type: ignore[union-attr]
