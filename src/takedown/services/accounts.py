"""Account enforcement: keeps each account's behaviour, risk and evader links current, applies
the policy's account rules, and sends account decisions out like item decisions.

Three things change an account and each re-assesses it in the same transaction:
- a decided item (`on_item_decision`, plugged into the worker as an actioner, so the account
  update commits or rolls back with the item's decision);
- a profile upsert from the platform (`upsert_profiles`) — the moment a returning suspended user
  is most visible, before it has posted anything;
- new interactions (`add_interactions`): follows, amplifications, replies.

An account decision is recorded as an `account_decisions` row and an `account.decided` ledger
event {account_id, action, proactive, label, decision_id}; *proactive* means no user had
reported the account or any of its items when Takedown decided. It goes out as a signed webhook
(topic `account_decision`) and, for a Mastodon account, as an admin-API suspend or silence.
"""

from __future__ import annotations

import hashlib
import threading
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, select

from takedown.accounts.evaders import EvaderIndex, EvaderLink, Fingerprint
from takedown.accounts.model import (
    AccountProfile,
    AccountState,
    AccountStats,
    Interaction,
    PostObservation,
    parse_time,
)
from takedown.accounts.strikes import Strike, effective_strikes
from takedown.actions.mastodon_events import MastodonRef
from takedown.config import Settings
from takedown.core.cases import CaseState
from takedown.core.content import MEDIA_KINDS, Submission
from takedown.core.decisions import ActionKind, Decision, Provenance
from takedown.core.errors import InvalidInput
from takedown.core.findings import Finding
from takedown.core.taxonomy import VIOLATING
from takedown.core.tenancy import split_key
from takedown.detect.account_risk import AccountRiskDetector, Neighbourhood
from takedown.policy.accounts import AccountAction, AccountContext, AccountVerdict, evaluate_account
from takedown.policy.model import Policy, finding_source
from takedown.services import account_views, mastodon
from takedown.services.account_appeals import AccountAppeals
from takedown.services.account_batch import AccountView, BatchView, DatabaseView
from takedown.services.batch_commit import Committed
from takedown.storage import accounts as store
from takedown.storage.db import reading
from takedown.storage.ledger import append_event
from takedown.storage.outbox import enqueue
from takedown.storage.tables import decisions, findings, signals

VIOLATING_VALUES = frozenset(label.value for label in VIOLATING)
FLAG_SCORE = 0.9
"""A classifier finding at or above this counts as 'flagged' (the policy's classifier-high)."""
EVADER_WINDOW_POSTS = 25
"""Evader linking runs while an account is young (this many posts); after that it has a record
of its own and the comparison would only cost time."""
MEDIA_SIGNALS = frozenset({"pdq", "vpdq", "md5", "sha256"})
LINK_SIGNALS = frozenset({"url", "domain"})
REVIEW_MARGIN = 0.1
"""After a reviewer cleared an account, automation reopens it only if risk rises this much."""
TOPIC = "account_decision"
STATE_OF = {AccountAction.WARN: AccountState.WARNED, AccountAction.REVIEW: AccountState.REVIEW,
            AccountAction.RESTRICT: AccountState.RESTRICTED,
            AccountAction.SUSPEND: AccountState.SUSPENDED}
MASTODON_ACTIONS = {AccountAction.SUSPEND: ActionKind.SUSPEND,
                    AccountAction.RESTRICT: ActionKind.RESTRICT}


def posted_at(submission: Submission) -> datetime:
    """The platform's own post time (metadata `posted_at`), else when the item was received."""
    raw = submission.metadata.get("posted_at")
    if isinstance(raw, str):
        try:
            parsed = parse_time(raw, "posted_at")
        except InvalidInput:
            parsed = None
        if parsed is not None:
            return parsed
    return submission.created_at


def observe(submission: Submission, decision: Decision, found: Sequence[Finding],
            values: Sequence[tuple[str, str]]) -> tuple[PostObservation, str | None]:
    """What one decided item says about its author, and its most serious violating label."""
    bank_hits = [f for f in found if finding_source(f) == "bank" and f.label in VIOLATING_VALUES]
    flagged = any(finding_source(f) == "classifier" and f.label in VIOLATING_VALUES
                  and f.score >= FLAG_SCORE for f in found)
    media = submission.kind in MEDIA_KINDS
    labels = [f.label for f in found if f.label in VIOLATING_VALUES]
    return PostObservation(
        at=posted_at(submission),
        matched=bool(bank_hits),
        flagged=flagged,
        banked_media=media and any(f.signal_type in MEDIA_SIGNALS for f in bank_hits),
        propaganda_link=any(f.signal_type in LINK_SIGNALS for f in bank_hits),
        enforced=decision.action in (ActionKind.REMOVE, ActionKind.SUSPEND),
        urls=tuple(sorted({v for t, v in values if t == "url"}))[:8],
        media=tuple(sorted({v for t, v in values if t == "pdq"}))[:8],
    ), (Counter(labels).most_common(1)[0][0] if labels else None)


class AccountService:
    """Built once per runtime; holds the in-memory evader index (rebuilt from storage)."""

    def __init__(self, engine: Engine, policy: Policy, settings: Settings, *,
                 mastodon_enabled: bool = False,
                 detector: AccountRiskDetector | None = None) -> None:
        self.engine = engine
        self.policy = policy
        self.settings = settings
        self.mastodon_enabled = mastodon_enabled
        self.detector = detector or AccountRiskDetector()
        self.index = EvaderIndex()
        self.disabled_signals: frozenset[str] = frozenset()
        """Risk signals to leave out (`evader` also skips linking); for ablation studies."""
        self.lock = threading.Lock()
        self.appeals = AccountAppeals(self)
        self.load_index()

    # -- the evader index --------------------------------------------------------------------

    def load_index(self) -> int:
        with reading(self.engine) as conn:
            rows = list(store.suspended(conn))
            prints = [self._fingerprint(conn, row) for row in rows]
        with self.lock:
            for fp in prints:
                self.index.add(fp)
        return len(prints)

    def _fingerprint(self, conn: Connection, row: dict[str, Any]) -> Fingerprint:
        stats = store.stats_of(row)
        return Fingerprint.of(row["account_id"], display_name=row.get("display_name"),
                              bio=row.get("bio"), avatar_pdq=row.get("avatar_pdq"),
                              urls=stats.urls, media=stats.media,
                              neighbours=store.identity_neighbours(
                                  conn, store.neighbours(conn, row["account_id"])))

    # -- inputs ------------------------------------------------------------------------------

    def upsert_profiles(self, profiles: Sequence[AccountProfile], *, actor: str = "api"
                        ) -> list[dict[str, Any]]:
        seen = [p.account_id for p in profiles]
        if len(set(seen)) != len(seen):
            raise InvalidInput("an account appears twice in one request")
        now = datetime.now(UTC)
        out = []
        with self.engine.begin() as conn:
            for profile in profiles:
                _row, created = store.upsert_profile(conn, profile, now)
                append_event(conn, "account.profile_updated", f"account:{profile.account_id}",
                             {"account_id": profile.account_id, "created": created},
                             actor=actor)
                out.append({**self.assess(conn, profile.account_id, now), "created": created})
        return out

    def add_interactions(self, items: Sequence[Interaction]) -> dict[str, Any]:
        now = datetime.now(UTC)
        with self.engine.begin() as conn:
            for account in sorted({i.account_id for i in items} | {i.target_id for i in items}):
                store.ensure(conn, account, now)
            store.add_interactions(conn, items)
            assessed = [self.assess(conn, a, now) for a in sorted({i.account_id for i in items})]
        return {"stored": len(items), "accounts": assessed}

    def on_item_decision(self, conn: Connection, submission: Submission, decision: Decision,
                         decision_id: int) -> None:
        """An actioner for one committed decision (reads its findings back from the database);
        the worker uses `on_batch_decisions`, which gives the same account state."""
        if not submission.account_id:
            return
        submission_row = select(decisions.c.submission_id).where(
            decisions.c.id == decision_id).scalar_subquery()
        found = [Finding.from_json(b) for b in conn.execute(
            select(findings.c.body).where(findings.c.submission_id == submission_row)).scalars()]
        values = [(r.type, r.value) for r in conn.execute(
            select(signals.c.type, signals.c.value).where(
                signals.c.submission_id == submission_row))]
        now = datetime.now(UTC)
        view = DatabaseView(conn, now)
        self._apply_post(view, Committed(submission, decision, decision_id, found, values), now)

    def on_batch_decisions(self, conn: Connection, batch: Sequence[Committed]) -> None:
        """The worker's batch actioner: runs inside the batch's transaction, applying the items
        in batch order (as one call per item would) but reading every account of the batch in
        a few queries and writing the rows back in one."""
        mine = [c for c in batch if c.submission.account_id]
        if not mine:
            return
        now = datetime.now(UTC)
        view = BatchView(conn, [str(c.submission.account_id) for c in mine], now)
        for committed in mine:
            self._apply_post(view, committed, now)
        view.flush()

    def _apply_post(self, view: AccountView, committed: Committed, now: datetime) -> None:
        submission, decision = committed.submission, committed.decision
        account_id = str(submission.account_id)
        post, label = observe(submission, decision, committed.findings, committed.values)
        stats = store.stats_of(view.row(account_id)).with_post(post)
        extra = dict(stats.extra)
        if label:
            extra["label"] = label
        if submission.metadata.get("mastodon"):
            extra["platform"] = "mastodon"
        view.save(account_id,
                  stats=AccountStats.from_json({**stats.to_json(), "extra": extra}).to_json())
        if post.enforced and decision.label in VIOLATING_VALUES:
            view.add_strike(account_id, committed.decision_id, Strike(
                decision.label, post.at, 1.0, f"item {submission.item_id}: {decision.action}"))
        self._assess(view, account_id, now)

    # -- assessment ----------------------------------------------------------------------------

    def assess(self, conn: Connection, account_id: str, now: datetime) -> dict[str, Any]:
        """Recompute risk and evader links, store them, apply the account rules."""
        return self._assess(DatabaseView(conn, now), account_id, now)

    def _assess(self, view: AccountView, account_id: str, now: datetime) -> dict[str, Any]:
        conn = view.conn
        row = view.row(account_id)
        stats = store.stats_of(row)
        state = AccountState(row["state"])
        hood_ids = view.neighbours(account_id)
        hood = Neighbourhood(len(hood_ids), view.bad_neighbours(hood_ids))
        links: list[EvaderLink] = []
        off = self.disabled_signals
        if state is not AccountState.SUSPENDED and stats.posts <= EVADER_WINDOW_POSTS \
                and "evader" not in off:
            fp = Fingerprint.of(account_id, display_name=row.get("display_name"),
                                bio=row.get("bio"), avatar_pdq=row.get("avatar_pdq"),
                                urls=stats.urls, media=stats.media,
                                neighbours=view.identity_neighbours(hood_ids))
            with self.lock:
                links = self.index.links(fp)
            for link in links[:5]:
                store.upsert_link(conn, account_id, link.suspended_id, link.score,
                                  link.evidence, now)
        evader = links[0].score if links else float(row.get("evader_score") or 0.0)
        evader = 0.0 if "evader" in off else evader
        assessment = self.detector.assess(stats, neighbourhood=hood, evader_score=evader,
                                          disabled=off)
        view.save(account_id, risk=assessment.score, evader_score=evader,
                  reasons=[r.to_json() for r in assessment.reasons], updated_at=now)
        activity = max([now, *[datetime.fromtimestamp(t, UTC) for t in stats.recent[-1:]]])
        label = str(stats.extra.get("label") or "TVEC0")
        suspended_id = links[0].suspended_id if links else None
        if label == "TVEC0" and suspended_id:
            linked = view.get(suspended_id)
            label = str(store.stats_of(linked).extra.get("label") or "TVEC7") if linked else label
        context = AccountContext(
            risk=assessment.score, evader=evader,
            strikes=round(effective_strikes(view.strikes(account_id), now=activity), 2),
            reports=view.reports(account_id), posts=stats.posts, label=label,
            suspended_id=suspended_id)
        verdict = evaluate_account(self.policy.account_rules, context, policy=self.policy.name,
                                   policy_version=self.policy.version_tag)
        decided = None
        cleared = stats.extra.get("cleared_risk")
        held_back = cleared is not None and assessment.score < float(cleared) + REVIEW_MARGIN \
            and verdict.action is not AccountAction.SUSPEND
        if verdict.action is not AccountAction.NONE and not held_back and \
                STATE_OF[verdict.action].severity > state.severity:
            view.before_decision(account_id)
            decided = self.decide_verdict(conn, account_id, verdict, context, actor="automation",
                                   now=now, extra={"risk": assessment.to_json(),
                                                   "links": [_link_json(x) for x in links[:3]]})
            view.after_decision(account_id)
        return {"account_id": account_id, "risk": assessment.score, "evader_score": evader,
                "state": (decided or {}).get("state", state.value),
                "decision": decided}

    # -- decisions -----------------------------------------------------------------------------

    def decide_verdict(self, conn: Connection, account_id: str, verdict: AccountVerdict,
                context: AccountContext, *, actor: str, now: datetime,
                extra: dict[str, Any] | None = None) -> dict[str, Any]:
        proactive = context.reports == 0
        body = {**verdict.to_json(), "context": {
            "risk": context.risk, "evader": context.evader, "strikes": context.strikes,
            "reports": context.reports, "posts": context.posts}, **(extra or {})}
        decision_id = store.insert_decision(
            conn, account_id=account_id, action=verdict.action.value, label=verdict.label,
            rule=verdict.rule, proactive=proactive, actor=actor, body=body, now=now)
        append_event(conn, "account.decided", f"account:{account_id}", {
            "account_id": account_id, "action": verdict.action.value, "proactive": proactive,
            "label": verdict.label, "decision_id": decision_id, "rule": verdict.rule,
            "policy_version": verdict.policy_version}, actor=actor)
        state = STATE_OF.get(verdict.action, AccountState.ACTIVE)
        store.save(conn, account_id, state=state.value, updated_at=now)
        if verdict.action is AccountAction.REVIEW:
            store.open_case(conn, account_id, state=CaseState.OPEN.value,
                            priority=verdict.priority, reason=verdict.grounds,
                            decision_id=decision_id, now=now)
        elif verdict.action in (AccountAction.SUSPEND, AccountAction.RESTRICT):
            store.open_case(conn, account_id, state=CaseState.DECIDED.value,
                            priority=verdict.priority, reason=verdict.grounds,
                            decision_id=decision_id, now=now)
        self.send(conn, account_id, decision_id, verdict, proactive)
        if verdict.action is AccountAction.SUSPEND:
            row = store.get(conn, account_id)
            assert row is not None
            fp = self._fingerprint(conn, row)
            with self.lock:
                self.index.add(fp)
        return {"decision_id": decision_id, "action": verdict.action.value,
                "rule": verdict.rule, "proactive": proactive, "state": state.value}

    def send(self, conn: Connection, account_id: str, decision_id: int,
              verdict: AccountVerdict, proactive: bool, *, topic: str = TOPIC,
              reverses: ActionKind | None = None) -> None:
        tenant, platform_id = split_key(account_id)
        payload = {"type": topic, "account_id": platform_id, "item_id": None,
                   **({"tenant": tenant} if tenant else {}),
                   "decision_id": decision_id,
                   "action": verdict.action.value, "label": verdict.label,
                   "proactive": proactive, "grounds": verdict.grounds,
                   "provenance": verdict.to_json()["provenance"], "decision": verdict.to_json()}
        internal = verdict.action in (AccountAction.REVIEW, AccountAction.NONE) and not reverses
        for target in () if internal else self.settings.webhook_targets(tenant):
            key = f"{topic}-{decision_id}-{_digest(target)}"
            enqueue(conn, key=key, target=target, topic=topic, payload={**payload, "id": key})
        row = store.get(conn, account_id)
        platform = store.stats_of(row).extra.get("platform") if row else None
        kind = ActionKind.RESTORE if reverses else MASTODON_ACTIONS.get(verdict.action)
        if not (self.mastodon_enabled and platform == "mastodon" and kind):
            return
        decision = Decision(action=kind, label=verdict.label, grounds=verdict.grounds,
                            automated_detection=True, automated_decision=True,
                            provenance=Provenance(verdict.policy, verdict.policy_version,
                                                  verdict.rule))
        enqueue(conn, key=f"mastodon-account-{decision_id}", target="mastodon",
                topic=mastodon.TOPIC, payload={
                    "decision": decision.to_json(), "decision_id": f"account-{decision_id}",
                    "ref": MastodonRef("account", platform_id).to_json(),
                    "reverses": reverses.value if reverses else None})

    def page(self, account_id: str) -> dict[str, Any]:
        return account_views.page(self.engine, account_id)

    def listing(self, *, state: str | None = None, min_risk: float | None = None,
                limit: int = 100, offset: int = 0, tenant: str | None = None
                ) -> list[dict[str, Any]]:
        return account_views.listing(self.engine, state=state, min_risk=min_risk, limit=limit,
                                     offset=offset, tenant=tenant)

    def queue(self, limit: int = 100) -> list[dict[str, Any]]:
        return account_views.queue(self.engine, limit=limit)

    def decide_by_reviewer(self, account_id: str, *, action: str, reason: str, actor: str
                           ) -> dict[str, Any]:
        return self.appeals.decide_by_reviewer(account_id, action=action, reason=reason,
                                               actor=actor)

    def appeal(self, account_id: str, *, appellant: str, reason: str, actor: str
               ) -> dict[str, Any]:
        return self.appeals.appeal(account_id, appellant=appellant, reason=reason, actor=actor)

    def decide_appeal(self, case_id: int, *, outcome: str, reason: str, actor: str
                      ) -> dict[str, Any]:
        return self.appeals.decide_appeal(case_id, outcome=outcome, reason=reason, actor=actor)


def _digest(target: str) -> str:
    return hashlib.sha256(target.encode("utf-8")).hexdigest()[:12]


def _link_json(link: EvaderLink) -> dict[str, Any]:
    return {"suspended_id": link.suspended_id, "score": link.score, "evidence": link.evidence}
