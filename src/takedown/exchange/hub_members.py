"""Hub members: organisations with a role and a bearer token.

Tokens are 256-bit random, so a fast hash is enough: only the SHA-256 digest is stored, a short
prefix finds the row, and a database leak reveals no usable token.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, select

from takedown.core.errors import AuthError, Conflict, Forbidden, InvalidInput
from takedown.exchange.hub_tables import hub_members
from takedown.storage.ledger import append_event

TOKEN_PREFIX = "thub_"


class HubRole(StrEnum):
    CONTRIBUTOR = "contributor"
    READER = "reader"
    ADMIN = "admin"


@dataclass(frozen=True)
class Member:
    id: int
    name: str
    role: HubRole

    @property
    def actor(self) -> str:
        return f"member:{self.id}:{self.name}"

    def require(self, *roles: HubRole) -> None:
        if self.role is not HubRole.ADMIN and self.role not in roles:
            needed = " or ".join(r.value for r in roles)
            raise Forbidden(f"this needs the {needed} role; member {self.name!r} is {self.role}")


def parse_enum(kind: type[StrEnum], value: str, what: str) -> Any:
    try:
        return kind(value)
    except ValueError:
        known = ", ".join(m.value for m in kind)
        raise InvalidInput(f"unknown {what} {value!r}", hint=f"use one of: {known}") from None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def add_member(conn: Connection, name: str, role: HubRole, *, actor: str = "cli") -> str:
    """Create a member and return its token; only the digest is kept, so this is the one time
    the token is seen."""
    name = name.strip()
    if not name or len(name) > 128:
        raise InvalidInput("a member name must be 1 to 128 characters")
    if conn.execute(select(hub_members.c.id).where(hub_members.c.name == name)).first():
        raise Conflict(f"a member named {name!r} exists")
    body = secrets.token_urlsafe(32)
    token = f"{TOKEN_PREFIX}{body}"
    inserted = conn.execute(
        hub_members.insert().values(
            name=name,
            role=role.value,
            token_prefix=body[:12],
            token_hash=_digest(token),
            created_at=datetime.now(UTC),
        )
    ).inserted_primary_key
    assert inserted is not None
    append_event(
        conn,
        "hub.member_added",
        f"member:{inserted[0]}",
        {"name": name, "role": role.value},
        actor=actor,
    )
    return token


def authenticate(conn: Connection, token: str) -> Member:
    if not token.startswith(TOKEN_PREFIX) or len(token) < len(TOKEN_PREFIX) + 12:
        raise AuthError("malformed hub token", hint="send `Authorization: Bearer thub_...`")
    prefix = token[len(TOKEN_PREFIX) : len(TOKEN_PREFIX) + 12]
    row = conn.execute(select(hub_members).where(hub_members.c.token_prefix == prefix)).first()
    if (
        row is None
        or row.revoked_at is not None
        or not hmac.compare_digest(row.token_hash, _digest(token))
    ):
        raise AuthError("unknown or revoked hub token")
    return Member(int(row.id), row.name, HubRole(row.role))
