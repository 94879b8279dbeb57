"""The issue's slices of the test split: movement x language, short vs long, TVEC category,
and the source held out of training altogether.

Each slice reports what a moderator cares about: propaganda recall (share of `tvec` rows
predicted `tvec`) and the share of news and of counter-speech flagged as `tvec`. Movement is
the milieu a source comes from (`movements.MOVEMENTS`); news and counter-speech rows belong to
no movement and are reported per language and length. Long = at least `LONG_CHARS`
characters, scored on the whole text (windows pooled, see `encoder.windows`).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from takedown.classify import LABELS
from takedown.classify.datasets import HOLDOUT_SOURCES, LONG_CHARS, Example
from takedown.classify.movements import movement_of

TARGET_RECALL = 0.85
TARGET_FLAGGED = 0.02
MIN_SLICE_ROWS = 50
"""The issue's targets apply to movement x language slices with at least this many rows."""
SLICE_LANGS = ("en", "ar", "de", "fr")


def _rate(hit: np.ndarray, mask: np.ndarray) -> dict[str, Any]:
    n = int(mask.sum())
    return {"n": n, "rate": float(hit[mask].mean()) if n else None}


def slices(
    rows: list[Example], pred: np.ndarray, categories: list[str | None]
) -> dict[str, Any]:
    """All slice tables from the test rows, predicted classes and predicted categories."""
    tvec = LABELS.index("tvec")
    flagged = pred == tvec
    label = np.array([e.label for e in rows])
    lang = np.array([e.lang for e in rows])
    movement = np.array([movement_of(e.source) for e in rows])
    long = np.array([len(e.text) >= LONG_CHARS for e in rows])
    source = np.array([e.source for e in rows])
    is_tvec = label == "tvec"
    out: dict[str, Any] = {"movement_language": [], "length": [], "protected_language": []}
    for mov in ("jihadist", "far-right"):
        for lg in SLICE_LANGS:
            mask = (movement == mov) & (lang == lg)
            if not mask.any():
                continue
            out["movement_language"].append(
                {
                    "movement": mov,
                    "lang": lg,
                    "recall": _rate(flagged, mask & is_tvec),
                    "other_flagged": _rate(flagged, mask & (label == "other")),
                    "sources": dict(Counter(source[mask & is_tvec].tolist())),
                }
            )
    for lg in SLICE_LANGS:
        out["protected_language"].append(
            {
                "lang": lg,
                "news": _rate(flagged, (lang == lg) & (label == "news")),
                "counter": _rate(flagged, (lang == lg) & (label == "counter")),
            }
        )
    for name, mask in (("short (< 1,000 chars)", ~long), ("long (≥ 1,000 chars)", long)):
        out["length"].append(
            {
                "length": name,
                "recall": _rate(flagged, mask & is_tvec),
                "news": _rate(flagged, mask & (label == "news")),
                "counter": _rate(flagged, mask & (label == "counter")),
                "other": _rate(flagged, mask & (label == "other")),
            }
        )
    out["categories"] = _categories(rows, flagged, categories)
    out["holdout"] = {
        src: {
            "recall": _rate(flagged, (source == src) & is_tvec),
            "other_flagged": _rate(flagged, (source == src) & (label == "other")),
        }
        for src in sorted(HOLDOUT_SOURCES)
        if (source == src).any()
    }
    return out


def _categories(
    rows: list[Example], flagged: np.ndarray, categories: list[str | None]
) -> list[dict[str, Any]]:
    """Per true TVEC category: recall as `tvec`, and of those caught, the share given the
    right category."""
    out = []
    for cat in sorted({e.category for e in rows if e.label == "tvec"}):
        idx = [i for i, e in enumerate(rows) if e.label == "tvec" and e.category == cat]
        caught = [i for i in idx if flagged[i]]
        right = sum(categories[i] == cat for i in caught)
        out.append(
            {
                "category": cat,
                "n": len(idx),
                "recall": len(caught) / len(idx),
                "category_accuracy": right / len(caught) if caught else None,
                "sources": dict(Counter(rows[i].source for i in idx)),
            }
        )
    return out


def _fmt(cell: dict[str, Any]) -> str:
    return "–" if cell["rate"] is None else f"{100 * cell['rate']:.1f}% (n={cell['n']})"


def render_slices(figures: dict[str, Any]) -> list[str]:
    """Markdown for docs/evaluation.md, targets marked where a slice is big enough."""
    s = figures["slices"]
    out = [
        "## Per movement and language",
        "",
        f"Propaganda recall per movement × language (target ≥ {TARGET_RECALL:.2f} where the "
        f"slice has ≥ {MIN_SLICE_ROWS} `tvec` rows), and that milieu's non-propaganda posts "
        "(`other`) flagged as `tvec`.",
        "",
        "| movement | lang | propaganda recall | met | milieu `other` → tvec | made of |",
        "|---|---|---|---|---|---|",
    ]
    for r in s["movement_language"]:
        rec = r["recall"]
        met = "–"
        if rec["rate"] is not None and rec["n"] >= MIN_SLICE_ROWS:
            met = "yes" if rec["rate"] >= TARGET_RECALL else "**no**"
        made = ", ".join(f"{k} {v}" for k, v in sorted(r["sources"].items()))
        out.append(
            f"| {r['movement']} | {r['lang']} | {_fmt(rec)} | {met} | "
            f"{_fmt(r['other_flagged'])} | {made} |"
        )
    out += [
        "",
        f"News and counter-speech flagged as `tvec`, per language (target ≤ "
        f"{100 * TARGET_FLAGGED:.0f}% each):",
        "",
        "| lang | news → tvec | counter → tvec |",
        "|---|---|---|",
    ]
    for r in s["protected_language"]:
        out.append(f"| {r['lang']} | {_fmt(r['news'])} | {_fmt(r['counter'])} |")
    out += [
        "",
        "## Short posts vs long texts",
        "",
        "Long texts are scored whole: the fast tier reads every word, the semantic tier embeds "
        "windows of ~600 characters and averages them.",
        "",
        "| length | propaganda recall | news → tvec | counter → tvec | other → tvec |",
        "|---|---|---|---|---|",
    ]
    for r in s["length"]:
        out.append(
            f"| {r['length']} | {_fmt(r['recall'])} | {_fmt(r['news'])} | "
            f"{_fmt(r['counter'])} | {_fmt(r['other'])} |"
        )
    out += [
        "",
        "## Per TVEC category",
        "",
        "True category: the annotators' for the Fifth Tribe, far-right Telegram and Alfifi posts "
        "(docs/annotation.md), else from the source (threat templates, Latent Hatred's "
        "*threatening*, Gab's *call for violence*, recruitment calls; the rest TVEC7). Recall = "
        "predicted `tvec`; category accuracy = of those, the share the category head labels "
        "right. TVEC5 (instruction) has too few rows we may use (6 annotated posts), so it is "
        "neither trained nor measured.",
        "",
        "| category | n | recall | category accuracy | made of |",
        "|---|---|---|---|---|",
    ]
    for r in s["categories"]:
        acc = "–" if r["category_accuracy"] is None else f"{r['category_accuracy']:.3f}"
        made = ", ".join(f"{k} {v}" for k, v in sorted(r["sources"].items()))
        out.append(f"| {r['category']} | {r['n']} | {r['recall']:.3f} | {acc} | {made} |")
    out += [
        "",
        "## Held-out source",
        "",
        "Never trained or calibrated on (every row is test): how the model reads a platform "
        "it has not seen.",
        "",
        "| source | propaganda recall | `other` → tvec |",
        "|---|---|---|",
    ]
    for src, r in s["holdout"].items():
        out.append(f"| {src} | {_fmt(r['recall'])} | {_fmt(r['other_flagged'])} |")
    return [*out, ""]
