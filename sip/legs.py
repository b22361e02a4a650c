"""Per-call bookkeeping inside a worker, and the pure mapping of an end to an outcome.

``Leg`` holds pjsua2 objects (typed ``Any`` so this module imports no pjsua2 and
``classify_end`` can be tested without a SIP stack); it never leaves the worker.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sip.events import HungUpBy, Outcome

_BUSY = {486, 600}  # issue 5: busy = 486/600


@dataclass(eq=False)
class Leg:
    key: str  # call_id, or call_id + "#agent"
    call_id: str
    kind: str  # "customer", "agent" or "monitor" (a supervisor, sip/monitor.py)
    target: str
    started: float  # worker monotonic time of makeCall
    ring_deadline: float
    call: Any = None  # the pjsua2 Call; dropped only after DISCONNECTED
    media: Any = None  # pjsua2 AudioMedia once audio is active
    recorder: Any = None  # the call's recording (Originate.record_path)
    clips: dict[str, Any] = field(default_factory=dict)  # StartRecording path -> recorder
    amd_port: Any = None
    amd: Any = None  # sip.amd_vad.AmdDetector
    amd_wanted: bool = False
    amd_done: bool = False
    amd_deadline: float = 3.0
    record_path: str | None = None
    display_name: str = ""  # the customer leg's From display name (Originate)
    agent_key: str | None = None
    monitor_key: str | None = None  # the customer leg's supervisor leg, if any
    monitor_mode: str = ""  # a supervisor leg: the mode asked for (sip.commands.MonitorMode)
    monitor_wired: str = ""  # ...and the mode its bridge connections follow now
    provisional: bool = False
    last_progress: int = 0
    pending_progress: int = 0  # a 1xx not yet reported
    early_media: bool = False
    answered_at: float | None = None
    timed_out: bool = False
    cancel_requested: bool = False
    hangup_by_us: bool = False
    bridged: bool = False
    ended: bool = False  # CallEnded (or AgentLegEnded) sent
    disconnected: bool = False
    stats_sent: bool = False  # StreamStats sent (bench only)


def side_leg(call_id: str, kind: str, target: str, ring_timeout: float, now: float) -> Leg:
    """An agent's or a supervisor's leg of ``call_id`` (key ``call_id#kind``), ringing now."""
    return Leg(
        key=f"{call_id}#{kind}",
        call_id=call_id,
        kind=kind,
        target=target,
        started=now,
        ring_deadline=now + ring_timeout,
    )


def recorders_of(leg: Leg) -> list[object]:
    """The leg's recorders now: the call's own and its clips' (a clip not yet made: none)."""
    recs = [r for r in leg.clips.values() if r is not None]
    return [leg.recorder, *recs] if leg.recorder is not None else recs


def classify_end(leg: Leg, status: int) -> tuple[Outcome, HungUpBy]:
    """Outcome of a customer leg at DISCONNECTED (shared/domain.md dispositions)."""
    if leg.answered_at is not None:
        if status >= 400 and not leg.hangup_by_us:
            # The stack itself hung up after the 200 OK (e.g. 415: SDP negotiation failed);
            # no conversation was possible, so it is not counted as a live connect.
            return Outcome.FAILED, HungUpBy.US
        return Outcome.ANSWERED, HungUpBy.US if leg.hangup_by_us else HungUpBy.REMOTE
    if leg.timed_out:
        return Outcome.NO_ANSWER, HungUpBy.NONE  # our CANCEL at ring timeout
    if leg.cancel_requested:
        return Outcome.CANCELLED, HungUpBy.NONE
    if status in _BUSY:
        return Outcome.BUSY, HungUpBy.NONE
    if status == 408 and leg.provisional:
        return Outcome.NO_ANSWER, HungUpBy.NONE  # it rang, the far end gave up
    return Outcome.FAILED, HungUpBy.NONE
