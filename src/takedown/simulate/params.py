"""Simulation parameters, with the published figures they come from (docs/simulation.md).

Where a figure is published we use it (scaled down: the simulator runs on a laptop); where none
is, the value is an assumption and says so. Every field is a `takedown simulate` flag.

- Berger & Morgan (2015), *The ISIS Twitter Census* (Brookings): 46,000–70,000 supporter
  accounts; on average about 1,000 followers each; about three quarters chose Arabic as their
  language and one fifth English; a small set of "hyperactive" users, each behind many accounts,
  drove much of the activity and came back under new names after suspension.
- Twitter Transparency Reports (2016–2017): 636,248 accounts suspended for promoting terrorism
  from August 2015 to December 2016; in H2 2016, 74% of 376,890 suspensions came from
  internal, proprietary spam-fighting tools; in H1 2017, 95% of 299,649, three quarters of them
  before the account's first tweet.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any


@dataclass(frozen=True)
class SimParams:
    seed: int = 0
    days: float = 4.0
    tick_minutes: int = 30
    ordinary: int = 80
    news_orgs: int = 5
    counter_speech: int = 6
    extremist_networks: int = 3
    extremists_per_network: int = 6
    """Census ratio ≈ 46k–70k supporters among hundreds of millions of users; we over-sample
    extremists (~20% of accounts) so a short run has enough of them to measure."""
    ordinary_posts_per_day: float = 1.5
    news_posts_per_day: float = 8.0
    counter_posts_per_day: float = 3.0
    extremist_posts_per_day: float = 6.0
    """Assumption: supporters post several times a day (the Census describes bursty, heavy
    posting by a core of users); varied in the parameter sweep."""
    extremist_arabic_share: float = 0.75
    """Census: about three quarters of supporter accounts used Arabic."""
    propaganda_share: float = 0.4
    banked_media_share: float = 0.15
    propaganda_link_share: float = 0.1
    news_still_share: float = 0.05
    counter_quote_share: float = 0.3
    banked_image_fraction: float = 0.6
    """Share of the propaganda images already in the hash bank (the rest are new)."""
    banked_domain_fraction: float = 0.6
    report_probability: float = 0.04
    """Assumption: chance that a propaganda post is reported by a user; no platform publishes
    it. It sets how often a user report beats Takedown, i.e. the proactive rate's baseline."""
    report_delay_hours: float = 6.0
    false_report_probability: float = 0.003
    return_probability: float = 0.9
    """Assumption: Census — suspended hyperactive users very often come back."""
    return_pause_hours: tuple[float, float] = (6.0, 72.0)
    follow_network_share: float = 0.7
    amplify_per_day: float = 3.0
    reviewers: bool = True
    """The platform's own moderators work Takedown's account queue (they know the truth, with
    `reviewer_accuracy`); off = automation alone."""
    review_delay_hours: float = 3.0
    reviewer_accuracy: float = 0.97
    classifier: bool = True
    disabled_signals: tuple[str, ...] = ()
    banks: bool = True

    def with_(self, **changes: Any) -> SimParams:
        return replace(self, **changes)

    def to_json(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}
