"""Agent and call (attempt) state machines, as data.

Like h11's ``_state.py``, each machine is one table mapping ``(state, event)`` to the next
state; there is no ``if`` ladder to keep in sync with the diagram.  A machine never reads the
clock: every ``fire`` takes the time (monotonic seconds) and returns a frozen
:class:`Transition` record, which the engine persists and the simulator may drop.  An event
the table has no row for raises :class:`dialer.errors.IllegalTransition` and leaves the
machine unchanged.

>>> agent = AgentMachine("a1", at=0.0)
>>> agent.fire(AgentEvent.LOGIN, at=1.0).target
<AgentState.READY: 'ready'>
>>> agent.fire(AgentEvent.RESERVE, at=5.0).target
<AgentState.RESERVED: 'reserved'>
>>> agent.fire(AgentEvent.LOGIN, at=6.0)
Traceback (most recent call last):
...
dialer.errors.IllegalTransition: agent a1: event login not allowed in state reserved
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Generic, TypeVar

from dialer.errors import IllegalTransition


class AgentState(enum.Enum):
    LOGGED_OUT = "logged_out"
    READY = "ready"
    PAUSED = "paused"  # with a reason code (break, training, ...)
    RESERVED = "reserved"  # chosen for a live answer, softphone being called
    TALK = "talk"
    WRAP = "wrap"  # after-call work until a disposition is set


class AgentEvent(enum.Enum):
    LOGIN = "login"
    READY = "ready"
    PAUSE = "pause"
    RESERVE = "reserve"
    RELEASE = "release"  # reservation dropped (customer gone, softphone failed)
    CONNECT = "connect"  # bridge up
    HANGUP = "hangup"  # call over, wrap-up starts
    DISPOSITION = "disposition"  # wrap-up over
    RESUME_WRAP = "resume_wrap"  # back after a dropped session with a disposition still owed
    LOGOUT = "logout"


_A, _AE = AgentState, AgentEvent

#: (state, event) -> next state.  Logging out mid-call is not allowed: busy agents leave
#: after their call (shared/pacing/world.md), so LOGOUT is legal only when not on a call.
AGENT_TRANSITIONS: dict[tuple[AgentState, AgentEvent], AgentState] = {
    (_A.LOGGED_OUT, _AE.LOGIN): _A.READY,
    (_A.LOGGED_OUT, _AE.RESUME_WRAP): _A.WRAP,
    (_A.READY, _AE.PAUSE): _A.PAUSED,
    (_A.READY, _AE.RESERVE): _A.RESERVED,
    (_A.READY, _AE.LOGOUT): _A.LOGGED_OUT,
    (_A.PAUSED, _AE.READY): _A.READY,
    (_A.PAUSED, _AE.PAUSE): _A.PAUSED,  # change of reason code
    (_A.PAUSED, _AE.LOGOUT): _A.LOGGED_OUT,
    (_A.RESERVED, _AE.CONNECT): _A.TALK,
    (_A.RESERVED, _AE.RELEASE): _A.READY,
    (_A.TALK, _AE.HANGUP): _A.WRAP,
    (_A.WRAP, _AE.DISPOSITION): _A.READY,
    (_A.WRAP, _AE.PAUSE): _A.PAUSED,  # disposition set with "pause after call"
    (_A.WRAP, _AE.LOGOUT): _A.LOGGED_OUT,
}


class CallState(enum.Enum):
    QUEUED = "queued"
    CLAIMED = "claimed"  # taken from the hopper by one engine (SKIP LOCKED)
    DIALING = "dialing"  # INVITE sent
    RINGING = "ringing"  # 180
    EARLY_MEDIA = "early_media"  # 183
    ANSWERED = "answered"  # 200 OK, answering-machine detection running
    MACHINE = "machine"
    WAITING_FOR_AGENT = "waiting_for_agent"  # live person, no agent yet (≤ 2 s, rule 3)
    IVR = "ivr"  # agentless: an IVR flow (survey, notice) has the call
    BRIDGING = "bridging"
    BRIDGED = "bridged"
    ABANDONED = "abandoned"  # safe-harbor message played (compliance rule 3)
    COMPLETED = "completed"
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    FAILED = "failed"
    CANCELLED = "cancelled"


class CallEvent(enum.Enum):
    CLAIM = "claim"
    DIAL = "dial"
    RINGING = "ringing"
    EARLY_MEDIA = "early_media"
    ANSWER = "answer"
    HUMAN = "human"  # detection says a live person
    TO_IVR = "to_ivr"  # agentless campaign: hand the answered call to its IVR flow
    TRANSFER_IVR = "transfer_ivr"  # the agent hands a bridged customer to the IVR flow
    MACHINE = "machine"
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    FAIL = "fail"
    AGENT_FOUND = "agent_found"
    BRIDGED = "bridged"
    BRIDGE_FAILED = "bridge_failed"
    CONNECT_TIMEOUT = "connect_timeout"  # connect limit passed: abandon
    CUSTOMER_HANGUP = "customer_hangup"
    HANGUP = "hangup"
    CANCEL = "cancel"


_C, _CE = CallState, CallEvent


def _call_table() -> dict[tuple[CallState, CallEvent], CallState]:
    table: dict[tuple[CallState, CallEvent], CallState] = {
        (_C.QUEUED, _CE.CLAIM): _C.CLAIMED,
        (_C.QUEUED, _CE.CANCEL): _C.CANCELLED,
        (_C.CLAIMED, _CE.DIAL): _C.DIALING,
        (_C.CLAIMED, _CE.CANCEL): _C.CANCELLED,
        (_C.DIALING, _CE.RINGING): _C.RINGING,
        (_C.DIALING, _CE.EARLY_MEDIA): _C.EARLY_MEDIA,
        (_C.RINGING, _CE.EARLY_MEDIA): _C.EARLY_MEDIA,
        (_C.ANSWERED, _CE.HUMAN): _C.WAITING_FOR_AGENT,
        (_C.ANSWERED, _CE.MACHINE): _C.MACHINE,
        (_C.ANSWERED, _CE.CUSTOMER_HANGUP): _C.COMPLETED,
        (_C.ANSWERED, _CE.TO_IVR): _C.IVR,
        (_C.ANSWERED, _CE.FAIL): _C.FAILED,  # a carrier announcement (issue 20)
        (_C.IVR, _CE.HANGUP): _C.COMPLETED,
        (_C.IVR, _CE.CUSTOMER_HANGUP): _C.COMPLETED,
        (_C.MACHINE, _CE.HANGUP): _C.COMPLETED,
        (_C.WAITING_FOR_AGENT, _CE.AGENT_FOUND): _C.BRIDGING,
        (_C.WAITING_FOR_AGENT, _CE.CONNECT_TIMEOUT): _C.ABANDONED,
        (_C.WAITING_FOR_AGENT, _CE.CUSTOMER_HANGUP): _C.ABANDONED,
        (_C.BRIDGING, _CE.BRIDGED): _C.BRIDGED,
        (_C.BRIDGING, _CE.BRIDGE_FAILED): _C.WAITING_FOR_AGENT,
        (_C.BRIDGING, _CE.CONNECT_TIMEOUT): _C.ABANDONED,
        (_C.BRIDGING, _CE.CUSTOMER_HANGUP): _C.ABANDONED,
        (_C.BRIDGED, _CE.HANGUP): _C.COMPLETED,
        (_C.BRIDGED, _CE.TRANSFER_IVR): _C.IVR,
        (_C.BRIDGED, _CE.CUSTOMER_HANGUP): _C.COMPLETED,
    }
    # Every pre-answer state resolves the same way (a 200, a 486, a timeout, a 5xx).
    for pre in (_C.DIALING, _C.RINGING, _C.EARLY_MEDIA):
        table[(pre, _CE.ANSWER)] = _C.ANSWERED
        table[(pre, _CE.BUSY)] = _C.BUSY
        table[(pre, _CE.NO_ANSWER)] = _C.NO_ANSWER
        table[(pre, _CE.FAIL)] = _C.FAILED
        table[(pre, _CE.CANCEL)] = _C.CANCELLED
    return table


CALL_TRANSITIONS: dict[tuple[CallState, CallEvent], CallState] = _call_table()

#: states a call never leaves
CALL_FINAL: frozenset[CallState] = frozenset(
    {_C.ABANDONED, _C.COMPLETED, _C.BUSY, _C.NO_ANSWER, _C.FAILED, _C.CANCELLED}
)

S = TypeVar("S", AgentState, CallState)
E = TypeVar("E", AgentEvent, CallEvent)


@dataclass(frozen=True, slots=True)
class Transition(Generic[S, E]):
    """One timestamped move of one machine; what the engine writes to the audit trail."""

    at: float
    machine: str
    entity: str
    source: S
    event: E
    target: S
    reason: str | None = None


class _Machine(Generic[S, E]):
    kind = "machine"

    def __init__(
        self,
        entity: str,
        table: dict[tuple[S, E], S],
        initial: S,
        at: float,
    ) -> None:
        self.entity = entity
        self._table: dict[tuple[S, E], S] = table
        self.state: S = initial
        #: time of the last transition (or creation): "seconds in state" = now - since
        self.since = at

    def can(self, event: E) -> bool:
        return (self.state, event) in self._table

    def fire(self, event: E, at: float, reason: str | None = None) -> Transition[S, E]:
        """Apply ``event`` at time ``at``; raise IllegalTransition if the table forbids it."""
        try:
            target = self._table[(self.state, event)]
        except KeyError:
            raise IllegalTransition(
                f"{self.kind} {self.entity}: event {event.value} "
                f"not allowed in state {self.state.value}",
                machine=self.kind,
                entity=self.entity,
                state=self.state.value,
                event=event.value,
            ) from None
        record = Transition(at, self.kind, self.entity, self.state, event, target, reason)
        self.state = target
        self.since = at
        return record


class AgentMachine(_Machine[AgentState, AgentEvent]):
    """An agent's state; ``pause_reason`` holds the reason code while paused."""

    kind = "agent"

    def __init__(self, entity: str, at: float) -> None:
        super().__init__(entity, AGENT_TRANSITIONS, AgentState.LOGGED_OUT, at)
        self.pause_reason: str | None = None

    def fire(
        self, event: AgentEvent, at: float, reason: str | None = None
    ) -> Transition[AgentState, AgentEvent]:
        record = super().fire(event, at, reason)
        self.pause_reason = reason if self.state is AgentState.PAUSED else None
        return record


class CallMachine(_Machine[CallState, CallEvent]):
    """One dial attempt's state, from the hopper to its final outcome."""

    kind = "call"

    def __init__(self, entity: str, at: float, state: CallState = CallState.QUEUED) -> None:
        super().__init__(entity, CALL_TRANSITIONS, state, at)

    @property
    def final(self) -> bool:
        return self.state in CALL_FINAL
