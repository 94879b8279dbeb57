"""Helpers shared by test modules (a uniquely named module: several folders have a conftest)."""

from __future__ import annotations

import os
import socket

import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"
PG_ADMIN_URL = os.environ.get(
    "TAKEDOWN_TEST_PG_ADMIN", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def need_service(name: str, host: str, port: int) -> None:
    """Services skip where absent and fail on CI, so CI never goes green without them."""
    if _reachable(host, port):
        return
    message = f"{name} is not reachable on {host}:{port}"
    if IN_CI:
        pytest.fail(f"{message} (CI=true: services must be running)")
    pytest.skip(message)


def need_module(name: str, hint: str) -> None:
    """Optional extras (vPDQ needs FFmpeg headers to build) skip where absent, fail on CI."""
    try:
        __import__(name)
    except ImportError:
        message = f"{name} is not installed ({hint})"
        if IN_CI:
            pytest.fail(f"{message}; CI=true installs every extra")
        pytest.skip(message)
