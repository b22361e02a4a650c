"""The dialing engine's pure core: calls, agents, the pacer and the connect rule.

Sans-I/O, like the pacer. The adapter (dialer/engine.py) turns SIP events, agent requests
and clock ticks into method calls here; each returns a list of :mod:`dialer.actions` the
adapter carries out (originate, bridge, play the safe-harbor message, persist, push to an
agent's screen). Time is monotonic seconds passed in; nothing here sleeps or reads a clock.

The connect rule (compliance rule 3, shared/pacing/world.md): a live answer goes at once to
the longest-idle ready agent; with none ready it waits, oldest first, until ``connect_limit``
seconds after the answer (never more than 2 s), then the safe-harbor message plays and the
call is recorded as abandoned. The timer starts at the answer event, which is stricter than
the end of the greeting.

With answering-machine detection on, the agent is sought only once the call is judged human,
and the timer starts where the rules put it: rule 3 counts the 2 s "after the called person's
completed greeting" (rule 20, UK: "may start when the called person starts speaking"). The
classifier reports when the greeting started and ended (seconds after the answer), and the
campaign's ``connect_from`` picks which one starts the timer - never earlier than the answer,
never later than the verdict. A person is not abandoned because detection took 2.5 s to hear
them out. A verdict that never comes is ``unknown`` at ``amd_deadline`` (plus the worker's
``AMD_GRACE``): the call goes to an agent as a person, timed from then.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from campaigns.dialing import DialingMode
from compliance.amd_sampling import SAMPLED_MACHINE, sampled
from dialer import actions as act
from dialer import pacing, wrapup
from dialer.core_records import Agent, Call, finished, fire_agent, fire_call
from dialer.errors import IllegalTransition, UnknownAgent, UnknownCall
from dialer.states import (
    AgentEvent,
    AgentMachine,
    AgentState,
    CallEvent,
    CallMachine,
    CallState,
)

MAX_CONNECT_LIMIT = 2.0  # rule 3: the two-second rule is a ceiling for every campaign
MAX_AMD_DEADLINE = 10.0  # seconds: longer and a person hangs up on the silence first
AMD_GRACE = 0.5  # the worker sends its verdict at the deadline; this covers its polling
CONNECT_FROM = ("greeting_end", "speech_start")  # rule 3 (US) / rule 20 (UK)


def connect_from_for(region: str) -> str:
    """What starts the rule-3 timer after AMD: the UK (rule 20) counts from the first word,
    elsewhere the two seconds follow the completed greeting (rule 3)."""
    return "speech_start" if region.upper() in {"GB", "UK"} else "greeting_end"


@dataclass(frozen=True)
class CoreConfig:
    """How one campaign dials. ``mode`` is preview, progressive, predictive or agentless."""

    mode: str = "progressive"
    ratio: float = 1.0  # progressive lines per ready agent
    connect_limit: float = 2.0  # seconds a live answer may wait for an agent (≤ 2, rule 3)
    amd: bool = False  # wait for answering-machine detection before seeking an agent
    amd_deadline: float = 6.0  # seconds after the answer by which detection must decide
    connect_from: str = "greeting_end"  # with AMD, what starts the rule-3 timer (see above)
    amd_sample_share: float = 0.0  # rule 19: machine verdicts still offered to an agent
    max_lines: int = 100  # calls in flight the trunk (or an agentless campaign) allows
    max_cps: float = 10.0  # new calls per second at most
    abandon_target: float = 0.02
    abandon_cap: float = 0.03

    def __post_init__(self) -> None:
        if self.mode not in set(DialingMode):
            raise ValueError(f"unknown dialing mode {self.mode!r}")
        if not 0 < self.connect_limit <= MAX_CONNECT_LIMIT:
            raise ValueError("connect_limit must be within (0, 2] seconds (rule 3)")
        if not 0 < self.amd_deadline <= MAX_AMD_DEADLINE:
            raise ValueError(f"amd_deadline must be within (0, {MAX_AMD_DEADLINE:g}] seconds")
        if not 0.0 <= self.amd_sample_share <= 1.0:
            raise ValueError("amd_sample_share must be within [0, 1]")
        if self.connect_from not in CONNECT_FROM:
            raise ValueError(f"connect_from must be one of {', '.join(CONNECT_FROM)}")


class DialerCore:
    """One campaign's calls and the agents working it."""

    def __init__(self, config: CoreConfig, pacer: pacing.Pacer | None = None) -> None:
        self.config = config
        pmode: pacing.Mode = "predictive" if config.mode == "predictive" else "progressive"
        self.pacer = pacer or pacing.Pacer(
            pacing.PacerConfig(
                mode=pmode,
                ratio=config.ratio,
                connect_limit=config.connect_limit,
                target=config.abandon_target,
                cap=config.abandon_cap,
                max_lines=config.max_lines,
            )
        )
        self.calls: dict[str, Call] = {}
        self.agents: dict[str, Agent] = {}
        self._placed_this_second: tuple[int, int] = (0, 0)  # (second, count) for max_cps
        #: whether the pacer places calls: the one place a campaign's pause lives (issue 11.6)
        self.dialing = False
        self.pace_every = 1.0  # the pacer is asked once a second (shared/pacing/world.md)
        self.next_pace = 0.0
        #: leads asked for (a ``Pace``) but not yet placed or given back: the pacer counts
        #: them as calls already on their way, so a slow claim never doubles the next one
        self.claims_pending = 0

    # --- agents -----------------------------------------------------------------------------
    def agent_login(
        self, agent_id: str, uri: str, now: float, owed_call: str | None = None
    ) -> list[act.Action]:
        """Log an agent in, ready; with ``owed_call`` (their session dropped while that call
        still needed its disposition) they come back in wrap-up with the call owed."""
        agent = self.agents.get(agent_id)
        if agent is None:
            agent = Agent(agent_id, uri, AgentMachine(agent_id, now))
            self.agents[agent_id] = agent
        agent.uri = uri
        if owed_call is not None:
            out = fire_agent(agent, AgentEvent.RESUME_WRAP, now)
            agent.call_id, agent.wrap_started = owed_call, None  # its wrap time is not known
            return out
        out = fire_agent(agent, AgentEvent.LOGIN, now)
        return out + self._serve_waiting(now)

    def agent_ready(self, agent_id: str, now: float) -> list[act.Action]:
        return fire_agent(self._get_agent(agent_id), AgentEvent.READY, now) + self._serve_waiting(
            now
        )

    def agent_pause(self, agent_id: str, reason: str, now: float) -> list[act.Action]:
        agent = self._get_agent(agent_id)
        wrapup.no_disposition_owed(agent, AgentEvent.PAUSE)
        return fire_agent(agent, AgentEvent.PAUSE, now, reason)

    def agent_logout(self, agent_id: str, now: float) -> list[act.Action]:
        agent = self._get_agent(agent_id)
        wrapup.no_disposition_owed(agent, AgentEvent.LOGOUT)
        return fire_agent(agent, AgentEvent.LOGOUT, now)

    def agent_disposition(
        self, agent_id: str, now: float, pause_reason: str | None = None
    ) -> list[act.Action]:
        """The agent set a disposition (already committed by the adapter): wrap-up ends."""
        agent = self._get_agent(agent_id)
        wrapped = wrapup.end_wrap_up(agent, now)
        if wrapped is not None:
            self.pacer.observe(pacing.WrapEnded(wrapped))
        if pause_reason:
            return fire_agent(agent, AgentEvent.PAUSE, now, pause_reason)
        return fire_agent(agent, AgentEvent.DISPOSITION, now) + self._serve_waiting(now)

    def transfer_to_ivr(self, agent_id: str, call_id: str, now: float) -> list[act.Action]:
        """The agent hands the bridged customer to the campaign's IVR flow (a survey).

        The agent's leg is dropped and the agent goes to wrap-up at once (talk ends now);
        the call stays credited to the agent (its attempt and the survey response name
        them) and ends when the IVR flow hangs up or the customer does.
        """
        agent = self._get_agent(agent_id)
        call = self._get_call(call_id)
        if call.agent_id != agent_id or call.machine.state is not CallState.BRIDGED:
            raise IllegalTransition(
                f"call {call_id} is not bridged to agent {agent_id}",
                entity=call_id,
                state=call.machine.state.value,
                event=CallEvent.TRANSFER_IVR.value,
            )
        out: list[act.Action] = [fire_call(call, CallEvent.TRANSFER_IVR, now, "agent transfer")]
        out.append(act.DropAgentLeg(call_id))
        out += self._end_talk(call, now)
        out.append(act.StartIvr(call_id, call.lead, agent.agent_id))
        return out

    # --- the runner's clock -------------------------------------------------------------------
    def tick(self, now: float) -> tuple[list[act.Action], float | None]:
        """What is due at ``now`` and when to be woken next (APScheduler's shape, issue 11.1).

        Abandons answers past the connect limit (:meth:`expire`) and, when dialing and the
        pacer's beat is due, returns a ``Pace`` with the calls to claim. ``wake_at`` is the
        earliest connect deadline or pacer beat; None: nothing is due until a message comes.
        """
        out = self.expire(now)
        wake = self.next_deadline()
        if self.dialing and self.config.mode != "preview":
            if now >= self.next_pace:
                self.next_pace = now + self.pace_every
                wanted = self.calls_wanted(now)
                self.claims_pending += wanted
                out.append(act.Pace(wanted))
            wake = self.next_pace if wake is None else min(wake, self.next_pace)
        return out, wake

    def claims_settled(self, count: int) -> None:
        """``count`` leads of a ``Pace`` were placed, blocked or not found."""
        self.claims_pending = max(0, self.claims_pending - count)

    # --- pacing -----------------------------------------------------------------------------
    def calls_wanted(self, now: float, dialable: int | None = None) -> int:
        """How many new calls to place now (the adapter then claims that many leads)."""
        cfg = self.config
        if cfg.mode == "preview":
            return 0  # agents dial their own previews
        in_flight = sum(1 for c in self.calls.values() if not c.machine.final)
        in_flight += self.claims_pending
        room = max(0, cfg.max_lines - in_flight)
        if cfg.mode == "agentless":
            wanted = room
        else:
            logged_in = [
                a for a in self.agents.values() if a.machine.state is not AgentState.LOGGED_OUT
            ]
            if not logged_in:
                return 0
            wanted = self.pacer.calls_to_place(self.view(now)) - self.claims_pending
        second = int(now)
        done = self._placed_this_second[1] if self._placed_this_second[0] == second else 0
        wanted = min(wanted, room, max(0, int(cfg.max_cps) - done - self.claims_pending))
        if dialable is not None:
            wanted = min(wanted, dialable)
        return max(0, wanted)

    def view(self, now: float) -> pacing.View:
        ready = sum(1 for a in self.agents.values() if a.machine.state is AgentState.READY)
        busy: list[tuple[str, float]] = []
        for a in self.agents.values():
            st = a.machine.state
            if st in (AgentState.RESERVED, AgentState.TALK):
                busy.append(("talk", now - (a.talk_started or a.machine.since)))
            elif st is AgentState.WRAP:
                busy.append(("wrap", now - a.machine.since))
        ringing = tuple(
            now - c.dialed_at
            for c in self.calls.values()
            if c.machine.state in (CallState.DIALING, CallState.RINGING, CallState.EARLY_MEDIA)
        )
        waiting = sum(
            1 for c in self.calls.values() if c.machine.state is CallState.WAITING_FOR_AGENT
        )
        return pacing.View(now=now, ready=ready, busy=tuple(busy), ringing=ringing, waiting=waiting)

    def place(
        self, call_id: str, lead: act.Lead, now: float, preview_agent: str | None = None
    ) -> list[act.Action]:
        """A claimed lead becomes a call; the adapter persists it and then originates."""
        if call_id in self.calls:
            raise IllegalTransition(f"call {call_id} exists already", entity=call_id)
        call = Call(call_id, lead, CallMachine(call_id, now), now, preview_agent=preview_agent)
        out: list[act.Action] = []
        if preview_agent is not None:
            agent = self._get_agent(preview_agent)
            out += fire_agent(agent, AgentEvent.RESERVE, now, call_id)
            agent.call_id = call_id
            call.agent_id = preview_agent
        self.calls[call_id] = call
        out.append(fire_call(call, CallEvent.CLAIM, now))
        out.append(fire_call(call, CallEvent.DIAL, now))
        second = int(now)
        count = self._placed_this_second[1] if self._placed_this_second[0] == second else 0
        self._placed_this_second = (second, count + 1)
        self.pacer.observe(pacing.Dialed())
        out.append(act.Originate(call_id, lead))
        return out

    # --- SIP events ---------------------------------------------------------------------------
    def on_progress(self, call_id: str, early_media: bool, now: float) -> list[act.Action]:
        call = self._get_call(call_id)
        event = CallEvent.EARLY_MEDIA if early_media else CallEvent.RINGING
        if not call.machine.can(event):
            return []  # a repeated 180/183: nothing changes
        return [fire_call(call, event, now)]

    def on_answered(self, call_id: str, now: float) -> list[act.Action]:
        call = self._get_call(call_id)
        call.answered_at = call.connect_from = now
        out: list[act.Action] = [fire_call(call, CallEvent.ANSWER, now)]
        if self.config.mode == "agentless":
            out.append(fire_call(call, CallEvent.TO_IVR, now))  # no agent: never abandoned
            self.pacer.observe(pacing.Answered(now - call.dialed_at))
            out.append(act.StartIvr(call_id, call.lead))
            return out
        if self.config.amd and call.preview_agent is None:
            return out  # wait for the verdict (on_amd) until amd_deadline
        return out + self._human(call, now)

    def on_amd(
        self,
        call_id: str,
        verdict: str,
        now: float,
        speech: tuple[float, float] | None = None,
        why: str = "",
    ) -> list[act.Action]:
        """The classifier's verdict. ``speech``: (start, end) of the greeting in seconds
        after the answer, as heard; None when nobody spoke (the timer starts now).
        ``why``: the classifier's reason (``sit_vacant`` for an announcement)."""
        call = self._get_call(call_id)
        if verdict == "announcement" and call.machine.can(CallEvent.FAIL):
            # Issue 20: a carrier's recorded announcement, on early media or after the
            # 200 OK, is no answer: not offered to an agent, not in the answer rate.
            call.end_reason = f"{why or 'sit'}: carrier announcement"
            self.pacer.observe(pacing.Failed(now - call.dialed_at))
            fail = fire_call(call, CallEvent.FAIL, now, call.end_reason)
            return [fail, act.Hangup(call_id, "announcement")]
        if call.machine.state is not CallState.ANSWERED:
            return []  # already decided or ended
        reason = None
        if verdict == "machine":
            if self.amd_label(call_id, verdict) == "machine":
                self.pacer.observe(pacing.Machine(now - call.dialed_at))
                return [fire_call(call, CallEvent.MACHINE, now), act.Hangup(call_id, "machine")]
            reason = "amd sample: a machine verdict offered to an agent (rule 19)"
        call.connect_from = self._timer_start(call, now, speech)
        # human or unknown: treat as a person (conservative); a sampled machine: the same,
        # so that a person hears whether it was one (compliance/amd_sampling.py)
        return self._human(call, now, reason)

    def amd_label(self, call_id: str, verdict: str) -> str:
        """What the attempt records as its AMD result: a sampled machine verdict is marked
        apart, since it went to an agent and counts as a live answer (rule 19)."""
        if verdict == "machine" and sampled(call_id, self.config.amd_sample_share):
            return SAMPLED_MACHINE
        return verdict

    def _timer_start(self, call: Call, now: float, speech: tuple[float, float] | None) -> float:
        """Rule 3 (US): 2 s after the completed greeting; rule 20 (UK): after the person
        starts speaking. Bounded by the answer and the verdict, which both were seen."""
        answered = call.answered_at if call.answered_at is not None else now
        if speech is None:
            return now
        start, end = speech
        offset = start if self.config.connect_from == "speech_start" else end
        return min(now, max(answered, answered + offset))

    def on_agent_bridged(self, call_id: str, now: float) -> list[act.Action]:
        call = self._get_call(call_id)
        if call.machine.state is not CallState.BRIDGING or call.agent_id is None:
            return []
        agent = self.agents[call.agent_id]
        call.bridged_at = now
        call.answer_to_bridge = now - (call.answered_at or now)
        out: list[act.Action] = [fire_call(call, CallEvent.BRIDGED, now)]
        out += fire_agent(agent, AgentEvent.CONNECT, now, call_id)
        agent.talk_started = now
        self.pacer.observe(pacing.Connected(call.answer_to_bridge))
        out.append(act.AgentConnected(agent.agent_id, call_id, call.lead, call.answer_to_bridge))
        return out

    def on_agent_failed(self, call_id: str, now: float) -> list[act.Action]:
        """The agent's softphone rejected or did not answer: pause that agent, try another.

        After the bridge it means the agent hung up (or the call is being torn down): the
        customer's leg is ended and :meth:`on_ended` moves the agent to wrap-up, so the
        agent and the call stay linked here.
        """
        call = self.calls.get(call_id)
        if call is None or call.agent_id is None or call.machine.state is CallState.IVR:
            return []  # in the IVR: the agent's leg was dropped on purpose (a transfer)
        if call.machine.state is CallState.BRIDGED:
            return [act.Hangup(call_id, "agent_left")]
        agent = self.agents[call.agent_id]
        call.tried_agents.add(agent.agent_id)
        call.agent_id = None
        call.preview_agent = None  # its reserved agent cannot be reached: the 2 s rule applies
        agent.call_id = None
        out: list[act.Action] = []
        if agent.machine.state is AgentState.RESERVED:
            out += fire_agent(agent, AgentEvent.RELEASE, now)
            out += fire_agent(agent, AgentEvent.PAUSE, now, "softphone_unreachable")
        if call.machine.state is CallState.BRIDGING:
            out.append(fire_call(call, CallEvent.BRIDGE_FAILED, now))
            out += self._assign(call, now)
        return out

    def on_command_failed(
        self, call_id: str, command: str, now: float, reason: str = ""
    ) -> list[act.Action]:
        """A SIP command for this call failed (issue 11.4: no SIP failure is dropped).

        ``command`` is the SIP command's name (sip.events.CommandFailed.command):

        - ``Originate``: the INVITE never left, so no ``CallEnded`` follows; the attempt
          finishes now as failed, with the reason.
        - ``ConnectAgent``: no agent leg was made (no free leg on the worker, the worker
          gone). The agent is not at fault: they go back to ready, and the call is offered
          to the next free agent; with none, it waits and :meth:`expire` abandons it at the
          connect limit (rule 3), message played.

        Anything else (a prompt, a recording, a hang-up) changes no call state here: the
        adapter deals with prompts, and the call's own ``CallEnded`` closes it.
        """
        call = self.calls.get(call_id)
        if call is None:
            return []
        if command == "Originate" and not call.machine.final and call.answered_at is None:
            return self.on_ended(call_id, "failed", now, 0, f"not placed: {reason}"[:255])
        if command != "ConnectAgent" or call.machine.state is not CallState.BRIDGING:
            return []
        if call.agent_id is None:
            return []
        call.tried_agents.add(call.agent_id)
        call.preview_agent = None  # its reserved agent cannot be reached: the 2 s rule applies
        out: list[act.Action] = [fire_call(call, CallEvent.BRIDGE_FAILED, now, reason)]
        out += self._release_agent(call, now)  # back to ready; serves calls waiting
        return out + self._serve_waiting(now)  # this call too, if nobody took it yet

    def on_ended(
        self, call_id: str, outcome: str, now: float, sip_status: int = 0, reason: str = ""
    ) -> list[act.Action]:
        """The call's one final SIP event. ``outcome`` is sip.events.Outcome's value."""
        call = self.calls.get(call_id)
        if call is None:
            return []
        st = call.machine.state
        out: list[act.Action] = []
        if st in (CallState.DIALING, CallState.RINGING, CallState.EARLY_MEDIA, CallState.CLAIMED):
            event = {
                "busy": CallEvent.BUSY,
                "no_answer": CallEvent.NO_ANSWER,
                "cancelled": CallEvent.CANCEL,
            }.get(outcome, CallEvent.FAIL)
            if st is CallState.CLAIMED:
                event = CallEvent.CANCEL
            out.append(fire_call(call, event, now, reason or outcome))
            since = now - call.dialed_at
            self.pacer.observe(
                pacing.Busy(since)
                if event is CallEvent.BUSY
                else pacing.NoAnswer(since)
                if event is CallEvent.NO_ANSWER
                else pacing.Failed(since)
            )
        elif st in (CallState.ANSWERED, CallState.WAITING_FOR_AGENT, CallState.BRIDGING):
            if st is CallState.ANSWERED and self.config.amd:
                self.pacer.observe(pacing.Answered(now - call.dialed_at))
            # rule 3 [U]: a customer who hangs up before reaching an agent counts as abandoned
            event = CallEvent.CUSTOMER_HANGUP
            out.append(fire_call(call, event, now, "customer hung up before an agent"))
            if call.machine.state is CallState.ABANDONED:
                self.pacer.observe(pacing.Abandoned())
            out += self._release_agent(call, now)
        elif st is CallState.MACHINE:
            out.append(fire_call(call, CallEvent.HANGUP, now))
        elif st is CallState.IVR:
            out.append(fire_call(call, CallEvent.CUSTOMER_HANGUP, now))
        elif st is CallState.BRIDGED:
            out.append(fire_call(call, CallEvent.CUSTOMER_HANGUP, now))
            out += self._end_talk(call, now)
        out.append(finished(call, outcome, sip_status, reason))
        del self.calls[call_id]
        return out

    def expire(self, now: float) -> list[act.Action]:
        """Abandon every live answer whose connect limit has passed (rule 3); a call whose
        AMD verdict is overdue goes to an agent as a person, timed from now."""
        out: list[act.Action] = []
        for call in list(self.calls.values()):
            if call.answered_at is None or call.preview_agent is not None:
                continue
            st = call.machine.state
            if st is CallState.ANSWERED and self.config.amd:
                if now >= call.answered_at + self.config.amd_deadline + AMD_GRACE:
                    call.connect_from = now  # the greeting's end is unknown: from now
                    out += self._human(call, now, "amd undecided at deadline")
                continue
            if st not in (CallState.ANSWERED, CallState.WAITING_FOR_AGENT, CallState.BRIDGING):
                continue
            start = call.answered_at if call.connect_from is None else call.connect_from
            if now - start < self.config.connect_limit:
                continue
            if st is CallState.ANSWERED:
                self.pacer.observe(pacing.Answered(now - call.dialed_at))
                out.append(fire_call(call, CallEvent.HUMAN, now, "undecided at deadline"))
            if call.machine.state is CallState.BRIDGING:  # the agent's phone still rings
                out.append(act.DropAgentLeg(call.call_id))
            out += self._release_agent(call, now)
            out.append(fire_call(call, CallEvent.CONNECT_TIMEOUT, now, "no agent within limit"))
            self.pacer.observe(pacing.Abandoned())
            out.append(act.PlaySafeHarbor(call.call_id))
        return out

    def next_deadline(self) -> float | None:
        """When :meth:`expire` next has work, for the adapter's timer."""
        times: list[float] = []
        for c in self.calls.values():
            if c.answered_at is None or c.preview_agent is not None:
                continue
            st = c.machine.state
            if st is CallState.ANSWERED and self.config.amd:
                times.append(c.answered_at + self.config.amd_deadline + AMD_GRACE)
            elif st in (CallState.ANSWERED, CallState.WAITING_FOR_AGENT, CallState.BRIDGING):
                start = c.answered_at if c.connect_from is None else c.connect_from
                times.append(start + self.config.connect_limit)
        return min(times) if times else None

    # --- internals --------------------------------------------------------------------------
    def _human(self, call: Call, now: float, reason: str | None = None) -> list[act.Action]:
        self.pacer.observe(pacing.Answered(now - call.dialed_at))
        out: list[act.Action] = [fire_call(call, CallEvent.HUMAN, now, reason)]
        if call.preview_agent is not None:
            out.append(fire_call(call, CallEvent.AGENT_FOUND, now, "agent reserved at dial"))
            agent = self.agents[call.preview_agent]
            out.append(act.ConnectAgent(call.call_id, agent.agent_id, agent.uri))
            return out
        return out + self._assign(call, now)

    def _assign(self, call: Call, now: float) -> list[act.Action]:
        agent = self._longest_idle(exclude=call.tried_agents)
        if agent is None:
            return []  # waits; _serve_waiting or expire decides
        out = fire_agent(agent, AgentEvent.RESERVE, now, call.call_id)
        agent.call_id = call.call_id
        call.agent_id = agent.agent_id
        out.append(fire_call(call, CallEvent.AGENT_FOUND, now))
        out.append(act.ConnectAgent(call.call_id, agent.agent_id, agent.uri))
        return out

    def _serve_waiting(self, now: float) -> list[act.Action]:
        out: list[act.Action] = []
        waiting = sorted(
            (c for c in self.calls.values() if c.machine.state is CallState.WAITING_FOR_AGENT),
            key=lambda c: c.answered_at or 0.0,
        )
        for call in waiting:  # oldest first (shared/pacing/world.md)
            got = self._assign(call, now)
            if not got:
                break
            out += got
        return out

    def _longest_idle(self, exclude: Iterable[str] = ()) -> Agent | None:
        skip = set(exclude)
        ready = [
            a
            for a in self.agents.values()
            if a.machine.state is AgentState.READY and a.agent_id not in skip
        ]
        return min(ready, key=lambda a: a.machine.since) if ready else None

    def _release_agent(self, call: Call, now: float) -> list[act.Action]:
        if call.agent_id is None:
            return []
        agent = self.agents[call.agent_id]
        call.agent_id = None
        agent.call_id = None
        if agent.machine.state is AgentState.RESERVED:
            return (
                fire_agent(agent, AgentEvent.RELEASE, now)
                + act.as_list(act.AgentReleased(agent.agent_id, call.call_id))
                + self._serve_waiting(now)
            )
        return []

    def _end_talk(self, call: Call, now: float) -> list[act.Action]:
        if call.agent_id is None:
            return []
        agent = self.agents[call.agent_id]
        if agent.talk_started is not None:
            self.pacer.observe(pacing.TalkEnded(now - agent.talk_started))
        agent.talk_started = None
        out = fire_agent(agent, AgentEvent.HANGUP, now, call.call_id)
        agent.wrap_started = now
        return out

    def _get_agent(self, agent_id: str) -> Agent:
        agent = self.agents.get(agent_id)
        if agent is None:
            raise UnknownAgent(
                f"agent {agent_id} is not logged in to this campaign", agent=agent_id
            )
        return agent

    def _get_call(self, call_id: str) -> Call:
        call = self.calls.get(call_id)
        if call is None:
            raise UnknownCall(f"no live call {call_id}", call_id=call_id)
        return call
