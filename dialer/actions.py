"""What the dialing core asks its adapter to do: small frozen values, no I/O.

The adapter (dialer/engine.py) carries them out in order: ``Persist`` writes a state
transition, ``Originate`` places a call whose attempt row is already committed, ``ConnectAgent``
bridges an agent's softphone, ``PlaySafeHarbor`` plays the campaign's abandoned-call message
and hangs up (rules 3, 4, 20), ``CallFinished`` records the outcome and applies the retry
rules, and the agent actions update the agent's screen.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dialer.states import Transition


@dataclass(frozen=True)
class Lead:
    """A claimed record: what to dial and what to show the agent."""

    contact_id: int
    number: str  # E.164
    attempt_no: int = 1
    zones: tuple[str, ...] = ()
    #: a personal callback's agent (users.id): dialed only with that agent reserved (issue 7)
    owner: int | None = None
    #: a team callback's team (users.team) whose ready agent it is dialed for; None: anyone
    #: (campaigns/callback_times.py team_callback_holder)
    team: str | None = None
    data: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class Persist:
    transition: Transition[Any, Any]


@dataclass(frozen=True)
class Originate:
    call_id: str
    lead: Lead


@dataclass(frozen=True)
class ConnectAgent:
    call_id: str
    agent_id: str
    agent_uri: str


@dataclass(frozen=True)
class PlaySafeHarbor:
    call_id: str


@dataclass(frozen=True)
class Hangup:
    call_id: str
    reason: str


@dataclass(frozen=True)
class StartIvr:
    call_id: str
    lead: Lead
    agent_id: str | None = None  # the agent who transferred the customer, if one did


@dataclass(frozen=True)
class DropAgentLeg:
    """Hang up the agent's leg only; the customer's call goes on (a transfer)."""

    call_id: str


@dataclass(frozen=True)
class AgentState:
    agent_id: str
    state: str
    reason: str | None


@dataclass(frozen=True)
class AgentConnected:
    """Push the customer's record and script to the agent: the call is bridged."""

    agent_id: str
    call_id: str
    lead: Lead
    answer_to_bridge: float


@dataclass(frozen=True)
class AgentReleased:
    agent_id: str
    call_id: str


@dataclass(frozen=True)
class CallFinished:
    call_id: str
    lead: Lead
    state: str  # the call machine's final state
    sip_outcome: str
    sip_status: int
    reason: str
    abandoned: bool
    agent_id: str | None
    answered: bool
    answer_to_bridge: float | None


@dataclass(frozen=True)
class TestSoftphone:
    """Ring the agent's softphone with the auto-answer hints (the test call at sign-in)."""

    call_id: str
    agent_id: str
    agent_uri: str


@dataclass(frozen=True)
class SoftphoneTested:
    """Tell the agent's screen how the test of their softphone stands (dialer/softphone_check)."""

    agent_id: str
    call_id: str
    result: str  # ringing, answered, no_answer
    sip_status: int = 0
    reason: str = ""


@dataclass(frozen=True)
class Pace:
    """The pacer's beat (issue 11.1): claim ``calls`` leads now (0: none wanted)."""

    calls: int


Action = (
    Pace
    | Persist
    | Originate
    | ConnectAgent
    | PlaySafeHarbor
    | Hangup
    | StartIvr
    | DropAgentLeg
    | AgentState
    | AgentConnected
    | AgentReleased
    | CallFinished
    | TestSoftphone
    | SoftphoneTested
)


def as_list(*actions: Action) -> list[Action]:
    return list(actions)
