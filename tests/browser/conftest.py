"""Browser tests: the app served by uvicorn on loopback, driven by Debian's Chromium through
Playwright. Without /usr/bin/chromium they skip, except with CI=true, where they fail."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from takedown.api.app import create_app
from takedown.config import Settings
from takedown.core.content import Submission
from takedown.core.findings import Finding
from takedown.core.signals import Signal
from takedown.services.runtime import Runtime
from takedown.storage.keys import Role, create_key

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
IN_CI = os.environ.get("CI", "").lower() == "true"


class PhraseDetector:
    """A small, deterministic text detector (Detector protocol) standing in for the trained
    classifier, so the UI's classifier score and evidence highlighting can be checked exactly."""

    name = "phrases"
    version = "1"
    phrases = ("join the fight", "demo recruitment")

    def detect(self, submission: Submission, signals: Sequence[Signal] = ()) -> list[Finding]:
        text = (submission.text or "").lower()
        spans = [
            {"start": at, "end": at + len(p), "text": submission.text[at : at + len(p)]}
            for p in self.phrases
            if submission.text and (at := text.find(p)) >= 0
        ]
        if not spans:
            return []
        return [
            Finding(
                detector=f"{self.name}@{self.version}",
                label="TVEC6",
                score=0.95,
                evidence={"terms": [{"term": s["text"].lower()} for s in spans], "spans": spans},
            )
        ]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LiveServer:
    url: str
    app: Any

    def key(self, role: Role, name: str) -> str:
        with self.app.state.runtime.engine.begin() as conn:
            return create_key(conn, role, name=name)


@pytest.fixture
def live_server(tmp_path: Path, webhook_sink: Any) -> Iterator[LiveServer]:
    settings = Settings(
        data_dir=tmp_path / "data",
        webhook_urls=(webhook_sink.url,),
        webhook_secret="browser-secret",
        webhook_backoff_seconds=0.05,
        lease_seconds=5,
        classifier=False,  # the phrase detector gives evidence the assertions can predict
    )
    app = create_app(settings, runtime=Runtime(settings, extra_detectors=[PhraseDetector()]))
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    yield LiveServer(f"http://127.0.0.1:{port}", app)
    server.should_exit = True
    thread.join(timeout=15)


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        if IN_CI:
            pytest.fail(f"{CHROMIUM} is missing (CI=true: install Debian's chromium)")
        pytest.skip(f"{CHROMIUM} is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def screenshots() -> Path | None:
    """Where to write documentation screenshots (TAKEDOWN_SCREENSHOTS=docs/img), else None."""
    target = os.environ.get("TAKEDOWN_SCREENSHOTS")
    if not target:
        return None
    path = Path(target)
    path.mkdir(parents=True, exist_ok=True)
    return path
