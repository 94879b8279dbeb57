"""What the accountability commands share: an engine and the Accountability service without the
whole runtime (no classifier, no workers), and date/time arguments."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from takedown.cli._common import settings_from_env
from takedown.core.errors import InvalidInput
from takedown.services.accountability import Accountability
from takedown.storage.db import make_engine, migrate


@contextmanager
def accountability() -> Iterator[Accountability]:
    settings = settings_from_env()
    engine = make_engine(settings.effective_database_url)
    try:
        migrate(engine)
        yield Accountability(engine, settings)
    finally:
        engine.dispose()


def moment(value: str) -> datetime:
    """An ISO 8601 time with a zone (Z allowed), for --received-at and --until."""
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"{value!r} is not an ISO 8601 time") from None
    if parsed.tzinfo is None:
        raise InvalidInput(f"{value!r} needs a time zone, e.g. 2026-01-01T10:00:00Z")
    return parsed
