"""Account risk from behaviour (shares, not counts), strikes that decay, stats windows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from takedown.accounts.model import AccountStats, PostObservation
from takedown.accounts.strikes import Strike, effective_strikes
from takedown.detect.account_risk import AccountRiskDetector, Neighbourhood

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _stats(posts: int, **marks: int) -> AccountStats:
    stats = AccountStats()
    for n in range(posts):
        flags = {key: n < count for key, count in marks.items()}
        stats = stats.with_post(PostObservation(at=T0 + timedelta(hours=n), **flags))
    return stats


def test_a_propaganda_account_scores_high_and_a_news_outlet_with_a_few_stills_low() -> None:
    detector = AccountRiskDetector()
    extremist = detector.assess(_stats(5, matched=4, banked_media=3))
    news = detector.assess(_stats(200, matched=3, banked_media=3))
    assert extremist.score > 0.9 and news.score < 0.1
    assert extremist.reasons[0].signal in {"matched", "banked_media"}
    assert "4 of 5 posts" in next(r.detail for r in extremist.reasons if r.signal == "matched")


def test_the_graph_and_evader_signals_add_and_can_be_ablated() -> None:
    detector = AccountRiskDetector()
    stats = _stats(3)
    hood = Neighbourhood(size=5, bad=4)
    both = detector.assess(stats, neighbourhood=hood, evader_score=0.6)
    assert both.score > 0.7
    ablated = detector.assess(stats, neighbourhood=hood, evader_score=0.6,
                              disabled=frozenset({"graph", "evader"}))
    assert ablated.score == 0.0 and ablated.reasons == ()
    lonely = detector.assess(stats, neighbourhood=Neighbourhood(size=1, bad=1))
    assert lonely.score == 0.0


def test_a_burst_of_posts_is_seen_in_the_recent_window() -> None:
    stats = AccountStats()
    for n in range(30):
        stats = stats.with_post(PostObservation(at=T0 + timedelta(minutes=n)))
    assert stats.peak_per_hour() == 30
    assessment = AccountRiskDetector().assess(stats)
    assert any(r.signal == "burst" for r in assessment.reasons)
    assert AccountStats.from_json(stats.to_json()) == stats


def test_strikes_halve_every_ninety_days() -> None:
    strikes = [Strike("TVEC1", T0), Strike("TVEC1", T0), Strike("TVEC7", T0)]
    assert effective_strikes(strikes, now=T0) == 3.0
    assert abs(effective_strikes(strikes, now=T0 + timedelta(days=90)) - 1.5) < 1e-9
    assert effective_strikes(strikes, now=T0 - timedelta(days=1)) == 3.0
