from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dialer.errors import IllegalTransition
from dialer.states import (
    AGENT_TRANSITIONS,
    CALL_FINAL,
    CALL_TRANSITIONS,
    AgentEvent,
    AgentMachine,
    AgentState,
    CallEvent,
    CallMachine,
    CallState,
)
from outdial.errors import LocalError


def test_agent_call_cycle_returns_timestamped_records() -> None:
    agent = AgentMachine("a1", at=0.0)
    records = [
        agent.fire(AgentEvent.LOGIN, 1.0),
        agent.fire(AgentEvent.RESERVE, 2.0),
        agent.fire(AgentEvent.CONNECT, 2.5),
        agent.fire(AgentEvent.HANGUP, 100.0),
        agent.fire(AgentEvent.DISPOSITION, 120.0),
    ]
    assert [r.target for r in records] == [
        AgentState.READY,
        AgentState.RESERVED,
        AgentState.TALK,
        AgentState.WRAP,
        AgentState.READY,
    ]
    assert [r.at for r in records] == [1.0, 2.0, 2.5, 100.0, 120.0]
    assert records[3].source is AgentState.TALK and records[3].entity == "a1"
    assert agent.since == 120.0


def test_pause_keeps_reason_code_until_ready() -> None:
    agent = AgentMachine("a1", at=0.0)
    agent.fire(AgentEvent.LOGIN, 0.0)
    agent.fire(AgentEvent.PAUSE, 5.0, reason="lunch")
    assert agent.state is AgentState.PAUSED and agent.pause_reason == "lunch"
    agent.fire(AgentEvent.READY, 9.0)
    assert agent.pause_reason is None


def test_illegal_transition_is_typed_and_leaves_state() -> None:
    call = CallMachine("c1", at=0.0)
    with pytest.raises(IllegalTransition) as info:
        call.fire(CallEvent.BRIDGED, 1.0)
    assert isinstance(info.value, LocalError)
    assert info.value.fields == {
        "machine": "call",
        "entity": "c1",
        "state": "queued",
        "event": "bridged",
    }
    assert call.state is CallState.QUEUED and call.since == 0.0


def test_answered_call_paths() -> None:
    call = CallMachine("c1", at=0.0)
    for event in (
        CallEvent.CLAIM,
        CallEvent.DIAL,
        CallEvent.RINGING,
        CallEvent.ANSWER,
        CallEvent.HUMAN,
        CallEvent.CONNECT_TIMEOUT,
    ):
        call.fire(event, 1.0)
    assert call.state is CallState.ABANDONED and call.final


def test_final_states_have_no_exits() -> None:
    assert not [k for k in CALL_TRANSITIONS if k[0] in CALL_FINAL]


@given(st.lists(st.sampled_from(list(AgentEvent)), max_size=40))
def test_agent_random_events_transition_or_raise(events: list[AgentEvent]) -> None:
    agent = AgentMachine("a", at=0.0)
    for i, event in enumerate(events):
        before = agent.state
        try:
            record = agent.fire(event, float(i))
        except IllegalTransition:
            assert (before, event) not in AGENT_TRANSITIONS
            assert agent.state is before
        else:
            assert record.target is AGENT_TRANSITIONS[(before, event)] is agent.state
            assert record.at == float(i)


@given(st.lists(st.sampled_from(list(CallEvent)), max_size=40))
def test_call_random_events_transition_or_raise(events: list[CallEvent]) -> None:
    call = CallMachine("c", at=0.0)
    for i, event in enumerate(events):
        before = call.state
        try:
            record = call.fire(event, float(i))
        except IllegalTransition:
            assert (before, event) not in CALL_TRANSITIONS
            assert call.state is before
        else:
            assert record.source is before and record.target is call.state
