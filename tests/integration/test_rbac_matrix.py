"""The RBAC matrix: every route of the app × every role, generated from the app's own route table.

Each API route must declare its roles through `require(...)` and appear in `ADMITTED` below
with the roles it lets in (after implication: admin holds every role, lead holds reviewer). A
new route that declares no role, or that is missing here, fails the test; so does a route whose
behaviour differs from the table for any role. Routes without a key are listed in `OPEN` with the
reason; web pages need a reviewer session instead of a key and are checked separately.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from takedown.api.app import create_app
from takedown.config import Settings
from takedown.storage.keys import Role, create_key

A, IN, R, L, AU, H = (
    Role.ADMIN,
    Role.INTEGRATOR,
    Role.REVIEWER,
    Role.LEAD,
    Role.AUDITOR,
    Role.HUB_MEMBER,
)

ADMITTED: dict[tuple[str, str], set[Role]] = {
    ("POST", "/v1/submissions"): {A, IN},
    ("GET", "/v1/submissions/{item_id}"): {A, IN, R, L, AU},
    ("GET", "/v1/banks"): {A, R, L, AU},
    ("PUT", "/v1/banks/{name}"): {A},
    ("POST", "/v1/banks/{name}/entries"): {A},
    ("POST", "/v1/banks/{name}/media"): {A},
    ("DELETE", "/v1/banks/entries/{entry_id}"): {A},
    ("POST", "/v1/banks/entries/{entry_id}/release"): {A},
    ("GET", "/v1/events"): {A, AU},
    ("GET", "/v1/events/verify"): {A, AU},
    ("POST", "/v1/lookup"): {A, IN, H},
    ("POST", "/v1/reports"): {A, IN},
    ("POST", "/v1/appeals"): {A, IN},
    ("GET", "/v1/appeals"): {A, R, L, AU},
    ("POST", "/v1/appeals/{appeal_id}/decision"): {A, R, L},
    ("GET", "/v1/review/queue"): {A, R, L, AU},
    ("GET", "/v1/cases/{case_id}"): {A, R, L, AU},
    ("POST", "/v1/cases/{case_id}/decision"): {A, R, L},
    ("POST", "/v1/cases/{case_id}/escalation"): {A, R, L},
    ("POST", "/v1/cases/bulk-decision"): {A, R, L},
    ("GET", "/v1/decisions/{decision_id}/statement"): {A, R, L, AU, IN},
    ("POST", "/v1/accounts"): {A, IN},
    ("POST", "/v1/accounts/interactions"): {A, IN},
    ("GET", "/v1/accounts"): {A, IN, R, L, AU},
    ("GET", "/v1/accounts/queue"): {A, R, L, AU},
    ("GET", "/v1/accounts/{account_id}"): {A, IN, R, L, AU},
    ("POST", "/v1/accounts/{account_id}/decision"): {A, R, L},
    ("POST", "/v1/accounts/{account_id}/appeals"): {A, IN},
    ("POST", "/v1/accounts/cases/{case_id}/appeal-decision"): {A, L},
    ("POST", "/v1/removal-orders"): {A, IN, R, L},
    ("GET", "/v1/removal-orders"): {A, R, L, AU},
    ("GET", "/v1/removal-orders/{order_id}"): {A, R, L, AU},
    ("POST", "/v1/removal-orders/{order_id}/action"): {A, R, L},
    ("POST", "/v1/removal-orders/{order_id}/confirm"): {A, R, L},
    ("POST", "/v1/removal-orders/{order_id}/unmet"): {A, R, L},
    ("POST", "/v1/removal-orders/{order_id}/resume"): {A, R, L},
    ("POST", "/v1/lawful-requests"): {A, L},
    ("GET", "/v1/lawful-requests"): {A, L, AU},
    ("POST", "/v1/lawful-requests/{request_id}/decision"): {A, L},
    ("GET", "/v1/audit/verify"): {A, AU},
    ("GET", "/v1/transparency"): {A, AU},
}

OPEN: dict[tuple[str, str], str] = {
    ("GET", "/healthz"): "liveness probe",
    ("GET", "/livez"): "liveness probe",
    ("GET", "/readyz"): "readiness probe (says only whether database and queue answer)",
    ("GET", "/metrics"): "Prometheus scrape: counters only, no content; restrict it by network",
    ("GET", "/"): "a static landing page",
    ("GET", "/openapi.json"): "the public API description",
    ("GET", "/docs"): "API docs page",
    ("GET", "/docs/oauth2-redirect"): "API docs page",
    ("GET", "/redoc"): "API docs page",
    ("POST", "/v1/connectors/mastodon/webhook"): "authenticated by the Mastodon HMAC signature",
    ("GET", "/review/login"): "the sign-in form",
    ("POST", "/review/login"): "sign-in (CSRF-checked; the key is the credential)",
}


def _walk(routes: Iterable[Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Flatten the route table, through included routers on FastAPI versions that nest them."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            context = getattr(route, "include_context", None)
            yield from _walk(inner.routes, prefix + (getattr(context, "prefix", "") or ""))
        else:
            yield prefix + str(getattr(route, "path", "")), route


def _declared_roles(route: APIRoute) -> set[Role] | None:
    stack = [route.dependant]
    while stack:
        dependant = stack.pop()
        roles = getattr(dependant.call, "roles", None)
        if roles:
            return set(roles)
        stack.extend(dependant.dependencies)
    return None


def _routes(app: FastAPI) -> list[tuple[str, str, APIRoute]]:
    found = []
    for path, route in _walk(app.routes):
        if not isinstance(route, APIRoute):
            continue
        for method in sorted(route.methods - {"HEAD"}):
            found.append((method, path, route))
    return found


@pytest.fixture(scope="module")
def app_and_keys(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, dict]]:
    settings = Settings(data_dir=Path(tmp_path_factory.mktemp("rbac")), classifier=False)
    app = create_app(settings, start_workers=False)
    with TestClient(app) as client:
        with app.state.runtime.engine.begin() as conn:
            keys = {role: create_key(conn, role) for role in Role}
        yield client, keys


def _concrete(path: str) -> str:
    return re.sub(r"\{(\w*id)\}", "1", path).replace("{name}", "x").replace("{item_id}", "x")


def test_every_api_route_declares_its_roles_and_is_in_the_table(
    app_and_keys: tuple[TestClient, dict],
) -> None:
    client, _ = app_and_keys
    missing, undeclared, mismatched = [], [], []
    for method, path, route in _routes(client.app):  # type: ignore[arg-type]
        key = (method, path)
        if key in OPEN or path.startswith("/review/"):
            continue
        declared = _declared_roles(route)
        if declared is None:
            undeclared.append(key)
        elif key not in ADMITTED:
            missing.append(key)
    listed = {(m, p) for m, p, _ in _routes(client.app)}  # type: ignore[arg-type]
    stale = sorted(set(ADMITTED) - listed)
    assert not undeclared, f"routes without require(...): {undeclared}"
    assert not missing, f"routes missing from ADMITTED: {missing}"
    assert not stale and not mismatched, f"ADMITTED lists routes the app lacks: {stale}"


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_each_role_is_admitted_exactly_where_the_table_says(
    app_and_keys: tuple[TestClient, dict], role: Role
) -> None:
    client, keys = app_and_keys
    wrong = []
    for method, path, _route in _routes(client.app):  # type: ignore[arg-type]
        if (method, path) not in ADMITTED:
            continue
        response = client.request(
            method,
            _concrete(path),
            headers={"Authorization": f"Bearer {keys[role]}"},
            json={} if method in ("POST", "PUT") else None,
        )
        admitted = role in ADMITTED[(method, path)]
        if admitted and response.status_code in (401, 403):
            wrong.append((method, path, response.status_code, "should be admitted"))
        if not admitted and response.status_code != 403:
            wrong.append((method, path, response.status_code, "should be 403"))
    assert not wrong, wrong


def test_no_key_is_401_everywhere_but_the_open_routes(
    app_and_keys: tuple[TestClient, dict],
) -> None:
    client, _ = app_and_keys
    for method, path, _route in _routes(client.app):  # type: ignore[arg-type]
        if (method, path) not in ADMITTED:
            continue
        response = client.request(method, _concrete(path), json={} if method != "GET" else None)
        assert response.status_code == 401, (method, path, response.status_code)


def test_every_review_page_needs_a_session(app_and_keys: tuple[TestClient, dict]) -> None:
    client, keys = app_and_keys
    anonymous = TestClient(client.app)
    for method, path, _route in _routes(client.app):  # type: ignore[arg-type]
        if not path.startswith("/review/") or (method, path) in OPEN:
            continue
        response = anonymous.request(
            method, _concrete(path), follow_redirects=False, data={} if method == "POST" else None
        )
        assert response.status_code in (303, 403), (method, path, response.status_code)
        if response.status_code == 303:
            assert "/review/login" in response.headers["location"]


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_only_reviewer_roles_can_open_a_review_session(
    app_and_keys: tuple[TestClient, dict], role: Role
) -> None:
    client, keys = app_and_keys
    browser = TestClient(client.app)
    form = browser.get("/review/login").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', form)
    assert csrf is not None
    response = browser.post(
        "/review/login",
        data={"api_key": keys[role], "csrf": csrf.group(1)},
        follow_redirects=False,
    )
    expected = 303 if role in {Role.ADMIN, Role.REVIEWER, Role.LEAD} else 401
    assert response.status_code == expected
