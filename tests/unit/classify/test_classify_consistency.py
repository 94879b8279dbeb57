"""#10 item 4: the label is the class the thresholds pick, the output names the rule, evidence
is content words, and a no-action decision never carries a TVEC label."""

from __future__ import annotations

import pytest

from takedown.classify.model import TieredClassifier
from takedown.classify.stopwords import is_content_term
from takedown.core.content import ContentKind, Submission
from takedown.core.decisions import ActionKind
from takedown.core.findings import Finding
from takedown.detect.classifier import ClassifierDetector
from takedown.policy import PolicyContext, evaluate, load_default_policy

TEXTS = [
    "Happy birthday to my dear sister, have a wonderful day!",
    "Join the caravan of the mujahideen, brothers, the state will remain.",
    "Officials said the attack killed three people near the ministry on Tuesday.",
    "Violence has no religion; the killers do not speak for any of us.",
    "The fighters of the Islamic State stormed the positions of the apostates, Allahu Akbar.",
]


def test_label_rule_and_category_agree(shipped: TieredClassifier) -> None:
    threshold = shipped.config.tvec_threshold
    for result in shipped.classify(TEXTS):
        is_tvec = result.scores["tvec"] >= threshold
        assert (result.label == "tvec") is is_tvec
        assert result.rule.startswith("tvec:") is is_tvec
        assert (result.category is not None) is is_tvec
        if result.category:
            assert result.category.startswith("TVEC")
        assert result.to_json()["rule"] == result.rule


def test_ordinary_chatter_is_other_not_news(shipped: TieredClassifier) -> None:
    chatter = [
        "Happy birthday to my dear sister, have a wonderful day!",
        "Happy birthday mate, hope you have a great one",
    ]
    assert [r.label for r in shipped.classify(chatter)] == ["other"] * len(chatter)


def test_gym_chatter_is_not_tvec(shipped: TieredClassifier) -> None:
    """Far-right channels' gym posts once trained as `tvec` (label noise, docs/annotation.md)."""
    [result] = shipped.classify(["Good morning everyone, coffee first then the gym"])
    assert result.label == "other"


@pytest.mark.parametrize(
    "term",
    [
        "the",
        "of the",
        "in the",
        "der die",
        "de la",
        "في",
        "a 12",
        "see",
        "see what",
        "get",
        "you know",
        "look at",
        "near the",
        "heute uns",
        "comme",
        "tutti",
        "لكن",
    ],
)
def test_stop_words_are_not_content(term: str) -> None:
    assert not is_content_term(term)


@pytest.mark.parametrize(
    "term", ["caliphate", "of martyrdom", "kampf", "الدولة", "take revenge", "white race"]
)
def test_content_words_are(term: str) -> None:
    assert is_content_term(term)


def test_displayed_evidence_has_no_stop_words(shipped: TieredClassifier) -> None:
    for result in shipped.classify(TEXTS):
        for key in ("terms", "tvec_terms"):
            for item in result.evidence.get(key, []):
                assert is_content_term(item["term"]), item


def test_batch_detector_matches_one_by_one(shipped: TieredClassifier) -> None:
    detector = ClassifierDetector(shipped, use_ocr=False)
    subs = [Submission(f"i{i}", ContentKind.TEXT, text=t) for i, t in enumerate(TEXTS)]
    subs.insert(2, Submission("blank", ContentKind.TEXT, text="   "))
    batched = detector.detect_batch(subs)
    assert batched[2] == []
    for sub, findings in zip(subs, batched, strict=True):
        single = detector.detect(sub)
        assert [(f.label, f.score) for f in findings] == [(f.label, f.score) for f in single]
    for findings in batched:
        for f in findings:
            assert (f.evidence["class"] == "tvec") is (f.label != "TVEC0")
            assert f.evidence["rule"]


def test_shared_loading_returns_one_instance() -> None:
    assert TieredClassifier.shared() is TieredClassifier.shared()


def test_no_action_decision_keeps_tvec0_beside_a_weak_finding() -> None:
    policy = load_default_policy()
    weak = Finding(detector="text-classifier@3", label="TVEC7", score=0.4, evidence={})
    decision = evaluate(policy, PolicyContext(kind=ContentKind.TEXT, findings=(weak,)))
    assert decision.action is ActionKind.NONE
    assert decision.label == "TVEC0"
    assert "No terrorist" in decision.grounds
