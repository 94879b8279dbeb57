"""Evidence preservation (TCO Art 6): every removed item's content and metadata is kept for six
months (configurable), longer under a legal hold, encrypted with AES-256-GCM, then purged.

The keys live in a key file named by the configuration (one `key_id base64key` per line, the
first is current), never in the database. Rotation adds a new current key and re-encrypts the
stored evidence under it; old ids stay readable until the re-encryption is done. Once an item
is preserved its plaintext copy in `submissions` is cleared (with SQLite's secure_delete, so
freed pages are zeroed), so the only readable copy is the encrypted one, and only the lawful
request export (takedown.legal.requests) decrypts it. The item id is the authenticated data,
so a ciphertext moved to another row fails to decrypt.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Connection, func, or_, select, update

from takedown.core.errors import Conflict, InvalidInput, NotFound
from takedown.legal.clock import Clock, utc_now
from takedown.storage.ledger import append_event
from takedown.storage.legal_tables import evidence
from takedown.storage.tables import decisions, submissions

PRESERVED_ACTIONS = ("remove",)


@dataclass(frozen=True)
class Keyring:
    """Key id → 32-byte AES key; `current` encrypts, every key decrypts."""

    keys: dict[str, bytes]
    current: str

    def cipher(self, key_id: str) -> AESGCM:
        try:
            return AESGCM(self.keys[key_id])
        except KeyError:
            raise Conflict(
                f"evidence key {key_id!r} is not in the key file",
                hint="restore the old key file line, or re-encrypt before removing keys",
            ) from None


def _new_line() -> str:
    return f"k{secrets.token_hex(4)} {base64.b64encode(AESGCM.generate_key(256)).decode()}"


def load_keyring(path: Path, *, create: bool = True) -> Keyring:
    if not path.exists():
        if not create:
            raise InvalidInput(f"no evidence key file at {path}")
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(_new_line() + "\n")
    keys: dict[str, bytes] = {}
    order: list[str] = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        try:
            key_id, encoded = line.split()
            key = base64.b64decode(encoded, validate=True)
        except ValueError:
            raise InvalidInput(f"{path}:{number}: expected `key_id base64key`") from None
        if len(key) != 32:
            raise InvalidInput(f"{path}:{number}: keys are 32 bytes (AES-256)")
        keys[key_id] = key
        order.append(key_id)
    if not order:
        raise InvalidInput(f"{path} holds no keys")
    return Keyring(keys, order[0])


def add_key(path: Path) -> str:
    """Put a new current key at the top of the key file; returns its id."""
    old = path.read_text() if path.exists() else ""
    line = _new_line()
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(line + "\n" + old)
    tmp.replace(path)
    return line.split()[0]


class EvidenceVault:
    def __init__(
        self,
        conn: Connection,
        keyring: Keyring,
        *,
        retention: timedelta = timedelta(days=183),
        clock: Clock = utc_now,
    ) -> None:
        self.conn = conn
        self.keyring = keyring
        self.retention = retention
        self.clock = clock

    def _seal(self, item_id: str, plaintext: bytes) -> tuple[str, bytes, bytes]:
        nonce = secrets.token_bytes(12)
        key_id = self.keyring.current
        sealed = self.keyring.cipher(key_id).encrypt(nonce, plaintext, item_id.encode())
        return key_id, nonce, sealed

    def pending(self, limit: int = 100) -> list[tuple[str, int]]:
        """Removed items not yet preserved: (item id, removing decision id)."""
        rows = self.conn.execute(
            select(submissions.c.item_id, func.min(decisions.c.id))
            .join(decisions, decisions.c.submission_id == submissions.c.id)
            .outerjoin(evidence, evidence.c.item_id == submissions.c.item_id)
            .where(decisions.c.action.in_(PRESERVED_ACTIONS), evidence.c.id.is_(None))
            .group_by(submissions.c.item_id)
            .limit(limit)
        ).all()
        return [(str(r[0]), int(r[1])) for r in rows]

    def preserve(self, item_id: str, *, decision_id: int | None, actor: str) -> bool:
        row = self.conn.execute(select(submissions).where(submissions.c.item_id == item_id)).first()
        if row is None:
            raise NotFound(f"no submitted item {item_id!r}")
        if self.conn.execute(select(evidence.c.id).where(evidence.c.item_id == item_id)).first():
            return False
        record = {
            "item_id": item_id,
            "kind": row.kind,
            "account_id": row.account_id,
            "text": row.text,
            "url": row.url,
            "content_b64": None if row.content is None else base64.b64encode(row.content).decode(),
            "metadata": dict(row.meta or {}),
            "source": row.source,
            "received_at": row.received_at.isoformat(),
        }
        plaintext = json.dumps(record, sort_keys=True).encode("utf-8")
        key_id, nonce, sealed = self._seal(item_id, plaintext)
        now = self.clock()
        expires = now + self.retention
        self.conn.execute(
            evidence.insert().values(
                item_id=item_id,
                decision_id=decision_id,
                key_id=key_id,
                nonce=nonce,
                ciphertext=sealed,
                sha256=hashlib.sha256(plaintext).hexdigest(),
                preserved_at=now,
                expires_at=expires,
            )
        )
        self._scrub(item_id)
        append_event(
            self.conn,
            "evidence.preserved",
            f"item:{item_id}",
            {
                "item_id": item_id,
                "decision_id": decision_id,
                "key_id": key_id,
                "expires_at": expires.isoformat(),
            },
            actor=actor,
            at=now,
        )
        return True

    def _scrub(self, item_id: str) -> None:
        if self.conn.dialect.name == "sqlite":
            self.conn.exec_driver_sql("PRAGMA secure_delete=ON")
        self.conn.execute(
            update(submissions)
            .where(submissions.c.item_id == item_id)
            .values(content=None, text=None, url=None)
        )

    def open(self, item_id: str) -> dict[str, Any]:
        """Decrypt one item's evidence; callers are the audited lawful-request export only."""
        row = self.conn.execute(select(evidence).where(evidence.c.item_id == item_id)).first()
        if row is None:
            raise NotFound(f"no preserved evidence for {item_id!r}")
        if row.ciphertext is None:
            raise Conflict(f"the evidence for {item_id!r} was purged at {row.purged_at}")
        try:
            plain = self.keyring.cipher(row.key_id).decrypt(
                bytes(row.nonce), bytes(row.ciphertext), item_id.encode()
            )
        except InvalidTag:
            raise Conflict(f"the evidence for {item_id!r} fails authentication") from None
        result: dict[str, Any] = json.loads(plain)
        return result

    def hold(self, item_id: str, *, until: datetime, reason: str, actor: str) -> None:
        """A legal hold (authority or court request) keeps evidence past its normal expiry."""
        if until.tzinfo is None:
            raise InvalidInput("'until' needs a time zone")
        if not reason.strip():
            raise InvalidInput("a legal hold needs a reason")
        done = self.conn.execute(
            update(evidence)
            .where(evidence.c.item_id == item_id, evidence.c.purged_at.is_(None))
            .values(hold_until=until)
        ).rowcount
        if not done:
            raise NotFound(f"no preserved, unpurged evidence for {item_id!r}")
        append_event(
            self.conn,
            "evidence.held",
            f"item:{item_id}",
            {"item_id": item_id, "until": until.isoformat(), "reason": reason.strip()[:500]},
            actor=actor,
        )

    def purge_expired(self, *, actor: str = "automation") -> list[str]:
        now = self.clock()
        rows = (
            self.conn.execute(
                select(evidence.c.item_id).where(
                    evidence.c.purged_at.is_(None),
                    evidence.c.expires_at <= now,
                    or_(evidence.c.hold_until.is_(None), evidence.c.hold_until <= now),
                )
            )
            .scalars()
            .all()
        )
        if rows and self.conn.dialect.name == "sqlite":
            self.conn.exec_driver_sql("PRAGMA secure_delete=ON")
        for item_id in rows:
            self.conn.execute(
                update(evidence)
                .where(evidence.c.item_id == item_id)
                .values(ciphertext=None, purged_at=now)
            )
            append_event(
                self.conn,
                "evidence.purged",
                f"item:{item_id}",
                {"item_id": item_id},
                actor=actor,
                at=now,
            )
        return [str(i) for i in rows]

    def reencrypt(self, *, actor: str) -> int:
        """After `add_key`: move every stored ciphertext to the current key."""
        rows = self.conn.execute(
            select(evidence).where(
                evidence.c.ciphertext.is_not(None), evidence.c.key_id != self.keyring.current
            )
        ).all()
        for row in rows:
            plain = self.keyring.cipher(row.key_id).decrypt(
                bytes(row.nonce), bytes(row.ciphertext), row.item_id.encode()
            )
            key_id, nonce, sealed = self._seal(row.item_id, plain)
            self.conn.execute(
                update(evidence)
                .where(evidence.c.id == row.id)
                .values(key_id=key_id, nonce=nonce, ciphertext=sealed)
            )
        if rows:
            append_event(
                self.conn,
                "evidence.rekeyed",
                "evidence",
                {"count": len(rows), "key_id": self.keyring.current},
                actor=actor,
            )
        return len(rows)
