"""The records the dialing core (dialer/core.py) keeps, and the actions made from them.

Pure, like the core: a :class:`Call` and an :class:`Agent` carry their state machines
(dialer/states.py); firing an event returns the :mod:`dialer.actions` that persist the
transition (and, for an agent, show it on their screen). Time is passed in.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dialer import actions as act
from dialer.states import (
    AgentEvent,
    AgentMachine,
    AgentState,
    CallEvent,
    CallMachine,
    CallState,
    Transition,
)


@dataclass
class Call:
    """One attempt the core is tracking."""

    call_id: str
    lead: act.Lead
    machine: CallMachine
    dialed_at: float
    answered_at: float | None = None
    connect_from: float | None = None  # the rule-3 timer's start: the answer, or the greeting
    agent_id: str | None = None  # reserved or bridged agent
    preview_agent: str | None = None  # preview/progressive with a guaranteed agent
    bridged_at: float | None = None
    answer_to_bridge: float | None = None
    tried_agents: set[str] = field(default_factory=set)
    end_reason: str = ""  # why the core ended it, when it did (a carrier announcement)


@dataclass
class Agent:
    agent_id: str
    uri: str
    machine: AgentMachine
    call_id: str | None = None
    talk_started: float | None = None
    wrap_started: float | None = None


def finished(call: Call, outcome: str, sip_status: int, reason: str) -> act.Action:
    """The call's outcome for the adapter to commit; the agent is named once bridged."""
    st = call.machine.state
    return act.CallFinished(
        call_id=call.call_id,
        lead=call.lead,
        state=st.value,
        sip_outcome=outcome,
        sip_status=sip_status,
        reason=call.end_reason or reason,
        abandoned=st is CallState.ABANDONED,
        agent_id=call.agent_id if call.bridged_at is not None else None,
        answered=call.answered_at is not None,
        answer_to_bridge=call.answer_to_bridge,
    )


def fire_call(call: Call, event: CallEvent, now: float, reason: str | None = None) -> act.Persist:
    """Fire ``event`` on the call's state machine; the transition is persisted."""
    return act.Persist(call.machine.fire(event, now, reason))


def fire_agent(
    agent: Agent, event: AgentEvent, now: float, reason: str | None = None
) -> list[act.Action]:
    """Fire ``event`` on the agent's state machine: persisted, and shown on their screen."""
    record: Transition[AgentState, AgentEvent] = agent.machine.fire(event, now, reason)
    return [act.Persist(record), act.AgentState(agent.agent_id, record.target.value, reason)]
