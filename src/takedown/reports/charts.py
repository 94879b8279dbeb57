"""The report's charts as inline SVG (matplotlib, Agg backend): no CDN, no JavaScript, so the
HTML report works offline and prints as it shows."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from takedown.reports.metrics import Figures

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure as MplFigure

COLOURS = {"proactive": "#2b6cb0", "user_notice": "#dd6b20", "removal_order": "#c53030"}


def _svg(fig: MplFigure) -> str:
    import matplotlib.pyplot as plt

    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def _axes(title: str) -> tuple[MplFigure, Axes]:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    plt.rcParams["svg.hashsalt"] = "takedown"
    fig, ax = plt.subplots(figsize=(6.4, 2.8), dpi=96)
    ax.set_title(title, fontsize=11, loc="left")
    ax.spines[["top", "right"]].set_visible(False)
    return fig, ax


def actions_over_time(figures: Figures) -> str:
    fig, ax = _axes("Items actioned per day")
    days = list(figures.actions_by_day)
    counts = [figures.actions_by_day[d] for d in days]
    ax.bar(range(len(days)), counts, color="#2b6cb0")
    step = max(1, len(days) // 8)
    ax.set_xticks(range(0, len(days), step), days[::step], rotation=30, fontsize=8)
    ax.set_ylabel("items")
    if not days:
        ax.text(0.5, 0.5, "no actions in this period", ha="center", transform=ax.transAxes)
    return _svg(fig)


def time_to_action(figures: Figures) -> str:
    fig, ax = _axes("Time to action (minutes), by source")
    series = {k: [v / 60 for v in vals] for k, vals in figures.durations.items() if vals}
    if series:
        ax.hist(
            list(series.values()),
            bins=12,
            label=list(series),
            color=[COLOURS.get(k, "#718096") for k in series],
            stacked=True,
        )
        ax.legend(fontsize=8)
    else:
        ax.text(0.5, 0.5, "no actions in this period", ha="center", transform=ax.transAxes)
    ax.set_xlabel("minutes from receipt to action")
    return _svg(fig)


def sources(figures: Figures) -> str:
    fig, ax = _axes("How actioned items were found")
    names = ["proactive", "user_notice", "removal_order"]
    counts = [len(figures.durations.get(n, [])) for n in names]
    ax.barh(names, counts, color=[COLOURS[n] for n in names])
    ax.set_xlabel("items")
    return _svg(fig)
