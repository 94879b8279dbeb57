"""Accountability, assembled from Settings: the audit key and checkpoints, removal orders,
evidence, lawful requests, statements of reasons and transparency reports, as the API, CLI and
UI use them; and the housekeeping loop that runs beside the worker.

Housekeeping (every 30 seconds): removal-order warnings at 30 and 50 minutes (and overdue),
preservation of newly removed items, purging of expired evidence, statements of reasons for new
restrictive decisions, and a signed checkpoint when the last is older than
`audit_checkpoint_seconds`. Every report build signs a checkpoint too, and names it.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any

import httpx
from sqlalchemy import Connection, Engine, select

from takedown.config import Settings
from takedown.core.errors import InvalidInput
from takedown.legal.anchors import (
    AuditResult,
    Checkpoint,
    Signer,
    load_public_key,
    load_signer,
    logged_checkpoints,
    verify_audit,
    write_checkpoint,
)
from takedown.legal.clock import Clock, utc_now
from takedown.legal.evidence import EvidenceVault, Keyring, add_key, load_keyring
from takedown.legal.orders import RemovalOrders
from takedown.legal.requests import LawfulRequests
from takedown.reports.metrics import Figures, compute
from takedown.reports.render import write_report
from takedown.reports.sor_records import BuildResult, build_pending, export_jsonl
from takedown.reports.tdb_client import SubmitResult, TdbClient, submit_pending
from takedown.storage.db import reading
from takedown.storage.ledger import iter_events
from takedown.storage.legal_tables import audit_checkpoints

log = logging.getLogger(__name__)

HOUSEKEEPING_SECONDS = 30.0


@dataclass(frozen=True)
class Report:
    figures: Figures
    paths: list[Path]
    checkpoint: Checkpoint | None


class Accountability:
    def __init__(self, engine: Engine, settings: Settings, *, clock: Clock = utc_now) -> None:
        self.engine = engine
        self.settings = settings
        self.clock = clock

    # -- keys ------------------------------------------------------------------------------

    def signer(self, *, create: bool = True) -> Signer:
        return load_signer(self.settings.effective_audit_key_file, create=create)

    def keyring(self) -> Keyring:
        return load_keyring(self.settings.effective_evidence_key_file)

    # -- the audit -------------------------------------------------------------------------

    def checkpoint(self) -> Checkpoint | None:
        signer = self.signer()
        with self.engine.begin() as conn:
            return write_checkpoint(
                conn, signer, log_path=self.settings.audit_log_file, at=self.clock()
            )

    def verify(self, *, public_key: Path | None = None) -> AuditResult:
        key = load_public_key(public_key) if public_key else self.signer(create=False).public
        with reading(self.engine) as conn:
            return verify_audit(conn, [key], extra=logged_checkpoints(self.settings.audit_log_file))

    def _checkpoint_due(self) -> bool:
        with reading(self.engine) as conn:
            last = conn.execute(
                select(audit_checkpoints.c.at).order_by(audit_checkpoints.c.id.desc()).limit(1)
            ).scalar()
        interval = timedelta(seconds=self.settings.audit_checkpoint_seconds)
        return last is None or self.clock() - last >= interval

    # -- resources, inside the caller's transaction ----------------------------------------

    def orders(self, conn: Connection) -> RemovalOrders:
        return RemovalOrders(conn, clock=self.clock, webhook_urls=self.settings.webhook_urls,
                             tenant_webhooks=self.settings.tenant_webhook_urls)

    def open_orders(self) -> list[dict[str, Any]]:
        """Removal orders still on the clock, for the banner above the review queue."""
        with self.engine.connect() as conn:
            return self.orders(conn).listing(open_only=True)

    def vault(self, conn: Connection) -> EvidenceVault:
        return EvidenceVault(
            conn,
            self.keyring(),
            retention=timedelta(days=self.settings.evidence_retention_days),
            clock=self.clock,
        )

    def requests(self, conn: Connection) -> LawfulRequests:
        return LawfulRequests(conn, clock=self.clock)

    def export_request(self, request_id: int, out_dir: Path, *, actor: str) -> Path:
        signer = self.signer()
        with self.engine.begin() as conn:
            return self.requests(conn).export(
                request_id, vault=self.vault(conn), signer=signer, out_dir=out_dir, actor=actor
            )

    def rotate_evidence_key(self, *, actor: str) -> tuple[str, int]:
        key_id = add_key(self.settings.effective_evidence_key_file)
        with self.engine.begin() as conn:
            return key_id, self.vault(conn).reencrypt(actor=actor)

    # -- housekeeping ----------------------------------------------------------------------

    def preserve_pending(self) -> int:
        with self.engine.begin() as conn:
            vault = self.vault(conn)
            done = sum(
                vault.preserve(item_id, decision_id=decision_id, actor="automation")
                for item_id, decision_id in vault.pending()
            )
        if done:
            self._flush_wal()
        return done

    def purge_expired(self) -> list[str]:
        with self.engine.begin() as conn:
            purged = self.vault(conn).purge_expired()
        if purged:
            self._flush_wal()
        return purged

    def _flush_wal(self) -> None:
        """SQLite keeps old page images in the WAL file until a checkpoint; truncating it
        leaves no plaintext copy of scrubbed content on disk."""
        if self.engine.dialect.name != "sqlite":
            return
        raw = self.engine.raw_connection()
        try:
            raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            raw.close()

    def build_statements(self) -> BuildResult:
        with self.engine.begin() as conn:
            result = build_pending(conn, clock=self.clock)
        for decision_id, problems in result.invalid.items():
            log.error("statement for decision %s is invalid: %s", decision_id, problems)
        return result

    def housekeeping(self) -> dict[str, Any]:
        with self.engine.begin() as conn:
            warnings = self.orders(conn).tick()
        preserved = self.preserve_pending()
        purged = self.purge_expired()
        statements = self.build_statements()
        point = self.checkpoint() if self._checkpoint_due() else None
        return {
            "warnings": warnings,
            "preserved": preserved,
            "purged": len(purged),
            "statements": statements.stored,
            "invalid_statements": len(statements.invalid),
            "checkpoint": None if point is None else point.seq,
        }

    def run_forever(self, stop: threading.Event, *, interval: float = HOUSEKEEPING_SECONDS) -> None:
        while not stop.wait(interval):
            try:
                self.housekeeping()
            except Exception:  # noqa: BLE001 - a failed round is retried next round
                log.exception("accountability housekeeping failed")

    # -- statements of reasons and reports -------------------------------------------------

    def export_statements(
        self, out: IO[str], *, start: datetime | None, end: datetime | None
    ) -> tuple[int, BuildResult]:
        built = self.build_statements()
        with reading(self.engine) as conn:
            return export_jsonl(conn, out, start=start, end=end), built

    def submit_statements(self, http: httpx.Client | None = None) -> SubmitResult:
        if not self.settings.sor_endpoint:
            raise InvalidInput(
                "no Transparency Database endpoint configured",
                hint="set TAKEDOWN_SOR_ENDPOINT and TAKEDOWN_SOR_TOKEN",
            )
        self.build_statements()
        client = http or httpx.Client(timeout=30.0)
        try:
            tdb = TdbClient(client, self.settings.sor_endpoint, self.settings.sor_token)
            return submit_pending(self.engine.begin, tdb)
        finally:
            if http is None:
                client.close()

    def figures(self, start: datetime, end: datetime) -> Figures:
        with reading(self.engine) as conn:
            return compute(iter_events(conn), start, end)

    def build_report(self, start: datetime, end: datetime, fmt: str, out_dir: Path) -> Report:
        """Sign the head first, so the report names the exact ledger it was computed from."""
        if end <= start:
            raise InvalidInput("--to must be after --from")
        point = self.checkpoint()
        with reading(self.engine) as conn:
            if point is None:
                row = conn.execute(
                    select(audit_checkpoints).order_by(audit_checkpoints.c.id.desc()).limit(1)
                ).first()
                if row is not None:
                    point = Checkpoint(
                        int(row.seq), row.head_hash, row.at, row.key_id, row.signature
                    )
            head = None if point is None else point.seq
            figures = compute(
                (e for e in iter_events(conn) if head is None or e.seq <= head), start, end
            )
        if point is not None:
            figures.ledger_head = {
                "seq": point.seq,
                "hash": point.head_hash,
                "key_id": point.key_id,
                "signature": point.signature,
                "signed_at": point.at.isoformat(),
            }
        return Report(figures, write_report(figures, fmt, out_dir), point)
