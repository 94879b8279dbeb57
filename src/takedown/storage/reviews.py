"""SqlReviewStore: the case service's storage (takedown.review.ports.ReviewStore) over one
SQLAlchemy connection, i.e. one transaction.

On PostgreSQL a case or appeal read `lock=True` is taken FOR UPDATE; on SQLite the whole
transaction already holds the write lock (BEGIN IMMEDIATE). Case moves are compare-and-set on
the state as a second guard.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Select, func, select, update

from takedown.core.decisions import Decision
from takedown.storage.keys import Role
from takedown.storage.ledger import append_event
from takedown.storage.outbox import enqueue
from takedown.storage.tables import (
    api_keys,
    appeals,
    cases,
    decisions,
    false_positives,
    reports,
    reviews,
    submissions,
)

Row = Mapping[str, Any]
REVIEWER_ROLES = (Role.REVIEWER.value, Role.LEAD.value)


class SqlReviewStore:
    def __init__(self, conn: Connection, *, tenant: str | None = None) -> None:
        """With `tenant`, items are looked up by id in that tenant only (an integrator)."""
        self.conn = conn
        self.tenant = tenant

    def _one(self, query: Select[Any], *, lock: bool = False) -> Row | None:
        if lock and self.conn.dialect.name == "postgresql":
            query = query.with_for_update()
        row = self.conn.execute(query).first()
        return None if row is None else dict(row._mapping)

    # reads

    def submission(self, item_id: str) -> Row | None:
        return self._one(
            select(
                submissions.c.id,
                submissions.c.item_id,
                submissions.c.account_id,
                submissions.c.kind,
            )
            .where(submissions.c.item_id == item_id)
            .where(*([submissions.c.tenant == self.tenant] if self.tenant is not None else []))
            .order_by(submissions.c.id)
        )

    def submission_by_row(self, submission_id: int) -> Row:
        row = self._one(
            select(
                submissions.c.id,
                submissions.c.item_id,
                submissions.c.account_id,
                submissions.c.kind,
                submissions.c.tenant,
            ).where(submissions.c.id == submission_id)
        )
        assert row is not None
        return row

    def case(self, case_id: int, *, lock: bool = False) -> Row | None:
        return self._one(select(cases).where(cases.c.id == case_id), lock=lock)

    def latest_case(self, submission_id: int) -> Row | None:
        return self._one(
            select(cases)
            .where(cases.c.submission_id == submission_id)
            .order_by(cases.c.id.desc())
            .limit(1),
            lock=True,
        )

    def latest_decision(self, submission_id: int) -> tuple[int, str, Decision] | None:
        row = self._one(
            select(decisions.c.id, decisions.c.stage, decisions.c.body)
            .where(decisions.c.submission_id == submission_id)
            .order_by(decisions.c.id.desc())
            .limit(1)
        )
        if row is None:
            return None
        return int(row["id"]), str(row["stage"]), Decision.from_json(row["body"])

    def decision(self, decision_id: int) -> tuple[Row, Decision] | None:
        row = self._one(select(decisions).where(decisions.c.id == decision_id))
        return None if row is None else (row, Decision.from_json(row["body"]))

    def stage_decision(self, submission_id: int, stage: str) -> int | None:
        found = self.conn.execute(
            select(decisions.c.id).where(
                decisions.c.submission_id == submission_id, decisions.c.stage == stage
            )
        ).scalar()
        return None if found is None else int(found)

    def case_decider(self, case_id: int) -> int | None:
        found = self.conn.execute(
            select(reviews.c.key_id)
            .where(reviews.c.case_id == case_id, reviews.c.kind == "decide")
            .order_by(reviews.c.id.desc())
            .limit(1)
        ).scalar()
        return None if found is None else int(found)

    def appeal(self, appeal_id: int, *, lock: bool = False) -> Row | None:
        return self._one(select(appeals).where(appeals.c.id == appeal_id), lock=lock)

    def appeal_for_decision(self, decision_id: int) -> Row | None:
        return self._one(select(appeals).where(appeals.c.contested_decision_id == decision_id))

    def reviewer_loads(self) -> list[tuple[int, int]]:
        load = (
            select(appeals.c.assignee_key_id, func.count().label("n"))
            .where(appeals.c.state == "open")
            .group_by(appeals.c.assignee_key_id)
            .subquery()
        )
        rows = self.conn.execute(
            select(api_keys.c.id, func.coalesce(load.c.n, 0))
            .outerjoin(load, load.c.assignee_key_id == api_keys.c.id)
            .where(api_keys.c.role.in_(REVIEWER_ROLES), api_keys.c.revoked_at.is_(None))
        ).all()
        return [(int(key_id), int(n)) for key_id, n in rows]

    def report_count(self, submission_id: int) -> int:
        return int(
            self.conn.execute(
                select(func.count())
                .select_from(reports)
                .where(reports.c.submission_id == submission_id)
            ).scalar_one()
        )

    # writes

    def move_case(self, case_id: int, expected: str, new: str, **values: Any) -> bool:
        result = self.conn.execute(
            update(cases)
            .where(cases.c.id == case_id, cases.c.state == expected)
            .values(state=new, updated_at=datetime.now(UTC), **values)
        )
        return result.rowcount == 1

    def open_case(
        self, submission_id: int, *, state: str, priority: int, label: str, reason: str
    ) -> int:
        now = datetime.now(UTC)
        inserted = self.conn.execute(
            cases.insert().values(
                submission_id=submission_id,
                state=state,
                priority=priority,
                label=label,
                reason=reason,
                opened_at=now,
                updated_at=now,
            )
        ).inserted_primary_key
        assert inserted is not None
        return int(inserted[0])

    def set_priority(self, case_id: int, priority: int) -> None:
        self.conn.execute(
            update(cases)
            .where(cases.c.id == case_id)
            .values(priority=priority, updated_at=datetime.now(UTC))
        )

    def insert_decision(self, submission_id: int, stage: str, decision: Decision) -> int:
        inserted = self.conn.execute(
            decisions.insert().values(
                submission_id=submission_id,
                stage=stage,
                action=decision.action.value,
                label=decision.label,
                body=decision.to_json(),
                created_at=datetime.now(UTC),
            )
        ).inserted_primary_key
        assert inserted is not None
        return int(inserted[0])

    def insert_review(
        self,
        *,
        case_id: int,
        kind: str,
        key_id: int,
        actor: str,
        decision_id: int | None,
        reason: str | None,
    ) -> None:
        self.conn.execute(
            reviews.insert().values(
                case_id=case_id,
                decision_id=decision_id,
                kind=kind,
                key_id=key_id,
                actor=actor,
                reason=reason,
                created_at=datetime.now(UTC),
            )
        )

    def insert_report(
        self, *, submission_id: int, case_id: int | None, reporter: str, reason: str
    ) -> int:
        inserted = self.conn.execute(
            reports.insert().values(
                submission_id=submission_id,
                case_id=case_id,
                reporter=reporter,
                reason=reason,
                created_at=datetime.now(UTC),
            )
        ).inserted_primary_key
        assert inserted is not None
        return int(inserted[0])

    def insert_appeal(
        self,
        *,
        case_id: int,
        submission_id: int,
        contested_decision_id: int,
        appellant: str,
        reason: str,
        excluded_key_id: int | None,
        assignee_key_id: int | None,
    ) -> int:
        inserted = self.conn.execute(
            appeals.insert().values(
                case_id=case_id,
                submission_id=submission_id,
                contested_decision_id=contested_decision_id,
                appellant=appellant,
                reason=reason,
                state="open",
                excluded_key_id=excluded_key_id,
                assignee_key_id=assignee_key_id,
                created_at=datetime.now(UTC),
            )
        ).inserted_primary_key
        assert inserted is not None
        return int(inserted[0])

    def finish_appeal(
        self, appeal_id: int, *, state: str, outcome_decision_id: int, decided_by: str
    ) -> bool:
        result = self.conn.execute(
            update(appeals)
            .where(appeals.c.id == appeal_id, appeals.c.state == "open")
            .values(
                state=state,
                outcome_decision_id=outcome_decision_id,
                decided_by=decided_by,
                decided_at=datetime.now(UTC),
            )
        )
        return result.rowcount == 1

    def insert_false_positive(
        self,
        *,
        decision_id: int,
        submission_id: int,
        entry_id: int | None,
        detector: str | None,
        source: str,
    ) -> None:
        self.conn.execute(
            false_positives.insert().values(
                decision_id=decision_id,
                submission_id=submission_id,
                entry_id=entry_id,
                detector=detector,
                source=source,
                created_at=datetime.now(UTC),
            )
        )

    def append_event(self, type: str, subject: str, payload: dict[str, Any], *, actor: str) -> None:
        append_event(self.conn, type, subject, payload, actor=actor)

    def enqueue_webhook(
        self, *, key: str, target: str, topic: str, payload: dict[str, Any]
    ) -> None:
        enqueue(self.conn, key=key, target=target, topic=topic, payload=payload)
