"""`takedown hub serve` runs a hash-sharing hub; `takedown hub member add` enrols a member.

The hub has its own database (TAKEDOWN_HUB_DATABASE_URL, default `hub.db` in the data
directory): a node's banks and a hub's shared entries never mix.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from takedown.cli._common import emit, settings_from_env
from takedown.exchange.hub_app import HubConfig, create_hub_app
from takedown.exchange.hub_members import HubRole, add_member, parse_enum
from takedown.exchange.hub_schema import migrate_hub
from takedown.storage.db import make_engine


def register(subparsers: Any) -> None:
    hub = subparsers.add_parser("hub", help="run a hash-sharing hub and manage its members")
    sub = hub.add_subparsers(dest="hub_command", metavar="COMMAND", required=True)
    serve = sub.add_parser("serve", help="serve the hub API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8100)
    serve.set_defaults(func=cmd_serve)
    member = sub.add_parser("member", help="manage hub members")
    msub = member.add_subparsers(dest="member_command", metavar="COMMAND", required=True)
    add = msub.add_parser("add", help="add a member and print its token (shown only once)")
    add.add_argument("name")
    add.add_argument("--role", default="reader", help="contributor, reader or admin")
    add.add_argument("--json", action="store_true")
    add.set_defaults(func=cmd_member_add)


def _config() -> HubConfig:
    settings = settings_from_env()
    return HubConfig(
        settings.effective_hub_database_url,
        dispute_votes=settings.hub_dispute_votes,
        rate_per_minute=settings.hub_rate_per_minute,
        redis_url=settings.hub_redis_url,
    )


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    config = _config()
    app = create_hub_app(config)
    print(f"takedown: hub serving on http://{args.host}:{args.port}", file=sys.stderr, flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


def cmd_member_add(args: argparse.Namespace) -> int:
    role = parse_enum(HubRole, args.role, "role")
    engine = make_engine(_config().database_url)
    migrate_hub(engine)
    try:
        with engine.begin() as conn:
            token = add_member(conn, args.name, role)
    finally:
        engine.dispose()
    if args.json:
        emit({"name": args.name, "role": role.value, "token": token})
    else:
        print(token)
        print("takedown: store this token now; the hub keeps only its digest", file=sys.stderr)
    return 0
