"""Server-side sessions for the reviewer web UI.

The browser holds only a random token in an HTTP-only cookie; the database holds its SHA-256,
the API key id it was opened with and a CSRF token. Every request re-checks the key, so revoking
a key ends its sessions at once, and the API key itself never sits in the browser.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, delete, select

from takedown.core.errors import AuthError
from takedown.storage.keys import Principal, Role
from takedown.storage.ledger import append_event
from takedown.storage.tables import api_keys, review_sessions

SESSION_LIFETIME = timedelta(hours=12)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def open_session(conn: Connection, principal: Principal) -> tuple[str, str]:
    """Start a session for an authenticated key; returns (cookie token, CSRF token)."""
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(24)
    now = datetime.now(UTC)
    conn.execute(delete(review_sessions).where(review_sessions.c.expires_at < now))
    conn.execute(
        review_sessions.insert().values(
            token_hash=_digest(token),
            key_id=principal.key_id,
            csrf=csrf,
            created_at=now,
            expires_at=now + SESSION_LIFETIME,
        )
    )
    append_event(conn, "session.opened", f"key:{principal.key_id}", {}, actor=principal.actor)
    return token, csrf


def resolve_session(conn: Connection, token: str) -> tuple[Principal, str]:
    """The principal and CSRF token behind a cookie; AuthError when expired or revoked."""
    row = conn.execute(
        select(
            review_sessions.c.csrf,
            review_sessions.c.expires_at,
            api_keys.c.id,
            api_keys.c.role,
            api_keys.c.name,
            api_keys.c.revoked_at,
        )
        .join(api_keys, api_keys.c.id == review_sessions.c.key_id)
        .where(review_sessions.c.token_hash == _digest(token))
    ).first()
    if row is None or row.revoked_at is not None or row.expires_at < datetime.now(UTC):
        raise AuthError("session expired or signed out", hint="sign in again")
    return Principal(int(row.id), Role(row.role), row.name), str(row.csrf)


def close_session(conn: Connection, token: str) -> None:
    conn.execute(delete(review_sessions).where(review_sessions.c.token_hash == _digest(token)))
