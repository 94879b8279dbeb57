"""Flood quarantine: an entry that suddenly matches too much stops auto-removing."""

from __future__ import annotations

from takedown.config import Settings
from takedown.core.banks import Bank
from takedown.core.content import ContentKind, make_submission
from takedown.core.taxonomy import TvecLabel
from takedown.services import ingest
from takedown.services.flood import release
from takedown.services.runtime import Runtime
from takedown.signals.exact import text_sha256
from takedown.storage import banks as bank_store
from takedown.storage.ledger import iter_events


def _submit(runtime: Runtime, item_id: str) -> str:
    item = make_submission(item_id=item_id, kind=ContentKind.TEXT, text="the banked text")
    ingest.accept(runtime.engine, runtime.queue, [item])
    while runtime.worker.run_once():
        pass
    return str(ingest.status(runtime.engine, item_id)["decision"]["action"])  # type: ignore[index]


def test_flooding_entry_goes_to_review_until_released(settings: Settings) -> None:
    runtime = Runtime(settings.with_(flood_per_hour=3))
    try:
        with runtime.engine.begin() as conn:
            bank_store.upsert_bank(conn, Bank("b", TvecLabel.PRAISE), actor="t")
            bank_store.add_entries(
                conn, "b", [("text_sha256", text_sha256("the banked text"), None)], actor="t"
            )
        runtime.follower.poll()
        actions = [_submit(runtime, f"i{n}") for n in range(5)]
        assert actions == ["remove", "remove", "remove", "queue", "queue"]
        with runtime.engine.connect() as conn:
            events = [e for e in iter_events(conn) if e.type == "bank.entry_quarantined"]
        assert len(events) == 1 and events[0].payload["entry_id"] == 1
        status = ingest.status(runtime.engine, "i3")
        assert status["decision"]["provenance"]["rule"].startswith("flood-quarantine:")  # type: ignore[index]
        assert status["cases"]
        with runtime.engine.begin() as conn:
            release(conn, 1, actor="admin")
        assert _submit(runtime, "i5") == "remove"
    finally:
        runtime.close()
