"""The policy Takedown ships with, loaded from the package so it works without any config."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

from takedown.policy.loader import parse_policy
from takedown.policy.model import Policy

DEFAULT_POLICY_FILE = "default.yaml"


@lru_cache(maxsize=1)
def load_default_policy() -> Policy:
    """Parse and validate the shipped default policy (cached: a Policy is immutable)."""
    text = resources.files("takedown.policy").joinpath(DEFAULT_POLICY_FILE).read_text("utf-8")
    return parse_policy(text, source=f"takedown/policy/{DEFAULT_POLICY_FILE}")
