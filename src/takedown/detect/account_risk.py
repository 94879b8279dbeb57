"""The account-risk detector: one number in [0, 1] from an account's behaviour, with reasons.

Each signal becomes a contribution in [0, 1] and they combine as a noisy-OR,
`risk = 1 − Π(1 − cᵢ)`, so independent evidence adds up while no single weak signal dominates,
and every reason can be shown beside its share. The content signals are *shares* of the
account's posts (smoothed by a prior of `PRIOR_POSTS` clean posts), not counts: a news
organisation that has posted three banked stills among hundreds of reports stays low, an account
whose few posts are mostly propaganda does not.

    signal             contribution
    matched            share of posts that matched a TVEC hash bank        × 1.6
    flagged            share the classifier rated violating with confidence × 1.0
    banked_media       share reusing banked media                          × 1.6
    propaganda_links   share linking into banked propaganda domains/URLs    × 1.6
    burst              posts in the busiest hour beyond BURST_FREE          × 0.02 each, ≤ 0.2
    graph              share of interaction neighbours suspended or risky   × 0.6 (≥ 2 of them)
    evader             the best ban-evader link score                       × 1.0

The weights are the defaults the simulator was tuned on (docs/simulation.md); `RiskWeights`
lets an operator change them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from takedown.accounts.model import AccountStats

VERSION = "account-risk@1"
PRIOR_POSTS = 2
BURST_FREE = 10


@dataclass(frozen=True)
class RiskWeights:
    matched: float = 1.6
    flagged: float = 1.0
    banked_media: float = 1.6
    propaganda_links: float = 1.6
    burst: float = 0.02
    burst_cap: float = 0.2
    graph: float = 0.6
    evader: float = 1.0


@dataclass(frozen=True)
class Neighbourhood:
    """The accounts this one follows, amplifies or replies to, and those amplifying it."""

    size: int = 0
    bad: int = 0

    @property
    def share(self) -> float:
        return self.bad / self.size if self.size else 0.0


@dataclass(frozen=True)
class Reason:
    signal: str
    contribution: float
    detail: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class RiskAssessment:
    score: float
    reasons: tuple[Reason, ...] = field(default_factory=tuple)
    detector: str = VERSION

    def to_json(self) -> dict[str, Any]:
        return {"score": self.score, "detector": self.detector,
                "reasons": [r.to_json() for r in self.reasons]}


class AccountRiskDetector:
    """Pure and cheap (no I/O): the service feeds it stored stats; the benchmark feeds it many."""

    def __init__(self, weights: RiskWeights | None = None) -> None:
        self.weights = weights or RiskWeights()

    def assess(self, stats: AccountStats, *, neighbourhood: Neighbourhood | None = None,
               evader_score: float = 0.0, disabled: frozenset[str] = frozenset()
               ) -> RiskAssessment:
        """`disabled` names signals to leave out (the simulator's ablation)."""
        w = self.weights
        base = stats.posts + PRIOR_POSTS
        parts: list[Reason] = []

        def add(signal: str, value: float, detail: str) -> None:
            value = max(0.0, min(1.0, value))
            if value > 0 and signal not in disabled:
                parts.append(Reason(signal, round(value, 4), detail))

        add("matched", w.matched * stats.matched / base,
            f"{stats.matched} of {stats.posts} posts matched a TVEC hash bank")
        add("flagged", w.flagged * stats.flagged / base,
            f"{stats.flagged} of {stats.posts} posts rated violating by the classifier")
        add("banked_media", w.banked_media * stats.banked_media / base,
            f"{stats.banked_media} posts reused banked media")
        add("propaganda_links", w.propaganda_links * stats.propaganda_links / base,
            f"{stats.propaganda_links} posts linked to banked propaganda URLs or domains")
        peak = stats.peak_per_hour()
        add("burst", min(w.burst_cap, w.burst * max(0, peak - BURST_FREE)),
            f"{peak} posts within one hour")
        hood = neighbourhood or Neighbourhood()
        if hood.size >= 2:
            add("graph", w.graph * hood.share,
                f"{hood.bad} of {hood.size} accounts it interacts with are suspended or risky")
        add("evader", w.evader * evader_score,
            f"resembles a suspended account (link score {evader_score:.2f})")
        remaining = 1.0
        for reason in parts:
            remaining *= 1.0 - reason.contribution
        ordered = tuple(sorted(parts, key=lambda r: (-r.contribution, r.signal)))
        return RiskAssessment(round(1.0 - remaining, 4), ordered)
