"""Commands the engine sends to the SIP layer: small frozen, picklable dataclasses.

``Originate`` validates itself on construction, so a bad command fails in the
engine's process with a typed error instead of inside a worker.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

from sip.agent_headers import AUTO_ANSWER_HEADERS
from sip.errors import InvalidTarget, RingTimeoutTooShort

#: Compliance rules 5 (TSR 310.4(b)(4)(ii)) and 22 (UK): ring at least 15 s.
MIN_RING_TIMEOUT = 15.0

_E164 = re.compile(r"^\+[1-9][0-9]{1,14}$")
_SIP_URI = re.compile(r"^sips?:[^\s<>\"]+$")
_HEADER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")


def is_e164(target: str) -> bool:
    return bool(_E164.match(target))


@dataclass(frozen=True, slots=True)
class Originate:
    """Place a call to ``target`` (E.164 number via the trunk, or a SIP URI).

    ``allow_short_ring_timeout_for_tests`` exists only so the SIPp tests need
    not ring 15 s; no configuration key maps onto it.
    """

    call_id: str
    target: str
    caller_id: str
    display_name: str = ""
    ring_timeout: float = 30.0
    headers: tuple[tuple[str, str], ...] = ()
    amd: bool = False
    amd_deadline: float = 3.0
    record_path: str | None = None
    #: the target is an agent's softphone (the test call at sign-in): the INVITE carries the
    #: worker's auto-answer hints, as an agent leg's does (sip/agent_headers.py)
    auto_answer: bool = False
    allow_short_ring_timeout_for_tests: bool = field(default=False, repr=False)

    def __post_init__(self) -> None:
        if not self.call_id:
            raise InvalidTarget("call_id must not be empty", call_id=self.call_id)
        if not (is_e164(self.target) or _SIP_URI.match(self.target)):
            raise InvalidTarget(
                f"target is neither E.164 nor a SIP URI: {self.target!r}", target=self.target
            )
        floor = 0.5 if self.allow_short_ring_timeout_for_tests else MIN_RING_TIMEOUT
        if self.ring_timeout < floor:
            raise RingTimeoutTooShort(
                f"ring timeout {self.ring_timeout:g} s is below {floor:g} s (rules 5, 22)",
                ring_timeout=self.ring_timeout,
                minimum=floor,
            )
        for name, value in self.headers:
            if not _HEADER_NAME.match(name) or "\r" in value or "\n" in value:
                raise InvalidTarget(f"invalid SIP header {name!r}", header=name)


@dataclass(frozen=True, slots=True)
class Hangup:
    """Hang up a call: CANCEL before answer, BYE after. Its outcome is still one CallEnded."""

    call_id: str
    status_code: int = 603  # used only when the call is early; BYE carries no status


@dataclass(frozen=True, slots=True)
class ConnectAgent:
    """Call the agent's softphone with an auto-answer hint and bridge it to ``call_id``."""

    call_id: str
    agent_uri: str
    #: this agent's auto-answer hint forms (sip.agent_headers); None: the worker's default
    auto_answer: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if not _SIP_URI.match(self.agent_uri):
            raise InvalidTarget(f"agent URI is not a SIP URI: {self.agent_uri!r}")
        if self.auto_answer is not None and set(self.auto_answer) - set(AUTO_ANSWER_HEADERS):
            raise InvalidTarget(f"unknown auto-answer forms: {self.auto_answer}")


@dataclass(frozen=True, slots=True)
class DropAgent:
    """Hang up only the agent's leg of ``call_id``; the customer stays on the line.

    What a transfer to the IVR does first: the agent's softphone is released and the
    customer's audio goes on to whatever plays next. One ``AgentLegEnded`` follows.
    """

    call_id: str


@dataclass(frozen=True, slots=True)
class PlayPrompt:
    """Play a WAV file (8 kHz mono 16-bit PCM is cheapest) to the customer."""

    call_id: str
    wav: str


@dataclass(frozen=True, slots=True)
class StartRecording:
    """Record both directions, mixed, to ``path`` (a WAV named by attempt id)."""

    call_id: str
    path: str


@dataclass(frozen=True, slots=True)
class StopRecording:
    """Close the recording of ``call_id`` at ``path``; ``RecordingSaved`` follows once the
    WAV is complete. The call goes on. (A recording also stops when its call ends.)"""

    call_id: str
    path: str


class MonitorMode(StrEnum):
    """How a supervisor is in a call (issue 19.1): 监听 / 耳语 / 强插."""

    LISTEN = "listen"  # hears the customer and the agent; nobody hears the supervisor
    WHISPER = "whisper"  # ...and the agent hears the supervisor; the customer does not
    BARGE = "barge"  # all three talk


@dataclass(frozen=True, slots=True)
class StartMonitor:
    """Call the supervisor's softphone (auto-answer hints as for agents) and join it to
    ``call_id`` in ``mode``; the call must have its agent bridged. ``MonitorJoined`` follows
    once the supervisor hears the call, ``MonitorEnded`` when their leg is over."""

    call_id: str
    supervisor_uri: str
    mode: MonitorMode = MonitorMode.LISTEN
    auto_answer: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if not _SIP_URI.match(self.supervisor_uri):
            raise InvalidTarget(f"supervisor URI is not a SIP URI: {self.supervisor_uri!r}")
        if self.auto_answer is not None and set(self.auto_answer) - set(AUTO_ANSWER_HEADERS):
            raise InvalidTarget(f"unknown auto-answer forms: {self.auto_answer}")


@dataclass(frozen=True, slots=True)
class SetMonitorMode:
    """Switch the supervisor of ``call_id`` to ``mode``; the other two legs are untouched."""

    call_id: str
    mode: MonitorMode


@dataclass(frozen=True, slots=True)
class StopMonitor:
    """Hang up only the supervisor's leg of ``call_id``; the call goes on."""

    call_id: str


@dataclass(frozen=True, slots=True)
class Shutdown:
    """Hang up everything and stop the worker (internal to the pool)."""


SipCommand = (
    Originate
    | Hangup
    | ConnectAgent
    | DropAgent
    | PlayPrompt
    | StartRecording
    | StopRecording
    | StartMonitor
    | SetMonitorMode
    | StopMonitor
    | Shutdown
)
