"""The one-hour clock of a TCO removal order (Regulation (EU) 2021/784, Art 3), as pure rules.

Art 3(3): act within one hour of receipt. Art 3(7) and (8): when the provider cannot comply
because of force majeure or de facto impossibility not attributable to it, or because the order
has manifest errors or lacks information, it tells the authority without undue delay and the
hour starts again once the reason has ceased (or the clarification arrives). So a declared
reason stops the clock and resuming gives a fresh full hour from that moment; nothing here
shortens it. Warnings fire once each at 30 and 50 minutes into the running hour, and once more
when it is over.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from takedown.core.errors import InvalidInput

WINDOW = timedelta(hours=1)
WARNING_MINUTES = (30, 50)
OVERDUE = 60

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class UnmetReason(StrEnum):
    """Why an order cannot be met yet (TCO Art 3(7) force majeure / impossibility, Art 3(8)
    manifest errors / missing information; the Annex III form)."""

    FORCE_MAJEURE = "force_majeure"
    TECHNICAL_IMPOSSIBILITY = "technical_impossibility"
    MANIFEST_ERROR = "manifest_error"
    MISSING_INFORMATION = "missing_information"

    @classmethod
    def parse(cls, value: str) -> UnmetReason:
        try:
            return cls(value)
        except ValueError:
            raise InvalidInput(
                f"unknown reason {value!r}", hint=f"use one of: {', '.join(r.value for r in cls)}"
            ) from None


class OrderState(StrEnum):
    RECEIVED = "received"  # the clock runs
    PAUSED = "paused"  # a reason was declared; the clock waits for it to cease
    ACTIONED = "actioned"
    CONFIRMED = "confirmed"  # the provider told the authority (Annex II)


@dataclass(frozen=True)
class ClockView:
    """What the reviewer sees: how much of the hour is left, and whether it is running."""

    running: bool
    remaining_seconds: int | None
    overdue: bool

    def label(self) -> str:
        if not self.running or self.remaining_seconds is None:
            return "paused"
        if self.overdue:
            return f"overdue by {_mmss(-self.remaining_seconds)}"
        return f"{_mmss(self.remaining_seconds)} left"


def _mmss(seconds: int) -> str:
    minutes, secs = divmod(abs(seconds), 60)
    return f"{minutes}:{secs:02d}"


def deadline_from(start: datetime) -> datetime:
    return start + WINDOW


def view(state: str, deadline: datetime | None, now: datetime) -> ClockView:
    if state != OrderState.RECEIVED.value or deadline is None:
        return ClockView(False, None, False)
    remaining = int((deadline - now).total_seconds())
    return ClockView(True, remaining, remaining < 0)


def due_warnings(deadline: datetime, now: datetime, warned: int) -> list[int]:
    """The warning minutes (30, 50, then 60 = overdue) reached since the last one sent."""
    elapsed = now - (deadline - WINDOW)
    return [
        m for m in (*WARNING_MINUTES, OVERDUE) if m > warned and elapsed >= timedelta(minutes=m)
    ]


def within_deadline(deadline: datetime | None, actioned_at: datetime) -> bool:
    return deadline is not None and actioned_at <= deadline
