"""The hub database's own migration chain: a fresh hub database (SQLite and the real
PostgreSQL) migrates to exactly the tables the code uses, a hub made before the chain existed
is adopted, and a hub sharing a node's database leaves the node's revision alone."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, inspect, select, text
from sqlalchemy.exc import IntegrityError

from hub_testing import drop_hub_tables
from takedown.exchange.hub_members import HubRole, add_member
from takedown.exchange.hub_schema import (
    BASELINE,
    HUB_MIGRATIONS_DIR,
    VERSION_TABLE,
    hub_alembic_config,
    migrate_hub,
)
from takedown.exchange.hub_tables import HUB_POSTGRES_FORMS, hub_entries, hub_members, hub_metadata
from takedown.storage.db import make_engine
from takedown_testing import PG_ADMIN_URL, need_service


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_hub(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty database of its own (never the node's shared test database)."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'hub.db'}")
        yield engine
        engine.dispose()
        return
    need_service("PostgreSQL", "127.0.0.1", 5432)
    name = f"takedown_hub_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}")
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def head() -> str:
    revision = ScriptDirectory(str(HUB_MIGRATIONS_DIR)).get_current_head()
    assert revision is not None
    return revision


def recorded(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars())


def schema_diff(engine: Engine) -> list[object]:
    def comparable(obj: Any, name: str | None, kind: str, reflected: bool, other: Any) -> bool:
        # PostgreSQL's forms of these indexes (md5, hash) cannot be stated in metadata for
        # both dialects; test_long_values_are_unique_per_member checks them.
        return not (engine.dialect.name == "postgresql" and name in HUB_POSTGRES_FORMS)

    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"version_table": VERSION_TABLE, "include_object": comparable})
        return list(compare_metadata(context, hub_metadata))


def test_a_fresh_hub_database_migrates_to_the_tables_the_code_uses(fresh_hub: Engine) -> None:
    migrate_hub(fresh_hub)
    migrate_hub(fresh_hub)  # idempotent: a restart changes nothing
    assert schema_diff(fresh_hub) == []
    assert recorded(fresh_hub) == [head()]
    tables = set(inspect(fresh_hub).get_table_names())
    assert {"hub_members", "hub_entries", "hub_feedback", "events"} <= tables
    assert "alembic_version" not in tables, "the node's version table is not the hub's"


def test_a_hub_made_before_the_chain_is_adopted_with_its_data(fresh_hub: Engine) -> None:
    # How hubs were made before they had migrations: create_all of the tables as they were
    # then, which is revision 0001's schema, with no version table.
    command.upgrade(hub_alembic_config(fresh_hub), BASELINE)
    with fresh_hub.begin() as conn:
        conn.execute(text(f"DROP TABLE {VERSION_TABLE}"))
    with fresh_hub.begin() as conn:
        add_member(conn, "early-org", HubRole.CONTRIBUTOR)
    migrate_hub(fresh_hub)
    assert recorded(fresh_hub) == [head()]
    assert schema_diff(fresh_hub) == []
    with fresh_hub.connect() as conn:
        assert conn.execute(select(hub_members.c.name)).scalars().all() == ["early-org"]


def test_a_hub_sharing_a_node_database_leaves_the_node_revision_alone(engine: Engine) -> None:
    node_revision = text("SELECT version_num FROM alembic_version")
    with engine.connect() as conn:
        before = conn.execute(node_revision).scalars().all()
    try:
        migrate_hub(engine)
        assert recorded(engine) == [head()]
        with engine.connect() as conn:
            assert conn.execute(node_revision).scalars().all() == before
    finally:
        drop_hub_tables(engine)


def test_long_values_are_unique_per_member(fresh_hub: Engine) -> None:
    """A two-minute clip's vPDQ (~10 KB) fits, stays unique per member and is found by value."""
    migrate_hub(fresh_hub)
    frames = [f'"{n:064x},100,{n}.000"' for n in range(120)]
    long_a, long_b = "[" + ",".join(frames) + "]", "[" + ",".join(frames[1:]) + "]"
    with fresh_hub.begin() as conn:
        add_member(conn, "org", HubRole.CONTRIBUTOR)
        member = conn.execute(select(hub_members.c.id)).scalar_one()
    now = datetime.now(UTC)

    def row(seq: int, value: str) -> dict[str, Any]:
        return {"seq": seq, "member_id": member, "signal_type": "vpdq", "value": value,
                "label": "TVEC1", "sharing": "members", "created_at": now, "updated_at": now}

    with fresh_hub.begin() as conn:
        conn.execute(hub_entries.insert(), [row(1, long_a), row(2, long_b)])
    with pytest.raises(IntegrityError), fresh_hub.begin() as conn:
        conn.execute(hub_entries.insert(), [row(3, long_a)])
    with fresh_hub.connect() as conn:
        found = conn.execute(select(hub_entries.c.seq).where(
            hub_entries.c.value.in_([long_b]))).scalars().all()
    assert found == [2]
