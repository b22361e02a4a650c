"""The dialing engine's adapter: one campaign, its SIP port, its database, its agents.

One path for data (shared/STYLE.md): a SIP event or an agent request becomes a call on
:class:`dialer.core.DialerCore`; the actions it returns are carried out here, in order, by
the storage adapter (dialer/hopper.py), the SIP port (sip/pool.py or sip/fake.py), the
compliance gate and the agents' screens. Blocking database work runs in a thread so the
event loop keeps serving SIP events inside the 2-second connect window.

Every dial passes the compliance gate twice: when the lead is selected and again immediately
before the INVITE (issue 6); the attempt row is committed before the INVITE.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import structlog
from sqlalchemy.engine import Engine as DbEngine

from campaigns.rules import RetryPolicy
from compliance.gate import GateVerdict
from dialer import actions as act
from dialer import hopper, recovery, states
from dialer.core import CoreConfig, DialerCore
from dialer.ivr import IvrRunner
from outdial.models import utcnow
from sip import commands as sipcmd
from sip import events as sipev
from sip.errors import SipError

log = structlog.get_logger(__name__)


class SipPort(Protocol):
    events: asyncio.Queue[sipev.SipEvent]

    async def originate(self, cmd: sipcmd.Originate) -> None: ...
    async def hangup(self, call_id: str) -> None: ...
    async def connect_agent(self, call_id: str, agent_uri: str) -> None: ...
    async def play_prompt(self, call_id: str, wav: str) -> None: ...
    async def start_recording(self, call_id: str, path: str) -> None: ...
    async def stop_recording(self, call_id: str, path: str) -> None: ...
    async def drop_agent(self, call_id: str) -> None: ...


class ComplianceGate(Protocol):
    """Decides one dial at a wall-clock instant and audits the decision (rule 36)."""

    def check(self, lead: act.Lead, at: datetime, call_id: str) -> GateVerdict: ...

    def record_outcome(self, finished: hopper.Finished, lead: act.Lead, at: datetime) -> None: ...


@dataclass
class EngineSettings:
    campaign_id: int
    core: CoreConfig
    caller_id: str
    display_name: str = ""
    ring_timeout: float = 30.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    safe_harbor_wav: str | None = None  # rules 4, 20: required for modes that can abandon
    node: str = "node-1"
    tick: float = 0.1  # how often connect deadlines are checked (seconds)
    pace_every: float = 1.0  # the pacer is asked once a second (shared/pacing/world.md)
    allow_short_ring_timeout_for_tests: bool = False
    data_dir: str | None = None  # IVR prompts and recordings; None: outdial's data_dir
    # issue 11.3, from the campaign's [dialing] table (campaigns/dialing.py)
    machine_action: str = "hang_up"  # or "leave_message" (plays machine_prompt)
    machine_prompt: str = ""
    machine_wav: str | None = None  # the machine_prompt's file, resolved by the runtime
    preview_auto_dial_seconds: float = 0.0  # 0: only the agent dials
    wrap_up_limit: float = 0.0  # seconds; 0: no limit


Push = Callable[[str, dict[str, Any]], Awaitable[None] | None]


class CampaignEngine:
    """Runs one campaign: ``await start()``, agents come and go, ``await stop()``."""

    def __init__(
        self,
        db: DbEngine,
        sip: SipPort,
        settings: EngineSettings,
        gate: ComplianceGate,
        push: Push | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], datetime] = utcnow,
        ivr: IvrRunner | None = None,
    ) -> None:
        self.db, self.sip, self.settings, self.gate = db, sip, settings, gate
        self.ivr = ivr  # agentless: made at the first StartIvr unless given
        self.core = DialerCore(settings.core)
        self.push = push
        self.clock, self.wall = clock, wall
        self.agent_users: dict[str, int] = {}  # agent id -> users.id
        self.leads: dict[str, act.Lead] = {}
        self.amd: dict[str, str] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._pacing = False
        self._stopped = asyncio.Event()
        self.finished = 0
        self.messages_played = 0
        self.idle_since: float | None = None
        self._prompts: dict[str, asyncio.Event] = {}
        self.machine_messages_left = 0  # [dialing] machine_action = "leave_message"
        self._side_tasks: set[asyncio.Task[None]] = set()
        self._handling = 0  # SIP events being carried out (stop waits for them)
        self.recovered: list[recovery.Recovered] = []  # calls closed at start-up
        self.relearned = 0  # past attempts the pacer learned from at start-up
        #: every SIP failure and caught error, by where it happened (issue 11.4: none is
        #: dropped unlogged and uncounted); ``outdial campaign status`` shows them
        self.failures: Counter[str] = Counter()
        self._prompt_failed: set[str] = set()  # calls whose prompt the SIP layer refused

    # --- lifecycle ------------------------------------------------------------------------
    async def start(self, dialing: bool = True) -> int:
        """Recover attempts a crash left in flight, then run. Returns how many were closed."""
        recovered = await self._recover()
        self._pacing = dialing
        self._tasks = [
            asyncio.create_task(self._run_events(), name="engine-events"),
            asyncio.create_task(self._run_clock(), name="engine-clock"),
        ]
        return len(recovered)

    async def _recover(self) -> list[recovery.Recovered]:
        """Close what a crash left open (dialer/recovery.py), every audited decision with its
        outcome (rule 36); the pacer relearns from the campaign's recent calls."""
        cid, wall = self.settings.campaign_id, self.wall()
        recovered = await asyncio.to_thread(
            recovery.close_after_crash,
            self.db,
            self.gate,
            cid,
            self.settings.retry,
            wall,
            self.settings.node,
        )
        self.recovered = recovered
        past = await asyncio.to_thread(recovery.recent_calls, self.db, cid, wall)
        self.relearned = self.core.pacer.replay(past)
        return recovered

    def pause(self) -> None:
        """Stop placing new calls; calls in progress go on."""
        self._pacing = False

    def resume(self) -> None:
        self._pacing = True

    async def stop(self, drain_timeout: float = 30.0) -> None:
        """Stop dialing, let live calls end (or hang them up), then stop the tasks."""
        self._pacing = False
        deadline = self.clock() + drain_timeout
        while self.core.calls and self.clock() < deadline:
            await asyncio.sleep(0.05)
        for call_id in list(self.core.calls):
            await self._hang_up(call_id)
        # a call leaves core.calls before its outcome is stored: wait for that too
        while (self.core.calls or self._handling) and self.clock() < deadline + 5:
            await asyncio.sleep(0.05)
        if self.ivr is not None:  # the survey responses of ended calls are finished
            await self.ivr.drain(timeout=5.0)
        self._stopped.set()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # --- agents (the web layer calls these) ---------------------------------------------------
    async def agent_login(self, agent_id: str, user_id: int, uri: str) -> None:
        self.agent_users[agent_id] = user_id
        await self._do(self.core.agent_login(agent_id, uri, self.clock()))

    async def agent_ready(self, agent_id: str) -> None:
        await self._do(self.core.agent_ready(agent_id, self.clock()))

    async def agent_pause(self, agent_id: str, reason: str) -> None:
        await self._do(self.core.agent_pause(agent_id, reason, self.clock()))

    async def agent_logout(self, agent_id: str) -> None:
        await self._do(self.core.agent_logout(agent_id, self.clock()))

    async def transfer_to_ivr(self, agent_id: str, call_id: str) -> None:
        """The agent hands the customer to the campaign's survey IVR and goes to wrap-up."""
        await self._do(self.core.transfer_to_ivr(agent_id, call_id, self.clock()))

    async def disposition(
        self,
        agent_id: str,
        call_id: str,
        code: str,
        final: bool,
        callback_at: datetime | None = None,
        notes: str = "",
        pause_reason: str | None = None,
    ) -> None:
        """Commit the agent's result first; only then does the agent leave wrap-up."""
        await asyncio.to_thread(
            hopper.record_disposition,
            self.db,
            call_id,
            code,
            final,
            callback_at,
            notes,
            self.wall(),
        )
        await self._do(self.core.agent_disposition(agent_id, self.clock(), pause_reason))

    # --- loops --------------------------------------------------------------------------------
    async def _run_clock(self) -> None:
        next_pace = self.clock()
        while not self._stopped.is_set():
            now = self.clock()
            try:
                await self._do(self.core.expire(now))
                if self._pacing and now >= next_pace:
                    next_pace = now + self.settings.pace_every
                    await self._pace(now)
            except Exception:  # one bad tick must not stop the campaign
                self.failures["tick"] += 1
                log.exception("engine tick failed", campaign=self.settings.campaign_id)
            deadline = self.core.next_deadline()
            wait = (
                self.settings.tick
                if deadline is None
                else min(self.settings.tick, max(0.0, deadline - self.clock()))
            )
            await asyncio.sleep(wait)

    async def _pace(self, now: float) -> None:
        gauge = getattr(self.gate, "abandon_gauge", None)
        if gauge is not None and self.settings.core.mode == "predictive":
            # the campaign's legal gauge, from compliance (issue 6): it outlives this process
            abandoned, live = await asyncio.to_thread(gauge, self.wall())
            self.core.pacer.set_abandon_gauge(abandoned, live)
        wanted = self.core.calls_wanted(now)
        if wanted <= 0:
            return
        leads = await asyncio.to_thread(
            hopper.claim,
            self.db,
            self.settings.campaign_id,
            wanted,
            self.wall(),
            frozenset(self._ready_owners()),
            self.settings.node,
        )
        if not leads and not self.core.calls:
            self.idle_since = self.idle_since or now
        else:
            self.idle_since = None
        for lead in leads:  # a personal callback comes first: its agent is reserved for it
            if lead.owner is None:
                await self._dial(lead)
                continue
            agent_id = self._ready_owners().get(lead.owner)
            if agent_id is None:  # busy since the claim (another call, another callback)
                await asyncio.to_thread(hopper.unclaim, self.db, lead)
            else:
                await self._dial(lead, preview_agent=agent_id)

    def _ready_owners(self) -> dict[int, str]:
        """Ready agents by users.id: whose personal callbacks this engine may dial now."""
        return {
            user_id: agent_id
            for agent_id, user_id in self.agent_users.items()
            if (a := self.core.agents.get(agent_id)) is not None
            and a.machine.state is states.AgentState.READY
        }

    async def _dial(self, lead: act.Lead, preview_agent: str | None = None) -> str | None:
        call_id = uuid.uuid4().hex
        verdict = await asyncio.to_thread(self.gate.check, lead, self.wall(), call_id)
        if not verdict.allowed:
            await asyncio.to_thread(
                hopper.defer, self.db, lead, verdict.next_allowed_at, verdict.reason or "blocked"
            )
            return None
        await asyncio.to_thread(
            hopper.open_attempt,
            self.db,
            call_id,
            self.settings.campaign_id,
            lead,
            self.settings.node,
            self.wall(),
        )
        if lead.owner is not None and preview_agent not in self._ready_owners().values():
            # the owner was taken while the attempt was written: no INVITE went out, so the
            # attempt is withdrawn and the callback waits for the agent's next ready moment
            await asyncio.to_thread(hopper.withdraw, self.db, call_id, lead)
            why = "withdrawn: its agent became busy"
            gone = hopper.Finished(call_id, "cancelled", "not_placed", 0, why, False, None, None)
            await asyncio.to_thread(self.gate.record_outcome, gone, lead, self.wall())
            return None
        self.leads[call_id] = lead
        await self._do(self.core.place(call_id, lead, self.clock(), preview_agent))
        return call_id

    async def dial_preview(self, agent_id: str, lead: act.Lead) -> str | None:
        """Preview mode: the agent chose to dial this record; they are reserved for it."""
        return await self._dial(lead, preview_agent=agent_id)

    async def _run_events(self) -> None:
        while not self._stopped.is_set():
            event = await self.sip.events.get()
            self._handling += 1
            try:
                await self._on_sip(event)
            except Exception:  # one bad event must not stop the campaign
                self.failures["sip_event"] += 1
                log.exception("engine failed on a SIP event", sip_event=type(event).__name__)
            finally:
                self._handling -= 1

    async def _on_sip(self, e: sipev.SipEvent) -> None:
        now = self.clock()
        core = self.core
        if self.ivr is not None and self.ivr.on_event(e) and not isinstance(e, sipev.CallEnded):
            return  # a key, prompt or recording of an IVR call: the IVR flow's alone
        if isinstance(e, sipev.CallProgress) and e.call_id in core.calls:
            await self._do(core.on_progress(e.call_id, e.early_media, now))
        elif isinstance(e, sipev.CallAnswered) and e.call_id in core.calls:
            await self._do(core.on_answered(e.call_id, now))
        elif isinstance(e, sipev.AmdResult) and e.call_id in core.calls:
            self.amd[e.call_id] = str(e.verdict)
            await self._do(core.on_amd(e.call_id, str(e.verdict), now))
        elif isinstance(e, sipev.AgentLegBridged) and e.call_id in core.calls:
            await self._do(core.on_agent_bridged(e.call_id, now))
        elif isinstance(e, sipev.AgentLegEnded) and e.call_id in core.calls:
            await self._do(core.on_agent_failed(e.call_id, now))
        elif isinstance(e, sipev.PromptFinished) and e.call_id in self._prompts:
            self._prompts[e.call_id].set()
        elif isinstance(e, sipev.CommandFailed):
            await self._command_failed(e)
        elif isinstance(e, sipev.CallEnded):
            if e.call_id in self._prompts:
                self._prompts[e.call_id].set()
            await self._do(core.on_ended(e.call_id, str(e.outcome), now, e.sip_status, e.reason))

    # --- actions ------------------------------------------------------------------------------
    async def _do(self, actions: list[act.Action]) -> None:
        transitions: list[tuple[Any, datetime]] = []
        wall = self.wall()
        for a in actions:
            if isinstance(a, act.Persist):
                transitions.append((a.transition, wall))
                continue
            if transitions:  # state reaches the database before the next effect
                await asyncio.to_thread(
                    hopper.persist_transitions, self.db, self.settings.campaign_id, transitions
                )
                transitions = []
            await self._effect(a)
        if transitions:
            await asyncio.to_thread(
                hopper.persist_transitions, self.db, self.settings.campaign_id, transitions
            )

    async def _effect(self, a: act.Action) -> None:
        s = self.settings
        if isinstance(a, act.Originate):
            try:
                cmd = sipcmd.Originate(
                    call_id=a.call_id,
                    target=a.lead.number,
                    caller_id=s.caller_id,
                    display_name=s.display_name,
                    ring_timeout=s.ring_timeout,
                    amd=s.core.amd,
                    allow_short_ring_timeout_for_tests=s.allow_short_ring_timeout_for_tests,
                )
                await self.sip.originate(cmd)
            except Exception as exc:  # never placed (pool full, worker gone): no CallEnded
                # any error, not only SipError: an attempt left open would block its number
                self._failed("Originate", a.call_id, exc)
                failed = self.core.on_command_failed(a.call_id, "Originate", self.clock(), str(exc))
                await self._do(failed)
        elif isinstance(a, act.ConnectAgent):
            try:
                await self.sip.connect_agent(a.call_id, a.agent_uri)
            except SipError as exc:
                # e.g. NoAgentSlot: the next free agent gets the call, or the connect limit
                # abandons it with the message (rule 3)
                self._failed("ConnectAgent", a.call_id, exc)
                why = str(exc)
                await self._do(
                    self.core.on_command_failed(a.call_id, "ConnectAgent", self.clock(), why)
                )
        elif isinstance(a, act.PlaySafeHarbor):
            # a task: the clock loop must keep checking other calls' deadlines meanwhile
            self._keep(asyncio.create_task(self._safe_harbor(a.call_id)))
        elif isinstance(a, act.Hangup):
            if a.reason == "machine" and self.settings.machine_wav:
                # [dialing] machine_action = "leave_message": the message, then hang up
                self._keep(asyncio.create_task(self._play_then_hang_up(a.call_id, "machine")))
            else:
                await self._hang_up(a.call_id)
        elif isinstance(a, act.CallFinished):
            await self._finished(a)
        elif isinstance(a, act.AgentConnected):
            user_id = self.agent_users.get(a.agent_id)
            if user_id is not None:  # the call is this agent's, even if the server dies now
                await asyncio.to_thread(recovery.own, self.db, a.call_id, user_id)
            await self._push(
                a.agent_id,
                {
                    "type": "call_connected",
                    "call_id": a.call_id,
                    "number": a.lead.number,
                    "record": a.lead.data,
                    "answer_to_bridge_ms": round(a.answer_to_bridge * 1000, 1),
                },
            )
        elif isinstance(a, act.AgentState):
            await self._push(
                a.agent_id, {"type": "agent_state", "state": a.state, "reason": a.reason}
            )
            agent = self.core.agents.get(a.agent_id)
            if a.state == "wrap" and self.settings.wrap_up_limit > 0 and agent is not None:
                since = agent.machine.since
                self._keep(asyncio.create_task(self._wrap_reminder(a.agent_id, since)))
        elif isinstance(a, act.AgentReleased):
            await self._push(a.agent_id, {"type": "call_released", "call_id": a.call_id})
        elif isinstance(a, act.DropAgentLeg):
            try:
                await self.sip.drop_agent(a.call_id)
            except SipError as exc:  # the call ended meanwhile: its CallEnded closes it
                self._failed("DropAgent", a.call_id, exc)
        elif isinstance(a, act.StartIvr):
            agent_user = self.agent_users.get(a.agent_id) if a.agent_id else None
            self._ivr().start(a.call_id, a.lead, agent_user)
            await self._push("ivr", {"type": "ivr_start", "call_id": a.call_id})
            if a.agent_id:
                await self._push(
                    a.agent_id, {"type": "call_transferred", "call_id": a.call_id, "to": "ivr"}
                )

    def _ivr(self) -> IvrRunner:
        if self.ivr is None:
            data_dir = self.settings.data_dir
            if data_dir is None:
                from outdial import config

                data_dir = str(config.load().data_dir)
            self.ivr = IvrRunner(
                self.db, self.sip, self.settings.campaign_id, Path(data_dir), wall=self.wall
            )
        return self.ivr

    async def _safe_harbor(self, call_id: str) -> None:
        """Rules 3, 4, 20: the message plays within the 2 s, then the call ends."""
        await self._play_then_hang_up(call_id, "safe_harbor")

    async def _play_then_hang_up(self, call_id: str, what: str) -> None:
        """Play the safe-harbor message (or, on a machine, the campaign's message), hang up."""
        wav = self.settings.safe_harbor_wav if what == "safe_harbor" else self.settings.machine_wav
        played = False
        if wav:
            done = self._prompts[call_id] = asyncio.Event()
            try:
                await self.sip.play_prompt(call_id, wav)
                await asyncio.wait_for(done.wait(), timeout=30.0)
                # a CommandFailed(PlayPrompt) sets ``done`` at once: the call is hung up now,
                # never left in silence (issue 11.4)
                played = call_id not in self._prompt_failed
            except (SipError, TimeoutError) as exc:  # the call is gone, or the prompt hung
                self._failed(f"{what}_prompt", call_id, exc)
            finally:
                self._prompts.pop(call_id, None)
                self._prompt_failed.discard(call_id)
        await self._hang_up(call_id)
        if what == "safe_harbor":
            self.messages_played += 1 if played else 0
        else:
            self.machine_messages_left += 1 if played else 0

    async def _hang_up(self, call_id: str) -> None:
        try:
            await self.sip.hangup(call_id)
        except SipError as exc:  # mostly UnknownCall: the customer hung up first
            self._failed("Hangup", call_id, exc)

    async def _command_failed(self, e: sipev.CommandFailed) -> None:
        """A command the SIP layer accepted failed in its worker (issue 11.4)."""
        self._failed(e.command, e.call_id, f"{e.error_code}: {e.message}")
        if e.command == "PlayPrompt" and e.call_id in self._prompts:
            self._prompt_failed.add(e.call_id)
            self._prompts[e.call_id].set()  # the message cannot play: hang up at once
            return
        reason = f"{e.error_code}: {e.message}"
        await self._do(self.core.on_command_failed(e.call_id, e.command, self.clock(), reason))

    def _failed(self, where: str, call_id: str, error: object) -> None:
        """Log and count one SIP failure (``failures`` in the campaign status)."""
        self.failures[where] += 1
        log.warning("sip command failed", command=where, call_id=call_id, error=str(error))

    async def _wrap_reminder(self, agent_id: str, since: float) -> None:
        """[dialing] wrap_up_limit: tell the agent's screen when wrap-up runs over. The
        disposition is still theirs to set (it is committed before the next call)."""
        await asyncio.sleep(self.settings.wrap_up_limit)
        agent = self.core.agents.get(agent_id)
        if agent is None or agent.machine.state is not states.AgentState.WRAP:
            return
        if agent.machine.since != since:  # a later wrap-up has its own reminder
            return
        log.info("wrap-up over its limit", agent=agent_id, limit=self.settings.wrap_up_limit)
        await self._push(
            agent_id,
            {
                "type": "wrap_up_overdue",
                "call_id": agent.call_id,
                "limit_seconds": self.settings.wrap_up_limit,
            },
        )

    def _keep(self, task: asyncio.Task[None]) -> None:
        self._side_tasks.add(task)
        task.add_done_callback(self._side_tasks.discard)

    async def _finished(self, a: act.CallFinished) -> None:
        agent_user = self.agent_users.get(a.agent_id) if a.agent_id else None
        f = hopper.Finished(
            a.call_id,
            a.state,
            a.sip_outcome,
            a.sip_status,
            a.reason,
            a.abandoned,
            agent_user,
            a.answer_to_bridge,
            self.amd.pop(a.call_id, ""),
        )
        now = self.wall()
        await asyncio.to_thread(hopper.close_attempt, self.db, f, self.settings.retry, now)
        lead = self.leads.pop(a.call_id, a.lead)
        await asyncio.to_thread(self.gate.record_outcome, f, lead, now)
        self.finished += 1
        if a.agent_id:
            await self._push(
                a.agent_id, {"type": "call_ended", "call_id": a.call_id, "state": a.state}
            )

    async def _push(self, agent_id: str, message: dict[str, Any]) -> None:
        if self.push is None:
            return
        result = self.push(agent_id, message)
        if result is not None:
            await result
