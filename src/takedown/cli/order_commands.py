"""`takedown order receive|list|show|action|confirm|unmet|resume|tick`: TCO removal orders."""

from __future__ import annotations

import argparse
from typing import Any

from takedown.cli._common import emit
from takedown.cli._legal import accountability, moment
from takedown.legal.clock import UnmetReason
from takedown.legal.orders import ACTIONS, NewOrder


def register(subparsers: Any) -> None:
    order = subparsers.add_parser("order", help="TCO removal orders and their one-hour clock")
    sub = order.add_subparsers(dest="order_command", metavar="ACTION", required=True)
    rec = sub.add_parser("receive", help="record a removal order; its hour starts")
    rec.add_argument("--authority", required=True)
    rec.add_argument("--legal-basis", required=True)
    rec.add_argument("--contact", required=True, help="the authority's contact point")
    rec.add_argument("--item", help="the item id, if Takedown holds the item")
    rec.add_argument("--url", help="the URL the order names")
    rec.add_argument("--received-at", type=moment, help="ISO time of receipt (default now)")
    rec.set_defaults(func=cmd_receive)
    ls = sub.add_parser("list", help="orders, nearest deadline first")
    ls.add_argument("--open", action="store_true", help="only orders not yet actioned")
    ls.set_defaults(func=cmd_list)
    show = sub.add_parser("show", help="one order with its clock")
    show.add_argument("order_id", type=int)
    show.set_defaults(func=cmd_show)
    act = sub.add_parser("action", help="act on the order (decides the item's case)")
    act.add_argument("order_id", type=int)
    act.add_argument("--action", choices=ACTIONS, default="remove")
    act.add_argument("--label", default="TVEC1", help="taxonomy label of the content")
    act.add_argument("--by", required=True, help="who acted")
    act.set_defaults(func=cmd_action)
    conf = sub.add_parser("confirm", help="record the confirmation sent to the authority")
    conf.add_argument("order_id", type=int)
    conf.add_argument("--reference", required=True, help="how and when the authority was told")
    conf.add_argument("--by", required=True)
    conf.set_defaults(func=cmd_confirm)
    unmet = sub.add_parser("unmet", help="declare why the order cannot be met (clock stops)")
    unmet.add_argument("order_id", type=int)
    unmet.add_argument("--reason", required=True, choices=[r.value for r in UnmetReason])
    unmet.add_argument("--detail", required=True)
    unmet.add_argument("--by", required=True)
    unmet.set_defaults(func=cmd_unmet)
    resume = sub.add_parser("resume", help="the reason ceased: a fresh hour starts now")
    resume.add_argument("order_id", type=int)
    resume.add_argument("--by", required=True)
    resume.set_defaults(func=cmd_resume)
    tick = sub.add_parser("tick", help="write the 30/50-minute warnings that are due")
    tick.set_defaults(func=cmd_tick)


def _actor(args: argparse.Namespace) -> str:
    return f"cli:{args.by}"


def cmd_receive(args: argparse.Namespace) -> int:
    with accountability() as acc, acc.engine.begin() as conn:
        order = NewOrder(
            authority=args.authority,
            legal_basis=args.legal_basis,
            authority_contact=args.contact,
            item_id=args.item,
            url=args.url,
            received_at=args.received_at,
        )
        emit(acc.orders(conn).receive(order, actor="cli"))
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    with accountability() as acc, acc.engine.begin() as conn:
        emit({"orders": acc.orders(conn).listing(open_only=args.open)})
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    with accountability() as acc, acc.engine.begin() as conn:
        emit(acc.orders(conn).get(args.order_id))
    return 0


def cmd_action(args: argparse.Namespace) -> int:
    with accountability() as acc, acc.engine.begin() as conn:
        emit(
            acc.orders(conn).action(
                args.order_id, actor=_actor(args), action=args.action, label=args.label
            )
        )
    return 0


def cmd_confirm(args: argparse.Namespace) -> int:
    with accountability() as acc, acc.engine.begin() as conn:
        emit(acc.orders(conn).confirm(args.order_id, reference=args.reference, actor=_actor(args)))
    return 0


def cmd_unmet(args: argparse.Namespace) -> int:
    with accountability() as acc, acc.engine.begin() as conn:
        emit(
            acc.orders(conn).unmet(
                args.order_id, reason=args.reason, detail=args.detail, actor=_actor(args)
            )
        )
    return 0


def cmd_resume(args: argparse.Namespace) -> int:
    with accountability() as acc, acc.engine.begin() as conn:
        emit(acc.orders(conn).resume(args.order_id, actor=_actor(args)))
    return 0


def cmd_tick(_args: argparse.Namespace) -> int:
    with accountability() as acc, acc.engine.begin() as conn:
        emit({"warnings": acc.orders(conn).tick()})
    return 0
