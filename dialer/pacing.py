"""The pacer: how many calls to place now.  Sans-I/O; time comes in with each view.

Drive it from anything (the engine, ``outdial simulate``, an outside judge): feed it every
outcome with :meth:`Pacer.observe` and ask :meth:`Pacer.calls_to_place` once a second with a
:class:`View` of what a real dialer sees.  After placing the calls, send one :class:`Dialed`
per call.

>>> pacer = Pacer(PacerConfig(mode="predictive"))
>>> view = View(now=0.0, ready=3, busy=(("talk", 40.0), ("wrap", 5.0)), ringing=(), waiting=0)
>>> n = pacer.calls_to_place(view)
>>> n  # cold start: progressive, one line per ready agent
3
>>> for _ in range(n):
...     pacer.observe(Dialed())
>>> pacer.observe(Answered(seconds_since_dial=7.5))
>>> pacer.observe(Connected(seconds_waited=0.0))
>>> pacer.set_abandon_gauge(abandoned=1, live_answers=100)  # from compliance, if known
>>> pacer.calls_to_place(View(now=1.0, ready=2, busy=(), ringing=(1.0, 1.0), waiting=0))
0
>>> pacer.last_decision.mode
'progressive'
>>> print(pacer.explain())  # doctest: +ELLIPSIS
t=1s: progressive, place 0 call(s). ...

Events: :class:`Dialed`, :class:`Answered` (a live person, seconds since dial),
:class:`Machine`, :class:`Busy`, :class:`NoAnswer`, :class:`Failed`, :class:`Connected`
(seconds the answer waited for an agent), :class:`Abandoned`, :class:`TalkEnded` and
:class:`WrapEnded` (their durations).

Modes: ``progressive`` keeps ``ratio`` lines per ready agent; ``predictive`` places the largest
number of calls whose marginal call's chance of being abandoned, given it is answered live,
stays under a threshold; the threshold follows the abandon rate (feedback towards
``target``) and the pacer falls back to progressive when the abandon gauge is near ``cap``,
when it has seen too little, or when fewer than ``min_agents`` agents are logged in.  The
model behind predictive mode is documented on :meth:`Pacer._predictive`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

from dialer.estimators import AttemptModel, DurationModel

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
class TalkEnded:
    seconds: float


@dataclass(frozen=True, slots=True)
class WrapEnded:
    seconds: float


Event = (
    Dialed | Answered | Machine | Busy | NoAnswer | Failed | Connected | Abandoned
    | TalkEnded | WrapEnded
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
    threshold: float = 0.15  # initial marginal abandon threshold
    gain: float = 0.08  # feedback gain on the log-threshold, per live answer


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


def _expected_excess(mu: float, var: float) -> float:
    """E[max(0, X)] for X ~ Normal(mu, var)."""
    if var < 1e-9:
        return max(0.0, mu)
    sd = math.sqrt(var)
    z = mu / sd
    return mu * 0.5 * (1.0 + math.erf(z / math.sqrt(2.0))) + sd * math.exp(
        -0.5 * z * z
    ) / math.sqrt(2.0 * math.pi)
