"""`takedown webhooks dead|replay`: see deliveries that gave up and send them again.

A message dies after `TAKEDOWN_WEBHOOK_MAX_ATTEMPTS` failed attempts (or at once when no retry
can help); it stays in the outbox. `replay` makes dead messages due again with fresh attempts;
the running deliverer (`serve` or `worker`) sends them within seconds. Receivers deduplicate by
`Takedown-Id`, so replaying something that did arrive is harmless.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from takedown.cli._common import emit, open_runtime
from takedown.storage import outbox
from takedown.storage.ledger import append_event


def register(subparsers: Any) -> None:
    webhooks = subparsers.add_parser("webhooks", help="inspect and replay webhook deliveries")
    sub = webhooks.add_subparsers(dest="webhooks_command", metavar="ACTION", required=True)
    dead = sub.add_parser("dead", help="list dead deliveries (JSON lines)")
    dead.set_defaults(func=cmd_dead)
    replay = sub.add_parser("replay", help="send dead deliveries again")
    replay.add_argument(
        "ids", nargs="*", type=int, help="outbox ids from `webhooks dead` (default: all dead)"
    )
    replay.add_argument(
        "--now", action="store_true", help="also deliver them from this process before exiting"
    )
    replay.set_defaults(func=cmd_replay)


def cmd_dead(_args: argparse.Namespace) -> int:
    runtime = open_runtime()
    try:
        with runtime.engine.connect() as conn:
            for row in outbox.dead_messages(conn):
                emit(row)
    finally:
        runtime.close()
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    runtime = open_runtime()
    try:
        with runtime.engine.begin() as conn:
            revived = outbox.replay_dead(conn, list(args.ids) or None)
            if revived:
                append_event(
                    conn, "webhook.replayed", "outbox", {"ids": revived}, actor="cli"
                )
        if args.now and revived:
            runtime.deliverer.run_once(limit=max(50, len(revived)))
        with runtime.engine.connect() as conn:
            counts = outbox.counts(conn)
    finally:
        runtime.close()
    print(
        f"takedown: replayed {len(revived)} dead deliveries; outbox now {counts}", file=sys.stderr
    )
    return 0
