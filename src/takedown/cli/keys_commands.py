"""`takedown keys create|list|revoke`: API keys are shown once and stored only as digests.

`create` prints the key on stdout (the one time it is seen) and its id on stderr; `list` shows
ids, roles, names, tenants and dates (never a key); `revoke` takes the id.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from takedown.cli._common import emit, open_runtime
from takedown.storage.keys import Role, create_key_with_id, list_keys, parse_role, revoke_key


def register(subparsers: Any) -> None:
    keys = subparsers.add_parser("keys", help="manage API keys")
    sub = keys.add_subparsers(dest="keys_command", metavar="ACTION", required=True)
    create = sub.add_parser("create", help="create a key and print it once")
    create.add_argument("--role", required=True, choices=[r.value for r in Role])
    create.add_argument("--name", help="who or what the key is for")
    create.add_argument(
        "--tenant",
        help="integrator keys: the id space and items the key sees (default: its own, "
        "key-<id>); give a replacement key the old key's tenant",
    )
    create.set_defaults(func=cmd_create)
    listing = sub.add_parser("list", help="list keys (ids, roles, names, tenants; no secrets)")
    listing.add_argument("--json", action="store_true", help="one JSON object per key")
    listing.set_defaults(func=cmd_list)
    revoke = sub.add_parser("revoke", help="revoke a key by id (see `keys list`)")
    revoke.add_argument("key_id", type=int)
    revoke.set_defaults(func=cmd_revoke)


def cmd_create(args: argparse.Namespace) -> int:
    runtime = open_runtime()
    try:
        with runtime.engine.begin() as conn:
            key_id, key = create_key_with_id(
                conn, parse_role(args.role), name=args.name, actor="cli", tenant=args.tenant
            )
    finally:
        runtime.close()
    print(key)
    print(f"takedown: created key id {key_id} (revoke with `takedown keys revoke {key_id}`)",
          file=sys.stderr)
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    runtime = open_runtime()
    try:
        with runtime.engine.connect() as conn:
            rows = list_keys(conn)
    finally:
        runtime.close()
    if args.json:
        for row in rows:
            emit(row)
        return 0
    print(f"{'id':>5}  {'role':<10} {'state':<8} {'tenant':<16} {'name':<20} created")
    for r in rows:
        state = "revoked" if r["revoked_at"] else "active"
        print(
            f"{r['id']:>5}  {r['role']:<10} {state:<8} {r['tenant'] or '-':<16} "
            f"{r['name'] or '-':<20} {r['created_at'][:19]}"
        )
    return 0


def cmd_revoke(args: argparse.Namespace) -> int:
    runtime = open_runtime()
    try:
        with runtime.engine.begin() as conn:
            revoke_key(conn, args.key_id, actor="cli")
    finally:
        runtime.close()
    print(f"takedown: revoked key {args.key_id}", file=sys.stderr)
    return 0
