"""The account's data: the profile a platform sends, the behaviour Takedown observed, and the
enforcement state. Validation happens here, once, so storage and the API never see bad input.

Behaviour is kept as running counts plus short bounded windows (recent post times, URLs, media
hashes), not as a list of every post: an account's row stays a few hundred bytes however long
it posts, which is what lets a million accounts fit in memory (bench/accounts.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from takedown.core.content import MAX_ID_LENGTH
from takedown.core.errors import InvalidInput
from takedown.signals.pdq import validate_pdq_hex

MAX_NAME_CHARS = 200
MAX_BIO_CHARS = 2000
WINDOW_POSTS = 64
WINDOW_VALUES = 32
INTERACTION_KINDS = ("follow", "amplify", "reply")


class AccountState(StrEnum):
    """Ordered by severity: enforcement only moves up automatically; people may move it down."""

    ACTIVE = "active"
    WARNED = "warned"
    REVIEW = "review"
    RESTRICTED = "restricted"
    SUSPENDED = "suspended"

    @property
    def severity(self) -> int:
        return list(AccountState).index(self)


def account_id_of(value: object, what: str = "account_id") -> str:
    if isinstance(value, bool) or not isinstance(value, str | int) or str(value) == "":
        raise InvalidInput(f"'{what}' must be a non-empty string")
    text = str(value)
    if len(text) > MAX_ID_LENGTH:
        raise InvalidInput(f"'{what}' is longer than {MAX_ID_LENGTH} characters")
    return text


def parse_time(value: object, what: str) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"'{what}' must be an ISO 8601 timestamp string")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"'{what}' is not an ISO 8601 timestamp: {value[:40]!r}",
                           hint="e.g. 2026-12-02T13:45:00Z") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@dataclass(frozen=True)
class AccountProfile:
    """What the platform says about an account; every field but the id is optional."""

    account_id: str
    display_name: str | None = None
    bio: str | None = None
    avatar_pdq: str | None = None
    created_at: datetime | None = None
    platform: str | None = None

    @classmethod
    def from_json(cls, obj: object, *, avatar_pdq: str | None = None) -> AccountProfile:
        if not isinstance(obj, Mapping):
            raise InvalidInput("an account profile must be a JSON object",
                               hint='e.g. {"account_id": "u1", "display_name": "..."}')
        account_id = account_id_of(obj.get("account_id"))
        texts: dict[str, str | None] = {}
        for name, limit in (("display_name", MAX_NAME_CHARS), ("bio", MAX_BIO_CHARS),
                            ("platform", 64)):
            value = obj.get(name)
            if value is not None and not isinstance(value, str):
                raise InvalidInput(f"account {account_id}: '{name}' must be a string")
            if value is not None and len(value) > limit:
                raise InvalidInput(f"account {account_id}: '{name}' is over {limit} characters")
            texts[name] = value
        pdq = avatar_pdq or obj.get("avatar_pdq")
        if pdq is not None:
            if not isinstance(pdq, str):
                raise InvalidInput(f"account {account_id}: 'avatar_pdq' must be a hex string")
            pdq = validate_pdq_hex(pdq)
        return cls(account_id, texts["display_name"], texts["bio"], pdq,
                   parse_time(obj.get("created_at"), "created_at"), texts["platform"])


@dataclass(frozen=True)
class Interaction:
    """`account_id` follows, amplifies (boosts, retweets) or replies to `target_id`."""

    account_id: str
    target_id: str
    kind: str
    at: datetime

    @classmethod
    def from_json(cls, obj: object, *, now: datetime) -> Interaction:
        if not isinstance(obj, Mapping):
            raise InvalidInput("an interaction must be a JSON object",
                               hint='e.g. {"account_id": "a", "target_id": "b", '
                                    '"kind": "follow"}')
        kind = obj.get("kind")
        if kind not in INTERACTION_KINDS:
            raise InvalidInput(f"unknown interaction kind {kind!r}",
                               hint=f"one of {', '.join(INTERACTION_KINDS)}")
        source = account_id_of(obj.get("account_id"))
        target = account_id_of(obj.get("target_id"), "target_id")
        if source == target:
            raise InvalidInput(f"account {source} cannot interact with itself")
        return cls(source, target, str(kind), parse_time(obj.get("at"), "at") or now)


@dataclass(frozen=True)
class PostObservation:
    """What one decided item tells us about its author (derived from findings and signals)."""

    at: datetime
    matched: bool = False
    flagged: bool = False
    banked_media: bool = False
    propaganda_link: bool = False
    enforced: bool = False
    urls: tuple[str, ...] = ()
    media: tuple[str, ...] = ()


def _window(values: list[Any], new: tuple[Any, ...] | list[Any], size: int) -> list[Any]:
    merged = [v for v in values if v not in new] + list(new)
    return merged[-size:]


@dataclass(frozen=True)
class AccountStats:
    """Running behaviour counts; JSON round-trips through the accounts.stats column."""

    posts: int = 0
    matched: int = 0
    flagged: int = 0
    banked_media: int = 0
    propaganda_links: int = 0
    enforced: int = 0
    recent: tuple[float, ...] = ()
    urls: tuple[str, ...] = ()
    media: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    def with_post(self, post: PostObservation) -> AccountStats:
        return replace(
            self,
            posts=self.posts + 1,
            matched=self.matched + post.matched,
            flagged=self.flagged + post.flagged,
            banked_media=self.banked_media + post.banked_media,
            propaganda_links=self.propaganda_links + post.propaganda_link,
            enforced=self.enforced + post.enforced,
            recent=tuple(sorted([*self.recent, post.at.timestamp()])[-WINDOW_POSTS:]),
            urls=tuple(_window(list(self.urls), post.urls, WINDOW_VALUES)),
            media=tuple(_window(list(self.media), post.media, WINDOW_VALUES)),
        )

    def peak_per_hour(self) -> int:
        """The most posts inside any one-hour window of the recent posts (a burst)."""
        times = self.recent
        best, start = 0, 0
        for end, moment in enumerate(times):
            while moment - times[start] > 3600:
                start += 1
            best = max(best, end - start + 1)
        return best

    def to_json(self) -> dict[str, Any]:
        return {"posts": self.posts, "matched": self.matched, "flagged": self.flagged,
                "banked_media": self.banked_media, "propaganda_links": self.propaganda_links,
                "enforced": self.enforced, "recent": list(self.recent), "urls": list(self.urls),
                "media": list(self.media), **({"extra": self.extra} if self.extra else {})}

    @classmethod
    def from_json(cls, obj: Mapping[str, Any] | None) -> AccountStats:
        obj = obj or {}
        return cls(
            posts=int(obj.get("posts", 0)), matched=int(obj.get("matched", 0)),
            flagged=int(obj.get("flagged", 0)), banked_media=int(obj.get("banked_media", 0)),
            propaganda_links=int(obj.get("propaganda_links", 0)),
            enforced=int(obj.get("enforced", 0)),
            recent=tuple(float(t) for t in obj.get("recent", ())),
            urls=tuple(str(u) for u in obj.get("urls", ())),
            media=tuple(str(m) for m in obj.get("media", ())),
            extra=dict(obj.get("extra") or {}),
        )
