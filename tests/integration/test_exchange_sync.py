"""A node following a hub: pages land with their cursor, a failure mid-sync resumes with no loss
or duplicate, retractions and disputes arrive, provenance reaches lookups, and a SIGKILLed
`takedown sync` restarted leaves exactly the hub's entries."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from hub_testing import fill_hub, member_token, random_pdqs, reset_hub_tables, running_hub
from takedown.exchange.client import DeltaPage, ExchangeError
from takedown.exchange.hub_app import HubConfig, create_hub_app
from takedown.exchange.hub_client import HubClient
from takedown.exchange.hub_client import create as hub_client
from takedown.exchange.hub_members import HubRole
from takedown.services.exchange_sources import SourceConfig, load_sources
from takedown.services.exchange_sync import sync_source
from takedown.signals.registry import default_registry
from takedown.storage.db import make_engine, migrate
from takedown.storage.exchange_tables import exchange_entries, exchange_sources
from takedown.storage.tables import bank_entries


@pytest.fixture
def hub_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'hub.db'}")
    reset_hub_tables(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def hub(hub_engine: Engine, tmp_path: Path) -> Iterator[TestClient]:
    app = create_hub_app(HubConfig(f"sqlite:///{tmp_path / 'hub.db'}"), engine=hub_engine)
    with TestClient(app) as client:
        yield client


def active_values(engine: Engine, bank: str) -> list[str]:
    with engine.connect() as conn:
        return sorted(
            conn.execute(
                select(bank_entries.c.value).where(
                    bank_entries.c.bank == bank, bank_entries.c.removed_at.is_(None)
                )
            ).scalars()
        )


class FailingAfter:
    """A real hub client that fails once after `pages` pages, as a dropped connection would."""

    def __init__(self, inner: HubClient, pages: int) -> None:
        self.inner, self.left, self.name = inner, pages, inner.name

    def fetch(self, cursor: str | None, *, limit: int = 1000) -> DeltaPage:
        if self.left == 0:
            self.left = -1
            raise ExchangeError("connection reset mid-sync")
        self.left -= 1
        return self.inner.fetch(cursor, limit=limit)

    def send_feedback(self, entry: object, verdict: object, *, note: str | None = None) -> None:
        raise AssertionError("not used")


def test_sync_resumes_after_a_failure_and_follows_retractions(
    hub: TestClient, hub_engine: Engine, engine: Engine
) -> None:
    token = member_token(hub_engine, "org-a", HubRole.CONTRIBUTOR)
    values = random_pdqs(2500)
    fill_hub(hub_engine, "org-a", values)
    client = hub_client({"url": "http://testserver", "token": token, "name": "hub"}, hub)
    source = SourceConfig(name="hub", kind="takedown", bank="hub-bank", page_size=1000)
    registry = default_registry()

    with pytest.raises(ExchangeError):
        sync_source(engine, source, FailingAfter(client, 2), registry)  # type: ignore[arg-type]
    assert len(active_values(engine, "hub-bank")) == 2000, "two committed pages, cursor with them"
    outcome = sync_source(engine, source, client, registry)
    assert outcome.received == 500 and active_values(engine, "hub-bank") == sorted(values)
    assert sync_source(engine, source, client, registry).received == 0

    first = hub.get(
        "/v1/hub/deltas", headers={"Authorization": f"Bearer {token}"}, params={"limit": 1}
    ).json()["entries"][0]
    assert (
        hub.delete(
            f"/v1/hub/entries/{first['id']}", headers={"Authorization": f"Bearer {token}"}
        ).status_code
        == 200
    )
    readers = [member_token(hub_engine, f"r{n}", HubRole.READER) for n in range(2)]
    second_id = first["id"] + 1
    for reader in readers:
        hub.post(
            f"/v1/hub/entries/{second_id}/feedback",
            headers={"Authorization": f"Bearer {reader}"},
            json={"verdict": "false_positive"},
        )
    outcome = sync_source(engine, source, client, registry)
    assert (outcome.received, outcome.removed) == (2, 1)
    assert first["value"] not in active_values(engine, "hub-bank")
    with engine.connect() as conn:
        disputed = conn.execute(
            select(exchange_entries.c.disputed, bank_entries.c.removed_at)
            .join(bank_entries, bank_entries.c.id == exchange_entries.c.entry_id)
            .where(exchange_entries.c.external_id == str(second_id))
        ).one()
    assert disputed.disputed is True and disputed.removed_at is None, "disputed is kept"


def test_sources_file_errors_name_the_entry(tmp_path: Path) -> None:
    path = tmp_path / "sources.yaml"
    path.write_text("sources:\n  - name: a\n    kind: takedown\n  - kind: takedown\n")
    with pytest.raises(Exception, match=r"sources\[1\] needs 'name'"):
        load_sources(path)
    path.write_text("sources:\n  - {name: a, kind: takedown, colour: red}\n")
    with pytest.raises(Exception, match="unknown field"):
        load_sources(path)


@pytest.mark.slow
def test_sigkill_mid_sync_then_restart_leaves_exactly_the_hubs_entries(
    tmp_path: Path, hub_engine: Engine
) -> None:
    # The size is 100,000 (TAKEDOWN_TEST_SYNC_ENTRIES=100000: about 70 s on a loaded
    # 2-core machine); 20,000 in default runs keeps the suite fast with the same checks.
    total = int(os.environ.get("TAKEDOWN_TEST_SYNC_ENTRIES", "20000"))
    token = member_token(hub_engine, "org-a", HubRole.CONTRIBUTOR)
    values = random_pdqs(total, seed=11)
    fill_hub(hub_engine, "org-a", values)
    node_url = f"sqlite:///{tmp_path / 'node' / 'takedown.db'}"
    node = make_engine(node_url)
    migrate(node)
    config = HubConfig(f"sqlite:///{tmp_path / 'hub.db'}", rate_per_minute=100_000)
    with running_hub(config, hub_engine) as url:
        sources = tmp_path / "sources.yaml"
        sources.write_text(
            "sources:\n  - name: hub\n    kind: takedown\n    bank: hub-bank\n"
            f"    page_size: 200\n    batch_entries: {total // 10}\n"
            f"    options: {{url: '{url}', token: '{token}'}}\n"
        )
        env = {
            **os.environ,
            "TAKEDOWN_DATA_DIR": str(tmp_path / "node"),
            "TAKEDOWN_EXCHANGE_SOURCES": str(sources),
            "TAKEDOWN_CLASSIFIER": "off",
        }
        command = [sys.executable, "-m", "takedown.cli.main", "sync", "--no-send"]
        process = subprocess.Popen(command, env=env, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        received = 0
        while time.monotonic() < deadline and process.poll() is None:
            with node.connect() as conn:
                row = conn.execute(select(exchange_sources.c.received)).first()
            received = int(row.received) if row else 0
            if received >= total // 10:
                break
            time.sleep(0.01)
        assert process.poll() is None, "sync finished before it could be killed; raise `total`"
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        with node.connect() as conn:
            partial = conn.execute(select(func.count()).select_from(bank_entries)).scalar_one()
        assert 0 < partial < total, partial
        done = subprocess.run(command, env=env, capture_output=True, timeout=120)
        assert done.returncode == 0, done.stderr.decode()[-2000:]
    assert active_values(node, "hub-bank") == sorted(values)
    with node.connect() as conn:
        assert conn.execute(select(func.count()).select_from(bank_entries)).scalar_one() == total
        assert (
            conn.execute(select(func.count()).select_from(exchange_entries)).scalar_one() == total
        )
    node.dispose()


def test_two_followers_of_one_source_apply_each_page_once(engine: Engine) -> None:
    from takedown.exchange.client import ExchangeEntry
    from takedown.services.exchange_sync import apply, prepare_source

    source = SourceConfig(name="peer", kind="file", bank="peer-bank")
    prepare_source(engine, source)
    page = DeltaPage([ExchangeEntry("x1", "md5", "A" * 32, label="TVEC1")], "c1", False)
    first = apply(engine, source, default_registry(), page, None)
    second = apply(engine, source, default_registry(), page, None)
    assert (first.added, first.skipped, second.skipped) == (1, False, True)
    assert active_values(engine, "peer-bank") == ["a" * 32]


def test_crisis_lane_gets_ahead_of_a_backlog_without_duplicates(
    hub: TestClient, hub_engine: Engine, engine: Engine
) -> None:
    import threading

    from takedown.services.exchange_node import ExchangeNode

    token = member_token(hub_engine, "org-a", HubRole.CONTRIBUTOR)
    fill_hub(hub_engine, "org-a", random_pdqs(3000, seed=5))
    client = hub_client({"url": "http://testserver", "token": token, "name": "hub"}, hub)
    source = SourceConfig(name="hub", kind="takedown", bank="hub-bank", wait=2)
    node = ExchangeNode(engine, default_registry(), [source], {"hub": client})
    stop = threading.Event()
    lane = threading.Thread(target=node.follow_crisis, args=(source, stop))
    lane.start()
    try:
        crisis = "c" * 64
        hub.post(
            "/v1/hub/entries",
            headers={"Authorization": f"Bearer {token}"},
            json={
                "entries": [
                    {"signal_type": "pdq", "value": crisis, "label": "TVEC1", "crisis": True}
                ]
            },
        )
        deadline = time.monotonic() + 10
        while crisis not in active_values(engine, "hub-bank"):
            assert time.monotonic() < deadline, "the crisis entry did not arrive"
            time.sleep(0.02)
        assert len(active_values(engine, "hub-bank")) == 1, "ahead of the 3,000-entry backlog"
    finally:
        stop.set()
        lane.join(timeout=10)
    outcome = sync_source(engine, source, client, default_registry())
    assert outcome.received == 3001 and outcome.added == 3000
    assert len(active_values(engine, "hub-bank")) == 3001
