"""The account page in real Chromium: a returning suspended user is linked with evidence per
signal, shows up in the account queue, and a reviewer decides it from its page."""

from __future__ import annotations

import httpx
import pytest

from takedown.storage.keys import Role

pytestmark = pytest.mark.browser

AVATAR = "c3" * 32
PROFILE = {"display_name": "Abu Talha al-Muhajir", "bio": "Lions of tawheed. Releases daily.",
           "avatar_pdq": AVATAR}


def _seed(server: object) -> None:
    integrator = {"Authorization": f"Bearer {server.key(Role.INTEGRATOR, 'forum')}"}  # type: ignore[attr-defined]
    reviewer = {"Authorization": f"Bearer {server.key(Role.REVIEWER, 'mod')}"}  # type: ignore[attr-defined]
    with httpx.Client(base_url=server.url, timeout=10) as http:  # type: ignore[attr-defined]
        assert http.post("/v1/accounts", headers=integrator,
                         json={"account_id": "old1", **PROFILE}).status_code == 200
        decided = http.post("/v1/accounts/old1/decision", headers=reviewer,
                            json={"action": "suspend", "reason": "recruiter"})
        assert decided.status_code == 200, decided.text
        # The comeback keeps the avatar and a near name but a new bio: a review-level link.
        back = http.post("/v1/accounts", headers=integrator, json={
            "account_id": "new1", "display_name": "Abu_Talha al-Muhajir 3",
            "bio": "Just a normal guy", "avatar_pdq": "c3" * 24 + "3c" * 8})
        assert back.status_code == 200 and back.json()["state"] == "review", back.text


def test_account_page_shows_the_evader_link_with_evidence_and_takes_a_decision(
    live_server: object, chromium: object
) -> None:
    _seed(live_server)
    page = chromium.new_page()  # type: ignore[attr-defined]
    page.goto(f"{live_server.url}/review/accounts/")  # type: ignore[attr-defined]
    page.fill("#api_key", live_server.key(Role.REVIEWER, "alice"))  # type: ignore[attr-defined]
    page.press("#api_key", "Enter")
    page.wait_for_url("**/review/accounts/")
    assert "new1" in page.inner_text("#account-cases")
    page.click("#account-cases a >> text=Abu_Talha al-Muhajir 3")
    page.wait_for_selector("#links")
    links = page.inner_text("#links")
    assert "old1" in links and "Avatar (PDQ)" in links and "pdq_distance: 64" in links
    assert "Display name" in links
    assert float(page.inner_text("#risk-score")) > 0.4
    page.select_option("select[name=action]", "suspend")
    page.fill("input[name=reason]", "Same person as old1: avatar and name.")
    page.click("#decide button")
    page.wait_for_url("**/review/accounts/?done=*")
    assert "new1: suspend" in page.inner_text(".flash.ok")
    page.goto(f"{live_server.url}/review/accounts/new1")  # type: ignore[attr-defined]
    assert page.inner_text("#account-state") == "suspended"
    assert "reviewer" in page.inner_text("#history")
    page.close()
