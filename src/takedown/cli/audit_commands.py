"""`takedown audit verify|checkpoint|keygen`: the ledger's chain and its signed checkpoints.

`verify` exits 0 when the chain holds and every checkpoint matches it, and 7 otherwise, naming
the first bad event; its JSON result goes to stdout either way.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from takedown.cli._common import emit
from takedown.cli._legal import accountability

AUDIT_FAILED = 7


def register(subparsers: Any) -> None:
    audit = subparsers.add_parser("audit", help="verify the ledger and its signed checkpoints")
    sub = audit.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    verify = sub.add_parser("verify", help="check the chain and every checkpoint")
    verify.add_argument(
        "--public-key", type=Path, help="PEM public key (default: from the configured key file)"
    )
    verify.set_defaults(func=cmd_verify)
    point = sub.add_parser("checkpoint", help="sign the current head now")
    point.set_defaults(func=cmd_checkpoint)
    keygen = sub.add_parser(
        "keygen", help="create the signing key if missing; print its public key"
    )
    keygen.set_defaults(func=cmd_keygen)


def cmd_verify(args: argparse.Namespace) -> int:
    with accountability() as acc:
        result = acc.verify(public_key=args.public_key)
    emit(result.to_json())
    if result.ok:
        return 0
    print(
        f"takedown: audit failed at event {result.first_bad_seq}: {result.problem}",
        file=sys.stderr,
    )
    return AUDIT_FAILED


def cmd_checkpoint(_args: argparse.Namespace) -> int:
    with accountability() as acc:
        point = acc.checkpoint()
    emit(None if point is None else point.to_json())
    return 0


def cmd_keygen(_args: argparse.Namespace) -> int:
    with accountability() as acc:
        signer = acc.signer()
        path = acc.settings.effective_audit_key_file
    emit({"key_file": str(path), "key_id": signer.key_id, "public_key": signer.public_pem()})
    return 0
