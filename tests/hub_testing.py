"""Helpers for hub tests: a hub database per backend and a real hub server on a loopback port."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from sqlalchemy import Engine, text

from takedown.exchange.hub_app import HubConfig, create_hub_app
from takedown.exchange.hub_members import HubRole, add_member
from takedown.exchange.hub_schema import VERSION_TABLE, migrate_hub
from takedown.exchange.hub_tables import hub_entries, hub_feedback, hub_members


def drop_hub_tables(engine: Engine) -> None:
    """Drop the hub's own tables (the shared `events` table is the node fixtures' business), so
    a node database shared by the session's tests holds only the node schema afterwards."""
    for table in (hub_feedback, hub_entries, hub_members):
        table.drop(engine, checkfirst=True)
    with engine.begin() as conn:
        conn.execute(text(f"DROP TABLE IF EXISTS {VERSION_TABLE}"))


def reset_hub_tables(engine: Engine) -> None:
    drop_hub_tables(engine)
    migrate_hub(engine)


def member_token(engine: Engine, name: str, role: HubRole) -> str:
    with engine.begin() as conn:
        return add_member(conn, name, role)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running_hub(config: HubConfig, engine: Engine) -> Iterator[str]:
    """A hub served by uvicorn on a free loopback port; yields its base URL."""
    app = create_hub_app(config, engine=engine)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("hub did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def random_pdqs(count: int, seed: int = 3) -> list[str]:
    import random

    rng = random.Random(seed)
    return [f"{rng.getrandbits(256):064x}" for _ in range(count)]


def fill_hub(engine: Engine, member_name: str, values: list[str], *, batch: int = 5000) -> None:
    """Load many PDQ entries straight into the hub's store (as its submit endpoint would)."""
    from sqlalchemy import select

    from takedown.exchange.hub_members import Member
    from takedown.exchange.hub_store import submit
    from takedown.signals.registry import default_registry

    registry = default_registry()
    with engine.connect() as conn:
        row = conn.execute(select(hub_members).where(hub_members.c.name == member_name)).one()
    member = Member(int(row.id), row.name, HubRole(row.role))
    for start in range(0, len(values), batch):
        items = [
            {"signal_type": "pdq", "value": v, "label": "TVEC1"}
            for v in values[start : start + batch]
        ]
        with engine.begin() as conn:
            submit(conn, member, items, registry)
