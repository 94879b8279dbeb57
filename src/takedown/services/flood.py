"""Flood quarantine: a bank entry that suddenly matches too much stops driving automated actions.

A wrongly banked hash (a meme template, a news photo) can remove thousands of items in an hour.
When one entry matches more than `per_hour` items within the last hour it is quarantined: its
findings are marked, decisions that rest on it are downgraded to human review, and the ledger
records it. An admin releases the entry once it has been checked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, delete, func, select, update

from takedown.core.decisions import ActionKind, Decision
from takedown.core.errors import NotFound
from takedown.core.findings import Finding
from takedown.storage.ledger import append_event
from takedown.storage.tables import bank_entries, entry_hits

WINDOW = timedelta(hours=1)
AUTOMATED_ACTIONS = frozenset({ActionKind.REMOVE, ActionKind.SUSPEND, ActionKind.RESTRICT})


class FloodGuard:
    def __init__(self, per_hour: int) -> None:
        self.per_hour = per_hour

    def annotate(self, conn: Connection, findings: Sequence[Finding]) -> list[Finding]:
        """Mark findings whose entry is (or has just become) quarantined."""
        entry_ids = sorted({f.entry_id for f in findings if f.entry_id is not None})
        if not entry_ids:
            return list(findings)
        quarantined = set(
            conn.execute(
                select(bank_entries.c.id).where(
                    bank_entries.c.id.in_(entry_ids), bank_entries.c.quarantined_at.is_not(None)
                )
            ).scalars()
        )
        since = datetime.now(UTC) - WINDOW
        counts: dict[int, int] = {
            int(entry_id): int(n)
            for entry_id, n in conn.execute(
                select(entry_hits.c.entry_id, func.count())
                .where(entry_hits.c.entry_id.in_(entry_ids), entry_hits.c.at >= since)
                .group_by(entry_hits.c.entry_id)
            ).all()
        }
        flooding = {e for e in entry_ids if counts.get(e, 0) >= self.per_hour}
        marked = quarantined | flooding
        return [
            replace(f, evidence={**f.evidence, "quarantined": True}) if f.entry_id in marked else f
            for f in findings
        ]

    def record(self, conn: Connection, submission_row: int, findings: Sequence[Finding]) -> None:
        """Count this item's matches and quarantine entries that crossed the line (in the item's
        own transaction, so the count and the decision agree)."""
        now = datetime.now(UTC)
        for entry_id in sorted({f.entry_id for f in findings if f.entry_id is not None}):
            conn.execute(
                entry_hits.insert().values(entry_id=entry_id, submission_id=submission_row, at=now)
            )
        newly = sorted(
            {
                f.entry_id
                for f in findings
                if f.entry_id is not None and f.evidence.get("quarantined")
            }
        )
        for entry_id in newly:
            changed = conn.execute(
                update(bank_entries)
                .where(bank_entries.c.id == entry_id, bank_entries.c.quarantined_at.is_(None))
                .values(quarantined_at=now)
            ).rowcount
            if changed:
                append_event(
                    conn,
                    "bank.entry_quarantined",
                    f"entry:{entry_id}",
                    {"entry_id": entry_id, "per_hour": self.per_hour},
                    actor="flood-guard",
                )


def guard_decision(decision: Decision, findings: Sequence[Finding]) -> Decision:
    """An automated action resting on a quarantined entry becomes a review case instead."""
    if decision.action not in AUTOMATED_ACTIONS:
        return decision
    involved = set(decision.provenance.entry_ids)
    if not any(f.evidence.get("quarantined") and f.entry_id in involved for f in findings):
        return decision
    return replace(
        decision,
        action=ActionKind.QUEUE,
        grounds=f"{decision.grounds} Held for review: the bank entry is in flood quarantine.",
        open_case=True,
        provenance=replace(
            decision.provenance, rule=f"flood-quarantine:{decision.provenance.rule}"
        ),
    )


def release(conn: Connection, entry_id: int, *, actor: str) -> None:
    """Lift the quarantine after a person checked the entry; its hit count starts again."""
    changed = conn.execute(
        update(bank_entries)
        .where(bank_entries.c.id == entry_id, bank_entries.c.quarantined_at.is_not(None))
        .values(quarantined_at=None)
    ).rowcount
    if not changed:
        raise NotFound(f"bank entry {entry_id} is not quarantined")
    conn.execute(delete(entry_hits).where(entry_hits.c.entry_id == entry_id))
    append_event(
        conn, "bank.entry_released", f"entry:{entry_id}", {"entry_id": entry_id}, actor=actor
    )
