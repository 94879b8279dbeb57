"""Helpers shared by test modules (a uniquely named module: several folders have a conftest)."""

from __future__ import annotations

import os

import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"


def need_module(name: str, hint: str) -> None:
    """Optional extras (vPDQ needs FFmpeg headers to build) skip where absent, fail on CI."""
    try:
        __import__(name)
    except ImportError:
        message = f"{name} is not installed ({hint})"
        if IN_CI:
            pytest.fail(f"{message}; CI=true installs every extra")
        pytest.skip(message)
