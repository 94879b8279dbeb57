"""Every bad input named in issue #13 is a clear 4xx problem+json that stores nothing, on SQLite
and on PostgreSQL; an unexpected failure is a 500 on a connection that stays open; no error
message or log line quotes the submitted content or SQL parameters."""

from __future__ import annotations

import base64
import logging
import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.exc import StatementError

from takedown.api.app import create_app
from takedown.config import Settings
from takedown.storage.keys import Role, create_key
from takedown.storage.tables import events, submissions

MARKER = "SECRETCONTENT"

BAD_BODIES: dict[str, bytes] = {
    "10,000-deep array": b"[" * 10_000 + b"]" * 10_000,
    "10,000-deep metadata": b'{"id":"d","text":"x","metadata":'
    + b'{"a":' * 10_000
    + b"1"
    + b"}" * 10_000
    + b"}",
    "lone surrogate in text": b'{"id":"s1","kind":"text","text":"' + MARKER.encode()
    + b'\\ud800"}',
    "lone surrogate in id": b'{"id":"\\ud800","kind":"text","text":"x"}',
    "5,001-digit integer id": b'{"id":' + b"9" * 5001 + b',"kind":"text","text":"x"}',
    "NUL in text": b'{"id":"n1","kind":"text","text":"' + MARKER.encode() + b'\\u0000"}',
    "NUL in id": b'{"id":"n\\u0000","kind":"text","text":"x"}',
    "NUL in metadata key": b'{"id":"n2","text":"x","metadata":{"k\\u0000":1}}',
    "invalid UTF-8": b'{"id":"u1","kind":"text","text":"\xff\xfe"}',
    "NaN": b'{"id":"f1","kind":"text","text":"x","metadata":{"x":NaN}}',
    "truncated JSON": b'{"id":"t1","kind":"text","te',
    "surrogate in a batch item": b'{"items":[{"id":"ok","text":"fine"},'
    b'{"id":"bad","text":"\\udfff"}]}',
}


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    settings = settings.with_(
        classifier=False, max_body_bytes=200_000, max_item_bytes=50_000, max_batch_items=10
    )
    with TestClient(create_app(settings, start_workers=False)) as test_client:
        yield test_client


def _headers(client: TestClient) -> dict[str, str]:
    with client.app.state.runtime.engine.begin() as conn:  # type: ignore[attr-defined]
        key = create_key(conn, Role.INTEGRATOR)
    return {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}


def _stored(client: TestClient) -> tuple[int, int]:
    with client.app.state.runtime.engine.connect() as conn:  # type: ignore[attr-defined]
        subs = conn.execute(select(func.count()).select_from(submissions)).scalar_one()
        evs = conn.execute(select(func.count()).select_from(events)).scalar_one()
    return int(subs), int(evs)


@pytest.mark.parametrize("case", sorted(BAD_BODIES))
def test_bad_json_is_a_400_problem_and_stores_nothing(
    client: TestClient, case: str, caplog: pytest.LogCaptureFixture
) -> None:
    headers = _headers(client)
    before = _stored(client)
    with caplog.at_level(logging.DEBUG):
        response = client.post("/v1/submissions", content=BAD_BODIES[case], headers=headers)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 400 and problem["detail"]
    assert MARKER not in response.text
    assert _stored(client) == before
    assert MARKER not in caplog.text


def test_bad_json_on_another_endpoint_is_refused_too(client: TestClient) -> None:
    with client.app.state.runtime.engine.begin() as conn:  # type: ignore[attr-defined]
        admin = {"Authorization": f"Bearer {create_key(conn, Role.ADMIN)}"}
    response = client.put(
        "/v1/banks/b1",
        content=b'{"name":"b\\u0000","label":"TVEC1"}',
        headers={**admin, "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert "NUL" in response.json()["detail"]


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"items": [{"id": str(n), "text": "x"} for n in range(11)]}, 413),
        ({"id": "big", "kind": "text", "text": "x" * 50_001}, 413),
        (
            {
                "id": "img",
                "kind": "image",
                "content_base64": base64.b64encode(b"\0" * 60_000).decode(),
            },
            413,
        ),
    ],
    ids=["batch over max_batch_items", "text over max_item_bytes", "media over max_item_bytes"],
)
def test_oversized_items_are_413_and_store_nothing(
    client: TestClient, body: dict[str, object], status: int
) -> None:
    headers = _headers(client)
    before = _stored(client)
    response = client.post("/v1/submissions", json=body, headers=headers)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert _stored(client) == before


def test_oversized_body_is_413_before_it_is_read(client: TestClient) -> None:
    headers = _headers(client)
    response = client.post(
        "/v1/submissions", content=b'{"id":"x","text":"' + b"a" * 300_000 + b'"}', headers=headers
    )
    assert response.status_code == 413
    assert response.json()["title"] == "Payload too large"


def test_long_and_nul_ids_in_the_url_are_clear_errors(client: TestClient) -> None:
    headers = _headers(client)
    assert client.get("/v1/submissions/" + "9" * 5001, headers=headers).status_code == 404
    response = client.get("/v1/submissions/a%00b", headers=headers)
    assert response.status_code == 400
    assert "NUL" in response.json()["detail"]


def test_database_errors_never_carry_sql_parameters(settings: Settings) -> None:
    """The backstop below the input checks: if a value reaches the driver and is refused, the
    error (and so any log line made from it) does not quote it."""
    from takedown.storage.db import make_engine

    engine = make_engine(settings.effective_database_url)
    try:
        from takedown.storage.db import migrate

        migrate(engine)
        bad = f"{MARKER}\x00" if engine.dialect.name == "postgresql" else f"{MARKER}\ud800"
        with pytest.raises((StatementError, UnicodeError)) as raised, engine.begin() as conn:
            conn.execute(select(submissions.c.id).where(submissions.c.item_id == bad))
        assert MARKER not in str(raised.value)
    finally:
        engine.dispose()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _read_response(sock: socket.socket) -> tuple[int, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, "the server closed the connection"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        chunk = sock.recv(65536)
        assert chunk, "the server closed the connection mid-body"
        body += chunk
    return int(head.split(b" ", 2)[1]), body


def test_an_unexpected_error_is_a_500_and_the_connection_stays_open(
    settings: Settings,
) -> None:
    app = create_app(settings.with_(classifier=False), start_workers=False)

    def boom() -> None:
        raise RuntimeError(MARKER)

    app.add_api_route("/boom", boom)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.05)
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            for path, expected in (("/boom", 500), ("/healthz", 200), ("/boom", 500)):
                sock.sendall(f"GET {path} HTTP/1.1\r\nHost: t\r\n\r\n".encode())
                status, body = _read_response(sock)
                assert status == expected
                assert MARKER.encode() not in body
    finally:
        server.should_exit = True
        thread.join(timeout=15)


@pytest.mark.parametrize("number", ["9" * 5001, "9" * 20, "-" + "9" * 20])
def test_huge_integer_ids_in_the_path_are_4xx(client: TestClient, number: str) -> None:
    with client.app.state.runtime.engine.begin() as conn:  # type: ignore[attr-defined]
        reviewer = {"Authorization": f"Bearer {create_key(conn, Role.REVIEWER)}"}
    for path in (f"/v1/cases/{number}", f"/v1/decisions/{number}/statement"):
        response = client.get(path, headers=reviewer)
        assert 400 <= response.status_code < 500, (path, response.status_code)
        assert response.headers["content-type"] == "application/problem+json"
