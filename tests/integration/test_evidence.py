"""Evidence preservation and lawful requests: removed items are preserved encrypted (nothing
readable in the database file or on disk without the key), keys rotate, holds extend, expiry
purges with a ledger event, and a lawful request goes received → lead approval → a signed,
scoped export package, every step audited."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from sqlalchemy import Engine, select

from takedown.config import Settings
from takedown.core.content import ContentKind, make_submission
from takedown.core.decisions import ActionKind, Decision, Provenance
from takedown.core.errors import Conflict, Forbidden
from takedown.legal.evidence import EvidenceVault, load_keyring
from takedown.services.accountability import Accountability
from takedown.storage import submissions as subs
from takedown.storage.ledger import iter_events
from takedown.storage.tables import decisions, submissions

T0 = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
IMAGE = b"\x89PNG-EVIDENCE-MARKER-" + bytes(range(256)) * 8
TEXT = "TEXTMARKER-zebra-quokka join us"


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def _removed(engine: Engine, item_id: str, **content: object) -> None:
    decision = Decision(
        action=ActionKind.REMOVE,
        label="TVEC1",
        grounds="bank match",
        automated_detection=True,
        automated_decision=True,
        provenance=Provenance(policy="default", policy_version="1", rule="match"),
    )
    with engine.begin() as conn:
        row_id, _ = subs.insert_submission(
            conn,
            make_submission(item_id=item_id, **content),
            source="api",  # type: ignore[arg-type]
        )
        conn.execute(
            decisions.insert().values(
                submission_id=row_id,
                stage="auto",
                action="remove",
                label="TVEC1",
                body=decision.to_json(),
                created_at=T0,
            )
        )


@pytest.fixture
def acc(engine: Engine, settings: Settings) -> Accountability:
    accountability = Accountability(engine, settings, clock=Clock())
    _removed(engine, "img-1", kind=ContentKind.IMAGE, content=IMAGE)
    _removed(engine, "txt-1", kind=ContentKind.TEXT, text=TEXT)
    _removed(engine, "txt-2", kind=ContentKind.TEXT, text="another removed post")
    assert accountability.preserve_pending() == 3
    assert accountability.preserve_pending() == 0
    return accountability


def _disk(settings: Settings, database_url: str) -> bytes:
    path = Path(database_url.split("///", 1)[1])
    blobs = [p.read_bytes() for p in path.parent.glob(path.name + "*")]
    return b"".join(blobs)


def test_nothing_preserved_is_readable_without_the_key(
    acc: Accountability, settings: Settings, database_url: str, engine: Engine
) -> None:
    with engine.connect() as conn:
        row = conn.execute(select(submissions).where(submissions.c.item_id == "img-1")).one()
        ledger = repr([e.payload for e in iter_events(conn)])
    assert row.content is None and row.text is None
    assert "TEXTMARKER" not in ledger
    if database_url.startswith("sqlite"):
        disk = _disk(settings, database_url)
        assert b"EVIDENCE-MARKER" not in disk and b"TEXTMARKER" not in disk
    with engine.begin() as conn:
        record = acc.vault(conn).open("img-1")
        assert record["content_b64"] is not None
        import base64

        assert base64.b64decode(record["content_b64"]) == IMAGE
        other = EvidenceVault(conn, load_keyring(settings.data_dir / "other.keys"))
        with pytest.raises(Conflict, match="not in the key file"):
            other.open("img-1")


def test_key_rotation_reencrypts_and_old_key_can_go(acc: Accountability, engine: Engine) -> None:
    key_file = acc.settings.effective_evidence_key_file
    new_id, count = acc.rotate_evidence_key(actor="ops")
    assert count == 3
    key_file.write_text(key_file.read_text().splitlines()[0] + "\n")  # drop the old key
    with engine.begin() as conn:
        assert acc.vault(conn).open("txt-1")["text"] == TEXT
        assert acc.keyring().current == new_id


def test_expiry_purges_and_a_hold_extends(acc: Accountability, engine: Engine) -> None:
    clock: Clock = acc.clock  # type: ignore[assignment]
    with engine.begin() as conn:
        acc.vault(conn).hold(
            "txt-1", until=T0 + timedelta(days=300), reason="court order 12/26", actor="lead"
        )
    clock.now = T0 + timedelta(days=182)
    assert acc.purge_expired() == []
    clock.now = T0 + timedelta(days=184)
    assert sorted(acc.purge_expired()) == ["img-1", "txt-2"]
    with engine.begin() as conn, pytest.raises(Conflict, match="purged"):
        acc.vault(conn).open("img-1")
    clock.now = T0 + timedelta(days=301)
    assert acc.purge_expired() == ["txt-1"]
    with engine.connect() as conn:
        kinds = [e.type for e in iter_events(conn) if e.type.startswith("evidence.")]
    assert kinds.count("evidence.preserved") == 3 and kinds.count("evidence.purged") == 3
    assert "evidence.held" in kinds


def test_lawful_request_to_signed_package(
    acc: Accountability, engine: Engine, tmp_path: Path
) -> None:
    with engine.begin() as conn:
        requests = acc.requests(conn)
        req = requests.receive(
            authority="BKA",
            legal_basis="StPO §100",
            contact="bka@example.de",
            item_ids=["img-1", "txt-1", "never-removed"],
            actor="lead:kim",
        )
        with pytest.raises(Forbidden):
            requests.decide(req["id"], approve=True, reason="ok", actor="rev", is_lead=False)
    with pytest.raises(Conflict, match="approves it first"):
        acc.export_request(req["id"], tmp_path, actor="lead:kim")
    with engine.begin() as conn:
        acc.requests(conn).decide(
            req["id"],
            approve=True,
            reason="valid order, scope checked",
            actor="lead:kim",
            is_lead=True,
        )
    package = acc.export_request(req["id"], tmp_path, actor="lead:kim")
    manifest_bytes = (package / "manifest.json").read_bytes()
    public = serialization.load_pem_public_key((package / "signing-key.pem").read_bytes())
    public.verify(  # type: ignore[union-attr, call-arg]
        bytes.fromhex((package / "manifest.sig").read_text().strip()), manifest_bytes
    )
    manifest = json.loads(manifest_bytes)
    files = {e["item_id"]: e for e in manifest["items"]}
    assert set(files) == {"img-1", "txt-1", "never-removed"}
    assert files["never-removed"]["file"] is None
    for item in ("img-1", "txt-1"):
        body = (package / files[item]["file"]).read_bytes()
        assert hashlib.sha256(body).hexdigest() == files[item]["sha256"]
    assert json.loads((package / files["txt-1"]["file"]).read_bytes())["text"] == TEXT
    assert not any("txt-2" in p.name for p in (package / "items").iterdir())
    with engine.connect() as conn:
        kinds = [
            e.type
            for e in iter_events(conn)
            if e.type.startswith(("lawful_request.", "evidence.accessed"))
        ]
    assert kinds == [
        "lawful_request.received",
        "lawful_request.approved",
        "evidence.accessed",
        "evidence.accessed",
        "lawful_request.exported",
    ]
