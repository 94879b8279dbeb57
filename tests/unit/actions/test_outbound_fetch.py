"""No outbound fetch of a URL someone else chose unless its host is allow-listed: media URLs in
Mastodon events are fetched only from the instance itself and hosts the operator lists; and the
only modules that speak HTTP at all are the known senders (a new one fails this test)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx

import takedown
from takedown.actions.mastodon import MastodonConnector
from takedown.core.content import ContentKind

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "mastodon"
SRC = Path(takedown.__file__).resolve().parent
# Each module that speaks HTTP, and whose URLs it reaches: all set by the operator, none taken
# from submitted content.
HTTP_MODULES = {
    "actions/mastodon.py": "the configured Mastodon instance; media only from allow-listed hosts",
    "actions/webhook.py": "the configured webhook receivers",
    "services/runtime.py": "builds the one shared client",
    "detect/adjudicator.py": "the operator's own policy model endpoint (off by default)",
    "exchange/client.py": "the client type in the exchange interface",
    "exchange/files.py": "the exchange factory signature (reads local files only)",
    "exchange/hub_client.py": "the configured hub",
    "exchange/tat.py": "Tech Against Terrorism's hash list, when configured",
    "exchange/threatexchange.py": "Meta's Graph API, when configured",
    "reports/tdb_client.py": "the configured DSA Transparency Database endpoint",
    "services/accountability.py": "passes the shared client to the Transparency Database client",
    "services/exchange_node.py": "the configured exchange sources",
}


def _event(media_url: str) -> bytes:
    payload = json.loads((FIXTURES / "status_created.json").read_text())
    payload["object"]["media_attachments"][0]["url"] = media_url
    return json.dumps(payload).encode()


def test_media_on_a_host_outside_the_allow_list_is_not_fetched(mastodon: tuple) -> None:
    state, url = mastodon
    state.media["beans.png"] = b"\x89PNG" + bytes(100)
    other_host = url.replace("127.0.0.1", "localhost")
    raw = _event(f"{other_host}/media/beans.png")
    with httpx.Client() as client:
        refused = MastodonConnector(url, "t", "s", client, fetch_media=True).parse(raw)
        allowed = MastodonConnector(
            url, "t", "s", client, fetch_media=True, fetch_hosts=["localhost"]
        ).parse(raw)
    assert refused.submissions[1].kind is ContentKind.URL
    assert refused.submissions[1].metadata["media_fetch_failed"] is True
    assert allowed.submissions[1].kind is ContentKind.IMAGE
    assert allowed.submissions[1].content == state.media["beans.png"]


def test_only_the_known_senders_make_http_requests() -> None:
    pattern = re.compile(
        r"^\s*(import|from)\s+(httpx|requests|urllib\.request|aiohttp|http\.client)\b",
        re.MULTILINE,
    )
    speaking = {
        str(path.relative_to(SRC))
        for path in SRC.rglob("*.py")
        if pattern.search(path.read_text(encoding="utf-8"))
    }
    assert speaking == set(HTTP_MODULES), "a new module fetches URLs: allow-list its hosts first"
