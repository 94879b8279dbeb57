"""Backfill checkpoints: the partitions of an archive run, claimed with a lease and marked done.

A partition is done only after its items are stored (and announced), so a killed backfill
process leaves at most its claimed partitions to be claimed again when their lease expires;
re-reading them is harmless because submissions are idempotent by item id.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, and_, func, or_, select, update

from takedown.storage.tables import backfill_partitions as parts

PENDING = "pending"
CLAIMED = "claimed"
DONE = "done"


@dataclass(frozen=True)
class Partition:
    id: int
    run: str
    number: int
    source: str
    start: int
    stop: int


def plan(conn: Connection, run: str, ranges: Sequence[tuple[str, int, int]]) -> int:
    """Record a run's partitions once; a rerun of the same run keeps its checkpoints.
    Returns how many partitions the run has."""
    known = conn.execute(
        select(func.count()).select_from(parts).where(parts.c.run == run)
    ).scalar_one()
    if known:
        return int(known)
    if ranges:
        conn.execute(
            parts.insert(),
            [
                {"run": run, "partition": n, "source": source, "start": start, "stop": stop,
                 "status": PENDING, "items": 0, "errors": 0}
                for n, (source, start, stop) in enumerate(ranges)
            ],
        )
    return len(ranges)


def claim(conn: Connection, run: str, *, lease: timedelta) -> Partition | None:
    """The next partition nobody holds: pending, or claimed by a process whose lease ran out."""
    now = datetime.now(UTC)
    query = (
        select(parts)
        .where(
            parts.c.run == run,
            or_(parts.c.status == PENDING,
                and_(parts.c.status == CLAIMED, parts.c.claimed_until < now)),
        )
        .order_by(parts.c.partition)
        .limit(1)
    )
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    row = conn.execute(query).first()
    if row is None:
        return None
    conn.execute(
        update(parts).where(parts.c.id == row.id).values(status=CLAIMED, claimed_until=now + lease)
    )
    return Partition(int(row.id), row.run, int(row.partition), row.source, int(row.start),
                     int(row.stop))


def complete(conn: Connection, partition: Partition, *, items: int, errors: int) -> None:
    conn.execute(
        update(parts)
        .where(parts.c.id == partition.id)
        .values(status=DONE, claimed_until=None, items=items, errors=errors,
                done_at=datetime.now(UTC))
    )


def progress(conn: Connection, run: str) -> dict[str, int]:
    """Partitions by status and the items and bad records of the finished ones."""
    by_status: dict[str, int] = dict(
        conn.execute(
            select(parts.c.status, func.count()).where(parts.c.run == run).group_by(parts.c.status)
        ).all()
    )
    items, errors = conn.execute(
        select(
            func.coalesce(func.sum(parts.c["items"]), 0), func.coalesce(func.sum(parts.c.errors), 0)
        ).where(parts.c.run == run)
    ).one()
    total = sum(int(n) for n in by_status.values())
    return {"partitions": total, "done": int(by_status.get(DONE, 0)), "items": int(items),
            "errors": int(errors)}
