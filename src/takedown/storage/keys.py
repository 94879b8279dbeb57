"""API keys, stored as SHA-256 digests: keys are 256-bit random, so a fast hash is enough and a
database leak reveals no usable key. The short prefix finds the row without scanning."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, select, update

from takedown.core.errors import AuthError, InvalidInput, NotFound
from takedown.storage.ledger import append_event
from takedown.storage.tables import api_keys

KEY_PREFIX = "tdk_"


class Role(StrEnum):
    ADMIN = "admin"
    INTEGRATOR = "integrator"
    REVIEWER = "reviewer"
    LEAD = "lead"
    AUDITOR = "auditor"
    HUB_MEMBER = "hub_member"


# A role also holds the roles it implies: a lead can do what a reviewer can.
IMPLIES: dict[Role, frozenset[Role]] = {
    Role.ADMIN: frozenset(Role),
    Role.LEAD: frozenset({Role.LEAD, Role.REVIEWER}),
}


def parse_role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise InvalidInput(
            f"unknown role {value!r}", hint=f"use one of: {', '.join(r.value for r in Role)}"
        ) from None


def grants(held: Role, needed: Role) -> bool:
    return needed in IMPLIES.get(held, frozenset({held}))


@dataclass(frozen=True)
class Principal:
    """Who is calling. `tenant` is the integrator whose items this key may see and whose id
    space its item ids live in; None for roles that see every tenant (reviewer, lead, auditor,
    admin)."""

    key_id: int
    role: Role
    name: str | None
    tenant: str | None = None

    @property
    def actor(self) -> str:
        return f"key:{self.key_id}" + (f":{self.name}" if self.name else "")


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def create_key(
    conn: Connection,
    role: Role,
    *,
    name: str | None = None,
    actor: str = "cli",
    tenant: str | None = None,
) -> str:
    """Create a key and return it; only its digest is kept, so this is the one time it is seen."""
    return create_key_with_id(conn, role, name=name, actor=actor, tenant=tenant)[1]


def create_key_with_id(
    conn: Connection,
    role: Role,
    *,
    name: str | None = None,
    actor: str = "cli",
    tenant: str | None = None,
) -> tuple[int, str]:
    """Create a key; returns (id, key). An integrator key without `tenant` gets its own tenant
    `key-<id>`; give the same tenant to a replacement key so it sees the same items."""
    body = secrets.token_urlsafe(32)
    key = f"{KEY_PREFIX}{body}"
    prefix = body[:12]
    row = conn.execute(
        api_keys.insert().values(
            prefix=prefix,
            key_hash=_digest(key),
            role=role.value,
            name=name,
            created_at=datetime.now(UTC),
        )
    ).inserted_primary_key
    assert row is not None
    key_id = int(row[0])
    if role is Role.INTEGRATOR:
        tenant = f"key-{key_id}" if tenant is None else tenant
        conn.execute(update(api_keys).where(api_keys.c.id == key_id).values(tenant=tenant))
    else:
        tenant = None
    append_event(
        conn,
        "key.created",
        f"key:{key_id}",
        {"role": role.value, "name": name, "tenant": tenant},
        actor=actor,
    )
    return key_id, key


def list_keys(conn: Connection) -> list[dict[str, Any]]:
    """Every key with its id, role, name, tenant and dates; never the key or its digest."""
    rows = conn.execute(select(api_keys).order_by(api_keys.c.id)).all()
    return [
        {
            "id": int(r.id),
            "role": r.role,
            "name": r.name,
            "tenant": r.tenant,
            "prefix": f"{KEY_PREFIX}{r.prefix[:4]}…",
            "created_at": r.created_at.isoformat(),
            "revoked_at": r.revoked_at.isoformat() if r.revoked_at else None,
        }
        for r in rows
    ]


def authenticate(conn: Connection, key: str) -> Principal:
    if not key.startswith(KEY_PREFIX) or len(key) < len(KEY_PREFIX) + 12:
        raise AuthError("malformed API key", hint="send `Authorization: Bearer tdk_...`")
    row = conn.execute(
        select(api_keys).where(api_keys.c.prefix == key[len(KEY_PREFIX) : len(KEY_PREFIX) + 12])
    ).first()
    if (
        row is None
        or row.revoked_at is not None
        or not hmac.compare_digest(row.key_hash, _digest(key))
    ):
        raise AuthError("unknown or revoked API key")
    role = Role(row.role)
    # Integrator keys from before tenancy (tenant NULL) keep the default tenant they used.
    tenant = (row.tenant or "") if role is Role.INTEGRATOR else None
    return Principal(int(row.id), role, row.name, tenant)


def revoke_key(conn: Connection, key_id: int, *, actor: str) -> None:
    result = conn.execute(
        update(api_keys)
        .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC))
    )
    if result.rowcount == 0:
        raise NotFound(f"no active key {key_id}")
    append_event(conn, "key.revoked", f"key:{key_id}", {}, actor=actor)
