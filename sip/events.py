"""Events the SIP layer emits: small frozen, picklable dataclasses.

They cross the worker→pool pipe and are handed to the engine as they are; no
pjsua2 object ever appears in them. Times are seconds (floats) measured on the
worker's monotonic clock, except ``*_ms`` fields.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from sip.amd import Verdict


class Outcome(enum.StrEnum):
    """Final outcome of one customer call (shared/domain.md call dispositions)."""

    ANSWERED = "answered"  # answered, then ended (by either side)
    BUSY = "busy"  # 486 / 600
    NO_ANSWER = "no_answer"  # our CANCEL at ring timeout, or the peer's 408/480 after ringing
    FAILED = "failed"  # any other final failure: 404, 480, 503, no provisional response...
    CANCELLED = "cancelled"  # the engine hung up before answer (Hangup command)
    WORKER_LOST = "worker_lost"  # the worker process holding the call died


class HungUpBy(enum.StrEnum):
    US = "us"
    REMOTE = "remote"
    NONE = "none"  # never answered


@dataclass(frozen=True, slots=True)
class CallProgress:
    """A provisional response (180/183) arrived."""

    call_id: str
    status_code: int
    early_media: bool


@dataclass(frozen=True, slots=True)
class CallAnswered:
    """The callee answered (200 OK to our INVITE, ACK sent)."""

    call_id: str
    time_to_answer: float
    early_media: bool


@dataclass(frozen=True, slots=True)
class CallEnded:
    """The one and only final event of a call; emitted exactly once per Originate."""

    call_id: str
    outcome: Outcome
    sip_status: int
    reason: str
    who_hung_up: HungUpBy
    duration: float  # talk time after answer, 0.0 when never answered


@dataclass(frozen=True, slots=True)
class DtmfReceived:
    call_id: str
    digit: str
    method: str  # "rfc4733" or "sip_info"


@dataclass(frozen=True, slots=True)
class AgentLegAnswered:
    """The agent's softphone answered; ms since the customer's 200 OK."""

    call_id: str
    agent_uri: str
    answer_to_agent_ms: float


@dataclass(frozen=True, slots=True)
class AgentLegBridged:
    """Customer and agent audio are bridged; counts toward the 2-second rule."""

    call_id: str
    answer_to_bridge_ms: float


@dataclass(frozen=True, slots=True)
class AgentLegEnded:
    """The agent leg failed to answer, or ended after bridging; the customer call stays up."""

    call_id: str
    agent_uri: str
    sip_status: int
    reason: str
    bridged: bool


@dataclass(frozen=True, slots=True)
class MonitorJoined:
    """The supervisor's softphone answered and hears the call (issue 19.1)."""

    call_id: str
    supervisor_uri: str
    mode: str  # sip.commands.MonitorMode


@dataclass(frozen=True, slots=True)
class MonitorModeSet:
    """The supervisor's leg now follows ``mode`` (after ``SetMonitorMode``)."""

    call_id: str
    mode: str


@dataclass(frozen=True, slots=True)
class MonitorEnded:
    """The supervisor's leg is over (left, never answered, or the call ended); the call goes
    on unless it was its end that ended this leg."""

    call_id: str
    supervisor_uri: str
    sip_status: int
    reason: str
    joined: bool


@dataclass(frozen=True, slots=True)
class AmdResult:
    call_id: str
    verdict: Verdict
    decided_after: float  # seconds of audio since answer
    # (start, end) of the callee's greeting in seconds after the answer; None: silence.
    # The two-second rule counts from it (rules 3, 20; dialer/core.py).
    speech: tuple[float, float] | None = None
    reason: str = ""  # the classifier's reason: "beep", "sit_vacant", ...


@dataclass(frozen=True, slots=True)
class PromptFinished:
    call_id: str
    wav: str


@dataclass(frozen=True, slots=True)
class RecordingSaved:
    call_id: str
    path: str


@dataclass(frozen=True, slots=True)
class CommandFailed:
    """A command for a live call could not be applied (the call goes on)."""

    call_id: str
    command: str
    error_code: str
    message: str


@dataclass(frozen=True, slots=True)
class WorkerDied:
    """A worker process exited unexpectedly; its calls got CallEnded(worker_lost)."""

    worker_id: int
    exitcode: int | None
    lost_calls: tuple[str, ...]


SipEvent = (
    CallProgress
    | CallAnswered
    | CallEnded
    | DtmfReceived
    | AgentLegAnswered
    | AgentLegBridged
    | AgentLegEnded
    | MonitorJoined
    | MonitorModeSet
    | MonitorEnded
    | AmdResult
    | PromptFinished
    | RecordingSaved
    | CommandFailed
    | WorkerDied
)

#: a supervisor's leg (sip/monitor.py): its events, and the commands whose failures concern it
MONITOR_EVENTS = (MonitorJoined, MonitorModeSet, MonitorEnded)
MONITOR_COMMANDS = frozenset({"StartMonitor", "SetMonitorMode", "StopMonitor"})
