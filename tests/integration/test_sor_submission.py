"""Submitting statements to a loopback fake of the Transparency Database: batches of at most
100, retries, the record of what was accepted, and a PUID look-up before resending so a lost
response never creates a duplicate."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import Engine, select

from fake_tdb import TOKEN, FakeTdb
from takedown.core.errors import AuthError, DeliveryError
from takedown.reports.tdb_client import TdbClient, submit_pending
from takedown.storage.ledger import iter_events
from takedown.storage.legal_tables import sor_statements

NOW = datetime(2026, 4, 2, tzinfo=UTC)


def _body(n: int) -> dict[str, object]:
    return {
        "decision_visibility": ["DECISION_VISIBILITY_CONTENT_REMOVED"],
        "decision_ground": "DECISION_GROUND_INCOMPATIBLE_CONTENT",
        "incompatible_content_ground": "Terms of service",
        "incompatible_content_explanation": "Terrorist propaganda.",
        "content_type": ["CONTENT_TYPE_IMAGE"],
        "category": "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY",
        "category_specification": ["KEYWORD_TERRORIST_CONTENT"],
        "content_date": "2026-04-01",
        "application_date": "2026-04-02",
        "decision_facts": "Matched a hash bank.",
        "source_type": "SOURCE_VOLUNTARY",
        "automated_detection": "Yes",
        "automated_decision": "AUTOMATED_DECISION_FULLY",
        "puid": f"td-{n}-item{n}",
    }


def _store(engine: Engine, count: int) -> None:
    with engine.begin() as conn:
        conn.execute(
            sor_statements.insert(),
            [
                {
                    "decision_id": n,
                    "puid": f"td-{n}-item{n}",
                    "body": _body(n),
                    "created_at": NOW,
                    "attempts": 0,
                }
                for n in range(1, count + 1)
            ],
        )


def _client(fake: FakeTdb, token: str = TOKEN) -> TdbClient:
    http = httpx.Client(transport=fake.transport())
    return TdbClient(http, "https://tdb.test", token, backoff=0, sleep=lambda _s: None)


def _unsent(engine: Engine) -> int:
    with engine.connect() as conn:
        rows = conn.execute(
            select(sor_statements.c.id).where(sor_statements.c.submitted_at.is_(None))
        )
        return len(rows.all())


def test_batches_of_at_most_100_and_a_record_of_each(engine: Engine) -> None:
    _store(engine, 230)
    fake = FakeTdb()
    result = submit_pending(engine.begin, _client(fake))
    assert (result.accepted, result.already_there) == (230, 0)
    posts = [r for r in fake.requests if r[0] == "POST"]
    assert len(posts) == 3 and len(fake.statements) == 230
    with engine.connect() as conn:
        rows = conn.execute(select(sor_statements.c.puid, sor_statements.c.tdb_uuid)).all()
    assert all(uuid == fake.statements[puid]["uuid"] for puid, uuid in rows)
    assert submit_pending(engine.begin, _client(fake)).accepted == 0  # nothing left to send
    with engine.connect() as conn:
        ledger = repr([(e.type, e.payload) for e in iter_events(conn)])
    assert "sor.submitted" in ledger and TOKEN not in ledger and "fake-token" not in ledger


def test_a_lost_response_is_looked_up_not_duplicated(engine: Engine) -> None:
    _store(engine, 5)
    fake = FakeTdb()
    fake.lose_next_response = True  # the database commits, the answer never arrives
    result = submit_pending(engine.begin, _client(fake))
    assert (result.accepted, result.already_there) == (0, 5)
    assert len(fake.statements) == 5
    assert [r[0] for r in fake.requests].count("POST") == 1  # never resent
    assert sum(1 for r in fake.requests if r[0] == "GET" and r[2] == 302) == 5
    assert _unsent(engine) == 0


def test_server_errors_are_retried_with_look_ups(engine: Engine) -> None:
    _store(engine, 3)
    fake = FakeTdb()
    fake.fail_next = 2  # the first POST, then the first look-up, get 503
    result = submit_pending(engine.begin, _client(fake))
    assert result.accepted == 3 and len(fake.statements) == 3
    assert _unsent(engine) == 0


def test_persistent_failure_keeps_statements_for_later(engine: Engine) -> None:
    _store(engine, 2)
    fake = FakeTdb()
    fake.fail_next = 10_000
    with pytest.raises(DeliveryError):
        submit_pending(engine.begin, _client(fake), rounds=2)
    assert _unsent(engine) == 2 and fake.statements == {}
    fake.fail_next = 0
    assert submit_pending(engine.begin, _client(fake)).accepted == 2


def test_a_bad_token_is_an_auth_error(engine: Engine) -> None:
    _store(engine, 1)
    with pytest.raises(AuthError):
        submit_pending(engine.begin, _client(FakeTdb(), token="wrong"))
    assert _unsent(engine) == 1
