"""The runner's snapshot (issue 11.5): one campaign's live state, as the core knows it.

Pure: it reads a :class:`dialer.core.DialerCore` at ``now`` (monotonic seconds) and does no
I/O. The runtime's status (``GET /api/campaigns/{id}/status``, the live board, ``outdial
campaign status``) and the agent's WebSocket resync (its ``hello``) all read this one
snapshot: agents by state with how long they have been in it, calls by state, the pacer's
last decision in words, the abandon gauge against its target and cap, and the claims on their
way (the hopper's depth inside the runner).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from dialer.core import DialerCore
from dialer.core_records import Agent
from dialer.states import AgentState


def agent_entry(agent: Agent, now: float) -> dict[str, Any]:
    """One agent as their screen and the board show them."""
    return {
        "agent_id": agent.agent_id,
        "state": agent.machine.state.value,
        "since_seconds": round(max(0.0, now - agent.machine.since), 1),
        "pause_reason": agent.machine.pause_reason,
        "call_id": agent.call_id,
        "sip_uri": agent.uri,
    }


def snapshot(core: DialerCore, now: float) -> dict[str, Any]:
    """The campaign's live state; JSON-ready."""
    agents = [
        agent_entry(a, now)
        for a in core.agents.values()
        if a.machine.state is not AgentState.LOGGED_OUT
    ]
    decision = core.pacer.last_decision
    cfg = core.config
    return {
        "dialing": core.dialing,
        "agents_live": sorted(agents, key=lambda a: str(a["agent_id"])),
        "agents_by_state": dict(Counter(str(a["state"]) for a in agents)),
        "calls_in_flight": len(core.calls),
        "calls_by_state": dict(Counter(c.machine.state.value for c in core.calls.values())),
        "pacer_words": core.pacer.explain(),
        "abandon_live": {
            "pacer_gauge": round(decision.abandon_gauge, 4) if decision else None,
            "target": cfg.abandon_target,
            "cap": cfg.abandon_cap,
        },
        "claims_pending": core.claims_pending,
    }
