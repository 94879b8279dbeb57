"""Signed checkpoints make the ledger's rewriting visible: an edited row, deleted newest events
and a row rewritten with every later hash recomputed each fail `audit verify`, naming the first
bad event; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, delete, select, update

from takedown.cli.main import main
from takedown.config import Settings
from takedown.core.events import GENESIS, event_hash
from takedown.legal.anchors import Signer, checkpoint_message, load_signer
from takedown.services.accountability import Accountability
from takedown.storage.ledger import append_event
from takedown.storage.legal_tables import audit_checkpoints
from takedown.storage.tables import events

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def _append(engine: Engine, n: int, start: int) -> None:
    with engine.begin() as conn:
        for i in range(start, start + n):
            append_event(conn, "test.event", f"item:{i}", {"n": i}, at=T0 + timedelta(minutes=i))


@pytest.fixture
def audited(engine: Engine, settings: Settings) -> Accountability:
    """Ten events, a checkpoint at 5 and one at 10, then two unsigned events (11, 12)."""
    acc = Accountability(engine, settings)
    _append(engine, 5, 1)
    assert acc.checkpoint() is not None
    _append(engine, 5, 6)
    assert acc.checkpoint() is not None
    _append(engine, 2, 11)
    return acc


def test_untouched_ledger_verifies(audited: Accountability) -> None:
    result = audited.verify()
    assert result.ok, result.problem
    assert (result.events, result.checkpoints) == (12, 2)
    assert audited.checkpoint() is not None  # the head moved: a new checkpoint is written
    assert audited.checkpoint() is None  # and not twice for the same head


def test_key_stays_out_of_the_database(audited: Accountability, engine: Engine) -> None:
    key_file = audited.settings.effective_audit_key_file
    assert key_file.stat().st_mode & 0o077 == 0
    private_pem = key_file.read_bytes()
    with engine.connect() as conn:
        dumped = repr(conn.execute(select(audit_checkpoints)).all())
        dumped += repr(conn.execute(select(events)).all())
    body = b"".join(private_pem.splitlines()[1:-1]).decode()
    assert body[:40] not in dumped


def test_editing_one_row_names_it(audited: Accountability, engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(update(events).where(events.c.seq == 7).values(payload={"n": 70}))
    result = audited.verify()
    assert not result.ok
    assert result.first_bad_seq == 7
    assert result.problem == "hash chain broken"


def test_deleting_the_newest_events_is_caught(audited: Accountability, engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(delete(events).where(events.c.seq > 8))
    result = audited.verify()
    assert not result.ok
    assert result.first_bad_seq == 9
    assert "missing" in (result.problem or "")


def _rechain(engine: Engine, from_seq: int, payload: dict[str, object]) -> None:
    """What an attacker with database access does: rewrite a row, recompute every later hash."""
    with engine.begin() as conn:
        rows = conn.execute(select(events).order_by(events.c.seq)).all()
        prev = GENESIS
        for row in rows:
            body = payload if row.seq == from_seq else dict(row.payload)
            digest = event_hash(
                seq=row.seq,
                type=row.type,
                subject=row.subject,
                payload=body,
                actor=row.actor,
                at=row.at,
                prev_hash=prev,
            )
            if row.seq >= from_seq:
                conn.execute(
                    update(events)
                    .where(events.c.seq == row.seq)
                    .values(payload=body, prev_hash=prev, hash=digest)
                )
            prev = digest


def test_rewriting_and_rechaining_is_caught(audited: Accountability, engine: Engine) -> None:
    _rechain(engine, 7, {"n": "rewritten"})
    result = audited.verify()
    assert not result.ok
    assert result.first_bad_seq == 6  # after the last checkpoint that still matches (seq 5)
    assert "rewritten" in (result.problem or "")


def test_deleting_checkpoints_from_the_database_does_not_hide_it(
    audited: Accountability, engine: Engine
) -> None:
    _rechain(engine, 3, {"n": "rewritten"})
    with engine.begin() as conn:
        conn.execute(delete(audit_checkpoints))
    result = audited.verify()  # the log file beside the key still has them
    assert not result.ok
    assert result.first_bad_seq == 1


def test_a_checkpoint_forged_with_another_key_fails(
    audited: Accountability, engine: Engine, tmp_path: Path
) -> None:
    forger: Signer = load_signer(tmp_path / "forger.pem")
    with engine.begin() as conn:
        head = conn.execute(
            select(events.c.seq, events.c.hash).order_by(events.c.seq.desc())
        ).first()
        assert head is not None
        at = T0
        conn.execute(
            audit_checkpoints.insert().values(
                seq=head.seq,
                head_hash=head.hash,
                at=at,
                key_id=audited.signer().key_id,
                signature=forger.sign(
                    checkpoint_message(head.seq, head.hash, at, audited.signer().key_id)
                ),
            )
        )
    result = audited.verify()
    assert not result.ok
    assert "invalid signature" in (result.problem or "")


def test_cli_verify_exits_non_zero_naming_the_event(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    monkeypatch.setenv("TAKEDOWN_DATA_DIR", str(data))
    monkeypatch.delenv("TAKEDOWN_DATABASE_URL", raising=False)
    settings = Settings(data_dir=data)
    acc_engine_url = settings.effective_database_url
    from takedown.storage.db import make_engine, migrate

    engine = make_engine(acc_engine_url)
    migrate(engine)
    _append(engine, 4, 1)
    assert main(["audit", "checkpoint"]) == 0
    assert main(["audit", "verify"]) == 0
    with engine.begin() as conn:
        conn.execute(delete(events).where(events.c.seq == 4))
    engine.dispose()
    capsys.readouterr()
    assert main(["audit", "verify"]) == 7
    assert "event 4" in capsys.readouterr().err


def test_checkpoints_follow_the_schedule(engine: Engine, settings: Settings) -> None:
    now = [T0]
    acc = Accountability(
        engine, settings.with_(audit_checkpoint_seconds=3600), clock=lambda: now[0]
    )
    _append(engine, 2, 1)
    assert acc.housekeeping()["checkpoint"] == 2
    _append(engine, 1, 3)
    now[0] = T0 + timedelta(minutes=59)
    assert acc.housekeeping()["checkpoint"] is None  # not due yet
    now[0] = T0 + timedelta(minutes=61)
    assert acc.housekeeping()["checkpoint"] == 3
