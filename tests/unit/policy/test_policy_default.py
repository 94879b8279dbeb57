"""The shipped default policy decides issue 5's scenarios the way docs/policy.md says it does."""

from __future__ import annotations

from policy_builders import bank_finding, classifier_finding

from takedown.core.content import ContentKind
from takedown.core.decisions import ActionKind
from takedown.policy import PolicyContext, evaluate, load_default_policy


def decide(*findings, kind=ContentKind.IMAGE, **extra):
    return evaluate(load_default_policy(), PolicyContext(kind=kind, findings=findings, **extra))


def test_exact_cryptographic_match_removes_and_opens_case():
    for signal in ("md5", "sha256", "text_sha256"):
        decision = decide(bank_finding("TVEC1", signal_type=signal, distance=0, entry_id=7))
        assert decision.action is ActionKind.REMOVE
        assert decision.open_case
        assert decision.provenance.rule == "exact-bank-match"
        assert decision.provenance.entry_ids == (7,)
        assert decision.label == "TVEC1"
        assert "tvec-local" in decision.grounds and "2021/784" in decision.grounds
        assert decision.automated_detection and decision.automated_decision


def test_pdq_match_at_distance_20_goes_to_review_not_removal():
    decision = decide(bank_finding("TVEC7", signal_type="pdq", distance=20))
    assert decision.action is ActionKind.QUEUE
    assert decision.open_case
    assert decision.provenance.rule == "similar-bank-match"
    assert "distance 20" in decision.grounds
    assert not decision.automated_decision


def test_near_identical_pdq_match_removes():
    decision = decide(bank_finding("TVEC6", signal_type="pdq", distance=6))
    assert decision.action is ActionKind.REMOVE
    assert decision.provenance.rule == "near-identical-media"


def test_threat_to_life_escalates_even_beside_an_exact_match():
    decision = decide(
        bank_finding("TVEC7", signal_type="sha256", distance=0),
        classifier_finding("TVEC2", score=0.5),
    )
    assert decision.action is ActionKind.ESCALATE
    assert decision.label == "TVEC2"
    assert decision.priority > decide(bank_finding(signal_type="sha256")).priority


def test_weak_classifier_threat_is_queued_not_escalated():
    weak = decide(classifier_finding("TVEC2", score=0.35), kind=ContentKind.TEXT)
    assert weak.action is ActionKind.QUEUE
    assert weak.provenance.rule == "threat-possible"
    assert weak.label == "TVEC2" and "possible threat" in weak.grounds
    listed = decide(bank_finding("TVEC2", signal_type="pdq", distance=30))
    assert listed.action is ActionKind.ESCALATE
    beside_copy = decide(
        bank_finding("TVEC7", signal_type="sha256", distance=0),
        classifier_finding("TVEC2", score=0.35),
    )
    assert beside_copy.action is ActionKind.REMOVE


def test_classifier_alone_is_reviewed_never_removed():
    high = decide(classifier_finding("TVEC8", score=0.99), kind=ContentKind.TEXT)
    assert high.action is ActionKind.QUEUE
    assert high.provenance.rule == "classifier-high"
    assert "human oversight" in high.grounds
    low = decide(classifier_finding("TVEC8", score=0.5), kind=ContentKind.TEXT)
    assert low.action is ActionKind.NONE


def test_classifier_shadow_trial_is_logged_but_not_acted_on():
    decision = decide(classifier_finding("TVEC7", score=0.75), kind=ContentKind.TEXT)
    assert decision.action is ActionKind.NONE
    assert decision.shadow == ("classifier-trial-0.7:queue",)


def test_risky_account_lowers_the_classifier_bar_to_review():
    finding = classifier_finding("TVEC6", score=0.65)
    assert decide(finding, kind=ContentKind.TEXT).action is ActionKind.NONE
    risky = decide(finding, kind=ContentKind.TEXT, account_risk=0.9)
    assert risky.action is ActionKind.QUEUE
    assert risky.provenance.rule == "classifier-risky-account"


def test_removal_order_comes_first_with_top_priority():
    decision = decide(removal_order=True)
    assert decision.action is ActionKind.REMOVE
    assert decision.priority == 100
    assert decision.provenance.rule == "removal-order"
    assert not decision.automated_detection
    assert "Article 3" in decision.grounds
    with_match = decide(bank_finding("TVEC5", distance=30), removal_order=True)
    assert with_match.label == "TVEC5"


def test_news_exception_beats_an_exact_match():
    decision = decide(
        bank_finding("TVEC1", signal_type="sha256", distance=0),
        bank_finding("TVEC.01", signal_type="sha256", distance=0, bank="news-archive", entry_id=9),
    )
    assert decision.action is ActionKind.QUEUE
    assert decision.label == "TVEC.01"
    assert decision.provenance.entry_ids == (9,)


def test_non_violating_bank_labels_take_no_action():
    assert decide(bank_finding("TVEC0", signal_type="sha256")).action is ActionKind.NONE


def test_user_reports_queue_for_review_with_more_reports_sooner():
    one = decide(kind=ContentKind.TEXT, report_count=1)
    many = decide(kind=ContentKind.TEXT, report_count=5)
    assert one.action is many.action is ActionKind.QUEUE
    assert many.priority > one.priority
    assert "5 notices" in many.grounds
    assert not one.automated_detection


def test_nothing_found_means_no_action_by_the_default_rule():
    decision = decide(kind=ContentKind.TEXT)
    assert decision.action is ActionKind.NONE
    assert decision.provenance.rule == "default"
    assert decision.label == "TVEC0"
    assert not decision.open_case


def test_every_decision_records_policy_name_and_version_with_hash():
    policy = load_default_policy()
    decision = decide(bank_finding())
    assert decision.provenance.policy == "takedown-default"
    assert decision.provenance.policy_version == policy.version_tag
    version, digest = policy.version_tag.split("+")
    assert version == policy.version and policy.content_hash.startswith(digest)
