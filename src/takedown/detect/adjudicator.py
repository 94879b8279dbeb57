"""Optional policy-following adjudicator: a Detector that asks an external model (e.g. a local
gpt-oss-safeguard or Llama Guard the platform serves) to apply the written TVEC policy.

Off by default and never needed: Takedown's own classifier and hash banks decide without it.
A platform that runs such a model passes `PolicyAdjudicator(url)` to the runtime as an extra
detector (`Runtime(settings, extra_detectors=[...])`). Its finding enters the policy like any
other evidence, so the default policy still queues a classifier-style finding for a person
rather than removing on it.

Wire protocol (JSON over HTTP POST, one item per call):

    request  {"policy": "<written policy>", "categories": {"TVEC7": "support or praise", ...},
              "text": "<the item's text>"}
    response {"category": "TVEC7", "reasoning": "…", "confidence": 0.9}

`category` must be one of the offered labels (TVEC0 = not terrorist content). A transport
failure or a malformed answer raises `Unavailable` with the reason, so the item is retried and,
if it keeps failing, reaches a person through the worker's fail-safe; nothing is lost.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx

from takedown.core.content import Submission
from takedown.core.errors import Unavailable
from takedown.core.findings import Finding
from takedown.core.signals import Signal
from takedown.core.taxonomy import DESCRIPTIONS, TvecLabel

MAX_TEXT_CHARS = 10_000
MAX_REASONING_CHARS = 2_000

POLICY = """Terrorist and violent extremist content (TVEC) policy, after the Christchurch Call
taxonomy. Label the text with exactly one category.
- TVEC2: a credible threat to the life or safety of people.
- TVEC5: instructions for attacks, weapons or explosives.
- TVEC6: recruitment to, or calls to join, a terrorist or violent extremist group or movement.
- TVEC7: praise, glorification or support of a terrorist or violent extremist group, its
  leaders, attacks or perpetrators, including relaying its propaganda in its own voice.
- TVEC8: incitement: calling on others to commit violence against people.
- TVEC.01: news, documentary, research or counter-speech about terrorism (an exception:
  reporting, condemning or refuting is not TVEC).
- TVEC0: anything else, including hate speech without a call to violence, religious text,
  politics and chatter. Arabic or Islamic vocabulary alone is never evidence.
Judge the text as a moderator would when it is reported; give a short reason."""

CATEGORIES: tuple[TvecLabel, ...] = (
    TvecLabel.NOT_TVEC,
    TvecLabel.THREAT_TO_LIFE,
    TvecLabel.INSTRUCTIONAL,
    TvecLabel.RECRUITMENT,
    TvecLabel.PRAISE,
    TvecLabel.INCITEMENT,
    TvecLabel.NEWS_EXCEPTION,
)


class PolicyAdjudicator:
    """Detector protocol over an HTTP policy-following model; one Finding per text item."""

    name = "policy-adjudicator"

    def __init__(
        self,
        url: str,
        *,
        model: str = "external",
        policy: str = POLICY,
        client: httpx.Client | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.url = url
        self.version = model
        self.policy = policy
        self._client = client or httpx.Client(timeout=timeout)

    def request(self, text: str) -> dict[str, Any]:
        return {
            "policy": self.policy,
            "categories": {c.value: DESCRIPTIONS[c] for c in CATEGORIES},
            "text": text[:MAX_TEXT_CHARS],
        }

    def detect(self, submission: Submission, signals: Sequence[Signal] = ()) -> list[Finding]:
        text = (submission.text or "").strip()
        if not text:
            return []
        answer = self._ask(self.request(text))
        return [
            Finding(
                detector=f"{self.name}@{self.version}",
                label=answer["category"],
                score=answer["confidence"],
                evidence={"reasoning": answer["reasoning"], "policy_chars": len(self.policy)},
            )
        ]

    def _ask(self, body: dict[str, Any]) -> dict[str, Any]:
        try:
            response = self._client.post(self.url, json=body)
            response.raise_for_status()
            data = response.json()
        except (httpx.HTTPError, ValueError) as error:
            raise Unavailable(
                f"policy adjudicator did not answer: {type(error).__name__}",
                hint="check the adjudicator service, or remove it from the detectors",
            ) from None
        return _validated(data)


def _validated(data: Any) -> dict[str, Any]:
    """The answer's category, reasoning and confidence, or a clear error naming what is off."""
    allowed = {c.value for c in CATEGORIES}
    if not isinstance(data, dict) or data.get("category") not in allowed:
        got = data.get("category") if isinstance(data, dict) else type(data).__name__
        raise Unavailable(
            f"policy adjudicator answered an unknown category {got!r}",
            hint=f"the answer's category must be one of {', '.join(sorted(allowed))}",
        )
    confidence = data.get("confidence", 1.0)
    if not isinstance(confidence, int | float) or not 0.0 <= float(confidence) <= 1.0:
        raise Unavailable("policy adjudicator answered a confidence outside [0, 1]")
    return {
        "category": data["category"],
        "reasoning": str(data.get("reasoning", ""))[:MAX_REASONING_CHARS],
        "confidence": float(confidence),
    }
