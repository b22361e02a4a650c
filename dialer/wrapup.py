"""Wrap-up and disposition rules of the dialing core (dialer/core.py).

Pure: an agent in wrap-up owes the last call's disposition; they cannot pause or log out
until it is set, and setting it ends the wrap-up. Time is passed in.
"""

from __future__ import annotations

from dialer.core_records import Agent
from dialer.errors import DispositionOwed, IllegalTransition
from dialer.states import AgentEvent, AgentState


def no_disposition_owed(agent: Agent, event: AgentEvent) -> None:
    """Wrap-up ends with the last call's disposition, not with a pause or a log-out (the
    disposition's own "pause after this call" goes through ``DialerCore.agent_disposition``).
    Raises :class:`dialer.errors.DispositionOwed` naming the call."""
    if agent.machine.state is AgentState.WRAP and agent.call_id is not None:
        word = "logging out" if event is AgentEvent.LOGOUT else "pausing"
        raise DispositionOwed(
            f"set the disposition of call {agent.call_id} before {word}",
            call_id=agent.call_id,
            entity=agent.agent_id,
            state=AgentState.WRAP.value,
            event=event.value,
        )


def end_wrap_up(agent: Agent, now: float) -> float | None:
    """The agent set a disposition (committed by the adapter): their wrap-up is over and the
    call is no longer theirs. Returns how long the wrap-up lasted (None: not known, e.g. it
    resumed after a restart) for the pacer. Raises IllegalTransition outside wrap-up."""
    if agent.machine.state is not AgentState.WRAP:
        raise IllegalTransition(
            f"agent {agent.agent_id} has no call in wrap-up",
            entity=agent.agent_id,
            state=agent.machine.state.value,
            event="disposition",
        )
    wrapped = None if agent.wrap_started is None else now - agent.wrap_started
    agent.wrap_started = None
    agent.call_id = None
    return wrapped
