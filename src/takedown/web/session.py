"""Sign-in for the reviewer UI: an API key of role reviewer, lead or admin opens a server-side
session (takedown.storage.review_sessions); the browser gets an HTTP-only, SameSite=Strict
cookie holding a random token, and every form carries the session's CSRF token; the sign-in
form, before any session exists, carries a double-submit token (`login_csrf`)."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from takedown.core.errors import AuthError, Forbidden
from takedown.review.service import Reviewer
from takedown.storage.keys import Principal, Role, authenticate, grants
from takedown.storage.review_sessions import (
    SESSION_LIFETIME,
    close_session,
    open_session,
    resolve_session,
)

COOKIE = "takedown_session"
LOGIN_COOKIE = "takedown_login_csrf"
PREFIX = "/review"


class SignInRequired(Exception):
    """Raised by pages when there is no valid session; answered with a redirect to sign in."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


@dataclass(frozen=True)
class WebSession:
    principal: Principal
    csrf: str
    token: str

    @property
    def reviewer(self) -> Reviewer:
        return Reviewer(
            self.principal.key_id, self.principal.actor, grants(self.principal.role, Role.LEAD)
        )

    @property
    def is_lead(self) -> bool:
        return grants(self.principal.role, Role.LEAD)


def current(request: Request) -> WebSession:
    token = request.cookies.get(COOKIE)
    path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if not token:
        raise SignInRequired(path)
    try:
        with request.app.state.runtime.engine.connect() as conn:
            principal, csrf = resolve_session(conn, token)
    except AuthError:
        raise SignInRequired(path) from None
    return WebSession(principal, csrf, token)


def check_csrf(session: WebSession, submitted: object) -> None:
    if not isinstance(submitted, str) or not hmac.compare_digest(submitted, session.csrf):
        raise Forbidden("the form is stale or came from elsewhere", hint="reload the page")


def login_csrf(request: Request) -> str:
    """The sign-in form's CSRF token (double-submit: a SameSite=Strict cookie and a hidden
    field must agree), so another site cannot sign a browser in to a key of its choosing."""
    existing = request.cookies.get(LOGIN_COOKIE)
    if existing and 20 <= len(existing) <= 64:
        return existing
    return secrets.token_urlsafe(24)


def set_login_csrf(response: Response, request: Request, token: str) -> None:
    response.set_cookie(
        LOGIN_COOKIE,
        token,
        max_age=3600,
        path=PREFIX,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def check_login_csrf(request: Request, submitted: object) -> None:
    cookie = request.cookies.get(LOGIN_COOKIE)
    if not cookie or not isinstance(submitted, str) or not hmac.compare_digest(submitted, cookie):
        raise Forbidden("the sign-in form is stale or came from elsewhere", hint="reload the page")


def sign_in(request: Request, api_key: str) -> str:
    """Check the key and open a session; returns the cookie token."""
    engine = request.app.state.runtime.engine
    with engine.connect() as conn:
        principal = authenticate(conn, api_key.strip())
    if not grants(principal.role, Role.REVIEWER):
        raise Forbidden(
            f"a {principal.role} key cannot sign in to review",
            hint="use a reviewer, lead or admin key",
        )
    with engine.begin() as conn:
        token, _csrf = open_session(conn, principal)
    return token


def set_cookie(response: Response, request: Request, token: str) -> None:
    response.set_cookie(
        COOKIE,
        token,
        max_age=int(SESSION_LIFETIME.total_seconds()),
        path=PREFIX,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def sign_out(request: Request, session: WebSession) -> Response:
    with request.app.state.runtime.engine.begin() as conn:
        close_session(conn, session.token)
    response = RedirectResponse(f"{PREFIX}/login", status_code=303)
    response.delete_cookie(COOKIE, path=PREFIX)
    return response


def login_redirect(next_path: str) -> RedirectResponse:
    return RedirectResponse(f"{PREFIX}/login?next={quote(next_path)}", status_code=303)


def safe_next(value: object) -> str:
    """Only local review paths, so the sign-in form cannot be used as an open redirect."""
    if isinstance(value, str) and value.startswith(f"{PREFIX}/") and "//" not in value:
        return value
    return f"{PREFIX}/"
