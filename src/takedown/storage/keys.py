"""API keys, stored as SHA-256 digests: keys are 256-bit random, so a fast hash is enough and a
database leak reveals no usable key. The short prefix finds the row without scanning."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

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
    key_id: int
    role: Role
    name: str | None

    @property
    def actor(self) -> str:
        return f"key:{self.key_id}" + (f":{self.name}" if self.name else "")


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def create_key(conn: Connection, role: Role, *, name: str | None = None, actor: str = "cli") -> str:
    """Create a key and return it; only its digest is kept, so this is the one time it is seen."""
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
    append_event(
        conn, "key.created", f"key:{row[0]}", {"role": role.value, "name": name}, actor=actor
    )
    return key


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
    return Principal(int(row.id), Role(row.role), row.name)


def revoke_key(conn: Connection, key_id: int, *, actor: str) -> None:
    result = conn.execute(
        update(api_keys)
        .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC))
    )
    if result.rowcount == 0:
        raise NotFound(f"no active key {key_id}")
    append_event(conn, "key.revoked", f"key:{key_id}", {}, actor=actor)
