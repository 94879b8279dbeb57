"""`takedown keys create|revoke`: API keys are shown once and stored only as digests."""

from __future__ import annotations

import argparse
from typing import Any

from takedown.cli._common import open_runtime
from takedown.storage.keys import Role, create_key, parse_role, revoke_key


def register(subparsers: Any) -> None:
    keys = subparsers.add_parser("keys", help="manage API keys")
    sub = keys.add_subparsers(dest="keys_command", metavar="ACTION", required=True)
    create = sub.add_parser("create", help="create a key and print it once")
    create.add_argument("--role", required=True, choices=[r.value for r in Role])
    create.add_argument("--name", help="who or what the key is for")
    create.set_defaults(func=cmd_create)
    revoke = sub.add_parser("revoke", help="revoke a key by id")
    revoke.add_argument("key_id", type=int)
    revoke.set_defaults(func=cmd_revoke)


def cmd_create(args: argparse.Namespace) -> int:
    runtime = open_runtime()
    try:
        with runtime.engine.begin() as conn:
            key = create_key(conn, parse_role(args.role), name=args.name, actor="cli")
    finally:
        runtime.close()
    print(key)
    return 0


def cmd_revoke(args: argparse.Namespace) -> int:
    runtime = open_runtime()
    try:
        with runtime.engine.begin() as conn:
            revoke_key(conn, args.key_id, actor="cli")
    finally:
        runtime.close()
    return 0
