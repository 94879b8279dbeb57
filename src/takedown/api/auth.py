"""Bearer API keys checked against their role on every endpoint, and against the key's rate
limit (takedown.services.ratelimit) before any work is done for it."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Request

from takedown.core.errors import AuthError, Forbidden
from takedown.storage.db import reading
from takedown.storage.keys import Principal, Role, authenticate, grants


def require(*roles: Role) -> Callable[[Request], Principal]:
    """A dependency admitting keys whose role grants any of `roles`."""

    def dependency(request: Request) -> Principal:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthError("missing API key", hint="send `Authorization: Bearer <key>`")
        engine = request.app.state.runtime.engine
        with reading(engine) as conn:
            principal = authenticate(conn, token.strip())
        limiter = getattr(request.app.state, "rate_limiter", None)
        if limiter is not None:
            limiter.check(f"key:{principal.key_id}")
        if not any(grants(principal.role, role) for role in roles):
            needed = " or ".join(r.value for r in roles)
            raise Forbidden(f"this endpoint needs the {needed} role; the key is {principal.role}")
        return principal

    dependency.roles = roles  # type: ignore[attr-defined]  # read by the RBAC matrix test
    return dependency
