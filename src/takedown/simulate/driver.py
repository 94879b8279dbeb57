"""Drive Takedown like a platform would: only through its public HTTP API.

The app runs in-process behind httpx's ASGI transport (Starlette's TestClient, which also runs
the app's lifespan, so the worker and deliverer threads run as under `takedown serve`). The
driver provisions API keys the way an operator does (`takedown key create`), seeds the hash
bank the platform's hash-sharing membership would hold, then, tick by tick, sends profiles,
interactions and posts, waits for Takedown's decisions, files the user reports that fall due,
and reads back which accounts Takedown suspended or queued. Metrics compare that with the
world's hidden truth.
"""

from __future__ import annotations

import hashlib
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from takedown.api.app import create_app
from takedown.config import Settings
from takedown.signals.pdq import pdq_hash
from takedown.simulate.corpus import Corpus
from takedown.simulate.params import SimParams
from takedown.simulate.world import World
from takedown.storage.keys import Role, create_key

BATCH = 500
ACTED = ("review", "restricted", "suspended")


class Driver:
    def __init__(self, client: TestClient, world: World, params: SimParams) -> None:
        self.client = client
        self.world = world
        self.p = params
        engine = client.app.state.runtime.engine  # type: ignore[attr-defined]
        with engine.begin() as conn:
            self.integrator = {"Authorization": f"Bearer {create_key(conn, Role.INTEGRATOR)}"}
            self.admin = {"Authorization": f"Bearer {create_key(conn, Role.ADMIN)}"}
            self.reviewer = {"Authorization": f"Bearer {create_key(conn, Role.REVIEWER)}"}
        self.review_due: dict[int, float] = {}
        self.reviewed_suspensions: set[str] = set()
        self.timeline: list[dict[str, Any]] = []
        self.posts_sent = 0

    def _ok(self, response: Any, what: str) -> Any:
        if response.status_code >= 300:
            raise RuntimeError(f"{what}: HTTP {response.status_code} {response.text[:300]}")
        return response.json()

    def seed_banks(self) -> None:
        if not self.p.banks:
            return
        images, domains = self.world.bank_entries()
        self._ok(self.client.put("/v1/banks/sim-hashes", headers=self.admin,
                                 json={"name": "sim-hashes", "label": "TVEC1"}), "bank")
        entries = [{"signal_type": "pdq", "value": pdq_hash(data).hash} for data in images]
        entries += [{"signal_type": "md5", "value": hashlib.md5(data).hexdigest()}
                    for data in images]
        entries += [{"signal_type": "domain", "value": d} for d in domains]
        self._ok(self.client.post("/v1/banks/sim-hashes/entries", headers=self.admin,
                                  json={"entries": entries}), "bank entries")

    def _wait(self, ids: list[str], limit: float = 600.0) -> None:
        deadline = time.monotonic() + limit
        pending = list(ids)
        while pending:
            body = self._ok(self.client.get(f"/v1/submissions/{pending[-1]}",
                                            headers=self.integrator), "status")
            if body["status"] == "done":
                pending = [i for i in pending if self._ok(self.client.get(
                    f"/v1/submissions/{i}", headers=self.integrator), "status")["status"]
                    != "done"]
                continue
            if time.monotonic() > deadline:
                raise RuntimeError(f"{len(pending)} items undecided after {limit:.0f} s")
            time.sleep(0.02)

    def _states(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for state in ACTED:
            offset = 0
            while True:
                rows = self._ok(self.client.get(
                    "/v1/accounts", headers=self.integrator,
                    params={"state": state, "limit": 1000, "offset": offset}), "accounts")
                out.update({r["account_id"]: state for r in rows["accounts"]})
                if len(rows["accounts"]) < 1000:
                    break
                offset += 1000
        return out

    def run(self, progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
        self.seed_banks()
        dt = self.p.tick_minutes * 60.0
        ticks = int(self.p.days * 86400 / dt)
        for tick in range(ticks):
            t = tick * dt
            plan = self.world.step(t, dt)
            if plan["profiles"]:
                for n in range(0, len(plan["profiles"]), BATCH):
                    self._ok(self.client.post("/v1/accounts", headers=self.integrator, json={
                        "accounts": plan["profiles"][n:n + BATCH]}), "profiles")
            if plan["interactions"]:
                self._ok(self.client.post("/v1/accounts/interactions", headers=self.integrator,
                                          json={"interactions": plan["interactions"]}),
                         "interactions")
            ids = []
            for n in range(0, len(plan["posts"]), BATCH):
                chunk = plan["posts"][n:n + BATCH]
                self._ok(self.client.post("/v1/submissions", headers=self.integrator,
                                          json={"items": chunk}), "posts")
                ids += [item["id"] for item in chunk]
            self.posts_sent += len(ids)
            self._wait(ids)
            for at, item_id, account_id in self.world.due_reports(t + dt):
                agent = self.world.agents[account_id]
                if not agent.alive:
                    continue
                self._ok(self.client.post("/v1/reports", headers=self.integrator, json={
                    "reporter": "sim-user", "item_id": item_id, "reason": "terrorist content"}),
                    "report")
                if agent.first_report_at is None:
                    agent.first_report_at = at
            if self.p.reviewers:
                self._review(t + dt)
            self._observe(t + dt)
            if progress is not None:
                progress(tick + 1, ticks)
        return self.metrics()

    def _review(self, now: float) -> None:
        """The platform's moderators take account cases from Takedown's queue after a delay."""
        rng = self.world.rng
        cases = self._ok(self.client.get("/v1/accounts/queue", headers=self.reviewer),
                         "queue")["cases"]
        for case in cases:
            if case["state"] != "open":
                continue
            due = self.review_due.setdefault(
                int(case["id"]), now + rng.expovariate(1 / (self.p.review_delay_hours * 3600)))
            agent = self.world.agents.get(case["account_id"])
            if due > now or agent is None:
                continue
            right = rng.random() < self.p.reviewer_accuracy
            guilty = agent.extremist == right
            self._ok(self.client.post(
                f"/v1/accounts/{agent.account_id}/decision", headers=self.reviewer,
                json={"action": "suspend" if guilty else "none",
                      "reason": "moderator review of the account"}), "account decision")
            if guilty:
                self.reviewed_suspensions.add(agent.account_id)

    def _observe(self, now: float) -> None:
        states = self._states()
        for account_id, state in states.items():
            agent = self.world.agents.get(account_id)
            if agent is None:
                continue
            if agent.actioned_at is None:
                agent.actioned_at = now
                agent.posts_at_action = agent.posts
            if state == "suspended" and agent.alive:
                agent.posts_at_suspension = agent.posts
                agent.suspended_by = "reviewer" if account_id in self.reviewed_suspensions \
                    else "automation"
                self.world.on_suspended(agent, now)
        agents = list(self.world.agents.values())
        self.timeline.append({
            "t_hours": now / 3600,
            "extremists_alive": sum(a.extremist and a.alive for a in agents),
            "extremists_suspended": sum(a.extremist and not a.alive for a in agents),
            "others_suspended": sum(not a.extremist and not a.alive for a in agents),
            "others_in_review": sum(not a.extremist and states.get(a.account_id) == "review"
                                    for a in agents),
        })

    def metrics(self) -> dict[str, Any]:
        agents = list(self.world.agents.values())
        extremists = [a for a in agents if a.extremist]
        others = [a for a in agents if not a.extremist]
        suspended = [a for a in extremists if a.suspended_at is not None]
        proactive = [a for a in suspended
                     if a.first_report_at is None or a.first_report_at > (a.suspended_at or 0)]
        evaders = [a for a in extremists if a.generation > 0]
        found = [a for a in evaders if a.posts_at_action is not None]
        evader_suspended = [a for a in evaders if a.posts_at_suspension is not None]
        ttl = [a.suspended_at - a.created_at for a in suspended if a.suspended_at is not None]

        def median(values: list[float]) -> float | None:
            return float(statistics.median(values)) if values else None

        return {
            "proactive_rate": round(len(proactive) / len(suspended), 4) if suspended else None,
            "collateral_rate": round(sum(not a.alive for a in others) / len(others), 4),
            "evader_redetect_posts_median": median([float(a.posts_at_action or 0)
                                                    for a in found]),
            "evader_suspend_posts_median": median([float(a.posts_at_suspension or 0)
                                                   for a in evader_suspended]),
            "time_to_suspend_median_s": median(ttl),
            "extremist_recall": round(len(suspended) / len(extremists), 4),
            "automated_share": round(sum(a.suspended_by == "automation" for a in suspended)
                                     / len(suspended), 4) if suspended else None,
            "evaders": len(evaders),
            "evaders_found": len(found),
            "extremist_accounts": len(extremists),
            "other_accounts": len(others),
            "others_suspended": [a.account_id for a in others if not a.alive],
            "others_in_review_final": self.timeline[-1]["others_in_review"]
            if self.timeline else 0,
            "posts": self.posts_sent,
        }


def simulate(params: SimParams, corpus: Corpus, images: list[Any], *,
             workdir: Path | None = None,
             progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """One seeded run on a fresh embedded database; returns metrics and the timeline."""
    from takedown.simulate.world import World

    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        settings = Settings(data_dir=Path(tmp), database_url=f"sqlite:///{tmp}/sim.db",
                            classifier=params.classifier, lease_seconds=30,
                            flood_per_hour=100_000)
        app = create_app(settings)
        app.state.runtime.accounts.disabled_signals = frozenset(params.disabled_signals)
        world = World(params, corpus, images)
        started = time.monotonic()
        with TestClient(app) as client:
            driver = Driver(client, world, params)
            result = driver.run(progress)
        result["wall_s"] = round(time.monotonic() - started, 1)
        result["params"] = params.to_json()
        result["timeline"] = driver.timeline
        return result
