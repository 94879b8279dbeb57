"""The storage the case service needs, as a protocol: one transaction's worth of reads and writes.

takedown.storage.reviews.SqlReviewStore implements it over a SQLAlchemy connection; the entry
points (API, web) open the transaction and hand the store in. Rows come back as mappings with
the column names of the tables in takedown.storage.tables.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from takedown.core.decisions import Decision

Row = Mapping[str, Any]


class ReviewStore(Protocol):
    # reads
    def submission(self, item_id: str) -> Row | None: ...

    def submission_by_row(self, submission_id: int) -> Row: ...

    def case(self, case_id: int, *, lock: bool = False) -> Row | None:
        """id, submission_id, state, priority, label, reason, assignee, due_at."""

    def latest_case(self, submission_id: int) -> Row | None: ...

    def latest_decision(self, submission_id: int) -> tuple[int, str, Decision] | None: ...

    def decision(self, decision_id: int) -> tuple[Row, Decision] | None: ...

    def stage_decision(self, submission_id: int, stage: str) -> int | None: ...

    def case_decider(self, case_id: int) -> int | None:
        """The key id of the reviewer who decided the case, if a person did."""

    def appeal(self, appeal_id: int, *, lock: bool = False) -> Row | None: ...

    def appeal_for_decision(self, decision_id: int) -> Row | None:
        """The appeal against one decision, if any (one appeal per decision)."""

    def reviewer_loads(self) -> list[tuple[int, int]]:
        """(key id, open appeals assigned) for every active reviewer or lead key."""

    # writes
    def move_case(self, case_id: int, expected: str, new: str, **values: Any) -> bool:
        """Set the state only if it is still `expected` (False: someone else moved it)."""

    def open_case(
        self, submission_id: int, *, state: str, priority: int, label: str, reason: str
    ) -> int: ...

    def set_priority(self, case_id: int, priority: int) -> None: ...

    def insert_decision(self, submission_id: int, stage: str, decision: Decision) -> int: ...

    def insert_review(
        self,
        *,
        case_id: int,
        kind: str,
        key_id: int,
        actor: str,
        decision_id: int | None,
        reason: str | None,
    ) -> None: ...

    def insert_report(
        self, *, submission_id: int, case_id: int | None, reporter: str, reason: str
    ) -> int: ...

    def report_count(self, submission_id: int) -> int: ...

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
    ) -> int: ...

    def finish_appeal(
        self, appeal_id: int, *, state: str, outcome_decision_id: int, decided_by: str
    ) -> bool: ...

    def insert_false_positive(
        self,
        *,
        decision_id: int,
        submission_id: int,
        entry_id: int | None,
        detector: str | None,
        source: str,
    ) -> None: ...

    def append_event(
        self, type: str, subject: str, payload: dict[str, Any], *, actor: str
    ) -> None: ...

    def enqueue_webhook(
        self, *, key: str, target: str, topic: str, payload: dict[str, Any]
    ) -> None: ...
