from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from takedown.core.cases import TRANSITIONS, CaseEvent, CaseState, transition
from takedown.core.errors import IllegalTransition


@given(st.lists(st.sampled_from(list(CaseEvent)), max_size=12))
def test_any_event_sequence_stays_within_the_state_machine(events: list[CaseEvent]) -> None:
    state = CaseState.OPEN
    for event in events:
        if (state, event) in TRANSITIONS:
            state = transition(state, event)
        else:
            with pytest.raises(IllegalTransition):
                transition(state, event)
    assert state in set(CaseState)


def test_terminal_states_accept_nothing() -> None:
    for terminal in (CaseState.UPHELD, CaseState.OVERTURNED):
        for event in CaseEvent:
            with pytest.raises(IllegalTransition):
                transition(terminal, event)


def test_the_appeal_path() -> None:
    state = transition(CaseState.OPEN, CaseEvent.DECIDE)
    state = transition(state, CaseEvent.APPEAL)
    assert transition(state, CaseEvent.OVERTURN) is CaseState.OVERTURNED
