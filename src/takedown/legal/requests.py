"""Lawful requests for preserved data: received (authority, legal basis, scope) → approved or
refused by a lead → exported as a scoped, signed package → each step on the ledger.

The package is a directory: one JSON file per item in scope (the decrypted evidence record),
`manifest.json` naming the request, every file and its SHA-256, `manifest.sig` (Ed25519 over
the manifest's bytes, by the audit key) and `signing-key.pem` to check it. Only items named in
the scope are opened, each opening is an `evidence.accessed` event, and nothing outside an
approved request decrypts evidence.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select, update

from takedown.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from takedown.legal.anchors import Signer
from takedown.legal.clock import Clock, utc_now
from takedown.legal.evidence import EvidenceVault
from takedown.storage.ledger import append_event
from takedown.storage.legal_tables import lawful_requests

MAX_SCOPE = 1000


def _subject(request_id: int) -> str:
    return f"lawful_request:{request_id}"


def _file_name(item_id: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9_-]", "_", item_id)[:80]
    return f"items/{safe}-{hashlib.sha256(item_id.encode()).hexdigest()[:12]}.json"


class LawfulRequests:
    def __init__(self, conn: Connection, *, clock: Clock = utc_now) -> None:
        self.conn = conn
        self.clock = clock

    def get(self, request_id: int) -> dict[str, Any]:
        row = self.conn.execute(
            select(lawful_requests).where(lawful_requests.c.id == request_id)
        ).first()
        if row is None:
            raise NotFound(f"no lawful request {request_id}")
        return {
            k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in row._mapping.items()
        }

    def listing(self, limit: int = 200) -> list[dict[str, Any]]:
        ids = self.conn.execute(
            select(lawful_requests.c.id).order_by(lawful_requests.c.id.desc()).limit(limit)
        ).scalars()
        return [self.get(int(i)) for i in ids]

    def receive(
        self, *, authority: str, legal_basis: str, contact: str, item_ids: list[str], actor: str
    ) -> dict[str, Any]:
        for name, value in (
            ("authority", authority),
            ("legal_basis", legal_basis),
            ("contact", contact),
        ):
            if not value.strip():
                raise InvalidInput(f"a lawful request needs '{name}'")
        scope = sorted({i.strip() for i in item_ids if i.strip()})
        if not scope:
            raise InvalidInput("the scope names at least one item id")
        if len(scope) > MAX_SCOPE:
            raise InvalidInput(f"at most {MAX_SCOPE} items per request")
        now = self.clock()
        inserted = self.conn.execute(
            lawful_requests.insert().values(
                authority=authority.strip()[:256],
                legal_basis=legal_basis.strip()[:2000],
                contact=contact.strip()[:512],
                scope={"item_ids": scope},
                state="received",
                received_at=now,
            )
        ).inserted_primary_key
        assert inserted is not None
        request_id = int(inserted[0])
        append_event(
            self.conn,
            "lawful_request.received",
            _subject(request_id),
            {
                "request_id": request_id,
                "authority": authority.strip()[:256],
                "legal_basis": legal_basis.strip()[:2000],
                "item_ids": scope,
            },
            actor=actor,
            at=now,
        )
        return self.get(request_id)

    def decide(
        self, request_id: int, *, approve: bool, reason: str, actor: str, is_lead: bool
    ) -> dict[str, Any]:
        if not is_lead:
            raise Forbidden("only a lead can approve or refuse a lawful request")
        if not reason.strip():
            raise InvalidInput("say why the request is approved or refused")
        request = self.get(request_id)
        if request["state"] != "received":
            raise Conflict(f"lawful request {request_id} is already {request['state']}")
        state = "approved" if approve else "refused"
        now = self.clock()
        done = self.conn.execute(
            update(lawful_requests)
            .where(lawful_requests.c.id == request_id, lawful_requests.c.state == "received")
            .values(state=state, decided_by=actor, decided_at=now)
        ).rowcount
        if not done:
            raise Conflict(f"lawful request {request_id} was decided meanwhile")
        append_event(
            self.conn,
            f"lawful_request.{state}",
            _subject(request_id),
            {"request_id": request_id, "reason": reason.strip()[:2000]},
            actor=actor,
            at=now,
        )
        return self.get(request_id)

    def export(
        self, request_id: int, *, vault: EvidenceVault, signer: Signer, out_dir: Path, actor: str
    ) -> Path:
        """Write the signed package for an approved request; returns its directory."""
        request = self.get(request_id)
        if request["state"] != "approved":
            raise Conflict(
                f"lawful request {request_id} is {request['state']}",
                hint="a lead approves it first (takedown request decide --approve)",
            )
        package = out_dir / f"lawful-request-{request_id}"
        if package.exists():
            raise Conflict(f"{package} exists already; choose another --out")
        (package / "items").mkdir(parents=True)
        entries: list[dict[str, Any]] = []
        for item_id in request["scope"]["item_ids"]:
            try:
                record = vault.open(item_id)
            except (NotFound, Conflict) as error:
                entries.append({"item_id": item_id, "file": None, "note": error.message})
                continue
            body = json.dumps(record, sort_keys=True, indent=2).encode("utf-8")
            name = _file_name(item_id)
            (package / name).write_bytes(body)
            entries.append(
                {"item_id": item_id, "file": name, "sha256": hashlib.sha256(body).hexdigest()}
            )
            append_event(
                self.conn,
                "evidence.accessed",
                f"item:{item_id}",
                {"item_id": item_id, "request_id": request_id},
                actor=actor,
            )
        now = self.clock()
        manifest = {
            "format": "takedown-lawful-export-v1",
            "request": {
                k: request[k]
                for k in (
                    "id",
                    "authority",
                    "legal_basis",
                    "received_at",
                    "decided_by",
                    "decided_at",
                )
            },
            "created_at": now.isoformat(),
            "signing_key_id": signer.key_id,
            "items": entries,
        }
        manifest_bytes = json.dumps(manifest, sort_keys=True, indent=2).encode("utf-8")
        (package / "manifest.json").write_bytes(manifest_bytes)
        (package / "manifest.sig").write_text(signer.sign(manifest_bytes) + "\n")
        (package / "signing-key.pem").write_text(signer.public_pem())
        digest = hashlib.sha256(manifest_bytes).hexdigest()
        self.conn.execute(
            update(lawful_requests)
            .where(lawful_requests.c.id == request_id)
            .values(state="exported", exported_at=now, package_sha256=digest)
        )
        append_event(
            self.conn,
            "lawful_request.exported",
            _subject(request_id),
            {
                "request_id": request_id,
                "items": sum(1 for e in entries if e["file"]),
                "manifest_sha256": digest,
            },
            actor=actor,
            at=now,
        )
        return package
