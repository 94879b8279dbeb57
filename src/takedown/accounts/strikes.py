"""Strikes: one per enforced item decision, decaying with a half-life, so an old mistake
fades while a run of recent removals adds up. The policy reads the decayed total."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

STRIKE_HALF_LIFE_DAYS = 90.0
"""Three months: long enough that a burst of violations is not forgiven within a campaign,
short enough that an account's record recovers within a year of good behaviour."""


@dataclass(frozen=True)
class Strike:
    label: str
    at: datetime
    weight: float = 1.0
    reason: str = ""


def decayed(strike: Strike, now: datetime, half_life_days: float = STRIKE_HALF_LIFE_DAYS) -> float:
    age_days = max(0.0, (now - strike.at).total_seconds() / 86400.0)
    return float(strike.weight * 0.5 ** (age_days / half_life_days))


def effective_strikes(strikes: Iterable[Strike], *, now: datetime,
                      half_life_days: float = STRIKE_HALF_LIFE_DAYS) -> float:
    """The decayed sum: 3 strikes today count 3, the same strikes 90 days ago count 1.5."""
    return sum(decayed(s, now, half_life_days) for s in strikes)
