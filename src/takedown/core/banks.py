"""Banks: named, labelled lists of signals (hash lists) that detection matches against."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from takedown.core.taxonomy import TvecLabel


class BankKind(StrEnum):
    """A `block` bank produces findings; an `allow` bank suppresses them (known news footage)."""

    BLOCK = "block"
    ALLOW = "allow"


@dataclass(frozen=True)
class Bank:
    name: str
    label: TvecLabel
    severity: int = 3
    source: str = "local"
    enabled: bool = True
    kind: BankKind = BankKind.BLOCK
    thresholds: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class BankEntry:
    entry_id: int
    bank: str
    signal_type: str
    value: str
    note: str | None = None
