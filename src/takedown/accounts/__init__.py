"""Accounts as first-class entities: profiles, behaviour statistics, strikes with decay and the
ban-evader index. Pure building blocks; storage and orchestration live in storage/ and
services/accounts.py, the risk detector in detect/account_risk.py.

    profile = AccountProfile.from_json({"account_id": "u1", "display_name": "...", ...})
    stats = AccountStats().with_post(observation)      # after each decided item
    effective_strikes(strikes, now=...)               # decayed count
    index = EvaderIndex(); index.add(fingerprint); index.links(candidate)   # → [EvaderLink]
"""

from takedown.accounts.evaders import EvaderIndex, EvaderLink, Fingerprint
from takedown.accounts.model import (
    INTERACTION_KINDS,
    AccountProfile,
    AccountState,
    AccountStats,
    Interaction,
    PostObservation,
)
from takedown.accounts.strikes import STRIKE_HALF_LIFE_DAYS, Strike, effective_strikes

__all__ = [
    "INTERACTION_KINDS",
    "STRIKE_HALF_LIFE_DAYS",
    "AccountProfile",
    "AccountState",
    "AccountStats",
    "EvaderIndex",
    "EvaderLink",
    "Fingerprint",
    "Interaction",
    "PostObservation",
    "Strike",
    "effective_strikes",
]
