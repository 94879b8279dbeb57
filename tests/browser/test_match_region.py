"""A local-feature match in real Chromium: the reviewer sees where the banked picture sits in
the (still blurred) upload, as an outline drawn over it."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest
from test_review_ui import sign_in, wait_for

from media_pictures import caption_band, crop, jpeg, png, scene, screenshot
from takedown.services.media_banking import bank_picture
from takedown.storage.keys import Role

pytestmark = pytest.mark.browser


def _decided_orb_finding(live_server: Any, original: Any, upload: bytes) -> dict[str, Any]:
    admin = {"Authorization": f"Bearer {live_server.key(Role.ADMIN, 'admin')}"}
    integrator = {"Authorization": f"Bearer {live_server.key(Role.INTEGRATOR, 'forum')}"}
    runtime = live_server.app.state.runtime
    with httpx.Client(base_url=live_server.url, timeout=10) as http:
        assert http.put("/v1/banks/posters", headers=admin,
                        json={"name": "posters", "label": "TVEC1"}).status_code == 200
        banked = bank_picture(runtime.engine, "posters", png(original), note="poster",
                              actor="test")
        assert banked.pdq and banked.orb and banked.added == 2
        runtime.follower.poll()
        item = {"id": "repost", "kind": "image",
                "content_base64": base64.b64encode(upload).decode()}
        assert http.post("/v1/submissions", headers=integrator,
                         json={"items": [item]}).status_code == 202
        done = wait_for(lambda: (r := http.get("/v1/submissions/repost",
                                               headers=integrator).json())["status"] == "done"
                        and r, "repost decided")
    [finding] = [f for f in done["findings"] if f["signal_type"] == "orb"]
    return finding  # type: ignore[no-any-return]


def test_a_picture_inside_a_screenshot_is_outlined_where_it_is_shown(
    chromium: Any, live_server: Any
) -> None:
    original = scene(78, (640, 480))
    shot, (left, top, right, bottom) = screenshot(original, canvas=(1080, 2400))
    finding = _decided_orb_finding(live_server, original, jpeg(shot, 85))
    assert finding["evidence"]["local_match"]["inset"]

    page = sign_in(chromium, live_server, live_server.key(Role.REVIEWER, "alice"))
    page.locator("table.queue tbody tr").first.click()
    page.wait_for_url("**/review/cases/*")
    points = [[float(v) for v in p.split(",")] for p in (
        page.locator("[data-match-region] polygon").get_attribute("points") or "").split()]
    xs, ys = [x for x, _ in points], [y for _, y in points]
    assert min(xs) == pytest.approx(left, abs=0.04) and max(xs) == pytest.approx(right, abs=0.04)
    assert min(ys) == pytest.approx(top, abs=0.04) and max(ys) == pytest.approx(bottom, abs=0.04)
    assert "inside the screenshot" in page.inner_text(".local-match")


def test_the_matched_region_is_outlined_on_the_blurred_image(
    chromium: Any, live_server: Any
) -> None:
    original = scene(77)
    copy = caption_band(crop(original, 0.1), top=True)
    finding = _decided_orb_finding(live_server, original, png(copy))
    assert finding["evidence"]["local_match"]["inliers"] >= 14
    assert "inset" not in finding["evidence"]["local_match"]

    page = sign_in(chromium, live_server, live_server.key(Role.REVIEWER, "alice"))
    page.locator("table.queue tbody tr").first.click()
    page.wait_for_url("**/review/cases/*")
    image = page.locator("[data-media] img")
    assert "blur" in image.evaluate("e => getComputedStyle(e).filter")
    polygon = page.locator("[data-match-region] polygon")
    assert polygon.count() == 1
    points = [[float(v) for v in p.split(",")]
              for p in (polygon.get_attribute("points") or "").split()]
    assert len(points) == 4
    # The original's top edge: 5% of it was cropped away, under a band 20% of the crop's height.
    assert points[0][1] == pytest.approx((0.2 * 0.9 - 0.05) / (1.2 * 0.9), abs=0.03)
    assert points[2][1] == pytest.approx((0.2 * 0.9 + 0.95) / (1.2 * 0.9), abs=0.03)
    assert "inliers" in page.inner_text(".local-match")
    box = page.locator("[data-match-region]").bounding_box()
    picture = image.bounding_box()
    assert box is not None and picture is not None
    assert box["width"] == pytest.approx(picture["width"], abs=2)
    assert box["height"] == pytest.approx(picture["height"], abs=2)
