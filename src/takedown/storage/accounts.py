"""Account rows and their side tables: small functions on a Connection, so the service composes
them inside one transaction with the ledger event that records the change."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, func, or_, select
from sqlalchemy.exc import IntegrityError

from takedown.accounts.model import AccountProfile, AccountStats, Interaction
from takedown.accounts.strikes import Strike
from takedown.core.tenancy import SEPARATOR, split_key
from takedown.storage.account_tables import (
    account_cases,
    account_decisions,
    account_interactions,
    account_links,
    account_strikes,
    accounts,
)
from takedown.storage.tables import decisions, reports, submissions

RISKY = 0.6
"""A neighbour at or above this risk counts as 'bad' for the amplification-graph signal."""


def get(conn: Connection, account_id: str, *, lock: bool = False) -> dict[str, Any] | None:
    """`lock` takes the row lock (PostgreSQL) so concurrent workers update stats in turn."""
    query = select(accounts).where(accounts.c.account_id == account_id)
    row = conn.execute(query.with_for_update() if lock else query).first()
    return dict(row._mapping) if row is not None else None


def ensure(conn: Connection, account_id: str, now: datetime) -> tuple[dict[str, Any], bool]:
    """The account's row (locked), created blank the first time an item or interaction names
    it."""
    row = get(conn, account_id, lock=True)
    if row is not None:
        return row, False
    try:
        with conn.begin_nested():
            conn.execute(accounts.insert().values(
                account_id=account_id, first_seen_at=now, updated_at=now, state="active",
                risk=0.0, evader_score=0.0, reasons=[], stats={}))
    except IntegrityError:
        # Another worker created it a moment ago: a race on a new account is not a failure
        # (the worker would read an IntegrityError as "item already decided").
        row = get(conn, account_id, lock=True)
        assert row is not None
        return row, False
    created = get(conn, account_id)
    assert created is not None
    return created, True


def lock_many(conn: Connection, account_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The rows of many accounts, locked in account-id order (PostgreSQL): one query for a
    worker batch, and a fixed lock order so two workers' batches cannot deadlock."""
    query = (select(accounts).where(accounts.c.account_id.in_(sorted(account_ids)))
             .order_by(accounts.c.account_id).with_for_update())
    return {row.account_id: dict(row._mapping) for row in conn.execute(query)}


def create_many(conn: Connection, account_ids: Sequence[str], now: datetime
                ) -> dict[str, dict[str, Any]]:
    """Blank rows for accounts seen for the first time, in one insert; if another worker
    created one of them meanwhile, each is ensured alone instead."""
    ids = sorted(set(account_ids))
    if not ids:
        return {}
    try:
        with conn.begin_nested():
            conn.execute(accounts.insert(), [
                {"account_id": a, "first_seen_at": now, "updated_at": now, "state": "active",
                 "risk": 0.0, "evader_score": 0.0, "reasons": [], "stats": {}} for a in ids])
    except IntegrityError:
        return {a: ensure(conn, a, now)[0] for a in ids}
    return lock_many(conn, ids)


def save_many(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Write back the mutable columns of many account rows in one executemany."""
    if not rows:
        return
    conn.execute(
        accounts.update().where(accounts.c.account_id == bindparam("aid")).values(
            stats=bindparam("stats"), risk=bindparam("risk"),
            evader_score=bindparam("evader_score"), reasons=bindparam("reasons"),
            state=bindparam("state"), updated_at=bindparam("updated_at")),
        [{"aid": r["account_id"], "stats": r["stats"], "risk": r["risk"],
          "evader_score": r["evader_score"], "reasons": r["reasons"], "state": r["state"],
          "updated_at": r["updated_at"]} for r in rows])


def upsert_profile(conn: Connection, profile: AccountProfile, now: datetime
                   ) -> tuple[dict[str, Any], bool]:
    """Store what the platform sent; fields it left out keep their stored value."""
    row, created = ensure(conn, profile.account_id, now)
    values: dict[str, Any] = {"updated_at": now}
    for name in ("display_name", "bio", "avatar_pdq", "created_at"):
        value = getattr(profile, name)
        if value is not None:
            values[name] = value
    if profile.platform:
        stats = dict(row["stats"] or {})
        stats.setdefault("extra", {})["platform"] = profile.platform
        values["stats"] = stats
    conn.execute(accounts.update().where(accounts.c.account_id == profile.account_id)
                 .values(**values))
    updated = get(conn, profile.account_id)
    assert updated is not None
    return updated, created


def save(conn: Connection, account_id: str, **values: Any) -> None:
    conn.execute(accounts.update().where(accounts.c.account_id == account_id).values(**values))


def stats_of(row: dict[str, Any]) -> AccountStats:
    return AccountStats.from_json(row.get("stats"))


def add_interactions(conn: Connection, items: Sequence[Interaction]) -> None:
    if items:
        conn.execute(account_interactions.insert(), [
            {"account_id": i.account_id, "target_id": i.target_id, "kind": i.kind, "at": i.at}
            for i in items])


def neighbours(conn: Connection, account_id: str) -> set[str]:
    """Accounts it follows or amplifies, and accounts amplifying it. Replies are left out:
    answering an account (counter-speech does) is not endorsing it."""
    out = conn.execute(select(account_interactions.c.target_id).where(
        account_interactions.c.account_id == account_id,
        account_interactions.c.kind != "reply")).scalars()
    inbound = conn.execute(select(account_interactions.c.account_id).where(
        account_interactions.c.target_id == account_id,
        account_interactions.c.kind == "amplify")).scalars()
    return (set(out) | set(inbound)) - {account_id}


def neighbours_many(conn: Connection, account_ids: Sequence[str]) -> dict[str, set[str]]:
    """`neighbours` of many accounts in two queries."""
    ids = sorted(set(account_ids))
    out: dict[str, set[str]] = {a: set() for a in ids}
    if not ids:
        return out
    for source, target in conn.execute(select(
            account_interactions.c.account_id, account_interactions.c.target_id).where(
            account_interactions.c.account_id.in_(ids), account_interactions.c.kind != "reply")):
        out[source].add(target)
    for source, target in conn.execute(select(
            account_interactions.c.account_id, account_interactions.c.target_id).where(
            account_interactions.c.target_id.in_(ids), account_interactions.c.kind == "amplify")):
        out[target].add(source)
    for account, hood in out.items():
        hood.discard(account)
    return out


HUB_FOLLOWERS = 25
"""An account followed by more than this many others (a news outlet, a celebrity) says
nothing about who follows it; it is left out of contact overlap for evader linking."""


def identity_neighbours(conn: Connection, ids: Iterable[str]) -> set[str]:
    """`ids` without hubs (accounts with more than HUB_FOLLOWERS followers)."""
    ids = set(ids)
    if not ids:
        return ids
    hubs = conn.execute(
        select(account_interactions.c.target_id)
        .where(account_interactions.c.target_id.in_(sorted(ids)),
               account_interactions.c.kind == "follow")
        .group_by(account_interactions.c.target_id)
        .having(func.count() > HUB_FOLLOWERS)).scalars()
    return ids - set(hubs)


def bad_neighbours(conn: Connection, ids: Iterable[str]) -> int:
    ids = list(ids)
    if not ids:
        return 0
    return int(conn.execute(select(func.count()).select_from(accounts).where(
        accounts.c.account_id.in_(ids),
        or_(accounts.c.state == "suspended", accounts.c.risk >= RISKY))).scalar_one())


def bad_among(conn: Connection, ids: Iterable[str]) -> set[str]:
    """Which of `ids` count as bad neighbours (the rows `bad_neighbours` counts)."""
    ids = sorted(set(ids))
    if not ids:
        return set()
    return set(conn.execute(select(accounts.c.account_id).where(
        accounts.c.account_id.in_(ids),
        or_(accounts.c.state == "suspended", accounts.c.risk >= RISKY))).scalars())


def is_bad(row: dict[str, Any]) -> bool:
    return row["state"] == "suspended" or float(row["risk"] or 0.0) >= RISKY


def strikes(conn: Connection, account_id: str) -> list[Strike]:
    rows = conn.execute(select(account_strikes).where(account_strikes.c.account_id == account_id)
                        .order_by(account_strikes.c.at)).all()
    return [Strike(r.label, r.at, float(r.weight), r.reason) for r in rows]


def strikes_many(conn: Connection, account_ids: Sequence[str]) -> dict[str, list[Strike]]:
    out: dict[str, list[Strike]] = {a: [] for a in account_ids}
    rows = conn.execute(select(account_strikes).where(
        account_strikes.c.account_id.in_(sorted(set(account_ids))))
        .order_by(account_strikes.c.at)).all()
    for r in rows:
        out[r.account_id].append(Strike(r.label, r.at, float(r.weight), r.reason))
    return out


def add_strikes(conn: Connection, rows: Sequence[tuple[str, int | None, Strike]]) -> None:
    if rows:
        conn.execute(account_strikes.insert(), [
            {"account_id": a, "decision_id": d, "label": s.label, "weight": s.weight,
             "reason": s.reason, "at": s.at} for a, d, s in rows])


def add_strike(conn: Connection, account_id: str, decision_id: int | None, strike: Strike
               ) -> None:
    conn.execute(account_strikes.insert().values(
        account_id=account_id, decision_id=decision_id, label=strike.label,
        weight=strike.weight, reason=strike.reason, at=strike.at))


def report_count(conn: Connection, account_id: str) -> int:
    """User notices on any item the account posted (the basis of 'proactive')."""
    return int(conn.execute(
        select(func.count()).select_from(
            reports.join(submissions, submissions.c.id == reports.c.submission_id))
        .where(*_posted_by(account_id))).scalar_one())


def report_counts(conn: Connection, account_ids: Sequence[str]) -> dict[str, int]:
    """`report_count` of many accounts (stored keys) in one grouped query."""
    ids = sorted(set(account_ids))
    out = dict.fromkeys(ids, 0)
    if not ids:
        return out
    keys = {split_key(key): key for key in ids}
    for tenant, account, count in conn.execute(
            select(submissions.c.tenant, submissions.c.account_id, func.count())
            .select_from(reports.join(submissions, submissions.c.id == reports.c.submission_id))
            .where(submissions.c.account_id.in_({a for _, a in keys}))
            .group_by(submissions.c.tenant, submissions.c.account_id)):
        key = keys.get((tenant or "", account))
        if key is not None:
            out[key] = int(count)
    return out


def insert_decision(conn: Connection, *, account_id: str, action: str, label: str, rule: str,
                    proactive: bool, actor: str, body: dict[str, Any], now: datetime) -> int:
    key = conn.execute(account_decisions.insert().values(
        account_id=account_id, action=action, label=label, rule=rule, proactive=proactive,
        actor=actor, body=body, created_at=now)).inserted_primary_key
    assert key is not None
    return int(key[0])


def decisions_for(conn: Connection, account_id: str) -> list[dict[str, Any]]:
    rows = conn.execute(select(account_decisions).where(
        account_decisions.c.account_id == account_id).order_by(account_decisions.c.id)).all()
    return [dict(r._mapping) for r in rows]


def upsert_link(conn: Connection, account_id: str, suspended_id: str, score: float,
                evidence: dict[str, Any], now: datetime) -> None:
    existing = conn.execute(select(account_links.c.id).where(
        account_links.c.account_id == account_id,
        account_links.c.suspended_id == suspended_id)).scalar()
    if existing is None:
        conn.execute(account_links.insert().values(
            account_id=account_id, suspended_id=suspended_id, score=score, evidence=evidence,
            created_at=now))
    else:
        conn.execute(account_links.update().where(account_links.c.id == existing)
                     .values(score=score, evidence=evidence))


def links_for(conn: Connection, account_id: str) -> list[dict[str, Any]]:
    rows = conn.execute(select(account_links).where(account_links.c.account_id == account_id)
                        .order_by(account_links.c.score.desc())).all()
    return [dict(r._mapping) for r in rows]


def open_case(conn: Connection, account_id: str, *, state: str, priority: int, reason: str,
              decision_id: int | None, now: datetime) -> int:
    key = conn.execute(account_cases.insert().values(
        account_id=account_id, state=state, priority=priority, reason=reason[:2000],
        decision_id=decision_id, opened_at=now, updated_at=now)).inserted_primary_key
    assert key is not None
    return int(key[0])


def cases_for(conn: Connection, account_id: str) -> list[dict[str, Any]]:
    rows = conn.execute(select(account_cases).where(account_cases.c.account_id == account_id)
                        .order_by(account_cases.c.id)).all()
    return [dict(r._mapping) for r in rows]


def case(conn: Connection, case_id: int) -> dict[str, Any] | None:
    row = conn.execute(select(account_cases).where(account_cases.c.id == case_id)).first()
    return dict(row._mapping) if row is not None else None


def update_case(conn: Connection, case_id: int, **values: Any) -> None:
    conn.execute(account_cases.update().where(account_cases.c.id == case_id).values(**values))


def queue(conn: Connection, states: Sequence[str] = ("open", "appealed"), limit: int = 100
          ) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(account_cases, accounts.c.display_name, accounts.c.risk, accounts.c.state
               .label("account_state"))
        .join(accounts, accounts.c.account_id == account_cases.c.account_id)
        .where(account_cases.c.state.in_(list(states)))
        .order_by(account_cases.c.priority.desc(), account_cases.c.opened_at)
        .limit(limit)).all()
    return [dict(r._mapping) for r in rows]


def keys_named(conn: Connection, account_id: str) -> list[str]:
    """Stored keys of every tenant's account with platform id `account_id`."""
    return [str(k) for k in conn.execute(select(accounts.c.account_id).where(
        (accounts.c.account_id == account_id)
        | accounts.c.account_id.endswith(f"{SEPARATOR}{account_id}", autoescape=True)
    ).order_by(accounts.c.account_id)).scalars()]


def listing(conn: Connection, *, state: str | None = None, min_risk: float | None = None,
            limit: int = 100, offset: int = 0, tenant: str | None = None
            ) -> list[dict[str, Any]]:
    """With `tenant`, only that tenant's accounts (keys of core/tenancy.py)."""
    query = select(accounts.c.account_id, accounts.c.display_name, accounts.c.state,
                   accounts.c.risk, accounts.c.evader_score, accounts.c.updated_at)
    if tenant == "":
        query = query.where(accounts.c.account_id.not_like(f"%{SEPARATOR}%"))
    elif tenant is not None:
        query = query.where(accounts.c.account_id.startswith(f"{tenant}{SEPARATOR}",
                                                              autoescape=True))
    if state is not None:
        query = query.where(accounts.c.state == state)
    if min_risk is not None:
        query = query.where(accounts.c.risk >= min_risk)
    rows = conn.execute(query.order_by(accounts.c.account_id).limit(limit).offset(offset)).all()
    return [dict(r._mapping) for r in rows]


def suspended(conn: Connection) -> Iterator[dict[str, Any]]:
    for row in conn.execute(select(accounts).where(accounts.c.state == "suspended")):
        yield dict(row._mapping)


def items_for(conn: Connection, account_id: str, limit: int = 50) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(submissions.c.item_id, submissions.c.kind, submissions.c.received_at,
               decisions.c.action, decisions.c.label)
        .select_from(submissions.outerjoin(
            decisions, (decisions.c.submission_id == submissions.c.id)
            & (decisions.c.stage == "auto")))
        .where(*_posted_by(account_id))
        .order_by(submissions.c.id.desc()).limit(limit)).all()
    return [dict(r._mapping) for r in rows]


def _posted_by(key: str) -> tuple[Any, Any]:
    """Submissions by the account stored as `key`: items keep the platform id and a tenant."""
    tenant, account_id = split_key(key)
    return submissions.c.tenant == tenant, submissions.c.account_id == account_id
