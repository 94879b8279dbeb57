"""The policy behind the pipeline's decide seam, fed by the real hash-match detector."""

from __future__ import annotations

import dataclasses
import hashlib

from policy_builders import bank_finding

from takedown.core.banks import Bank, BankEntry, BankKind
from takedown.core.content import ContentKind, make_submission
from takedown.core.decisions import ActionKind
from takedown.core.taxonomy import TvecLabel
from takedown.detect.hashmatch import HashMatchDetector
from takedown.policy import ItemFacts, PolicyContext, PolicyDecider, evaluate, load_default_policy
from takedown.signals.exact import Sha256Signal

CONTENT = b"benign stand-in bytes for a listed file"


def detector_with(*banks: Bank, value: str) -> HashMatchDetector:
    detector = HashMatchDetector()
    detector.set_banks(banks)
    detector.apply_changes(
        [BankEntry(i + 1, bank.name, "sha256", value) for i, bank in enumerate(banks)]
    )
    return detector


def test_exact_match_from_the_real_detector_is_removed_with_a_case():
    submission = make_submission(item_id="i1", kind=ContentKind.IMAGE, content=CONTENT)
    signals = Sha256Signal().extract(submission)
    digest = hashlib.sha256(CONTENT).hexdigest()
    detector = detector_with(Bank("tvec-local", TvecLabel.PRAISE), value=digest)
    findings = detector.detect(submission, signals)
    decision = PolicyDecider(load_default_policy())(submission, findings)
    assert decision.action is ActionKind.REMOVE and decision.open_case
    assert decision.provenance.rule == "exact-bank-match"
    assert decision.provenance.entry_ids == (1,)
    assert decision.provenance.detectors == ("hashmatch@1",)


def test_allow_bank_match_is_not_treated_as_a_block_bank_match():
    submission = make_submission(item_id="i2", kind=ContentKind.IMAGE, content=CONTENT)
    signals = Sha256Signal().extract(submission)
    digest = hashlib.sha256(CONTENT).hexdigest()
    detector = detector_with(
        Bank("tvec-local", TvecLabel.BRANDED),
        Bank("news-archive", TvecLabel.NEWS_EXCEPTION, kind=BankKind.ALLOW),
        value=digest,
    )
    findings = detector.detect(submission, signals)
    decision = PolicyDecider(load_default_policy())(submission, findings)
    assert decision.action is ActionKind.QUEUE
    assert decision.provenance.rule == "news-exception"
    misconfigured = dataclasses.replace(
        bank_finding("TVEC1", signal_type="sha256", distance=0), evidence={"bank_kind": "allow"}
    )
    context = PolicyContext(kind=ContentKind.IMAGE, findings=(misconfigured,))
    assert evaluate(load_default_policy(), context).action is ActionKind.NONE


def test_facts_from_storage_reach_the_policy():
    submission = make_submission(item_id="i3", kind=ContentKind.TEXT, text="hello")
    seen = []

    def facts(item):
        seen.append(item.item_id)
        return ItemFacts(report_count=0, removal_order=True)

    decision = PolicyDecider(load_default_policy(), facts)(submission, [])
    assert seen == ["i3"]
    assert decision.action is ActionKind.REMOVE and decision.priority == 100
