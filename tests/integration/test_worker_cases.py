"""How the worker opens cases: escalations go to leads, removal orders carry their deadline."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Connection, select

from takedown.config import Settings
from takedown.core.banks import Bank
from takedown.core.content import ContentKind, make_submission
from takedown.core.taxonomy import TvecLabel
from takedown.services import ingest
from takedown.services.runtime import Runtime
from takedown.signals.exact import text_sha256
from takedown.storage import banks as bank_store
from takedown.storage import submissions as subs
from takedown.storage.casework import queue
from takedown.storage.tables import cases


def test_threat_to_life_is_escalated_and_removal_orders_come_first(settings: Settings) -> None:
    runtime = Runtime(settings)
    try:
        with runtime.engine.begin() as conn:
            bank_store_setup(conn)
        runtime.follower.poll()
        items = [
            make_submission(item_id="threat", kind=ContentKind.TEXT, text="a banked threat"),
            make_submission(item_id="praise", kind=ContentKind.TEXT, text="banked praise"),
            make_submission(
                item_id="ordered",
                kind=ContentKind.TEXT,
                text="anything at all",
                metadata={"removal_order": True},
            ),
        ]
        ingest.accept(runtime.engine, runtime.queue, items)
        while runtime.worker.run_once():
            pass
        with runtime.engine.connect() as conn:
            states = {
                row.item_id: (row.state, row.due_at, row.received_at)
                for row in conn.execute(
                    select(
                        cases.c.state,
                        cases.c.due_at,
                        subs.submissions.c.item_id,
                        subs.submissions.c.received_at,
                    ).join(subs.submissions, subs.submissions.c.id == cases.c.submission_id)
                )
            }
            ordered = [c["item_id"] for c in queue(conn, states=("open",))]
        assert states["threat"][0] == "escalated"
        assert states["praise"][0] == "open" and states["praise"][1] is None
        state, due, received = states["ordered"]
        assert state == "open" and due - received == timedelta(hours=1)
        assert ordered[0] == "ordered"
        decision = ingest.status(runtime.engine, "ordered")["decision"]
        assert decision["action"] == "remove"  # type: ignore[index]
    finally:
        runtime.close()


def bank_store_setup(conn: Connection) -> None:
    for name, label, text in (
        ("threats", TvecLabel.THREAT_TO_LIFE, "a banked threat"),
        ("praise", TvecLabel.PRAISE, "banked praise"),
    ):
        bank_store.upsert_bank(conn, Bank(name, label), actor="t")
        bank_store.add_entries(conn, name, [("text_sha256", text_sha256(text), None)], actor="t")
