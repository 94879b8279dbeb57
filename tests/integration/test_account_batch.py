"""The worker's batched account upkeep gives exactly the account state that one update per item
gives: same stats, risk, reasons, strikes, evader links and account decisions, including the
cases where one item of a batch changes what a later one sees (a suspension that makes another
account of the same batch a bad neighbour or a ban evader)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from takedown.accounts.model import AccountProfile, Interaction
from takedown.config import Settings
from takedown.core.banks import Bank
from takedown.core.content import ContentKind, make_submission
from takedown.core.taxonomy import TvecLabel
from takedown.services import ingest
from takedown.services.runtime import Runtime
from takedown.signals.exact import text_sha256
from takedown.storage import banks as bank_store
from takedown.storage.account_tables import (
    account_decisions,
    account_links,
    account_strikes,
    accounts,
)

BANNED = [f"banked propaganda text number {n}" for n in range(4)]
PROFILE = {"display_name": "Abu Qaqa al-Shami", "bio": "Soldier of the caliphate. Baqiyah.",
           "avatar_pdq": "f0e1" * 16}


def _script() -> list[tuple[str, str]]:
    """(account, text) in posting order: 'sus' earns a suspension part-way through, 'ev' (its
    look-alike) posts after it, 'fan' amplifies both, 'calm' posts only ordinary text."""
    out: list[tuple[str, str]] = []
    for n in range(6):
        out.append(("calm", f"an ordinary post about the harbour, number {n}"))
        out.append(("fan", f"look at this, number {n}"))
        if n < 4:
            out.append(("sus", BANNED[n]))
        out.append(("ev", f"hello again friends, number {n}"))
    out.append(("calm", BANNED[0]))
    return out


def _prepare(runtime: Runtime, prefix: str) -> None:
    runtime.accounts.upsert_profiles([
        AccountProfile(f"{prefix}sus", **PROFILE),  # type: ignore[arg-type]
        AccountProfile(f"{prefix}ev", **{**PROFILE, "display_name": "Abu Qaqa al-Shaami 2"}),  # type: ignore[arg-type]
    ])
    runtime.accounts.add_interactions([
        Interaction(f"{prefix}fan", f"{prefix}{target}", "amplify",
                    datetime(2026, 11, 1, 9, tzinfo=UTC)) for target in ("sus", "ev")
    ])
    ingest.accept(runtime.engine, runtime.queue, [
        make_submission(item_id=f"{prefix}{n}", kind=ContentKind.TEXT,
                        account_id=f"{prefix}{account}", text=text,
                        metadata={"posted_at": f"2026-11-01T10:{n:02d}:00Z"})
        for n, (account, text) in enumerate(_script())
    ])


def _state(runtime: Runtime, prefix: str) -> dict[str, Any]:
    def strip(value: Any) -> Any:
        return str(value).replace(prefix, "") if isinstance(value, str) else value

    with runtime.engine.connect() as conn:
        rows = conn.execute(select(accounts).where(accounts.c.account_id.like(f"{prefix}%"))
                            .order_by(accounts.c.account_id)).all()
        strikes = conn.execute(select(account_strikes.c.account_id, account_strikes.c.label,
                                      account_strikes.c.weight, account_strikes.c.at)
                               .where(account_strikes.c.account_id.like(f"{prefix}%"))
                               .order_by(account_strikes.c.account_id,
                                         account_strikes.c.at)).all()
        made = conn.execute(select(account_decisions.c.account_id, account_decisions.c.action,
                                   account_decisions.c.label, account_decisions.c.rule,
                                   account_decisions.c.proactive)
                            .where(account_decisions.c.account_id.like(f"{prefix}%"))
                            .order_by(account_decisions.c.id)).all()
        links = conn.execute(select(account_links.c.account_id, account_links.c.suspended_id,
                                    account_links.c.score)
                             .where(account_links.c.account_id.like(f"{prefix}%"))
                             .order_by(account_links.c.account_id)).all()
    return {
        "accounts": [{"id": strip(r.account_id), "state": r.state, "risk": r.risk,
                      "evader": r.evader_score, "reasons": r.reasons, "stats": r.stats}
                     for r in rows],
        "strikes": [tuple(strip(v) for v in r) for r in strikes],
        "decisions": [tuple(strip(v) for v in r) for r in made],
        "links": [tuple(strip(v) for v in r) for r in links],
    }


def test_a_batch_gives_the_same_account_state_as_item_by_item(settings: Settings) -> None:
    settings = settings.with_(classifier=False)
    one = Runtime(settings.with_(worker_batch=1))
    many = Runtime(settings.with_(worker_batch=64))
    try:
        with one.engine.begin() as conn:
            bank_store.upsert_bank(conn, Bank("known", TvecLabel.PRAISE), actor="test")
            bank_store.add_entries(conn, "known", [("text_sha256", text_sha256(t), None)
                                                   for t in BANNED], actor="test")
        one.follower.load_all()
        many.follower.load_all()
        # The reference: the per-item actioner, one item per transaction.
        one.worker.actioners = [one.accounts.on_item_decision]
        one.worker.batch_actioners = []
        _prepare(one, "i-")
        while one.worker.run_once():
            pass
        _prepare(many, "b-")
        assert many.worker.run_once() == len(_script())
        item_by_item, batched = _state(one, "i-"), _state(many, "b-")
    finally:
        one.close()
        many.close()
    states = {a["id"]: a["state"] for a in item_by_item["accounts"]}
    assert states["sus"] == "suspended" and states["ev"] == "suspended", states
    assert states["calm"] != "suspended"
    fan = next(a for a in item_by_item["accounts"] if a["id"] == "fan")
    assert "graph" in {r["signal"] for r in fan["reasons"]}, fan["reasons"]
    assert len(item_by_item["strikes"]) == 5 and item_by_item["links"]
    assert batched == item_by_item
