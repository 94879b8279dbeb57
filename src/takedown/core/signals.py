"""Signals: canonical strings extracted from content, the unit that banks store and match."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Signal:
    """`type` names a SignalType (e.g. `md5`, `pdq`); `value` is its canonical string form."""

    type: str
    value: str
    meta: dict[str, Any] = field(default_factory=dict, compare=False)
