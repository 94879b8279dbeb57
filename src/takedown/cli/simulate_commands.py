"""`takedown simulate`: run the platform simulator against an in-process Takedown."""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from dataclasses import fields
from pathlib import Path
from typing import Any

from takedown.core.errors import InvalidInput

HEADLINE = ("proactive_rate", "collateral_rate", "evader_redetect_posts_median",
            "time_to_suspend_median_s", "extremist_recall")


def register(subparsers: Any) -> None:
    sim = subparsers.add_parser("simulate", help="simulate a platform against Takedown's API")
    sim.add_argument("--seed", type=int, default=0)
    sim.add_argument("--seeds", type=int, default=1, help="run seeds seed..seed+N-1")
    sim.add_argument("--data", type=Path, default=Path("../shared/data"),
                     help="shared corpora folder (text and images)")
    sim.add_argument("--corpus", type=Path, default=None,
                     help="a JSON corpus fixture instead of --data (drawn images then)")
    sim.add_argument("--days", type=float, default=None)
    sim.add_argument("--no-classifier", action="store_true")
    sim.add_argument("--no-banks", action="store_true", help="seed no hash bank (ablation)")
    sim.add_argument("--disable", action="append", default=[],
                     help="account-risk signal to leave out (repeatable): matched, flagged, "
                          "banked_media, propaganda_links, burst, graph, evader")
    sim.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                     help="any SimParams field, e.g. --set report_probability=0.1")
    sim.add_argument("--json", action="store_true", help="print the result as JSON")
    sim.add_argument("--timeline", action="store_true", help="keep the per-tick timeline")
    sim.set_defaults(func=cmd_simulate)


def _params(args: argparse.Namespace, seed: int) -> Any:
    from takedown.simulate.params import SimParams

    params = SimParams(seed=seed, classifier=not args.no_classifier, banks=not args.no_banks,
                       disabled_signals=tuple(args.disable))
    if args.days is not None:
        params = params.with_(days=args.days)
    kinds = {f.name: f.type for f in fields(SimParams)}
    for item in args.set:
        name, _, raw = item.partition("=")
        if name not in kinds or not raw:
            raise InvalidInput(f"--set {item!r}: unknown parameter or no value",
                               hint=f"one of {', '.join(sorted(kinds))}")
        current = getattr(params, name)
        try:
            value: Any
            if isinstance(current, bool):
                if raw.lower() not in ("true", "false", "1", "0", "on", "off"):
                    raise ValueError(raw)
                value = raw.lower() in ("true", "1", "on")
            elif isinstance(current, tuple):
                value = tuple(float(x) for x in raw.split(","))
            else:
                value = type(current)(raw)
        except ValueError:
            raise InvalidInput(f"--set {item!r}: not a valid {type(current).__name__}") from None
        params = params.with_(**{name: value})
    return params


def cmd_simulate(args: argparse.Namespace) -> int:
    from takedown.simulate.corpus import load_fixture, load_shared
    from takedown.simulate.driver import simulate
    from takedown.simulate.media import load_images

    if args.corpus is not None:
        corpus, images = load_fixture(args.corpus), []
    else:
        corpus = load_shared(args.data)
        images = load_images(args.data / "images")
    runs = []
    for seed in range(args.seed, args.seed + args.seeds):
        result = simulate(_params(args, seed), corpus, images)
        if not args.timeline:
            result.pop("timeline", None)
        runs.append(result)
        if not args.json:
            print(f"seed {seed}: " + ", ".join(f"{k}={result[k]}" for k in HEADLINE),
                  file=sys.stderr)
    out: dict[str, Any] = runs[0] if len(runs) == 1 else {"runs": runs, "median": {
        k: statistics.median([r[k] for r in runs if r[k] is not None] or [0])
        for k in HEADLINE}}
    print(json.dumps(out, indent=2, default=str) if args.json else
          json.dumps({k: out.get(k, out.get("median", {}).get(k)) for k in HEADLINE}))
    return 0
