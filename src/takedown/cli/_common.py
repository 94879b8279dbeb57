"""Shared plumbing for CLI commands: settings from the environment, a runtime, JSON output."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

from takedown.config import Settings

if TYPE_CHECKING:  # imported when used: commands without a runtime (sync, hub) start faster
    from takedown.services.runtime import Runtime


def settings_from_env() -> Settings:
    return Settings.from_env()


def open_runtime(settings: Settings | None = None) -> Runtime:
    from takedown.services.runtime import Runtime

    return Runtime(settings or settings_from_env())


def emit(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()
