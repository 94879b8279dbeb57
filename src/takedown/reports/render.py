"""Writing a transparency report: JSON (every figure), CSV (a flat summary plus the harmonised
template's quantitative tables the data supports) and HTML (the same figures, a TCO Art 7(3)
section and offline SVG charts).

Template tables follow the sections of the quantitative template of Implementing Regulation
(EU) 2024/2835 (orders from Member States, Art 16 notices, own-initiative moderation,
complaints, out-of-court disputes, suspensions, automated means, human resources), one CSV per
section, columns named for what the template asks; cells Takedown cannot know are written as
`not recorded` rather than guessed.
"""

from __future__ import annotations

import csv
import json
from html import escape
from pathlib import Path
from typing import Any

from takedown.core.errors import InvalidInput
from takedown.reports import charts
from takedown.reports.metrics import Figures

FORMATS = ("html", "json", "csv")
NOT_RECORDED = "not recorded"
DSA_CATEGORY = "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY"


def write_report(figures: Figures, fmt: str, out_dir: Path) -> list[Path]:
    if fmt not in FORMATS:
        raise InvalidInput(f"unknown format {fmt!r}", hint=f"use one of: {', '.join(FORMATS)}")
    out_dir.mkdir(parents=True, exist_ok=True)
    if fmt == "json":
        path = out_dir / "transparency.json"
        path.write_text(json.dumps(figures.to_json(), indent=2, sort_keys=True) + "\n")
        return [path]
    if fmt == "csv":
        return write_csv(figures, out_dir)
    path = out_dir / "transparency.html"
    path.write_text(html(figures), encoding="utf-8")
    return [path]


def summary_rows(figures: Figures) -> list[tuple[str, str, str]]:
    """(section, figure, value) for every scalar figure."""
    rows: list[tuple[str, str, str]] = []

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), inner)
        elif not isinstance(value, list):
            section, _, name = prefix.partition(".")
            rows.append((section, name or section, "" if value is None else str(value)))

    data = figures.to_json()
    data.pop("actions_by_day")
    walk("", data)
    return rows


def _template_tables(f: Figures) -> dict[str, tuple[list[str], list[list[Any]]]]:
    orders = f.removal_orders
    ttas = f.time_to_action
    order_median = ttas.get("removal_order", {}).get("median")
    notice_median = ttas.get("user_notice", {}).get("median")
    own = []
    for label, actions in f.items_actioned.items():
        for action, count in actions.items():
            restriction = {
                "remove": "DECISION_VISIBILITY_CONTENT_REMOVED",
                "restrict": "DECISION_VISIBILITY_CONTENT_INTERACTION_RESTRICTED",
                "suspend": "DECISION_ACCOUNT_SUSPENDED",
            }.get(action, action)
            own.append([DSA_CATEGORY, label, restriction, count])
    return {
        "template_1_orders": (
            [
                "type_of_illegal_content",
                "orders_received",
                "orders_given_effect_within_1h",
                "orders_given_effect_late",
                "orders_not_given_effect",
                "median_time_to_give_effect_seconds",
            ],
            [
                [
                    "terrorist content (TCO Art 3)",
                    orders.get("received", 0),
                    orders.get("met_within_one_hour", 0),
                    orders.get("actioned_late", 0),
                    orders.get("not_acted_on", 0),
                    order_median if order_median is not None else "",
                ]
            ],
        ),
        "template_2_notices": (
            [
                "type_of_alleged_illegal_content",
                "notices_received",
                "notices_actioned",
                "notices_from_trusted_flaggers",
                "median_handling_time_seconds",
            ],
            [
                [
                    "terrorist content",
                    f.notices_received,
                    f.notices_actioned,
                    NOT_RECORDED,
                    notice_median if notice_median is not None else "",
                ]
            ],
        ),
        "template_3_own_initiative": (
            ["category", "taxonomy_label", "type_of_restriction", "items"],
            own,
        ),
        "template_4_complaints": (
            [
                "complaints_received",
                "decisions_upheld",
                "decisions_reversed",
                "reinstated_after_complaint",
            ],
            [
                [
                    f.appeals.get("filed", 0),
                    f.appeals.get("upheld", 0),
                    f.appeals.get("overturned", 0),
                    f.reinstatements.get("after_complaint", 0),
                ]
            ],
        ),
        "template_5_out_of_court": (
            ["disputes_submitted", "outcome"],
            [[NOT_RECORDED, NOT_RECORDED]],
        ),
        "template_6_suspensions": (
            ["accounts_actioned", "accounts_found_proactively", "accounts_reinstated"],
            [[f.accounts_actioned, f.proactive_accounts, f.reinstatements.get("accounts", 0)]],
        ),
        "template_7_automated_means": (
            [
                "decisions_fully_automated",
                "decisions_by_humans",
                "automated_detection",
                "proactive_share_items",
            ],
            [
                [
                    f.automation.get("fully_automated", 0),
                    f.automation.get("human_decided", 0),
                    f.automation.get("automated_detection", 0),
                    "" if f.proactive_share_items is None else f.proactive_share_items,
                ]
            ],
        ),
        "template_8_human_resources": (
            ["content_moderators", "languages"],
            [[NOT_RECORDED, NOT_RECORDED]],
        ),
    }


def write_csv(figures: Figures, out_dir: Path) -> list[Path]:
    paths = [out_dir / "transparency.csv"]
    with paths[0].open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["section", "figure", "value"])
        writer.writerows(summary_rows(figures))
    for name, (header, rows) in _template_tables(figures).items():
        path = out_dir / f"{name}.csv"
        with path.open("w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out)
            writer.writerow(header)
            writer.writerows(rows)
        paths.append(path)
    return paths


def _table(header: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{escape(str(h))}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _pct(share: float | None) -> str:
    return "n/a" if share is None else f"{share * 100:.1f}%"


def _minutes(seconds: float | None) -> str:
    return "n/a" if seconds is None else f"{seconds / 60:.1f} min"


STYLE = """
body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;
color:#1a202c}
h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #cbd5e0}
table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #cbd5e0;padding:.25rem .6rem;
text-align:left}th{background:#edf2f7}.kpis{display:flex;gap:1rem;flex-wrap:wrap}
.kpi{border:1px solid #cbd5e0;border-radius:6px;padding:.6rem 1rem}.kpi b{display:block;
font-size:1.4rem}.chart svg{max-width:100%;height:auto}small{color:#4a5568}
"""


def html(f: Figures) -> str:
    period = f"{f.start.date().isoformat()} to {f.end.date().isoformat()} (end exclusive)"
    orders = f.removal_orders
    reasons = orders.get("not_acted_on_reasons", {})
    label_rows = [
        [label, action, count]
        for label, actions in f.items_actioned.items()
        for action, count in actions.items()
    ]
    tta_rows = [
        [source, v["count"], _minutes(v["median"]), _minutes(v["p90"])]
        for source, v in f.time_to_action.items()
    ]
    head = f.ledger_head or {}
    anchor = (
        f"Computed from ledger events up to seq {head.get('seq')} (hash "
        f"<code>{escape(str(head.get('hash', ''))[:16])}…</code>), signed checkpoint key "
        f"{escape(str(head.get('key_id', 'none')))}."
        if head
        else "Computed from the ledger."
    )
    kpis = [
        ("Items actioned", f.items_actioned_total),
        ("Found proactively", _pct(f.proactive_share_items)),
        ("Accounts actioned", f.accounts_actioned),
        (
            "Removal orders met in 1 h",
            f"{orders.get('met_within_one_hour', 0)} of {orders.get('received', 0)}",
        ),
        ("Appeals overturned", f"{f.appeals.get('overturned', 0)} of {f.appeals.get('filed', 0)}"),
    ]
    tco = [
        [
            "Measures to identify and remove terrorist content",
            "hash matching against labelled hash banks, a text classifier, user notices and "
            "human review of every uncertain case",
        ],
        [
            "Measures against re-upload",
            "removed items' hashes feed the banks; exact and "
            "perceptual (PDQ/vPDQ) matching catches copies",
        ],
        [
            "Items removed after removal orders",
            orders.get("met_within_one_hour", 0) + orders.get("actioned_late", 0),
        ],
        [
            "Items removed by specific (own-initiative) measures",
            len(f.durations.get("proactive", [])),
        ],
        ["Removal orders not acted on", orders.get("not_acted_on", 0)],
        ["… with reasons", ", ".join(f"{k}: {v}" for k, v in reasons.items()) or "none"],
        ["Complaints (Art 10) received", f.appeals.get("filed", 0)],
        [
            "Complaints: decision upheld / reversed",
            f"{f.appeals.get('upheld', 0)} / {f.appeals.get('overturned', 0)}",
        ],
        ["Administrative or judicial reviews", NOT_RECORDED],
        ["Reinstatements after review", f.reinstatements.get("after_review", 0)],
        ["Reinstatements after complaint", f.reinstatements.get("after_complaint", 0)],
    ]
    templates = "".join(
        f"<h3>{escape(name.replace('_', ' '))}</h3>{_table(header, rows)}"
        for name, (header, rows) in _template_tables(f).items()
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Transparency report {escape(period)}</title>
<style>{STYLE}</style></head><body>
<h1>Transparency report</h1>
<p>Period: {escape(period)}. <small>{anchor}</small></p>
<div class="kpis">{
        "".join(f'<div class="kpi"><b>{escape(str(v))}</b>{escape(k)}</div>' for k, v in kpis)
    }</div>
<h2>Actions</h2>
<div class="chart" id="chart-actions">{charts.actions_over_time(f)}</div>
{_table(["label", "action", "items"], label_rows)}
<h2>How content was found</h2>
<div class="chart" id="chart-sources">{charts.sources(f)}</div>
{
        _table(
            ["", "items or accounts", "found proactively", "share"],
            [
                [
                    "content",
                    f.items_actioned_total,
                    f.proactive_items,
                    _pct(f.proactive_share_items),
                ],
                [
                    "accounts",
                    f.accounts_actioned,
                    f.proactive_accounts,
                    _pct(f.proactive_share_accounts),
                ],
            ],
        )
    }
<p>User notices received: {f.notices_received}; actioned: {f.notices_actioned}.</p>
<h2>Time to action</h2>
<div class="chart" id="chart-tta">{charts.time_to_action(f)}</div>
{_table(["source", "items", "median", "90th percentile"], tta_rows)}
<h2>Removal orders (TCO Art 3)</h2>
{
        _table(
            ["received", "met within one hour", "actioned late", "not acted on"],
            [
                [
                    orders.get("received", 0),
                    orders.get("met_within_one_hour", 0),
                    orders.get("actioned_late", 0),
                    orders.get("not_acted_on", 0),
                ]
            ],
        )
    }
<h2>Appeals and reinstatements</h2>
{
        _table(
            [
                "appeals filed",
                "upheld",
                "overturned",
                "reinstated after complaint",
                "reinstated after review",
            ],
            [
                [
                    f.appeals.get("filed", 0),
                    f.appeals.get("upheld", 0),
                    f.appeals.get("overturned", 0),
                    f.reinstatements.get("after_complaint", 0),
                    f.reinstatements.get("after_review", 0),
                ]
            ],
        )
    }
<h2>Lawful requests, exchanges, evidence</h2>
{
        _table(
            [
                "lawful requests received",
                "answered",
                "hashes received from exchanges",
                "hashes contributed",
                "evidence preserved",
                "evidence purged",
            ],
            [
                [
                    f.lawful_requests.get("received", 0),
                    f.lawful_requests.get("answered", 0),
                    f.exchange.get("hashes_received", 0),
                    f.exchange.get("hashes_contributed", 0),
                    f.evidence.get("preserved", 0),
                    f.evidence.get("purged", 0),
                ]
            ],
        )
    }
<h2 id="tco">TCO Article 7(3)</h2>
{_table(["item", "value"], tco)}
<h2>Harmonised template (Implementing Regulation (EU) 2024/2835), quantitative tables</h2>
{templates}
</body></html>
"""
