"""`takedown sync`: pull every configured exchange source (TAKEDOWN_EXCHANGE_SOURCES) into its
bank once, send pending feedback and publish opt-in banks; `serve`/`worker` keep doing this in
the background. Safe to interrupt at any moment: it resumes from the last committed page."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from takedown.cli._common import emit, settings_from_env
from takedown.core.errors import InvalidInput
from takedown.services.exchange_node import ExchangeNode
from takedown.signals.registry import default_registry
from takedown.storage.db import make_engine, migrate


def register(subparsers: Any) -> None:
    sync = subparsers.add_parser("sync", help="pull hash exchange sources into local banks")
    sync.add_argument("--source", action="append", help="only this source (repeatable)")
    sync.add_argument("--no-send", action="store_true", help="pull only; send no feedback")
    sync.add_argument("--json", action="store_true", help="print one JSON line per source")
    sync.set_defaults(func=cmd_sync)


def cmd_sync(args: argparse.Namespace) -> int:
    settings = settings_from_env()
    if settings.exchange_sources is None:
        raise InvalidInput(
            "no exchange sources configured",
            hint="point TAKEDOWN_EXCHANGE_SOURCES at a sources file (see docs/sharing.md)",
        )
    engine = make_engine(settings.effective_database_url)
    migrate(engine)
    try:
        node = ExchangeNode.from_settings(settings, engine, default_registry())
        assert node is not None
        known = {s.name for s in node.sources}
        unknown = set(args.source or ()) - known
        if unknown:
            raise InvalidInput(
                f"unknown source(s) {', '.join(sorted(unknown))}", hint=f"known: {sorted(known)}"
            )
        for outcome in node.sync_all(args.source):
            if args.json:
                emit(outcome.to_json())
            else:
                print(
                    f"{outcome.source}: {outcome.received} received in {outcome.pages} page(s), "
                    f"{outcome.added} added, {outcome.removed} removed, "
                    f"{len(outcome.crisis)} crisis",
                    file=sys.stderr,
                )
        if not args.no_send:
            sent = node.send_once()
            if args.json:
                emit(sent)
    finally:
        engine.dispose()
    return 0
