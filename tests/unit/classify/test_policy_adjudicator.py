"""The optional policy adjudicator against a loopback fake of a policy-following model."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from takedown.core.content import ContentKind, Submission
from takedown.core.errors import Unavailable
from takedown.detect.adjudicator import PolicyAdjudicator
from takedown.policy import PolicyContext, evaluate, load_default_policy


class FakeModel(BaseHTTPRequestHandler):
    """Answers from the text: "kill" -> TVEC8, "garbage" -> a bad answer, else TVEC0."""

    seen: list[dict[str, Any]] = []

    def do_POST(self) -> None:  # noqa: N802 - the http.server interface
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        FakeModel.seen.append(body)
        text = body["text"]
        if "garbage" in text:
            answer: Any = {"category": "TVEC99"}
        elif "kill" in text:
            answer = {"category": "TVEC8", "reasoning": "calls on others to kill"}
            answer["confidence"] = 0.9
        else:
            answer = {"category": "TVEC0", "reasoning": "chatter", "confidence": 0.8}
        raw = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeModel)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/adjudicate"
    server.shutdown()
    server.server_close()


def _item(text: str) -> Submission:
    return Submission("i1", ContentKind.TEXT, text=text)


def test_adjudicator_sends_the_policy_and_maps_the_answer(url: str) -> None:
    FakeModel.seen.clear()
    adjudicator = PolicyAdjudicator(url, model="fake-guard")
    [finding] = adjudicator.detect(_item("go out and kill them all"))
    assert finding.label == "TVEC8"
    assert finding.score == 0.9
    assert finding.detector == "policy-adjudicator@fake-guard"
    assert finding.evidence["reasoning"] == "calls on others to kill"
    sent = FakeModel.seen[-1]
    assert "TVEC8" in sent["policy"] and "TVEC0" in sent["categories"]
    decision = evaluate(
        load_default_policy(), PolicyContext(kind=ContentKind.TEXT, findings=(finding,))
    )
    assert decision.action.value != "remove"


def test_no_text_no_call_and_benign_text_is_tvec0(url: str) -> None:
    FakeModel.seen.clear()
    adjudicator = PolicyAdjudicator(url)
    assert adjudicator.detect(_item("   ")) == []
    assert FakeModel.seen == []
    assert adjudicator.detect(_item("lovely weather"))[0].label == "TVEC0"


def test_bad_answers_and_dead_services_are_clear_errors(url: str) -> None:
    with pytest.raises(Unavailable, match="unknown category 'TVEC99'"):
        PolicyAdjudicator(url).detect(_item("garbage please"))
    dead = PolicyAdjudicator("http://127.0.0.1:9/none", timeout=2.0)
    with pytest.raises(Unavailable, match="did not answer"):
        dead.detect(_item("anything"))
