"""Operations: webhook secrets never written down, capped backoff with prompt delivery after an
outage, replay of dead deliveries, key listing and revocation by id, demo keys reused across
starts, and a scan that survives a line of invalid UTF-8."""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, func, select

from takedown.actions.webhook import WebhookSender, next_retry
from takedown.cli.main import main
from takedown.config import Settings
from takedown.core.redact import install_log_redaction, redact_text, redact_url
from takedown.services.delivery import Deliverer
from takedown.services.demo import load_demo
from takedown.services.runtime import Runtime
from takedown.storage import outbox
from takedown.storage.ledger import append_event, iter_events
from takedown.storage.tables import api_keys
from takedown.storage.tables import outbox as outbox_table

TOKEN = "s3cr3t-T0KEN-value"


class FlakySink:
    """A webhook receiver on loopback that answers 503 while `down` is set."""

    def __init__(self) -> None:
        import http.server

        self.down = threading.Event()
        self.received: list[tuple[float, str]] = []
        sink = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if not sink.down.is_set():
                    sink.received.append((time.monotonic(), self.headers["Takedown-Id"]))
                self.send_response(503 if sink.down.is_set() else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                return

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook?token={TOKEN}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def sink() -> Iterator[FlakySink]:
    server = FlakySink()
    yield server
    server.close()


def test_redaction_masks_tokens_passwords_and_keys() -> None:
    text = (
        "POST https://hooks.example/x?id=1&token=abc123 failed; "
        "https://user:hunter2@db.example/; key tdk_AbCdEfGh12345678; Bearer xyzxyzxyzxyz"
    )
    redacted = redact_text(text)
    for secret in ("abc123", "hunter2", "tdk_AbCdEfGh12345678", "xyzxyzxyzxyz"):
        assert secret not in redacted
    assert "id=1" in redacted and "hooks.example/x" in redacted
    assert redact_url("https://u:p@h.example:8443/p?a=1&token=2") == (
        "https://h.example:8443/p?a=***&token=***"
    )


def test_a_webhook_token_never_reaches_the_outbox_error_the_ledger_or_the_logs(
    engine: Engine, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    install_log_redaction()
    target = f"http://127.0.0.1:9/hook?token={TOKEN}"
    with engine.begin() as conn:
        outbox.enqueue(conn, key="t-1", target=target, topic="decision", payload={})
        append_event(conn, "note", "x", {"url": target, "pasted": "tdk_" + "a" * 30})
    with httpx.Client(timeout=1) as client, caplog.at_level(logging.DEBUG):
        deliverer = Deliverer(
            engine, WebhookSender(client, "k"), settings.with_(webhook_max_attempts=1)
        )
        deliverer.run_once()
        logging.getLogger("takedown.test").warning("delivery to %s failed", target)
    with engine.connect() as conn:
        error = conn.execute(select(outbox_table.c.last_error)).scalar_one()
        ledger = json.dumps([e.payload for e in iter_events(conn)])
    assert "127.0.0.1:9/hook" in error and TOKEN not in error
    with engine.connect() as conn:
        assert "webhook.dead" in [e.type for e in iter_events(conn)]
    assert TOKEN not in ledger and "a" * 30 not in ledger
    assert TOKEN not in caplog.text and "delivery to" in caplog.text


def test_backoff_is_capped_so_a_long_outage_costs_seconds_after_recovery() -> None:
    settings = Settings()
    now = datetime(2026, 1, 1, tzinfo=UTC)
    waited, attempts, rng = 0.0, 0, random.Random(1)
    while waited < 120:
        attempts += 1
        retry = next_retry(
            now,
            attempts,
            base_seconds=settings.webhook_backoff_seconds,
            max_attempts=settings.webhook_max_attempts,
            max_seconds=settings.webhook_max_backoff_seconds,
            rng=rng,
        )
        assert retry is not None, "a 2-minute outage must not exhaust the attempts"
        delay = (retry - now).total_seconds()
        assert delay <= settings.webhook_max_backoff_seconds
        waited += delay
    assert settings.webhook_max_backoff_seconds <= 10


def test_after_an_outage_every_waiting_message_is_delivered_within_seconds(
    engine: Engine, settings: Settings, sink: FlakySink
) -> None:
    """Time-compressed outage: the cap is 0.5 s here (10 s by default), the outage 3 s."""
    sink.down.set()
    with engine.begin() as conn:
        for n in range(20):
            outbox.enqueue(conn, key=f"o-{n}", target=sink.url, topic="decision", payload={})
    fast = settings.with_(webhook_backoff_seconds=0.05, webhook_max_backoff_seconds=0.5)
    stop, wake = threading.Event(), threading.Event()
    with httpx.Client(timeout=2) as client:
        deliverer = Deliverer(engine, WebhookSender(client, "k"), fast)
        thread = threading.Thread(
            target=deliverer.run_forever, args=(stop, wake), kwargs={"idle": 0.05}, daemon=True
        )
        thread.start()
        time.sleep(3)  # the outage being simulated, not a wait for a result
        sink.down.clear()
        recovered = time.monotonic()
        deadline = recovered + 30
        while len({key for _, key in sink.received}) < 20 and time.monotonic() < deadline:
            time.sleep(0.05)
        stop.set()
        wake.set()
        thread.join(timeout=10)
    assert len({key for _, key in sink.received}) == 20
    assert max(at for at, _ in sink.received) - recovered < 3.0
    with engine.connect() as conn:
        assert outbox.counts(conn)["delivered"] == 20


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str) -> str:
    monkeypatch.setenv("TAKEDOWN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TAKEDOWN_DATABASE_URL", database_url)
    monkeypatch.setenv("TAKEDOWN_CLASSIFIER", "off")
    return database_url


def test_dead_deliveries_are_listed_and_replayed(
    cli_env: str, engine: Engine, settings: Settings, sink: FlakySink,
    capsys: pytest.CaptureFixture[str],
) -> None:
    sink.down.set()
    with engine.begin() as conn:
        outbox.enqueue(conn, key="r-1", target=sink.url, topic="decision", payload={"a": 1})
    with httpx.Client(timeout=2) as client:
        once = settings.with_(webhook_max_attempts=1)
        dying = Deliverer(engine, WebhookSender(client, "k"), once)
        dying.run_once()
    capsys.readouterr()
    assert main(["webhooks", "dead"]) == 0
    dead = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [d["key"] for d in dead] == ["r-1"] and TOKEN not in json.dumps(dead)
    sink.down.clear()
    assert main(["webhooks", "replay", "--now"]) == 0
    assert [key for _, key in sink.received] == ["r-1"]
    with engine.connect() as conn:
        assert outbox.counts(conn) == {"total": 1, "delivered": 1, "dead": 0, "pending": 0}
        assert "webhook.replayed" in [e.type for e in iter_events(conn)]


def test_keys_are_created_with_their_id_listed_and_revoked_by_id(
    cli_env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["keys", "create", "--role", "integrator", "--name", "app", "--tenant", "acme"]
    assert main(args) == 0
    created = capsys.readouterr()
    key = created.out.strip()
    key_id = int(created.err.split("created key id ")[1].split()[0])
    assert main(["keys", "list", "--json"]) == 0
    listed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(k["id"], k["tenant"], k["revoked_at"]) for k in listed] == [(key_id, "acme", None)]
    assert key not in json.dumps(listed) and key[4:16] not in json.dumps(listed)
    assert main(["keys", "revoke", str(key_id)]) == 0
    assert main(["keys", "list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[0])["revoked_at"] is not None
    assert main(["keys", "revoke", str(key_id)]) == 3


def test_demo_keys_are_reused_on_the_next_start(settings: Settings) -> None:
    runtime = Runtime(settings.with_(classifier=False))
    try:
        first = load_demo(runtime).keys
        second = load_demo(runtime).keys
        with runtime.engine.connect() as conn:
            count = conn.execute(select(func.count()).select_from(api_keys)).scalar_one()
        assert first == second and count == len(first)
        mode = (settings.data_dir / "demo" / "keys.json").stat().st_mode & 0o777
        assert mode == 0o600
        with runtime.engine.begin() as conn:
            conn.execute(api_keys.update().values(revoked_at=datetime.now(UTC)))
        third = load_demo(runtime).keys
        assert set(third.values()).isdisjoint(first.values())
    finally:
        runtime.close()


def test_scan_reports_a_line_of_invalid_utf8_and_scans_the_rest(
    cli_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = tmp_path / "in.jsonl"
    lines.write_bytes(
        b'{"id":"a","text":"hello"}\n{"id":"b","text":"\xff\xfe"}\n{"id":"c","text":"bye"}\n'
    )
    assert main(["scan", str(lines)]) == 2
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {r.get("id") for r in rows} >= {"a", "c"}
    bad = [r for r in rows if r.get("line") == 2]
    assert bad and "UTF-8" in bad[0]["error"]


def test_scan_says_when_it_sends_no_webhooks(
    cli_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = tmp_path / "one.jsonl"
    lines.write_text('{"id":"w1","text":"hello"}\n')
    assert main(["scan", str(lines)]) == 0
    assert "send no webhooks" in capsys.readouterr().err
