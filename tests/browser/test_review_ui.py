"""The reviewer UI in real Chromium: sign in, work the queue with the keyboard, decide a case;
an appeal goes to another reviewer and is overturned, and the platform hears of both."""

from __future__ import annotations

import base64
import hashlib
import io
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from takedown.actions.webhook import verify
from takedown.storage.keys import Role
from takedown.storage.tables import cases, false_positives, reviews

pytestmark = pytest.mark.browser


def poster_png(seed: int) -> bytes:
    """A small, benign, real PNG (shapes and the word DEMO) standing in for banked media."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (320, 200), (30 + seed * 40 % 200, 60, 90))
    draw = ImageDraw.Draw(image)
    draw.rectangle((20, 20, 300, 180), outline=(240, 200, 40), width=6)
    draw.ellipse((40 + seed * 10, 50, 140 + seed * 10, 150), fill=(200, 40, 40))
    draw.text((180, 90), f"DEMO {seed}", fill=(255, 255, 255))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def wait_for(predicate: Any, what: str, timeout: float = 20) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def seed(server: Any) -> str:
    """Two banked posters (severity 5 and 3) and a reported text post; returns an integrator key."""
    admin = {"Authorization": f"Bearer {server.key(Role.ADMIN, 'admin')}"}
    integrator = server.key(Role.INTEGRATOR, "forum")
    with httpx.Client(base_url=server.url, timeout=10) as http:
        for name, label, severity in (("gifct", "TVEC1", 5), ("local", "TVEC6", 3)):
            assert (
                http.put(
                    f"/v1/banks/{name}",
                    headers=admin,
                    json={"name": name, "label": label, "severity": severity},
                ).status_code
                == 200
            )
        for n, bank in ((1, "gifct"), (2, "local")):
            entry = {
                "signal_type": "md5",
                "value": hashlib.md5(poster_png(n)).hexdigest(),
                "note": f"demo poster {n}",
            }
            assert (
                http.post(
                    f"/v1/banks/{bank}/entries", headers=admin, json={"entries": [entry]}
                ).status_code
                == 201
            )
        auth = {"Authorization": f"Bearer {integrator}"}
        items = [
            {
                "id": f"poster-{n}",
                "kind": "image",
                "account_id": "acct-9",
                "content_base64": base64.b64encode(poster_png(n)).decode(),
            }
            for n in (1, 2)
        ] + [
            {
                "id": "text-1",
                "kind": "text",
                "account_id": "acct-9",
                "text": "Demo recruitment text: join the fight, meet at the harbour on Saturday.",
            }
        ]
        assert http.post("/v1/submissions", headers=auth, json={"items": items}).status_code == 202
        for item in ("poster-1", "poster-2", "text-1"):
            wait_for(
                lambda i=item: (
                    http.get(f"/v1/submissions/{i}", headers=auth).json()["status"] == "done"
                ),
                f"{item} decided",
            )
        report = http.post(
            "/v1/reports",
            headers=auth,
            json={"reporter": "user-3", "item_id": "text-1", "reason": "Looks like recruitment"},
        )
        assert report.status_code == 201, report.text
    return integrator


def sign_in(browser: Any, server: Any, key: str) -> Any:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{server.url}/review/")
    assert "/review/login" in page.url
    page.fill("#api_key", key)
    page.press("#api_key", "Enter")
    page.wait_for_url(f"{server.url}/review/")
    return page


def shot(page: Any, folder: Path | None, name: str) -> None:
    if folder is not None:
        page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def test_reviewer_works_the_queue_with_the_keyboard(
    chromium: Any, live_server: Any, webhook_sink: Any, screenshots: Path | None
) -> None:
    seed(live_server)
    alice = live_server.key(Role.REVIEWER, "alice")
    login = chromium.new_page()
    login.goto(f"{live_server.url}/review/login")
    login.fill("#api_key", "tdk_not-a-real-key-at-all")
    login.press("#api_key", "Enter")
    assert "unknown or revoked" in login.inner_text(".flash.bad")
    shot(login, screenshots, "review-login")
    login.close()

    page = sign_in(chromium, live_server, alice)
    rows = page.locator("table.queue tbody tr")
    assert rows.count() == 3
    items = [rows.nth(i).get_attribute("data-href") for i in range(3)]
    first_item = page.inner_text("table.queue tbody tr:nth-child(1) td:nth-child(3)")
    assert first_item.startswith("poster-1")  # exact matches (70) first, the oldest first
    third = [c.strip() for c in rows.nth(2).locator("td").all_inner_texts()]
    assert third[2:7] == ["text-1", "text", "TVEC6", "50", "1"]  # classifier 40 + one report
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("k")
    assert "selected" in (rows.nth(1).get_attribute("class") or "")
    shot(page, screenshots, "review-queue")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}{items[1]}")

    image = page.locator("[data-media] img")
    assert "blur" in image.evaluate("e => getComputedStyle(e).filter")
    assert "grayscale" in image.evaluate("e => getComputedStyle(e).filter")
    assert page.inner_text("td.distance") == "0"
    shot(page, screenshots, "review-case")
    page.keyboard.press("v")
    wait_for(
        lambda: image.evaluate("e => getComputedStyle(e).filter") == "none", "media revealed", 5
    )
    page.keyboard.press("v")

    page.keyboard.press("r")
    assert page.is_checked("input[name=action][value=remove]")
    assert page.evaluate("document.activeElement.id") == "reason"
    page.keyboard.press("Escape")
    page.keyboard.press("7")
    assert page.input_value("#label") == "TVEC7"
    page.fill("#reason", "Recruitment poster praising an attack.")
    page.press("#reason", "Enter")
    page.wait_for_url("**/review/cases/*")
    assert "remove (TVEC7)" in page.inner_text(".flash.ok")

    decided_id = int(items[1].rsplit("/", 1)[1])
    with live_server.app.state.runtime.engine.connect() as conn:
        row = conn.execute(select(cases).where(cases.c.id == decided_id)).one()
        by = conn.execute(select(reviews.c.actor).where(reviews.c.case_id == decided_id)).one()
    assert (row.state, row.label) == ("decided", "TVEC7") and by.actor.endswith(":alice")
    hook = wait_for(
        lambda: [r for r in webhook_sink.requests if r["json"].get("stage") == "review"],
        "the review webhook",
    )[0]
    verify("browser-secret", hook["headers"], hook["body"])
    assert hook["json"]["decision"]["label"] == "TVEC7"

    page.goto(f"{live_server.url}{items[2]}")
    marks = page.locator("#content-text mark").all_inner_texts()
    assert marks == ["Demo recruitment", "join the fight"]
    assert "0.95" in page.inner_text("section.card:has(h2:text('Classifier scores'))")
    assert "Looks like recruitment" in page.inner_text("main")
    shot(page, screenshots, "review-text-case")
    page.close()


def test_appeal_goes_to_another_reviewer_and_is_overturned(
    chromium: Any, live_server: Any, webhook_sink: Any, screenshots: Path | None
) -> None:
    integrator = seed(live_server)
    alice = sign_in(chromium, live_server, live_server.key(Role.REVIEWER, "alice"))
    alice.click("table.queue tbody tr:nth-child(1) a")
    alice.wait_for_url("**/review/cases/*")
    case_url = alice.url
    alice.keyboard.press("r")
    alice.fill("#reason", "Branded terrorist poster.")
    alice.press("#reason", "Enter")
    alice.wait_for_url("**/review/cases/*")

    with httpx.Client(base_url=live_server.url, timeout=10) as http:
        appeal = http.post(
            "/v1/appeals",
            headers={"Authorization": f"Bearer {integrator}"},
            json={
                "item_id": "poster-1",
                "appellant": "acct-9",
                "reason": "This is my museum exhibit photo, not propaganda.",
            },
        )
    assert appeal.status_code == 201, appeal.text

    alice.goto(case_url)
    assert "another reviewer decides" in alice.inner_text("main")
    assert alice.locator("#appeal-form").count() == 0
    alice.close()

    bob = sign_in(chromium, live_server, live_server.key(Role.REVIEWER, "bob"))
    bob.keyboard.press("a")
    bob.wait_for_url("**/review/appeals")
    assert bob.locator("table.queue tbody tr").count() == 1
    shot(bob, screenshots, "review-appeals")
    bob.keyboard.press("Enter")
    bob.wait_for_url(case_url)
    assert "museum exhibit" in bob.inner_text(".appeal-reason")
    bob.keyboard.press("o")
    assert bob.is_checked("input[name=outcome][value=overturn]")
    bob.select_option("#appeal-label", "TVEC.01")
    bob.fill("#appeal-reason", "Documentary context: a museum exhibit.")
    shot(bob, screenshots, "review-appeal-case")
    bob.press("#appeal-reason", "Enter")
    bob.wait_for_url("**/review/appeals?done=*")
    assert "overturned" in bob.inner_text(".flash.ok")

    bob.goto(case_url)
    assert bob.inner_text("#case-state") == "overturned"
    bob.click("ol.timeline li:last-child a")
    bob.wait_for_url("**/statement")
    assert "restore" in bob.inner_text(".statement")
    shot(bob, screenshots, "review-statement")
    bob.close()

    restore = wait_for(
        lambda: [r for r in webhook_sink.requests if r["json"]["decision"]["action"] == "restore"],
        "the restore webhook",
    )[0]
    verify("browser-secret", restore["headers"], restore["body"])
    assert restore["json"]["item_id"] == "poster-1"
    with live_server.app.state.runtime.engine.connect() as conn:
        assert conn.execute(select(false_positives.c.entry_id)).scalars().all() == [1]
