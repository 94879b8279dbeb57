"""Summarise `takedown simulate` results for docs/simulation.md: per-seed figures with medians
and ranges, the ablation table, and the plot of accounts over simulated time.

    takedown simulate --seed 100 --seeds 10 --days 2 --data ../shared/data --json --timeline \\
        > main.json
    python bench/simulation_report.py main.json [ablation.json ...] --plot docs/img/simulation.png
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path
from typing import Any

HEADLINE = ("proactive_rate", "collateral_rate", "evader_redetect_posts_median",
            "evader_suspend_posts_median", "time_to_suspend_median_s", "extremist_recall",
            "automated_share")


def runs_of(path: Path) -> list[dict[str, Any]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return list(data["runs"]) if "runs" in data else [data]


def summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {"seeds": len(runs)}
    for key in HEADLINE:
        values = [r[key] for r in runs if r.get(key) is not None]
        out[key] = {"median": statistics.median(values), "min": min(values),
                    "max": max(values)} if values else None
    out["others_suspended"] = sum(len(r["others_suspended"]) for r in runs)
    out["other_accounts"] = sum(r["other_accounts"] for r in runs)
    out["evaders_found"] = f"{sum(r['evaders_found'] for r in runs)}/" \
                           f"{sum(r['evaders'] for r in runs)}"
    return out


def plot(runs: list[dict[str, Any]], target: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.2))
    for n, run in enumerate(runs):
        t = [p["t_hours"] for p in run["timeline"]]
        kw = {"alpha": 0.35, "linewidth": 1}
        ax.plot(t, [p["extremists_alive"] for p in run["timeline"]], color="tab:red",
                label="extremist accounts alive" if n == 0 else None, **kw)
        ax.plot(t, [p["extremists_suspended"] for p in run["timeline"]], color="tab:blue",
                label="extremist accounts suspended (cumulative)" if n == 0 else None, **kw)
        ax.plot(t, [p["others_suspended"] for p in run["timeline"]], color="tab:green",
                label="other accounts suspended" if n == 0 else None, **kw)
        ax.plot(t, [p["others_in_review"] for p in run["timeline"]], color="tab:orange",
                label="other accounts in review" if n == 0 else None, **kw)
    ax.set_xlabel("simulated hours")
    ax.set_ylabel("accounts")
    ax.set_title(f"Simulated platform, {len(runs)} seeds (one line per seed)")
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    target.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(target, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("results", nargs="+", type=Path)
    parser.add_argument("--plot", type=Path, default=None)
    args = parser.parse_args()
    report = {path.stem: summary(runs_of(path)) for path in args.results}
    print(json.dumps(report, indent=2))
    if args.plot is not None:
        plot(runs_of(args.results[0]), args.plot)


if __name__ == "__main__":
    main()
