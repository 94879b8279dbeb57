"""Signed checkpoints of the ledger's head, so truncation and re-chaining are caught.

The hash chain alone detects an edited row, but someone who can write the database can also
delete the newest events or rewrite a row and recompute every later hash. A checkpoint is the
head (seq, hash) signed with an Ed25519 key the database never holds (a file named in the
configuration). Checkpoints are stored in the database and appended to a log file beside the
key, and verification uses both: an attacker would need the key to forge a new head, and would
have to erase both copies to hide an old one.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import Connection, select

from takedown.core.errors import InvalidInput
from takedown.core.events import canonical_json, verify_chain
from takedown.storage.ledger import iter_events
from takedown.storage.legal_tables import audit_checkpoints
from takedown.storage.tables import events


def key_id_of(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


@dataclass(frozen=True)
class Signer:
    """An Ed25519 signing key and its short id (the first 16 hex digits of its public key's
    SHA-256), which checkpoints and export packages name so old keys still verify."""

    private: Ed25519PrivateKey

    @property
    def public(self) -> Ed25519PublicKey:
        return self.private.public_key()

    @property
    def key_id(self) -> str:
        return key_id_of(self.public)

    def sign(self, message: bytes) -> str:
        return self.private.sign(message).hex()

    def public_pem(self) -> str:
        return self.public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode("ascii")


def load_signer(path: Path, *, create: bool = True) -> Signer:
    """Read the PEM key at `path`; with `create`, make one (mode 0600) when it is missing."""
    if not path.exists():
        if not create:
            raise InvalidInput(
                f"no audit signing key at {path}", hint="run `takedown audit keygen` first"
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        private = Ed25519PrivateKey.generate()
        pem = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(pem)
        return Signer(private)
    loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(loaded, Ed25519PrivateKey):
        raise InvalidInput(f"{path} is not an Ed25519 private key")
    return Signer(loaded)


def load_public_key(path: Path) -> Ed25519PublicKey:
    loaded = serialization.load_pem_public_key(path.read_bytes())
    if not isinstance(loaded, Ed25519PublicKey):
        raise InvalidInput(f"{path} is not an Ed25519 public key")
    return loaded


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    head_hash: str
    at: datetime
    key_id: str
    signature: str

    def message(self) -> bytes:
        return checkpoint_message(self.seq, self.head_hash, self.at, self.key_id)

    def to_json(self) -> dict[str, object]:
        return {
            "seq": self.seq,
            "head_hash": self.head_hash,
            "at": self.at.isoformat(),
            "key_id": self.key_id,
            "signature": self.signature,
        }

    @classmethod
    def from_json(cls, obj: dict[str, object]) -> Checkpoint:
        return cls(
            seq=int(str(obj["seq"])),
            head_hash=str(obj["head_hash"]),
            at=datetime.fromisoformat(str(obj["at"])),
            key_id=str(obj["key_id"]),
            signature=str(obj["signature"]),
        )


def checkpoint_message(seq: int, head_hash: str, at: datetime, key_id: str) -> bytes:
    body = {"ledger_head": {"seq": seq, "hash": head_hash}, "at": at.isoformat(), "key": key_id}
    return ("takedown-checkpoint-v1\n" + canonical_json(body)).encode("utf-8")


def write_checkpoint(
    conn: Connection, signer: Signer, *, log_path: Path | None, at: datetime | None = None
) -> Checkpoint | None:
    """Sign the current head; None when the ledger is empty or the head is already signed."""
    head = conn.execute(
        select(events.c.seq, events.c.hash).order_by(events.c.seq.desc()).limit(1)
    ).first()
    if head is None:
        return None
    last = conn.execute(
        select(audit_checkpoints.c.seq).order_by(audit_checkpoints.c.id.desc()).limit(1)
    ).scalar()
    if last is not None and int(last) == int(head.seq):
        return None
    at = (at or datetime.now(UTC)).astimezone(UTC)
    key_id = signer.key_id
    signature = signer.sign(checkpoint_message(int(head.seq), str(head.hash), at, key_id))
    point = Checkpoint(int(head.seq), str(head.hash), at, key_id, signature)
    conn.execute(audit_checkpoints.insert().values(**point.to_json() | {"at": at}))
    if log_path is not None:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with log_path.open("a", encoding="utf-8") as out:
            out.write(json.dumps(point.to_json()) + "\n")
    return point


def stored_checkpoints(conn: Connection) -> list[Checkpoint]:
    return [
        Checkpoint(int(r.seq), r.head_hash, r.at, r.key_id, r.signature)
        for r in conn.execute(select(audit_checkpoints).order_by(audit_checkpoints.c.id))
    ]


def logged_checkpoints(log_path: Path | None) -> list[Checkpoint]:
    if log_path is None or not log_path.exists():
        return []
    result = []
    for number, line in enumerate(log_path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            result.append(Checkpoint.from_json(json.loads(line)))
        except (ValueError, KeyError) as error:
            raise InvalidInput(f"{log_path}:{number}: not a checkpoint ({error})") from None
    return result


@dataclass(frozen=True)
class AuditResult:
    ok: bool
    events: int
    checkpoints: int
    first_bad_seq: int | None = None
    problem: str | None = None
    signed_through: int = 0

    def to_json(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "events": self.events,
            "checkpoints": self.checkpoints,
            "signed_through": self.signed_through,
            "first_bad_seq": self.first_bad_seq,
            "problem": self.problem,
        }


def verify_audit(
    conn: Connection,
    public_keys: Iterable[Ed25519PublicKey],
    *,
    extra: Iterable[Checkpoint] = (),
) -> AuditResult:
    """Check the chain, then every checkpoint (database and log) against it.

    A head hash that no longer matches means events up to it were rewritten (the first suspect
    is the one after the last checkpoint that still matches); a checkpoint beyond the newest
    event means events were deleted from the end.
    """
    keys = {key_id_of(k): k for k in public_keys}
    hashes: dict[int, str] = {}

    def recording() -> Iterator[object]:
        for event in iter_events(conn):
            hashes[event.seq] = event.hash
            yield event

    broken = verify_chain(recording())  # type: ignore[arg-type]
    count = len(hashes)
    points = _dedupe([*stored_checkpoints(conn), *extra])
    if broken is not None:
        return AuditResult(False, count, len(points), broken, "hash chain broken")
    last_seq = max(hashes, default=0)
    good_seq = 0
    for point in sorted(points, key=lambda p: p.seq):
        key = keys.get(point.key_id)
        if key is None:
            return AuditResult(
                False,
                count,
                len(points),
                point.seq,
                f"checkpoint at seq {point.seq} is signed by unknown key {point.key_id}",
            )
        try:
            key.verify(bytes.fromhex(point.signature), point.message())
        except (InvalidSignature, ValueError):
            return AuditResult(
                False,
                count,
                len(points),
                point.seq,
                f"checkpoint at seq {point.seq} has an invalid signature",
            )
        if point.seq > last_seq:
            return AuditResult(
                False,
                count,
                len(points),
                last_seq + 1,
                f"events {last_seq + 1}..{point.seq} are missing: a signed checkpoint covers "
                f"seq {point.seq} but the ledger ends at {last_seq}",
            )
        if hashes.get(point.seq) != point.head_hash:
            return AuditResult(
                False,
                count,
                len(points),
                good_seq + 1,
                f"events {good_seq + 1}..{point.seq} were rewritten: the checkpoint signed at "
                f"{point.at.isoformat()} names another hash for seq {point.seq}",
            )
        good_seq = point.seq
    return AuditResult(True, count, len(points), signed_through=good_seq)


def _dedupe(points: Iterable[Checkpoint]) -> list[Checkpoint]:
    seen: dict[tuple[int, str, str], Checkpoint] = {}
    for point in points:
        seen.setdefault((point.seq, point.head_hash, point.signature), point)
    return list(seen.values())
