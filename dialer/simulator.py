"""Discrete-event simulator of the pacing world (shared/pacing/world.md).

The pacer is asked every whole second how many calls to place and is fed only what a real
dialer would see (a :class:`dialer.pacing.View` and outcome events); each attempt's outcome
is drawn, hidden, when it is placed.  Agents run on the real :mod:`dialer.states` machines.
Seeded; reads no clock.  KPIs follow shared/domain.md: abandon rate = abandoned / live
answers, talk share = talk seconds / logged-in agent seconds, contacts = bridged calls.
"""

from __future__ import annotations

import heapq
import math
import random
from collections import deque
from dataclasses import dataclass
from typing import Protocol

from dialer import pacing as p
from dialer.scenario import Phase, Scenario
from dialer.states import AgentEvent, AgentMachine, AgentState, CallEvent, CallMachine, CallState

RING_TIMEOUT = 25.0
AMD_SECONDS = 2.5
CONNECT_LIMIT = 2.0

# heap entry kinds
_RESOLVE, _TALK_END, _WRAP_END, _DEADLINE = 0, 1, 2, 3
_HUMAN, _MACHINE, _BUSY, _FAIL, _NO_ANSWER = range(5)


class PacerLike(Protocol):
    def observe(self, event: p.Event) -> None: ...
    def calls_to_place(self, view: p.View) -> int: ...


@dataclass(frozen=True)
class SimResult:
    scenario: str
    seed: int
    duration: float
    dials: int
    live_answers: int
    machines: int
    busy: int
    failed: int
    no_answer: int
    in_flight_at_end: int
    connected: int
    abandoned: int
    waiting_at_end: int
    talk_seconds: float
    agent_seconds: float

    @property
    def abandon_rate(self) -> float:
        return self.abandoned / self.live_answers if self.live_answers else 0.0

    @property
    def talk_share(self) -> float:
        return self.talk_seconds / self.agent_seconds if self.agent_seconds else 0.0

    @property
    def contacts_per_agent_hour(self) -> float:
        return self.connected / (self.agent_seconds / 3600.0) if self.agent_seconds else 0.0


def _lognormal(rng: random.Random, mean: float, cv: float) -> float:
    s2 = math.log1p(cv * cv)
    return rng.lognormvariate(math.log(mean) - s2 / 2.0, math.sqrt(s2))


class _Agent:
    __slots__ = ("leaving", "login_at", "machine", "talk_started")

    def __init__(self, name: str, at: float) -> None:
        self.machine = AgentMachine(name, at)
        self.machine.fire(AgentEvent.LOGIN, at)
        self.login_at = at
        self.leaving = False
        self.talk_started = 0.0


class _Call:
    __slots__ = ("answered_at", "dialed_at", "machine", "outcome")

    def __init__(self, name: str, at: float, outcome: int) -> None:
        self.machine = CallMachine(name, at, CallState.CLAIMED)
        self.machine.fire(CallEvent.DIAL, at)
        self.dialed_at = at
        self.outcome = outcome
        self.answered_at = 0.0


class Simulator:
    """One run of one scenario with one pacer and one seed."""

    def __init__(self, scenario: Scenario, pacer: PacerLike, seed: int = 0) -> None:
        self.scenario = scenario
        self.pacer = pacer
        self.rng = random.Random(seed)
        self.seed = seed
        self._heap: list[tuple[float, int, int, object]] = []
        self._seq = 0
        self._agents = 0
        self.ready: deque[_Agent] = deque()  # longest idle first
        self.busy: dict[_Agent, None] = {}  # insertion-ordered set: runs repeat exactly
        self.ringing: dict[_Call, None] = {}  # insertion-ordered set
        self.waiting: deque[_Call] = deque()  # oldest answer first
        self.counts = dict.fromkeys(
            ("dials", "human", "machine", "busy", "fail", "no_answer", "connected", "abandoned"), 0
        )
        self.talk_seconds = 0.0
        self.agent_seconds = 0.0

    def _push(self, at: float, kind: int, obj: object) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (at, self._seq, kind, obj))

    # --- the run --------------------------------------------------------------------------
    def run(self) -> SimResult:
        end = self.scenario.duration
        phase: Phase | None = None
        t = 0
        while t < end:
            now = float(t)
            self._process_until(now)
            current = self.scenario.phase_at(now)
            if current is not phase:
                phase = current
                self._staff(current.agents, now)
            view = p.View(
                now=now,
                ready=len(self.ready),
                busy=tuple(
                    (
                        "talk" if a.machine.state is AgentState.TALK else "wrap",
                        now - a.machine.since,
                    )
                    for a in self.busy
                ),
                ringing=tuple(now - c.dialed_at for c in self.ringing),
                waiting=len(self.waiting),
            )
            for _ in range(max(0, self.pacer.calls_to_place(view))):
                self._dial(current, now)
            t += 1
        self._process_until(end)
        return self._result(end)

    def _process_until(self, now: float) -> None:
        heap = self._heap
        while heap and heap[0][0] <= now:
            at, _, kind, obj = heapq.heappop(heap)
            if kind == _RESOLVE:
                assert isinstance(obj, _Call)
                self._resolve(obj, at)
            elif kind == _TALK_END:
                assert isinstance(obj, _Agent)
                self._talk_end(obj, at)
            elif kind == _WRAP_END:
                assert isinstance(obj, _Agent)
                self._wrap_end(obj, at)
            else:
                assert isinstance(obj, _Call)
                self._deadline(obj, at)

    # --- attempts -------------------------------------------------------------------------
    def _dial(self, phase: Phase, now: float) -> None:
        rng = self.rng
        self.counts["dials"] += 1
        u = rng.random()
        cuts = (phase.p_human, phase.p_machine, phase.p_busy, phase.p_fail)
        outcome, acc = _NO_ANSWER, 0.0
        for kind, share in enumerate(cuts):
            acc += share
            if u < acc:
                outcome = kind
                break
        if outcome in (_HUMAN, _MACHINE):
            delay = min(_lognormal(rng, phase.ring_mean, 0.6), RING_TIMEOUT - 0.01)
            if outcome == _MACHINE:
                delay += AMD_SECONDS
        elif outcome == _BUSY:
            delay = rng.uniform(1.5, 5.0)
        elif outcome == _FAIL:
            delay = rng.uniform(0.5, 3.0)
        else:
            delay = RING_TIMEOUT
        call = _Call(str(self.counts["dials"]), now, outcome)
        self.ringing[call] = None
        self.pacer.observe(p.Dialed())
        self._push(now + delay, _RESOLVE, call)

    def _resolve(self, call: _Call, at: float) -> None:
        del self.ringing[call]
        age = at - call.dialed_at
        m = call.machine
        if call.outcome == _HUMAN:
            self.counts["human"] += 1
            m.fire(CallEvent.ANSWER, at)
            m.fire(CallEvent.HUMAN, at)
            call.answered_at = at
            self.pacer.observe(p.Answered(age))
            if self.ready:
                self._connect(call, self.ready.popleft(), at)
            else:
                self.waiting.append(call)
                self._push(at + CONNECT_LIMIT, _DEADLINE, call)
        elif call.outcome == _MACHINE:
            self.counts["machine"] += 1
            m.fire(CallEvent.ANSWER, at - AMD_SECONDS)
            m.fire(CallEvent.MACHINE, at)
            m.fire(CallEvent.HANGUP, at)
            self.pacer.observe(p.Machine(age))
        elif call.outcome == _BUSY:
            self.counts["busy"] += 1
            m.fire(CallEvent.BUSY, at)
            self.pacer.observe(p.Busy(age))
        elif call.outcome == _FAIL:
            self.counts["fail"] += 1
            m.fire(CallEvent.FAIL, at)
            self.pacer.observe(p.Failed(age))
        else:
            self.counts["no_answer"] += 1
            m.fire(CallEvent.NO_ANSWER, at)
            self.pacer.observe(p.NoAnswer(age))

    def _deadline(self, call: _Call, at: float) -> None:
        if call.machine.state is not CallState.WAITING_FOR_AGENT:
            return  # connected in time
        self.waiting.remove(call)
        call.machine.fire(CallEvent.CONNECT_TIMEOUT, at)
        self.counts["abandoned"] += 1
        self.pacer.observe(p.Abandoned())

    def _connect(self, call: _Call, agent: _Agent, at: float) -> None:
        call.machine.fire(CallEvent.AGENT_FOUND, at)
        call.machine.fire(CallEvent.BRIDGED, at)
        agent.machine.fire(AgentEvent.RESERVE, at)
        agent.machine.fire(AgentEvent.CONNECT, at)
        agent.talk_started = at
        self.busy[agent] = None
        self.counts["connected"] += 1
        self.pacer.observe(p.Connected(at - call.answered_at))
        phase = self.scenario.phase_at(at)
        self._push(at + _lognormal(self.rng, phase.talk_mean, phase.talk_cv), _TALK_END, agent)
        call.machine.fire(CallEvent.HANGUP, at)  # the call row is done; talk time is the agent's

    # --- agents ---------------------------------------------------------------------------
    def _talk_end(self, agent: _Agent, at: float) -> None:
        talk = at - agent.talk_started
        self.talk_seconds += talk
        agent.machine.fire(AgentEvent.HANGUP, at)
        self.pacer.observe(p.TalkEnded(talk))
        phase = self.scenario.phase_at(at)
        self._push(at + _lognormal(self.rng, phase.wrap_mean, 0.5), _WRAP_END, agent)

    def _wrap_end(self, agent: _Agent, at: float) -> None:
        self.pacer.observe(p.WrapEnded(at - agent.machine.since))
        self.busy.pop(agent, None)
        if agent.leaving:
            agent.machine.fire(AgentEvent.LOGOUT, at)
            self.agent_seconds += at - agent.login_at
            return
        agent.machine.fire(AgentEvent.DISPOSITION, at)
        if self.waiting:
            call = self.waiting.popleft()
            self._connect(call, agent, at)
        else:
            self.ready.append(agent)

    def _staff(self, target: int, now: float) -> None:
        """Grow or shrink the team: idle agents leave first, busy ones after their call."""
        staying = [a for a in self.busy if not a.leaving]
        present = len(self.ready) + len(staying)
        for agent in self.busy:  # a growing team first keeps agents who were about to leave
            if present >= target:
                break
            if agent.leaving:
                agent.leaving = False
                present += 1
        while present < target:
            self._agents += 1
            agent = _Agent(f"agent{self._agents}", now)
            if self.waiting:
                self._connect(self.waiting.popleft(), agent, now)
            else:
                self.ready.append(agent)
            present += 1
        while present > target and self.ready:
            agent = self.ready.pop()
            agent.machine.fire(AgentEvent.LOGOUT, now)
            self.agent_seconds += now - agent.login_at
            present -= 1
        for agent in sorted(staying, key=lambda a: a.machine.since):
            if present <= target:
                break
            agent.leaving = True
            present -= 1

    def _result(self, end: float) -> SimResult:
        for agent in list(self.ready) + list(self.busy):
            self.agent_seconds += end - agent.login_at
            if agent.machine.state is AgentState.TALK:
                self.talk_seconds += end - agent.talk_started
        c = self.counts
        return SimResult(
            scenario=self.scenario.name,
            seed=self.seed,
            duration=end,
            dials=c["dials"],
            live_answers=c["human"],
            machines=c["machine"],
            busy=c["busy"],
            failed=c["fail"],
            no_answer=c["no_answer"],
            in_flight_at_end=len(self.ringing),
            connected=c["connected"],
            abandoned=c["abandoned"],
            waiting_at_end=len(self.waiting),
            talk_seconds=self.talk_seconds,
            agent_seconds=self.agent_seconds,
        )


def simulate(
    scenario: Scenario,
    mode: p.Mode = "predictive",
    seed: int = 0,
    config: p.PacerConfig | None = None,
) -> SimResult:
    """Run one scenario with a fresh :class:`dialer.pacing.Pacer`."""
    cfg = config or p.PacerConfig(mode=mode)
    return Simulator(scenario, p.Pacer(cfg), seed).run()
