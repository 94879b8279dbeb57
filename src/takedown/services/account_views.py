"""What reviewers and integrators read about accounts: one account's page (profile, state,
risk with reasons, strikes with decay, evader links with evidence, decisions, cases, items),
listings by state or risk, and the account case queue. Read-only, one snapshot each."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine

from takedown.accounts.model import AccountState
from takedown.accounts.strikes import effective_strikes
from takedown.core.errors import Conflict, InvalidInput, NotFound
from takedown.core.tenancy import SEPARATOR, account_key
from takedown.storage import accounts as store
from takedown.storage.db import reading


def page(engine: Engine, account_id: str) -> dict[str, Any]:
    """Everything a reviewer needs about one account (the API's and UI's account view)."""
    with reading(engine) as conn:
        row = store.get(conn, account_id)
        if row is None:
            raise NotFound(f"no account {account_id!r}")
        stats = store.stats_of(row)
        strikes = store.strikes(conn, account_id)
        activity = max([datetime.now(UTC),
                        *[datetime.fromtimestamp(t, UTC) for t in stats.recent[-1:]]])
        return {
            "account_id": account_id,
            "profile": {k: row.get(k) for k in ("display_name", "bio", "avatar_pdq")}
            | {"created_at": _iso(row.get("created_at")),
               "first_seen_at": _iso(row["first_seen_at"])},
            "state": row["state"], "risk": row["risk"], "evader_score": row["evader_score"],
            "reasons": row["reasons"],
            "stats": {k: v for k, v in stats.to_json().items()
                      if k not in ("recent", "extra")}
            | {"peak_per_hour": stats.peak_per_hour()},
            "strikes": {"effective": round(effective_strikes(strikes, now=activity), 3),
                        "items": [{"label": s.label, "at": s.at.isoformat(),
                                   "reason": s.reason} for s in strikes]},
            "reports": store.report_count(conn, account_id),
            "links": [{"suspended_id": link["suspended_id"], "score": link["score"],
                       "evidence": link["evidence"]}
                      for link in store.links_for(conn, account_id)],
            "decisions": [{"id": d["id"], "action": d["action"], "label": d["label"],
                           "rule": d["rule"], "proactive": d["proactive"],
                           "actor": d["actor"], "grounds": d["body"].get("grounds"),
                           "at": _iso(d["created_at"])}
                          for d in store.decisions_for(conn, account_id)],
            "cases": [{"id": c["id"], "state": c["state"], "priority": c["priority"],
                       "reason": c["reason"]} for c in store.cases_for(conn, account_id)],
            "items": [{"item_id": i["item_id"], "kind": i["kind"], "action": i["action"],
                       "label": i["label"]} for i in store.items_for(conn, account_id)],
        }

def resolve_key(engine: Engine, account_id: str, tenant: str | None) -> str:
    """The stored key a reviewer means by `account_id`: a key as given, the account of the
    named `tenant`, or the one tenant's account of that id (several: 409, name the tenant)."""
    if tenant is not None:
        return account_key(tenant, account_id)
    if SEPARATOR in account_id:
        return account_id
    with reading(engine) as conn:
        keys = store.keys_named(conn, account_id)
    if len(keys) > 1:
        raise Conflict(f"several tenants have an account {account_id!r}",
                       hint="name one with ?tenant=")
    return keys[0] if keys else account_id


def listing(engine: Engine, *, state: str | None = None, min_risk: float | None = None,
            limit: int = 100, offset: int = 0, tenant: str | None = None
            ) -> list[dict[str, Any]]:
    if state is not None and state not in {s.value for s in AccountState}:
        raise InvalidInput(f"unknown account state {state!r}",
                           hint=", ".join(s.value for s in AccountState))
    with reading(engine) as conn:
        rows = store.listing(conn, state=state, min_risk=min_risk, limit=limit,
                             offset=offset, tenant=tenant)
    return [{**r, "updated_at": _iso(r["updated_at"])} for r in rows]

def queue(engine: Engine, limit: int = 100) -> list[dict[str, Any]]:
    with reading(engine) as conn:
        return store.queue(conn, limit=limit)



def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
