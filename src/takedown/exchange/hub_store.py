"""What a hub does with entries, on one database connection: submissions, the delta feed,
feedback and retraction. Each function runs inside the caller's transaction and appends its
ledger event there, so a change and its audit record commit together.

Feed order is the `seq` column. Every write takes the ledger lock first (PostgreSQL advisory
lock; SQLite's write lock), so sequence numbers are handed out and committed in order and a
consumer reading `seq > cursor` can never skip a row that commits later with a smaller number.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, String, func, select, text, type_coerce, update

from takedown.core.errors import Forbidden, InvalidInput, NotFound
from takedown.core.taxonomy import parse_label
from takedown.exchange.hub_members import HubRole, Member, parse_enum
from takedown.exchange.hub_tables import hub_entries, hub_feedback, hub_members
from takedown.signals.registry import SignalRegistry
from takedown.storage.ledger import LEDGER_LOCK_ID, append_event

MAX_VALUE_CHARS = 512
MAX_NOTE_CHARS = 2000
MAX_TAGS = 32
_HEX = re.compile(r"[0-9a-f]+")


class Sharing(StrEnum):
    """Who may read an entry: every member, or only members who contribute themselves."""

    MEMBERS = "members"
    CONTRIBUTORS = "contributors"


class HubVerdict(StrEnum):
    SEEN = "seen"
    TRUE_POSITIVE = "true_positive"
    FALSE_POSITIVE = "false_positive"


def _lock(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LEDGER_LOCK_ID})


def _next_seq(conn: Connection) -> int:
    return int(conn.execute(select(func.coalesce(func.max(hub_entries.c.seq), 0))).scalar_one())


def _sample(registry: SignalRegistry, signal_type: str, cache: dict[str, str]) -> str:
    """An example value of the type (hashers build theirs from an image, so once per call)."""
    if signal_type not in cache:
        examples = registry.get(signal_type).examples()
        cache[signal_type] = examples[0][1] if examples else ""
    return cache[signal_type]


def _check_value(
    registry: SignalRegistry, signal_type: str, value: str, samples: dict[str, str]
) -> str:
    """Canonicalise a hash and refuse what is not one: the hub stores hashes, never content."""
    canonical = registry.canonical(signal_type, value)
    if not canonical or len(canonical) > MAX_VALUE_CHARS:
        raise InvalidInput(f"a {signal_type} value must be 1 to {MAX_VALUE_CHARS} characters")
    sample = _sample(registry, signal_type, samples)
    if (
        sample
        and _HEX.fullmatch(sample)
        and not (_HEX.fullmatch(canonical) and len(canonical) == len(sample))
    ):
        raise InvalidInput(f"{value[:80]!r} is not a {signal_type} hash ({len(sample)} hex digits)")
    return canonical


def _clean_item(
    registry: SignalRegistry, item: Mapping[str, Any], samples: dict[str, str], names: set[str]
) -> dict[str, Any]:
    signal_type = str(item.get("signal_type", ""))
    if signal_type not in names:
        raise InvalidInput(
            f"unknown signal type {signal_type!r}", hint=f"known: {', '.join(sorted(names))}"
        )
    value = _check_value(registry, signal_type, str(item.get("value", "")), samples)
    label = parse_label(str(item.get("label", ""))).value
    severity = int(item.get("severity", 3))
    if not 1 <= severity <= 5:
        raise InvalidInput("'severity' must be 1 to 5")
    tags = [str(t)[:64] for t in item.get("tags") or []]
    if len(tags) > MAX_TAGS:
        raise InvalidInput(f"at most {MAX_TAGS} tags per entry")
    note = item.get("note")
    if note is not None and len(str(note)) > MAX_NOTE_CHARS:
        raise InvalidInput(f"'note' must be at most {MAX_NOTE_CHARS} characters")
    sharing = parse_enum(Sharing, str(item.get("sharing", Sharing.MEMBERS.value)), "sharing")
    return {
        "signal_type": signal_type,
        "value": value,
        "label": label,
        "severity": severity,
        "tags": tags,
        "note": None if note is None else str(note),
        "sharing": sharing.value,
        "crisis": bool(item.get("crisis", False)),
    }


def submit(
    conn: Connection, member: Member, items: Sequence[Mapping[str, Any]], registry: SignalRegistry
) -> list[dict[str, Any]]:
    """Add or update a member's entries. All items are checked before anything is written, so a
    bad item (reported with its position) loses nothing and writes nothing."""
    member.require(HubRole.CONTRIBUTOR)
    cleaned: list[dict[str, Any]] = []
    samples: dict[str, str] = {}
    names = set(registry.names())
    for position, item in enumerate(items):
        try:
            cleaned.append(_clean_item(registry, item, samples, names))
        except InvalidInput as error:
            raise InvalidInput(f"entry {position}: {error.message}", hint=error.hint) from None
    _lock(conn)
    now = datetime.now(UTC)
    seq = _next_seq(conn)
    existing: dict[tuple[str, str], int] = {}
    for signal_type in {c["signal_type"] for c in cleaned}:
        values = [c["value"] for c in cleaned if c["signal_type"] == signal_type]
        for start in range(0, len(values), 500):
            rows = conn.execute(
                select(hub_entries.c.id, hub_entries.c.value).where(
                    hub_entries.c.member_id == member.id,
                    hub_entries.c.signal_type == signal_type,
                    hub_entries.c.value.in_(values[start : start + 500]),
                )
            )
            existing.update({(signal_type, r.value): int(r.id) for r in rows})
    results: list[dict[str, Any]] = []
    inserts: list[dict[str, Any]] = []
    for item in cleaned:
        seq += 1
        entry_id = existing.get((item["signal_type"], item["value"]))
        if entry_id is not None:
            conn.execute(
                update(hub_entries)
                .where(hub_entries.c.id == entry_id)
                .values(seq=seq, updated_at=now, retracted_at=None, **item)
            )
            results.append({"id": entry_id, "seq": seq, "created": False})
        else:
            inserts.append(
                {
                    "seq": seq,
                    "member_id": member.id,
                    "created_at": now,
                    "updated_at": now,
                    "disputed": False,
                    **item,
                }
            )
            results.append({"id": None, "seq": seq, "created": True})
    if inserts:
        conn.execute(hub_entries.insert(), inserts)
        ids = dict(
            conn.execute(
                select(hub_entries.c.seq, hub_entries.c.id).where(
                    hub_entries.c.seq >= inserts[0]["seq"]
                )
            ).all()
        )
        for result in results:
            if result["id"] is None:
                result["id"] = int(ids[result["seq"]])
    append_event(
        conn,
        "hub.entries_submitted",
        f"member:{member.id}",
        {
            "count": len(results),
            "created": sum(1 for r in results if r["created"]),
            "crisis": sum(1 for c in cleaned if c["crisis"]),
            "first_seq": results[0]["seq"] if results else None,
            "last_seq": seq if results else None,
        },
        actor=member.actor,
    )
    return results


def _entry_row(conn: Connection, entry_id: int) -> Any:
    row = conn.execute(select(hub_entries).where(hub_entries.c.id == entry_id)).first()
    if row is None:
        raise NotFound(f"no hub entry {entry_id}")
    return row


def _visible(member: Member, sharing: str) -> bool:
    return sharing == Sharing.MEMBERS.value or member.role is not HubRole.READER


def retract(conn: Connection, member: Member, entry_id: int) -> dict[str, Any]:
    """A contributor withdraws its own entry; it stays in the feed as a deletion."""
    member.require(HubRole.CONTRIBUTOR)
    _lock(conn)
    row = _entry_row(conn, entry_id)
    if int(row.member_id) != member.id and member.role is not HubRole.ADMIN:
        raise Forbidden(
            f"entry {entry_id} belongs to another member; only its contributor "
            "or an admin may retract it"
        )
    if row.retracted_at is not None:
        return {"id": entry_id, "seq": int(row.seq), "retracted": True}
    seq = _next_seq(conn) + 1
    now = datetime.now(UTC)
    conn.execute(
        update(hub_entries)
        .where(hub_entries.c.id == entry_id)
        .values(seq=seq, retracted_at=now, updated_at=now)
    )
    append_event(conn, "hub.entry_retracted", f"entry:{entry_id}", {"seq": seq}, actor=member.actor)
    return {"id": entry_id, "seq": seq, "retracted": True}


def feedback(
    conn: Connection,
    member: Member,
    entry_id: int,
    verdict: HubVerdict,
    *,
    note: str | None = None,
    dispute_votes: int = 2,
) -> dict[str, Any]:
    """Record one member's verdict (idempotent per member, entry and verdict). Enough distinct
    members voting false positive marks the entry disputed, which moves it up the feed so every
    consumer learns of it."""
    _lock(conn)
    row = _entry_row(conn, entry_id)
    if not _visible(member, row.sharing):
        raise NotFound(f"no hub entry {entry_id}")
    if note is not None and len(note) > MAX_NOTE_CHARS:
        raise InvalidInput(f"'note' must be at most {MAX_NOTE_CHARS} characters")
    known = conn.execute(
        select(hub_feedback.c.id).where(
            hub_feedback.c.entry_id == entry_id,
            hub_feedback.c.member_id == member.id,
            hub_feedback.c.verdict == verdict.value,
        )
    ).first()
    if known is None:
        conn.execute(
            hub_feedback.insert().values(
                entry_id=entry_id,
                member_id=member.id,
                verdict=verdict.value,
                note=note,
                at=datetime.now(UTC),
            )
        )
    counts = votes(conn, entry_id)
    disputed = counts.get(HubVerdict.FALSE_POSITIVE.value, 0) >= dispute_votes
    seq = int(row.seq)
    if disputed != bool(row.disputed):
        seq = _next_seq(conn) + 1
        conn.execute(
            update(hub_entries)
            .where(hub_entries.c.id == entry_id)
            .values(disputed=disputed, seq=seq, updated_at=datetime.now(UTC))
        )
    if known is None:
        append_event(
            conn,
            "hub.feedback",
            f"entry:{entry_id}",
            {"verdict": verdict.value, "disputed": disputed, "votes": counts},
            actor=member.actor,
        )
    return {"id": entry_id, "votes": counts, "disputed": disputed, "seq": seq}


def votes(conn: Connection, entry_id: int) -> dict[str, int]:
    """Distinct members per verdict."""
    rows = conn.execute(
        select(hub_feedback.c.verdict, func.count(func.distinct(hub_feedback.c.member_id)))
        .where(hub_feedback.c.entry_id == entry_id)
        .group_by(hub_feedback.c.verdict)
    )
    return {str(v): int(n) for v, n in rows}


def _members(conn: Connection) -> dict[int, str]:
    return {int(i): str(n) for i, n in conn.execute(select(hub_members.c.id, hub_members.c.name))}


def entry_json(row: Any, contributor: str) -> dict[str, Any]:
    return {
        "id": int(row.id),
        "seq": int(row.seq),
        "signal_type": row.signal_type,
        "value": row.value,
        "label": row.label,
        "severity": int(row.severity),
        "tags": list(row.tags or []),
        "contributor": contributor,
        "note": row.note,
        "sharing": row.sharing,
        "crisis": bool(row.crisis),
        "disputed": bool(row.disputed),
        "deleted": row.retracted_at is not None,
        "first_seen": row.created_at.isoformat(),
        "updated_at": row.updated_at.isoformat(),
    }


# The feed's columns read as the driver returns them (no per-row type processing): a page
# of 10,000 entries shares a handful of timestamps and tag lists, so each distinct raw value is
# converted once per page (`_FeedValues`) instead of three conversions per row.
_FEED_COLUMNS = (
    hub_entries.c.id,
    hub_entries.c.seq,
    hub_entries.c.member_id,
    hub_entries.c.signal_type,
    hub_entries.c.value,
    hub_entries.c.label,
    hub_entries.c.severity,
    type_coerce(hub_entries.c.tags, String).label("tags"),
    hub_entries.c.note,
    hub_entries.c.sharing,
    hub_entries.c.crisis,
    hub_entries.c.disputed,
    type_coerce(hub_entries.c.created_at, String).label("created_at"),
    type_coerce(hub_entries.c.updated_at, String).label("updated_at"),
    type_coerce(hub_entries.c.retracted_at, String).label("retracted_at"),
)


class _FeedValues:
    """Raw timestamps and tag lists (SQLite: text; PostgreSQL: datetime and list) to what
    `entry_json` writes, memoised per distinct raw value."""

    def __init__(self) -> None:
        self._times: dict[Any, str] = {}
        self._tags: dict[Any, list[str]] = {}

    def time(self, raw: Any) -> str:
        found = self._times.get(raw)
        if found is None:
            when = datetime.fromisoformat(raw) if isinstance(raw, str) else raw
            when = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
            found = self._times[raw] = when.isoformat()
        return found

    def tags(self, raw: Any) -> list[str]:
        if not raw:
            return []
        key = raw if isinstance(raw, str) else tuple(raw)
        found = self._tags.get(key)
        if found is None:
            found = self._tags[key] = list(json.loads(raw) if isinstance(raw, str) else raw)
        return found


def deltas(
    conn: Connection, member: Member, cursor: int, limit: int, *, crisis_only: bool = False
) -> tuple[list[dict[str, Any]], int, bool]:
    """Entries changed after `cursor`, in feed order, and the cursor that follows them, each
    as `entry_json` writes it. The cursor passes rows the member may not see, so paging never
    stalls on hidden entries."""
    query = select(*_FEED_COLUMNS).where(hub_entries.c.seq > cursor)
    if crisis_only:
        query = query.where(hub_entries.c.crisis.is_(True))
    rows = conn.execute(query.order_by(hub_entries.c.seq).limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    names = _members(conn) if rows else {}
    every = member.role is not HubRole.READER
    shared = Sharing.MEMBERS.value
    values = _FeedValues()
    entries = [
        {
            "id": int(r[0]),
            "seq": int(r[1]),
            "signal_type": r[3],
            "value": r[4],
            "label": r[5],
            "severity": int(r[6]),
            "tags": values.tags(r[7]),
            "contributor": names.get(int(r[2]), "?"),
            "note": r[8],
            "sharing": r[9],
            "crisis": bool(r[10]),
            "disputed": bool(r[11]),
            "deleted": r[14] is not None,
            "first_seen": values.time(r[12]),
            "updated_at": values.time(r[13]),
        }
        for r in rows
        if every or r[9] == shared
    ]
    return entries, (int(rows[-1][1]) if rows else cursor), more


def get_entry(conn: Connection, member: Member, entry_id: int) -> dict[str, Any]:
    row = _entry_row(conn, entry_id)
    if not _visible(member, row.sharing):
        raise NotFound(f"no hub entry {entry_id}")
    names = _members(conn)
    return {**entry_json(row, names.get(int(row.member_id), "?")), "votes": votes(conn, entry_id)}


def head(conn: Connection) -> int:
    return _next_seq(conn)
