"""`takedown evidence ...` (preservation, legal holds, purging, key rotation) and
`takedown request ...` (lawful requests: receive → a lead decides → signed export)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from takedown.cli._common import emit
from takedown.cli._legal import accountability, moment


def register(subparsers: Any) -> None:
    ev = subparsers.add_parser("evidence", help="preserved evidence (TCO Art 6)")
    sub = ev.add_subparsers(dest="evidence_command", metavar="ACTION", required=True)
    sub.add_parser("preserve", help="preserve every removed item not yet preserved").set_defaults(
        func=cmd_preserve
    )
    sub.add_parser("purge", help="purge evidence past its expiry and hold").set_defaults(
        func=cmd_purge
    )
    hold = sub.add_parser("hold", help="keep an item's evidence until a later date")
    hold.add_argument("item_id")
    hold.add_argument("--until", type=moment, required=True)
    hold.add_argument("--reason", required=True, help="the authority's or court's request")
    hold.add_argument("--by", required=True)
    hold.set_defaults(func=cmd_hold)
    rotate = sub.add_parser("rotate-key", help="add a new current key and re-encrypt")
    rotate.add_argument("--by", required=True)
    rotate.set_defaults(func=cmd_rotate)

    req = subparsers.add_parser("request", help="lawful requests for preserved data")
    rsub = req.add_subparsers(dest="request_command", metavar="ACTION", required=True)
    rec = rsub.add_parser("receive", help="record a request")
    rec.add_argument("--authority", required=True)
    rec.add_argument("--legal-basis", required=True)
    rec.add_argument("--contact", required=True)
    rec.add_argument("--item", action="append", required=True, help="an item id in scope")
    rec.add_argument("--by", required=True)
    rec.set_defaults(func=cmd_receive)
    dec = rsub.add_parser("decide", help="a lead approves or refuses")
    dec.add_argument("request_id", type=int)
    group = dec.add_mutually_exclusive_group(required=True)
    group.add_argument("--approve", action="store_true")
    group.add_argument("--refuse", action="store_true")
    dec.add_argument("--reason", required=True)
    dec.add_argument("--lead", required=True, help="the lead deciding")
    dec.set_defaults(func=cmd_decide)
    exp = rsub.add_parser("export", help="write the signed package of an approved request")
    exp.add_argument("request_id", type=int)
    exp.add_argument("--out", type=Path, required=True)
    exp.add_argument("--by", required=True)
    exp.set_defaults(func=cmd_export)
    rsub.add_parser("list", help="requests, newest first").set_defaults(func=cmd_list)


def cmd_preserve(_args: argparse.Namespace) -> int:
    with accountability() as acc:
        emit({"preserved": acc.preserve_pending()})
    return 0


def cmd_purge(_args: argparse.Namespace) -> int:
    with accountability() as acc:
        emit({"purged": acc.purge_expired()})
    return 0


def cmd_hold(args: argparse.Namespace) -> int:
    with accountability() as acc, acc.engine.begin() as conn:
        acc.vault(conn).hold(
            args.item_id, until=args.until, reason=args.reason, actor=f"cli:{args.by}"
        )
    return 0


def cmd_rotate(args: argparse.Namespace) -> int:
    with accountability() as acc:
        key_id, count = acc.rotate_evidence_key(actor=f"cli:{args.by}")
    emit({"key_id": key_id, "reencrypted": count})
    return 0


def cmd_receive(args: argparse.Namespace) -> int:
    with accountability() as acc, acc.engine.begin() as conn:
        emit(
            acc.requests(conn).receive(
                authority=args.authority,
                legal_basis=args.legal_basis,
                contact=args.contact,
                item_ids=args.item,
                actor=f"cli:{args.by}",
            )
        )
    return 0


def cmd_decide(args: argparse.Namespace) -> int:
    with accountability() as acc, acc.engine.begin() as conn:
        emit(
            acc.requests(conn).decide(
                args.request_id,
                approve=args.approve,
                reason=args.reason,
                actor=f"cli:lead:{args.lead}",
                is_lead=True,
            )
        )
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    with accountability() as acc:
        path = acc.export_request(args.request_id, args.out, actor=f"cli:{args.by}")
    emit({"package": str(path)})
    return 0


def cmd_list(_args: argparse.Namespace) -> int:
    with accountability() as acc, acc.engine.begin() as conn:
        emit({"requests": acc.requests(conn).listing()})
    return 0
