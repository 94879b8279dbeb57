"""The hub and sync commands: a member's token is printed once and works, bad input exits 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from takedown.cli.main import main
from takedown.exchange.client import default_exchange_registry
from takedown.exchange.hub_app import HubConfig, create_hub_app


def test_member_add_prints_a_working_token_and_refuses_bad_roles(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TAKEDOWN_DATA_DIR", str(tmp_path))
    assert main(["hub", "member", "add", "org-a", "--role", "contributor", "--json"]) == 0
    token = json.loads(capsys.readouterr().out)["token"]
    assert main(["hub", "member", "add", "org-b", "--role", "boss"]) == 2
    assert "unknown role 'boss'" in capsys.readouterr().err
    assert main(["hub", "member", "add", "org-a"]) == 4, "names are unique"
    app = create_hub_app(HubConfig(f"sqlite:///{tmp_path / 'hub.db'}"))
    with TestClient(app) as hub:
        sent = hub.post(
            "/v1/hub/entries",
            headers={"Authorization": f"Bearer {token}"},
            json={"entries": [{"signal_type": "md5", "value": "b" * 32, "label": "TVEC1"}]},
        )
        assert sent.status_code == 201, sent.text


def test_sync_without_sources_or_with_a_bad_file_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TAKEDOWN_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("TAKEDOWN_EXCHANGE_SOURCES", raising=False)
    assert main(["sync"]) == 2
    assert "TAKEDOWN_EXCHANGE_SOURCES" in capsys.readouterr().err
    bad = tmp_path / "sources.yaml"
    bad.write_text("sources:\n  - {name: hub, kind: nosuch}\n")
    monkeypatch.setenv("TAKEDOWN_EXCHANGE_SOURCES", str(bad))
    assert main(["sync"]) == 3
    assert "unknown exchange kind 'nosuch'" in capsys.readouterr().err


def test_the_hub_client_is_registered_as_the_takedown_exchange() -> None:
    assert "takedown" in default_exchange_registry().kinds()
