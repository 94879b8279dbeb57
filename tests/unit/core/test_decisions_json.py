"""Decision.to_json is written field by field for speed: it must give exactly what the generic
`dataclasses.asdict` form gave (same keys in the same order, tuples as lists), and round-trip."""

from __future__ import annotations

import json
from dataclasses import asdict, fields
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from takedown.core.decisions import ActionKind, Decision, Provenance

text = st.text(max_size=20)
provenances = st.builds(
    Provenance, policy=text, policy_version=text, rule=text,
    detectors=st.lists(text, max_size=3).map(tuple),
    entry_ids=st.lists(st.integers(0, 2**40), max_size=3).map(tuple), actor=text,
)
decisions = st.builds(
    Decision, action=st.sampled_from(list(ActionKind)), label=text, grounds=text,
    automated_detection=st.booleans(), automated_decision=st.booleans(),
    provenance=provenances, open_case=st.booleans(), priority=st.integers(0, 5),
    shadow=st.lists(text, max_size=3).map(tuple),
)


def _generic(decision: Decision) -> dict[str, Any]:
    out = asdict(decision)
    out["action"] = decision.action.value
    out["provenance"]["detectors"] = list(decision.provenance.detectors)
    out["provenance"]["entry_ids"] = list(decision.provenance.entry_ids)
    out["shadow"] = list(decision.shadow)
    return out


@given(decisions)
def test_to_json_is_the_generic_form_and_round_trips(decision: Decision) -> None:
    body = decision.to_json()
    assert json.dumps(body) == json.dumps(_generic(decision))  # keys in the same order too
    assert Decision.from_json(json.loads(json.dumps(body))) == decision


def test_every_field_is_written() -> None:
    decision = Decision(ActionKind.QUEUE, "TVEC7", "g", True, True,
                        Provenance("p", "1", "r", ("d",), (1,), "a"), True, 2, ("s",))
    assert list(decision.to_json()) == [f.name for f in fields(Decision)]
    assert list(decision.to_json()["provenance"]) == [f.name for f in fields(Provenance)]
