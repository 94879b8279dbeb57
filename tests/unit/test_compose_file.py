"""deploy/docker-compose.yml is checked without Docker (CI has no daemon): it must parse, every
`takedown` command in it must be one the CLI accepts, every TAKEDOWN_* variable one the
settings read (with the values given there), and every dependency a service of the file.
`docker compose config` does the same checks where the compose plugin is installed."""

from __future__ import annotations

import inspect
import re
from pathlib import Path
from typing import Any

import yaml

from takedown.cli.main import build_parser
from takedown.config import Settings

COMPOSE = Path(__file__).resolve().parents[2] / "deploy" / "docker-compose.yml"


def _services() -> dict[str, Any]:
    document = yaml.safe_load(COMPOSE.read_text())  # `<<` merges as compose does
    return dict(document["services"])


def _defaults(value: object) -> str:
    """`${VAR:-default}` as compose substitutes it with VAR unset."""
    return re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", str(value))


def test_every_takedown_command_is_one_the_cli_accepts() -> None:
    parser = build_parser()
    commands = {name: s["command"] for name, s in _services().items()
                if s.get("command", [""])[0] == "takedown"}
    assert {"api", "worker", "pdq-snapshot"} <= set(commands)
    for name, command in commands.items():
        args = parser.parse_args(command[1:])
        assert callable(args.func), name


def test_every_setting_is_read_and_valid() -> None:
    read_by_settings = inspect.getsource(Settings.from_env)
    for name, service in _services().items():
        env = {k: _defaults(v) for k, v in (service.get("environment") or {}).items()}
        ours = {k: v for k, v in env.items() if k.startswith("TAKEDOWN_")}
        if service.get("command", [""])[0] != "takedown":
            assert not ours, name
            continue
        for key in ours:
            assert f'"{key}"' in read_by_settings, f"{name}: {key} is not a setting"
        settings = Settings.from_env(ours)
        assert settings.database_url and settings.database_url.startswith("postgresql://")
        assert settings.queue_url and settings.queue_url.startswith("redis://")
        assert settings.effective_pdq_index_file == Path("/index/pdq-index.tdx")
    snapshot = Settings.from_env({k: _defaults(v) for k, v in
                                  _services()["pdq-snapshot"]["environment"].items()})
    assert snapshot.pdq_snapshot_seconds > 0


def test_dependencies_and_volumes_exist() -> None:
    document = yaml.safe_load(COMPOSE.read_text())
    services = document["services"]
    for name, service in services.items():
        for dependency in service.get("depends_on", {}):
            assert dependency in services, f"{name} depends on unknown {dependency}"
            assert "healthcheck" in services[dependency], dependency
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            assert source in document["volumes"], f"{name}: volume {source} is not declared"
