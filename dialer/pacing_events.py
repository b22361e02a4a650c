"""The pacer's vocabulary: the events it observes, the :class:`View` it is asked with, its
configuration and the :class:`Decision` it explains ("why is it (not) dialing?").

Everything here is re-exported by :mod:`dialer.pacing`; import from there.  Pure data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Mode = Literal["predictive", "progressive"]


# --- events ---------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Dialed:
    """One call was placed."""


@dataclass(frozen=True, slots=True)
class Answered:
    """A live person answered ``seconds_since_dial`` seconds after the dial."""

    seconds_since_dial: float


@dataclass(frozen=True, slots=True)
class Machine:
    """An answering machine was detected; the call ends without an agent."""

    seconds_since_dial: float | None = None


@dataclass(frozen=True, slots=True)
class Busy:
    seconds_since_dial: float | None = None


@dataclass(frozen=True, slots=True)
class NoAnswer:
    seconds_since_dial: float | None = None


@dataclass(frozen=True, slots=True)
class Failed:
    seconds_since_dial: float | None = None


@dataclass(frozen=True, slots=True)
class Connected:
    """A live answer reached an agent after waiting ``seconds_waited``."""

    seconds_waited: float = 0.0


@dataclass(frozen=True, slots=True)
class Abandoned:
    """A live answer found no agent within the connect limit (compliance rule 3)."""


@dataclass(frozen=True, slots=True)
class PastCall:
    """An attempt that ended before this pacer existed (a restart), to learn from again.

    ``outcome``: live, machine, busy, no_answer or failed; ``seconds_since_dial``: to the
    answer, or to the end when unanswered; ``waited``: answer to bridge when an agent took it;
    ``talk_seconds``: the conversation's length when it ended normally.
    """

    outcome: str
    seconds_since_dial: float
    waited: float | None = None
    abandoned: bool = False
    talk_seconds: float | None = None


@dataclass(frozen=True, slots=True)
class TalkEnded:
    seconds: float


@dataclass(frozen=True, slots=True)
class WrapEnded:
    seconds: float


Event = (
    Dialed
    | Answered
    | Machine
    | Busy
    | NoAnswer
    | Failed
    | Connected
    | Abandoned
    | TalkEnded
    | WrapEnded
)


@dataclass(frozen=True, slots=True)
class View:
    """What the dialer sees at ``now`` (monotonic seconds)."""

    now: float
    ready: int
    #: one (state, seconds in state) per busy agent; state is "talk" or "wrap"
    busy: tuple[tuple[str, float], ...] = ()
    #: seconds since dial of each attempt not answered yet
    ringing: tuple[float, ...] = ()
    #: live answers waiting for an agent
    waiting: int = 0


@dataclass(frozen=True)
class PacerConfig:
    mode: Mode = "predictive"
    ratio: float = 1.0  # progressive lines per ready agent
    target: float = 0.02  # abandon rate aimed at
    cap: float = 0.03  # legal cap (compliance rule 3)
    connect_limit: float = 2.0  # seconds a live answer may wait for an agent
    min_agents: int = 2  # fewer logged in: progressive
    warmup_resolved: int = 30  # attempts to see before predicting
    max_lines: int | None = None  # calls in flight the trunk allows
    threshold: float = 0.006  # initial bound on the in-flight pool's expected abandon share
    gain: float = 0.25  # feedback gain on the log-threshold, per live answer
    #: below this many live answers the gauge is too young to mean "close to the cap":
    #: predictive continues with ``cautious_threshold`` as its risk bound instead
    settled_live: int = 300
    cautious_threshold: float = 0.0005
    aim_z: float = 1.5  # see Pacer.aim: how far below the cap a few live answers keep the aim
    #: the calls in flight may grow by at most ``ramp_growth`` times what they were
    #: ``ramp_window`` seconds before (plus progressive's lines): a burst sized on an old hit
    #: rate (new agents arriving with a new list) is seen answering before it grows further
    ramp_window: float = 10.0
    ramp_growth: float = 0.5
    #: ... and by at most this many calls per logged-in agent (plus ``ramp_floor``) per
    #: window, in absolute calls (issue 11.7): a large team starting cold on a low answer
    #: rate otherwise multiplies its way to twice the lines it needs before the first
    #: answers tell the true rate, and pays for the burst in abandons
    ramp_per_agent: float = 0.25
    ramp_floor: int = 5


@dataclass(frozen=True)
class Decision:
    """The last answer of :meth:`Pacer.calls_to_place`, with its inputs, for "why?"."""

    at: float
    mode: str
    calls: int
    ready: int
    busy: int
    ringing: int
    waiting: int
    hit_rate: float
    machine_share: float
    expected_live: float
    expected_free: float
    abandon_gauge: float
    threshold: float
    reason: str
    extra: dict[str, float] = field(default_factory=dict)

    def explain(self) -> str:
        return (
            f"t={self.at:.0f}s: {self.mode}, place {self.calls} call(s). {self.reason} "
            f"Inputs: {self.ready} ready, {self.busy} busy, {self.ringing} ringing, "
            f"{self.waiting} waiting; learned hit rate {self.hit_rate:.1%} "
            f"(machines {self.machine_share:.0%} of answers); expected live answers from "
            f"calls in flight {self.expected_live:.1f} vs agents free soon "
            f"{self.expected_free:.1f}; abandon gauge {self.abandon_gauge:.2%}; "
            f"marginal risk threshold {self.threshold:.1%}."
        )
