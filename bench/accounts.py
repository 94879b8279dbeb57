"""Cost of account enforcement: accounts risk-scored per second, memory per 100,000 accounts
(scaled to 1M), and ban-evader lookups per second through the index against a linear scan of
every suspended account, all measured in the same run. Prints JSON; medians of the repeats.

    python bench/accounts.py --json [--accounts 100000] [--suspended 5000] [--repeats 3]

Baselines: the risk score Takedown used before accounts existed (1 − ½^prior removals, a
formula with nothing to read), and `compare()` against every suspended account (O(N) per
lookup) for the evader index.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from typing import Any

from takedown.accounts.evaders import EvaderIndex, Fingerprint, compare
from takedown.accounts.model import AccountStats, PostObservation
from takedown.detect.account_risk import AccountRiskDetector, Neighbourhood
from takedown.services.facts import account_risk

T0 = datetime(2026, 1, 1, tzinfo=UTC)
WORDS = ("abu", "umm", "news", "daily", "media", "khalid", "sara", "omar", "lena", "ali",
         "shami", "iraqi", "times", "report", "coffee", "city", "voice", "truth", "hope")


def make_stats(rng: random.Random) -> AccountStats:
    stats = AccountStats()
    for n in range(rng.randint(3, 40)):
        stats = stats.with_post(PostObservation(
            at=T0 + timedelta(minutes=rng.randrange(10_000) + n),
            matched=rng.random() < 0.05, flagged=rng.random() < 0.05,
            urls=(f"https://site{rng.randrange(5000)}.example/{n}",) if rng.random() < 0.2
            else (),
            media=(f"{rng.getrandbits(256):064x}",) if rng.random() < 0.1 else ()))
    return stats


def word(rng: random.Random) -> str:
    """A pronounceable random word: names and bios that share 3-grams only by chance."""
    return "".join(rng.choice("bdfghklmnprstvz") + rng.choice("aeiou")
                   for _ in range(rng.randint(2, 4)))


def fingerprint(rng: random.Random, n: int) -> Fingerprint:
    name = f"{rng.choice(WORDS)} {word(rng)} {word(rng)}"
    bio = " ".join([*(word(rng) for _ in range(6)), rng.choice(WORDS)])
    return Fingerprint.of(f"a{n}", display_name=name, bio=bio,
                          avatar_pdq=f"{rng.getrandbits(256):064x}",
                          urls=[f"https://site{rng.randrange(5000)}.example/"],
                          neighbours=[f"a{rng.randrange(100_000)}" for _ in range(5)])


def timed(fn: Any, repeats: int) -> float:
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--suspended", type=int, default=5_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rng = random.Random(7)

    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    population = [make_stats(rng) for _ in range(args.accounts)]
    after = tracemalloc.take_snapshot()
    stats_bytes = sum(s.size_diff for s in after.compare_to(before, "filename"))
    tracemalloc.stop()
    row_bytes = statistics.median(len(json.dumps(s.to_json())) for s in population[:2000])

    detector = AccountRiskDetector()
    hood = Neighbourhood(10, 1)
    sample = population[: min(len(population), 20_000)]
    score_s = timed(lambda: [detector.assess(s, neighbourhood=hood, evader_score=0.1)
                             for s in sample], args.repeats)
    base_s = timed(lambda: [account_risk(s.matched) for s in sample], args.repeats)

    suspended = [fingerprint(rng, n) for n in range(args.suspended)]
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    start = time.perf_counter()
    index = EvaderIndex()
    for fp in suspended:
        index.add(fp)
    build_s = time.perf_counter() - start
    after = tracemalloc.take_snapshot()
    index_bytes = sum(s.size_diff for s in after.compare_to(before, "filename"))
    tracemalloc.stop()
    probes = [fingerprint(rng, 1_000_000 + n) for n in range(args.queries)]
    query_s = timed(lambda: [index.links(p) for p in probes], args.repeats)
    scan_probes = probes[: max(5, args.queries // 20)]
    scan_s = timed(lambda: [[compare(p, s) for s in suspended] for p in scan_probes], 1)
    per_query = query_s / len(probes)
    per_scan = scan_s / len(scan_probes)
    result = {
        "accounts": args.accounts,
        "risk_scored_per_s": round(len(sample) / score_s),
        "baseline_prior_removals_per_s": round(len(sample) / base_s),
        "ratio_to_baseline": round(base_s / score_s, 4),
        "memory_per_100k_accounts_mb": round(stats_bytes / args.accounts * 1e5 / 2**20, 1),
        "memory_1m_accounts_mb": round(stats_bytes / args.accounts * 1e6 / 2**20, 1),
        "stored_stats_json_bytes_median": row_bytes,
        "stored_stats_1m_accounts_mb": round(row_bytes * 1e6 / 2**20, 1),
        "score_1m_accounts_s": round(1e6 * score_s / len(sample), 1),
        "evader_index": {
            "suspended": args.suspended,
            "build_per_s": round(args.suspended / build_s),
            "memory_per_100k_suspended_mb": round(index_bytes / args.suspended * 1e5 / 2**20, 1),
            "lookups_per_s": round(1 / per_query),
            "linear_scan_lookups_per_s": round(1 / per_scan, 2),
            "speedup_over_linear_scan": round(per_scan / per_query, 1),
            "linear_scan_1m_suspended_s_per_lookup": round(per_scan * 1e6 / args.suspended, 1),
        },
    }
    print(json.dumps(result, indent=2) if args.json else result)


if __name__ == "__main__":
    main()
