"""The transparency report and the removal-order clock in real Chromium: the HTML report
renders its three charts offline (no request leaves the file), and an open order shows above
the review queue with its remaining time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from takedown.config import Settings
from takedown.services.accountability import Accountability
from takedown.storage.db import make_engine, migrate
from takedown.storage.keys import Role
from takedown.storage.ledger import append_event

pytestmark = pytest.mark.browser
DAY = datetime(2026, 3, 2, tzinfo=UTC)


def _ledger(settings: Settings) -> Accountability:
    """A week of plausible events: matches, notices, orders (one late), an appeal."""
    engine = make_engine(settings.effective_database_url)
    migrate(engine)
    with engine.begin() as conn:
        for n in range(40):
            at = DAY + timedelta(hours=4 * n)
            item = f"item:p{n}"
            append_event(conn, "submission.received", item, {}, at=at)
            if n % 5 == 0:
                append_event(conn, "report.received", item, {}, at=at + timedelta(minutes=3))
            action = "remove" if n % 3 else "restrict"
            append_event(
                conn,
                "decision.made",
                item,
                {
                    "stage": "auto",
                    "decision": {
                        "action": action,
                        "label": "TVEC1" if n % 2 else "TVEC7",
                        "automated_decision": n % 4 != 0,
                    },
                },
                at=at + timedelta(minutes=2 + n % 17),
            )
        for n, minutes in enumerate((12, 35, 75), 1):
            at = DAY + timedelta(days=n)
            append_event(
                conn,
                "removal_order.received",
                f"removal_order:{n}",
                {"order_id": n, "item_id": None},
                at=at,
            )
            append_event(
                conn,
                "removal_order.actioned",
                f"removal_order:{n}",
                {"order_id": n, "within_deadline": minutes <= 60},
                at=at + timedelta(minutes=minutes),
            )
        append_event(conn, "appeal.filed", "case:1", {}, at=DAY + timedelta(days=3))
        append_event(
            conn, "appeal.decided", "case:1", {"outcome": "overturned"}, at=DAY + timedelta(days=4)
        )
    return Accountability(engine, settings)


def test_html_report_renders_offline(
    chromium: Any, tmp_path: Path, screenshots: Path | None
) -> None:
    acc = _ledger(Settings(data_dir=tmp_path / "data"))
    report = acc.build_report(DAY, DAY + timedelta(days=7), "html", tmp_path / "report")
    acc.engine.dispose()
    page = chromium.new_page(viewport={"width": 1100, "height": 900})
    outside: list[str] = []
    page.on(
        "request",
        lambda r: outside.append(r.url) if not r.url.startswith(("file:", "data:")) else None,
    )
    page.goto(report.paths[0].as_uri())
    for chart in ("#chart-actions", "#chart-sources", "#chart-tta"):
        box = page.locator(f"{chart} svg").bounding_box()
        assert box is not None and box["width"] > 300 and box["height"] > 100, chart
    assert page.locator("#tco").is_visible()
    kpis = page.inner_text(".kpis")
    assert "40" in kpis and "2 of 3" in kpis  # items actioned; orders met in one hour
    assert outside == []
    if screenshots is not None:
        page.screenshot(path=str(screenshots / "transparency-report.png"), full_page=False)
    page.close()


def test_open_order_shows_above_the_queue(
    chromium: Any, live_server: Any, screenshots: Path | None
) -> None:
    reviewer = live_server.key(Role.REVIEWER, "ann")
    integrator = live_server.key(Role.INTEGRATOR, "forum")
    with httpx.Client(base_url=live_server.url, timeout=10) as http:
        created = http.post(
            "/v1/removal-orders",
            headers={"Authorization": f"Bearer {integrator}"},
            json={
                "authority": "Europol IRU",
                "legal_basis": "TCO Art 3",
                "authority_contact": "iru@example.org",
                "url": "https://forum.example/t/5",
                "received_at": (datetime.now(UTC) - timedelta(minutes=31)).isoformat(),
            },
        )
        assert created.status_code == 201, created.text
    page = chromium.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/review/")
    page.fill("#api_key", reviewer)
    page.press("#api_key", "Enter")
    page.wait_for_url(f"{live_server.url}/review/")
    banner = page.locator("section.orders")
    assert banner.is_visible()
    text = banner.inner_text()
    assert "Europol IRU" in text and "left" in text
    remaining = int(banner.locator("li").get_attribute("data-remaining") or 0)
    assert 27 * 60 < remaining <= 29 * 60
    first = banner.locator(".clock").inner_text()
    page.wait_for_function(
        "t => document.querySelector('section.orders .clock').textContent !== t",
        arg=first,
        timeout=5000,
    )  # the clock counts down in the page
    if screenshots is not None:
        banner.screenshot(path=str(screenshots / "removal-order-banner.png"))
    page.close()
